"""保安周排班: one week of shifts as a grid (guards × weekdays), control-room staffing, editing."""

from datetime import timedelta

import streamlit as st

from app import registers
from app.estate.security import WEEKDAYS, control_room_gaps, week_grid, week_of, week_shifts
from app.reading.queries import options
from app.ui import session
from app.ui.grid import register_grid

db, actor = session.db(), session.actor()
st.title("保安周排班")
st.caption("排班制度：白班 08:00–20:00，夜班 20:00–08:00；监控中心 24 小时值班，每班不少于 2 人。")

communities = options(db, registers.get("communities"), actor)
if not communities:
    st.info("还没有小区数据。")
    st.stop()
c = st.columns([2, 2, 3])
community = c[0].selectbox("小区", list(communities), format_func=communities.get, key="shifts-community", placeholder="请选择")
picked = c[1].date_input("周次（任选一天）", value=db.now().date(), key="shifts-week", format="YYYY-MM-DD")
monday = week_of(picked)
c[2].markdown(f"**{monday:%Y-%m-%d} 至 {monday + timedelta(days=6):%Y-%m-%d}**")

shifts = week_shifts(db, actor, community, monday)
grid = week_grid(shifts, monday)
if grid.empty:
    st.info("本周还没有排班，可在下方表格中新增。")
else:
    st.dataframe(grid, hide_index=True, width="stretch", placeholder="")
if gaps := control_room_gaps(db, shifts, community, monday):
    # one warning for the week: an empty week would otherwise stack 14 of them
    st.warning(f"监控中心有 {len(gaps)} 个班次人手不足（每班不少于 {gaps[0].required} 人）：\n\n"
               + "\n".join(f"- {g.day:%m-%d}（{WEEKDAYS[g.day.weekday()]}）{g.shift}：{g.on_duty} 人"
                            for g in gaps))

st.subheader("编辑本周排班")
register_grid(db, actor, registers.get("shifts"),
              base_filters={"community_id": [community], "shift_on": (monday, monday + timedelta(days=6))},
              key=f"shifts-{community}-{monday:%Y%m%d}")
