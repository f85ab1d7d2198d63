"""Where the database is, and commands that create nothing by accident (issue 21 item 4):
the default database does not follow the folder a command starts in; only ``init`` makes
one; ``--out`` never makes folders; ``dashboard`` checks its port before announcing it."""

from __future__ import annotations

import socket

import pytest

from tests.unit.test_cli import assert_one_line_error, data_dir, run_cli

READ_ONLY_COMMANDS = [
    ["batches"],
    ["quarantine", "list"],
    ["export", "tiers"],
    ["plan", "list"],
    ["roadmap", "suggestions"],
    ["user", "list"],
    ["dashboard", "--port", "1"],  # the database is checked before the port
    ["backup", "--out", "copy.db"],
    ["recompute"],
]


def _files_under(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_commands_other_than_init_never_create_a_database(tmp_path, args):
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli(*args, cwd=work)
    database = data_dir(work) / "accountops.db"
    assert_one_line_error(result, "[DB_MISSING]", str(database), "run `accountops init`")
    assert _files_under(work) == []  # no database, no data folder, no var/


def test_the_default_database_is_the_same_from_any_folder(tmp_path):
    home = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    init = run_cli("init", cwd=first, env=home)
    database = tmp_path / "xdg" / "accountops" / "accountops.db"
    assert init.returncode == 0, init.stderr
    assert f"in sqlite:///{database}" in init.stderr  # init says where the database is
    added = run_cli("user", "add", "ana", "--role", "viewer", "--oidc", cwd=first, env=home)
    assert added.returncode == 0, added.stderr
    listed = run_cli("user", "list", cwd=second, env=home)
    assert listed.returncode == 0, listed.stderr
    assert "ana" in listed.stdout  # the same database, seen from another folder
    assert _files_under(first) == _files_under(second) == []


def test_a_schema_not_current_names_the_database(tmp_path):
    data_dir(tmp_path).mkdir(parents=True)
    database = data_dir(tmp_path) / "accountops.db"
    database.touch()
    result = run_cli("batches", cwd=tmp_path)
    assert_one_line_error(result, "[SCHEMA_NOT_CURRENT]", str(database), "accountops init")


@pytest.mark.parametrize(
    "args",
    [
        ["export", "tiers", "--out", "missing/tiers.csv"],
        ["export", "tiers", "--format", "json", "--out", "missing/deeper/tiers.json"],
        ["backup", "--out", "missing/copy.db"],
        ["plan", "export", "C-1", "--out", "missing/plan.yaml"],
        ["sample", "--customers", "5", "--out", "missing/sample"],
    ],
    ids=lambda a: a[0] + ("-" + a[1] if a[0] == "plan" else ""),
)
def test_out_into_a_missing_folder_is_refused_and_creates_none(tmp_path, args):
    assert run_cli("init", cwd=tmp_path).returncode == 0
    before = _files_under(tmp_path)
    result = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(result, "[OUTPUT_NOT_WRITABLE]", "missing", "does not exist")
    assert not (tmp_path / "missing").exists()
    assert _files_under(tmp_path) == before


def test_sample_makes_its_own_folder_in_an_existing_one(tmp_path):
    result = run_cli("sample", "--customers", "5", "--years", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sample-data" / "customers.csv").exists()  # the documented default


def test_dashboard_on_a_busy_port_says_so_before_announcing_an_address(tmp_path):
    assert run_cli("init", cwd=tmp_path).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("dashboard", "--port", str(port), cwd=tmp_path)
    assert_one_line_error(result, "[PORT_IN_USE]", f"port {port}", "--port")
    assert "http://" not in result.stderr + result.stdout
