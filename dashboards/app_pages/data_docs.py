"""Data Docs: one batch's Great Expectations validation page, as the data team reads it.

Reached from the batch rows of Data health (``?batch=<id>``). The page is the static HTML
each ingest writes under ``<data_dir>/data_docs/``; it is shown inline (``st.iframe`` of
its HTML, scripts removed: the frame runs with the app's origin) behind the same sign-in
and role as Data health, not served as a static file: Streamlit's static serving answers
anyone who can reach the server, and a page shows sample values of the rows that broke a
rule. The download is the page whole, scripts included, to open in a browser.
"""

import streamlit as st
from app_pages.data import database_url, engine, settings
from app_pages.session import require_page

from models.access import Action, book_of, can, record
from models.dashboard import data_health
from models.ingest.data_docs import data_docs_root, page_without_scripts, published_pages

TITLE = "Data Docs"
identity = require_page(Action.VIEW_DATA_HEALTH, TITLE)
st.title(TITLE)
if book_of(identity) is not None:
    # A page shows sample values of the rows that broke a rule: any manager's customers.
    st.info(
        "Data Docs show sample rows of any customer: they are for the data stewards. "
        "Data health shows what each batch kept out, in counts.",
        icon=":material/info:",
    )
    st.stop()
root = data_docs_root(settings().data_dir)
pages = published_pages(root)
if not pages:
    st.info(
        f"No Data Docs yet. Each ingest writes its batch's validation page under `{root}` "
        "(the newest `ingest.data_docs_keep` are kept): load a file, then come back.",
        icon=":material/info:",
    )
    st.stop()

eng = engine(database_url())
batches = data_health.recent_batches(eng, limit=500).set_index("batch_id")
asked = st.query_params.get("batch")
ids = sorted(pages, reverse=True)
if asked is not None and (not asked.isdigit() or int(asked) not in pages):
    st.warning(
        f"Batch {asked} has no Data Docs here: only the newest validated batches keep "
        "theirs (`ingest.data_docs_keep`), and a batch refused before validation has none.",
        icon=":material/warning:",
    )


def _label(batch_id: int) -> str:
    if batch_id not in batches.index:
        return f"Batch {batch_id}"
    row = batches.loc[batch_id]
    status = getattr(row["status"], "value", row["status"])
    return f"Batch {batch_id} · {row['file_name'] or row['entity']} · {status}"


pick = st.selectbox(
    "Batch",
    ids,
    index=ids.index(int(asked)) if asked and asked.isdigit() and int(asked) in pages else 0,
    format_func=_label,
)
st.query_params["batch"] = str(pick)
page = pages[pick]
st.caption(
    f"Great Expectations' validation page of batch {pick}, written after its load: "
    f"`{page.relative_to(root)}` under `{root}`. The rows it names are in Quarantined "
    "rows on Data health."
)
if can(identity.role, Action.EXPORT_DATA):
    st.download_button(
        "Download the page (HTML)",
        data=page.read_bytes(),
        file_name=f"data-docs-batch-{pick}.html",
        mime="text/html",
        icon=":material/download:",
        on_click=record,
        args=(identity, "export.download"),
        kwargs={"engine": eng, "target_type": "data_docs", "target_id": str(pick)},
    )
st.iframe(
    page_without_scripts(page),
    # A fixed height (the page scrolls inside): "content" would have Streamlit add a
    # measuring script to the frame, which the app's Content-Security-Policy refuses.
    height=900,
    alt=f"Great Expectations Data Docs of batch {pick}",
)
