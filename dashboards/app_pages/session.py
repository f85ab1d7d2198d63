"""Who is signed in to this browser session, and the checks every page shares.

The identity lives in ``st.session_state["identity"]`` (kept on the server, so a
browser cannot forge it); tests inject one the same way. It is re-read from the
database while the session lasts, so a deactivation or role change takes effect.
"""

from __future__ import annotations

import streamlit as st
from app_pages.data import current_identity, settings

from models.access import Action, Identity, Role, can

IDENTITY = "identity"
NOTICE = "signin_notice"  # a message for the sign-in page (e.g. "you were signed out")
OIDC_REFUSED = "oidc_refused"  # the provider subject we refused, so we do not retry each rerun

DEV_IDENTITY = Identity("dev", Role.ADMIN, None, "Developer (dev mode, no sign-in)")


def _oidc_subject() -> str | None:
    """The e-mail (else subject) the identity provider signed in, if any."""
    try:
        user = st.user
        if not user.is_logged_in:
            return None
    except (AttributeError, KeyError):  # no auth configured (and AppTest's bare mode)
        return None
    return str(user.get("email") or user.get("sub") or "") or None


def signed_in() -> Identity | None:
    """The identity of this session, or None when nobody is signed in."""
    cfg = settings()
    if cfg.auth_mode == "dev":
        return DEV_IDENTITY
    identity = st.session_state.get(IDENTITY)
    if identity is not None:
        fresh = current_identity(cfg.database_url, identity.username)
        if fresh is None and cfg.auth_mode == "oidc":
            # Still signed in at the provider: refused as at sign-in, saying why.
            st.session_state.pop(IDENTITY)
            return _oidc_identity(cfg.database_url)
        if fresh is None:
            sign_out(notice="You were signed out: your account was deactivated or removed.")
            return None
        st.session_state[IDENTITY] = fresh
        return fresh
    if cfg.auth_mode == "oidc":
        return _oidc_identity(cfg.database_url)
    return None


def _oidc_identity(url: str) -> Identity | None:
    from app_pages.data import engine

    from models.auth import AuthenticationFailed, identity_for_subject

    subject = _oidc_subject()
    if subject is None or st.session_state.get(OIDC_REFUSED) == subject:
        return None
    try:
        identity = identity_for_subject(engine(url), subject)
    except AuthenticationFailed as exc:
        st.session_state[OIDC_REFUSED] = subject
        st.session_state[NOTICE] = exc.args[0]
        return None
    st.session_state[IDENTITY] = identity
    return identity


def sign_in(identity: Identity) -> None:
    st.session_state[IDENTITY] = identity
    st.session_state.pop(NOTICE, None)


def sign_out(*, notice: str | None = None) -> None:
    """Forget the identity (and leave the identity provider's session in OIDC mode)."""
    st.session_state.pop(IDENTITY, None)
    st.session_state.pop(OIDC_REFUSED, None)
    if notice:
        st.session_state[NOTICE] = notice
    if settings().auth_mode == "oidc" and _oidc_subject() is not None:
        # st.logout() clears the identity cookie by sending the browser to Streamlit's
        # logout address (then the provider's). Stop here, so the message reaches the
        # browser: a rerun now would drop it from the queue (Streamlit clears it when a
        # run restarts), and the cookie left behind would sign the person in again.
        st.logout()
        st.stop()


def role_label(role: Role) -> str:
    return role.value.replace("_", " ")


def refuse(title: str, action: Action) -> None:
    """What a page shows to a signed-in role that may not see it."""
    identity = st.session_state.get(IDENTITY) or DEV_IDENTITY
    st.title(title)
    st.error(
        f"Your role ({role_label(identity.role)}) does not give access to this page "
        f"(it needs permission to {action.value.replace('_', ' ')}). "
        "Ask an administrator if you need it.",
        icon=":material/block:",
    )


def require_page(action: Action, title: str) -> Identity:
    """The signed-in identity if it may ``action``; otherwise show the refusal and stop.

    Navigation already hides such pages; this second check keeps a page safe even if it
    is reached some other way.
    """
    identity = signed_in()
    if identity is None or not can(identity.role, action):
        refuse(title, action)
        st.stop()
    if not can(identity.role, Action.EXPORT_DATA):
        hide_table_downloads()
    return identity


# The "Download as CSV" action of every table's toolbar (st.dataframe; its aria-label is
# the label, or "label: context"). Streamlit 1.67 has no per-table switch, and its
# client.disableDataExport is one setting for the whole server, every role at once.
_NO_TABLE_DOWNLOAD = (
    "<style>"
    'button[aria-label^="Download as CSV"],'
    '[data-testid="stElementToolbarButton"]:has(button[aria-label^="Download as CSV"])'
    "{display:none !important}"
    "</style>"
)


def hide_table_downloads() -> None:
    """Take the tables' built-in download off the page, for a role that may not export.

    This only removes the affordance, matching the download buttons (exports.py): the
    control is that such a role is sent only the rows it may see (``models.access.book_of``
    for an account manager), which copy or developer tools cannot widen.
    """
    st.html(_NO_TABLE_DOWNLOAD)
