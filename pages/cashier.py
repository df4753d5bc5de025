"""收银台: find a household, see what it owes, take a payment, print or void a receipt, close the day."""

from datetime import date
from decimal import Decimal, InvalidOperation

import streamlit as st

from app.estate import household_file
from app.fees import billing, cashier, prepayment, printing
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.text import md, problems_markdown

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("收银台")
st.caption("按房号、业主姓名或手机号查找房屋；收款先冲抵最早到期的账单，多缴的转为预存款。"
           "收据号每个小区每年连续编号，作废的收据号仍占用。")


def show_problems(err: SaveRejected) -> None:
    st.error(problems_markdown(err.kind, err.problems))


def money_text(v) -> str:
    return f"{v:,.2f}"


def show_receipt(household: int, rid: int) -> None:
    """Show the receipt just issued. The picker keeps its own value across reruns: point it at
    this receipt, or 下载收据 would hand over the household's previous one."""
    st.session_state["cashier-last-receipt"] = rid
    st.session_state[f"cashier-receipt-{household}"] = rid
    st.rerun()


def prepay_section(acc: cashier.Account, household: int) -> None:
    """预缴: the months ahead as the bill run would bill them, the rule's discount, one receipt."""
    rules = prepayment.usable_rules(db, acc.community_id, today)
    choices = {None: "（不使用优惠）", **{int(r.id): f"{r.name}（{r.kind}）" for r in rules.itertuples(index=False)}}
    left, right = st.columns(2)
    months = left.number_input("预缴月数", min_value=1, max_value=36, value=12, step=1, key="cashier-prepay-months")
    rule = right.selectbox("优惠规则", list(choices), format_func=choices.get, key="cashier-prepay-rule",
                         placeholder="请选择")
    try:
        q = prepayment.quote(db, household, int(months), rule, today)
    except SaveRejected as err:
        show_problems(err)
        return
    if q.refused:
        st.warning(q.refused + "。可改选其他优惠规则或不使用优惠。")
        return
    if q.lines.empty:
        st.info("这些月份没有可预缴的收费项目。")
        return
    st.dataframe(q.lines[["period", "fee_item", "amount", "discount"]], hide_index=True, width="stretch",
                 column_config={"period": "账期", "fee_item": "收费项目",
                                "amount": st.column_config.NumberColumn("金额(元)", format="%.2f"),
                                "discount": st.column_config.NumberColumn("优惠(元)", format="%.2f")},
                 placeholder="")
    st.write(f"预缴 {q.periods[0]} 至 {q.periods[-1]}：新出账单 {money_text(q.new_total)} 元，"
             f"优惠 {money_text(q.discount)} 元"
             + (f"，连同现有未缴 {money_text(q.owed_before)} 元" if q.owed_before else "")
             + f"，应收 **{money_text(q.total)}** 元。")
    staff = dict(cashier.cashiers(db, acc.community_id))
    with st.form("cashier-prepay", clear_on_submit=True):
        left, right = st.columns(2)
        method = left.selectbox("收款方式", [m for m in cashier.METHODS if m != "预存款"], placeholder="请选择")
        who = right.selectbox("收款人", [None, *staff], format_func=lambda s: staff.get(s, "（未指定）"),
                              placeholder="请选择")
        paid = st.form_submit_button("预缴并开收据", type="primary")
    if paid:
        try:
            rid = prepayment.prepay(db, actor, household, int(months), method, discount_id=rule, cashier_id=who)
        except SaveRejected as err:
            show_problems(err)
        else:
            show_receipt(household, rid)


desk, closing = st.tabs(["收款", "日结"])

with desk:
    text = st.text_input("查找房屋", placeholder="房号、业主姓名或手机号", key="cashier-find")
    found = cashier.find_households(db, actor, text)
    if text and found.empty:
        st.info("没有找到匹配的房屋。")
    household = None
    labels = {int(r.household_id): f"{r.community} {r.code}  {r.owners or '（无业主登记）'}  {r.phones or ''}"
              for r in found.itertuples(index=False)}
    wanted = st.query_params.get("id")
    if wanted and wanted.isdigit() and not text:  # a link (an arrears to-do): that household, selected
        link = household_file.linked(db, actor, int(wanted))
        if not link:
            st.warning(f"没有编号为 {wanted} 的房屋（可能已删除或不在您的小区范围内）。")
        labels = {**{k: v.replace("/", " ", 1) for k, v in link.items()}, **labels}
        if link and wanted != st.session_state.get("cashier-link"):
            st.session_state["cashier-household"] = int(wanted)
            st.session_state["cashier-link"] = wanted
    if st.session_state.get("cashier-household") not in labels:
        st.session_state.pop("cashier-household", None)  # a new search: its first match
    if labels:
        household = st.selectbox("房屋", list(labels), format_func=labels.get, key="cashier-household", placeholder="请选择")
    if household is not None:
        acc = cashier.account(db, household, today)
        a, b, c, d = st.columns(4)
        a.metric("欠费(元)", money_text(acc.outstanding))
        b.metric("滞纳金(元)", money_text(acc.late_fee))
        c.metric("预存款(元)", money_text(acc.credit))
        d.metric("应缴合计(元)", money_text(acc.total_due))
        st.subheader("未缴账单")
        if acc.open_bills.empty:
            st.success("没有未缴账单。")
        else:
            st.dataframe(
                acc.open_bills.drop(columns=["bill_id"]), hide_index=True, width="stretch",
                column_config={"fee_item": "收费项目", "period": "账期", "due_date": "缴费截止日",
                               "due_net": st.column_config.NumberColumn("应收(元)", format="%.2f"),
                               "paid_net": st.column_config.NumberColumn("已收(元)", format="%.2f"),
                               "outstanding": st.column_config.NumberColumn("欠费(元)", format="%.2f"),
                               "late_fee": st.column_config.NumberColumn("滞纳金(元)", format="%.2f"),
                               "status": "状态"}, placeholder="")
            if acc.late_fee and acc.collects_late_fee:
                st.caption("滞纳金按今日应计，随本金一起收取：本金缴清时单独开出滞纳金账单，收据上单列一行。")
            elif acc.late_fee:
                st.caption("本小区收款时不收滞纳金（设置 fee.late_fee_collect = 0），滞纳金只作提示。")

        st.subheader("收款")
        staff = dict(cashier.cashiers(db, acc.community_id))
        with st.form("cashier-pay", clear_on_submit=True):
            left, mid, right = st.columns(3)
            amount_text = left.text_input("收款金额(元)", value=f"{acc.to_collect:.2f}" if acc.to_collect else "")
            method = mid.selectbox("收款方式", cashier.METHODS, placeholder="请选择")
            who = right.selectbox("收款人", [None, *staff], format_func=lambda s: staff.get(s, "（未指定）"),
                                  key="cashier-staff", placeholder="请选择")
            note = st.text_input("备注")
            paid = st.form_submit_button("收款并开收据", type="primary")
        if paid:
            try:
                amount = Decimal(amount_text.replace(",", "").strip())
            except InvalidOperation:
                st.error(f"收款金额「{md(amount_text)}」不是数字。")
            else:
                try:
                    rid = billing.take_payment(db, actor, household, amount, method,
                                               cashier_id=who, note=note or None)
                except SaveRejected as err:
                    show_problems(err)
                else:
                    show_receipt(household, rid)
        if st.toggle("预缴（提前缴纳若干个月，可用优惠规则）", key="cashier-prepay-open"):
            prepay_section(acc, household)
        last = st.session_state.get("cashier-last-receipt")
        receipts = cashier.receipts_of(db, household)
        if last is not None and last in set(receipts["receipt_id"]):
            r = cashier.receipt(db, last)
            st.success(f"已收款 {money_text(r.total)} 元，收据号 {r.receipt_no}"
                       + (f"，其中 {money_text(r.to_credit)} 元转为预存款" if r.to_credit else ""))

        st.subheader("收据")
        if receipts.empty:
            st.caption("这户还没有收据。")
        else:
            st.dataframe(
                receipts.drop(columns=["receipt_id"]), hide_index=True, width="stretch",
                column_config={"receipt_no": "收据号", "paid_at": st.column_config.DatetimeColumn(
                    "收款时间", format="YYYY-MM-DD HH:mm"), "total": st.column_config.NumberColumn(
                    "金额(元)", format="%.2f"), "method": "方式", "cashier": "收款人", "voided": "已作废",
                    "void_reason": "作废原因"}, placeholder="")
            numbers = {int(i): no for i, no in zip(receipts["receipt_id"], receipts["receipt_no"])}
            chosen = st.selectbox("选择收据", list(numbers), format_func=numbers.get,
                                  key=f"cashier-receipt-{household}", placeholder="请选择")
            r = cashier.receipt(db, chosen)
            left, right = st.columns(2)
            layout = left.radio("打印版式", cashier.LAYOUTS, horizontal=True, key="cashier-layout")
            left.download_button("下载收据（Excel，可打印）",
                                 cashier.receipt_workbook(db, chosen, layout),
                                 file_name=f"收据_{r.receipt_no}.xlsx",
                                 mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            left.download_button("打印收据（A4 打印版，在浏览器中打开后打印）",
                                 lambda: printing.receipts_html(db, actor, [chosen]),
                                 file_name=f"收据_{r.receipt_no}.html", mime="text/html", on_click="ignore",
                                 icon=":material/print:", key="cashier-receipt-print")
            left.caption(f"金额大写：人民币{cashier.amount_in_words(r.total)}")
            if r.voided:
                right.warning(f"此收据已作废：{md(r.void_reason)}")
            else:
                with right.form("cashier-void", clear_on_submit=True):
                    reason = st.text_input("作废原因（必填）")
                    void = st.form_submit_button("作废此收据")
                if void:
                    try:
                        billing.void_receipt(db, actor, chosen, reason)
                    except SaveRejected as err:
                        show_problems(err)
                    else:
                        st.rerun()

with closing:
    communities = cashier.communities(db, actor)
    if not communities:
        st.info("还没有小区。")
        st.stop()
    left, mid, right = st.columns(3)
    community = left.selectbox("小区", list(communities), format_func=communities.get, key="close-community", placeholder="请选择")
    staff = dict(cashier.cashiers(db, community))
    who = mid.selectbox("收款人", list(staff), format_func=staff.get, key="close-staff", placeholder="请选择")
    day = right.date_input("日期", value=today, max_value=today, key="close-day", format="YYYY-MM-DD")
    if who is not None and isinstance(day, date):
        totals = cashier.day_close_preview(db, community, who, day)
        st.write(f"当日收据 {totals['receipts']} 张（不含作废和预存款抵扣）")
        cols = st.columns(5)
        for col, (method, key) in zip(cols, cashier.METHOD_COLUMNS.items()):
            col.metric(f"{method}(元)", money_text(totals[key]))
        with st.form("cashier-close", clear_on_submit=True):
            counted = st.text_input("清点现金(元)", value=f"{totals['cash_total']:.2f}")
            note = st.text_input("说明（有差额时必填）")
            close = st.form_submit_button("日结", type="primary")
        if close:
            try:
                cashier.close_day(db, actor, community, who, day, Decimal(counted.replace(",", "").strip()),
                                  note or None)
            except (InvalidOperation, ValueError):
                st.error(f"清点现金「{md(counted)}」不是数字。")
            except SaveRejected as err:
                show_problems(err)
            else:
                st.success("已日结。")
    st.subheader("日结记录")
    st.dataframe(cashier.day_closings(db, community), hide_index=True, width="stretch",
                 column_config={"closing_on": "日期", "cashier": "收款人", "receipts": "收据张数",
                                "cash_total": "现金", "transfer_total": "银行转账", "wechat_total": "微信",
                                "alipay_total": "支付宝", "other_total": "其他", "counted_cash": "清点现金",
                                "difference": "差额", "note": "说明"}, placeholder="")
