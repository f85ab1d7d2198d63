"""Loading the committed suites (expectations/suites/<entity>.json) and filling placeholders.

A suite is plain JSON a data engineer edits. Values may name a threshold of the
rules file instead of repeating it: ``"${ingest.max_amount}"`` (``"${-ingest.max_amount}"``
for its negative), ``"${ingest.min_date}"`` and ``"${max_date}"`` (as-of plus
``ingest.future_tolerance_days``) are filled from models/defaults.yaml; dates
are compared as YYYYMMDD numbers. ``"${known.<table>}"`` is filled at run time
with the keys that exist (database plus the batch), for foreign-key rules. An
expectation whose ``meta.enabled_by`` names a true/false rule
(``"ingest.quarantine_opposite_signs"``) is left out while that rule is false.
No Great Expectations import here: this is cheap and deterministic.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from models.ingest.settings import IngestConfig

SUITES = Path(__file__).resolve().parent / "suites"


class SuiteError(ValueError):
    pass


@cache
def _raw_suite(entity: str) -> str:
    path = SUITES / f"{entity}.json"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"no suite for entity {entity!r} at {path}") from exc


def suite_document(entity: str) -> dict[str, Any]:
    """The suite file as written (placeholders unfilled)."""
    try:
        return json.loads(_raw_suite(entity))
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"expectations/suites/{entity}.json line {exc.lineno}: {exc.msg}"
        ) from None


def ymd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def config_params(config: IngestConfig, as_of: date) -> dict[str, Any]:
    """Placeholder values that come from the rules file and the as-of date."""
    params: dict[str, Any] = {f"ingest.{name}": value for name, value in vars(config).items()}
    params["ingest.min_date"] = ymd(config.min_date)
    params["ingest.allowed_currencies"] = list(config.allowed_currencies)
    params["max_date"] = ymd(as_of + timedelta(days=config.future_tolerance_days))
    return params


def _fill(value: Any, params: dict[str, Any], entity: str, *, keep_runtime: bool) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, params, entity, keep_runtime=keep_runtime) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, params, entity, keep_runtime=keep_runtime) for v in value]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        name = value[2:-1]
        negate = name.startswith("-")
        name = name.lstrip("-")
        if name not in params:
            if keep_runtime and name.startswith("known."):
                return value
            raise SuiteError(f"expectations/suites/{entity}.json: unknown placeholder {value}")
        filled = params[name]
        return -filled if negate else filled
    return value


def suite_expectations(
    entity: str,
    config: IngestConfig,
    as_of: date,
    runtime: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The suite's expectations with every placeholder filled (runtime ones when given)."""
    params = config_params(config, as_of) | (runtime or {})
    doc = suite_document(entity)
    out = []
    for exp in doc.get("expectations", []):
        switch = (exp.get("meta") or {}).get("enabled_by")
        if switch is not None:
            if switch not in params:
                raise SuiteError(f"expectations/suites/{entity}.json: unknown switch {switch}")
            if not params[switch]:
                continue  # turned off in the rules file
        exp = copy.deepcopy(exp)
        exp.pop("id", None)
        exp["kwargs"] = _fill(exp.get("kwargs", {}), params, entity, keep_runtime=runtime is None)
        exp.setdefault("meta", {}).setdefault("rule", "VALUE_NOT_ALLOWED")
        out.append(exp)
    return out


def runtime_placeholders(entity: str) -> set[str]:
    """The ``known.<table>`` names a suite asks for (filled by the service)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and v.startswith("${known."):
            found.add(v[2:-1])

    walk(suite_document(entity).get("expectations", []))
    return found
