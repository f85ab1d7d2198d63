"""The export button every table uses: spreadsheet-safe CSV or Excel, only for roles that may.

The role is checked with ``models.access.require`` before a single row is rendered for
download (a refusal is audited), and each download is written to the audit log. The
format is picked beside the button (CSV by default), so each table has one download. A
download carries names beside ids under the same column names as ``accountops export``
(``models.value.export_names``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from app_pages.data import database_url, engine
from app_pages.session import signed_in

from models.access import Action, can, record, require
from models.dashboard.spreadsheet import render_xlsx
from models.value.export_names import download_frame
from models.value.exports import render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RENDER_ON_CLICK_ROWS = 5_000


def export_button(frame: pd.DataFrame, *, name: str, label: str | None = None) -> None:
    """A download of ``frame`` as ``<name>.csv`` or ``<name>.xlsx``, or a note for other roles."""
    identity = signed_in()
    if identity is None or not can(identity.role, Action.EXPORT_DATA):
        st.caption("Downloads are not available for your role.")
        return
    eng = engine(database_url())
    require(identity, Action.EXPORT_DATA, engine=eng, target_type="export", target_id=name)
    left, right = st.columns([1, 4], vertical_alignment="center")
    with left:
        fmt = st.segmented_control(
            "Format",
            ["CSV", "Excel"],
            default="CSV",
            key=f"export_format_{name}",
            label_visibility="collapsed",
        )
    excel = fmt == "Excel"
    with eng.connect() as conn:  # names beside ids, as the CLI's exports have them
        named = download_frame(conn, frame)
    file = (lambda: render_xlsx(named, name)) if excel else (lambda: render(named, "csv").encode())
    with right:
        st.download_button(
            label or ("Download Excel" if excel else "Download CSV"),
            # A large table is rendered only when clicked (on its own thread): 50,000 rows
            # cost ~1.5 s, which every rerun of the page would otherwise pay. A small one is
            # rendered with the page: a deferred file clicked while the page reruns is
            # dropped by the server and the download never starts.
            data=file if len(frame) > RENDER_ON_CLICK_ROWS else file(),
            file_name=f"{name}.xlsx" if excel else f"{name}.csv",
            mime=XLSX if excel else "text/csv",
            icon=":material/download:",
            key=f"export_{name}",
            on_click=record,
            args=(identity, "export.download"),
            kwargs={"engine": eng, "target_type": "export", "target_id": name},
        )
