"""An account manager sees their own book (issue 19, item 7): on every page, no element the
server sends (text, tables' rows, charts' specs, options) names another manager's customer;
a viewer still sees every customer. The read models filter in the query, so the check is on
everything AppTest receives, not on what a page happens to draw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from models.access import Identity, Role, book_of
from models.dashboard import read as rd
from models.dashboard.data_health import quarantine_rows
from models.db import transaction
from models.roadmap import read as rr
from models.schema import AppUser, DashboardCustomer
from tests.dashboards import pages_support
from tests.dashboards.conftest import app_test
from tests.dashboards.pages_support import busiest_manager, private_copy

SID = 2
CUSTOMER_ID = re.compile(r"C-\d{6}")
PAGES = [
    "overview",
    "customers",
    "attack_defend",
    "receivables",
    "managers",
    "funnel",
    "roadmap",
    "plans",
    "plan",
    "data_health",
    "data_docs",
]


@pytest.fixture(scope="module")
def book_db(tmp_path_factory) -> Path:
    from models.auth import create_demo_users
    from models.sampledata.demo_plans import set_up_demo_plans
    from models.sampledata.plans import PLANS_DIR
    from tests.dashboards.pages_support import build_sample_database

    folder = tmp_path_factory.mktemp("am-book")

    def before(engine, sample: Path) -> None:  # as `accountops demo` does
        create_demo_users(engine)
        set_up_demo_plans(engine, sample / PLANS_DIR)
        # The demo's first manager holds no customer of so small a sample: take the
        # manager of the most customers for the demo account manager's book.
        with transaction(engine) as session:
            manager = busiest_manager(session)
            session.execute(
                update(AppUser)
                .where(AppUser.username == Role.ACCOUNT_MANAGER.value)
                .values(manager_id=manager)
            )

    engine, ids, _ = build_sample_database(
        folder / "sample.db", folder / "csv", before_recompute=before
    )
    assert ids == [1, SID]
    engine.dispose()
    return folder / "sample.db"


@pytest.fixture
def page_db(book_db, tmp_path, monkeypatch):
    with private_copy(book_db, tmp_path, monkeypatch) as engine:
        yield engine


def books(engine) -> tuple[str, set[str], set[str]]:
    """The demo account manager's id, the customers of their book, everybody else's."""
    with engine.connect() as conn:
        manager = conn.scalar(
            select(AppUser.manager_id).where(AppUser.username == Role.ACCOUNT_MANAGER.value)
        )
        rows = conn.execute(
            select(DashboardCustomer.customer_id, DashboardCustomer.manager_id).where(
                DashboardCustomer.snapshot_id == SID
            )
        ).all()
    own = {c for c, m in rows if m == manager}
    assert manager and own and len(own) < len(rows)
    return manager, own, {c for c, _ in rows} - own


def sent(at) -> str:
    """Every element's protobuf as the browser would get it: labels, markdown, options,
    the tables' Arrow bytes and the charts' JSON specs."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            parts.append(proto.SerializeToString().decode("latin-1"))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def customer_ids(at) -> set[str]:
    return set(CUSTOMER_ID.findall(sent(at)))


open_as = pages_support.open_page


@pytest.mark.parametrize("page", PAGES)
def test_an_account_manager_is_sent_no_other_managers_customer(page_db, page):
    _, own, others = books(page_db)
    at = open_as(f"app_pages/{page}.py", Role.ACCOUNT_MANAGER.value)
    assert not (customer_ids(at) & others), page
    if page == "customers":  # and on a customer's page, opened from the (own) list
        options = at.selectbox(key="customer_pick").options
        assert options and all(CUSTOMER_ID.search(o).group() in own for o in options)
        at.selectbox(key="customer_pick").set_value(0).run()
        assert not at.exception
        assert len(at.get("plotly_chart")) >= 1  # the customer's own history is drawn
        assert not (customer_ids(at) & others)


def test_a_viewer_still_sees_every_customer_and_the_cache_keeps_the_books_apart(page_db):
    _, own, others = books(page_db)
    at = open_as("app_pages/customers.py", Role.VIEWER.value)
    ids = customer_ids(at)
    assert own <= ids and others <= ids
    # Same database, same snapshot, right after: the cached reads are keyed on the book.
    at = open_as("app_pages/customers.py", Role.ACCOUNT_MANAGER.value)
    assert customer_ids(at) == own


def test_another_managers_plan_is_not_opened_by_its_address(page_db):
    _, _, others = books(page_db)
    planned = set(rr.strategic_accounts(page_db, SID)["customer_id"]) & others
    assert planned, "the demo has plans of other managers' accounts"
    at = app_test()
    at.session_state["identity"] = Identity(Role.ACCOUNT_MANAGER.value, Role.ACCOUNT_MANAGER)
    other = sorted(planned)[0]
    at.query_params["customer"] = other
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception
    assert not (customer_ids(at) - {other}) & others  # only the id typed, said back
    assert "There is no plan for customer" in " ".join(w.value for w in at.warning)


def test_the_read_models_filter_by_book(page_db):
    manager, own, others = books(page_db)
    book = book_of(Identity("am", Role.ACCOUNT_MANAGER, manager))
    assert book == manager and book_of(Identity("v", Role.VIEWER)) is None
    assert book_of(Identity("am", Role.ACCOUNT_MANAGER)) == ""  # no manager: no customer
    assert set(rd.customers(page_db, SID, book=book)["customer_id"]) == own
    assert rd.customers(page_db, SID, book="").empty
    assert set(rd.segment_points(page_db, SID, 10_000, book=book)["customer_id"]) <= own
    assert set(rd.managers(page_db, SID, book=book)["manager_id"]) == {manager}
    stranger = sorted(others)[0]
    assert rd.customer_history_of(page_db, SID, stranger, book=book).empty
    assert rd.customer_wallet(page_db, SID, stranger, book=book).empty
    assert not rd.customer_history_of(page_db, SID, stranger).empty  # unscoped: anyone's
    assert quarantine_rows(page_db, book=book) is None
    assert set(rr.strategic_accounts(page_db, SID, book=book)["customer_id"]) <= own
