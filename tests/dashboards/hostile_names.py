"""Names holding Markdown and HTML, for the tests that check every page shows them as text.

``make_names_hostile`` is a ``before_recompute`` hook of ``build_sample_database``: after
the ingest it sets up the demo users and plans (as ``accountops demo`` does) and puts
``HOSTILE`` in front of every customer (so every group), account manager, product line,
user, plan, initiative and roadmap item name; the recompute and the refresh then copy
them into the snapshot's tables, as they would copy names from a customer's file.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy import literal as sql_literal

from models.db import transaction
from models.schema import AccountManager, AccountPlan, AppUser, Customer, ProductLine
from models.schema.roadmap import Initiative, RoadmapItem

# What each part would make if it were read as Markdown or HTML: bold text, a script link,
# an image with a script handler, a remote image, bold HTML, and an HTML link.
BOLD = "**x**"
SCRIPT_LINK = "[a](javascript:alert(1))"
IMG_TAG = "<img src=x onerror=alert(1)>"
REMOTE_IMAGE = "![i](http://127.0.0.1:9/i.png)"
HTML_BOLD = "<b>b</b>"
HTML_LINK = '<a href="http://127.0.0.1:9/">h</a>'
HOSTILE = " ".join((BOLD, SCRIPT_LINK, IMG_TAG, REMOTE_IMAGE, HTML_BOLD, HTML_LINK))
# Fragments of a name that Markdown would read; escaped (``\<img``) they are only text.
RAW = re.compile(r"\*\*x\*\*|(?<!\\)\]\(|(?<!\\)<(?:img|b>b|a href)")


def unescaped(text: str) -> list[str]:
    """The fragments of ``HOSTILE`` that ``text`` holds unescaped (Markdown would read them)."""
    return RAW.findall(text)


def make_names_hostile(engine: Engine, sample: Path, users: dict | None = None) -> None:
    """The hook; ``users`` (when given) receives the demo users' passwords by name."""
    from models.auth import create_demo_users
    from models.sampledata.demo_plans import set_up_demo_plans
    from models.sampledata.plans import PLANS_DIR

    created = create_demo_users(engine)
    if users is not None:
        users.update({name: password for name, _, password in created})
    set_up_demo_plans(engine, sample / PLANS_DIR)
    prefix = sql_literal(HOSTILE + " ")
    with transaction(engine) as session:
        for table, column in (
            (Customer, Customer.name),
            (AccountManager, AccountManager.name),
            (ProductLine, ProductLine.name),
            (AccountPlan, AccountPlan.title),
            (Initiative, Initiative.title),
            (RoadmapItem, RoadmapItem.title),
        ):
            session.execute(update(table).values({column.key: prefix + column}))
        session.execute(update(AppUser).values(display_name=HOSTILE + " " + "user"))
