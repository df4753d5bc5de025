"""Every rule view: what it computes, where the rule comes from, its parameters and its rows."""

import io

import streamlit as st

from app.exchange.excel import export_view
from app.reading.views import label_of, read_view, view_info, view_names
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("规则视图")
st.caption("每条业务规则是一个视图：到期、逾期、欠费、统计……下面列出规则的定义、依据和参数，以及今天的结果。")

names = [n for n in view_names() if n != "v_todo"] + ["v_todo"]
name = st.selectbox("规则", names, format_func=lambda n: f"{view_info(n).title}（{n}）", key="rule-view", placeholder="请选择")
info = view_info(name)
with st.container(border=True):
    # the Chinese lines of the view's header; the English ones (columns, setting keys) are for developers
    st.markdown(f"**规则**：{md(info.rule_zh)}")
    st.markdown(f"**依据**：{md(info.source)}")
    st.markdown(f"**参数**：{md(info.parameters_zh)}")

rows = read_view(db, actor, name)
st.caption(f"共 {len(rows):,} 行")
st.dataframe(rows.rename(columns=lambda c: label_of(name, c)), hide_index=True, width="stretch",
             height=520, placeholder="")


def workbook() -> bytes:
    out = io.BytesIO()
    export_view(db, actor, name, out)
    return out.getvalue()


st.download_button("导出 Excel", data=workbook, file_name=f"{info.title}-{db.now():%Y%m%d}.xlsx",
                   icon=":material/download:", on_click="ignore", key="rule-export")
