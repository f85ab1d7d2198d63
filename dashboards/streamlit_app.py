"""The accountops dashboard: sign-in first, then the pages the signed-in role may see.

Pages are listed once, in ``app_pages/registry.py``. Someone not signed in gets only the
sign-in page, whatever URL they open (and lands on that URL once signed in). A signed-in
role sees the pages its role allows; a page it may not see answers with a refusal.
"""

from pathlib import Path

import streamlit as st
from app_pages.data import settings_problem
from app_pages.registry import PAGES, SIGNIN_FILE
from app_pages.session import DEV_IDENTITY, refuse, role_label, sign_out, signed_in

from dashboards.formatting import literal
from models.access import can

# The icon is a file of ours, served by this server: a Material icon name would make every
# browser fetch it from a font host on the internet (and fail offline).
FAVICON = str(Path(__file__).with_name("favicon.png"))
st.set_page_config(page_title="accountops", page_icon=FAVICON, layout="wide")

problem = settings_problem()
if problem:
    st.error(f"The dashboard cannot start: {problem}. Fix the setting and restart it.")
    st.stop()

identity = signed_in()

if identity is None:
    signin = [st.Page(SIGNIN_FILE, title="Sign in", icon=":material/login:", default=True)]
    signin += [
        st.Page(SIGNIN_FILE, title="Sign in", url_path=spec.url_path, visibility="hidden")
        for spec in PAGES
    ]
    st.navigation(signin, position="hidden").run()
    st.stop()


def _refusal(spec):
    def page() -> None:
        refuse(spec.title, spec.action)
        if landing_page is not None:
            st.page_link(landing_page, label=f"Go to {landing.title}", icon=landing.icon)

    page.__name__ = f"refuse_{spec.url_path}"
    return page


allowed = [spec for spec in PAGES if can(identity.role, spec.action)]
landing = next((s for s in allowed if s.default), allowed[0] if allowed else None)
sections: dict[str, list] = {}
landing_page = None
for spec in allowed:
    st_page = st.Page(
        spec.file,
        title=spec.title,
        icon=spec.icon,
        default=spec is landing,
        visibility="hidden" if spec.hidden else "visible",
    )
    sections.setdefault(spec.section, []).append(st_page)
    if spec is landing:
        landing_page = st_page
# Pages the role may not see stay reachable by URL only to say so (never their content).
hidden = [
    st.Page(_refusal(spec), title=spec.title, url_path=spec.url_path, visibility="hidden")
    for spec in PAGES
    if spec not in allowed
]
if hidden:
    first = next(iter(sections), "Executive")
    sections.setdefault(first, []).extend(hidden)

page = st.navigation(sections)

with st.sidebar:
    st.markdown(f"**{literal(identity.label)}**")
    st.caption(f"Role: {role_label(identity.role)}")
    if identity == DEV_IDENTITY:
        st.caption("Dev mode: nobody signs in (ACCOUNTOPS_AUTH_MODE=dev; refused in prod).")
    elif st.button("Sign out", icon=":material/logout:", key="sign_out"):
        sign_out()
        st.rerun()

page.run()
