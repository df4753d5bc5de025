"""Prepayment (预缴) at the cashier, and the discount rules (优惠规则) it may use. No Streamlit.

A household pays N months ahead: the future bills are made by the bill run's own formula
(`billing.bill_lines`, the run's dry-run rows for each period, kept to this household), so a
later run for those months finds them billed and skips them. The receipt carries the prepaid
periods and the rule; its save rule (app/save_rules/fees.py) checks the rule and writes the
discount as 折扣 adjustments citing it, in the receipt's own transaction, before allocating.

The discount is computed once, here, by `discount_for` — for the cashier's quote and inside
the receipt's save — from the rule's row and the prepaid bills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor
from app.fees import billing, cashier
from app.registers.validation import money
from app.saving.changes import (
    ChangeSet,
    Problem,
    RowChange,
    ValidationFailed,
    apply_change_sets,
)
from app.storage.db import Database

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RULE_COLUMNS = ("id", "community_id", "name", "fee_item_id", "kind", "min_months", "percent_off",
                "free_months", "vacant_ratio", "fixed_amount", "only_without_arrears", "status", "approved_by_id",
                "valid_from", "valid_to")


@dataclass(frozen=True)
class PrepaidBill:
    key: Any  # a bill id, or a (period, fee item) not yet billed
    period: str
    fee_item_id: int
    amount: Decimal


def add_months(period: str, n: int) -> str:
    y, m = map(int, billing.check_period(period).split("-"))
    y, m = divmod(y * 12 + m - 1 + n, 12)
    return f"{y}-{m + 1:02d}"


def months_between(first: str, last: str) -> int:
    """Months from first to last, both counted: 2026-08..2027-07 → 12."""
    (y1, m1), (y2, m2) = (map(int, billing.check_period(p).split("-")) for p in (first, last))
    return (y2 - y1) * 12 + m2 - m1 + 1


def rule_of(cur, discount_id: int) -> dict | None:
    row = cur.execute("SELECT " + ", ".join(RULE_COLUMNS) + " FROM fee_discounts "
                      "WHERE id = ? AND deleted_at IS NULL", [discount_id]).fetchone()
    return dict(zip(RULE_COLUMNS, row)) if row else None


def overdue_before(cur, household_id: int, on: date, first_period: str) -> Decimal:
    """What the household owes past due on `on`, leaving out the prepaid periods themselves."""
    value = cur.execute(
        "SELECT coalesce(sum(outstanding), 0) FROM bill_balance_of(CAST(? AS DATE), CAST(? AS BIGINT)) "
        "WHERE outstanding > 0 AND due_date < CAST(? AS DATE) AND period < ?",
        [on, household_id, on, first_period]).fetchone()[0]
    return money(value)


def discounted_before(cur, household_id: int, first: str, last: str) -> str | None:
    """A discount rule already given on a bill of these months (one rule per month, once)."""
    found = cur.execute(
        "SELECT min(b.period), min(d.name) FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id "
        "JOIN fee_discounts d ON d.id = a.discount_id WHERE b.household_id = ? AND a.deleted_at IS NULL "
        "AND b.period BETWEEN ? AND ?", [household_id, first, last]).fetchone()
    return f"{found[0]} 的账单已享受过优惠规则「{found[1]}」，同一账期不能重复优惠" if found and found[0] else None


def refusal(rule: dict | None, community_id: int, months: int, on: date, vacant: bool,
            overdue: Decimal) -> str | None:
    """Why this rule cannot be used for this prepayment (in the office's words), or None."""
    if rule is None:
        return "优惠规则不存在或已删除"
    name = f"优惠规则「{rule['name']}」"
    if rule["community_id"] != community_id:
        return f"{name}不属于该房屋所在小区"
    if rule["status"] != "已审批":
        return f"{name}尚未审批（当前为{rule['status']}），不能使用"
    if rule["valid_from"] > on or (rule["valid_to"] is not None and rule["valid_to"] < on):
        until = f"至 {rule['valid_to']}" if rule["valid_to"] else "起"
        return f"{name}的有效期为 {rule['valid_from']} {until}，{on} 不能使用"
    if rule["kind"].startswith("预缴满") and months < (rule["min_months"] or 1):
        return f"预缴 {months} 个月，未满{name}要求的 {rule['min_months']} 个月"
    if rule["kind"] == "空置房比例" and not vacant:
        return f"该房屋不是空置房，不能使用{name}"
    if rule["only_without_arrears"] and overdue > 0:
        return f"该房屋有逾期欠费 {overdue} 元，{name}仅限无欠费时享受；请先缴清欠费"
    return None


def _half_up(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def discount_for(rule: dict, bills: list[PrepaidBill]) -> list[tuple[PrepaidBill, Decimal]]:
    """The discount of a (usable) rule on the prepaid bills: (bill, amount) to write as 折扣.

    满N月赠M月: the covered bills of the last M months, in full (12 × 210.02 with 满12月赠1月 →
    210.02 on the 12th bill). 空置房比例 and 固定减免: each covered bill (bill − bill × ratio, half-up;
    the fixed amount, not above the bill). 折扣 x %: the total, rounded half-up once, laid on the
    covered bills from the latest back (one adjustment where it fits).
    """
    covered = sorted((b for b in bills if rule["fee_item_id"] is None or b.fee_item_id == rule["fee_item_id"]),
                     key=lambda b: (b.period, b.fee_item_id), reverse=True)
    kind = rule["kind"]
    if kind == "预缴满N月赠M月":
        free = sorted({b.period for b in covered}, reverse=True)[:rule["free_months"] or 0]
        given = [(b, b.amount) for b in covered if b.period in free]
    elif kind == "空置房比例":
        ratio = Decimal(rule["vacant_ratio"] if rule["vacant_ratio"] is not None else 1)
        given = [(b, b.amount - _half_up(b.amount * ratio)) for b in covered]
    elif kind == "固定减免":
        given = [(b, min(money(rule["fixed_amount"] or 0), b.amount)) for b in covered]
    else:  # 预缴满N月折扣
        left = _half_up(sum((b.amount for b in covered), ZERO) * Decimal(rule["percent_off"] or 0) / 100)
        given = []
        for b in covered:
            if left <= 0:
                break
            given.append((b, min(left, b.amount)))
            left -= given[-1][1]
    return [(b, part) for b, part in reversed(given) if part > 0]


# -- the cashier's quote and payment ------------------------------------------------------
@dataclass
class Quote:
    household_id: int
    community_id: int
    periods: list[str]
    lines: pd.DataFrame  # period, fee_item_id, fee_item, amount, discount, bill_id (None: to be made)
    new_bills: pd.DataFrame  # bill_lines rows still to make, with their period
    owed_before: Decimal  # what the cashier collects for the account as it is (arrears, open bills)
    discount: Decimal
    rule_name: str | None = None
    refused: str | None = None  # why the chosen rule cannot be used
    problems: list[str] = field(default_factory=list)

    @property
    def bills_total(self) -> Decimal:
        return money(self.lines["amount"].sum()) if not self.lines.empty else ZERO

    @property
    def new_total(self) -> Decimal:
        return money(self.new_bills["amount"].sum()) if not self.new_bills.empty else ZERO

    @property
    def total(self) -> Decimal:
        """What the household pays: its account as it is, the new bills, less the discount."""
        return self.owed_before + self.new_total - self.discount


_LINE_COLUMNS = ["period", "fee_item_id", "fee_item", "amount", "discount", "bill_id"]


def first_period(db: Database, household_id: int, on: date) -> str:
    """The first month to prepay: after the latest month billed, and not before this month."""
    latest = db.scalar("SELECT max(period) FROM bills WHERE household_id = ? AND deleted_at IS NULL "
                       "AND late_fee_of IS NULL", [household_id])
    this_month = on.strftime("%Y-%m")
    return max(add_months(latest, 1), this_month) if latest else this_month


def quote(db: Database, household_id: int, months: int, discount_id: int | None = None,
          on: date | None = None, start: str | None = None) -> Quote:
    """What prepaying `months` months from `start` costs, with the rule's discount (if usable)."""
    on = on or db.now().date()
    if not isinstance(months, int) or months < 1 or months > 36:
        raise ValidationFailed([Problem("预缴", "月数", "预缴月数应为 1 到 36 的整数")])
    acct = cashier.account(db, household_id, on)
    start = start or first_period(db, household_id, on)
    periods = [add_months(start, k) for k in range(months)]
    rule, rule_name = None, None
    if discount_id is not None:
        cur = db.cursor()
        rule = rule_of(cur, discount_id)
        rule_name = rule["name"] if rule else None
        vacant = db.scalar("SELECT status FROM households WHERE id = ?", [household_id]) == "空置"
        refused = refusal(rule, acct.community_id, months, on, vacant,
                          overdue_before(cur, household_id, on, periods[0])) \
            or discounted_before(cur, household_id, periods[0], periods[-1])
        if refused:  # said before any month is worked out: nothing to pay under this rule
            return Quote(household_id, acct.community_id, periods, pd.DataFrame(columns=_LINE_COLUMNS),
                         pd.DataFrame(), acct.to_collect, ZERO, rule_name, refused)
    parts = []
    for period in periods:
        found = billing.bill_lines(db, acct.community_id, period)
        parts.append(found[found["household_id"] == household_id].assign(period=period))
    new = pd.concat(parts, ignore_index=True)
    existing = db.query(
        "SELECT id AS bill_id, period, fee_item_id, amount FROM bills WHERE household_id = ? "
        "AND deleted_at IS NULL AND late_fee_of IS NULL AND period BETWEEN ? AND ?",
        [household_id, periods[0], periods[-1]])
    bills = [PrepaidBill(int(r.bill_id), r.period, int(r.fee_item_id), money(r.amount))
             for r in existing.itertuples(index=False)]
    bills += [PrepaidBill((r.period, int(r.fee_item_id)), r.period, int(r.fee_item_id), money(r.amount))
              for r in new.itertuples(index=False)]
    given = {b.key: part for b, part in discount_for(rule, bills)} if rule else {}
    discount = money(sum(given.values(), ZERO))
    names = dict(db.rows("SELECT id, name FROM fee_items WHERE community_id = ?", [acct.community_id]))
    lines = pd.DataFrame(
        [{"period": b.period, "fee_item_id": b.fee_item_id, "fee_item": names.get(b.fee_item_id, ""),
          "amount": b.amount, "discount": given.get(b.key, ZERO),
          "bill_id": b.key if isinstance(b.key, int) else None}
         for b in sorted(bills, key=lambda b: (b.period, b.fee_item_id))],
        columns=_LINE_COLUMNS)
    return Quote(household_id, acct.community_id, periods, lines, new, acct.to_collect, discount, rule_name)


def prepay(db: Database, actor: Actor, household_id: int, months: int, method: str,
           discount_id: int | None = None, paid_at: datetime | None = None,
           cashier_id: int | None = None, note: str | None = None, start: str | None = None) -> int:
    """Make the bills of the next `months` months and take their payment; returns the receipt id.

    One transaction, all or nothing: the bills (the ones the run would make), then the receipt —
    with the discount adjustments and payments its save rule writes — as two saves that see each
    other. A refused receipt (a rule that cannot be used, a wrong entry, no right) leaves no bill.
    """
    paid_at = paid_at or db.now()
    q = quote(db, household_id, months, discount_id, paid_at.date(), start)
    if q.refused:
        raise ValidationFailed([Problem("预缴", "优惠规则", q.refused)])
    if q.lines.empty:
        raise ValidationFailed([Problem("预缴", "月数", "这些月份没有可预缴的收费项目")])
    saves = []
    if not q.new_bills.empty:
        issued_at = db.now()
        saves.append(ChangeSet(actor.via("预缴"), "bills", [billing.bill_change(row, row.period, issued_at)
                                                           for row in q.new_bills.itertuples(index=False)]))
    values = {"community_id": q.community_id, "household_id": household_id, "paid_at": paid_at,
              "total": q.total, "method": method, "cashier_id": cashier_id,
              "prepaid_from": q.periods[0], "prepaid_to": q.periods[-1], "discount_id": discount_id,
              "note": note or f"预缴 {q.periods[0]} 至 {q.periods[-1]}，共 {months} 个月"}
    saves.append(ChangeSet(actor.via("收银台"), "receipts", [
        RowChange("insert", values={k: v for k, v in values.items() if v is not None})]))
    return apply_change_sets(db, saves)[-1].inserted[0]


def usable_rules(db: Database, community_id: int, on: date | None = None) -> pd.DataFrame:
    """Approved rules in force in a community (the cashier's choice), with what they give."""
    on = on or db.now().date()
    return db.query(
        "SELECT d.id, d.name, d.kind, f.name AS fee_item, d.min_months, d.percent_off, d.free_months, "
        "d.vacant_ratio, d.fixed_amount, d.only_without_arrears FROM fee_discounts d "
        "LEFT JOIN fee_items f ON f.id = d.fee_item_id WHERE d.community_id = ? AND d.deleted_at IS NULL "
        "AND d.status = '已审批' AND d.valid_from <= CAST(? AS DATE) "
        "AND (d.valid_to IS NULL OR d.valid_to >= CAST(? AS DATE)) ORDER BY d.name",
        [community_id, on, on])
