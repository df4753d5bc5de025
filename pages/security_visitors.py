"""在园访客: visitors registered and not yet signed out; sign one out; today's registrations."""

from datetime import datetime

import streamlit as st

from app import registers
from app.estate.security import sign_out, visitors_inside
from app.reading.queries import options
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.grid import register_grid, show_problems

db, actor = session.db(), session.actor()
st.title("在园访客")
st.caption("访客管理：来访登记证件号（默认打码显示）、被访房屋与事由，离开时登记离开时间。")

communities = options(db, registers.get("communities"), actor)
if not communities:
    st.info("还没有小区数据。")
    st.stop()
community = st.selectbox("小区", list(communities), format_func=communities.get, key="visitors-community", placeholder="请选择")

if "visitors-done" in st.session_state:
    st.success(st.session_state.pop("visitors-done"))
inside = visitors_inside(db, actor, community)
st.metric("尚未离开", len(inside))
if not inside.empty:
    st.dataframe(
        inside[["visitor_id", "name", "id_number", "household", "purpose", "plate", "gate", "visited_at",
                "overnight"]],
        hide_index=True, width="stretch",
        column_config={
            "visitor_id": st.column_config.NumberColumn("编号", format="%d"), "name": "访客姓名",
            "id_number": "证件号", "household": "被访房屋", "purpose": "事由", "plate": "车牌", "gate": "出入口",
            "visited_at": st.column_config.DatetimeColumn("来访时间", format="YYYY-MM-DD HH:mm"),
            "overnight": "跨日未离开",
        }, placeholder="",
    )
    names = {int(r.visitor_id): f"{r.name}（{r.visited_at:%m-%d %H:%M} 来访）" for r in inside.itertuples()}
    c = st.columns([3, 1])
    who = c[0].selectbox("登记离开", list(names), format_func=names.get, key="visitors-leaving", placeholder="请选择")
    if c[1].button("登记离开", type="primary", key="visitors-sign-out"):
        try:
            sign_out(db, actor, who)
        except SaveRejected as err:
            show_problems(err)
        else:
            st.session_state["visitors-done"] = f"{names[who]} 已登记离开。"
            st.rerun()

st.subheader("今日来访登记")
today = datetime.combine(db.now().date(), datetime.min.time())
register_grid(db, actor, registers.get("visitors"),
              base_filters={"community_id": [community], "visited_at": (today, None)},
              key=f"visitors-{community}")
