"""The audit trail of a register or one row: who, when, old → new per field; revert a change or a save."""

import streamlit as st

from app import registers
from app.access.permissions import PermissionDenied, can
from app.saving import audit
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("修改记录")
st.caption("每次保存、导入和导出都留有记录。撤销一条修改或整次保存，会像其他保存一样经过全部校验，"
           "本身也留有记录；违反规则或此后又被修改的，不会撤销，并说明原因。")

names = [r.name for regs in registers.by_area().values() for r in regs if can(actor, r.name, "view")]
wanted = st.query_params.get("register")
left, right = st.columns([3, 1])
register = left.selectbox(
    "台账", names, index=names.index(wanted) if wanted in names else 0,
    format_func=lambda n: f"{registers.get(n).area} / {registers.get(n).label}", key="audit-register", placeholder="请选择",
)
given = st.query_params.get("id")
row_id = right.number_input("行编号（可选）", min_value=0, step=1, key="audit-row",
                            value=int(given) if given and given.isdigit() else 0)

found = audit.entries(db, actor, register, int(row_id) or None, limit=200)
if not found:
    st.info("没有修改记录。")
    st.stop()
st.dataframe(audit.entries_frame(found), hide_index=True, width="stretch", key="audit-grid", placeholder="")

revertible = [e for e in found if e.revertible]
if not revertible:
    st.stop()
st.subheader("撤销")
chosen = st.selectbox(
    "选择一条修改", revertible, key="audit-entry",
    format_func=lambda e: f"记录 {e.id}：{e.changed_at:%Y-%m-%d %H:%M} {e.actor} {e.action} 编号 {e.row_id}", placeholder="请选择",
)
one, whole = st.columns(2)
if one.button("撤销这一条", key="audit-revert-one", icon=":material/undo:"):
    try:
        result = audit.revert_entry(db, actor, chosen.id)
        st.success(f"已撤销：{md(result.summary)}")
    except (SaveRejected, PermissionDenied) as err:
        st.error(f"未撤销：{md(err)}")
if whole.button("撤销整次保存", key="audit-revert-save", icon=":material/history:",
                help="这次保存（同一次网格保存或导入）改动的所有行"):
    try:
        results = audit.revert_change_set(db, actor, chosen.change_id)
        st.success("已撤销整次保存：" + "；".join(md(r.summary) for r in results))
    except (SaveRejected, PermissionDenied) as err:
        st.error(f"未撤销：{md(err)}")
