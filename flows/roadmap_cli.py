"""``accountops roadmap ...``: the suggested roadmap matches and planners' decisions.

A text-only match (the texts agree, the capability tags do not) is a suggestion until a
planner of the account (or an admin) confirms or rejects it; the decision counts from
the next recompute on and is never asked again. Nothing here imports Prefect.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from flows.plan_cli import UserOpt, acting_user, out

roadmap_app = typer.Typer(
    help="Roadmap vs customer strategy: suggested matches and planners' decisions.",
    no_args_is_help=True,
)


def _engine():
    from flows.cli import engine

    return engine()


@roadmap_app.command("suggestions")
def suggestions() -> None:
    """Open suggestions of the latest snapshot: initiative, roadmap item, text similarity."""
    from models.roadmap.store import open_suggestions

    found = open_suggestions(_engine())
    if not found:
        out.print("no open suggestions (a recompute matches newly ingested data)")
        return
    table = Table(box=None, pad_edge=False)
    for col in ("initiative", "customer", "needs", "roadmap item", "offers", "text", "late"):
        table.add_column(col, no_wrap=col not in ("needs", "offers"))
    for s in found:
        table.add_row(
            s.initiative_id,
            s.customer_id,
            s.initiative,
            s.roadmap_item_id,
            s.item,
            f"{s.text_similarity:.2f}",
            f"{s.months_late} mo" if s.months_late else "in time",
        )
    out.print(table)
    out.print(
        "decide with: accountops roadmap decide INITIATIVE_ID ROADMAP_ITEM_ID confirm|reject "
        "--user NAME"
    )


@roadmap_app.command("decide")
def decide(
    initiative_id: Annotated[str, typer.Argument(help="The customer initiative.")],
    roadmap_item_id: Annotated[str, typer.Argument(help="The roadmap item.")],
    decision: Annotated[str, typer.Argument(help="confirm or reject.")],
    user: UserOpt,
) -> None:
    """Confirm (it counts whatever its score) or reject (never suggested again) a pair."""
    from models.roadmap.store import decide as record

    if decision not in ("confirm", "reject"):
        raise typer.BadParameter(f"{decision!r} is not confirm or reject", param_hint="DECISION")
    eng = _engine()
    record(eng, acting_user(eng, user), initiative_id, roadmap_item_id, decision)
    out.print(
        f"{initiative_id} x {roadmap_item_id}: {decision}ed by {user}; it counts from the next "
        "recompute (accountops recompute)"
    )
