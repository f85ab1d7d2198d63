"""The dashboard's web server: Streamlit's app (``streamlit_app.py``) plus the two addresses
that set and clear the session cookie, which a Streamlit script cannot do itself.

``accountops dashboard`` runs ``streamlit run dashboards/server.py``; Streamlit finds
the ``app`` below and serves it with uvicorn.

- ``/_accountops/session?code=...&next=/page``: after a password sign-in the page sends
  the browser here with a one-time code (``models.sessions.begin_session``); the answer
  sets the signed session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) and
  sends the browser on to the page it came from.
- ``/_accountops/signout?next=/``: clears the cookie (the session itself was already
  ended by the page that sent the browser here) and goes back to the sign-in page.

Every answer also carries the security headers (:data:`SECURITY_HEADERS`): a
Content-Security-Policy that lets the page load nothing from another host, and no framing
by other sites.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboards.web_paths import HANDOFF, SIGNOUT, base_path, safe_next
from models.db import make_engine
from models.sessions import SESSION_COOKIE, hand_over, session_rules, session_secret
from models.settings import Settings


@cache
def _engine(url: str):
    """One engine per database for the hand-over address (the pages keep their own)."""
    return make_engine(url, create_file=False)  # never an empty file


async def session_handoff(request: Request) -> RedirectResponse:
    """Trade the one-time code for the session cookie, then go on to ``next``."""
    cfg = Settings()
    code = request.query_params.get("code", "")
    cookie = await run_in_threadpool(
        hand_over, _engine(cfg.database_url), code, secret=session_secret(cfg)
    )
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if cookie is not None:
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=int(session_rules(cfg).lifetime.total_seconds()),
            path=base_path(),
            secure=cfg.session_cookie_secure or request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
    return response


async def session_signout(request: Request) -> RedirectResponse:
    """Clear the session cookie and go back to the sign-in page."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(SESSION_COOKIE, path=base_path(), httponly=True, samesite="strict")
    return response


def _inline_script_hashes() -> list[str]:
    """CSP hashes of the inline scripts of Streamlit's page (one today), so they run and
    no other inline script does; read from the installed Streamlit, so an upgrade that
    changes them keeps working."""
    page = Path(st.__file__).parent / "static" / "index.html"
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", page.read_text(), re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in scripts
    ]


# Everything the dashboard shows comes from this server: no script, image, font, frame or
# connection from another host (an image or link a name or a file could smuggle in loads
# nothing), and no other site may show the dashboard in a frame. Styles may be inline:
# Streamlit's components set theirs that way.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' " + " ".join(_inline_script_hashes()),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "frame-src 'self' blob: data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP answer (HSTS is the TLS proxy's:
    deploy/Caddyfile)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


app = st.App(
    Path(__file__).with_name("streamlit_app.py"),
    routes=[
        Route(base_path() + HANDOFF, session_handoff, methods=["GET"]),
        Route(base_path() + SIGNOUT, session_signout, methods=["GET"]),
    ],
    middleware=[Middleware(SecurityHeaders)],
)
