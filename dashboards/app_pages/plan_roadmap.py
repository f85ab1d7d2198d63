"""The Initiatives tab's roadmap part: how the latest snapshot matched each of the
account's initiatives, and the suggested matches a planner confirms or rejects in place.

A decision is recorded at once (and audited) through ``models.roadmap.store.decide``,
which checks the role and the account again; it counts from the next recompute on.
"""

from __future__ import annotations

import streamlit as st

from dashboards.formatting import DASH, literal, number
from models.access import Identity
from models.errors import AccountopsError
from models.roadmap.account import account_matching
from models.roadmap.store import decide, may_decide

MATCH_LABELS = {"in_time": "in time", "late": "late", "gap": "gap"}


def roadmap_matches(engine, identity: Identity, customer_id: str) -> None:
    found = account_matching(engine, customer_id)
    st.markdown("**Roadmap match** (latest snapshot)")
    if found.snapshot_id is None:
        st.caption(
            "No matching yet: the recompute matches the roadmap against the customer's open "
            "initiatives (accountops pipeline)."
        )
        return
    if found.coverage.empty:
        st.caption("The customer has no open initiative (planned or active) to match.")
        return
    shown = found.coverage.assign(
        match=[
            MATCH_LABELS[m] + (f" by {n} months" if m == "late" else "")
            for m, n in zip(found.coverage["match"], found.coverage["months_late"], strict=True)
        ]
    ).drop(columns=["months_late"])
    st.dataframe(
        shown, hide_index=True, placeholder=DASH, width="stretch", key=f"matches:{customer_id}"
    )
    if found.suggestions.empty:
        st.caption("No suggested matches to decide.")
        return
    allowed = may_decide(engine, identity, customer_id)
    st.markdown(
        "**Suggested matches**: the texts agree but the capability tags do not. A confirmed "
        "match counts from the next recompute; a rejected one is never suggested again."
    )
    for s in found.suggestions.itertuples(index=False):
        pair = (s.initiative_id, s.roadmap_item_id)
        text = (
            f"{literal(s.initiative_id)} needs, {literal(s.roadmap_item_id)} *{literal(s.item)}* "
            "offers "
            f"(released {s.release_on:%d %b %Y}; text similarity {number(s.similarity, 2)})"
        )
        left, mid, right = st.columns([6, 1, 1], vertical_alignment="center")
        left.markdown(text)
        if pair in found.decided:
            mid.caption(f"{found.decided[pair]}ed")
            continue
        if not allowed:
            continue
        for col, decision, label in ((mid, "confirm", "Confirm"), (right, "reject", "Reject")):
            if col.button(label, key=f"decide:{decision}:{s.initiative_id}:{s.roadmap_item_id}"):
                try:
                    decide(engine, identity, s.initiative_id, s.roadmap_item_id, decision)
                except AccountopsError as exc:
                    st.error(literal(exc.args[0]))
                else:
                    st.rerun()
