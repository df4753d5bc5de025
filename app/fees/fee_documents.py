"""Fee paperwork: the household statement (对账单), payment notices (缴费通知单) and 催缴 notices,
the 催缴 list and its steps, and the fee charts. Workbooks are xlsxwriter bytes set up to print
(one A4 page per household), opened by app/exchange/workbook.py: names and fee items stay text. No Streamlit here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor
from app.exchange.workbook import new_workbook, write_text, write_value
from app.fees.cashier import account, amount_in_words
from app.registers.validation import money
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

PAYMENT_WAYS = "现金、银行转账、微信、支付宝（到管理处收银台或扫码缴纳）"
# Civil Code Art 944 and 物业管理条例 Art 64: the only steps there are; never utilities.
ARREARS_STEPS = ("电话提醒", "催缴通知书", "书面催告", "上门催缴", "业委会督促", "诉讼或仲裁")
NO_CUT_OFF = "依据《民法典》第九百四十四条，物业服务人不得以停止供电、供水、供热、供燃气等方式催交物业费。"
DUNNING_TEXT = ("您的物业费已逾期，请于收到本通知之日起十五日内缴清。逾期仍未缴纳的，"
                "管理处将提请业主委员会督促，并依法申请仲裁或提起诉讼。")
AGEING_ORDER = ["0-30", "31-90", "91-180", ">180"]


# -- the household statement (对账单) ------------------------------------------------------------
@dataclass
class Statement:
    household_id: int
    community: str
    code: str
    owners: str
    as_of: date
    bills: pd.DataFrame  # every bill with its balance
    receipts: pd.DataFrame
    adjustments: pd.DataFrame
    credits: pd.DataFrame
    outstanding: Decimal
    late_fee: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """What the household owes today (+) or has in hand (−): open bills + late fee − credit."""
        return self.outstanding + self.late_fee - self.credit


def statement(db: Database, household_id: int, as_of: date | None = None) -> Statement:
    as_of = as_of or db.now().date()
    acc = account(db, household_id, as_of)
    bills = db.query(
        "SELECT period, fee_item, amount, due_date, reduced, paid, refunded, outstanding, status "
        "FROM bill_balance_of(CAST(? AS DATE), CAST(? AS BIGINT)) ORDER BY period, fee_item",
        [as_of, household_id])
    receipts = db.query(
        "SELECT receipt_no, paid_at, total, method, CASE WHEN voided THEN '已作废：' || coalesce(void_reason, '') "
        "ELSE '' END AS note FROM receipts WHERE household_id = ? AND deleted_at IS NULL "
        "AND CAST(paid_at AS DATE) <= ? ORDER BY paid_at, receipt_no", [household_id, as_of])
    adjustments = db.query(
        "SELECT b.period, f.name AS fee_item, a.kind, a.amount, a.reason, CAST(a.adjusted_at AS DATE) AS adjusted_on "
        "FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id JOIN fee_items f ON f.id = b.fee_item_id "
        "WHERE b.household_id = ? AND a.deleted_at IS NULL AND CAST(a.adjusted_at AS DATE) <= ? "
        "ORDER BY a.adjusted_at", [household_id, as_of])
    credits = db.query(
        "SELECT CAST(c.credited_at AS DATE) AS credited_on, c.amount, c.note FROM household_credits c "
        "LEFT JOIN receipts r ON r.id = c.receipt_id AND c.amount > 0 "
        "WHERE c.household_id = ? AND c.deleted_at IS NULL AND NOT coalesce(r.voided, false) "
        "AND CAST(c.credited_at AS DATE) <= ? ORDER BY c.credited_at", [household_id, as_of])
    return Statement(household_id, acc.community, acc.code, acc.owners, as_of, bills, receipts,
                     adjustments, credits, acc.outstanding, acc.late_fee, acc.credit)


class _Book:
    """A print-ready workbook: formats, and a cursor that writes tables down a sheet."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.wb = new_workbook(self.buf, in_memory=True)
        f = self.wb.add_format
        self.title = f({"bold": True, "font_size": 16, "align": "center"})
        self.bold = f({"bold": True})
        self.head = f({"bold": True, "border": 1, "bg_color": "#EEEEEE", "text_wrap": True})
        self.cell = f({"border": 1})
        self.money = f({"border": 1, "num_format": "#,##0.00"})
        self.total = f({"bold": True, "border": 1, "num_format": "#,##0.00", "bg_color": "#EEEEEE"})
        self.small = f({"font_size": 9, "text_wrap": True, "valign": "top"})

    def sheet(self, name: str, widths: list[int]):
        ws = self.wb.add_worksheet(name[:31])
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        return ws

    def table(self, ws, row: int, headers: list[str], frame: pd.DataFrame, money_cols: set[str]) -> int:
        for c, header in enumerate(headers):
            write_text(ws, row, c, header, self.head)
        for values in frame.itertuples(index=False):
            row += 1
            for c, (col, v) in enumerate(zip(frame.columns, values)):
                if col in money_cols and v is not None and not pd.isna(v):
                    ws.write_number(row, c, float(v), self.money)
                elif v is None or (not isinstance(v, str) and pd.isna(v)):
                    ws.write_blank(row, c, None, self.cell)
                else:  # fee items, remarks, receipt numbers: text; dates as printed (2026-06-25)
                    write_value(ws, row, c, v if isinstance(v, (str, int, float)) else str(v), self.cell)
        return row + 2

    def bytes(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def statement_workbook(db: Database, household_id: int, as_of: date | None = None) -> bytes:
    """The 对账单 to print or send: bills, receipts, adjustments, credit, balance and late fee."""
    s = statement(db, household_id, as_of)
    book = _Book()
    ws = book.sheet("对账单", [10, 18, 12, 12, 11, 11, 11, 12, 10])
    ws.merge_range(0, 0, 0, 8, f"{s.community} {s.code} 物业费用对账单", book.title)
    write_text(ws, 1, 0, f"业主：{s.owners}    截至：{s.as_of.isoformat()}")
    row = 3
    write_text(ws, row, 0, "账单", book.bold)
    row = book.table(ws, row + 1, ["账期", "收费项目", "应收(元)", "缴费截止日", "减免折扣", "已收",
                                   "已退款", "欠费(元)", "状态"],
                     s.bills, {"amount", "reduced", "paid", "refunded", "outstanding"})
    write_text(ws, row, 0, "收据", book.bold)
    row = book.table(ws, row + 1, ["收据号", "收款时间", "金额(元)", "方式", "备注"], s.receipts, {"total"})
    if not s.adjustments.empty:
        write_text(ws, row, 0, "调整", book.bold)
        row = book.table(ws, row + 1, ["账期", "收费项目", "类型", "金额(元)", "原因", "日期"],
                         s.adjustments, {"amount"})
    if not s.credits.empty:
        write_text(ws, row, 0, "预存款", book.bold)
        row = book.table(ws, row + 1, ["日期", "金额(元)", "说明"], s.credits, {"amount"})
    for label, value in (("欠费合计", s.outstanding), ("滞纳金", s.late_fee), ("预存款余额", s.credit),
                         ("应缴合计", s.balance)):
        write_text(ws, row, 0, label, book.head)
        ws.write_number(row, 1, float(value), book.total)
        row += 1
    write_text(ws, row, 0, "大写：" + amount_in_words(max(s.balance, Decimal(0))))
    ws.print_area(0, 0, row, 8)
    return book.bytes()


# -- payment notices and 催缴 notices ------------------------------------------------------------
_NOTICE_HOUSEHOLDS = """
SELECT h.id, h.code, coalesce(g.code, '') AS building
FROM households h LEFT JOIN buildings g ON g.id = h.building_id
WHERE h.community_id = ? AND h.deleted_at IS NULL AND (? = 0 OR h.building_id = ?)
ORDER BY coalesce(g.code, ''), h.code
"""


def notice_households(db: Database, community_id: int, period: str, as_of: date,
                      building_id: int | None = None, arrears_days: int | None = None) -> list[int]:
    """Who gets a notice: with arrears_days, households overdue that long (the 催缴 list);
    else every household with a bill of the period or anything overdue."""
    homes = db.rows(_NOTICE_HOUSEHOLDS, [community_id, building_id or 0, building_id or 0])
    arrears = dict(db.rows(
        "SELECT household_id, days_overdue FROM arrears_as_of(CAST(? AS DATE)) WHERE community_id = ?",
        [as_of, community_id]))
    if arrears_days is not None:
        return [h for h, _, _ in homes if arrears.get(h, -1) >= arrears_days]
    billed = {r[0] for r in db.rows(
        "SELECT DISTINCT b.household_id FROM bills b JOIN households h ON h.id = b.household_id "
        "WHERE h.community_id = ? AND b.period = ? AND b.deleted_at IS NULL", [community_id, period])}
    return [h for h, _, _ in homes if h in billed or h in arrears]


def notices_workbook(db: Database, community_id: int, period: str, as_of: date | None = None,
                     building_id: int | None = None, arrears_days: int | None = None,
                     household_ids: list[int] | None = None) -> tuple[bytes, list[int]]:
    """缴费通知单 for a period (or, with arrears_days, 催缴通知书 for households overdue that long):
    one A4 page per household in one sheet; returns the workbook and the households in it.
    household_ids: exactly these households (the ones ticked on the 催缴 list)."""
    as_of = as_of or db.now().date()
    households = household_ids if household_ids is not None else notice_households(
        db, community_id, period, as_of, building_id, arrears_days)
    community, phone, address = db.rows(
        "SELECT name, service_phone, address FROM communities WHERE id = ?", [community_id])[0]
    dunning = arrears_days is not None
    book = _Book()
    ws = book.sheet("催缴通知书" if dunning else "缴费通知单", [22, 12, 14, 14, 20])
    row = 0
    breaks = []
    for h in households:
        acc = account(db, h, as_of)
        bills = acc.open_bills.copy()
        this = bills[bills["period"] == period]
        earlier = bills[(bills["period"] != period) & (bills["due_date"] < as_of)]
        later = bills[(bills["period"] != period) & (bills["due_date"] >= as_of)]
        head = f"{community} {'物业费催缴通知书' if dunning else '物业服务费缴费通知单'}"
        ws.merge_range(row, 0, row, 4, head, book.title)
        write_text(ws, row + 1, 0, f"房号：{acc.code}    业主：{acc.owners}")
        write_text(ws, row + 2, 0, f"账期：{period}    通知日期：{as_of.isoformat()}")
        row += 4
        if not this.empty:
            write_text(ws, row, 0, "本期费用", book.bold)
            row = book.table(ws, row + 1, ["收费项目", "账期", "缴费截止日", "应收(元)", "欠费(元)"],
                             this[["fee_item", "period", "due_date", "due_net", "outstanding"]],
                             {"due_net", "outstanding"})
        if not earlier.empty:
            write_text(ws, row, 0, "往期欠费", book.bold)
            row = book.table(ws, row + 1, ["收费项目", "账期", "缴费截止日", "应收(元)", "欠费(元)"],
                             earlier[["fee_item", "period", "due_date", "due_net", "outstanding"]],
                             {"due_net", "outstanding"})
        if not later.empty:
            row = book.table(ws, row, ["收费项目", "账期", "缴费截止日", "应收(元)", "欠费(元)"],
                             later[["fee_item", "period", "due_date", "due_net", "outstanding"]],
                             {"due_net", "outstanding"})
        for label, value in (("欠费合计", acc.outstanding), ("滞纳金", acc.late_fee),
                             ("预存款", acc.credit), ("应缴合计", acc.total_due)):
            write_text(ws, row, 0, label, book.head)
            ws.write_number(row, 1, float(value), book.total)
            row += 1
        write_text(ws, row, 0, "大写：人民币" + amount_in_words(acc.total_due))
        row += 1
        ws.merge_range(row, 0, row, 4, f"缴费方式：{PAYMENT_WAYS}", book.small)
        row += 1
        contact = "、".join(x for x in (address, phone and f"电话 {phone}") if x)
        ws.merge_range(row, 0, row, 4, f"管理处：{community}物业服务中心 {contact}", book.small)
        row += 1
        if dunning:
            ws.merge_range(row, 0, row + 1, 4,
                           DUNNING_TEXT + NO_CUT_OFF, book.small)
            row += 2
        row += 1
        breaks.append(row)
    ws.set_h_pagebreaks(breaks[:-1])
    if row:
        ws.print_area(0, 0, row, 4)
    return book.bytes(), households


def record_arrears_actions(db: Database, actor: Actor, household_ids: list[int], step: str,
                           acted_on: date, handler_id: int | None = None,
                           deadline: date | None = None, note: str | None = None) -> list[int]:
    """Record one 催缴 step per household (e.g. the notices just printed), with the arrears then."""
    if step not in ARREARS_STEPS:
        raise ValueError(f"催缴步骤只能是 {'、'.join(ARREARS_STEPS)}（不得停水停电）")
    if not household_ids:
        return []
    found = {h: (o, f) for h, o, f in db.rows(
        "SELECT household_id, outstanding, late_fee FROM arrears_as_of(CAST(? AS DATE))", [acted_on])}
    changes = []
    for h in household_ids:
        outstanding, late_fee = found.get(h, (0, 0))
        values: dict[str, Any] = {"household_id": h, "step": step, "acted_on": acted_on,
                                  "outstanding": money(outstanding), "late_fee": money(late_fee),
                                  "handler_id": handler_id, "deadline": deadline, "note": note}
        changes.append(RowChange("insert", values={k: v for k, v in values.items() if v is not None}))
    return apply_changes(db, actor.via("催缴"), "arrears_actions", changes).inserted


def arrears_list(db: Database, community_id: int, as_of: date, min_days: int = 0) -> pd.DataFrame:
    """The 催缴 list: households overdue at least min_days, with the last step taken."""
    return db.query(
        "SELECT a.household_id, a.household_code, coalesce(g.code, '') AS building, a.bills, a.outstanding, "
        "a.late_fee, a.total_due, a.oldest_due_date, a.days_overdue, s.step AS last_step, "
        "s.acted_on AS last_acted_on, coalesce(s.steps, 0) AS steps "
        "FROM arrears_as_of(CAST(? AS DATE)) a JOIN households h ON h.id = a.household_id "
        "LEFT JOIN buildings g ON g.id = h.building_id "
        "LEFT JOIN (SELECT household_id, arg_max(step, acted_on) AS step, max(acted_on) AS acted_on, "
        "           count(*) AS steps FROM arrears_actions WHERE deleted_at IS NULL AND acted_on <= ? "
        "           GROUP BY household_id) s ON s.household_id = a.household_id "
        "WHERE a.community_id = ? AND a.days_overdue >= ? ORDER BY a.days_overdue DESC, a.household_code",
        [as_of, as_of, community_id, min_days])


# -- reports and charts ------------------------------------------------------------------------
def collection_by_month(db: Database, community_id: int, as_of: date) -> pd.DataFrame:
    return db.query(
        "SELECT period, billed, collected, outstanding, rate, household_rate "
        "FROM collection_rate_as_of(CAST(? AS DATE)) WHERE community_id = ? ORDER BY period",
        [as_of, community_id])


def collection_by_building(db: Database, community_id: int, as_of: date, period: str | None = None
                           ) -> pd.DataFrame:
    """Per building over all periods up to as_of (or one period): billed, collected, rate."""
    return db.query(
        "SELECT building_id, any_value(building) AS building, sum(billed) AS billed, "
        "sum(collected) AS collected, CAST(sum(collected) AS DOUBLE) / nullif(CAST(sum(billed) AS DOUBLE), 0) "
        "AS rate FROM collection_by_building_as_of(CAST(? AS DATE)) "
        "WHERE community_id = ? AND (? IS NULL OR period = ?) GROUP BY building_id ORDER BY building_id",
        [as_of, community_id, period, period])


def arrears_ageing(db: Database, community_id: int, as_of: date) -> pd.DataFrame:
    return db.query(
        "SELECT bucket, bills, households, outstanding FROM arrears_ageing_as_of(CAST(? AS DATE)) "
        "WHERE community_id = ? ORDER BY bucket_order", [as_of, community_id])


def budget_vs_actual(db: Database, community_id: int, year: int) -> pd.DataFrame:
    return db.query(
        "SELECT direction, category, budget, actual, variance, used_rate, year_elapsed "
        "FROM budget_vs_actual_as_of(least(current_date, make_date(CAST(? AS INTEGER), 12, 31))) "
        "WHERE community_id = ? AND year = ? ORDER BY direction, category", [year, community_id, year])


def finance_disclosure(db: Database, community_id: int, year: int) -> pd.DataFrame:
    return db.query(
        "SELECT span, direction, category, entries, amount, complete "
        "FROM finance_disclosure_as_of(current_date) WHERE community_id = ? AND year = ? "
        "ORDER BY span, direction, category", [community_id, year])


