"""维修与投诉统计: 及时率, 返修率, 回访率 and satisfaction of repairs; complaint 及时率, 处理率, hotspots."""

from datetime import date

import pandas as pd
import streamlit as st

from app.access import scope
from app.reading.formats import percent
from app.service import service_desk as desk
from app.ui import charts, session
from app.ui.desk import pick_community

RATES = {"timely_rate": "及时率", "rework_rate": "返修率", "visit_rate": "回访率"}
COMPLAINT_RATES = {"timely_rate": "及时率", "handling_rate": "处理率"}

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("维修与投诉统计")
st.caption("及时率 = 按时到场 / 已到场；返修率 = 返修的单 / 已完成；回访率 = 已回访 / 已完成；满意度为回访平均分（1–5）。"
           "投诉：及时率 = 按时处理 / 已处理，处理率 = 已处理 / 有效投诉（工作日按「节假日」台账）。")
c = st.columns(2)
with c[0]:
    community = pick_community(scope.communities(db, actor), "report-community", allow_all=True)
months = c[1].select_slider("统计近几个月", options=[3, 6, 12, 24], value=12, key="report-months")
first = date(today.year, today.month, 1)
since = (pd.Timestamp(first) - pd.DateOffset(months=months - 1)).strftime("%Y-%m")


# -- repairs ---------------------------------------------------------------------------------
st.header("维修")
by_month = desk.repair_breakdown(db, actor, "month", community_id=community, since_month=since)
this = by_month[by_month["group"] == f"{today:%Y-%m}"]
this = this.iloc[0] if len(this) else None
c = st.columns(5)
c[0].metric("本月报修单", 0 if this is None else int(this["orders"]))
c[1].metric("本月及时率", percent(None if this is None else this["timely_rate"]))
c[2].metric("本月返修率", percent(None if this is None else this["rework_rate"]))
c[3].metric("本月回访率", percent(None if this is None else this["visit_rate"]))
c[4].metric("本月满意度", "—" if this is None or pd.isna(this["satisfaction"]) else f"{this['satisfaction']:.2f}")
if by_month.empty:
    st.info("所选期间没有报修单。")
else:
    st.altair_chart(charts.rate_lines(by_month, RATES, "group", "按月：及时率、返修率、回访率"), width="stretch")
    st.altair_chart(charts.satisfaction_by_month(by_month), width="stretch")

group = st.radio("分组", ["category", "building_id", "assignee_id"], horizontal=True, key="report-group",
                 format_func=desk.REPAIR_GROUPS.get)
grouped = desk.repair_breakdown(db, actor, group, community_id=community, since_month=since)
if not grouped.empty:
    st.altair_chart(charts.rates_by_group(grouped, RATES, desk.REPAIR_GROUPS[group]), width="stretch")
    st.dataframe(grouped.drop(columns="group_key").set_index("group"), width="stretch", column_config={
        "orders": "报修单", "arrived": "已到场", "on_time": "按时到场",
        "timely_rate": st.column_config.NumberColumn("及时率", format="percent"),
        "completed": "已完成", "reworked": "返修",
        "rework_rate": st.column_config.NumberColumn("返修率", format="percent"),
        "visited": "已回访", "visit_rate": st.column_config.NumberColumn("回访率", format="percent"),
        "satisfaction": st.column_config.NumberColumn("满意度", format="%.2f"),
        "labor_hours": "工时(小时)", "material_cost": st.column_config.NumberColumn("材料费(元)", format="%.2f")}, placeholder="")

# -- complaints ------------------------------------------------------------------------------
st.header("投诉")
trend = desk.complaint_breakdown(db, actor, "month", community_id=community, since_month=since)
counts = desk.complaint_counts(db, actor, community_id=community, since_month=since)
if trend.empty:
    st.info("所选期间没有投诉。")
else:
    c = st.columns(2)
    c[0].altair_chart(charts.complaints_by_category(counts), width="stretch")
    c[1].altair_chart(charts.rate_lines(trend, COMPLAINT_RATES, "group", "按月：投诉及时率、处理率"), width="stretch")

st.subheader("投诉热点（同一位置同类投诉反复出现）")
hot = desk.complaint_hotspots(db, actor, community)
if hot.empty:
    st.success("没有投诉热点。")
else:
    st.dataframe(hot, hide_index=True, width="stretch", column_config={
        "community": "小区", "location": "位置", "category": "类别", "complaints": "近期投诉次数",
        "open_complaints": "未处理", "latest_received_at": st.column_config.DatetimeColumn(
            "最近受理", format="YYYY-MM-DD HH:mm"), "needs_rectification": "需立项整改"}, placeholder="")

st.subheader("报修、投诉最多的位置")
places = desk.top_locations(db, actor, community, since=pd.Timestamp(since + "-01").date())
if not places.empty:
    st.altair_chart(charts.top_locations(places), width="stretch")

by_person = desk.complaint_breakdown(db, actor, "responsible_id", community_id=community, since_month=since)
if not by_person.empty:
    with st.expander("按责任人：投诉及时率、处理率"):
        st.dataframe(by_person.drop(columns="group_key").set_index("group"), width="stretch", column_config={
            "received": "受理", "valid": "有效", "handled": "已处理", "on_time": "按时处理",
            "timely_rate": st.column_config.NumberColumn("及时率", format="percent"),
            "handling_rate": st.column_config.NumberColumn("处理率", format="percent"), "fed_back": "已反馈"}, placeholder="")
