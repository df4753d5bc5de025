"""The generic register page: any register, from its definition alone."""

import streamlit as st

from app import registers
from app.saving.audit import history
from app.ui import session
from app.ui.grid import register_grid
from app.ui.record import record_panel

db, actor = session.db(), session.actor()
reg = registers.get(session.current_page())
st.title(reg.label)
if reg.description:
    st.caption(reg.description)
wanted = st.query_params.get("id")
linked = int(wanted) if wanted and wanted.isdigit() else None
if linked is not None:  # a link to one row: its record first, in view, not below the grid
    st.subheader("链接打开的记录")
    record_panel(db, actor, reg, linked)
    st.divider()
page_rows = register_grid(db, actor, reg)

st.divider()
choices = [None, *page_rows]
if wanted and wanted.isdigit() and int(wanted) not in choices:
    choices.append(int(wanted))
picked = st.selectbox(
    "查看一条记录（详情、修改记录、附件）", choices, placeholder="选择一条记录",
    index=choices.index(int(wanted)) if wanted and wanted.isdigit() else 0,
    format_func=lambda rid: "请选择…" if rid is None else f"编号 {rid}：{page_rows.get(rid, '')}",
    key=f"record-{reg.name}",
)
if picked is not None and picked != linked:
    record_panel(db, actor, reg, picked)

with st.expander("本台账最近的修改"):
    st.dataframe(history(db, actor, reg.name, limit=50), hide_index=True, width="stretch", placeholder="")
