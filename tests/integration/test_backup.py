"""Backup and restore on SQLite and PostgreSQL: every row of every table comes back, the
restored database works (sign-in, plan saves, the append-only trigger), a backup taken
while another connection writes is consistent, and a restore that must not happen
(a database with rows, a newer schema) is refused and changes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from models.auth import authenticate
from models.backup import BackupRefused, RestoreRefused, backup_database, restore_database
from models.backup.staging import staged_file
from models.db import make_engine, transaction
from models.migrate import current_revision, head_revision, upgrade
from models.plans.read import get_plan, plan_history
from models.plans.service import approve_plan, create_plan, save_plan, submit_plan
from models.schema import AuditEvent, Customer, CustomerStatus, Role, RunLock, metadata
from models.users import add_user
from tests.plan_builders import ACCOUNT, edited, plan, seed_accounts

from .backup_support import second_database
from .fixtures import insert_one_of_everything

PASSWORD = "correct horse battery staple"


@pytest.fixture
def target_url(db_url: str, tmp_path: Path, request) -> Iterator[str]:
    with second_database(db_url, tmp_path, request) as url:
        yield url


@pytest.fixture
def target(target_url: str) -> Iterator[Engine]:
    eng = make_engine(target_url)
    yield eng
    eng.dispose()


@pytest.fixture
def backup_file(tmp_path: Path) -> Path:
    (tmp_path / "backups").mkdir()  # a backup never creates folders
    return tmp_path / "backups" / "accountops.backup"


def every_row(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every accountops table (but the run lock), in a stable order."""
    with engine.connect() as conn:
        return {
            t.name: sorted((tuple(row) for row in conn.execute(select(t))), key=repr)
            for t in metadata.sorted_tables
            if t.name != "run_lock"
        }


def test_round_trip_keeps_every_row_of_every_table(engine, target, backup_file):
    insert_one_of_everything(engine)
    before = every_row(engine)
    assert all(before.values()), "the fixture fills every table"
    upgrade(target)  # a database fresh from `accountops init` counts as empty

    made = backup_database(engine, backup_file)
    restored = restore_database(target, backup_file)

    assert every_row(target) == before
    assert current_revision(target) == head_revision() == made.revision == restored.revision
    assert restored.counts == made.counts and made.rows == sum(len(r) for r in before.values())
    assert restored.upgraded_from is None
    with target.connect() as conn:  # the lock named a run of the source, not of this one
        assert conn.scalar(select(func.count()).select_from(RunLock)) == 0


def test_the_restored_database_works_with_users_plans_and_decisions(engine, target, backup_file):
    people = seed_accounts(engine)
    with transaction(engine) as session:
        add_user(session, "jane.doe@example.com", Role.VIEWER, PASSWORD, actor="tests")
    planner, approver = people["planner"], people["approver"]
    first = create_plan(engine, planner, plan())
    save_plan(engine, planner, edited(first.plan, title="Grow it"), based_on=1)
    submit_plan(engine, planner, ACCOUNT, based_on=2)
    approved = approve_plan(engine, approver, ACCOUNT, based_on=3)

    backup_database(engine, backup_file)
    restore_database(target, backup_file)

    assert get_plan(target, ACCOUNT) == approved
    assert plan_history(target, ACCOUNT) == plan_history(engine, ACCOUNT)
    assert authenticate(target, "jane.doe@example.com", PASSWORD).role == Role.VIEWER
    # Keys and sequences came back too: the next save appends after the restored rows.
    draft = save_plan(target, planner, edited(approved.plan, title="Next year"), based_on=4)
    assert (draft.version, len(plan_history(target, ACCOUNT))) == (5, 5)
    with pytest.raises(DBAPIError, match="append-only"), target.begin() as conn:
        conn.execute(text("DELETE FROM plan_revision"))


def test_a_backup_while_another_connection_writes_is_consistent(engine, target, backup_file):
    """A writer commits pairs of audit rows, one pair per transaction, before, during and
    after the backup: the copy holds whole pairs 0..n-1, as of one moment."""
    stop, written = threading.Event(), [0]

    def write_pairs() -> None:
        while not stop.is_set():
            pair = {"actor": "writer", "action": "pair", "target_id": str(written[0])}
            with engine.begin() as conn:
                conn.execute(insert(AuditEvent), [pair, pair])
            written[0] += 1

    writer = threading.Thread(target=write_pairs)
    writer.start()
    try:
        _wait_until(lambda: written[0] >= 20)
        made = backup_database(engine, backup_file)
        at_backup = written[0]
        _wait_until(lambda: written[0] >= at_backup + 20)  # still writing afterwards
    finally:
        stop.set()
        writer.join()

    restore_database(target, backup_file)
    with target.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.target_id, func.count()).group_by(AuditEvent.target_id)
        ).all()
    pairs = sorted(int(pair) for pair, count in rows if count == 2)
    assert len(pairs) == len(rows), "a transaction was copied in part"
    assert pairs == list(range(len(pairs))) and 20 <= len(pairs) < written[0]
    assert made.counts["audit_event"] == 2 * len(pairs)


def test_restore_into_a_database_with_rows_is_refused_and_changes_nothing(
    engine, target, backup_file
):
    insert_one_of_everything(engine)
    backup_database(engine, backup_file)
    upgrade(target)
    with transaction(target) as session:
        add_user(session, "someone", Role.VIEWER, None, actor="tests")
    before = every_row(target)

    with pytest.raises(RestoreRefused, match=r"RESTORE_NOT_EMPTY.*rows in .*app_user"):
        restore_database(target, backup_file)
    assert every_row(target) == before and current_revision(target) == head_revision()


def test_a_backup_from_a_newer_schema_is_refused(engine, target, backup_file):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    made = backup_database(engine, backup_file)  # any schema is backed up
    assert made.revision == "9999_future"

    with pytest.raises(RestoreRefused, match="RESTORE_SCHEMA_NEWER") as refused:
        restore_database(target, backup_file)
    assert "9999_future" in str(refused.value) and f"schema {head_revision()}" in str(refused.value)
    assert inspect(target).get_table_names() == []


def _revision_before_head() -> str:
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config

    down = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


def test_an_older_backup_is_upgraded_after_the_restore(db_url, target, backup_file):
    previous = _revision_before_head()
    source = make_engine(db_url)
    try:
        upgrade(source, previous)
        with transaction(source) as session:
            session.add(Customer(customer_id="C-1", name="Acme", status=CustomerStatus.ACTIVE))
        made = backup_database(source, backup_file)
    finally:
        source.dispose()
    assert made.revision == previous

    restored = restore_database(target, backup_file)
    assert (restored.upgraded_from, restored.revision) == (previous, head_revision())
    assert current_revision(target) == head_revision()
    assert restored.counts["customer"] == 1


def test_a_cut_off_backup_is_refused_and_changes_nothing(engine, target, backup_file):
    insert_one_of_everything(engine)
    backup_database(engine, backup_file)
    data = backup_file.read_bytes()
    backup_file.write_bytes(data[: len(data) // 2])  # a copy that stopped half-way
    upgrade(target)

    with pytest.raises(RestoreRefused, match="BACKUP_UNREADABLE"):
        restore_database(target, backup_file)
    assert current_revision(target) == head_revision()
    assert not any(every_row(target).values())


def test_an_existing_file_is_kept_unless_forced(sqlite_url, backup_file):
    source = make_engine(sqlite_url)
    upgrade(source)
    backup_file.write_text("keep me")
    with pytest.raises(BackupRefused, match="BACKUP_EXISTS.*--force"):
        backup_database(source, backup_file)
    assert backup_file.read_text() == "keep me"
    assert backup_database(source, backup_file, force=True).backend == "sqlite"
    assert backup_file.read_bytes().startswith(b"SQLite format 3\x00")
    source.dispose()


def test_a_failed_backup_leaves_no_file(tmp_path):
    out = tmp_path / "accountops.backup"
    with pytest.raises(RuntimeError), staged_file(out, force=False) as staged:
        staged.write_bytes(b"half a backup")
        raise RuntimeError("the copy failed")
    assert list(tmp_path.iterdir()) == []


def _wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
