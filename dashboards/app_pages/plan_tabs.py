"""The tabs of the plan page. Each draws one part of a plan from ``view.seed`` and, when
``view.editable``, writes what the widgets hold into ``view.content`` (the working copy).

Readers get the same widgets, disabled: one code path, so what a reader sees is what a
planner edits. Nothing here saves: the page saves the working copy through the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import pandas as pd
import streamlit as st

from dashboards import plan_charts
from dashboards.formatting import DASH, literal, number
from models.plans.checks import PlanCheck, overdue_actions
from models.plans.content import (
    CENTS,
    ActionStatus,
    BuyingFactor,
    BuyingRole,
    ContentError,
    PlanContent,
    Priority,
    Stance,
    format_path,
    parse_content,
)
from models.plans.review import PlanReviewResult
from models.plans.workspace import PlanChoices


@dataclass
class ReadOnlyView:
    """What a reader's page draws from: the same shape as a draft, never written."""

    customer_id: str
    seed: dict
    editable: bool = False

    @property
    def content(self) -> dict:
        return self.seed

    def key(self, name: str) -> str:
        return f"plan-view:{self.customer_id}:{name}"


def parsed(content: dict) -> tuple[PlanContent | None, ContentError | None]:
    try:
        return parse_content(content), None
    except ContentError as exc:
        return None, exc


def problem_beside(view, *fields: str) -> None:
    """The working copy's first broken rule, when it is in one of ``fields``."""
    if not view.editable:
        return
    _, err = parsed(view.content)
    if err is not None and err.path and str(err.path[0]) in fields:
        st.error(literal(f"{format_path(err.path)}: {err.message}"), icon=":material/error:")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Editor rows as content records: empty cells dropped (the content names what is
    missing), dates as ISO text, whole numbers as int."""
    out = []
    for row in frame.to_dict("records"):
        record = {}
        for k, v in row.items():
            if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT or v == "":
                continue
            if isinstance(v, pd.Timestamp | date):
                v = v.isoformat()[:10]
            elif isinstance(v, float) and v.is_integer() and k in ("influence", "relationship"):
                v = int(v)
            record[k] = v
        if record:
            out.append(record)
    return out


def _list_editor(view, frame: pd.DataFrame, name: str, columns: dict) -> pd.DataFrame:
    """A list of records to edit: rows are added at the bottom and deleted by selecting
    them; read-only for readers."""
    return st.data_editor(
        frame,
        hide_index=True,
        placeholder=DASH,
        num_rows="dynamic" if view.editable else "fixed",
        disabled=not view.editable,
        key=view.key(name),
        column_config=columns,
    )


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for c in columns:
        if c in frame:
            frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.date
    return frame


def overview(view) -> None:
    s, disabled = view.seed, not view.editable
    title = st.text_input("Title", s.get("title", ""), key=view.key("title"), disabled=disabled)
    left, right = st.columns(2)
    start = left.number_input(
        "First year", 2000, 2100, int(s["start_year"]), key=view.key("start"), disabled=disabled
    )
    end = right.number_input(
        "Last year", 2000, 2100, int(s["end_year"]), key=view.key("end"), disabled=disabled
    )
    st.markdown("**Account team** (the iron triangle)")
    team = dict(s.get("account_team") or {})
    cols = st.columns(3)
    for col, (field, label) in zip(
        cols,
        (
            ("account_lead", "Account lead"),
            ("solution_lead", "Solution lead"),
            ("delivery_lead", "Delivery lead"),
        ),
        strict=True,
    ):
        team[field] = (
            col.text_input(
                label, team.get(field) or "", key=view.key(field), disabled=disabled
            ).strip()
            or None
        )
    objectives = st.text_area(
        "Objectives (one a line)",
        "\n".join(s.get("objectives", [])),
        key=view.key("objectives"),
        disabled=disabled,
    )
    factors = st.multiselect(
        "Dominant buying factors (dominant first)",
        [f.value for f in BuyingFactor],
        s.get("buying_factors", []),
        key=view.key("factors"),
        disabled=disabled,
    )
    if view.editable:
        c = view.content
        c["title"], c["start_year"], c["end_year"] = title, int(start), int(end)
        c["account_team"] = {k: v for k, v in team.items() if v}
        c["objectives"] = [line.strip() for line in objectives.splitlines() if line.strip()]
        c["buying_factors"] = factors
    problem_beside(view, "title", "start_year", "end_year", "account_team", "objectives")


def targets(view, choices: PlanChoices, review: PlanReviewResult | None) -> None:
    s = view.seed
    years = [str(y) for y in range(int(s["start_year"]), int(s["end_year"]) + 1)]
    seeded = s.get("targets") or {}
    lines = sorted(set(choices.product_lines) | {pl for t in seeded.values() for pl in t})
    grid = pd.DataFrame(
        {
            "product line": lines,
            "name": [choices.product_lines.get(pl, "") for pl in lines],
            **{y: [_float(seeded.get(y, {}).get(pl)) for pl in lines] for y in years},
        }
    )
    st.markdown(f"**Yearly revenue targets** ({choices.currency or 'reporting currency'})")
    edited = st.data_editor(
        grid,
        hide_index=True,
        placeholder=DASH,
        disabled=["product line", "name"] if view.editable else True,
        key=view.key("targets"),
        column_config={
            y: st.column_config.NumberColumn(y, min_value=0, format="%.2f") for y in years
        },
    )
    if view.editable:
        view.content["targets"] = _targets_of(edited, years)
    problem_beside(view, "targets")
    if review is None:
        return
    st.markdown(
        f"**Plan vs actual** on {review.as_of:%d %b %Y} (invoiced revenue, credit notes netted)"
    )
    rows = pd.DataFrame(
        [
            {
                "year": a.year,
                "product line": a.product_line_id,
                "target": _float(a.target),
                "actual": _float(a.actual),
                "gap": _float(a.gap),
                "run-rate": _float(a.run_rate),
                "profile run-rate": _float(a.run_rate_profile),
            }
            for a in review.actuals
        ]
    )
    if rows.empty:
        st.caption("No targets and no sales in the plan's years yet.")
        return
    st.dataframe(
        rows.style.map(_gap_colour, subset=["gap"]).format(
            number,
            na_rep=DASH,
            subset=["target", "actual", "gap", "run-rate", "profile run-rate"],
        ),
        hide_index=True,
        placeholder=DASH,
        width="stretch",
    )
    per_year = rows.groupby("year", as_index=False)[["target", "actual"]].sum(min_count=1)
    st.plotly_chart(plan_charts.target_vs_actual(per_year, choices.currency), key=view.key("chart"))


def _float(value) -> float | None:
    return None if value is None else float(value)


def _gap_colour(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return "color: #C8372D" if value < 0 else "color: #2E9E5B"


def _targets_of(grid: pd.DataFrame, years: list[str]) -> dict:
    out: dict[str, dict[str, str]] = {}
    for row in grid.to_dict("records"):
        for y in years:
            v = row.get(y)
            if v is None or pd.isna(v):
                continue
            try:
                amount = Decimal(repr(float(v))).quantize(CENTS)
            except (InvalidOperation, ValueError):
                continue
            out.setdefault(y, {})[row["product line"]] = str(amount)
    return out


STAKEHOLDER_COLUMNS = (
    "name",
    "title",
    "role",
    "stance",
    "influence",
    "relationship",
    "coach",
    "insider",
    "owner",
)


def buying_centre(view, check: PlanCheck | None) -> None:
    s = view.seed
    frame = pd.DataFrame(s.get("stakeholders", []), columns=list(STAKEHOLDER_COLUMNS))
    frame[["coach", "insider"]] = frame[["coach", "insider"]].fillna(False).astype(bool)
    st.markdown("**Stakeholders** (add a row at the bottom; select rows to delete them)")
    edited = _list_editor(
        view,
        frame,
        "stakeholders",
        {
            "role": st.column_config.SelectboxColumn(options=[r.value for r in BuyingRole]),
            "stance": st.column_config.SelectboxColumn(options=[x.value for x in Stance]),
            "influence": st.column_config.NumberColumn(min_value=1, max_value=5, step=1),
            "relationship": st.column_config.NumberColumn(min_value=1, max_value=5, step=1),
            "coach": st.column_config.CheckboxColumn(),
            "insider": st.column_config.CheckboxColumn(),
        },
    )
    people = _records(edited) if view.editable else s.get("stakeholders", [])
    if view.editable:
        view.content["stakeholders"] = people
    problem_beside(view, "stakeholders", "contacts")
    st.plotly_chart(plan_charts.buying_centre(people), key=view.key("bc_chart"))
    if check is not None:
        one = check.one_two_one
        (st.success if one.ok else st.warning)(
            f"1+2+1: {one.summary()} (coach: {'yes' if one.coach else 'no'}; buying roles won "
            f"over: {', '.join(one.roles_won) or 'none'}; account lead: "
            f"{'yes' if one.account_lead else 'no'})"
        )
        for w in check.warnings:
            st.caption(f":orange[:material/warning: **{w.code}** {literal(w.message)}]")
    contacts(view, [p.get("name") for p in people if p.get("name")])


def contacts(view, names: list[str]) -> None:
    st.markdown("**Contact log**")
    log = view.content.get("contacts", []) if view.editable else view.seed.get("contacts", [])
    if log:
        frame = pd.DataFrame(log).sort_values("contacted_on", ascending=False)
        st.dataframe(frame, hide_index=True, placeholder=DASH, width="stretch")
    else:
        st.caption("No contacts logged yet.")
    if not view.editable or not names:
        return
    with st.form(view.key("contact_form"), clear_on_submit=True):
        st.markdown("Add a contact (saved with the plan)")
        a, b, c = st.columns(3)
        who = a.selectbox("Stakeholder", names)
        when = b.date_input("Date", date.today())
        channel = c.selectbox("Channel", ["meeting", "call", "email", "visit", "event", "other"])
        note = st.text_input("Note")
        if st.form_submit_button("Add contact"):
            entry = {"stakeholder": who, "contacted_on": when.isoformat(), "channel": channel}
            if note.strip():
                entry["note"] = note.strip()
            view.content.setdefault("contacts", []).append(entry)
            st.rerun()


def initiatives(view, choices: PlanChoices) -> None:
    s = view.seed
    known = {i["initiative_id"]: i for i in choices.initiatives}
    st.markdown("**The customer's initiatives the plan relies on** (ingested)")
    picked = st.multiselect(
        "Initiatives",
        list(known) + [i for i in s.get("initiatives", []) if i not in known],
        s.get("initiatives", []),
        format_func=lambda i: f"{i}: {known[i]['title']}" if i in known else i,
        key=view.key("initiatives"),
        disabled=not view.editable,
        label_visibility="collapsed",
    )
    if picked:
        rows = [known[i] for i in picked if i in known]
        frame = pd.DataFrame(rows)
        if not frame.empty:
            frame["capability_tags"] = frame["capability_tags"].map(", ".join)
            st.dataframe(frame, hide_index=True, placeholder=DASH, width="stretch")
    st.markdown("**Initiatives added by hand** (ones no source file carries)")
    added = pd.DataFrame(
        [
            {**i, "capabilities": ", ".join(i.get("capabilities", []))}
            for i in s.get("added_initiatives", [])
        ],
        columns=["title", "capabilities", "needed_by", "priority"],
    )
    edited = _list_editor(
        view,
        _dates(added, "needed_by"),
        "added",
        {
            "needed_by": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "priority": st.column_config.SelectboxColumn(options=[p.value for p in Priority]),
            "capabilities": st.column_config.TextColumn(help="Capability tags, comma-separated"),
        },
    )
    if view.editable:
        view.content["initiatives"] = picked
        records = _records(edited)
        for r in records:
            r["capabilities"] = [
                t.strip() for t in r.get("capabilities", "").split(",") if t.strip()
            ]
        view.content["added_initiatives"] = records
    problem_beside(view, "initiatives", "added_initiatives")


def actions(view, as_of: date) -> None:
    s = view.seed
    frame = pd.DataFrame(s.get("actions", []), columns=["title", "owner", "due", "status"])
    edited = _list_editor(
        view,
        _dates(frame, "due"),
        "actions",
        {
            "due": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "status": st.column_config.SelectboxColumn(options=[a.value for a in ActionStatus]),
        },
    )
    if view.editable:
        view.content["actions"] = _records(edited)
    problem_beside(view, "actions")
    plan, _ = parsed(view.content)
    if plan is None:  # the broken rule is named above; overdue once the actions are valid
        return
    overdue = overdue_actions(plan, as_of)
    for a in overdue:
        st.caption(
            f":red[:material/schedule: overdue: **{literal(a.title)}** ({literal(a.owner)}), "
            f"due {a.due}]"
        )
    if not overdue:
        st.caption(f"No open action is overdue on {as_of:%d %b %Y}.")
