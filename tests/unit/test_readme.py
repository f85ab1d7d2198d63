"""The README and docs/ stay true: the README's first lines are the two commands, its
command table lists exactly the commands that exist, and the file and code tables in
docs/ match the code."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from models.canonical import ENTITIES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
INGEST_DOC = (ROOT / "docs" / "INGEST.md").read_text()
PLANS_DOC = (ROOT / "docs" / "PLANS.md").read_text()


def _first_table_after(text: str, heading: str) -> list[str]:
    """The first run of "|" lines after ``heading``."""
    section = text.split(heading, 1)
    assert len(section) == 2, f"no {heading!r}"
    lines = [x for x in section[1].splitlines()[1:] if x.strip()]
    lines = lines[next(i for i, x in enumerate(lines) if x.startswith("|")) :]
    return lines[: next((i for i, x in enumerate(lines) if not x.startswith("|")), None)]


def test_first_lines_are_the_demo_and_test_commands():
    head = README.splitlines()[:6]
    assert any(line.startswith("python3 dev.py demo") for line in head)
    assert any(line.startswith("python3 dev.py test") for line in head)


def _cli():
    import typer

    from flows.cli import app

    return typer.main.get_command(app)


def _leaves(command, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    subs = getattr(command, "commands", None)
    if not subs:
        return {path}
    return set().union(*(_leaves(sub, (*path, name)) for name, sub in subs.items()))


def _named_commands(cell: str, root) -> set[tuple[str, ...]]:
    """The commands a command-table cell names (``plan submit\\|approve`` names two);
    each must exist and be a command, not a group."""
    node, path = root, ()
    for token in cell.split():
        subs = getattr(node, "commands", None)
        if not subs:
            break  # a command reached: the rest are its arguments
        words = tuple(token.replace("\\|", "|").split("|"))
        unknown = [w for w in words if w not in subs]
        assert not unknown, f"README names `accountops {' '.join((*path, *unknown))}`"
        if len(words) > 1:
            assert all(not getattr(subs[w], "commands", None) for w in words), cell
            return {(*path, w) for w in words}
        node, path = subs[words[0]], (*path, words[0])
    assert not getattr(node, "commands", None), f"`accountops {cell}` is a group"
    return {path}


def test_the_command_table_lists_every_command_and_only_real_ones():
    root = _cli()
    named: set[tuple[str, ...]] = set()
    for row in _first_table_after(README, "## Command line"):
        cell = re.match(r"\| `accountops ([^`]*)`", row)
        if cell:
            named |= _named_commands(cell.group(1), root)
    missing = sorted(" ".join(p) for p in _leaves(root) - named)
    assert not missing, f"commands missing from the README's table: {missing}"


def test_every_canonical_column_is_documented():
    for entity in ENTITIES.values():
        table = _first_table_after(INGEST_DOC, f"#### `{entity.file_name}`")
        documented = [line.split("`")[1] for line in table if line.startswith("| `")]
        assert documented == entity.column_names, entity.file_name


def test_the_error_code_table_is_the_code_list():
    from models.ingest.errors import CODES

    table = _first_table_after(INGEST_DOC, "### Error codes")
    rows = [line for line in table if line.startswith("| `")]
    assert rows == [f"| `{code}` | {meaning} |" for code, meaning in CODES.items()]


def test_the_plan_file_example_is_a_valid_plan():
    import yaml

    from models.plans.content import parse_content

    example = PLANS_DOC.split("## Plan files", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(example)
    assert data.pop("version") == 3
    assert parse_content(data).targets[2026]["PL-02"] == Decimal("50000.50")


def test_docs_stay_inside_the_repository():
    """The README and docs/ explain the project in its own words and link only its own files."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        assert "shared/" not in text and "DOMAIN.md" not in text, path.name
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (path.parent / target).resolve().exists(), f"{path.name}: {target}"
