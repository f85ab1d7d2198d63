"""The sign-in page: the only thing someone not signed in sees (it reads nothing).

Password mode checks the local store (Argon2 hashes in ``app_user``); OIDC mode sends
the person to the organisation's identity provider with ``st.login``.
"""

from __future__ import annotations

import streamlit as st
from app_pages.data import engine, settings, status
from app_pages.session import NOTICE, OIDC_REFUSED, sign_in

from dashboards.formatting import literal
from models.errors import AccountopsError

_, middle, _ = st.columns([1, 1.3, 1])
with middle:
    st.title("accountops")
    st.caption("Key-account operations: customer value, receivables and strategic-account plans.")
    notice = st.session_state.get(NOTICE)
    cfg = settings()

    if cfg.auth_mode == "oidc":
        st.subheader("Sign in")
        if notice:
            st.error(literal(notice), icon=":material/block:")
        if st.session_state.get(OIDC_REFUSED):
            st.button("Sign out of the identity provider", on_click=st.logout)
        elif st.button("Sign in with your organisation account", type="primary"):
            try:
                st.login()
            except Exception as exc:  # not configured: say what to set, never a traceback
                st.error(
                    "Sign-in through the identity provider is not configured on this server "
                    f"({type(exc).__name__}): see docs/OPERATIONS.md, 'Connecting your "
                    "identity provider (OIDC)'."
                )
        st.stop()

    with st.form("signin", border=True):
        st.subheader("Sign in")
        username = st.text_input("User name or e-mail", key="signin_username", max_chars=320)
        password = st.text_input("Password", type="password", key="signin_password", max_chars=256)
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")

    if submitted:
        from models.auth import AuthenticationFailed, authenticate
        from models.db import check_connection, require_existing
        from models.signin import signin_rules

        url = cfg.database_url
        try:
            require_existing(url)  # no SQLite file yet: say to run init, make none
            check_connection(engine(url))  # unreachable: one line naming the database
            if status(url).revision is None:
                st.warning(
                    "The database has no schema yet. Run `accountops init` "
                    "(or `python3 dev.py demo`), then add users."
                )
                st.stop()
            # Failures count per user name and per client address (None when Streamlit
            # does not know it, e.g. locally, or when turned off): models/signin.py.
            address = st.context.ip_address if cfg.signin_per_client else None
            client = address if isinstance(address, str) else None  # AppTest: a mock
            identity = authenticate(
                engine(url), username, password, client=client, rules=signin_rules(cfg)
            )
        except AccountopsError as exc:
            st.error(
                literal(exc.args[0][:1].upper() + exc.args[0][1:] + "."), icon=":material/error:"
            )
            if isinstance(exc, AuthenticationFailed) and exc.retry_after:
                wait = exc.retry_after
                when = f"{wait} s" if wait < 120 else f"{-(-wait // 60)} min"
                st.caption(f"The next attempt is possible in {when}.")
        else:
            sign_in(identity, client=client)  # on to the cookie, then back to this page
    elif notice:
        st.warning(literal(notice))

    st.caption(
        "No account yet? An administrator adds you "
        "(`accountops user add NAME --role ROLE --password-stdin`).  \n"
        "Trying the demo? `accountops demo` prints one user per role."
    )
