"""Printable documents: receipts (收据), payment and 催缴 notices, household statements (对账单) as
HTML print views — A4, print CSS, the 小区 on every page, amounts in ¥ (with 大写 on receipts).
A batch is one document, one page per receipt or household. The Excel versions stay in
app/fees/cashier.py and app/fees/fee_documents.py. No Streamlit here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor, PermissionDenied, require
from app.fees.cashier import Receipt, account, amount_in_words, receipt
from app.fees.fee_documents import DUNNING_TEXT, NO_CUT_OFF, PAYMENT_WAYS, Statement, statement
from app.storage.db import Database, in_list, q

# A4 pages; each .page ends with a page break except the last; the 打印 button does not print.
PRINT_CSS = """
@page { size: A4 portrait; margin: 15mm 15mm 18mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       font-size: 11pt; color: #000; margin: 0; }
.page { break-after: page; page-break-after: always; padding: 0; }
.page:last-of-type { break-after: auto; page-break-after: auto; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; }
.meta { display: flex; justify-content: space-between; flex-wrap: wrap; margin-bottom: 3mm; }
table { border-collapse: collapse; width: 100%; margin-bottom: 3mm; }
th, td { border: 1px solid #555; padding: 1.5mm 2mm; text-align: left; }
th { background: #eee; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f4f4f4; }
.words { font-weight: bold; }
.small { font-size: 9pt; color: #333; }
.void { color: #c00000; font-size: 15pt; font-weight: bold; }
.sign { margin-top: 10mm; display: flex; justify-content: space-between; }
.toolbar { padding: 4mm; background: #f2f2f2; text-align: right; }
@media print { .toolbar { display: none; } body { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""


def yuan(amount: Any) -> str:
    """¥1,234.50 (¥-30.00 for a refund)."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    return f"¥{value:,.2f}"


def _e(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def document(title: str, pages: Iterable[str]) -> str:
    """One HTML document of A4 pages, with a 打印 button that opens the browser's print dialog."""
    body = "".join(f"<section class='page'>{p}</section>" for p in pages)
    return ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<title>{_e(title)}</title><style>{PRINT_CSS}</style></head><body>"
            "<div class='toolbar'><button type='button' onclick='window.print()'>打印</button></div>"
            f"{body}</body></html>")


def _table(headers: list[str], frame: pd.DataFrame, columns: list[str], money: set[str]) -> str:
    head = "".join(f"<th class='num'>{_e(h)}</th>" if c in money else f"<th>{_e(h)}</th>"
                   for h, c in zip(headers, columns))
    rows = "".join(
        "<tr>" + "".join(f"<td class='num'>{yuan(r[c])}</td>" if c in money and r[c] is not None and not pd.isna(r[c])
                         else f"<td>{_e(r[c])}</td>" for c in columns) + "</tr>"
        for r in frame.to_dict("records"))
    return f"<table><tr>{head}</tr>{rows}</table>"


def _totals(pairs: list[tuple[str, Any]]) -> str:
    return "<table>" + "".join(f"<tr class='total'><td>{_e(k)}</td><td class='num'>{yuan(v)}</td></tr>"
                               for k, v in pairs) + "</table>"


def _check_communities(db: Database, actor: Actor, register: str, table: str, ids: list[int]) -> None:
    """The actor may see the register, and every row printed is in one of its communities."""
    require(actor, register, "view")
    if actor.communities is None or not ids:
        return
    placeholders, values = in_list(ids)
    outside = db.scalar("SELECT count(*) FROM " + q(table) + " WHERE id IN " + placeholders
                        + " AND community_id NOT IN " + in_list(list(actor.communities))[0],
                        [*values, *actor.communities])
    if outside:
        raise PermissionDenied("所选记录不在您负责的小区范围内")


# -- receipts -----------------------------------------------------------------------------------
def receipt_page(r: Receipt) -> str:
    lines = r.lines.copy()
    if r.to_credit:
        lines = pd.concat([lines, pd.DataFrame([{"fee_item": "预存款（多缴转预存，抵扣以后的账单）", "period": "",
                                                 "amount": r.to_credit}])], ignore_index=True)
    parts = [
        f"<h1>{_e(r.community)} 物业服务收费收据</h1>",
        f"<div class='meta'><span>收据号：{_e(r.receipt_no)}</span>"
        f"<span>收款时间：{r.paid_at:%Y-%m-%d %H:%M}</span></div>",
        f"<div class='meta'><span>房号：{_e(r.household_code)}</span><span>业主：{_e(r.owners)}</span></div>",
        _table(["收费项目", "账期", "金额"], lines, ["fee_item", "period", "amount"], {"amount"}),
        _totals([("合计", r.total)]),
        f"<p class='words'>金额大写：人民币{_e(amount_in_words(r.total))}</p>",
        f"<div class='meta'><span>收款方式：{_e(r.method)}</span><span>收款人：{_e(r.cashier)}</span></div>",
    ]
    if r.voided:
        parts.append(f"<p class='void'>作废（{_e(r.void_reason)}）</p>")
    phone = f"电话：{_e(r.office_phone)}" if r.office_phone else ""
    parts.append(f"<div class='sign'><span>{_e(r.community)}物业服务中心（盖章）</span><span>{phone}</span></div>")
    return "".join(parts)


def receipt_ids(db: Database, actor: Actor, community_id: int, day_from: date, day_to: date) -> list[int]:
    """Receipts of a 小区 taken day_from..day_to (both included), in number order: a batch to print."""
    require(actor, "receipts", "view")
    if actor.communities is not None and community_id not in actor.communities:
        raise PermissionDenied("该小区不在您负责的范围内")
    return [r for (r,) in db.rows(
        "SELECT id FROM receipts WHERE community_id = ? AND deleted_at IS NULL AND paid_at >= CAST(? AS DATE) "
        "AND paid_at < CAST(? AS DATE) + 1 ORDER BY receipt_no", [community_id, day_from, day_to])]


def receipts_html(db: Database, actor: Actor, receipt_ids: list[int]) -> str:
    """Receipts to print, one A4 page each, in the order given."""
    _check_communities(db, actor, "receipts", "receipts", receipt_ids)
    found = [receipt(db, rid) for rid in receipt_ids]
    title = f"收据 {found[0].receipt_no}" if len(found) == 1 else f"收据 {len(found)} 张"
    return document(title, (receipt_page(r) for r in found))


# -- notices --------------------------------------------------------------------------------------
def notice_page(db: Database, household_id: int, period: str, as_of: date, dunning: bool,
                office: tuple[str, str | None, str | None]) -> str:
    community, phone, address = office
    acc = account(db, household_id, as_of)
    bills = acc.open_bills
    sections = [("本期费用", bills[bills["period"] == period]),
                ("往期欠费", bills[(bills["period"] != period) & (bills["due_date"] < as_of)]),
                ("未到期费用", bills[(bills["period"] != period) & (bills["due_date"] >= as_of)])]
    kind = "物业费催缴通知书" if dunning else "物业服务费缴费通知单"
    parts = [f"<h1>{_e(community)} {kind}</h1>",
             f"<div class='meta'><span>房号：{_e(acc.code)}</span><span>业主：{_e(acc.owners)}</span></div>",
             f"<div class='meta'><span>账期：{_e(period)}</span><span>通知日期：{as_of.isoformat()}</span></div>"]
    for title, frame in sections:
        if not frame.empty:
            parts.append(f"<h2>{title}</h2>" + _table(
                ["收费项目", "账期", "缴费截止日", "应收", "欠费"], frame,
                ["fee_item", "period", "due_date", "due_net", "outstanding"], {"due_net", "outstanding"}))
    parts.append(_totals([("欠费合计", acc.outstanding), ("滞纳金", acc.late_fee), ("预存款", acc.credit),
                          ("应缴合计", acc.total_due)]))
    parts.append(f"<p class='words'>大写：人民币{_e(amount_in_words(acc.total_due))}</p>")
    parts.append(f"<p class='small'>缴费方式：{_e(PAYMENT_WAYS)}</p>")
    contact = "、".join(x for x in (address, phone and f"电话 {phone}") if x)
    parts.append(f"<p class='small'>管理处：{_e(community)}物业服务中心 {_e(contact)}</p>")
    if dunning:
        parts.append(f"<p>{_e(DUNNING_TEXT)}</p><p class='small'>{_e(NO_CUT_OFF)}</p>")
    parts.append(f"<div class='sign'><span>{_e(community)}物业服务中心（盖章）</span>"
                 "<span>签收：＿＿＿＿＿＿ 日期：＿＿＿＿＿＿</span></div>")
    return "".join(parts)


def notices_html(db: Database, actor: Actor, community_id: int, household_ids: list[int], period: str,
                 as_of: date, dunning: bool) -> str:
    """缴费通知单 (or 催缴通知书) for these households of one 小区, one A4 page each."""
    _check_communities(db, actor, "bills", "households", household_ids)
    office = db.rows("SELECT name, service_phone, address FROM communities WHERE id = ?", [community_id])[0]
    title = f"{'催缴通知书' if dunning else '缴费通知单'} {period}（{len(household_ids)} 户）"
    return document(title, (notice_page(db, h, period, as_of, dunning, office) for h in household_ids))


# -- statements -----------------------------------------------------------------------------------
def statement_page(s: Statement) -> str:
    parts = [f"<h1>{_e(s.community)} 物业费用对账单</h1>",
             f"<div class='meta'><span>房号：{_e(s.code)}</span><span>业主：{_e(s.owners)}</span>"
             f"<span>截至：{s.as_of.isoformat()}</span></div>",
             "<h2>账单</h2>" + _table(
                 ["账期", "收费项目", "应收", "缴费截止日", "减免折扣", "已收", "已退款", "欠费", "状态"], s.bills,
                 ["period", "fee_item", "amount", "due_date", "reduced", "paid", "refunded", "outstanding", "status"],
                 {"amount", "reduced", "paid", "refunded", "outstanding"})]
    if not s.receipts.empty:
        parts.append("<h2>收据</h2>" + _table(["收据号", "收款时间", "金额", "方式", "备注"], s.receipts,
                                            ["receipt_no", "paid_at", "total", "method", "note"], {"total"}))
    if not s.adjustments.empty:
        parts.append("<h2>调整</h2>" + _table(["账期", "收费项目", "类型", "金额", "原因", "日期"], s.adjustments,
                                            ["period", "fee_item", "kind", "amount", "reason", "adjusted_on"],
                                            {"amount"}))
    if not s.credits.empty:
        parts.append("<h2>预存款</h2>" + _table(["日期", "金额", "说明"], s.credits,
                                             ["credited_on", "amount", "note"], {"amount"}))
    parts.append(_totals([("欠费合计", s.outstanding), ("滞纳金", s.late_fee), ("预存款余额", s.credit),
                          ("应缴合计", s.balance)]))
    parts.append(f"<p class='words'>大写：人民币{_e(amount_in_words(max(s.balance, Decimal(0))))}</p>")
    return "".join(parts)


def statements_html(db: Database, actor: Actor, household_ids: list[int], as_of: date) -> str:
    """对账单 of these households, one A4 page (or more) each."""
    _check_communities(db, actor, "bills", "households", household_ids)
    found = [statement(db, h, as_of) for h in household_ids]
    title = f"对账单 {found[0].code}" if len(found) == 1 else f"对账单 {len(found)} 户"
    return document(title, (statement_page(s) for s in found))
