"""The committed rules file: every threshold, weight and window, with defaults.

``models/defaults.yaml`` holds the defaults (DOMAIN.md's numbers). An
organisation overrides any of them with its own YAML file (settings
``config_file`` / ``ACCOUNTOPS_CONFIG_FILE``), merged key by key over the
defaults. Each domain module reads its own section into its own typed model;
the whole merged document has a version hash that snapshots record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

DEFAULTS_FILE = Path(__file__).resolve().parent / "defaults.yaml"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read rules file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"rules file {path}{where} is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"rules file {path} must hold a mapping of sections")
    return data


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(override_file: Path | None = None) -> dict[str, Any]:
    """The defaults, with ``override_file`` (if any) merged over them."""
    config = _read_yaml(DEFAULTS_FILE)
    if override_file is not None:
        config = _merge(config, _read_yaml(override_file))
    return config


def config_version(config: dict[str, Any]) -> str:
    """A short, stable hash of the rules in force (stored with every snapshot)."""
    canonical = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One section of the rules (``ingest``, ``value``, ...), empty if absent."""
    value = config.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"rules section {name!r} must be a mapping")
    return value


def known_section(config: dict[str, Any], name: str, keys: Iterable[str]) -> dict[str, Any]:
    """Section ``name`` of the rules, refused if it holds a key not among ``keys`` (a
    typo would otherwise leave the default silently in force)."""
    raw = dict(section(config, name))
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"rules section {name!r}: unknown key {unknown[0]!r}")
    return raw


def share(value: Any, where: str) -> float:
    """A rules value that must be a number from 0 to 1 (``where`` names the key)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"rules {where}: {value!r} is not a number from 0 to 1")
    return float(value)


def positive(value: Any, where: str) -> float:
    """A rules value that must be a number above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"rules {where}: {value!r} is not a positive number")
    return float(value)


def whole(value: Any, where: str) -> int:
    """A rules value that must be a whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"rules {where}: {value!r} is not a whole number of at least 1")
    return value


def one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    """A rules value that must be one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(f"rules {where}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)
