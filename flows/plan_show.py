"""``accountops plan show``: one plan for people, with its checks and plan vs actual."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.table import Table


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def print_plan(
    out: Console, engine, customer_id: str, rules, *, as_of: date | None, version: int | None
) -> None:
    """Print the plan (current or ``version``) measured on ``as_of`` (default: the latest
    snapshot's as-of date, else today)."""
    from models.plans.content import from_stored
    from models.plans.read import get_plan, get_version
    from models.plans.review import measure_plan

    state = get_plan(engine, customer_id)
    content, shown = state.content, state.version
    status = state.status.value
    if version is not None:
        rev = get_version(engine, customer_id, version)
        content, shown, status = rev.content, rev.version, rev.status.value
    review = measure_plan(engine, customer_id, content, shown, rules, as_of)
    day = review.as_of
    plan = from_stored(content)
    name = f" ({state.customer_name})" if state.customer_name else ""
    out.print(f"[bold]{plan.title}[/bold]  {customer_id}{name}")
    approved = (
        f", approved version {state.approved_version} by {state.approved_by}"
        if state.approved_version
        else ""
    )
    out.print(f"years {plan.start_year}-{plan.end_year}; version {shown}, {status}{approved}")
    if state.rejection_reason and version is None:
        out.print(f"sent back: {state.rejection_reason}", markup=False)
    team = plan.account_team
    out.print(
        f"account team: lead {team.account_lead or '-'}, solution {team.solution_lead or '-'}, "
        f"delivery {team.delivery_lead or '-'}",
        markup=False,
    )
    factors = ", ".join(f.value for f in plan.buying_factors) or "-"
    out.print(f"buying factors (dominant first): {factors}", markup=False)
    for objective in plan.objectives:
        out.print(f"  objective: {objective}", markup=False)
    out.print(f"\n1+2+1: {review.check.one_two_one.summary()}", markup=False)
    for w in review.check.warnings:
        out.print(f"  [{w.code}] {w.message}", markup=False)
    out.print(f"\nplan vs actual on {day.isoformat()} (invoiced revenue, credit notes netted)")
    out.print(_actuals_table(review.actuals))
    out.print(_stakeholders_table(plan))
    if plan.actions:
        actions = Table(title="actions", box=None, pad_edge=False, title_justify="left")
        for col in ("title", "owner", "due", "status"):
            actions.add_column(col)
        for a in plan.actions:
            actions.add_row(a.title, a.owner, a.due.isoformat(), a.status.value)
        out.print(actions)
    initiatives = [*plan.initiatives, *(i.title for i in plan.added_initiatives)]
    if initiatives:
        out.print("initiatives: " + "; ".join(initiatives), markup=False)


def _actuals_table(rows) -> Table:
    table = Table(box=None, pad_edge=False)
    for col in ("year", "product line", "target", "actual", "gap", "run-rate", "profile run-rate"):
        table.add_column(col, justify="left" if col in ("year", "product line") else "right")
    totals: dict[int, list[Decimal | None]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in rows:
        gap = r.gap
        colour = "" if gap is None else ("red" if gap < 0 else "green")
        gap_text = _money(gap) if not colour else f"[{colour}]{_money(gap)}[/{colour}]"
        table.add_row(
            str(r.year),
            r.product_line_id,
            _money(r.target),
            _money(r.actual),
            gap_text,
            _money(r.run_rate),
            _money(r.run_rate_profile),
        )
        total = totals[r.year]
        total[0] = (total[0] or Decimal(0)) + (r.target or Decimal(0))
        total[1] = None if r.actual is None or total[1] is None else total[1] + r.actual
    for year, (target, actual) in sorted(totals.items()):
        gap = None if actual is None or target is None else actual - target
        table.add_row(str(year), "all", _money(target), _money(actual), _money(gap))
    return table


def _stakeholders_table(plan) -> Table:
    table = Table(title="buying centre", box=None, pad_edge=False, title_justify="left")
    for col in ("name", "title", "role", "stance", "influence", "relationship", "coach/insider"):
        table.add_column(col)
    for s in plan.stakeholders:
        flags = "/".join(f for f, on in (("coach", s.coach), ("insider", s.insider)) if on)
        table.add_row(
            s.name,
            s.title or "",
            s.role.value.replace("_", " "),
            s.stance.value,
            str(s.influence),
            str(s.relationship),
            flags,
        )
    return table
