"""Discount rules as data (issue #19 item 6): the register 优惠规则, used when prepaying.

Worked by hand: 物业费 105.01 m² × 2.00 = 210.02 a month, due on the 25th; paid on 2026-07-10.
- 满12月赠1月, 12 months 2026-07..2027-06: 11 × 210.02 = 2,310.22 paid, 12 bills settled, one
  折扣 of 210.02 on 2027-06 citing the rule (and the receipt);
- 满6月 5 % off, 6 months: 6 × 210.02 = 1,260.12; 5 % = 63.006 → 63.01 (half-up, once), on the
  last bill; paid 1,197.11;
- 空置房 60 %, 3 months on a vacant household: each bill 210.02 − 126.012 → 126.01 = 84.01 off,
  3 × 84.01 = 252.03; paid 630.06 − 252.03 = 378.03;
- 固定减免 10.00 a bill with 垃圾费 15.00 as well, the rule on 垃圾费 only, 2 months: 2 × (210.02 +
  15.00) − 2 × 10.00 = 430.04;
- June's 210.02 unpaid and a rule only without arrears: refused, saying 逾期欠费 210.02 元.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing, cashier, prepayment
from app.saving.changes import RowChange, ValidationFailed, apply_changes

D = Decimal
AT = datetime(2026, 7, 10, 9, 0)


@pytest.fixture
def home(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    h = add(db, actor, "households", community_id=c, code="1-1-101", area="105.01", status="已入住")
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
               status="已审批", effective_from="2026-01-01")
    return {"community": c, "household": h, "boss": boss, "item": item}


def rule(db, actor, home, status="已审批", **values) -> int:
    values = {"community_id": home["community"], "name": "预缴一年赠一个月", "kind": "预缴满N月赠M月",
              "min_months": 12, "free_months": 1, "fee_item_id": home["item"], "valid_from": "2026-01-01",
              "status": status, **({"approved_by_id": home["boss"]} if status == "已审批" else {}), **values}
    return add(db, actor, "fee_discounts", **values)


def balances(db, household: int) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return db.rows("SELECT period, amount, due_net, outstanding FROM bill_balance_as_of(DATE '2027-12-31') "
                   "WHERE household_id = ? ORDER BY period, fee_item_id", [household])


def test_twelve_months_with_one_free(db, actor, home):
    free = rule(db, actor, home, only_without_arrears=True)
    rid = prepayment.prepay(db, actor, home["household"], 12, "现金", discount_id=free, paid_at=AT)
    rows = balances(db, home["household"])
    assert len(rows) == 12 and all(left == 0 for *_, left in rows)
    assert rows[-1] == ("2027-06", D("210.02"), D("0.00"), D("0.00"))
    assert db.rows("SELECT b.period, a.kind, a.amount, a.discount_id, a.receipt_id, a.approved_by_id "
                   "FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id") == [
        ("2027-06", "折扣", D("210.02"), free, rid, home["boss"])]
    # the same months cannot be given the rule twice (a second receipt citing it is refused)
    with pytest.raises(ValidationFailed, match="2027-06 的账单已享受过优惠规则「预缴一年赠一个月」"):
        apply_changes(db, actor, "receipts", [RowChange("insert", values={
            "community_id": home["community"], "household_id": home["household"], "paid_at": AT,
            "total": "1.00", "method": "现金", "prepaid_from": "2026-07", "prepaid_to": "2027-06",
            "discount_id": free})])
    r = cashier.receipt(db, rid)
    assert r.total == D("2310.22") and r.to_credit == 0
    assert len(r.lines) == 12 and sum(r.lines["amount"]) == D("2310.22")
    last = r.lines.iloc[-1]
    assert (last["period"], last["amount"]) == ("2027-06", D("0.00"))
    assert last["note"] == "优惠规则「预缴一年赠一个月」优惠 210.02 元"
    assert set(r.lines["note"].iloc[:-1]) == {""}


def test_percent_off_is_rounded_once_and_put_on_the_last_bill(db, actor, home):
    off = rule(db, actor, home, name="预缴半年九五折", kind="预缴满N月折扣", min_months=6, free_months=None,
               percent_off="5")
    rid = prepayment.prepay(db, actor, home["household"], 6, "微信", discount_id=off, paid_at=AT)
    assert cashier.receipt(db, rid).total == D("1197.11")
    assert db.rows("SELECT b.period, a.amount FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id") == [
        ("2026-12", D("63.01"))]
    assert all(left == 0 for *_, left in balances(db, home["household"]))


def test_vacant_ratio_and_fixed_reduction_on_each_bill(db, actor, home):
    h = add(db, actor, "households", community_id=home["community"], code="1-1-102", area="105.01",
            status="空置")
    vacant = rule(db, actor, home, name="空置房六成", kind="空置房比例", min_months=None, free_months=None,
                  vacant_ratio="0.6")
    rid = prepayment.prepay(db, actor, h, 3, "现金", discount_id=vacant, paid_at=AT)
    assert cashier.receipt(db, rid).total == D("378.03")
    assert [a for (a,) in db.rows("SELECT amount FROM bill_adjustments ORDER BY bill_id")] == [D("84.01")] * 3
    # an occupied household cannot use it
    with pytest.raises(ValidationFailed, match="不是空置房"):
        prepayment.prepay(db, actor, home["household"], 3, "现金", discount_id=vacant, paid_at=AT)


    garbage = add(db, actor, "fee_items", community_id=home["community"], name="垃圾费", method="固定",
                  unit_price="15.0000", status="已审批", effective_from="2026-01-01")
    fixed = rule(db, actor, home, name="垃圾费减免", kind="固定减免", fee_item_id=garbage, min_months=None,
                 free_months=None, fixed_amount="10.00")
    rid = prepayment.prepay(db, actor, home["household"], 2, "现金", discount_id=fixed, paid_at=AT)
    assert cashier.receipt(db, rid).total == D("430.04")
    assert db.rows("SELECT b.fee_item_id, a.amount FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id "
                   "WHERE a.discount_id = ?", [fixed]) == [(garbage, D("10.00"))] * 2


def counts(db) -> tuple:
    return tuple(db.scalar(f"SELECT count(*) FROM {t}") for t in ("bills", "receipts", "payments",
                                                                   "bill_adjustments"))


def test_with_arrears_a_rule_only_without_arrears_is_refused_saying_why(db, actor, home):
    # 满3月赠1月 (three months keep the test short): June 210.02 unpaid
    free = rule(db, actor, home, name="预缴三月赠一月", min_months=3, only_without_arrears=True)
    billing.generate_bills(db, actor, home["community"], "2026-06")  # 210.02 due 06-25, unpaid
    before = counts(db)
    q = prepayment.quote(db, home["household"], 3, free, on=AT.date())
    assert q.discount == 0
    assert q.refused == "该房屋有逾期欠费 210.02 元，优惠规则「预缴三月赠一月」仅限无欠费时享受；请先缴清欠费"
    with pytest.raises(ValidationFailed, match="逾期欠费 210.02 元"):
        prepayment.prepay(db, actor, home["household"], 3, "现金", discount_id=free, paid_at=AT)
    assert counts(db) == before
    # without the flag the same prepayment is allowed (arrears collected first)
    lenient = rule(db, actor, home, name="预缴三月赠一月（不限欠费）", min_months=3)
    q = prepayment.quote(db, home["household"], 3, lenient, on=AT.date())
    assert (q.owed_before, q.new_total, q.discount, q.total) == (
        D("210.02"), D("630.06"), D("210.02"), D("630.06"))  # June + 2 × 210.02
    rid = prepayment.prepay(db, actor, home["household"], 3, "现金", discount_id=lenient, paid_at=AT)
    assert cashier.receipt(db, rid).total == D("630.06")
    assert all(left == 0 for *_, left in balances(db, home["household"]))


def test_an_unapproved_rule_or_too_few_months_is_refused_and_changes_nothing(db, actor, home):
    draft = rule(db, actor, home, status="草稿")
    declared = rule(db, actor, home, name="预缴一年赠一个月（已申报）", status="草稿")
    apply_changes(db, actor, "fee_discounts", [RowChange("update", declared, {"status": "已申报"}, 1)])
    approved = rule(db, actor, home, name="预缴一年赠一个月（已审批）")
    for rid, months, message in [
        (draft, 12, "优惠规则「预缴一年赠一个月」尚未审批（当前为草稿），不能使用"),
        (declared, 12, "尚未审批（当前为已申报）"),
        (approved, 6, "预缴 6 个月，未满优惠规则「预缴一年赠一个月（已审批）」要求的 12 个月"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            prepayment.prepay(db, actor, home["household"], months, "现金", discount_id=rid, paid_at=AT)
        assert counts(db) == (0, 0, 0, 0)
    # the check lives in the receipt's save rule too, not only in the cashier's quote
    prepayment.prepay(db, actor, home["household"], 1, "现金", paid_at=AT)  # no rule: July billed, paid
    with pytest.raises(ValidationFailed, match="尚未审批"):
        apply_changes(db, actor, "receipts", [RowChange("insert", values={
            "community_id": home["community"], "household_id": home["household"], "paid_at": AT,
            "total": "10.00", "method": "现金", "prepaid_from": "2026-07", "prepaid_to": "2026-07",
            "discount_id": draft})])
    assert counts(db) == (1, 1, 1, 0)


def test_rules_are_approved_like_fee_standards(db, actor, home):
    with pytest.raises(ValidationFailed, match="审批优惠规则须填写审批人"):
        add(db, actor, "fee_discounts", community_id=home["community"], name="x", kind="预缴满N月赠M月",
            min_months=12, free_months=1, valid_from="2026-01-01", status="已审批")
    with pytest.raises(ValidationFailed, match="预缴满N月折扣须填写优惠比例"):
        rule(db, actor, home, kind="预缴满N月折扣", free_months=None)
    with pytest.raises(ValidationFailed, match="赠送月数须少于预缴月数"):
        rule(db, actor, home, free_months=12)
    draft = rule(db, actor, home, status="草稿")
    with pytest.raises(ValidationFailed, match="须先申报才能审批"):
        apply_changes(db, actor, "fee_discounts", [RowChange("update", draft, {
            "status": "已审批", "approved_by_id": home["boss"]}, 1)])
    approved = rule(db, actor, home, name="预缴一年赠二个月", free_months=2)
    with pytest.raises(ValidationFailed, match="已审批的优惠规则不能修改"):
        apply_changes(db, actor, "fee_discounts", [RowChange("update", approved, {"free_months": 3}, 1)])
    apply_changes(db, actor, "fee_discounts", [RowChange("update", approved, {"valid_to": "2026-12-31"}, 1)])
    with pytest.raises(ValidationFailed, match="有效期为 2026-01-01 至 2026-12-31，2027-01-05 不能使用"):
        prepayment.prepay(db, actor, home["household"], 12, "现金", discount_id=approved,
                          paid_at=datetime(2027, 1, 5, 9))


def test_a_period_close_still_balances_and_the_ledger_stays_append_only(db, actor, home):
    """July closed with a prepayment and its discount in it: money taken = payments + credit,
    prepaid bills = payments + discounts; after the close nothing of July changes, and the
    ledgers (bills, payments, adjustments, credit) refuse edits and deletions at any time."""
    free = rule(db, actor, home, name="预缴三月赠一月", min_months=3)  # 2026-07..09: 2 × 210.02 = 420.04
    c, h, boss = home["community"], home["household"], home["boss"]
    rid = prepayment.prepay(db, actor, h, 3, "现金", discount_id=free, paid_at=AT, cashier_id=boss)
    cashier.close_day(db, actor, c, boss, AT.date(), "420.04")
    assert db.rows("SELECT receipts, cash_total, difference FROM cash_closings") == [(1, D("420.04"), D("0.00"))]
    cashier.close_period(db, actor, c, "2026-07")
    july = db.rows(
        "SELECT (SELECT sum(total) FROM receipts WHERE NOT coalesce(voided, false) AND paid_at < DATE '2026-08-01'), "
        "(SELECT sum(amount) FROM payments WHERE paid_at < DATE '2026-08-01'), "
        "(SELECT coalesce(sum(amount), 0) FROM household_credits WHERE credited_at < DATE '2026-08-01')")[0]
    assert july == (D("420.04"), D("420.04"), D("0.00"))
    assert db.rows("SELECT sum(amount), sum(reduced), sum(paid_net), sum(outstanding) "
                   "FROM bill_balance_as_of(DATE '2026-07-31')") == [
        (D("630.06"), D("210.02"), D("420.04"), D("0.00"))]
    # every row the prepayment wrote is audited as added, under the save path
    assert dict(db.rows("SELECT register, count(*) FROM audit_log WHERE action = '新增' AND register IN "
                        "('bills', 'receipts', 'payments', 'bill_adjustments') GROUP BY register")) == {
        "bills": 3, "receipts": 1, "payments": 2, "bill_adjustments": 1}
    discounted, adjustment = db.rows("SELECT a.bill_id, a.id FROM bill_adjustments a")[0]
    september = db.scalar("SELECT id FROM bills WHERE period = '2026-09'")
    assert discounted == september
    with pytest.raises(ValidationFailed, match="已结账"):
        billing.void_receipt(db, actor, rid, "补作废")
    with pytest.raises(ValidationFailed, match="已结账"):
        add(db, actor, "bill_adjustments", bill_id=september, kind="折扣", amount="1.00", reason="补优惠",
            approved_by_id=boss, adjusted_at="2026-07-20 10:00", discount_id=free)
    for register, row_id in [("bill_adjustments", adjustment), ("bills", september),
                             ("payments", db.scalar("SELECT min(id) FROM payments"))]:
        for change in (RowChange("update", row_id, {"note": "改"}, 1), RowChange("delete", row_id=row_id)):
            with pytest.raises(ValidationFailed, match="只能追加"):
                apply_changes(db, actor, register, [change])
    assert db.rows("SELECT sum(outstanding) FROM bill_balance_as_of(DATE '2027-12-31')") == [(D("0.00"),)]
