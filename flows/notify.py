"""Run notifications: a failed run, or an ingest that quarantined rows, sends one message.

The message names the run (flow, run name and id, a link to it in the Prefect UI when
the UI's address is known), the step that failed, the reason and the counts (batches
committed and refused, rows loaded and quarantined per batch). It goes through a Prefect
block the organisation saves and names in ``ACCOUNTOPS_NOTIFY_BLOCK`` as
``<block type slug>/<block name>``: any notification block (``custom-webhook``, Slack,
Microsoft Teams, email...) gets ``notify(body, subject)``; a ``webhook`` block gets the
message as a JSON document. No block named: no message, and nothing is asked of Prefect.

The hooks go on the flows' decorators (``on_failure``, ``on_crashed``, ``on_completion``).
A flow run that is a step of a parent run (ingest and recompute inside ``pipeline``)
stays silent and the parent reports, so one event sends one message: a parent flow that
calls these flows must carry the hooks itself. A hook never raises and never changes the
run's outcome: a message that cannot be sent is a warning in the run's log.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.ingest.result import NOT_LOADED

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun
    from prefect.states import State

REFUSED = NOT_LOADED  # refused by its checks, or failed on the way


@dataclass(frozen=True)
class RunNotice:
    """What one message says about one run."""

    flow: str
    run_name: str
    run_id: str
    url: str | None
    state: str  # the run's final state: Failed, Crashed or Completed
    step: str
    reason: str
    batches: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Batches committed and refused, rows loaded and quarantined, over all batches."""
        return {
            "batches": len(self.batches),
            "batches_committed": sum(b.get("outcome") == "LOADED" for b in self.batches),
            "batches_refused": sum(b.get("outcome") in REFUSED for b in self.batches),
            "rows_loaded": sum(int(b.get("rows_loaded") or 0) for b in self.batches),
            "rows_quarantined": sum(int(b.get("rows_quarantined") or 0) for b in self.batches),
        }

    def subject(self) -> str:
        what = "failed" if self.state != "Completed" else "quarantined rows"
        return f"accountops: {self.flow} run {self.run_name} {what} at {self.step}"

    def text(self) -> str:
        """The message as plain lines, for chat and mail."""
        c = self.counts()
        lines = [
            f"Run: {self.flow} / {self.run_name} ({self.run_id}), {self.state}",
            *([f"Link: {self.url}"] if self.url else []),
            f"Step: {self.step}",
            f"Reason: {self.reason}",
            f"Batches: {c['batches_committed']} committed, {c['batches_refused']} refused "
            f"of {c['batches']}; rows: {c['rows_loaded']} loaded, "
            f"{c['rows_quarantined']} quarantined",
        ]
        lines += [f"- {_batch_line(b)}" for b in self.batches]
        lines += [f"{s['step']}: {s['outcome']} ({s['detail']})" for s in self.steps]
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        """The message as one JSON document, for a ``webhook`` block."""
        return {
            "subject": self.subject(),
            "flow": self.flow,
            "flow_run_name": self.run_name,
            "flow_run_id": self.run_id,
            "url": self.url,
            "state": self.state,
            "step": self.step,
            "reason": self.reason,
            "counts": self.counts(),
            "batches": [_batch_counts(b) for b in self.batches],
            "steps": self.steps,
            "text": self.text(),
        }


BATCH_FIELDS = (
    "file",
    "entity",
    "outcome",
    "batch_id",
    "rows_read",
    "rows_loaded",
    "rows_updated",
    "rows_quarantined",
    "rows_rejected",
    "error_code",
    "message",
)


def _batch_counts(b: dict[str, Any]) -> dict[str, Any]:
    return {k: b.get(k) for k in BATCH_FIELDS}


def _batch_line(b: dict[str, Any]) -> str:
    code = f" [{b['error_code']}]" if b.get("error_code") else ""
    return (
        f"{b.get('file')}: {b.get('outcome')}{code}, {b.get('rows_loaded') or 0} loaded, "
        f"{b.get('rows_quarantined') or 0} quarantined, {b.get('rows_rejected') or 0} rejected"
    )


def _outcome(state: State[Any]) -> Any:
    """What the run returned (its state's data), or None when it cannot be read."""
    try:
        return state.result(raise_on_failure=False)
    except Exception:
        return None


def build_notice(flow_name: str, flow_run: FlowRun, state: State[Any]) -> RunNotice:
    """The message about ``flow_run`` ending in ``state``.

    The pipeline returns ``{"steps", "batches"}`` and names the failed step in its steps;
    ingest returns its batches; any other run (or one that raised) is its own step."""
    from prefect.utilities.urls import url_for

    data = _outcome(state)
    steps = data.get("steps", []) if isinstance(data, dict) else []
    batches = data.get("batches", []) if isinstance(data, dict) else data
    batches = [b for b in batches if isinstance(b, dict)] if isinstance(batches, list) else []
    reason = state.message or state.name or state.type.value
    if state.is_completed():
        bad = [b for b in batches if b.get("rows_quarantined")]
        rows = sum(int(b["rows_quarantined"]) for b in bad)
        step = "ingest"
        reason = f"{rows} row(s) quarantined in {len(bad)} batch(es); the other rows loaded"
    else:
        step = next((s["step"] for s in steps if s.get("outcome") == "failed"), flow_name)
        reason = reason.removeprefix(f"{step} failed: ")
    try:
        url = url_for(flow_run)
    except Exception:
        url = None
    return RunNotice(
        flow=flow_name,
        run_name=flow_run.name,
        run_id=str(flow_run.id),
        url=url,
        state=state.name or state.type.value,
        step=step,
        reason=reason,
        batches=batches,
        steps=steps,
    )


async def _deliver(block_name: str, notice: RunNotice) -> None:
    from prefect.blocks.abstract import NotificationBlock
    from prefect.blocks.core import Block
    from prefect.blocks.webhook import Webhook

    block: Block = await Block.aload(block_name)
    if isinstance(block, Webhook):
        response = await block.call(notice.payload())
        response.raise_for_status()
    elif isinstance(block, NotificationBlock):
        # Prefect's blocks pick sync or async ``notify`` from the run's context, which here
        # is the sync flow's, so the async one is asked for by name where it exists.
        notify = getattr(block, "anotify", block.notify)
        with block.raise_on_failure():  # Apprise blocks only log a failed send otherwise
            sent = notify(notice.text(), notice.subject())
            if inspect.isawaitable(sent):
                await sent
    else:
        raise TypeError(f"{type(block).__name__} is neither a notification nor a webhook block")


def send(block_name: str, notice: RunNotice) -> None:
    """Send ``notice`` through the saved block ``block_name`` (raises when it cannot)."""
    from prefect.utilities.asyncutils import run_coro_as_sync

    run_coro_as_sync(_deliver(block_name, notice))


def _report(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any], quarantine: bool) -> None:
    from prefect.logging.loggers import flow_run_logger

    logger = flow_run_logger(flow_run, flow)
    try:
        from models.settings import Settings

        block_name = Settings().notify_block
        if not block_name or flow_run.parent_task_run_id is not None:
            return  # nothing configured, or a step of a parent run, which reports itself
        notice = build_notice(flow.name, flow_run, state)
        if quarantine and not notice.counts()["rows_quarantined"]:
            return
        send(block_name, notice)
        logger.info("notification sent through %s", block_name)
    except Exception as exc:  # a hook never raises: the run's outcome stays what it was
        logger.warning("notification not sent: %s: %s", type(exc).__name__, exc)


def notify_failure(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """Flow hook (``on_failure``, ``on_crashed``): one message about the failed run."""
    _report(flow, flow_run, state, quarantine=False)


def notify_quarantine(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """Flow hook (``on_completion``): one message when the run loaded batches but kept
    some of their rows in quarantine; a clean run sends nothing."""
    _report(flow, flow_run, state, quarantine=True)
