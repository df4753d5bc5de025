"""统计分析: staff composition, population and owners per 小区, 投诉率 per household and building,
and survey sampling (services: app.analysis.statistics)."""

from datetime import date
from decimal import Decimal

import streamlit as st

from app.access import scope
from app.access.permissions import PermissionDenied
from app.analysis import statistics
from app.fees import cashier
from app.reading.formats import percent
from app.saving.changes import SaveRejected
from app.surveys import survey as surveys
from app.ui import charts, session
from app.ui.desk import pick_community

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("统计分析")
st.caption("员工构成（管理人员占比、学历）、居住人口与业主构成、投诉率（按户、按楼栋）、意见调查抽样。")
community = pick_community(scope.communities(db, actor), "stats-community", allow_all=True)
staff_tab, people_tab, complaint_tab, sample_tab = st.tabs(["员工构成", "人口与业主", "投诉率", "调查抽样"])

with staff_tab:
    staff = statistics.staff_composition(db, actor, community)
    if staff.empty:
        st.info("没有在职员工。")
    else:
        totals = statistics.staff_totals(staff)
        c = st.columns(3)
        c[0].metric("在职员工", totals["staff"])
        c[1].metric("管理人员", totals["managers"])
        c[2].metric("管理人员占比", percent(totals["manager_share"]))
        for dimension in ("部门", "学历"):
            st.altair_chart(charts.staff_composition(staff, dimension), width="stretch")
        st.dataframe(staff.drop(columns="community_id"), hide_index=True, width="stretch", placeholder="",
                     column_config={"dimension": "分组方式", "grp": "分组", "staff": "人数", "managers": "管理人员",
                                    "staff_share": st.column_config.NumberColumn("占员工比例", format="percent"),
                                    "manager_share": st.column_config.NumberColumn("管理人员占比", format="percent")})
        st.caption("「管理人员」在员工台账中勾选；小区为空的员工属公司本部，只在「全部小区」中统计。")

with people_tab:
    people = statistics.population_composition(db, actor, community)
    if people.empty:
        st.info("没有小区数据。")
    else:
        st.altair_chart(charts.population(people), width="stretch")
        st.dataframe(people.drop(columns="community_id"), hide_index=True, width="stretch", placeholder="",
                     column_config={"community": "小区", "households": "户数", "occupied": "自住", "rented": "出租",
                                    "vacant": "空置", "decorating": "装修中", "owners": "业主人数",
                                    "multi_home_owners": "多套业主", "family": "家属", "tenants": "租户",
                                    "residents": "居住人口",
                                    "residents_per_home": st.column_config.NumberColumn("户均居住人口", format="%.2f")})
        st.caption("居住人口 = 已入住房屋的业主 + 家属 + 租户（按业主台账中未迁出的人员）；多套业主按身份证号识别。")

with complaint_tab:
    c = st.columns(2)
    since = c[0].date_input("开始日期", value=date(today.year, 1, 1), key="stats-from", format="YYYY-MM-DD")
    until = c[1].date_input("结束日期", value=today, key="stats-to", format="YYYY-MM-DD")
    try:
        rates = statistics.complaint_rate(db, actor, since, until, community)
    except (SaveRejected, PermissionDenied) as err:
        st.error(str(err))
    else:
        whole = rates[rates["level"] == "小区"]
        if community is not None and len(whole):
            c = st.columns(3)
            c[0].metric("有效投诉", int(whole.iloc[0]["complaints"]))
            c[1].metric("投诉率（次/户）", "—" if whole.iloc[0]["households"] == 0
                        else f"{whole.iloc[0]['complaint_rate']:.3f}")
            c[2].metric("投诉户比例", percent(whole.iloc[0]["household_rate"]))
        if community is not None and (rates["level"] == "楼栋").any():
            st.altair_chart(charts.complaint_rate(rates), width="stretch")
        st.dataframe(rates.drop(columns=["community_id", "building_id"]), hide_index=True, width="stretch",
                     placeholder="", column_config={
                         "level": "范围", "building": "楼栋", "households": "户数", "complaints": "投诉次数",
                         "complaining_households": "投诉户数",
                         "complaint_rate": st.column_config.NumberColumn("投诉率(次/户)", format="%.3f"),
                         "household_rate": st.column_config.NumberColumn("投诉户比例", format="percent")})
        st.caption("只计有效投诉；公共部位的投诉计入全小区，不计入楼栋。")

with sample_tab:
    if community is None:
        st.info("请先选择一个小区。")
    else:
        choices = surveys.survey_choices(db, actor, community)
        survey = st.selectbox("调查", [None, *choices], key="stats-survey", placeholder="请选择",
                              format_func=lambda s: "请选择调查…" if s is None else choices[s])
        if survey is not None:
            drawn = statistics.sample_households(db, survey)
            if drawn.empty:
                buildings = cashier.buildings(db, community)
                with st.form("stats-draw"):
                    ratio = st.number_input("抽样比例(%)", min_value=1, max_value=100, value=10, step=5)
                    chosen = st.multiselect("范围（不选为全部楼栋）", list(buildings), format_func=buildings.get,
                                           placeholder="全部楼栋")
                    go = st.form_submit_button("抽样并记录", type="primary")
                if go:
                    try:
                        homes = statistics.draw_sample(db, actor, survey, Decimal(int(ratio)) / 100, chosen or None)
                    except (SaveRejected, PermissionDenied, KeyError) as err:
                        st.error(str(err).strip("'\""))
                    else:
                        st.success(f"已抽取 {len(homes)} 户，名单已记录（同一调查不再重抽）。")
                        drawn = statistics.sample_households(db, survey)
                st.caption("按楼栋抽取比例（向上取整，每栋至少一户），抽取顺序由调查编号决定，同一调查结果相同。")
            if not drawn.empty:
                st.dataframe(statistics.survey_sampling(db, actor, survey).drop(
                    columns=["survey_id", "community_id", "title", "building_id"]), hide_index=True, width="stretch",
                    placeholder="", column_config={
                        "building": "楼栋", "households": "户数", "sampled": "抽中户数",
                        "sample_rate": st.column_config.NumberColumn("抽样比例", format="percent"),
                        "returned": "已收回", "return_rate": st.column_config.NumberColumn("回收率", format="percent")})
                st.dataframe(drawn.drop(columns="household_id"), hide_index=True, width="stretch", placeholder="",
                             column_config={"building": "楼栋", "code": "房号", "owners": "业主", "returned": "已收回",
                                            "drawn_on": "抽样日期", "method": "抽样方式"})
