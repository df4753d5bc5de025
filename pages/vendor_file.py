"""分包方档案: one vendor — rating history and when the next is due, its contracts and projects."""

import streamlit as st

from app.estate import vendor_file
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("分包方档案")
choices = vendor_file.vendors(db)
if not choices:
    st.info("还没有分包方。请先在「分包方」台账中添加。")
    st.stop()
picked = st.selectbox("分包方", list(choices), format_func=choices.get, key="vendor-picked", placeholder="请选择")
f = vendor_file.vendor_file(db, actor, picked)
v = f.vendor
c = st.columns(4)
c[0].metric("评价等级", v.get("rating") or "未评价")
c[1].metric("上次评价", f"{v['evaluated_on']:%Y-%m-%d}" if v.get("evaluated_on") else "—")
c[2].metric("下次应评", f"{f.due_on:%Y-%m-%d}" if f.due_on else "—")
c[3].metric("合同 / 工程", f"{len(f.contracts)} / {len(f.projects)}")
st.caption(md(" · ".join(str(x) for x in (v.get("qualification"), v.get("service_scope"), v.get("contact"),
                                           v.get("phone")) if x)))

st.subheader("评价记录")
if f.ratings.empty:
    st.caption("还没有评价记录（在「分包方评价」台账中登记）。")
else:
    st.dataframe(f.ratings, hide_index=True, width="stretch", column_config=vendor_file.RATING_HEADERS, placeholder="")
st.subheader("合同")
if f.contracts.empty:
    st.caption("没有与该分包方的合同。")
else:
    st.dataframe(f.contracts, hide_index=True, width="stretch", column_config=vendor_file.CONTRACT_HEADERS,
                 placeholder="")
st.subheader("工程")
if f.projects.empty:
    st.caption("该分包方没有承接工程。")
else:
    st.dataframe(f.projects, hide_index=True, width="stretch", column_config=vendor_file.PROJECT_HEADERS,
                 placeholder="")
