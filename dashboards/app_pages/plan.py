"""One strategic-account plan (``?customer=ID``): read it, or edit it in tabs and take it
through draft -> submitted -> approved. Every button calls the plan service, which checks
the role, the account and the version again; the page only decides what to offer."""

import pandas as pd
import streamlit as st
from app_pages import plan_tabs as tabs
from app_pages.data import database_url, engine, plan_rules_in_force
from app_pages.exports import export_button
from app_pages.plan_draft import catch_up, discard, draft_for, reload_and_reapply, save
from app_pages.plan_roadmap import roadmap_matches
from app_pages.session import require_page

from dashboards.formatting import DASH, literal
from models.access import Action, can, record
from models.dashboard.read import latest_snapshot_id
from models.errors import AccountopsError
from models.plans.checks import check_plan
from models.plans.diff import diff_contents, show
from models.plans.files import plan_yaml
from models.plans.read import approved_content, find_plan, get_plan, list_plans, plan_history
from models.plans.review import measure_plan
from models.plans.service import (
    approve_plan,
    may_edit,
    reject_plan,
    restore_plan,
    submit_plan,
)
from models.plans.workspace import plan_choices, readable_plans

TITLE = "Account plan"
identity = require_page(Action.VIEW_PLAN, TITLE)
eng = engine(database_url())
rules = plan_rules_in_force()

customer = st.query_params.get("customer")
readable = readable_plans(eng, identity)  # None: every plan; an account manager's own only
may_read = customer is not None and (readable is None or customer in readable)
state = find_plan(eng, customer) if may_read else None
if state is None:
    plans = {  # only to pick one
        p.customer_id: p for p in list_plans(eng) if readable is None or p.customer_id in readable
    }
    st.title(TITLE)
    if not plans:
        st.info("No plans yet: see Account plans.", icon=":material/info:")
        st.stop()
    if customer:
        st.warning(
            f"There is no plan for customer {literal(repr(customer))}.", icon=":material/warning:"
        )
    pick = st.selectbox(
        "Open the plan of",
        list(plans),
        index=None,
        format_func=lambda c: f"{c} {plans[c].customer_name or ''}: {plans[c].title}",
    )
    if pick is None:
        st.stop()
    st.query_params["customer"] = customer = pick
    state = get_plan(eng, customer)

editable = may_edit(eng, identity, customer)
approver = can(identity.role, Action.APPROVE_PLAN)
snapshot_id = latest_snapshot_id(eng)
choices = plan_choices(eng, customer, snapshot_id)

st.title(literal(state.title))
status = state.status.value
approved = f" · approved version {state.approved_version}" if state.approved_version else ""
st.caption(
    f"{literal(customer)} {literal(state.customer_name or '')} · "
    f"{state.start_year}-{state.end_year} · "
    f"version {state.version}, **{status}**{approved} · last edited by "
    f"{literal(state.edited_by or state.updated_by)}, {state.updated_at:%d %b %Y %H:%M} UTC"
)
if state.rejection_reason and status == "draft":
    st.warning(
        f"Sent back by the approver: {literal(state.rejection_reason)}", icon=":material/undo:"
    )

if editable:
    view = draft_for(state)
    for message in view.saved:
        st.success(message, icon=":material/check_circle:")
    view.saved.clear()
else:
    content, shown = state.content, state.version
    newer = state.approved_version is not None and state.approved_version != state.version
    if newer:
        st.info(
            f"A newer version ({state.version}, {status}) exists; you see the approved "
            f"version {state.approved_version}, the one that counts.",
            icon=":material/new_releases:",
        )
        if not st.toggle("Show the newer version", key=f"plan_newer:{customer}"):
            content, shown = approved_content(eng, customer), state.approved_version
    view = tabs.ReadOnlyView(f"{customer}:{shown}", content)
    st.caption(":material/visibility: Read only: your role or account does not let you edit it.")

bar = st.container()  # the workflow buttons: drawn first, acted on after the tabs ran

names = ["Overview", "Targets", "Buying centre", "Initiatives", "Actions", "History"]
t_over, t_targets, t_bc, t_init, t_act, t_hist = st.tabs(names)
working, _ = tabs.parsed(view.content)
review = measure_plan(eng, customer, view.content if working else view.seed, state.version, rules)
with t_over:
    tabs.overview(view)
with t_targets:
    tabs.targets(view, choices, review)
with t_bc:
    now, _ = tabs.parsed(view.content)
    tabs.buying_centre(view, check_plan(now, rules, review.as_of) if now else review.check)
with t_init:
    tabs.initiatives(view, choices)
    roadmap_matches(eng, identity, customer)
with t_act:
    tabs.actions(view, review.as_of)
with t_hist:
    history = plan_history(eng, customer)
    st.dataframe(
        pd.DataFrame(
            {
                "version": [r.version for r in history],
                "status": [r.status.value for r in history],
                "event": [r.event for r in history],
                "who": [r.actor for r in history],
                "when (UTC)": [f"{r.at:%Y-%m-%d %H:%M}" for r in history],
                "fields changed": [", ".join(r.changed_fields) for r in history],
                "note": [r.note or "" for r in history],
            }
        ).iloc[::-1],
        hide_index=True,
        placeholder=DASH,
        width="stretch",
    )
    versions = [r.version for r in history]
    by_version = {r.version: r for r in history}
    left, right = st.columns(2)
    v1 = left.selectbox(
        "Compare version",
        versions,
        index=max(len(versions) - 2, 0),
        key=f"v1:{customer}:{state.version}",
    )
    v2 = right.selectbox(
        "with version", versions, index=len(versions) - 1, key=f"v2:{customer}:{state.version}"
    )
    changes = diff_contents(by_version[v1].content, by_version[v2].content)
    if changes:
        st.dataframe(
            pd.DataFrame(
                {
                    "field": [c.path for c in changes],
                    f"version {v1}": [show(c.before) for c in changes],
                    f"version {v2}": [show(c.after) for c in changes],
                }
            ),
            hide_index=True,
            placeholder=DASH,
            width="stretch",
        )
    else:
        st.caption(f"Versions {v1} and {v2} have the same content.")
    if editable:
        back = st.selectbox("Restore version", versions, key=f"restore:{customer}:{state.version}")
        if st.button(f"Restore version {back} as a new draft", key="restore"):
            try:
                restore_plan(eng, identity, customer, back, based_on=state.version)
            except AccountopsError as exc:
                st.error(literal(exc.args[0]))
            else:
                discard(eng, view)
                view.saved.append(f"Version {back} restored as a new draft.")
                st.rerun()

with bar:
    if editable and view.conflict is not None:
        c = view.conflict
        st.error(
            f"Not saved: {literal(c.actor)} saved version {c.version} at {c.at:%d %b %Y %H:%M} UTC "
            f"(changed: {', '.join(c.fields) or 'status'}) after you opened version "
            f"{view.based_on}. Your edits are still here.",
            icon=":material/sync_problem:",
        )
        if st.button(f"Reload version {c.version} and re-apply my edits", key="reapply"):
            reload_and_reapply(eng, view)
            st.rerun()
    if editable and view.problem:
        st.error(f"Not saved: {literal(view.problem)}", icon=":material/error:")
    cols = st.columns(5)
    step = None
    if editable:
        if cols[0].button("Save", type="primary", key="save"):
            save(eng, identity, view)  # refused: the reason shows above, edits kept
            st.rerun()
        if cols[1].button("Discard my edits", key="discard", disabled=not view.dirty):
            discard(eng, view)
            st.rerun()
        if status == "draft" and cols[2].button(
            "Submit for approval",
            key="submit",
            disabled=view.dirty,
            help="Save your edits first" if view.dirty else None,
        ):
            step = lambda: submit_plan(eng, identity, customer, based_on=state.version)  # noqa: E731
    if approver and status == "submitted":
        if cols[3].button("Approve", key="approve", type="primary"):
            step = lambda: approve_plan(eng, identity, customer, based_on=state.version)  # noqa: E731
        reason = st.text_input("Reason for sending it back", key="reject_reason")
        if cols[4].button("Reject", key="reject"):
            step = lambda: reject_plan(  # noqa: E731
                eng, identity, customer, based_on=state.version, reason=reason
            )
    if step is not None:
        try:
            done = step()
        except AccountopsError as exc:
            st.error(literal(exc.args[0]), icon=":material/block:")
        else:
            st.session_state["plan_notice"] = (
                f"Plan {literal(customer)} is now {done.status.value}."
            )
            st.rerun()
    if "plan_notice" in st.session_state:
        st.success(st.session_state.pop("plan_notice"), icon=":material/check_circle:")
    if editable and view.dirty:
        st.caption(":orange[:material/edit: Unsaved edits.]")
    if editable and catch_up(view, state):
        st.rerun()  # someone saved meanwhile and this page held no edits: show theirs

st.divider()
if can(identity.role, Action.EXPORT_DATA):
    st.download_button(
        "Download the plan (YAML, as `accountops plan export` writes it)",
        plan_yaml(state),
        file_name=f"{customer}.yaml",
        mime="application/x-yaml",
        icon=":material/download:",
        key="yaml",
        on_click=record,
        args=(identity, "export.download"),
        kwargs={"engine": eng, "target_type": "account_plan", "target_id": customer},
    )
frame = pd.DataFrame(
    [
        {
            "year": a.year,
            "product_line_id": a.product_line_id,
            "target": a.target,
            "actual": a.actual,
            "gap": a.gap,
            "run_rate": a.run_rate,
            "run_rate_profile": a.run_rate_profile,
        }
        for a in review.actuals
    ]
)
export_button(frame, name=f"plan_targets_{customer}")
