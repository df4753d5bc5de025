"""出账、催缴与报表: the bill run (dry run, confirm, progress), notices and the 催缴 list,
household statements, collection charts, budget against actual, and the period close."""

import streamlit as st

from app.access import scope
from app.access.permissions import PermissionDenied
from app.fees import billing, cashier, dunning, fee_documents, printing
from app.saving.changes import SaveRejected
from app.ui import charts, session
from app.ui.text import problems_markdown

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html"
db, actor = session.db(), session.actor()
today = db.now().date()
st.title("出账、催缴与报表")

communities = scope.communities(db, actor)
if not communities:
    st.info("还没有小区。")
    st.stop()
left, right = st.columns(2)
community = left.selectbox("小区", list(communities), format_func=communities.get, key="fees-community", placeholder="请选择")
periods = [f"{y}-{m:02d}" for y in range(today.year + 1, today.year - 3, -1) for m in range(12, 0, -1)]
period = right.selectbox("账期", periods, index=periods.index(today.strftime("%Y-%m")), key="fees-period", placeholder="请选择")


def show_problems(err: SaveRejected) -> None:
    st.error(problems_markdown(err.kind, err.problems))


run, notices, reports, close = st.tabs(["出账", "通知与催缴", "报表", "结账"])

with run:
    st.caption("先预览：各楼栋本次出账与上期对比，以及需要核对的变化（新增房屋、面积变更、缺少或不能出账的抄表读数、"
               "无业主登记的房屋、按天折算的房屋、公摊表计的分摊与尾差归属）。确认无误后再出账；已出过的账单不会重复。"
               "计费公式算不出金额或为负数时，预览和出账都会停止并列出房屋与公式。")
    if st.button("预览出账", key="fees-preview"):
        st.session_state["fees-preview-of"] = (community, period)
    preview = None
    if st.session_state.get("fees-preview-of") == (community, period):
        try:
            preview = billing.preview_bill_run(db, community, period)
        except SaveRejected as err:
            show_problems(err)
    if preview is not None:
        a, b, c = st.columns(3)
        a.metric("将新增账单", f"{len(preview.lines):,}")
        b.metric("合计(元)", f"{preview.total:,.2f}")
        c.metric("本期已有账单（跳过）", f"{preview.already_billed:,}")
        st.dataframe(preview.buildings.drop(columns=["building_id"]), hide_index=True, width="stretch",
                     column_config={"building": "楼栋", "households": "户数", "previous_bills": "上期账单数",
                                    "previous_amount": "上期金额(元)", "already_billed": "本期已有",
                                    "bills": "本次账单数", "amount": "本次金额(元)",
                                    "difference": "与上期差额(元)"}, placeholder="")
        if preview.changes.empty:
            st.success("与上期相比没有需要核对的变化。")
        else:
            st.warning(f"有 {len(preview.changes)} 处需要核对：")
            st.dataframe(preview.changes, hide_index=True, width="stretch",
                         column_config={"building": "楼栋", "code": "房号", "kind": "变化", "detail": "说明"}, placeholder="")
        if len(preview.lines) and st.button(f"确认出账（{len(preview.lines):,} 张）", type="primary",
                                            key="fees-confirm"):
            bar = st.progress(0.0, text="正在出账……")

            def progress(done: int, total: int) -> None:
                bar.progress(done / total if total else 1.0, text=f"已出账 {done:,} / {total:,} 张")

            try:
                added = billing.generate_bills(db, actor, community, period, progress=progress)
            except SaveRejected as err:
                show_problems(err)
            else:
                st.session_state.pop("fees-preview-of", None)
                st.success(f"已出账 {added:,} 张。")
                left_out = billing.unbillable_readings(db, community, period)
                if not left_out.empty:
                    st.warning(f"有 {len(left_out)} 条抄表读数不能出账（已列入待办），请更正后再出账：")
                    st.dataframe(left_out.drop(columns=["reading_id"]), hide_index=True, width="stretch",
                                 column_config={"code": "房号", "meter": "表计", "detail": "说明"}, placeholder="")

with notices:
    buildings = cashier.buildings(db, community)
    left, mid, right = st.columns(3)
    building = left.selectbox("楼栋", [None, *buildings], format_func=lambda b: buildings.get(b, "全部楼栋"),
                              key="fees-building", placeholder="请选择")
    kind = mid.radio("通知", ["缴费通知单", "催缴通知书"], horizontal=True, key="fees-notice-kind")
    days = right.number_input("逾期天数不少于", min_value=0, value=90, step=30, key="fees-days",
                              disabled=kind == "缴费通知单")
    arrears_days = int(days) if kind == "催缴通知书" else None
    if st.button("生成通知单", key="fees-make-notices"):
        book, households = fee_documents.notices_workbook(db, community, period, today, building, arrears_days)
        st.session_state["fees-notices"] = (book, households, kind)
    made = st.session_state.get("fees-notices")
    if made:
        book, households, made_kind = made
        st.write(f"{made_kind} {len(households)} 户，每户一页 A4。")
        left, right = st.columns(2)
        left.download_button(f"打印{made_kind}（A4 打印版）", lambda: printing.notices_html(
            db, actor, community, households, period, today, dunning=made_kind == "催缴通知书"),
            file_name=f"{made_kind}_{period}.html", mime=HTML, on_click="ignore", icon=":material/print:",
            key="fees-notices-print", disabled=not households)
        right.download_button(f"下载{made_kind}（Excel，可打印）", book, file_name=f"{made_kind}_{period}.xlsx",
                              mime=XLSX, key="fees-notices-download")
        if made_kind == "催缴通知书" and households:
            staff = dict(cashier.cashiers(db, community))
            with st.form("fees-record-step"):
                step = st.selectbox("记录催缴步骤", fee_documents.ARREARS_STEPS, index=1, placeholder="请选择")
                handler = st.selectbox("经办人", [None, *staff], format_func=lambda s: staff.get(s, "（未指定）"), placeholder="请选择")
                record = st.form_submit_button(f"为这 {len(households)} 户记录")
            if record:
                try:
                    fee_documents.record_arrears_actions(db, actor, households, step, today, handler)
                except SaveRejected as err:
                    show_problems(err)
                else:
                    st.success(f"已记录 {len(households)} 户的{step}。")
    st.caption(fee_documents.NO_CUT_OFF)
    st.subheader("催缴名单")
    listed = dunning.arrears_contacts(db, actor, community, today, int(days) if kind == "催缴通知书" else 0)
    st.dataframe(listed.drop(columns=["household_id"]), hide_index=True, width="stretch",
                 column_config={"household_code": "房号", "building": "楼栋", "owners": "业主", "phones": "电话",
                                "bills": "欠费账单数",
                                "outstanding": "欠费(元)", "late_fee": "滞纳金(元)", "total_due": "合计(元)",
                                "oldest_due_date": "最早到期日", "days_overdue": "逾期天数",
                                "last_step": "最近催缴", "last_acted_on": "催缴日期", "steps": "催缴次数"}, placeholder="")
    if not listed.empty:
        homes = dict(zip(listed["household_id"].astype(int), listed["household_code"]))
        staff = dict(cashier.cashiers(db, community))
        with st.form("fees-dunning-batch"):
            st.markdown("**一键催缴**：勾选房屋，为每户记录一次「催缴通知书」，并生成一份可打印的通知书（每户一页）。")
            picked = st.multiselect("房屋", list(homes), format_func=homes.get, key="fees-dunning-homes",
                                    placeholder="勾选要催缴的房屋")
            handler = st.selectbox("经办人", [None, *staff], format_func=lambda s: staff.get(s, "（未指定）"),
                                   key="fees-dunning-handler", placeholder="请选择")
            send = st.form_submit_button("生成催缴通知书并记录", type="primary")
        if send:
            try:
                batch = dunning.send_notices(db, actor, community, picked, period, today, handler)
            except SaveRejected as err:
                show_problems(err)
            except PermissionDenied as err:
                st.error(str(err))
            else:
                st.session_state["fees-dunning-sent"] = (batch.html, batch.workbook, len(picked))
        sent = st.session_state.get("fees-dunning-sent")
        if sent:
            page, book, count = sent
            st.success(f"已为 {count} 户记录催缴通知书。")
            left, right = st.columns(2)
            left.download_button("打印催缴通知书（A4 打印版）", page, file_name=f"催缴通知书_{today}.html", mime=HTML,
                                 on_click="ignore", icon=":material/print:", key="fees-dunning-print")
            right.download_button("下载催缴通知书（Excel）", book, file_name=f"催缴通知书_{today}.xlsx", mime=XLSX,
                                  on_click="ignore", key="fees-dunning-xlsx")
    st.subheader("批量打印收据")
    left, right = st.columns(2)
    since = left.date_input("收款日期从", value=today, key="fees-receipts-from", format="YYYY-MM-DD")
    until = right.date_input("到", value=today, key="fees-receipts-to", format="YYYY-MM-DD")
    receipt_ids = printing.receipt_ids(db, actor, community, since, until)
    if receipt_ids:
        st.download_button(f"打印这 {len(receipt_ids)} 张收据（A4，每张一页）",
                           lambda: printing.receipts_html(db, actor, receipt_ids),
                           file_name=f"收据_{since}_{until}.html", mime=HTML, on_click="ignore",
                           icon=":material/print:", key="fees-receipts-print")
    else:
        st.caption("所选日期没有收据。")
    st.subheader("业主对账单")
    codes = cashier.household_codes(db, community)
    chosen = st.selectbox("房屋", [None, *codes], format_func=lambda h: codes.get(h, "选择房屋"),
                          key="fees-statement-household", placeholder="请选择")
    if chosen is not None:
        s = fee_documents.statement(db, chosen, today)
        st.write(f"欠费 {s.outstanding:,.2f} 元，滞纳金 {s.late_fee:,.2f} 元，预存款 {s.credit:,.2f} 元，"
                 f"应缴合计 {s.balance:,.2f} 元")
        left, right = st.columns(2)
        left.download_button("打印对账单（A4 打印版）", lambda: printing.statements_html(db, actor, [chosen], today),
                             file_name=f"对账单_{s.code}.html", mime=HTML, on_click="ignore",
                             icon=":material/print:", key="fees-statement-print")
        right.download_button("下载对账单（Excel，可打印）", fee_documents.statement_workbook(db, chosen, today),
                              file_name=f"对账单_{s.code}.xlsx", mime=XLSX, key="fees-statement-download")

with reports:
    by_month = fee_documents.collection_by_month(db, community, today)
    if by_month.empty:
        st.info("还没有账单。")
    else:
        st.altair_chart(charts.collection_by_month(by_month), width="stretch")
        by_building = fee_documents.collection_by_building(db, community, today, period)
        if not by_building.empty:
            st.altair_chart(charts.collection_by_building(by_building), width="stretch")
        else:
            st.caption(f"{period} 没有账单，楼栋收费率从略。")
        ageing = fee_documents.arrears_ageing(db, community, today)
        if not ageing.empty:
            st.altair_chart(charts.arrears_ageing(ageing), width="stretch")
    year = st.number_input("年度", min_value=2000, max_value=2100, value=today.year, key="fees-year")
    st.subheader(f"{int(year)} 年预算执行")
    budget = fee_documents.budget_vs_actual(db, community, int(year))
    if budget.empty:
        st.caption("没有预算，也没有日常收支记录（在「预算」「日常收支」台账中录入）。")
    else:
        st.dataframe(budget, hide_index=True, width="stretch",
                     column_config={"direction": "收支", "category": "类别", "budget": "预算(元)",
                                    "actual": "实际(元)", "variance": "差额(元)",
                                    "used_rate": st.column_config.ProgressColumn(
                                        "执行率", format="percent", min_value=0, max_value=1),
                                    "year_elapsed": st.column_config.NumberColumn("年度进度", format="percent")}, placeholder="")
    st.subheader(f"{int(year)} 年收支公示（按季度、半年）")
    disclosure = fee_documents.finance_disclosure(db, community, int(year))
    if disclosure.empty:
        st.caption("没有日常收支记录。")
    else:
        st.dataframe(disclosure, hide_index=True, width="stretch",
                     column_config={"span": "期间", "direction": "收支", "category": "类别", "entries": "笔数",
                                    "amount": "金额(元)", "complete": "期间已结束"}, placeholder="")

with close:
    st.caption("结账后，该账期不能再出账单，也不能再登记或作废该月日期的收款、调整；更正在未结账的账期做调整。")
    closed = cashier.closed_periods(db, community)
    st.write("已结账：" + ("、".join(closed) if closed else "无"))
    if period in closed:
        st.info(f"{period} 已结账。")
    else:
        staff = dict(cashier.cashiers(db, community))
        with st.form("fees-close"):
            who = st.selectbox("结账人", [None, *staff], format_func=lambda s: staff.get(s, "（未指定）"), placeholder="请选择")
            sure = st.checkbox(f"确认结账 {communities[community]} {period}")
            go = st.form_submit_button("结账", type="primary")
        if go and sure:
            try:
                cashier.close_period(db, actor, community, period, who)
            except SaveRejected as err:
                show_problems(err)
            else:
                st.success(f"{period} 已结账。")
        elif go:
            st.warning("请先勾选确认。")
