"""Field-level differences between two plan contents, with paths people can read.

``targets.2027.PL-03: 1,200,000 -> 1,350,000`` and
``stakeholders[Dana Reyes].stance: neutral -> supporter``: list items are named by
their natural key (a stakeholder's name, an action's title), not their position, so
reordering a list is no change and a change names the item it touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# How the items of each list of records are named in a path.
_ITEM_KEYS = {
    "stakeholders": lambda item: item["name"],
    "added_initiatives": lambda item: item["title"],
    "actions": lambda item: item["title"],
    "contacts": lambda item: f"{item['contacted_on']} {item['stakeholder']}",
}
_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One changed field: its path, and the value before and after (None: absent)."""

    path: str
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.before is None and self.after is not None and _is_record(self.after):
            return f"{self.path}: added"
        if self.after is None and self.before is not None and _is_record(self.before):
            return f"{self.path}: removed"
        return f"{self.path}: {show(self.before)} -> {show(self.after)}"


def _is_record(value: Any) -> bool:
    return isinstance(value, dict)


def show(value: Any) -> str:
    """A value as the diff prints it: amounts with thousands separators, lists joined."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]" if value else "[]"
    if isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return value
        if amount.is_finite() and "." in value:
            return f"{amount:,.2f}".removesuffix(".00")
        return value
    return str(value)


def diff_contents(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """Every changed field from ``before`` to ``after`` (canonical dicts), in key order."""
    changes: list[Change] = []
    _walk(before if before is not None else {}, after, "", changes)
    return changes


def _walk(before: Any, after: Any, path: str, out: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in _keys(before, after):
            b, a = before.get(key, _ABSENT), after.get(key, _ABSENT)
            sub = f"{path}.{key}" if path else str(key)
            _walk(None if b is _ABSENT else b, None if a is _ABSENT else a, sub, out)
        return
    if isinstance(before, dict) or isinstance(after, dict):  # a mapping added or removed
        _walk(before or {}, after or {}, path, out)
        return
    field = path.rsplit(".", 1)[-1]
    if field in _ITEM_KEYS and isinstance(before or [], list) and isinstance(after or [], list):
        keyed = _ITEM_KEYS[field]
        _walk_records(_by_key(before or [], keyed), _by_key(after or [], keyed), path, out)
        return
    if before != after:
        out.append(Change(path, before, after))


def _walk_records(before: dict, after: dict, path: str, out: list[Change]) -> None:
    for key in _keys(before, after):
        sub = f"{path}[{key}]"
        if key not in before:
            out.append(Change(sub, None, after[key]))
        elif key not in after:
            out.append(Change(sub, before[key], None))
        else:
            _walk(before[key], after[key], sub, out)


def _by_key(items: list[dict], keyed) -> dict[str, dict]:
    named: dict[str, dict] = {}
    for item in items:
        key = str(keyed(item))
        n, unique = 2, key
        while unique in named:  # two contacts on one day with one person: #2, #3...
            unique, n = f"{key} #{n}", n + 1
        named[unique] = item
    return named


def _keys(before: dict, after: dict) -> list:
    seen = list(before)
    return seen + [k for k in after if k not in before]


def changed_paths(changes: list[Change]) -> list[str]:
    """The paths of ``changes``, as a revision stores them."""
    return [c.path for c in changes]


def reapply(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """My edits (``base`` -> ``mine``) applied again on top of ``theirs``, the version
    someone else saved meanwhile: each top-level field I changed takes my value, the
    others keep theirs; targets merge per year and product line, so two planners who
    changed different targets both keep their change. Where we both changed the same
    field, mine wins (I see theirs in the conflict message before I save again).
    """
    out = dict(theirs)
    for key in set(base) | set(mine):
        if key == "targets":
            continue
        if mine.get(key, _ABSENT) != base.get(key, _ABSENT):
            if key in mine:
                out[key] = mine[key]
            else:
                out.pop(key, None)
    targets = {y: dict(lines) for y, lines in (theirs.get("targets") or {}).items()}
    old, new = base.get("targets") or {}, mine.get("targets") or {}
    for year in set(old) | set(new):
        for pl in set(old.get(year, {})) | set(new.get(year, {})):
            before, after = old.get(year, {}).get(pl), new.get(year, {}).get(pl)
            if before == after:
                continue
            if after is None:
                targets.get(year, {}).pop(pl, None)
            else:
                targets.setdefault(year, {})[pl] = after
    out["targets"] = {y: lines for y, lines in sorted(targets.items()) if lines}
    return out
