"""The one retry rule of every flow: transient database errors only."""

from __future__ import annotations


def retry_on_transient(task_, task_run, state) -> bool:
    """Retry when the database hiccupped (connection lost, lock timeout), never on a
    validation, rules or data error: those fail the same way every time."""
    from sqlalchemy.exc import OperationalError

    try:
        state.result()
    except OperationalError:
        return True
    except Exception:
        return False
    return False
