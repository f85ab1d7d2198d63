"""One readable YAML file per plan: export, and import whole or not at all.

The file holds the plan's content in a stable key order (the content model's), plus
``version``: the version it was exported from. Importing a file whose content equals
the plan's current content writes nothing; a changed file is saved over the version
it names, so an edit made meanwhile by someone else is a conflict, not a lost update.
A malformed file gets one line naming the file, the key path and, where it has one,
the line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from models.access import Identity

from .content import (
    CENTS,
    ContentError,
    PlanContent,
    PlanInvalid,
    canonical,
    format_path,
    parse_content,
)
from .read import PlanState, get_plan, plan_state
from .references import reference_errors
from .service import create_plan, save_plan

MAX_PLAN_FILE_BYTES = 1_000_000


class _PlanDumper(yaml.SafeDumper):
    """Dates as dates, amounts as plain numbers, enums as their values."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value.normalize(), "f") if value == value.to_integral() else f"{value:.2f}"
    tag = "int" if "." not in text else "float"
    return dumper.represent_scalar(f"tag:yaml.org,2002:{tag}", text)


_PlanDumper.add_representer(Decimal, _decimal)
_PlanDumper.add_multi_representer(
    enum.Enum, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v.value))
)


def plan_yaml(state: PlanState) -> str:
    """The plan's current content as a YAML document, with a header for people."""
    content = state.plan
    data: dict[str, Any] = {"version": state.version}
    data |= content.model_dump(mode="python")
    data["targets"] = {
        year: {pl: amount.quantize(CENTS) for pl, amount in sorted(lines.items())}
        for year, lines in sorted(content.targets.items())
        if lines
    }
    header = (
        f"# accountops strategic-account plan for {state.customer_id}"
        f"{f' ({state.customer_name})' if state.customer_name else ''}\n"
        f"# status {state.status.value}, version {state.version}, last saved by "
        f"{state.updated_by}. Edit it, then: accountops plan import FILE --user NAME\n"
        "# (keep `version`: it is the version your edit is based on)\n"
    )
    body = yaml.dump(data, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def export_plan(engine: Engine, customer_id: str, out: Path) -> PlanState:
    """Write the plan of ``customer_id`` to ``out``; returns the plan written."""
    state = get_plan(engine, customer_id)
    out.write_text(plan_yaml(state), encoding="utf-8")
    return state


@dataclass(frozen=True)
class ParsedPlan:
    path: Path
    content: PlanContent
    version: int | None


def read_plan_file(path: Path) -> tuple[ParsedPlan, yaml.Node | None]:
    """The content of one plan file, or :class:`PlanInvalid` with file, key path and line."""
    try:
        if path.stat().st_size > MAX_PLAN_FILE_BYTES:
            raise PlanInvalid(f"{path}: larger than {MAX_PLAN_FILE_BYTES:,} bytes: not a plan")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise PlanInvalid(f"{path}: cannot read the file: {reason}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise PlanInvalid(f"{path}: {where}not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise PlanInvalid(f"{path}: a plan file holds a mapping of keys (customer_id, title, ...)")
    version = data.pop("version", None)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise PlanInvalid(
            f"{path}: version{_line(node, ('version',))}: {version!r} is not a number"
        )
    try:
        content = parse_content(data)
    except ContentError as exc:
        raise _located(path, node, exc.path, exc.message) from None
    return ParsedPlan(path, content, version), node


def _located(path: Path, node: yaml.Node | None, key_path: tuple, message: str) -> PlanInvalid:
    return PlanInvalid(f"{path}: {format_path(key_path)}{_line(node, key_path)}: {message}")


def _line(node: yaml.Node | None, key_path: tuple) -> str:
    """`` (line N)`` for the deepest node of ``key_path`` found in ``node``, else ``""``."""
    line = None
    for part in key_path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return f" (line {line})" if line else ""


@dataclass(frozen=True)
class ImportOutcome:
    customer_id: str
    outcome: str  # created, saved, unchanged
    version: int


def import_plan(engine: Engine, identity: Identity, path: Path) -> ImportOutcome:
    """Import one plan file whole, or nothing of it (the error names file, key and line)."""
    parsed, node = read_plan_file(path)
    content = parsed.content
    errors = reference_errors(engine, content)
    if errors:
        key_path, message = errors[0]
        raise _located(path, node, key_path, message)
    with engine.connect() as conn:
        state = plan_state(conn, content.customer_id)
    if state is None:
        created = create_plan(engine, identity, content)
        return ImportOutcome(content.customer_id, "created", created.version)
    if canonical(content) == state.content:
        return ImportOutcome(content.customer_id, "unchanged", state.version)
    if parsed.version is None:
        raise PlanInvalid(
            f"{path}: version: plan {content.customer_id} exists (version {state.version}); "
            "name the version this file was exported from (accountops plan export)"
        )
    saved = save_plan(engine, identity, content, based_on=parsed.version)
    return ImportOutcome(content.customer_id, "saved", saved.version)
