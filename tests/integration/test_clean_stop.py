"""Stopping is clean: SIGTERM or SIGINT to ``accountops dashboard``, ``demo`` or ``pipeline``
ends the command within seconds together with every process it started (Streamlit,
Prefect's temporary API server), and frees their ports.

Each test starts the real command in a session of its own on a fresh SQLite database and
its own Prefect home, records the command's descendants from /proc until it signals, then
checks: exit code 128 + signum, the one ``accountops: stopped (...)`` line and no
traceback, no recorded descendant alive, every port refusing connections. Whatever
happens, the fixture kills what is left (the command's group and every recorded process).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from models.sampledata import generate_sample

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc"),
]

ACCOUNTOPS = [sys.executable, "-m", "flows.cli"]
START_SECONDS = 300  # a first Prefect server on a loaded 2-core machine is slow to come up
STOP_SECONDS = 15  # the command takes 2-7 s; room for a loaded machine
PREFECT_PORT = re.compile(r"Starting temporary server on http://127\.0\.0\.1:(\d+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) from /proc, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class Command:
    """A running ``accountops`` command, its output file and every descendant seen."""

    proc: subprocess.Popen[bytes]
    log: Path
    seen: dict[int, str] = field(default_factory=dict)  # pid -> command line

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def watch(self) -> None:
        for pid in _descendants(self.proc.pid):
            if pid not in self.seen and (cmd := _cmdline(pid)):
                self.seen[pid] = cmd

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not ready():
            self.watch()
            if self.proc.poll() is not None:
                pytest.fail(f"exited ({self.proc.returncode}) before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {START_SECONDS} s:\n{self.output()}")
            time.sleep(0.1)
        self.watch()

    def logged(self, pattern: str) -> bool:
        return re.search(pattern, self.output()) is not None

    def prefect_port(self) -> int:
        found = PREFECT_PORT.search(self.output())
        assert found, f"no Prefect temporary server in:\n{self.output()}"
        return int(found.group(1))

    def seen_running(self, fragment: str) -> list[int]:
        return [pid for pid, cmd in self.seen.items() if fragment in cmd]


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory) -> Path:
    """One Prefect home for the module: its database is migrated once, by the first server."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture
def env(tmp_path, prefect_home) -> dict[str, str]:
    """A fresh database and data folder; no PREFECT_API_URL, so Prefect starts its own server."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY"):
        base.pop(name, None)
    return base | {
        "ACCOUNTOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'accountops.db'}",
        "ACCOUNTOPS_DATA_DIR": str(tmp_path / "var"),
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }


@pytest.fixture
def start(tmp_path, env) -> Iterator[Callable[..., Command]]:
    """Start ``accountops ARGS...`` in a session of its own; kill all it left at teardown."""
    started: list[Command] = []

    def run(*args: str) -> Command:
        log = tmp_path / f"{args[0]}-{len(started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*ACCOUNTOPS, *args],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        command = Command(proc, log)
        started.append(command)
        return command

    yield run
    for command in started:
        if command.proc.poll() is None:
            command.watch()
        for pid in [command.proc.pid, *command.seen]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # the groups of the command and of Streamlit
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            command.proc.wait(timeout=10)


def _init(env: dict[str, str], cwd: Path) -> None:
    subprocess.run([*ACCOUNTOPS, "init"], cwd=cwd, env=env, check=True, capture_output=True)


def _stop(command: Command, signum: int, *, group: bool = False) -> None:
    """Send ``signum`` to the command (or, as Ctrl+C in a terminal does, to its group)."""
    command.watch()
    if group:
        os.killpg(command.proc.pid, signum)
    else:
        command.proc.send_signal(signum)


def assert_stopped_cleanly(command: Command, signum: int, ports: list[int]) -> None:
    try:
        code = command.proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_SECONDS} s after the signal:\n{command.output()}")
    out = command.output()
    name = signal.Signals(signum).name
    assert code == 128 + signum, out
    assert out.count(f"accountops: stopped ({name})") == 1, out
    assert "Traceback" not in out, out
    deadline = time.monotonic() + 2  # a process SIGKILLed at the very end is gone at once
    while (left := [p for p in command.seen if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, {p: command.seen[p] for p in left}
    for port in ports:
        assert not _answers(port), f"port {port} still answers"


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sigterm", "ctrl-c-to-the-group"],
)
def test_dashboard_stops_with_its_streamlit_server(start, env, tmp_path, signum, group):
    _init(env, tmp_path)
    port = _free_port()
    command = start("dashboard", "--port", str(port))
    command.wait_until(lambda: _healthy(port), "dashboard answering")
    assert command.seen_running("streamlit run"), command.seen

    _stop(command, signum, group=group)

    assert_stopped_cleanly(command, signum, [port])


def test_pipeline_stopped_mid_run_stops_prefects_temporary_server(start, env, tmp_path):
    _init(env, tmp_path)
    sample = tmp_path / "sample"
    generate_sample(sample, customers=40, years=1, seed=7, end_date=date(2026, 9, 30))
    command = start("pipeline", str(sample))
    # The temporary server is up and the flow is running: its ingest has begun (not yet
    # a batch: on a loaded machine the 3 s between the first batch and the pipeline's end
    # passed before the signal was sent).
    command.wait_until(lambda: command.logged(r"subflow run .* for flow 'ingest'"), "ingest begun")
    assert command.seen_running("prefect.server.api.server:create_app"), command.seen
    prefect_port = command.prefect_port()

    _stop(command, signal.SIGTERM)

    assert_stopped_cleanly(command, signal.SIGTERM, [prefect_port])


def test_demo_stopped_once_the_dashboard_answers(start, tmp_path):
    port = _free_port()
    command = start("demo", "--port", str(port), "--customers", "40")
    command.wait_until(lambda: _healthy(port), "dashboard answering")
    # The pipeline's temporary Prefect server is still up behind the dashboard.
    assert command.seen_running("prefect.server.api.server:create_app"), command.seen
    assert command.seen_running("streamlit run"), command.seen
    prefect_port = command.prefect_port()

    _stop(command, signal.SIGTERM)

    assert_stopped_cleanly(command, signal.SIGTERM, [port, prefect_port])


def test_demo_stopped_by_ctrl_c_while_its_pipeline_runs(start, tmp_path):
    """Ctrl+C reaches the whole group, Prefect's server included, which stops at once: the
    command then cannot report to it, and the stop deadline ends the wait."""
    port = _free_port()
    command = start("demo", "--port", str(port), "--customers", "40")
    command.wait_until(
        lambda: command.logged(r"Beginning flow run '[^']+' for flow 'pipeline'"),
        "pipeline under way",
    )
    prefect_port = command.prefect_port()

    _stop(command, signal.SIGINT, group=True)

    assert_stopped_cleanly(command, signal.SIGINT, [port, prefect_port])
    assert not command.seen_running("streamlit run"), "the dashboard started after the signal"
