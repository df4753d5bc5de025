"""One inspection area's check-and-fix loop: plans and what is due, record a check, fix and verify."""

from datetime import datetime

import pandas as pd
import streamlit as st

from app import registers
from app.access.permissions import PermissionDenied
from app.checks.inspection import area_of_page, area_overview, mark_done, record_inspection, verify
from app.reading.queries import options
from app.saving.changes import SaveRejected
from app.ui import nav, session
from app.ui.text import md

db, actor = session.db(), session.actor()
area = area_of_page(session.current_page())
key = f"checks-{area}"
st.title(f"{area}检查与整改")
st.caption("检查制度：按计划的频率和方式（全检/抽查）检查并记录；不合格自动立项整改，"
           "责任人整改后由其他人验证。")

communities = options(db, registers.get("communities"), actor)
if not communities:
    st.info("还没有小区数据。")
    st.stop()
community = st.selectbox("小区", list(communities), format_func=communities.get, key=f"{key}-community", placeholder="请选择")
overview = area_overview(db, actor, area, community)
staff = options(db, registers.get("staff"), actor)

done_key = f"{key}-done"
if done_key in st.session_state:
    st.success(st.session_state.pop(done_key))


def save(action, message: str) -> None:
    """Run a save; show its problems, or rerun with a success message."""
    try:
        action()
    except SaveRejected as err:
        st.error("未保存：" + "；".join(md(p.message) for p in err.problems))
        return
    except PermissionDenied as err:
        st.error(md(err))
        return
    st.session_state[done_key] = message
    st.rerun()


m = st.columns(4)
m[0].metric("检查计划", len(overview.plans))
m[1].metric("到期未检", overview.due)
m[2].metric("未完成整改", int((overview.rectifications.get("status", pd.Series()) == "待整改").sum()))
m[3].metric("逾期整改", overview.overdue_rectifications)

st.subheader("本区域待办")
if overview.todo.empty:
    st.success("没有到期的检查或未完成的整改。")
else:
    st.table(overview.todo[["severity", "item", "due_on"]].rename(
        columns={"severity": "紧急", "item": "事项", "due_on": "到期日"}))

st.subheader("检查计划")
if overview.plans.empty:
    st.info(f"还没有{area}检查计划，请在「检查计划」台账中新增。")
else:
    st.dataframe(
        overview.plans[["item", "method", "frequency_days", "responsible", "last_inspected_on", "last_result",
                        "next_due", "days_overdue", "due"]],
        hide_index=True, width="stretch",
        column_config={
            "item": "检查项目", "method": "方式", "frequency_days": st.column_config.NumberColumn("频率(天)"),
            "responsible": "负责人",
            "last_inspected_on": st.column_config.DateColumn("最近检查", format="YYYY-MM-DD"),
            "last_result": "最近结果",
            "next_due": st.column_config.DateColumn("下次检查", format="YYYY-MM-DD"),
            "days_overdue": st.column_config.NumberColumn("逾期天数", format="%d"),
            "due": "到期",
        }, placeholder="",
    )

if not overview.plans.empty:
    with st.expander("登记一次检查", expanded=bool(overview.due)):
        plans = dict(zip(overview.plans["plan_id"].astype(int), overview.plans["item"]))
        with st.form(f"{key}-inspect", clear_on_submit=True):
            c = st.columns(3)
            plan = c[0].selectbox("检查计划", list(plans), format_func=plans.get, key=f"{key}-plan", placeholder="请选择")
            day = c[1].date_input("检查日期", value=db.now().date(), format="YYYY-MM-DD")
            moment = c[2].time_input("时间", value=db.now().time().replace(second=0, microsecond=0))
            c = st.columns(3)
            inspector = c[0].selectbox("检查人", [None, *staff], format_func=lambda s: staff.get(s, "请选择…"),
                                     key=f"{key}-inspector", placeholder="请选择")
            result = c[1].radio("结果", ["合格", "不合格"], horizontal=True, key=f"{key}-result")
            score = c[2].number_input("评分", min_value=0, max_value=100, value=None, step=1)
            location = st.text_input("检查位置", placeholder="抽查的楼栋、岗位或点位")
            findings = st.text_area("发现问题", placeholder="不合格须写明问题，作为整改内容", key=f"{key}-findings")
            if st.form_submit_button("保存检查记录", type="primary"):
                save(lambda: record_inspection(
                    db, actor, plan_id=plan, inspected_at=datetime.combine(day, moment), result=result,
                    inspector_id=inspector, findings=findings, location=location,
                    score=int(score) if score is not None else None,
                ), "已保存检查记录" + ("，已自动立项整改。" if result == "不合格" else "。"))

st.subheader("整改")
rect = overview.rectifications
if rect.empty:
    st.success("没有未完成的整改。")
else:
    st.dataframe(
        rect[["id", "status", "source", "issue", "responsible", "deadline", "days_overdue", "measures"]],
        hide_index=True, width="stretch",
        column_config={
            "id": st.column_config.NumberColumn("编号", format="%d"), "status": "状态", "source": "来源",
            "issue": "整改问题", "responsible": "责任人",
            "deadline": st.column_config.DateColumn("整改期限", format="YYYY-MM-DD"),
            "days_overdue": st.column_config.NumberColumn("逾期天数", format="%d"), "measures": "整改措施",
        }, placeholder="",
    )
    labels = {int(r.id): f"编号 {int(r.id)}（{r.status}）{r.issue[:30]}" for r in rect.itertuples()}
    picked = st.selectbox("办理一项整改", list(labels), format_func=labels.get, key=f"{key}-picked", placeholder="请选择")
    row = rect[rect["id"] == picked].iloc[0]
    if row["status"] == "待整改":
        with st.form(f"{key}-done-form"):
            measures = st.text_area("整改措施", placeholder="做了什么，何时完成", key=f"{key}-measures")
            if st.form_submit_button("整改完成", type="primary"):
                save(lambda: mark_done(db, actor, picked, measures), f"整改编号 {picked} 已标记为已整改，待他人验证。")
    else:
        with st.form(f"{key}-verify-form"):
            st.caption(f"整改责任人：{md(row['responsible'] or '未指定')}；验证人须是其他人。")
            verifier = st.selectbox("验证人", [None, *staff], format_func=lambda s: staff.get(s, "请选择…"),
                                    key=f"{key}-verifier", placeholder="请选择")
            note = st.text_input("验证意见")
            c = st.columns(2)
            if c[0].form_submit_button("验证通过", type="primary"):
                save(lambda: verify(db, actor, picked, verifier, True, note), f"整改编号 {picked} 已验证。")
            if c[1].form_submit_button("未通过，退回整改"):
                save(lambda: verify(db, actor, picked, verifier, False, note), f"整改编号 {picked} 已退回整改。")

st.subheader("最近 30 天的检查记录")
if overview.inspections.empty:
    st.caption("没有记录。")
else:
    st.dataframe(
        overview.inspections[["inspected_at", "item", "location", "inspector", "result", "score", "findings"]],
        hide_index=True, width="stretch",
        column_config={
            "inspected_at": st.column_config.DatetimeColumn("检查时间", format="YYYY-MM-DD HH:mm"),
            "item": "检查项目", "location": "位置", "inspector": "检查人", "result": "结果",
            "score": st.column_config.NumberColumn("评分", format="%d"), "findings": "发现问题",
        }, placeholder="",
    )

links = st.columns(3)
for n, name in enumerate(["inspection_plans", "inspections", "rectifications"]):
    links[n].page_link(nav.page_for(name), label=registers.get(name).label, icon=":material/table:")
