"""Home: the state of the 小区 at a glance — KPI tiles, small charts, today's to-do list."""

import altair as alt
import pandas as pd
import streamlit as st

from app import dashboard
from app.ui import nav, session
from app.ui.text import md
from app.views import read_view

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("物业台账")
st.caption(f"今天是 {today:%Y年%m月%d日}")

overview = read_view(db, actor, "v_community_overview")
if overview.empty:
    st.info("还没有小区数据。可在「小区」台账中新增，或运行 `wuye seed --demo` 生成演示数据。")
    st.page_link(nav.page_for("communities"), label="打开小区台账", icon=":material/table:")
    st.stop()


def pct(v: float | None) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.1%}"


choices = dashboard.communities(db, actor)
months = dashboard.months(db, today)
left, right = st.columns(2)
community = left.selectbox("小区", [None, *choices], format_func=lambda c: "全部小区" if c is None else choices[c],
                           key="home-community", placeholder="请选择")
month = right.selectbox("统计月份", months, index=months.index(dashboard.reporting_month(db, today)),
                        key="home-month", placeholder="请选择")

k = dashboard.kpis(db, actor, month, community, today)
tiles = st.columns(6)
st.caption(f"{k.month} 账期的收费率与投诉及时率，截至 {k.as_of}；欠费、超时报修截至同日；待办为今天。")
tiles[0].metric("收费率", pct(k.collection_rate),
                help=f"实收 {k.collected:,.2f} / 应收 {k.billed:,.2f} 元，截至 {k.as_of}")
tiles[1].metric("欠费", f"{k.arrears / 10000:,.1f} 万元" if k.arrears >= 100000 else f"{k.arrears:,.0f} 元", help=f"{k.arrears_households} 户逾期未缴，截至 {k.as_of}")
tiles[2].metric("超时报修", f"{k.repairs_over_limit}", help=f"未完成报修 {k.open_repairs} 单中超过到场或完成时限的")
tiles[3].metric("投诉及时率", pct(k.complaint_timely_rate), help=f"{k.month} 已处理 {k.complaints_handled} 件")
tiles[4].metric("满意率", pct(k.satisfaction), help=k.satisfaction_source)
tiles[5].metric("今日待办", f"{k.todo}", help=f"其中紧急 {k.todo_high} 项")

charts = st.columns(3)
trend = dashboard.collection_trend(db, actor, month, community, today)
if not trend.empty:
    charts[0].altair_chart(
        alt.Chart(trend).mark_line(point=True).encode(
            x=alt.X("period:N", title=None), y=alt.Y("rate:Q", title="收费率", axis=alt.Axis(format="%")),
            color=alt.Color("community:N", title="小区", legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("period:N", title="账期"),
                     alt.Tooltip("rate:Q", title="收费率", format=".1%")],
        ).properties(height=220, title="收费率（近 12 个账期）"), width="stretch")
repairs = dashboard.repairs_by_month(db, actor, month, community, today)
if not repairs.empty:
    charts[1].altair_chart(
        alt.Chart(repairs).mark_bar().encode(
            x=alt.X("month:N", title=None), y=alt.Y("orders:Q", title="报修单数"),
            tooltip=[alt.Tooltip("month:N", title="月份"), alt.Tooltip("orders:Q", title="报修单数"),
                     alt.Tooltip("timely_rate:Q", title="及时率", format=".1%")],
        ).properties(height=220, title="每月报修"), width="stretch")
todo = dashboard.todo_for(db, actor, community)
by_area = dashboard.todo_by_area(todo)
if not by_area.empty:
    charts[2].altair_chart(
        alt.Chart(by_area).mark_bar().encode(
            y=alt.Y("area:N", title=None), x=alt.X("items:Q", title="事项数", stack="zero"),
            color=alt.Color("severity:N", title="紧急", sort=["高", "中", "低"],
                            scale=alt.Scale(domain=["高", "中", "低"], range=["#d62728", "#ff7f0e", "#9ecae1"]),
                            legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("area:N", title="业务范围"), alt.Tooltip("severity:N", title="紧急"),
                     alt.Tooltip("items:Q", title="事项数")],
        ).properties(height=220, title="待办事项"), width="stretch")

if todo is not None:
    st.subheader("今日待办")
    if todo.empty:
        st.success("没有到期或逾期事项。")
    else:
        st.dataframe(
            todo[["severity", "community", "area", "item", "due_on", "days_overdue", "register", "link"]],
            hide_index=True, width="stretch", height=420,
            column_config={
                "severity": "紧急", "community": "小区", "area": "业务范围", "item": "事项",
                "due_on": st.column_config.DateColumn("到期日", format="YYYY-MM-DD"),
                "days_overdue": st.column_config.NumberColumn("逾期天数", format="%d"),
                "register": "台账",
                "link": st.column_config.LinkColumn("打开", display_text="查看记录"),
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
        c[2].metric("入住率", pct(row.occupancy_rate))
        c[3].metric("空置", f"{row.vacant:,}")
        c[4].metric("在册业主", f"{row.owners:,}")

status = shown.melt(id_vars=["community"], value_vars=["occupied", "rented", "decorating", "vacant"],
                    var_name="status", value_name="count")
status["status"] = status["status"].map({"occupied": "已入住", "rented": "出租", "decorating": "装修中", "vacant": "空置"})
st.altair_chart(
    alt.Chart(status).mark_bar().encode(
        y=alt.Y("community:N", title=None), x=alt.X("count:Q", title="户数", stack="zero"),
        color=alt.Color("status:N", title="房屋状态", sort=["已入住", "出租", "装修中", "空置"]),
        tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("status:N", title="状态"),
                 alt.Tooltip("count:Q", title="户数")],
    ).properties(height=alt.Step(36), title="房屋状态"), width="stretch")

st.subheader("常用")
links = st.columns(4)
for n, name in enumerate(["household", "reports", "households", "owners"]):
    try:
        target = nav.page_for(name)
    except KeyError:
        continue
    links[n].page_link(target, label=target.title, icon=":material/open_in_new:")
