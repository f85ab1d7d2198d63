"""The README stays true: its first lines are the two commands, its file tables match the code."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from models.canonical import ENTITIES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_first_lines_are_the_demo_and_test_commands():
    head = README.splitlines()[:6]
    assert any(line.startswith("python3 dev.py demo") for line in head)
    assert any(line.startswith("python3 dev.py test") for line in head)


def test_every_canonical_column_is_documented():
    for entity in ENTITIES.values():
        section = README.split(f"#### `{entity.file_name}`", 1)
        assert len(section) == 2, f"README lacks a section for {entity.file_name}"
        # The table is the first run of "|" lines after the heading.
        lines = [x for x in section[1].splitlines()[1:] if x.strip()]
        table = lines[: next((i for i, x in enumerate(lines) if not x.startswith("|")), None)]
        documented = [line.split("`")[1] for line in table if line.startswith("| `")]
        assert documented == entity.column_names, entity.file_name


def test_the_plan_file_example_is_a_valid_plan():
    import yaml

    from models.plans.content import parse_content

    example = README.split("## Plans", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(example)
    assert data.pop("version") == 3
    assert parse_content(data).targets[2026]["PL-02"] == Decimal("50000.50")
