"""报修受理与派工: intake with an order number at once, dispatch by urgency, the workflow, 回访, 维修报告."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import streamlit as st

from app import registers
from app.service import service_desk as desk
from app.ui import session
from app.ui.desk import act, flash, follow_link, pick_community
from app.ui.text import md

db, actor = session.db(), session.actor()
reg = registers.get("work_orders")
state = st.session_state

st.title("报修受理与派工")
st.caption("报修即给单号；按紧急程度派工（紧急 30 分钟内到场，一般 24 小时内，预约按约定时间）；"
           "状态只能按 待派工→已派工→处理中⇄暂停→已完成→已回访→已关闭 流转，每一步自动记时间。")
flash()
follow_link(db, actor, "work_orders", "desk-community", "desk-order")  # a to-do or search link
if "desk-order-next" in state:  # an order just registered: open it (before its select box exists)
    state["desk-order"] = state.pop("desk-order-next")
community = pick_community(desk.communities(db, actor), "desk-community")
staff = desk.staff_choices(db, community)

# -- 1. intake --------------------------------------------------------------------------------
with st.expander("报修受理（登记新报修单）", expanded=not state.get("desk-order")):
    homes = desk.household_choices(db, community)
    with st.form("desk-intake", clear_on_submit=True):
        c = st.columns(4)
        household = c[0].selectbox("房屋", [None, *homes], key="intake-household",
                                   format_func=lambda h: "公共部位（不选房屋）" if h is None else homes[h], placeholder="请选择")
        channel = c[1].selectbox("报修方式", reg.field("channel").values, key="intake-channel", placeholder="请选择")
        category = c[2].selectbox("类别", reg.field("category").values, key="intake-category", placeholder="请选择")
        urgency = c[3].selectbox("紧急程度", reg.field("urgency").values, index=1, key="intake-urgency", placeholder="请选择")
        c = st.columns(4)
        location = c[0].text_input("报修位置", key="intake-location", placeholder="公共部位填写，如 5幢电梯")
        reporter = c[1].text_input("报修人", key="intake-reporter")
        phone = c[2].text_input("联系电话", key="intake-phone")
        assignee = c[3].selectbox("立即派工给（可不选）", [None, *staff], key="intake-assignee",
                                  format_func=lambda s: "暂不派工" if s is None else staff[s], placeholder="请选择")
        c = st.columns(4)
        on_day = c[0].date_input("预约日期（预约报修）", value=db.now().date() + timedelta(days=1),
                                 key="intake-appointment-day", format="YYYY-MM-DD")
        at_time = c[1].time_input("预约时间", value=time(9, 0), key="intake-appointment-time")
        description = st.text_area("报修内容", key="intake-description", height=80)
        if st.form_submit_button("登记报修", type="primary"):
            values = {"community_id": community, "household_id": household, "channel": channel,
                      "category": category, "urgency": urgency, "location": location or None,
                      "reporter_name": reporter or None, "reporter_phone": phone or None,
                      "description": description.strip(), "assignee_id": assignee}
            if urgency == "预约":
                values["appointment_at"] = datetime.combine(on_day, at_time)

            def registered(result):
                state["desk-order-next"] = result[0]
                return f"已登记，报修单号 {result[1]}"

            act(registered, desk.register_repair, db, actor, values)

# -- 2. the orders, open ones by urgency ----------------------------------------------------
orders = desk.order_list(db, actor, community)
# Labels and their order must not change while an order moves on, or the select box starts over.
labels = desk.order_labels(db, [*orders["id"], *([state["desk-order"]] if state.get("desk-order") else [])])
if state.get("desk-order") not in labels:
    state["desk-order"] = None
order_id = st.selectbox("报修单（下表未办结的按紧急程度在前）", [None, *sorted(labels, reverse=True)], key="desk-order",
                        format_func=lambda o: "请选择报修单…" if o is None else labels[o], placeholder="请选择")
if order_id is None:
    st.dataframe(orders.drop(columns="id"), hide_index=True, width="stretch", height=360, column_config={
        "order_no": "报修单号", "status": "状态", "urgency": "紧急程度", "category": "类别", "place": "位置",
        "description": "报修内容", "reported_at": st.column_config.DatetimeColumn("报修时间", format="YYYY-MM-DD HH:mm"),
        "assignee": "维修人员"}, placeholder="")
    # -- batch dispatch: several orders to one person, all or none -------------------------------
    waiting = {int(i): labels[int(i)] for i in orders.loc[orders["status"] == "待派工", "id"] if int(i) in labels}
    if waiting and staff:
        with st.expander(f"批量派工（待派工 {len(waiting)} 张）"):
            with st.form("desk-batch"):
                picked = st.multiselect("报修单", list(waiting), format_func=waiting.get, key="batch-orders",
                                        placeholder="勾选要派工的报修单")
                who = st.selectbox("派工给", list(staff), format_func=staff.get, key="batch-assignee",
                                   placeholder="请选择")
                go = st.form_submit_button("批量派工", type="primary")
            if go:
                act(lambda summary: summary, desk.dispatch_many, db, actor, picked, who)
            st.caption("所选报修单逐张按派工流程处理；任何一张不能派工时，全部不派，并列出原因。")
    st.stop()

# -- 3. one order: its state and the steps it may take next ---------------------------------
d = desk.order_detail(db, order_id)
sla = d["sla"]
st.subheader(f"报修单 {md(d['order_no'])}")
c = st.columns(5)
c[0].metric("状态", d["status"])
c[1].metric("紧急程度", d["urgency"])
c[2].metric("维修人员", md(d["assignee"]) or "未派工")
clock = "—"
if d["status"] in desk.OPEN_STATUSES and sla:
    deadline = sla["arrival_deadline"] if d["arrived_at"] is None else sla["completion_deadline"]
    clock = desk.clock_text((deadline - db.now()).total_seconds() / 60)
c[3].metric("到场/完成时限", clock)
c[4].metric("按时到场", "—" if sla.get("on_time") is None else ("是" if sla["on_time"] else "否"))
st.caption(md(f"{d['community']} · {d['household'] or d['location'] or ''} · {d['category']} · {d['description']}"
              + (f" · 返修原单 {d['rework_no']}" if d["rework_no"] else "")))

steps = d["next_steps"]
if not steps and d["status"] == "已关闭":
    st.info("本单已关闭。")
for step in steps:
    with st.container(border=True):
        if step == "已派工":
            who = st.selectbox("派工给", list(staff), key="step-assignee", format_func=staff.get, placeholder="请选择")
            if st.button("派工", type="primary", key="step-dispatch"):
                act(f"已派工给 {staff.get(who)}", desk.dispatch, db, actor, order_id, who)
        elif step == "处理中" and d["status"] == "已派工":
            if st.button("到场，开始处理", type="primary", key="step-arrive"):
                act("已记录到场时间", desk.arrive, db, actor, order_id)
        elif step == "处理中":
            if st.button("恢复处理", type="primary", key="step-resume"):
                act("已恢复处理，暂停时间不计入完成时限", desk.resume, db, actor, order_id)
        elif step == "暂停":
            reason = st.text_input("暂停原因", key="step-pause-reason", placeholder="如 等待配件、业主不在家")
            if st.button("暂停", key="step-pause"):
                act("已暂停", desk.pause, db, actor, order_id, reason or "未注明")
        elif step == "已完成":
            st.markdown("**完成维修**")
            report = st.text_area("维修报告（故障原因、处理过程、更换材料）", key="step-report", height=80)
            c = st.columns(3)
            hours = c[0].number_input("工时(小时)", min_value=0.0, step=0.5, value=1.0, key="step-hours")
            charge = c[1].number_input("收费(元)", min_value=0.0, step=10.0, value=0.0, key="step-charge")
            confirmed = c[2].checkbox("业主已确认", key="step-confirmed")
            if st.button("完成", type="primary", key="step-complete"):
                act("已完成，请安排回访", desk.complete, db, actor, order_id, report=report or None,
                                          labor_hours=Decimal(str(hours)), charge=Decimal(f"{charge:.2f}"),
                                          owner_confirmed=confirmed)
        elif step == "已回访":
            st.markdown("**回访**")
            c = st.columns(3)
            score = c[0].radio("满意度", [5, 4, 3, 2, 1], horizontal=True, key="step-score",
                               format_func=lambda s: f"{s} 分")
            visitor = c[1].selectbox("回访人", [None, *staff], key="step-visitor",
                                     format_func=lambda s: "（本人）" if s is None else staff[s], placeholder="请选择")
            rework = c[2].checkbox("需返修", key="step-rework")
            comment = st.text_input("业主意见", key="step-comment")
            if st.button("登记回访", type="primary", key="step-visit"):
                act(f"已登记回访（{score} 分），报修单转为已回访", desk.record_visit, db, actor, order_id, score, staff_id=visitor,
                                              comment=comment or None, needs_rework=rework)
        elif step == "已关闭" and st.button("关闭报修单", key="step-close"):
            act("已关闭", desk.close_order, db, actor, order_id)

if d["status"] in ("已完成", "已回访", "已关闭"):
    with st.expander("返修（新开报修单并关联本单）"):
        what = st.text_input("返修内容", key="step-rework-description")
        if st.button("开返修单", key="step-reopen"):
            def reopened(result):
                state["desk-order-next"] = result[0]
                return f"已开返修单 {result[1]}"

            act(reopened, desk.reopen_as_rework, db, actor, order_id, what or "返修")

# -- 4. materials from stock ----------------------------------------------------------------
st.subheader("领用材料")
used = desk.order_materials(db, order_id)
if used.empty:
    st.caption("还没有领用材料。")
else:
    st.dataframe(used, hide_index=True, width="stretch",
                 column_config={**desk.MATERIAL_HEADERS,
                                "moved_at": st.column_config.DatetimeColumn("领料时间", format="YYYY-MM-DD HH:mm")}, placeholder="")
    st.caption(f"材料费合计 {sla.get('material_cost', 0):,.2f} 元（按领料时的平均单价）")
if d["status"] not in ("待派工", "已关闭"):
    stock = desk.material_choices(db, order_id)
    if stock.empty:
        st.caption("本小区仓库没有可领用的物品。")
    else:
        items = {int(r.stock_item_id): f"{r.code} {r.name}（库存 {r.on_hand:g} {r.unit}）"
                 for r in stock.itertuples()}
        with st.form("desk-materials", clear_on_submit=True):
            c = st.columns([3, 1])
            item = c[0].selectbox("物品", list(items), format_func=items.get, key="material-item", placeholder="请选择")
            qty = c[1].number_input("数量", min_value=0.0, step=1.0, value=1.0, key="material-qty")
            if st.form_submit_button("领料出库"):
                act(f"已出库：{items[item].split('（')[0]} × {qty:g}", desk.issue_materials, db, actor, order_id, [(item, Decimal(str(qty)))])

# -- 4b. paid repair: charged by the price list, billed for the cashier -----------------------
st.subheader("有偿维修收费")
charges = desk.order_charges(db, order_id)
if charges.empty:
    st.caption("本单没有有偿维修收费（按「维修服务收费标准」计价，不手填金额）。")
else:
    st.dataframe(charges.drop(columns=["id"]), hide_index=True, width="stretch",
                 column_config=desk.CHARGE_HEADERS, placeholder="")
    st.caption(f"收费合计 {d['charge'] or 0:,.2f} 元（数量 × 收费标准单价，自动计算）")
if d["status"] != "已关闭":
    prices = desk.price_choices(db, order_id)
    if prices.empty:
        st.caption("本小区还没有已审批的维修服务收费标准。")
    else:
        options = {int(r.id): f"{r.category} · {r.item}（{r.unit_price:,.2f} 元/{r.unit}）" for r in prices.itertuples()}
        with st.form("desk-charges", clear_on_submit=True):
            c = st.columns([3, 1])
            item = c[0].selectbox("服务项目", list(options), format_func=options.get, key="charge-item",
                                  placeholder="请选择")
            qty = c[1].number_input("数量", min_value=0.0, step=1.0, value=1.0, key="charge-qty")
            if st.form_submit_button("按收费标准计费"):
                act(f"已计费：{options[item].split('（')[0]} × {qty:g}", desk.charge_by_list, db, actor, order_id,
                    [(item, Decimal(str(qty)))])
unbilled = not charges.empty and charges["billed_on"].isna().any()
if unbilled and st.button("出账（生成有偿维修账单，到收银台收取）", key="charge-bill"):
    act("已生成有偿维修账单，请到收银台收取", desk.bill_charges, db, actor, order_id)

# -- 5. the worker's report, photos ----------------------------------------------------------
st.subheader("维修报告")
report = desk.repair_report(db, actor, order_id)
st.dataframe({"项目": [k for k, _ in report["lines"]], "内容": [v for _, v in report["lines"]]},
             hide_index=True, width="stretch", placeholder="")
if not report["visits"].empty:
    st.dataframe(report["visits"], hide_index=True, width="stretch", column_config=desk.VISIT_HEADERS, placeholder="")
c = st.columns(2)
c[0].download_button("打印版（HTML，浏览器中打印）", data=desk.repair_report_html(report),
                     file_name=f"维修报告-{d['order_no']}.html", mime="text/html", on_click="ignore",
                     icon=":material/print:", key="report-html")
c[1].download_button("导出 Excel", data=lambda: desk.repair_report_xlsx(report),
                     file_name=f"维修报告-{d['order_no']}.xlsx", on_click="ignore",
                     icon=":material/download:", key="report-xlsx")
with st.expander("现场照片与附件"):
    from app.ui.attachments import attachments_panel

    attachments_panel(db, actor, reg, order_id)
