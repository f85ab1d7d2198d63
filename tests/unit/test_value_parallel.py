"""The recompute's performance plumbing (models/value/parallel.py): the garbage
collector's settings for a run are undone after it, however runs overlap."""

from __future__ import annotations

import gc
import threading

import pytest

from models.value.parallel import collector_spared


@pytest.fixture(autouse=True)
def _nothing_frozen():
    """Objects another test froze (a command run in-process freezes what it leaves: see
    flows/processes.py) made collectable again: each test starts from a plain process."""
    gc.unfreeze()


def test_the_collector_is_as_it_was_after_a_run():
    before = gc.get_threshold()
    with collector_spared():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > before[0]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_overlapping_runs_in_threads_undo_it_once_the_last_ends():
    """Two runs in two threads, the first ending while the second goes on: the second
    keeps the settings, and once it ends the process is as it was."""
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second():
        first_in.wait()
        with collector_spared():
            second_in.set()
            first_out.wait()
            seen["threshold while alone"] = gc.get_threshold()[0]

    thread = threading.Thread(target=second)
    thread.start()
    with collector_spared():
        first_in.set()
        assert second_in.wait(10)
    first_out.set()
    thread.join(10)
    assert seen["threshold while alone"] > before[0]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_objects_frozen_by_the_process_itself_are_left_alone():
    gc.freeze()
    try:
        before = gc.get_threshold()
        with collector_spared():
            assert gc.get_threshold() == before
        # Still frozen (some frozen objects may have been freed meanwhile).
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
