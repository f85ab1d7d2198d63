"""``accountops export KIND``: computed results as CSV (spreadsheet-safe) or JSON.

Starts without Prefect: the rows come from models.value.exports on the latest snapshot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli_context import echo, engine, settings

EXPORT_KINDS = (
    "tiers",
    "migrations",
    "segments",
    "receivables",
    "managers",
    "clv",
    "funnel",
    "forecast",
    "roadmap",
)


def export(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(EXPORT_KINDS)}.")],
    format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("-"),
) -> None:
    """Export computed results as CSV (spreadsheet-safe) or JSON.

    funnel: one row per opportunity (stage, state in the current period, days in stage,
    learned probability). forecast: the weighted forecast per coming period and owner; as
    JSON with a backtest object (learned_error, naive_error and the periods replayed).
    """
    if kind not in EXPORT_KINDS:
        raise typer.BadParameter(
            f"{kind!r} is not one of: {', '.join(EXPORT_KINDS)}", param_hint="KIND"
        )
    if format not in {"csv", "json"}:
        raise typer.BadParameter(f"{format!r} is not csv or json", param_hint="--format")
    from models.config import load_config
    from models.errors import refuse_missing_folder
    from models.value.exports import export as write_export

    if str(out) != "-":
        refuse_missing_folder(out)  # before the database is opened

    rows = write_export(engine(), kind, format, out, load_config(settings().config_file))
    if str(out) != "-":
        echo(f"{rows} rows written to {out}")
