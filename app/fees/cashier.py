"""The cashier's desk (收银台): find a household, its account, receipts to print, day and period close.

Taking a payment and voiding a receipt are `app.fees.billing.take_payment` / `void_receipt` (the
receipts save rule numbers and allocates). No Streamlit here; pages/cashier.py lays it out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor, mask_value, sees_personal_data
from app.exchange.workbook import new_workbook
from app.fees import billing
from app.registers.validation import money
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

METHODS = ("现金", "银行转账", "微信", "支付宝", "预存款", "其他")
# receipts.method -> cash_closings column; 预存款 moves no money and is not in the day's totals
METHOD_COLUMNS = {"现金": "cash_total", "银行转账": "transfer_total", "微信": "wechat_total",
                  "支付宝": "alipay_total", "其他": "other_total"}
LAYOUTS = ("A4", "半A4")


# -- finding a household --------------------------------------------------------------------
_FIND = """
SELECT h.id AS household_id, h.community_id, c.name AS community, h.code,
       string_agg(o.name, '、' ORDER BY o.is_primary DESC, o.id) AS owners,
       string_agg(o.phone, '、' ORDER BY o.is_primary DESC, o.id) AS phones
FROM households h
JOIN communities c ON c.id = h.community_id
LEFT JOIN owners o ON o.household_id = h.id AND o.deleted_at IS NULL
     AND (o.moved_out_on IS NULL OR o.moved_out_on > current_date)
WHERE h.deleted_at IS NULL
  AND h.id IN (
      SELECT h2.id FROM households h2 WHERE h2.deleted_at IS NULL AND h2.code ILIKE ?
      UNION
      SELECT o2.household_id FROM owners o2 WHERE o2.deleted_at IS NULL
             AND (o2.name ILIKE ? OR o2.phone LIKE ?)
  )
GROUP BY h.id, h.community_id, c.name, h.code
ORDER BY c.name, h.code
LIMIT 50
"""


def find_households(db: Database, actor: Actor, text: str) -> pd.DataFrame:
    """Households whose code, current owner's name or phone contains `text` (at most 50)."""
    text = (text or "").strip()
    if not text:
        return pd.DataFrame(columns=["household_id", "community_id", "community", "code", "owners",
                                     "phones"])
    like = "%" + text.replace("%", r"\%").replace("_", r"\_") + "%"
    found = db.query(_FIND, [like, like, like])
    if actor.communities is not None:
        found = found[found["community_id"].isin(actor.communities)]
    if not sees_personal_data(actor):
        found["phones"] = [
            "、".join(mask_value("phone", p) for p in str(v).split("、")) if v else v
            for v in found["phones"]]
    return found.reset_index(drop=True)


# -- a household's account ------------------------------------------------------------------
@dataclass
class Account:
    household_id: int
    community_id: int
    community: str
    code: str
    owners: str
    open_bills: pd.DataFrame  # with late_fee: each bill's 滞纳金 accrued today, not yet a bill
    outstanding: Decimal  # Σ open bills (due or not yet due), late-fee bills already made included
    overdue: Decimal  # principal past due (v_arrears)
    late_fee: Decimal  # accrued today on the open bills, posted as bills when they are paid
    credit: Decimal
    collects_late_fee: bool = False  # fee.late_fee_collect of the community

    @property
    def to_collect(self) -> Decimal:
        """What the cashier asks for: open bills, and the late fee accrued on them where collected."""
        return self.outstanding + (self.late_fee if self.collects_late_fee else Decimal("0.00"))

    @property
    def total_due(self) -> Decimal:
        """What settles the account today: open bills plus late fee, less credit (not below 0)."""
        return max(self.outstanding + self.late_fee - self.credit, Decimal("0.00"))


def account(db: Database, household_id: int, as_of: date | None = None) -> Account:
    as_of = as_of or db.now().date()
    row = db.rows(
        "SELECT h.community_id, c.name, h.code, "
        "(SELECT string_agg(o.name, '、' ORDER BY o.is_primary DESC, o.id) FROM owners o "
        " WHERE o.household_id = h.id AND o.deleted_at IS NULL "
        " AND (o.moved_out_on IS NULL OR o.moved_out_on > ?)) "
        "FROM households h JOIN communities c ON c.id = h.community_id WHERE h.id = ?",
        [as_of, household_id])
    if not row:
        raise KeyError(f"房屋编号 {household_id} 不存在")
    community_id, community, code, owners = row[0]
    bills = billing.open_bills(db, household_id, as_of)
    fees = db.query(
        "SELECT bill_id, open_late_fee AS late_fee, greatest(late_fee - posted, 0) AS unposted, "
        "late_fee_waived FROM bill_late_fees_of(CAST(? AS DATE), CAST(? AS BIGINT)) WHERE NOT is_late_fee",
        [as_of, household_id])
    by_bill = {int(b): money(f) for b, f in zip(fees["bill_id"], fees["late_fee"])}
    bills.insert(bills.columns.get_loc("outstanding") + 1, "late_fee",
                 [by_bill.get(int(b), money(0)) for b in bills["bill_id"]])
    # as v_arrears: 滞纳金减免 are taken off the household's sum (not below 0)
    late_fee = max(money(fees["unposted"].sum()) - money(fees["late_fee_waived"].sum()), money(0)) \
        if not fees.empty else money(0)
    overdue = db.scalar("SELECT outstanding FROM arrears_of(CAST(? AS DATE), CAST(? AS BIGINT))",
                        [as_of, household_id]) or 0
    collects = db.scalar("SELECT coalesce(setting_int('fee.late_fee_collect', ?), 0)", [community_id]) == 1
    return Account(household_id, community_id, community, code, owners or "", bills,
                   money(bills["outstanding"].sum()) if not bills.empty else money(0),
                   money(overdue), money(late_fee), billing.credit_balance(db, household_id), collects)


def receipts_of(db: Database, household_id: int, limit: int = 50) -> pd.DataFrame:
    return db.query(
        "SELECT r.id AS receipt_id, r.receipt_no, r.paid_at, r.total, r.method, s.name AS cashier, "
        "r.voided, r.void_reason FROM receipts r LEFT JOIN staff s ON s.id = r.cashier_id "
        "WHERE r.household_id = ? AND r.deleted_at IS NULL ORDER BY r.paid_at DESC, r.id DESC LIMIT ?",
        [household_id, limit])


def communities(db: Database, actor: Actor) -> dict[int, str]:
    """The communities this actor works in: id -> name."""
    found = dict(db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id"))
    if actor.communities is not None:
        found = {k: v for k, v in found.items() if k in actor.communities}
    return found


def buildings(db: Database, community_id: int) -> dict[int, str]:
    return dict(db.rows("SELECT id, code FROM buildings WHERE community_id = ? AND deleted_at IS NULL "
                        "ORDER BY TRY_CAST(code AS INTEGER), code", [community_id]))


def household_codes(db: Database, community_id: int) -> dict[int, str]:
    return dict(db.rows("SELECT id, code FROM households WHERE community_id = ? AND deleted_at IS NULL "
                        "ORDER BY code", [community_id]))


def cashiers(db: Database, community_id: int) -> list[tuple[int, str]]:
    """Staff who may take money in a community (in post; community's own or everyone's)."""
    return [(r[0], r[1]) for r in db.rows(
        "SELECT id, name FROM staff WHERE deleted_at IS NULL AND coalesce(status, '在职') = '在职' "
        "AND (community_id = ? OR community_id IS NULL) ORDER BY id", [community_id])]


# -- the receipt ------------------------------------------------------------------------------
DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")


def amount_in_words(amount: Any) -> str:
    """大写金额 as written on Chinese receipts: 1234.50 → 壹仟贰佰叁拾肆元伍角整."""
    value = money(amount)
    if value < 0:
        return "负" + amount_in_words(-value)
    cents = int(value * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    words = _integer_words(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return words + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen:
        words += DIGITS[fen] + "分"
    else:
        words += "整"
    return words


def _integer_words(n: int) -> str:
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, zero = "", False
    for g in range(len(groups) - 1, -1, -1):
        part = groups[g]
        if part == 0:
            zero = bool(out)
            continue
        if out and (zero or part < 1000):
            out += "零"
        zero = False
        text, pending_zero = "", False
        for pos in range(3, -1, -1):
            d = part // 10 ** pos % 10
            if d == 0:
                pending_zero = bool(text)
                continue
            if pending_zero:
                text += "零"
                pending_zero = False
            text += DIGITS[d] + UNITS[pos]
        out += text + GROUPS[g]
    return out


@dataclass
class Receipt:
    receipt_id: int
    receipt_no: str
    community: str
    household_code: str
    owners: str
    paid_at: datetime
    total: Decimal
    method: str
    cashier: str
    voided: bool
    void_reason: str | None
    lines: pd.DataFrame  # fee item, period, amount, note (payments of this receipt; a late fee is its
    # own line; a prepaid month given a discount notes the rule)
    to_credit: Decimal  # overpayment kept as credit
    office_phone: str | None


def receipt(db: Database, receipt_id: int) -> Receipt:
    rows = db.rows(
        "SELECT r.receipt_no, c.name, h.code, "
        "(SELECT string_agg(o.name, '、' ORDER BY o.is_primary DESC, o.id) FROM owners o "
        " WHERE o.household_id = h.id AND o.deleted_at IS NULL AND o.moved_out_on IS NULL), "
        "r.paid_at, r.total, r.method, s.name, coalesce(r.voided, false), r.void_reason, c.id "
        "FROM receipts r JOIN communities c ON c.id = r.community_id "
        "JOIN households h ON h.id = r.household_id LEFT JOIN staff s ON s.id = r.cashier_id "
        "WHERE r.id = ?", [receipt_id])
    if not rows:
        raise KeyError(f"收据编号 {receipt_id} 不存在")
    no, community, code, owners, paid_at, total, method, cashier, voided, reason, cid = rows[0]
    # each bill paid, and each bill of a prepayment given a discount by it (a free month is a
    # line of 0.00 paid): the note names the rule and the discount
    lines = db.query(
        "WITH paid AS (SELECT bill_id, sum(amount) AS amount FROM payments "
        "  WHERE receipt_id = ? AND deleted_at IS NULL GROUP BY bill_id), "
        "given AS (SELECT a.bill_id, sum(a.amount) AS discount, string_agg(DISTINCT d.name, '、') AS rules "
        "  FROM bill_adjustments a JOIN fee_discounts d ON d.id = a.discount_id "
        "  WHERE a.receipt_id = ? AND a.deleted_at IS NULL GROUP BY a.bill_id) "
        "SELECT f.name AS fee_item, b.period, CAST(coalesce(p.amount, 0) AS DECIMAL(12,2)) AS amount, "
        "CASE WHEN g.bill_id IS NOT NULL THEN '优惠规则「' || g.rules || '」优惠 ' "
        "  || CAST(CAST(g.discount AS DECIMAL(12,2)) AS VARCHAR) || ' 元' ELSE '' END AS note "
        "FROM bills b JOIN fee_items f ON f.id = b.fee_item_id "
        "LEFT JOIN paid p ON p.bill_id = b.id LEFT JOIN given g ON g.bill_id = b.id "
        "WHERE p.bill_id IS NOT NULL OR g.bill_id IS NOT NULL ORDER BY b.due_date, b.period, b.id",
        [receipt_id, receipt_id])
    credit = db.scalar(
        "SELECT coalesce(sum(amount), 0) FROM household_credits WHERE receipt_id = ? AND amount > 0 "
        "AND deleted_at IS NULL", [receipt_id])
    phone = db.scalar("SELECT service_phone FROM communities WHERE id = ?", [cid])
    return Receipt(receipt_id, no, community, code, owners or "", paid_at, money(total), method,
                   cashier or "", bool(voided), reason, lines, money(credit), phone)


def receipt_workbook(db: Database, receipt_id: int, layout: str = "A4") -> bytes:
    """The receipt as a one-page workbook to print: A4, or 半A4 (A5 landscape: half a sheet)."""
    r = receipt(db, receipt_id)
    buf = io.BytesIO()
    wb = new_workbook(buf, in_memory=True)  # its sheets write owners and fee items as text
    ws = wb.add_worksheet("收据")
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#EEEEEE"})
    cell = wb.add_format({"border": 1})
    amount = wb.add_format({"border": 1, "num_format": "#,##0.00"})
    bold = wb.add_format({"bold": True})
    void = wb.add_format({"bold": True, "font_color": "#C00000", "font_size": 14})
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 34)
    ws.merge_range(0, 0, 0, 3, f"{r.community} 物业服务收费收据", title)
    ws.write_row(1, 0, ["收据号", r.receipt_no, "收款时间", r.paid_at.strftime("%Y-%m-%d %H:%M")])
    ws.write_row(2, 0, ["房号", r.household_code, "业主", r.owners])
    row = 4
    ws.write_row(row, 0, ["收费项目", "账期", "金额(元)", "备注"], head)
    for line in r.lines.itertuples(index=False):
        row += 1
        ws.write(row, 0, line.fee_item, cell)
        ws.write(row, 1, line.period, cell)
        ws.write_number(row, 2, float(line.amount), amount)
        ws.write(row, 3, line.note, cell)
    if r.to_credit:
        row += 1
        ws.write(row, 0, "预存款", cell)
        ws.write(row, 1, "", cell)
        ws.write_number(row, 2, float(r.to_credit), amount)
        ws.write(row, 3, "多缴转预存款，抵扣以后的账单", cell)
    row += 1
    ws.write(row, 0, "合计", head)
    ws.write(row, 1, "", head)
    ws.write_number(row, 2, float(r.total), wb.add_format(
        {"border": 1, "bold": True, "num_format": "#,##0.00", "bg_color": "#EEEEEE"}))
    ws.write(row, 3, "", head)
    row += 1
    ws.write(row, 0, "金额大写", bold)
    ws.merge_range(row, 1, row, 3, "人民币" + amount_in_words(r.total), bold)
    row += 1
    ws.write_row(row, 0, ["收款方式", r.method, "收款人", r.cashier])
    if r.voided:
        row += 2
        ws.merge_range(row, 0, row, 3, f"作废（{r.void_reason or ''}）", void)
    row += 2
    ws.write(row, 0, "管理处（盖章）")
    if r.office_phone:
        ws.write(row, 2, "电话：" + r.office_phone)
    if layout == "半A4":
        ws.set_paper(11)  # A5, landscape: half an A4 sheet
        ws.set_landscape()
    else:
        ws.set_paper(9)  # A4
        ws.set_portrait()
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, row, 3)
    wb.close()
    return buf.getvalue()


# -- day close (日结) -------------------------------------------------------------------------
_DAY_RECEIPTS = """
SELECT method, count(*), coalesce(sum(total), 0)
FROM receipts
WHERE community_id = ? AND cashier_id = ? AND deleted_at IS NULL
  AND NOT coalesce(voided, false) AND method <> '预存款'
  AND paid_at >= CAST(? AS DATE) AND paid_at < CAST(? AS DATE) + 1
GROUP BY method
"""


def day_totals(cur, community_id: int, cashier_id: int, day: date) -> dict[str, Any]:
    """The day's receipts of a cashier: count and totals by method (cash_closings columns).

    Voided receipts and 预存款 (credit applied, no money taken) are left out. `cur` is a
    cursor (the save rule's, inside its transaction) or anything with `execute`.
    """
    totals: dict[str, Any] = {col: money(0) for col in METHOD_COLUMNS.values()}
    count = 0
    for method, n, total in cur.execute(_DAY_RECEIPTS, [community_id, cashier_id, day, day]).fetchall():
        totals[METHOD_COLUMNS[method]] += money(total)
        count += n
    return {"receipts": count, **totals}


def day_close_preview(db: Database, community_id: int, cashier_id: int, day: date) -> dict[str, Any]:
    return day_totals(db.cursor(), community_id, cashier_id, day)


def close_day(db: Database, actor: Actor, community_id: int, cashier_id: int, day: date,
              counted_cash: Any, note: str | None = None) -> int:
    """Record the day close; the save rule fills the totals from the receipts and the difference."""
    values = {"community_id": community_id, "cashier_id": cashier_id, "closing_on": day,
              "counted_cash": counted_cash, "note": note}
    return apply_changes(db, actor.via("收银台"), "cash_closings", [
        RowChange("insert", values={k: v for k, v in values.items() if v is not None})]).inserted[0]


def day_closings(db: Database, community_id: int, limit: int = 30) -> pd.DataFrame:
    return db.query(
        "SELECT k.closing_on, s.name AS cashier, k.receipts, k.cash_total, k.transfer_total, "
        "k.wechat_total, k.alipay_total, k.other_total, k.counted_cash, k.difference, k.note "
        "FROM cash_closings k LEFT JOIN staff s ON s.id = k.cashier_id "
        "WHERE k.community_id = ? AND k.deleted_at IS NULL ORDER BY k.closing_on DESC, s.name LIMIT ?",
        [community_id, limit])


# -- period close (结账) -----------------------------------------------------------------------
def close_period(db: Database, actor: Actor, community_id: int, period: str,
                 closed_by_id: int | None = None, note: str | None = None) -> int:
    """Close a period: its bills, and payments and adjustments dated in it, can no longer change."""
    values = {"community_id": community_id, "period": billing.check_period(period),
              "closed_at": db.now(), "closed_by_id": closed_by_id, "note": note}
    return apply_changes(db, actor.via("结账"), "period_closes", [
        RowChange("insert", values={k: v for k, v in values.items() if v is not None})]).inserted[0]


def closed_periods(db: Database, community_id: int) -> list[str]:
    return [r[0] for r in db.rows(
        "SELECT period FROM period_closes WHERE community_id = ? AND deleted_at IS NULL "
        "ORDER BY period DESC", [community_id])]
