"""Administration: who may sign in, with which role; (de)activate users. Admins only."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from app_pages.data import database_url, engine, settings
from app_pages.exports import export_button
from app_pages.session import require_page, role_label

from dashboards.formatting import DASH, literal
from models.access import POLICY, Action, Role
from models.auth import list_users, locked_users, set_user_active, set_user_role, unlock_user
from models.errors import AccountopsError
from models.signin import signin_rules

TITLE = "Users and roles"
SAVED = "admin_users_saved"  # the confirmation shown after the rerun that shows the change
identity = require_page(Action.MANAGE_USERS, TITLE)

st.title(TITLE)
st.caption(
    "People who may sign in and what their role lets them do. Add users with "
    "`accountops user add NAME --role ROLE --password-stdin` (or `--no-password` for "
    "someone who signs in through the identity provider, NAME being their e-mail)."
)

users = list_users(engine(database_url()))
table = pd.DataFrame(
    {
        "User": [u.username for u in users],
        "Name": [u.display_name or "" for u in users],
        "Role": [role_label(Role(u.role)) for u in users],
        "Account manager id": [u.manager_id or "" for u in users],
        "Status": ["active" if u.is_active else "deactivated" for u in users],
        "Signs in with": [u.sign_in for u in users],
        "Added (UTC)": [u.created_at.strftime("%Y-%m-%d %H:%M") for u in users],
    }
)
active = sum(u.is_active for u in users)
st.subheader(f"{len(users):,} users, {active:,} active")
st.dataframe(table, hide_index=True, placeholder=DASH, width="stretch")
export_button(table, name="users")

others = [u.username for u in users if u.username != identity.username]
if others:
    with st.form("user_status"):
        st.markdown("**Activate or deactivate a user** (a deactivated user cannot sign in)")
        left, right = st.columns([2, 1])
        who = left.selectbox("User", others, key="status_user")
        new_status = right.radio("Status", ["active", "deactivated"], key="status_value")
        if st.form_submit_button("Save status", type="primary"):
            try:
                set_user_active(engine(database_url()), identity, who, new_status == "active")
            except AccountopsError as exc:
                st.error(literal(exc.args[0]))
            else:
                st.session_state[SAVED] = f"{literal(who)} is now {new_status}."
                st.rerun()
    with st.form("user_role"):
        st.markdown("**Change a user's role** (it takes effect at their next click)")
        left, right = st.columns([2, 1])
        who = left.selectbox("User", others, key="role_user")
        new_role = right.selectbox("Role", list(Role), format_func=role_label, key="role_value")
        if st.form_submit_button("Save role", type="primary"):
            try:
                before = set_user_role(engine(database_url()), identity, who, Role(new_role))
            except AccountopsError as exc:
                st.error(literal(exc.args[0]))
            else:
                st.session_state[SAVED] = (
                    f"{literal(who)} is now {role_label(Role(new_role))} "
                    f"(was {role_label(before)})."
                )
                st.rerun()

st.subheader("Locked after failed sign-ins")
rules = signin_rules(settings())
locks = locked_users(engine(database_url()), rules)
known = {u.username for u in users}
if not locks:
    st.caption(
        f"No user name is locked (a name locks for {rules.lock_minutes:g} minutes after "
        f"{rules.lock_after} failed sign-ins)."
    )
else:
    st.dataframe(
        pd.DataFrame(
            {
                "User name": list(locks),
                "Is a user": ["yes" if name in known else "no" for name in locks],
                "Locked until (UTC)": [u.strftime("%Y-%m-%d %H:%M:%S") for u in locks.values()],
            }
        ),
        hide_index=True,
        placeholder=DASH,
        width="stretch",
    )
    lockable = [name for name in locks if name in known]
    if lockable:
        with st.form("unlock"):
            who = st.selectbox("User to unlock", lockable, key="unlock_user")
            if st.form_submit_button("Unlock", type="primary"):
                try:
                    unlock_user(engine(database_url()), identity, who, rules=rules)
                except AccountopsError as exc:
                    st.error(literal(exc.args[0]))
                else:
                    st.session_state[SAVED] = f"{literal(who)} is unlocked."
                    st.rerun()
if SAVED in st.session_state:
    st.success(st.session_state.pop(SAVED), icon=":material/check_circle:")

st.subheader("What each role may do")
st.dataframe(
    pd.DataFrame(
        {
            "Permission": [a.value.replace("_", " ") for a in Action],
            **{role_label(r): ["yes" if r in POLICY[a] else "no" for a in Action] for r in Role},
        }
    ),
    hide_index=True,
    placeholder=DASH,
    width="stretch",
)
