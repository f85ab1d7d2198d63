"""What every executive page shares: the snapshot it reads, cached reads, provenance, empty state.

Reads are cached with ``st.cache_data`` keyed on the latest refreshed snapshot id, which is
looked up (one indexed query) on every run: a new pipeline run shows at the next click,
without a restart, and a cache entry never outlives the snapshot it was read for.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st
from app_pages.data import database_url, engine, status
from app_pages.session import require_page

from dashboards.formatting import DASH, count, literal, number
from models.access import Action, Identity, book_of, can
from models.dashboard import data_health, read

# A bound on memory, not on freshness: entries are keyed on the snapshot id already.
CACHE_TTL_SECONDS = 600
# The latest batches are not tied to a snapshot: a refusal shows within this many seconds.
LATEST_BATCH_TTL_SECONDS = 30
DATA_HEALTH_PAGE = "app_pages/data_health.py"
ENTITY_LABELS = {"invoice_lines": "invoices", "payments": "payments", "customers": "customers"}


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=96, show_spinner=False)
def cached(name: str, url: str, snapshot_id: int, *args, **kwargs):
    """``models.dashboard.read.<name>(engine, snapshot_id, *args, **kwargs)``, cached per
    snapshot and per argument (``book`` among them: one manager's book is never served
    from another reader's entry)."""
    return getattr(read, name)(engine(url), snapshot_id, *args, **kwargs)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=16, show_spinner=False)
def cached_provenance(url: str, snapshot_id: int) -> data_health.Provenance:
    return data_health.provenance(engine(url), snapshot_id)


@st.cache_data(ttl=LATEST_BATCH_TTL_SECONDS, max_entries=4, show_spinner=False)
def cached_latest_refused(url: str) -> pd.DataFrame:
    return data_health.latest_refused(engine(url))


def refusals(p: data_health.Provenance, latest: pd.DataFrame) -> list[str]:
    """What the figures lack: batches refused since the previous snapshot, and each entity
    whose latest delivery was refused (also after this snapshot: then no snapshot has it)."""
    out = []
    if len(p.refused):
        out.append(
            f"{len(p.refused)} batch(es) were refused since the previous snapshot; their rows "
            "are not in these figures."
        )
    seen = set(p.refused["batch_id"]) if len(p.refused) else set()
    for r in latest.to_dict("records"):
        if r["batch_id"] in seen:
            continue
        status = getattr(r["status"], "value", r["status"])
        what = ENTITY_LABELS.get(r["entity"], r["entity"].replace("_", " "))
        out.append(
            f"The latest {literal(what)} file, batch {r['batch_id']} "
            f"({literal(r['file_name'] or r['entity'])}), was {status}: its rows are in no "
            "snapshot."
        )
    return out


def _when(value) -> str:
    if value is None:
        return "unknown"
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    age = datetime.now(UTC) - value
    hours = age.total_seconds() / 3600
    ago = (
        number(hours * 60, unit=" min ago")
        if hours < 1
        else (number(hours, unit=" h ago") if hours < 48 else number(hours / 24, unit=" days ago"))
    )
    return f"{value:%d %b %Y %H:%M} UTC ({ago})"


class PageContext:
    """The signed-in identity, the snapshot read, its headline and its provenance."""

    def __init__(self, identity: Identity, url: str, snapshot_id: int) -> None:
        self.identity, self.url, self.snapshot_id = identity, url, snapshot_id
        # Whose customers this reader sees (None: all); the read models filter by it.
        self.book = book_of(identity)
        self.head = cached("headline", url, snapshot_id)
        self.currency = self.head["currency"]
        self.prov = cached_provenance(url, snapshot_id)

    def read(self, name: str, *args):
        """A read model of this snapshot; those of ``read.SCOPED`` only of this reader's book."""
        if name in read.SCOPED:
            return cached(name, self.url, self.snapshot_id, *args, book=self.book)
        return cached(name, self.url, self.snapshot_id, *args)

    def flag(self, *entities: str) -> None:
        """Beside a figure: say so when a batch feeding it had quarantined rows or was refused."""
        for line in self.prov.warnings_for(*entities):
            st.caption(f":orange[:material/warning: {literal(line)}]")


def platform_status() -> None:
    """The first-run view: what the database holds and the one command that fills it."""
    current = status(database_url())
    st.title("accountops")
    st.caption("Key-account operations: customer value, receivables and strategic-account plans.")
    if current.revision is None:
        st.warning(
            "The database has no schema yet. Run `accountops init` (or `python3 dev.py demo`)."
        )
        st.stop()
    cols = st.columns(4)
    cols[0].metric("Customers", f"{current.customers:,}")
    cols[1].metric("Invoice lines", f"{current.invoice_lines:,}")
    cols[2].metric("Ingested batches", f"{current.batches:,}")
    cols[3].metric("Snapshots", f"{current.snapshots:,}")


def start(
    title: str,
    subtitle: str,
    action: Action = Action.VIEW_DASHBOARD,
    *,
    first_run: bool = False,
) -> PageContext:
    """Check the role, draw the title and provenance; stop with what to do when no data exists.

    ``first_run``: when nothing is published yet, show the platform status instead of the
    page's title (the landing page does this).
    """
    identity = require_page(action, title)
    url = database_url()
    try:
        sid = read.latest_snapshot_id(engine(url))
    except Exception:  # no schema yet: the tables do not exist
        sid = None
    if sid is None and first_run:
        platform_status()
    else:
        st.title(title)
        st.caption(subtitle)
    if sid is None:
        try:
            complete = read.latest_complete_snapshot_id(engine(url))
        except Exception:  # no schema yet
            complete = None
        if complete is not None:
            st.info(
                f"Snapshot {complete} is computed but its dashboard tables are not written yet. "
                "Run `accountops pipeline` (ingest -> recompute -> refresh) to publish it.",
                icon=":material/hourglass_empty:",
            )
        else:
            st.info(
                "No data loaded yet. Load data and compute a snapshot with "
                "`accountops pipeline PATH...` (or try it on sample data with "
                "`python3 dev.py demo`), then reload this page.",
                icon=":material/info:",
            )
        st.stop()
    ctx = PageContext(identity, url, sid)
    provenance_bar(ctx)
    return ctx


def provenance_bar(ctx: PageContext) -> None:
    """Snapshot, run, freshness and batch quality, in one line plus a detail panel."""
    p, h = ctx.prov, ctx.head
    run = f"flow run {p.flow_run_id[:8]}…" if p.flow_run_id else "a run outside Prefect"
    batches = len(p.batches)
    quality = (
        f"{batches} batches, {count(p.quarantined_rows)} rows quarantined"
        if p.quarantined_rows
        else f"{batches} batches, all rows passed validation"
    )
    st.caption(
        f":material/verified: Snapshot **{p.snapshot_id}**, as of **{p.as_of:%d %b %Y}** · "
        f"computed {_when(p.computed_at)} by {run} · published {_when(h['refreshed_at'])} · "
        f"data loaded {_when(p.latest_load)} · {quality}"
    )
    problems = refusals(p, cached_latest_refused(ctx.url))
    if problems:
        st.warning(" ".join(problems), icon=":material/report:")
    if problems or p.quarantined_rows:
        if can(ctx.identity.role, Action.VIEW_DATA_HEALTH):
            st.page_link(
                DATA_HEALTH_PAGE, label="See Data health", icon=":material/health_and_safety:"
            )
        else:
            st.caption("A data steward or an admin can see the details on Data health.")
    with st.expander("Where these numbers come from"):
        if batches:
            frame = p.batches[
                ["batch_id", "entity", "file_name", "status", "rows_loaded", "rows_quarantined"]
            ].copy()
            frame["status"] = frame["status"].map(lambda v: getattr(v, "value", v))
            st.dataframe(frame, hide_index=True, placeholder=DASH, width="stretch")
        else:
            st.write("This snapshot names no batches.")
