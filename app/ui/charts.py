"""Every fixed chart of the product, one function each: a frame from a service in, an Altair chart out.

Pages only place them (`st.altair_chart(charts.x(frame), width="stretch")`). Heights are fixed in
px (a discrete height with fit-y collapses a chart to ~10 px); months are ordinal so every month
shows; labels, titles and tooltips are Chinese. The chart builder's charts, which the office
designs itself, are made by app/analysis/builder.py.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from app.fees.fee_documents import AGEING_ORDER

HEIGHT = 260
HOME_HEIGHT = 320  # the whole chart: title, legend and turned month labels take ~120 px of it
MONTH_AXIS = alt.Axis(labelAngle=-45, labelOverlap=False, title=None)  # twelve months in a third of 1366 px


def _percent_axis(title: str, field: str = "rate") -> alt.Y:
    return alt.Y(f"{field}:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))


# -- home ------------------------------------------------------------------------------------
def collection_trend(trend: pd.DataFrame) -> alt.Chart:
    """收费率 of the last twelve periods, a line per 小区 (or one for the group)."""
    return alt.Chart(trend).mark_line(point=True).encode(
        x=alt.X("period:O", axis=MONTH_AXIS),
        y=alt.Y("rate:Q", title="收费率", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", tickCount=5)),
        color=alt.Color("community:N", title=None, legend=alt.Legend(orient="top", direction="horizontal")),
        tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("period:N", title="账期"),
                 alt.Tooltip("rate:Q", title="收费率", format=".1%"),
                 alt.Tooltip("billed:Q", title="应收(元)", format=",.2f")],
    ).properties(height=HOME_HEIGHT, title="收费率（近 12 个账期）")


def repairs_by_month(repairs: pd.DataFrame) -> alt.Chart:
    return alt.Chart(repairs).mark_bar().encode(
        x=alt.X("month:O", axis=MONTH_AXIS),
        y=alt.Y("orders:Q", title="报修单数", axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=[alt.Tooltip("month:N", title="月份"), alt.Tooltip("orders:Q", title="报修单数"),
                 alt.Tooltip("timely_rate:Q", title="及时率", format=".1%")],
    ).properties(height=HOME_HEIGHT, title="每月报修（近 12 个月）")


def todo_by_area(by_area: pd.DataFrame) -> alt.Chart:
    """To-do items per area, stacked by urgency; every area labelled."""
    return alt.Chart(by_area).mark_bar().encode(
        y=alt.Y("area:N", title=None, axis=alt.Axis(labelLimit=160, labelOverlap=False)),
        x=alt.X("items:Q", title="事项数", stack="zero", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("severity:N", title="紧急", sort=["高", "中", "低"],
                        scale=alt.Scale(domain=["高", "中", "低"], range=["#d62728", "#ff7f0e", "#9ecae1"]),
                        legend=alt.Legend(orient="top", direction="horizontal")),
        tooltip=[alt.Tooltip("area:N", title="业务范围"), alt.Tooltip("severity:N", title="紧急"),
                 alt.Tooltip("items:Q", title="事项数")],
    ).properties(height=max(HOME_HEIGHT, 120 + 30 * by_area["area"].nunique()), title="待办事项")


def household_status(overview: pd.DataFrame) -> alt.Chart:
    """Households per 小区 by status (the 小区 overview's counts)."""
    status = overview.melt(id_vars=["community"], value_vars=["occupied", "rented", "decorating", "vacant"],
                           var_name="status", value_name="count")
    status["status"] = status["status"].map({"occupied": "已入住", "rented": "出租", "decorating": "装修中",
                                             "vacant": "空置"})
    return alt.Chart(status).mark_bar().encode(
        y=alt.Y("community:N", title=None, axis=alt.Axis(labelLimit=160, labelOverlap=False)),
        x=alt.X("count:Q", title="户数", stack="zero"),
        color=alt.Color("status:N", title="房屋状态", sort=["已入住", "出租", "装修中", "空置"]),
        tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("status:N", title="状态"),
                 alt.Tooltip("count:Q", title="户数")],
    ).properties(height=60 + 36 * max(1, len(overview)), title="房屋状态")


# -- fees ------------------------------------------------------------------------------------
def collection_by_month(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(rate=frame["rate"].astype(float))
    return (alt.Chart(data).mark_line(point=True)
            .encode(x=alt.X("period:O", title="账期"), y=_percent_axis("收费率"),
                    tooltip=[alt.Tooltip("period:O", title="账期"),
                             alt.Tooltip("rate:Q", title="收费率", format=".1%"),
                             alt.Tooltip("billed:Q", title="应收(元)", format=",.2f"),
                             alt.Tooltip("collected:Q", title="实收(元)", format=",.2f")])
            .properties(title="收费率（按账期）", height=HEIGHT))


def collection_by_building(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(rate=frame["rate"].astype(float), building=frame["building"].astype(str))
    return (alt.Chart(data).mark_bar()
            .encode(x=alt.X("building:N", title="楼栋", sort=list(data["building"])),
                    y=_percent_axis("收费率"),
                    tooltip=[alt.Tooltip("building:N", title="楼栋"),
                             alt.Tooltip("rate:Q", title="收费率", format=".1%"),
                             alt.Tooltip("billed:Q", title="应收(元)", format=",.2f"),
                             alt.Tooltip("collected:Q", title="实收(元)", format=",.2f")])
            .properties(title="收费率（按楼栋）", height=HEIGHT))


def arrears_ageing(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(outstanding=frame["outstanding"].astype(float))
    return (alt.Chart(data).mark_bar()
            .encode(x=alt.X("bucket:N", title="账龄（天）", sort=AGEING_ORDER),
                    y=alt.Y("outstanding:Q", title="欠费(元)"),
                    tooltip=[alt.Tooltip("bucket:N", title="账龄"),
                             alt.Tooltip("outstanding:Q", title="欠费(元)", format=",.2f"),
                             alt.Tooltip("bills:Q", title="账单数"),
                             alt.Tooltip("households:Q", title="户数")])
            .properties(title="欠费账龄", height=HEIGHT))


# -- repairs and complaints ------------------------------------------------------------------
def rate_lines(frame: pd.DataFrame, rates: dict[str, str], x: str, title: str) -> alt.Chart:
    """Several rates (column → Chinese name) as lines over `x`."""
    long = frame.melt(id_vars=[x], value_vars=list(rates), var_name="rate", value_name="value")
    long["rate"] = long["rate"].map(rates)
    return (alt.Chart(long.dropna(subset=["value"])).mark_line(point=True)
            .encode(x=alt.X(f"{x}:N", title=None), y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%")),
                    color=alt.Color("rate:N", title=None),
                    tooltip=[alt.Tooltip(f"{x}:N", title="月份"), alt.Tooltip("rate:N", title="指标"),
                             alt.Tooltip("value:Q", title="数值", format=".1%")])
            .properties(title=title, height=HEIGHT))


def satisfaction_by_month(by_month: pd.DataFrame) -> alt.Chart:
    return (alt.Chart(by_month.dropna(subset=["satisfaction"])).mark_bar()
            .encode(x=alt.X("group:N", title=None), y=alt.Y("satisfaction:Q", title="平均满意度",
                                                              scale=alt.Scale(domain=[0, 5])),
                    tooltip=[alt.Tooltip("group:N", title="月份"), alt.Tooltip("satisfaction:Q", format=".2f")])
            .properties(title="按月：回访满意度", height=200))


def rates_by_group(grouped: pd.DataFrame, rates: dict[str, str], group_label: str) -> alt.Chart:
    """Rates side by side for each group (类别, 楼栋, 维修人员)."""
    long = grouped.melt(id_vars=["group"], value_vars=list(rates), var_name="rate", value_name="value")
    long["rate"] = long["rate"].map(rates)
    return (alt.Chart(long.dropna(subset=["value"])).mark_bar()
            .encode(y=alt.Y("group:N", title=None, sort="-x"), x=alt.X("value:Q", title=None, axis=alt.Axis(format="%")),
                    color=alt.Color("rate:N", title=None), yOffset="rate:N",
                    tooltip=[alt.Tooltip("group:N", title=group_label), alt.Tooltip("rate:N", title="指标"),
                             alt.Tooltip("value:Q", format=".1%")])
            .properties(title=f"按{group_label}", height=alt.Step(14)))


def complaints_by_category(counts: pd.DataFrame) -> alt.Chart:
    return (alt.Chart(counts).mark_bar()
            .encode(x=alt.X("month:N", title=None), y=alt.Y("valid:Q", title="有效投诉"),
                    color=alt.Color("category:N", title="类别"),
                    tooltip=[alt.Tooltip("month:N", title="月份"), alt.Tooltip("category:N", title="类别"),
                             alt.Tooltip("valid:Q", title="有效投诉")])
            .properties(title="按月、按类别：有效投诉", height=280))


def top_locations(places: pd.DataFrame) -> alt.Chart:
    """Repairs and complaints per place, the busiest first."""
    long = places.melt(id_vars=["place", "total"], value_vars=["repairs", "complaints"], var_name="kind",
                       value_name="count")
    long["kind"] = long["kind"].map({"repairs": "报修", "complaints": "投诉"})
    return (alt.Chart(long).mark_bar()
            .encode(y=alt.Y("place:N", title=None, sort=alt.EncodingSortField("total", order="descending")),
                    x=alt.X("count:Q", title="次数", stack="zero"), color=alt.Color("kind:N", title=None),
                    tooltip=[alt.Tooltip("place:N", title="位置"), alt.Tooltip("kind:N", title="类型"),
                             alt.Tooltip("count:Q", title="次数")])
            .properties(height=alt.Step(24)))


# -- surveys ---------------------------------------------------------------------------------
def survey_dimensions(stats: pd.DataFrame, order: list[str]) -> alt.LayerChart:
    """满意率 per dimension against its target (dashed), below target in red."""
    bars = alt.Chart(stats).mark_bar().encode(
        x=alt.X("dimension:N", title=None, sort=order),
        y=_percent_axis("满意率", "satisfaction_rate"),
        color=alt.condition("datum.meets_target", alt.value("#4c78a8"), alt.value("#e45756")),
        tooltip=[alt.Tooltip("dimension:N", title="维度"), alt.Tooltip("satisfaction_rate:Q", title="满意率", format=".1%"),
                 alt.Tooltip("avg_score:Q", title="平均分", format=".2f"), alt.Tooltip("scores:Q", title="评分数")])
    target = alt.Chart(stats).mark_rule(color="#f58518", strokeDash=[4, 3]).encode(y="mean(target):Q")
    return (bars + target).properties(height=240, title="各维度满意率（虚线为目标）")


def survey_scores(distribution: pd.DataFrame) -> alt.Chart:
    dist = distribution.melt(id_vars=["score", "score_label"], var_name="dimension", value_name="count")
    return alt.Chart(dist).mark_bar().encode(
        x=alt.X("score_label:N", title=None), y=alt.Y("count:Q", title="份数", stack="zero"),
        color=alt.Color("dimension:N", title="维度", legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("dimension:N", title="维度"), alt.Tooltip("score_label:N", title="分数"),
                 alt.Tooltip("count:Q", title="份数")],
    ).properties(height=240, title="分数分布")


def survey_history(history: pd.DataFrame) -> alt.Chart:
    return alt.Chart(history).mark_line(point=True).encode(
        x=alt.X("title:N", title=None, sort=None),
        y=alt.Y("satisfaction_rate:Q", title="满意率", axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("title:N", title="调查"), alt.Tooltip("satisfaction_rate:Q", title="满意率", format=".1%")],
    ).properties(height=240, title="历次调查满意率")


# -- statistics ------------------------------------------------------------------------------
def staff_composition(frame: pd.DataFrame, dimension: str) -> alt.Chart:
    data = frame[frame["dimension"] == dimension]
    data = data.groupby("grp", as_index=False)[["staff", "managers"]].sum()
    data = data.assign(others=data["staff"] - data["managers"]).melt(
        id_vars=["grp"], value_vars=["managers", "others"], var_name="kind", value_name="people")
    data["kind"] = data["kind"].map({"managers": "管理人员", "others": "其他员工"})
    return (alt.Chart(data).mark_bar()
            .encode(x=alt.X("grp:N", title=dimension, sort="-y"), y=alt.Y("people:Q", title="人数"),
                    color=alt.Color("kind:N", title="", sort=["管理人员", "其他员工"]),
                    tooltip=[alt.Tooltip("grp:N", title=dimension), alt.Tooltip("kind:N", title="类别"),
                             alt.Tooltip("people:Q", title="人数")])
            .properties(title=f"员工构成（按{dimension}）", height=HEIGHT))


def population(frame: pd.DataFrame) -> alt.Chart:
    homes = frame.melt(id_vars=["community"], value_vars=["occupied", "rented", "vacant", "decorating"],
                       var_name="status", value_name="count")
    homes["status"] = homes["status"].map({"occupied": "自住", "rented": "出租", "vacant": "空置",
                                           "decorating": "装修中"})
    return (alt.Chart(homes).mark_bar()
            .encode(x=alt.X("community:N", title="小区"), y=alt.Y("count:Q", title="户数", stack="zero"),
                    color=alt.Color("status:N", title="房屋状态", sort=["自住", "出租", "空置", "装修中"]),
                    tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("status:N", title="状态"),
                             alt.Tooltip("count:Q", title="户数")])
            .properties(title="房屋使用状况", height=HEIGHT))


def complaint_rate(frame: pd.DataFrame) -> alt.Chart:
    data = frame[frame["level"] == "楼栋"].assign(rate=lambda f: f["complaint_rate"].astype(float))
    return (alt.Chart(data).mark_bar()
            .encode(x=alt.X("building:N", title="楼栋", sort=list(data["building"])),
                    y=alt.Y("rate:Q", title="投诉率（次/户）"),
                    tooltip=[alt.Tooltip("building:N", title="楼栋"),
                             alt.Tooltip("complaints:Q", title="投诉次数"),
                             alt.Tooltip("households:Q", title="户数"),
                             alt.Tooltip("rate:Q", title="投诉率", format=".3f")])
            .properties(title="投诉率（按楼栋）", height=HEIGHT))


# -- a register's saved view -----------------------------------------------------------------
def grouped_rows(data: pd.DataFrame, measure_title: str, group_title: str, total: bool) -> alt.Chart:
    """Rows (or a column's total) per group of a register's current view (saved_views.chart_data)."""
    value = "合计" if total else "行数"
    return alt.Chart(data).mark_bar().encode(
        x=alt.X(value + ":Q", title=measure_title),
        y=alt.Y("分组:N", sort="-x", title=group_title),
        tooltip=["分组", "行数", *(["合计"] if total else [])],
    )
