"""Home: the state of the 小区 at a glance — KPI tiles, small charts, today's to-do list."""

import streamlit as st

from app.access import scope
from app.analysis import dashboard
from app.reading.formats import percent
from app.reading.views import read_view
from app.ui import charts, nav, session
from app.ui.text import md

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("物业台账")
st.caption(f"今天是 {today:%Y年%m月%d日}")
if message := st.session_state.pop(nav.HOME_FLASH, None):
    st.success(message)

overview = read_view(db, actor, "v_community_overview")
if overview.empty:
    st.info("还没有小区数据。可在「小区」台账中新增，或运行 `wuye seed --demo` 生成演示数据。")
    st.page_link(nav.page_for("communities"), label="打开小区台账", icon=":material/table:")
    st.stop()


TODO_ROWS = 200  # per area: a company's thousands of arrears would make the page slow to send


choices = scope.communities(db, actor)
months = dashboard.months(db, today)
left, right = st.columns(2)
community = left.selectbox("小区", [None, *choices], format_func=lambda c: "全部小区" if c is None else choices[c],
                           key="home-community", placeholder="请选择")
month = right.selectbox("统计月份", months, index=months.index(dashboard.reporting_month(db, today)),
                        key="home-month", placeholder="请选择")

areas = dashboard.work_areas(actor)  # what this role works on, from its register rights
money_role, repair_role = "收费管理" in areas, "维修与投诉" in areas
k = dashboard.kpis(db, actor, month, community, today)
todo = dashboard.todo_for(db, actor, community, areas)

if money_role:  # 应收 / 实收 / 欠费 of the month, last month beside them
    now, before = k.money, dashboard.money(db, actor, dashboard.previous_month(month), community, today)
    st.subheader(f"{month} 收费")
    tiles = st.columns(4)
    for tile, label, this, last, colour in (
            (tiles[0], "应收", now.billed, before.billed, "normal"),
            (tiles[1], "实收", now.collected, before.collected, "normal"),
            (tiles[2], "欠费", now.arrears, before.arrears, "inverse")):
        tile.metric(label, dashboard.yuan(this), delta=f"{dashboard.yuan_change(this - last)} 较上月",
                    delta_color=colour, help=f"上月（{before.month}）{dashboard.yuan(last)}，截至 {before.as_of}")
    tiles[3].metric("收费率", percent(k.collection_rate), help=f"{k.arrears_households} 户逾期未缴")
    st.caption(f"应收、实收为 {month} 账期的账单，截至 {now.as_of}；欠费为截至同日所有逾期未缴；"
               f"上月数字截至 {before.as_of}。")

tiles = st.columns(4)
if repair_role:
    tiles[0].metric("超时报修", f"{k.repairs_over_limit}", help=f"未完成报修 {k.open_repairs} 单中超过到场或完成时限的")
    tiles[1].metric("投诉及时率", percent(k.complaint_timely_rate), help=f"{k.month} 已处理 {k.complaints_handled} 件")
tiles[2].metric("满意率", percent(k.satisfaction), help=k.satisfaction_source)
shown_todo = 0 if todo is None else len(todo)
high = 0 if todo is None else int((todo["severity"] == "高").sum())
tiles[3].metric("今日待办", f"{shown_todo:,}", help=f"其中紧急 {high} 项；只计您负责的业务范围")

spots = st.columns(3)
if money_role:
    trend = dashboard.collection_trend(db, actor, month, community, today,
                                       combined=community is None and len(choices) > 6)
    spots[0].altair_chart(charts.collection_trend(trend), width="stretch")
if repair_role:
    repairs = dashboard.repairs_by_month(db, actor, month, community, today)
    spots[1].altair_chart(charts.repairs_by_month(repairs), width="stretch")
by_area = dashboard.todo_by_area(todo)
if not by_area.empty:
    spots[2].altair_chart(charts.todo_by_area(by_area), width="stretch")

if todo is not None:
    st.subheader("今日待办")
    if todo.empty:
        st.success("您负责的业务范围内没有到期或逾期事项。")
    for area, items, urgent in dashboard.todo_areas(todo):
        rows = todo[todo["area"] == area]
        with st.expander(f"{area}：{items} 项" + (f"，紧急 {urgent} 项" if urgent else "")):
            if items > TODO_ROWS:
                st.caption(f"显示最紧急的 {TODO_ROWS} 项（共 {items} 项）。")
            st.dataframe(
                rows.head(TODO_ROWS)[["severity", "item", "community", "due_on", "days_overdue", "link"]],
                hide_index=True, width="stretch", height=min(38 + 35 * min(items, TODO_ROWS), 400),
                column_config={
                    "severity": "紧急", "item": "事项", "community": "小区",
                    "due_on": st.column_config.DateColumn("到期日", format="YYYY-MM-DD"),
                    "days_overdue": st.column_config.NumberColumn("逾期天数", format="%d"),
                    "link": st.column_config.LinkColumn("打开", display_text="打开"),
                }, placeholder="",
            )

st.subheader("小区概况")
shown = overview if community is None else overview[overview["community_id"] == community]
for row in shown.itertuples():
    with st.container(border=True):
        st.markdown(f"**{md(row.community)}**")
        c = st.columns(5)
        c[0].metric("楼栋", f"{row.buildings}")
        c[1].metric("户数", f"{row.households:,}")
        c[2].metric("入住率", percent(row.occupancy_rate))
        c[3].metric("空置", f"{row.vacant:,}")
        c[4].metric("在册业主", f"{row.owners:,}")

st.altair_chart(charts.household_status(shown), width="stretch")

st.subheader("常用")
links = st.columns(4)
for n, name in enumerate(["household", "reports", "households", "owners"]):
    try:
        target = nav.page_for(name)
    except KeyError:
        continue
    links[n].page_link(target, label=target.title, icon=":material/open_in_new:")
