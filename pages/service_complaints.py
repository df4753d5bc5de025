"""投诉受理与处理: 界定, registration with a number, responsible person and deadline, handling, feedback."""

from datetime import date

import streamlit as st

from app import registers
from app.service import service_desk as desk
from app.ui import session
from app.ui.desk import act, flash, follow_link, pick_community
from app.ui.text import md

db, actor = session.db(), session.actor()
reg = registers.get("complaints")
state = st.session_state

st.title("投诉受理与处理")
st.caption("先界定是否有效投诉（仅咨询、建议的不计入）；登记即给编号，指定责任人，处理时限默认受理后 2 个工作日"
           "（节假日与调休按「节假日」台账），处理后 1 个工作日内反馈业主。")
flash()
if "complaint-next" in state:
    state["complaint-pick"] = state.pop("complaint-next")
follow_link(db, actor, "complaints", "complaint-community", "complaint-pick")  # a to-do or search link
community = pick_community(desk.communities(db, actor), "complaint-community")
staff = desk.staff_choices(db, community)

with st.expander("投诉受理（登记）", expanded=not state.get("complaint-pick")):
    homes = desk.household_choices(db, community)
    with st.form("complaint-intake", clear_on_submit=True):
        c = st.columns(4)
        valid = c[0].radio("界定", ["有效投诉", "仅咨询/建议"], key="complaint-valid", horizontal=True)
        channel = c[1].selectbox("投诉方式", reg.field("channel").values, key="complaint-channel", placeholder="请选择")
        category = c[2].selectbox("类别", reg.field("category").values, key="complaint-category", placeholder="请选择")
        household = c[3].selectbox("房屋", [None, *homes], key="complaint-household",
                                   format_func=lambda h: "（不涉及具体房屋）" if h is None else homes[h], placeholder="请选择")
        c = st.columns(4)
        location = c[0].text_input("涉及位置", key="complaint-location", placeholder="如 5幢电梯、北门")
        complainant = c[1].text_input("投诉人", key="complaint-person")
        phone = c[2].text_input("联系电话", key="complaint-phone")
        responsible = c[3].selectbox("责任人", [None, *staff], key="complaint-responsible",
                                     format_func=lambda s: "暂不指定" if s is None else staff[s], placeholder="请选择")
        deadline = st.date_input("处理时限（留空按 2 个工作日）", value=None, key="complaint-deadline", format="YYYY-MM-DD")
        description = st.text_area("投诉内容", key="complaint-description", height=80)
        if st.form_submit_button("登记投诉", type="primary"):
            values = {"community_id": community, "household_id": household, "location": location or None,
                      "channel": channel, "category": category, "complainant": complainant or None,
                      "phone": phone or None, "is_valid": valid == "有效投诉", "description": description.strip(),
                      "responsible_id": responsible, "deadline": deadline}

            def registered(result):
                state["complaint-next"] = result[0]
                due, _ = desk.complaint_deadlines(db, result[0])
                return f"已登记，投诉编号 {result[1]}" + (f"，处理时限 {due:%Y-%m-%d}" if due else "")

            act(registered, desk.register_complaint, db, actor, values)

show_closed = st.toggle("含已关闭", key="complaint-closed")
rows = desk.complaint_list(db, actor, community, open_only=not show_closed)
# Labels and their order must not change while a complaint moves on, or the select box starts over.
labels = {int(r.id): f"{r.complaint_no} · {r.category} · {r.location or ''}" for r in rows.itertuples()}
if state.get("complaint-pick") not in labels:
    state["complaint-pick"] = None
picked = st.selectbox("投诉（下表时限近的在前）", [None, *sorted(labels, reverse=True)], key="complaint-pick",
                      format_func=lambda x: "请选择投诉…" if x is None else labels[x], placeholder="请选择")
if picked is None:
    st.dataframe(rows.drop(columns="id"), hide_index=True, width="stretch", height=380, column_config={
        "complaint_no": "投诉编号", "status": "状态", "category": "类别", "location": "位置", "is_valid": "有效投诉",
        "responsible": "责任人", "received_at": st.column_config.DatetimeColumn("受理时间", format="YYYY-MM-DD HH:mm"),
        "deadline": "处理时限", "handled_at": st.column_config.DatetimeColumn("处理完成", format="YYYY-MM-DD HH:mm"),
        "overdue": "逾期未处理", "feedback_deadline": "反馈时限", "feedback_overdue": "逾期未反馈"}, placeholder="")
    st.stop()

row = rows[rows["id"] == picked].iloc[0]
st.subheader(f"投诉 {md(row.complaint_no)}")
c = st.columns(4)
c[0].metric("状态", row.status)
c[1].metric("责任人", md(row.responsible) or "未指定")
c[2].metric("处理时限", f"{row.deadline:%Y-%m-%d}" if isinstance(row.deadline, date) else "—")
c[3].metric("有效投诉", "是" if row.is_valid else "否（仅咨询）")
if row.overdue:
    st.error("已逾期未处理。")
if row.feedback_overdue:
    st.warning("已处理，逾期未反馈业主。")

for step in desk.complaint_next_steps(row.status):
    with st.container(border=True):
        if step == "处理中":
            who = st.selectbox("责任人", list(staff), key="complaint-step-who", format_func=staff.get, placeholder="请选择")
            if st.button("受理，交责任人处理", type="primary", key="complaint-step-accept"):
                act(f"已交 {staff.get(who)} 处理", desk.move_complaint, db, actor, picked, "处理中", responsible_id=who)
        elif step == "已关闭" and row.status == "待处理":
            if st.button("界定为仅咨询并关闭", key="complaint-step-consult"):
                act("已按咨询关闭", desk.move_complaint, db, actor, picked, "已关闭", is_valid=False)
        elif step == "已处理":
            result = st.text_area("处理结果", key="complaint-step-result", height=80)
            if st.button("处理完成", type="primary", key="complaint-step-handled"):
                act("已记录处理结果", desk.move_complaint, db, actor, picked, "已处理", result=result)
        elif step == "已反馈":
            satisfied = st.radio("业主是否满意", ["满意", "不满意"], horizontal=True, key="complaint-step-satisfied")
            if st.button("已反馈业主", type="primary", key="complaint-step-feedback"):
                act("已记录反馈" + ("；业主不满意，已标记待整改" if satisfied == "不满意" else ""), desk.move_complaint, db, actor, picked, "已反馈", owner_satisfied=satisfied == "满意")
        elif step == "已关闭" and st.button("关闭投诉", key="complaint-step-close"):
            act("已关闭", desk.move_complaint, db, actor, picked, "已关闭")

detail = desk.complaint_detail(db, picked)
if detail.get("owner_satisfied") is False:
    st.warning("回访不满意：须责任到人、限期整改（检查与整改台账上线后在那里立项跟踪）。")
st.dataframe({"项目": [k for k, _ in detail["lines"]], "内容": [v for _, v in detail["lines"]]},
             hide_index=True, width="stretch", placeholder="")
with st.expander("照片与附件"):
    from app.ui.attachments import attachments_panel

    attachments_panel(db, actor, reg, picked)
