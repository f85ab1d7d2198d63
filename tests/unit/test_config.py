"""The rules file: defaults, overrides merged key by key, a stable version hash."""

from __future__ import annotations

import pytest

from models.config import config_version, load_config, section
from models.errors import ConfigError


def test_defaults_have_every_section():
    config = load_config()
    assert {"ingest", "value"} <= set(config)


def test_override_merges_key_by_key(tmp_path):
    override = tmp_path / "rules.yaml"
    override.write_text("value:\n  test_only_key: 7\n")
    config = load_config(override)
    assert section(config, "value")["test_only_key"] == 7
    assert "ingest" in config
    assert config_version(config) != config_version(load_config())


def test_version_is_stable():
    assert config_version(load_config()) == config_version(load_config())


def test_bad_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("value:\n  a: [1, 2\n")
    with pytest.raises(ConfigError, match=r"rules.yaml line \d+ is not valid YAML"):
        load_config(bad)
