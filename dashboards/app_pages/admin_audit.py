"""Administration: the audit trail, who did what and when; filter and download. Admins only.

The read model (``models.audit``) checks the role again; the download goes through the
shared export button (spreadsheet-safe, export policy checked, the download audited).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from app_pages.data import database_url, engine
from app_pages.exports import export_button
from app_pages.session import require_page

from dashboards.formatting import DASH
from models.access import Action
from models.audit import KIND_LABELS, AuditFilter, audit_kinds, list_audit_events

TITLE = "Audit trail"
identity = require_page(Action.VIEW_AUDIT, TITLE)
eng = engine(database_url())

st.title(TITLE)
st.caption(
    "Who did what and when: sign-ins and failures, locks, user changes, refusals, plan "
    "and roadmap decisions, downloads. Times are UTC. Audit events are never changed or "
    "deleted."
)


def _kind_label(kind: str) -> str:
    return f"{KIND_LABELS.get(kind, kind)} ({kind})"


who_col, kind_col, since_col, until_col = st.columns([2, 3, 1, 1])
who = who_col.text_input("Who (part of the user name)", key="audit_who")
kinds = kind_col.multiselect(
    "What kind", audit_kinds(eng, identity), format_func=_kind_label, key="audit_kinds"
)
since = since_col.date_input("From", value=None, key="audit_since")
until = until_col.date_input("To", value=None, key="audit_until")

found = list_audit_events(
    eng, identity, AuditFilter(who=who or None, kinds=tuple(kinds), since=since, until=until)
)
table = pd.DataFrame(
    {
        "When (UTC)": [r.at.strftime("%Y-%m-%d %H:%M:%S") for r in found.rows],
        "Who": [r.actor for r in found.rows],
        "What": [r.action for r in found.rows],
        "On": [f"{r.target_type}: {r.target_id}" if r.target_id else "" for r in found.rows],
        "Details": [r.detail or "" for r in found.rows],
        "Client": [r.client or "" for r in found.rows],
    }
)
if found.truncated:
    st.subheader(f"The newest {len(found.rows):,} of {found.matched:,} events")
    st.caption("Narrow the filters (dates, who, kind) to see older events.")
else:
    st.subheader(f"{found.matched:,} events")
st.dataframe(table, hide_index=True, placeholder=DASH, width="stretch")
export_button(table, name="audit_trail")
