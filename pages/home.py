"""Home: the state of each 小区 at a glance, and what needs doing today."""

import altair as alt
import pandas as pd
import streamlit as st

from app.todo import todo_list
from app.ui import nav, session
from app.views import read_view

db, actor = session.db(), session.actor()
st.title("物业台账")
st.caption(f"今天是 {db.now():%Y年%m月%d日}")

overview = read_view(db, actor, "v_community_overview")
if overview.empty:
    st.info("还没有小区数据。可在「小区」台账中新增，或运行 `wuye seed --demo` 生成演示数据。")
    st.page_link(nav.page_for("communities"), label="打开小区台账", icon=":material/table:")
    st.stop()

for row in overview.itertuples():
    with st.container(border=True):
        st.subheader(row.community)
        c = st.columns(5)
        c[0].metric("楼栋", f"{row.buildings}")
        c[1].metric("户数", f"{row.households:,}")
        rate = "—" if pd.isna(row.occupancy_rate) else f"{row.occupancy_rate:.1%}"
        c[2].metric("入住率", rate)
        c[3].metric("空置", f"{row.vacant:,}")
        c[4].metric("在册业主", f"{row.owners:,}")

status = overview.melt(
    id_vars=["community"], value_vars=["occupied", "rented", "decorating", "vacant"],
    var_name="status", value_name="count",
)
status["status"] = status["status"].map(
    {"occupied": "已入住", "rented": "出租", "decorating": "装修中", "vacant": "空置"}
)
chart = (
    alt.Chart(status)
    .mark_bar()
    .encode(
        y=alt.Y("community:N", title=None),
        x=alt.X("count:Q", title="户数", stack="zero"),
        color=alt.Color("status:N", title="房屋状态",
                        sort=["已入住", "出租", "装修中", "空置"]),
        tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("status:N", title="状态"),
                 alt.Tooltip("count:Q", title="户数")],
    )
    .properties(height=alt.Step(36), title="房屋状态")
)
st.altair_chart(chart, width="stretch")

todo = todo_list(db, actor)
if todo is not None:
    st.subheader("今日待办")
    if todo.empty:
        st.success("没有到期或逾期事项。")
    else:
        counts = todo["severity"].value_counts()
        c = st.columns(3)
        for col, level in zip(c, ["高", "中", "低"]):
            col.metric(f"紧急程度：{level}", int(counts.get(level, 0)))
        st.dataframe(
            todo[["severity", "community", "area", "item", "due_on", "days_overdue", "register", "link"]],
            hide_index=True, width="stretch", height=420,
            column_config={
                "severity": "紧急", "community": "小区", "area": "业务范围", "item": "事项",
                "due_on": st.column_config.DateColumn("到期日", format="YYYY-MM-DD"),
                "days_overdue": st.column_config.NumberColumn("逾期天数", format="%d"),
                "register": "台账",
                "link": st.column_config.LinkColumn("打开", display_text="查看记录"),
            },
        )

st.subheader("常用台账")
links = st.columns(4)
for n, name in enumerate(["households", "owners", "staff", "settings"]):
    links[n].page_link(nav.page_for(name), label=nav.page_for(name).title, icon=":material/table:")
