"""Who is signed in to this browser session, and the checks every page shares.

A password sign-in starts a session (``models.sessions``): the browser gets a signed,
HttpOnly session cookie from the dashboard's server (``dashboards/server.py``), so a
reload, a new tab or a shared link opens signed in. The Streamlit session keeps the
identity and the session id in ``st.session_state`` (on the server, so a browser cannot
forge them); every run checks the session in the database, so a sign-out, a
deactivation, the idle timeout or the lifetime ends it at the next click, in every tab.
Tests inject an identity without a session; it is re-read from the user table each run.
With an identity provider, Streamlit's own identity cookie (``st.login``) carries the
sign-in across reloads and tabs, and a session of ``models.sessions`` named by that
sign-in (the ID token's issuer, subject, issue time and nonce) bounds it by the same
rules: idle timeout, lifetime, sign-out and deactivation.
"""

from __future__ import annotations

import streamlit as st
from app_pages.data import current_identity, engine, settings

from dashboards.formatting import number
from dashboards.web_paths import HANDOFF, SIGNOUT, address, base_path, safe_next
from models.access import Action, Identity, Role, can
from models.sessions import (
    DEACTIVATED,
    EXPIRED,
    IDLE,
    SESSION_COOKIE,
    SessionCheck,
    begin_session,
    check_session,
    end_session,
    provider_sign_in,
    session_rules,
    session_secret,
)
from models.value.numbers import half_up

IDENTITY = "identity"
SESSION = "session_id"  # the models.sessions session of this Streamlit session
NOTICE = "signin_notice"  # a message for the sign-in page (e.g. "you were signed out")
OIDC_REFUSED = "oidc_refused"  # the provider sign-in we refused, so we do not retry each rerun

DEV_IDENTITY = Identity("dev", Role.ADMIN, None, "Developer (dev mode, no sign-in)")


def _oidc_login() -> tuple[str, str] | None:
    """(the e-mail, else subject, the identity provider signed in; the key of that sign-in,
    the same in every tab and new at each sign-in), or None when nobody is signed in there."""
    try:
        user = st.user
        if not user.is_logged_in:
            return None
    except (AttributeError, KeyError):  # no auth configured (and AppTest's bare mode)
        return None
    subject = str(user.get("email") or user.get("sub") or "")
    if not subject:
        return None
    login = "\n".join(str(user.get(claim) or "") for claim in ("iss", "sub", "iat", "nonce"))
    return subject, f"{subject}\n{login}"


def _oidc_subject() -> str | None:
    """The e-mail (else subject) the identity provider signed in, if any."""
    login = _oidc_login()
    return None if login is None else login[0]


def _ended_notice(reason: str | None) -> str | None:
    rules = session_rules(settings())
    return {
        DEACTIVATED: "You were signed out: your account was deactivated or removed.",
        IDLE: f"You were signed out after {_duration(rules.idle.total_seconds())} "
        "without activity. Sign in again.",
        EXPIRED: f"Your session ended {_duration(rules.lifetime.total_seconds())} after "
        "sign-in. Sign in again.",
    }.get(reason or "")


def _duration(seconds: float) -> str:
    minutes = int(half_up(seconds / 60))
    if minutes < 1:
        return number(seconds, unit=" s")
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return number(minutes / 60, unit=" hours")


def _password_session() -> Identity | None:
    """The identity of this browser's password session (held here, else in its cookie)."""
    cfg = settings()
    rules = session_rules(cfg)
    session_id = st.session_state.get(SESSION)
    if session_id is not None:
        check = check_session(engine(cfg.database_url), session_id=session_id, rules=rules)
    else:
        cookie = st.context.cookies.get(SESSION_COOKIE)
        if not isinstance(cookie, str) or not cookie:  # AppTest's context is a mock
            return None
        check = check_session(
            engine(cfg.database_url), cookie=cookie, secret=session_secret(cfg), rules=rules
        )
    return _take(check)


def _take(check: SessionCheck) -> Identity | None:
    if check.identity is None:
        st.session_state.pop(IDENTITY, None)
        st.session_state.pop(SESSION, None)
        notice = _ended_notice(check.ended)
        if notice:
            st.session_state[NOTICE] = notice
        return None
    st.session_state[IDENTITY] = check.identity
    st.session_state[SESSION] = check.session_id
    return check.identity


def signed_in() -> Identity | None:
    """The identity of this session, or None when nobody is signed in."""
    cfg = settings()
    if cfg.auth_mode == "dev":
        return DEV_IDENTITY
    injected = IDENTITY in st.session_state and SESSION not in st.session_state  # tests
    if not injected:
        return _provider_session() if cfg.auth_mode == "oidc" else _password_session()
    identity = st.session_state.get(IDENTITY)
    if identity is not None:
        fresh = current_identity(cfg.database_url, identity.username)
        if fresh is None:
            sign_out(notice="You were signed out: your account was deactivated or removed.")
            return None
        st.session_state[IDENTITY] = fresh
        return fresh
    return None


def _provider_session() -> Identity | None:
    """The identity of this browser's sign-in at the identity provider, while its session
    lasts (begun the first time any tab sees that sign-in: ``provider_sign_in``)."""
    from models.auth import AuthenticationFailed

    login = _oidc_login()
    if login is None:
        st.session_state.pop(IDENTITY, None)
        st.session_state.pop(SESSION, None)
        return None
    subject, key = login
    if st.session_state.get(OIDC_REFUSED) == key:
        return None
    cfg = settings()
    # Always by the sign-in the browser holds now (another tab may have signed in anew).
    try:
        check = provider_sign_in(engine(cfg.database_url), subject, key, rules=session_rules(cfg))
    except AuthenticationFailed as exc:  # refused as at sign-in, saying why, once
        st.session_state.pop(IDENTITY, None)
        st.session_state.pop(SESSION, None)
        st.session_state[OIDC_REFUSED] = key
        st.session_state[NOTICE] = exc.args[0]
        return None
    if check.identity is not None:
        st.session_state.pop(NOTICE, None)
    return _take(check)


def sign_in(identity: Identity, *, client: str | None = None) -> None:
    """Start the session of ``identity`` (its password was just checked) and send the
    browser for its cookie, back to the address it is on: a link opened before sign-in
    lands on its page. Ends this run."""
    cfg = settings()
    begun = begin_session(
        engine(cfg.database_url), identity, client=client, rules=session_rules(cfg)
    )
    st.session_state[IDENTITY] = identity
    st.session_state[SESSION] = begun.session_id
    st.session_state.pop(NOTICE, None)
    _send_browser_to(address(HANDOFF, code=begun.handoff, next=_here()))


def _here() -> str:
    """The path (and query) of the page this browser is on."""
    from urllib.parse import urlencode, urlsplit

    path = urlsplit(st.context.url or "").path or base_path()
    query = urlencode(st.query_params.to_dict())
    return safe_next(f"{path}?{query}" if query else path)


def _send_browser_to(url: str) -> None:
    """Make the browser load ``url`` (a page of this server) and end this run.

    Streamlit has no public call for this; ``st.login`` and ``st.logout`` send the same
    message (``auth_redirect``), which the browser follows with ``window.location``. The
    run stops right after: a rerun would drop the message from the queue.
    """
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None:
        message = ForwardMsg()
        message.auth_redirect.url = url
        ctx.enqueue(message)
    st.stop()


def sign_out(*, notice: str | None = None) -> None:
    """End the session and forget the identity (and leave the identity provider's session
    in OIDC mode)."""
    session_id = st.session_state.pop(SESSION, None)
    st.session_state.pop(IDENTITY, None)
    st.session_state.pop(OIDC_REFUSED, None)
    if notice:
        st.session_state[NOTICE] = notice
    oidc = settings().auth_mode == "oidc"
    if session_id is not None:
        # The session is over in the database: every tab's next run sees it.
        end_session(engine(settings().database_url), session_id)
        if not oidc:  # the server also clears our cookie: this browser holds no stale token
            _send_browser_to(address(SIGNOUT, next=base_path()))
    if oidc and _oidc_subject() is not None:
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
    return identity
