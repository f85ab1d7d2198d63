"""flows/processes.py on small scripts: a stop leaves no child, even a child that ignores
SIGTERM, a command that swallows the stop, a second signal, or a signal while exiting.
(tests/integration/test_clean_stop.py signals the real commands.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flows.processes import descendants

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

ROOT = Path(__file__).resolve().parents[2]

# A command under stopping_cleanly: a child in its own session (run_child, in a thread so
# the main thread can do as the test says) and a child Popen'd plainly, as Prefect does.
SCRIPT = """
import subprocess, sys, threading, time
from flows import processes
processes.CHILD_GRACE_SECONDS = 0.5
processes.STOP_DEADLINE_SECONDS = 2.0
SLEEPER = [sys.executable, "-c", {sleeper!r}]
with processes.stopping_cleanly():
    plain = subprocess.Popen(SLEEPER)
    threading.Thread(target=processes.run_child, args=(SLEEPER, {{}}), daemon=True).start()
    {body}
"""
SLEEP = "import time; time.sleep(120)"
DEAF = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
WAIT = "time.sleep(120)"


def _start(body: str, sleeper: str = SLEEP) -> subprocess.Popen[str]:
    code = SCRIPT.format(sleeper=sleeper, body=textwrap.indent(body, "    ").strip())
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while len(descendants(proc.pid)) < 2:  # both children started
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.05)
    time.sleep(0.3)  # the children's interpreters are up (and the deaf one ignores SIGTERM)
    return proc


def _left(children: list[int]) -> list[int]:
    """The children still running (not zombies) after a moment for a last SIGKILL to land."""
    deadline = time.monotonic() + 2
    while (left := [p for p in children if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def _stopped(proc: subprocess.Popen[str], signum: int, children: list[int]) -> str:
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        raise
    left = _left(children)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, err
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err, err
    assert err.count(f"accountops: stopped ({signal.Signals(signum).name})") == 1, err
    return err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_command_and_its_children(signum):
    proc = _start(WAIT)
    children = descendants(proc.pid)
    proc.send_signal(signum)
    _stopped(proc, signum, children)


def test_a_child_that_ignores_sigterm_is_killed():
    proc = _start(WAIT, sleeper=DEAF)
    children = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _stopped(proc, signal.SIGTERM, children)


def test_a_command_that_swallows_the_stop_is_ended_by_the_deadline():
    proc = _start("try:\n    time.sleep(120)\nexcept BaseException:\n    time.sleep(120)")
    children = descendants(proc.pid)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _stopped(proc, signal.SIGTERM, children)
    assert time.monotonic() - started >= 1.8  # not before the deadline (2 s here)


@pytest.mark.parametrize(
    "after_the_stop",
    ["raise SystemExit(1)", "processes.run_child(SLEEPER, {})"],
    ids=["turned-into-an-error", "then-starts-a-child"],
)
def test_a_stop_a_library_swallowed_is_still_a_stop(after_the_stop):
    proc = _start(f"try:\n    time.sleep(120)\nexcept BaseException:\n    pass\n{after_the_stop}")
    children = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _stopped(proc, signal.SIGTERM, children)


def _stopped_with_a_lost_handler(work: str) -> float:
    """Seconds from a SIGTERM to the end of a command doing ``work`` whose SIGTERM handler
    was replaced by one that drops it, as while a Prefect flow runs (Prefect's exception,
    raised in a weakref callback, was "Exception ignored"); the command ended as stopped."""
    lost = (
        "import signal\ndef lost(signum, frame):\n    pass\nsignal.signal(signal.SIGTERM, lost)\n"
    )
    proc = _start(lost + work)
    children = descendants(proc.pid)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _stopped(proc, signal.SIGTERM, children)
    return time.monotonic() - started


def test_a_stop_whose_handler_was_replaced_and_lost_is_ended_by_the_deadline():
    # The command goes on after the lost signal: the deadline (2 s here) ends it.
    assert _stopped_with_a_lost_handler("time.sleep(120)") >= 1.8


def test_a_stop_whose_handler_was_lost_is_a_stop_when_the_command_ends_before_the_deadline():
    # The command's work ends on its own, before the deadline (a small pipeline near its
    # end): still the stop's exit code and line, not 0.
    assert _stopped_with_a_lost_handler("time.sleep(1.2)") < 1.8


def test_a_signal_a_library_handles_and_sends_again_is_one_stop_in_order():
    # As Prefect does while a flow runs: its handler takes the SIGTERM, puts ours back
    # and sends the signal again. That is one stop (unwound: finally blocks run), not two.
    body = (
        "import os, signal\n"
        "ours = signal.getsignal(signal.SIGTERM)\n"
        "def library(signum, frame):\n"
        "    signal.signal(signal.SIGTERM, ours)\n"
        "    os.kill(os.getpid(), signum)\n"
        "signal.signal(signal.SIGTERM, library)\n"
        "try:\n"
        "    time.sleep(120)\n"
        "finally:\n"
        "    time.sleep(0.5)\n"  # unwinding takes a while (within the deadline, 2 s here)
        "    print('unwound', file=sys.stderr)"
    )
    proc = _start(body)
    children = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    err = _stopped(proc, signal.SIGTERM, children)
    assert "unwound" in err, err


def test_a_second_signal_stops_at_once():
    proc = _start("try:\n    time.sleep(120)\nexcept BaseException:\n    time.sleep(120)")
    children = descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _stopped(proc, signal.SIGINT, children)


def test_a_signal_while_exiting_raises_nothing_into_the_exit_hooks():
    # The command is done; an exit hook (as Prefect's, stopping its server) takes a while.
    body = "import atexit\natexit.register(time.sleep, 1.5)\nprint('done', file=sys.stderr)"
    proc = _start(body)
    children = descendants(proc.pid)
    assert proc.stderr is not None
    assert proc.stderr.readline().strip() == "done"
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err  # the command had finished
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert not _left(children), err


def test_leaving_quickly_keeps_exit_hooks_and_code_and_skips_the_last_collections():
    # The command's objects are frozen (the interpreter's teardown skips them), yet the
    # exit hooks still run and the exit code is the command's.
    script = textwrap.dedent(
        """
        import atexit, gc, sys
        from flows.processes import leaving_quickly
        atexit.register(lambda: print("hook ran", gc.get_freeze_count() > 0, flush=True))
        with leaving_quickly():
            sys.exit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == "hook ran True", done.stderr


def test_the_command_line_leaves_quickly():
    script = (
        "import gc, sys; from flows.cli import main; sys.argv = ['accountops', '--help']\n"
        "try:\n    main()\nfinally:\n    print('frozen', gc.get_freeze_count() > 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("frozen True"), done.stdout
