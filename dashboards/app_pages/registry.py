"""Every page of the app, in menu order: a new page is one new file plus one line here.

Each page names the action (``models.access.Action``) a role needs to see it; the
navigation shows a page only to roles that may perform that action, and a page a role
may not see answers its URL with a refusal instead of its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.access import Action

SIGNIN_FILE = "app_pages/signin.py"


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to dashboards/ (the folder of streamlit_app.py)
    title: str
    icon: str  # a Material Symbols name, ":material/<name>:"
    section: str  # the heading it is listed under in the menu
    action: Action  # what a role must be allowed to do to see it
    default: bool = False  # the landing page after sign-in
    hidden: bool = False  # reached by links (with query parameters), not from the menu

    @property
    def url_path(self) -> str:
        return Path(self.file).stem


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "app_pages/overview.py",
        "Overview",
        ":material/dashboard:",
        "Executive",
        Action.VIEW_DASHBOARD,
        default=True,
    ),
    PageSpec(
        "app_pages/customers.py",
        "Customers",
        ":material/groups:",
        "Executive",
        Action.VIEW_CUSTOMER,
    ),
    PageSpec(
        "app_pages/attack_defend.py",
        "Attack / defend",
        ":material/swords:",
        "Executive",
        Action.VIEW_DASHBOARD,
    ),
    PageSpec(
        "app_pages/receivables.py",
        "Receivables",
        ":material/account_balance_wallet:",
        "Executive",
        Action.VIEW_DASHBOARD,
    ),
    PageSpec(
        "app_pages/managers.py",
        "Account managers",
        ":material/badge:",
        "Executive",
        Action.VIEW_DASHBOARD,
    ),
    PageSpec(
        "app_pages/roadmap.py",
        "Roadmap vs strategy",
        ":material/route:",
        "Executive",
        Action.VIEW_DASHBOARD,
    ),
    PageSpec(
        "app_pages/funnel.py",
        "Funnel and forecast",
        ":material/filter_alt:",
        "Executive",
        Action.VIEW_DASHBOARD,
    ),
    PageSpec(
        "app_pages/plans.py",
        "Account plans",
        ":material/assignment:",
        "Plans",
        Action.VIEW_PLAN,
    ),
    PageSpec(
        "app_pages/plan.py",
        "Account plan",
        ":material/edit_document:",
        "Plans",
        Action.VIEW_PLAN,
        hidden=True,
    ),
    PageSpec(
        "app_pages/data_health.py",
        "Data health",
        ":material/health_and_safety:",
        "Data",
        Action.VIEW_DATA_HEALTH,
    ),
    PageSpec(
        "app_pages/data_docs.py",
        "Data Docs",
        ":material/fact_check:",
        "Data",
        Action.VIEW_DATA_HEALTH,
        hidden=True,
    ),
    PageSpec(
        "app_pages/admin_users.py",
        "Admin: users",
        ":material/manage_accounts:",
        "Administration",
        Action.MANAGE_USERS,
    ),
    PageSpec(
        "app_pages/admin_audit.py",
        "Admin: audit trail",
        ":material/history:",
        "Administration",
        Action.VIEW_AUDIT,
    ),
)
