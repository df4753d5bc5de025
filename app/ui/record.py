"""One row of a register: its fields, its change history and its attachments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import registers
from app.access.permissions import Actor
from app.reading.queries import fetch_row
from app.registers.expressions import shown_for_row
from app.registers.model import Register
from app.saving.audit import history
from app.storage.db import Database
from app.ui.attachments import attachments_panel


def record_panel(db: Database, actor: Actor, reg: Register, row_id: int) -> None:
    row = fetch_row(db, actor, reg, row_id)
    if row is None:
        st.warning(f"{reg.label}中没有编号为 {row_id} 的记录（可能已删除或不在您的小区范围内）。")
        return
    has_files = "attachments" in registers.catalog() and reg.name != "attachments"
    tabs = st.tabs(["详情", "修改记录", "附件"] if has_files
                   else ["详情", "修改记录"])
    row.update(shown_for_row(db, reg, row_id))  # calculated columns: a value, or why it is empty
    with tabs[0]:
        # one text column: a column mixing the id (int) with text made Arrow fail and log a traceback
        shown = ["" if v is None else str(v) for v in row.values()]  # never the text "None"
        st.dataframe(pd.DataFrame({"字段": list(row), "内容": shown}, dtype="string"),
                     hide_index=True, width="stretch", placeholder="")
    with tabs[1]:
        st.dataframe(history(db, actor, reg.name, row_id), hide_index=True, width="stretch", placeholder="")
    if len(tabs) > 2:
        with tabs[2]:
            attachments_panel(db, actor, reg, row_id)
