"""The sidebar's global search: households, owners, work orders, complaints, receipts, contracts and more.

A hit opens the page that works on it (a household: 一户一档; a work order: the service desk),
with the row selected.
"""

from __future__ import annotations

import streamlit as st

from app import registers
from app.analysis.search import search_hits
from app.ui import nav, session

SHOWN = 12


def search_box() -> None:
    text = st.sidebar.text_input("全局搜索", placeholder="房号、姓名、电话、报修单号、收据号…", key="global-search")
    if not text.strip():
        return
    hits, more = search_hits(session.db(), session.actor(), text.strip(), limit=SHOWN)
    if not hits:
        st.sidebar.caption("没有找到。")
    for hit in hits:
        st.sidebar.page_link(
            nav.record_page(hit.register), query_params={"id": str(hit.row_id)},
            label=f"{registers.get(hit.register).label}：{hit.label}",
            help=hit.snippet or None,
        )
    if more:
        st.sidebar.caption(f"只显示前 {SHOWN} 条，还有更多结果：请输入更完整的房号、姓名或编号。")
