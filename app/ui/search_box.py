"""The sidebar's global search: find a household, owner, asset, contract, archive or stock item."""

from __future__ import annotations

import streamlit as st

from app import registers
from app.search import global_search
from app.ui import nav, session


def search_box() -> None:
    text = st.sidebar.text_input("全局搜索", placeholder="房号、姓名、电话、编号…", key="global-search")
    if not text.strip():
        return
    hits = global_search(session.db(), session.actor(), text.strip(), limit=12)
    if not hits:
        st.sidebar.caption("没有找到。")
    for hit in hits:
        st.sidebar.page_link(
            nav.page_for(hit.register), query_params={"id": str(hit.row_id)},
            label=f"{registers.get(hit.register).label}：{hit.label}",
            help=hit.snippet or None,
        )
