"""``accountops export``: stored results as spreadsheet-safe CSV or as JSON.

Spreadsheet safety (RELIABILITY.md S2): a *text* cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return would be read as a formula by
Excel or LibreOffice, so it gets a leading apostrophe. Numbers are written as
numbers and never touched, so a negative amount stays ``-12.50`` and sums in
the spreadsheet still work.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, case, func, select

from models.errors import AccountopsError, OutputNotWritable, refuse_missing_folder
from models.funnel.store import forecast_document, funnel_export
from models.roadmap.store import roadmap_export
from models.schema import Invoice, InvoiceLine

from . import readmodels as rm
from .export_names import with_names
from .rules import value_rules

KINDS = (
    "tiers",
    "migrations",
    "segments",
    "receivables",
    "managers",
    "clv",
    "roadmap",
    "funnel",
    "forecast",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [str(c) for c in frame.columns]
    return [
        dict(zip(columns, map(_json_value, r), strict=True))
        for r in frame.astype(object).to_numpy().tolist()
    ]


def render_document(doc: dict[str, Any]) -> str:
    """A JSON document whose values may be frames (written as lists of records)."""

    def plain(value: Any) -> Any:
        if isinstance(value, pd.DataFrame):
            return _records(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return _json_value(value)

    return json.dumps(plain(doc), indent=1, ensure_ascii=False) + "\n"


def render(frame: pd.DataFrame, fmt: str) -> str:
    """The frame as CSV (spreadsheet-safe, empty cell for null) or JSON (null for null)."""
    if fmt == "json":
        return json.dumps(_records(frame), indent=1, ensure_ascii=False) + "\n"
    columns = [str(c) for c in frame.columns]
    records = frame.astype(object).to_numpy().tolist()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralise(c) for c in columns])
    writer.writerows([_cell(v) for v in r] for r in records)
    return buf.getvalue()


def purchases(conn: Connection, as_of: date) -> pd.DataFrame:
    """Per customer and day: the revenue of positive lines, straight from the lines (the
    plain statement of the CLV input the recompute keeps in ``customer_purchases``; the
    tests check the kept one against it)."""
    inv, line = Invoice.__table__, InvoiceLine.__table__
    q = (
        select(
            inv.c.customer_id,
            inv.c.invoice_date,
            func.sum(case((line.c.amount > 0, line.c.amount), else_=0)).label("amount"),
        )
        .select_from(line.join(inv, inv.c.invoice_id == line.c.invoice_id))
        .where(inv.c.invoice_date <= as_of, line.c.amount > 0)
        .group_by(inv.c.customer_id, inv.c.invoice_date)
        .order_by(inv.c.customer_id, inv.c.invoice_date)
    )
    result = conn.execute(q)
    return pd.DataFrame(result.all(), columns=["customer_id", "invoice_date", "amount"])


def clv_frame(conn: Connection, snapshot_id: int | None) -> pd.DataFrame:
    """Customer lifetime value at the snapshot's as-of date: what the recompute fitted and
    stored with the snapshot (:func:`clv_store.stored_clv`), as the dashboard shows it."""
    from .clv_store import stored_clv, stored_fits

    sid = rm.resolve_snapshot(conn, snapshot_id)
    if not stored_fits(conn, sid):
        raise AccountopsError(
            f"snapshot {sid} has no stored CLV (computed before CLV was stored): "
            "run `accountops recompute` for a new snapshot"
        )
    table = stored_clv(conn, sid)
    for col in ("p_alive", "expected_purchases_90d"):
        table[col] = pd.to_numeric(table[col]).astype(float).round(6)
    return table.sort_values("customer_id").reset_index(drop=True)


def export_frame(
    engine: Engine, kind: str, config: dict[str, Any], snapshot_id: int | None = None
) -> pd.DataFrame:
    """The rows of one export kind, from the given (or latest complete) snapshot, with the
    names beside the ids (:func:`export_names.with_names`)."""
    if kind not in KINDS:
        raise AccountopsError(f"export kind {kind!r} is not one of: {', '.join(KINDS)}")
    with engine.connect() as conn:
        return with_names(conn, _export_rows(conn, kind, config, snapshot_id))


def _export_rows(
    conn: Connection, kind: str, config: dict[str, Any], snapshot_id: int | None
) -> pd.DataFrame:
    rules = value_rules(config)
    if kind == "clv":
        return clv_frame(conn, snapshot_id)
    sid = rm.resolve_snapshot(conn, snapshot_id)
    if kind == "tiers":
        return rm.tiers_frame(conn, sid, rules.policies)
    if kind == "migrations":
        return rm.migrations_frame(conn, sid)
    if kind == "segments":
        return rm.segments_frame(conn, sid)
    if kind == "receivables":
        return rm.receivables_frame(conn, sid, rules)
    if kind == "roadmap":
        return roadmap_export(conn, sid)
    if kind == "funnel":
        return funnel_export(conn, sid)
    if kind == "forecast":
        return forecast_document(conn, sid)["forecast"]
    return rm.managers_frame(conn, sid)


def export(
    engine: Engine,
    kind: str,
    fmt: str,
    out: Path,
    config: dict[str, Any],
    snapshot_id: int | None = None,
) -> int:
    """Write one export to ``out`` (``-`` for standard output); returns the row count.

    The forecast as JSON is one document: the forecast rows and a ``backtest`` object
    (errors and periods); as CSV it is the forecast rows."""
    if kind == "forecast" and fmt == "json":
        with engine.connect() as conn:
            doc = forecast_document(conn, rm.resolve_snapshot(conn, snapshot_id))
            doc["forecast"] = frame = with_names(conn, doc["forecast"])
        text = render_document(doc)
    else:
        frame = export_frame(engine, kind, config, snapshot_id)
        text = render(frame, fmt)
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        refuse_missing_folder(out)
        try:
            out.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputNotWritable(f"cannot write {out}: {exc.strerror or exc}") from None
    return len(frame)
