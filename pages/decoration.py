"""装修办理: application checklist, approval, worker passes, checks, acceptance and deposit refund."""

import streamlit as st

from app.estate import decoration
from app.estate import occupancy as estate
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.text import md, problems_markdown

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("装修办理")
st.caption("建设部令第110号：申报材料齐全并签订装修管理服务协议后才能批准；每户同时只能有一项未完成的装修。"
           "巡查发现的违规整改后才能验收；验收后退还保证金，扣除罚款。")


def show_problems(err: SaveRejected) -> None:
    st.error(problems_markdown(err.kind, err.problems))


def run(action, done: str) -> None:
    """Run one desk action; problems shown, success remembered across the rerun."""
    try:
        action()
    except SaveRejected as err:
        show_problems(err)
    else:
        st.session_state["decoration-done"] = done
        st.rerun()


communities = estate.communities(db, actor)
if not communities:
    st.info("还没有小区。")
    st.stop()
community = st.selectbox("小区", list(communities), format_func=communities.get, key="decoration-community", placeholder="请选择")
staff = estate.staff(db, community)
notice = st.empty()  # always drawn, so the tabs below keep their place (and the chosen tab) on reruns
if st.session_state.get("decoration-done"):
    notice.success(st.session_state.pop("decoration-done"))

current, new = st.tabs(["装修中的房屋", "新申请"])

with new:
    homes = estate.households(db, community)
    with st.form("decoration-apply", clear_on_submit=True):
        a, b, c = st.columns(3)
        household = a.selectbox("房屋", list(homes), format_func=homes.get, key="apply-household", placeholder="请选择")
        applicant = b.text_input("申请人")
        role = c.selectbox("申请人身份", ["业主", "租户"], placeholder="请选择")
        a, b, c = st.columns(3)
        contractor = a.text_input("施工单位（自行施工留空）")
        start = b.date_input("计划开工", value=today, format="YYYY-MM-DD")
        end = c.date_input("计划完工", value=today, format="YYYY-MM-DD")
        content = st.text_input("装修内容")
        deposit = st.number_input("应交保证金(元)", min_value=0.0, value=2000.0, step=500.0)
        st.markdown("**申报材料**")
        ticks = {item.column: st.checkbox(item.label, key=f"apply-{item.column}")
                 for item in decoration.checklist({"applicant_role": "租户", "contractor": "x"})}
        submitted = st.form_submit_button("登记申请", type="primary")
    if submitted:
        values = {"household_id": household, "applicant": applicant.strip() or None, "applicant_role": role,
                  "contractor": contractor.strip() or None, "content": content.strip() or None,
                  "planned_start_on": start, "planned_end_on": end, "deposit_required": f"{deposit:.2f}",
                  "applied_on": today, **ticks}
        run(lambda: decoration.apply(db, actor, values), "已登记装修申请")

with current:
    show_closed = st.toggle("包括已退保证金的装修", key="decoration-closed")
    board = decoration.board(db, community, include_closed=show_closed)
    if board.empty:
        st.info("没有进行中的装修。")
        st.stop()
    st.dataframe(
        board.drop(columns=["community_id"]), hide_index=True, width="stretch", height=260,
        column_config={"decoration_id": st.column_config.NumberColumn("编号", format="%d"),
                       "household": "房屋", "applicant": "申请人", "contractor": "施工单位", "status": "状态",
                       "applied_on": "申请日期", "planned_start_on": "计划开工", "planned_end_on": "计划完工",
                       "received": st.column_config.NumberColumn("已收保证金", format="%.2f"),
                       "penalties": st.column_config.NumberColumn("罚款", format="%.2f"),
                       "open_violations": st.column_config.NumberColumn("未整改违规", format="%d"),
                       "refundable": st.column_config.NumberColumn("可退(元)", format="%.2f"),
                       "works_overdue": "超期"}, placeholder="")
    labels = {int(r.decoration_id): f"{r.household}  {r.applicant}  {r.status}" for r in board.itertuples(index=False)}
    picked = st.selectbox("办理", list(labels), format_func=labels.get, key="decoration-picked", placeholder="请选择")
    d = decoration.decoration(db, picked)
    money = decoration.deposit_state(db, picked, today)
    st.subheader(f"{md(d['household_code'])}：{md(d['status'])}")
    m = st.columns(4)
    m[0].metric("应交保证金(元)", f"{d['deposit_required'] or 0:,.2f}")
    m[1].metric("已收(元)", f"{money.get('received', 0):,.2f}")
    m[2].metric("罚款(元)", f"{money.get('penalties', 0):,.2f}", help=f"未整改违规 {money.get('open_violations', 0)} 项")
    m[3].metric("可退(元)", f"{money.get('refundable', 0):,.2f}")

    with st.expander("申报材料清单", expanded=d["status"] == "申请"):
        with st.form(f"checklist-{picked}"):
            ticks = {}
            for item in decoration.checklist(d):
                label = item.label + ("" if item.needed else "（本申请不需要）")
                ticks[item.column] = st.checkbox(label, value=item.done, key=f"check-{picked}-{item.column}")
            saved = st.form_submit_button("保存材料清单")
        if saved:
            run(lambda: decoration.update_checklist(db, actor, picked, ticks), "已保存材料清单")
        missing = decoration.missing_documents(d)
        if missing:
            st.warning("尚缺：" + "、".join(missing))

    step = st.container(border=True)
    if d["status"] == "申请":
        with step.form(f"approve-{picked}"):
            who = st.selectbox("审批人", list(staff), format_func=staff.get, key=f"approver-{picked}", placeholder="请选择")
            on = st.date_input("批准日期", value=today, key=f"approved-on-{picked}", format="YYYY-MM-DD")
            go = st.form_submit_button("批准", type="primary")
        if go:
            run(lambda: decoration.approve(db, actor, picked, who, on), "已批准")
    elif d["status"] == "已批准":
        left, right = step.columns(2)
        if money.get("received", 0) < (d["deposit_required"] or 0) and left.button("收取保证金", key=f"deposit-{picked}"):
            run(lambda: decoration.receive_deposit(db, actor, picked, on=today), "已收取保证金")
        if right.button("开工", type="primary", key=f"start-{picked}"):
            run(lambda: decoration.move(db, actor, picked, "施工中"), "已开工")
    elif d["status"] == "施工中":
        if step.button("完工，申请验收", type="primary", key=f"finish-{picked}"):
            run(lambda: decoration.move(db, actor, picked, "待验收"), "已转待验收")
    elif d["status"] == "待验收":
        with step.form(f"accept-{picked}"):
            who = st.selectbox("验收人", list(staff), format_func=staff.get, key=f"acceptor-{picked}", placeholder="请选择")
            note = st.text_input("验收意见")
            ok = st.form_submit_button("验收合格", type="primary")
            rework = st.form_submit_button("验收不合格，返工")
        if ok:
            run(lambda: decoration.accept(db, actor, picked, who, today, note or None), "已验收")
        if rework:
            run(lambda: decoration.move(db, actor, picked, "施工中", acceptance_note=note or None), "已退回施工")
    elif d["status"] == "已验收":
        step.write(f"退还保证金 {money.get('received', 0):,.2f} 元，扣除罚款 {money.get('penalties', 0):,.2f} 元，"
                   f"实退 {money.get('refundable', 0):,.2f} 元。")
        who = step.selectbox("退还经办人", list(staff), format_func=staff.get, key=f"refunder-{picked}", placeholder="请选择")
        if step.button("退还保证金", type="primary", key=f"refund-{picked}"):
            run(lambda: decoration.refund_deposit(db, actor, picked, today, who), "已退还保证金")

    st.subheader("施工人员与出入证")
    passes = decoration.workers(db, picked, today)
    if not passes.empty:
        st.dataframe(passes.drop(columns=["worker_id"]), hide_index=True, width="stretch",
                     column_config={"name": "姓名", "trade": "工种", "pass_no": "出入证号", "issued_on": "发证日期",
                                    "valid_until": "有效期至", "returned_on": "交回日期", "pass_valid": "有效"}, placeholder="")
    if d["status"] in ("已批准", "施工中", "待验收"):
        with st.form(f"pass-{picked}", clear_on_submit=True):
            a, b, c = st.columns(3)
            name = a.text_input("姓名")
            trade = b.selectbox("工种", ["水电", "泥瓦", "木工", "油漆", "杂工", "其他"], placeholder="请选择")
            until = c.date_input("有效期至", value=d["planned_end_on"] or today, format="YYYY-MM-DD")
            issue = st.form_submit_button("办理出入证")
        if issue and name.strip():
            run(lambda: decoration.issue_pass(db, actor, picked, name.strip(), until, trade=trade), "已办理出入证")

    st.subheader("巡查记录")
    found = decoration.checks(db, picked)
    if not found.empty:
        st.dataframe(found.drop(columns=["check_id"]), hide_index=True, width="stretch",
                     column_config={"checked_on": "巡查日期", "inspector": "巡查人", "violation_kind": "违规类别",
                                    "violation": "违规情况",
                                    "penalty": st.column_config.NumberColumn("罚款(元)", format="%.2f"),
                                    "deadline": "整改期限", "rectified_on": "整改日期", "open": "未整改"}, placeholder="")
        open_checks = {int(r.check_id): f"{r.checked_on} {r.violation}" for r in found.itertuples(index=False) if r.open}
        if open_checks:
            left, right = st.columns([3, 1])
            which = left.selectbox("已整改的违规", list(open_checks), format_func=open_checks.get,
                                   key=f"rectified-{picked}", placeholder="请选择")
            if right.button("登记已整改", key=f"rectify-{picked}"):
                run(lambda: decoration.mark_rectified(db, actor, which, today), "已登记整改")
    with st.form(f"patrol-{picked}", clear_on_submit=True):
        a, b, c = st.columns(3)
        inspector = a.selectbox("巡查人", list(staff), format_func=staff.get, placeholder="请选择")
        kind = b.selectbox("违规类别（没有违规留空）", [None, "拆改承重结构", "改变厨卫阳台用途", "违规时间施工",
                                                 "无证人员施工", "垃圾乱堆", "消防隐患", "破坏公共设施", "其他"], placeholder="请选择")
        penalty = c.number_input("罚款(元)", min_value=0.0, step=50.0)
        text = st.text_input("违规情况")
        deadline = st.date_input("整改期限", value=None, format="YYYY-MM-DD")
        record = st.form_submit_button("登记巡查")
    if record:
        values = {"inspector_id": inspector, "violation_kind": kind, "violation": text.strip() or None,
                  "penalty": f"{penalty:.2f}", "deadline": deadline}
        run(lambda: decoration.record_check(db, actor, picked, today, **values), "已登记巡查")
