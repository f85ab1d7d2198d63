"""Stopping cleanly: SIGTERM or SIGINT ends an ``accountops`` command in order, and with it
every process the command started.

Without this, SIGTERM kills the command at once: no ``finally`` and no ``atexit`` runs, so
the Streamlit server of ``dashboard``/``demo`` and Prefect's temporary API server (started
by Prefect, stopped only by its own ``atexit`` hook) are left running as orphans.

``stopping_cleanly`` (around the console-script entry) turns either signal into
``Stopped``, an exception that unwinds the command like Ctrl+C would: Prefect marks the
flow run crashed while its server still answers, ``finally`` blocks and ``atexit`` hooks
run (Prefect's stops its temporary server), and a last hook stops whatever descendant
is still alive (SIGTERM, then SIGKILL after ``CHILD_GRACE_SECONDS``). ``Stopped``
derives from ``BaseException``, not ``KeyboardInterrupt``: Typer turns a
KeyboardInterrupt into a bare exit code, and ``except Exception`` must not swallow it.

Two guards keep "within a few seconds" true whatever the command was doing: a watchdog
that, ``STOP_DEADLINE_SECONDS`` after the signal, kills the descendants and exits (a
thread still writing, a server that does not answer); and a second signal, which does
the same at once.

The deadline does not hang on our Python handler being called: while a flow runs,
Prefect puts a SIGTERM handler of its own in ours' place, and a Python handler's
exception can be lost outright (one raised while the interpreter runs a weakref callback
or a ``__del__`` is printed as "Exception ignored" and dropped: the pipeline then ran to
its end). The signal module writes the number of every signal it catches to the
wake-up descriptor (``signal.set_wakeup_fd``) whichever handler is installed; a watcher
thread reads it there and starts the deadline. A second signal is counted by our
handler only: Prefect, once it has handled a SIGTERM, puts our handler back and sends
the signal again, which is the first our handler sees, not a second one.

``run_child`` starts a child (Streamlit) in a session of its own, so Ctrl+C in a terminal
reaches only this process, which then stops the child's whole process group itself.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

CHILD_GRACE_SECONDS = 3.0  # a child asked to stop gets this long before SIGKILL
STOP_DEADLINE_SECONDS = 6.0  # after the signal, the whole command gets this long
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """The command was asked to stop by ``signum``; exit code 128 + signum (130, 143)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped ({self.name})")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_first_signal: int | None = None  # the signal that started the stop
_handled = 0  # stop signals our handler was called for (the second one ends the process)
_deadline_started = False  # the watchdog runs
_command_done = False  # past the command: a signal now must not raise into exit hooks
_reported = False  # the one "stopped" line is printed
# Re-entrant: the handler runs in the main thread, which may hold it already.
_lock = threading.RLock()
_watching = False  # the watcher thread runs (one per process)


@contextlib.contextmanager
def stopping_cleanly() -> Iterator[None]:
    """Run a command so that SIGTERM or SIGINT stops it in order: one line, exit 128 +
    signum, every descendant stopped (see the module docstring)."""
    global _first_signal, _handled, _deadline_started, _command_done, _reported
    with _lock:
        _first_signal, _handled, _deadline_started = None, 0, False
        _command_done, _reported = False, False
    _watch_signals()
    for signum in SIGNALS:
        signal.signal(signum, _on_signal)
    # Registered before Prefect starts its server, so it runs after Prefect's own hook.
    atexit.register(stop_descendants)
    try:
        yield
    except Stopped as exc:
        _command_done = True
        report_stop(exc.signum)
        raise SystemExit(exc.exit_code) from None
    except SystemExit:
        # A library that turned the stop into an error of its own, or a handler that lost
        # it (the command then ended on its own, before the deadline): still a stop.
        if _first_signal is None:
            raise
        _ended_by_stop()
    else:
        if _first_signal is not None:
            _ended_by_stop()
    finally:
        _command_done = True


def _ended_by_stop() -> NoReturn:
    """The command ended after a stop was asked for (:data:`_first_signal`) without being
    stopped by it: it still ends as a stop does, line and exit code."""
    global _command_done
    assert _first_signal is not None
    _command_done = True
    report_stop(_first_signal)
    raise SystemExit(128 + _first_signal) from None


@contextlib.contextmanager
def leaving_quickly() -> Iterator[None]:
    """Run a command so that the process, once the command is over, exits without the
    interpreter's last garbage collections.

    At exit Python runs its cyclic garbage collector over every object still alive, more
    than once while it tears the modules down: after a pipeline (Prefect, Great
    Expectations, pandas, SQLAlchemy: some 440,000 objects) that took 3-4 s, a quarter of
    a night's run. Here the engines the command made close their pooled connections
    (SQLite folds its write-ahead log back into the database file when its last one
    closes; a connection left in a cycle would otherwise never be closed), then one
    collection runs (a few tenths of a second), so what the command left for the collector
    is finalised as before. Then ``gc.freeze`` moves every object left out of the
    collector's sight; their memory goes back with the process. ``atexit`` and Prefect's
    exit hooks (its log and event drains) still run, and the standard streams are still
    flushed."""
    try:
        yield
    finally:
        db = sys.modules.get("models.db")  # never imported here: --help stays light
        if db is not None:
            db.dispose_engines()
        gc.collect()
        gc.freeze()


def report_stop(signum: int) -> None:
    """The one line a stopped command ends with (printed once, whoever stops first)."""
    global _reported
    with _lock:
        if _reported:
            return
        _reported = True
        with contextlib.suppress(Exception):
            print(f"accountops: stopped ({signal.Signals(signum).name})", file=sys.stderr)
            sys.stderr.flush()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Our Python handler: the first signal unwinds the command, a second one ends the
    process at once. (The deadline is started by the watcher, which sees every signal.)"""
    global _first_signal, _handled
    with _lock:
        if _first_signal is None:
            _first_signal = signum
        _handled += 1
        first, handled = _first_signal, _handled
    _start_deadline(128 + first)  # also here: where there is no wake-up descriptor
    if handled > 1:  # a second signal: stop now
        _force_exit(128 + first)
    if not _command_done:
        raise Stopped(signum)
    # Already exiting (exit hooks are running): the watchdog bounds how long that takes.


def _watch_signals() -> None:
    """Start, once per process, the thread that reads the signal numbers the signal module
    writes to the wake-up descriptor."""
    global _watching
    if _watching:
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)  # the signal module never blocks on a full buffer
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    _watching = True
    threading.Thread(
        target=_watch, args=(reader, writer), name="accountops-signal-watcher", daemon=True
    ).start()


def _watch(reader: socket.socket, writer: socket.socket) -> None:
    # ``writer`` is kept referenced here: closing it would close the wake-up descriptor.
    while data := reader.recv(64):
        for signum in data:
            if signum in SIGNALS:
                _start_deadline(128 + signum)
    writer.close()


def _start_deadline(code: int) -> None:
    """Start the watchdog once per stop: exit with ``code`` (that of the first signal)
    ``STOP_DEADLINE_SECONDS`` from now unless the command has ended by then."""
    global _first_signal, _deadline_started
    with _lock:
        if _deadline_started:
            return
        _deadline_started = True
        if _first_signal is None:
            _first_signal = code - 128
        code = 128 + _first_signal
    threading.Thread(
        target=_watchdog, args=(code,), name="accountops-stop-watchdog", daemon=True
    ).start()


def _watchdog(code: int) -> None:
    time.sleep(STOP_DEADLINE_SECONDS)
    _force_exit(code)


def _force_exit(code: int) -> None:
    stop_descendants(grace=0.5)
    report_stop(code - 128)
    os._exit(code)


def run_child(args: Sequence[str], env: dict[str, str]) -> int:
    """Run ``args`` in a session of its own until it exits; return its exit code. If this
    process is stopped (or anything else interrupts the wait), stop the child's process
    group first."""
    if _first_signal is not None:  # a stop swallowed on the way here: start nothing new
        raise Stopped(_first_signal)
    # A fixed argument list from our own code, no shell.
    child = subprocess.Popen(args, env=env, start_new_session=True)  # noqa: S603
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            stop_group(child)


def stop_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group ``child`` leads; SIGKILL it if still alive after the grace."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    # Grandchildren of the group may outlive its leader by a moment.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def stop_descendants(grace: float | None = None) -> None:
    """SIGTERM every live descendant of this process, SIGKILL those left after ``grace``
    seconds (default ``CHILD_GRACE_SECONDS``)."""
    pids = descendants(os.getpid())
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + (CHILD_GRACE_SECONDS if grace is None else grace)
    while (alive := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in alive:
        _signal(pid, signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """The live processes below ``pid`` (children, their children, ...), read from /proc;
    an empty list where there is no /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None and stat[0] != "Z":
            children.setdefault(stat[1], []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces: the fields follow its last ")".
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)
