"""The bill run, the cashier (receipts, allocation, credit, voids) and the ledger's save rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing
from app.saving.changes import RowChange, ValidationFailed, apply_changes

D = Decimal


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    homes = {
        "flat": add(db, actor, "households", community_id=c, code="1-1-101", area="80.50", status="已入住"),
        "vacant": add(db, actor, "households", community_id=c, code="1-1-102", area="100.00", status="空置"),
        "shop": add(db, actor, "households", community_id=c, code="1-1-103", area="33.33", usage="商铺",
                    status="出租"),
    }
    return {"community": c, "boss": boss, **homes}


def item(db, actor, estate, name, **values) -> int:
    values = {"status": "已审批", "effective_from": "2026-01-01", **values}
    return add(db, actor, "fee_items", community_id=estate["community"], name=name, **values)


def bills_of(db, period: str) -> dict[tuple[int, int], tuple]:
    return {
        (h, f): (amount, due)
        for h, f, amount, due in db.rows(
            "SELECT household_id, fee_item_id, amount, due_date FROM bills WHERE period = ?", [period])
    }


# -- the bill run -----------------------------------------------------------------------------
def test_bill_run_formulas_vacant_ratio_scope_and_half_up(db, actor, estate):
    area = item(db, actor, estate, "物业费", method="按面积", unit_price="0.25", vacant_ratio="0.5")
    fixed = item(db, actor, estate, "垃圾清运费", method="固定", unit_price="12.5", usage_scope="商铺")
    water = item(db, actor, estate, "水费", method="按用量", unit_price="3.2", meter="水")
    item(db, actor, estate, "电梯费", method="按面积", unit_price="9", status="已申报")  # not approved
    item(db, actor, estate, "旧物业费", method="按面积", unit_price="9", effective_to="2026-05-31")
    add(db, actor, "meter_readings", household_id=estate["flat"], meter="水", period="2026-07",
        prev_reading="100", curr_reading="112.5")
    # went down without 翻表 or 换表 (a row from before the entry rule): not billed
    back = add(db, actor, "meter_readings", household_id=estate["shop"], meter="水", period="2026-07",
               prev_reading="50", curr_reading="60")
    with db.transaction() as cur:
        cur.execute("UPDATE meter_readings SET curr_reading = 40 WHERE id = ?", [back])
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 5
    got = bills_of(db, "2026-07")
    due = datetime(2026, 7, 25).date()
    assert got == {
        # 80.50 × 0.25 = 20.125 → 20.13 half-up (half-even would give 20.12)
        (estate["flat"], area): (D("20.13"), due),
        # 空置: 100 × 0.25 × 0.5 = 12.50
        (estate["vacant"], area): (D("12.50"), due),
        # 33.33 × 0.25 = 8.3325 → 8.33
        (estate["shop"], area): (D("8.33"), due),
        # 固定 for shops only: 12.5 × 1
        (estate["shop"], fixed): (D("12.50"), due),
        # (112.5 − 100) × 3.2 = 40.00
        (estate["flat"], water): (D("40.00"), due),
    }


def test_bill_run_cycles_quarterly_and_yearly(db, actor, estate):
    quarterly = item(db, actor, estate, "物业费", method="按面积", unit_price="1.5", cycle="季")
    yearly = item(db, actor, estate, "保险费", method="固定", unit_price="10", cycle="年", usage_scope="商铺")
    assert billing.generate_bills(db, actor, estate["community"], "2026-02") == 0
    assert billing.generate_bills(db, actor, estate["community"], "2026-04") == 3
    # 80.50 × 1.5 × 3 = 362.25
    assert bills_of(db, "2026-04")[estate["flat"], quarterly][0] == D("362.25")
    assert billing.generate_bills(db, actor, estate["community"], "2026-01") == 4
    # 10 × 12 = 120.00
    assert bills_of(db, "2026-01")[estate["shop"], yearly][0] == D("120.00")


def test_bill_run_is_idempotent(db, actor, estate):
    item(db, actor, estate, "物业费", method="按面积", unit_price="2")
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 3
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 0
    add(db, actor, "households", community_id=estate["community"], code="1-1-104", area="60")
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 1
    assert db.scalar("SELECT count(*) FROM bills") == 4
    audited = db.scalar("SELECT count(*) FROM audit_log WHERE register = 'bills' AND action = '新增'")
    assert audited == 4


def test_bill_run_uses_the_due_day_setting(db, actor, estate):
    item(db, actor, estate, "物业费", method="固定", unit_price="50")
    add(db, actor, "settings", key="fee.due_day", value="31", community_id=estate["community"])
    billing.generate_bills(db, actor, estate["community"], "2026-06")
    # day 31 in a 30-day month: the month's last day
    assert {d for _, d in bills_of(db, "2026-06").values()} == {datetime(2026, 6, 30).date()}


def test_bill_lines_of_every_community_at_once(db, actor, estate):
    """community None: one statement for all communities, each with its own items and due day."""
    item(db, actor, estate, "物业费", method="按面积", unit_price="2")
    other = add(db, actor, "communities", name="翠湖苑")
    home = add(db, actor, "households", community_id=other, code="2-1-101", area="50.25", status="已入住")
    fee = add(db, actor, "fee_items", community_id=other, name="垃圾清运费", method="固定", unit_price="8",
              status="已审批", effective_from="2026-01-01")
    add(db, actor, "settings", key="fee.due_day", value="10", community_id=other)
    billing.generate_bills(db, actor, estate["community"], "2026-06")  # already billed: skipped
    lines = billing.bill_lines(db, None, "2026-06")
    got = {(r.household_id, r.fee_item_id): (r.amount, r.due_date) for r in lines.itertuples()}
    # only 翠湖苑's home: 固定 8 × 1 = 8.00, due on its own day 10 (阳光花园 keeps 25)
    assert got == {(home, fee): (D("8.00"), datetime(2026, 6, 10).date())}
    assert len(billing.bill_lines(db, None, "2026-07")) == 4  # 3 homes × 物业费 + 1 × 垃圾清运费


def test_bills_of_a_closed_period_are_refused(db, actor, estate):
    item(db, actor, estate, "物业费", method="固定", unit_price="50")
    add(db, actor, "period_closes", community_id=estate["community"], period="2026-06",
        closed_at="2026-07-01 09:00")
    with pytest.raises(ValidationFailed, match="已结账"):
        billing.generate_bills(db, actor, estate["community"], "2026-06")
    assert db.scalar("SELECT count(*) FROM bills") == 0


def test_bad_period_is_refused():
    with pytest.raises(ValueError, match="账期"):
        billing.check_period("2026-13")


# -- immutability -----------------------------------------------------------------------------
def test_bills_payments_and_adjustments_cannot_be_edited_or_deleted(db, actor, estate):
    fee = item(db, actor, estate, "物业费", method="固定", unit_price="50")
    b = add(db, actor, "bills", household_id=estate["flat"], fee_item_id=fee, period="2026-07",
            amount="50", due_date="2026-07-25")
    p = add(db, actor, "payments", bill_id=b, amount="10", paid_at="2026-07-10 09:00")
    a = add(db, actor, "bill_adjustments", bill_id=b, kind="减免", amount="5", reason="困难户",
            approved_by_id=estate["boss"], adjusted_at="2026-07-10 09:00")
    for register, row_id, values in (("bills", b, {"amount": "40"}), ("payments", p, {"amount": "1"}),
                                     ("bill_adjustments", a, {"amount": "1"})):
        with pytest.raises(ValidationFailed, match="只能追加"):
            apply_changes(db, actor, register, [RowChange("update", row_id=row_id, values=values)])
        with pytest.raises(ValidationFailed, match="只能追加"):
            apply_changes(db, actor, register, [RowChange("delete", row_id=row_id)])
    assert db.scalar("SELECT amount FROM bills WHERE id = ?", [b]) == D("50.00")


def test_adjustments_need_an_approver_and_cannot_exceed_the_bill(db, actor, estate):
    fee = item(db, actor, estate, "物业费", method="固定", unit_price="50")
    b = add(db, actor, "bills", household_id=estate["flat"], fee_item_id=fee, period="2026-07",
            amount="50", due_date="2026-07-25")
    with pytest.raises(ValidationFailed, match="审批人"):
        add(db, actor, "bill_adjustments", bill_id=b, kind="减免", amount="5", reason="x",
            adjusted_at="2026-07-10 09:00")
    with pytest.raises(ValidationFailed, match="应收不能为负"):
        add(db, actor, "bill_adjustments", bill_id=b, kind="减免", amount="60", reason="x",
            approved_by_id=estate["boss"], adjusted_at="2026-07-10 09:00")
    with pytest.raises(ValidationFailed, match="退款不能超过"):
        add(db, actor, "bill_adjustments", bill_id=b, kind="退款", amount="1", reason="x",
            approved_by_id=estate["boss"], adjusted_at="2026-07-10 09:00")


def test_an_approved_fee_standard_is_frozen(db, actor, estate):
    fee = item(db, actor, estate, "物业费", method="固定", unit_price="50")
    with pytest.raises(ValidationFailed, match="不能修改"):
        apply_changes(db, actor, "fee_items", [RowChange("update", row_id=fee, values={"unit_price": "60"})])
    apply_changes(db, actor, "fee_items", [RowChange("update", row_id=fee, values={"effective_to": "2026-12-31"})])
    with pytest.raises(ValidationFailed, match="表计"):
        item(db, actor, estate, "水费", method="按用量", unit_price="3")


# -- the cashier ------------------------------------------------------------------------------
@pytest.fixture
def owing(db, actor, estate) -> dict:
    """The flat owes three monthly bills of 50.00 (May, June, July)."""
    fee = item(db, actor, estate, "物业费", method="固定", unit_price="50")
    for period in ("2026-05", "2026-06", "2026-07"):
        billing.generate_bills(db, actor, estate["community"], period)
    ids = dict(db.rows("SELECT period, id FROM bills WHERE household_id = ? ORDER BY period",
                       [estate["flat"]]))
    return {**estate, "fee": fee, "bills": ids}


def test_payment_goes_to_oldest_bills_first_and_overpayment_becomes_credit(db, actor, owing):
    flat = owing["flat"]
    first = billing.take_payment(db, actor, flat, "70.00", "现金", datetime(2026, 7, 1, 9))
    # 70 → May 50, June 20
    assert db.rows("SELECT bill_id, amount FROM payments WHERE receipt_id = ? ORDER BY bill_id", [first]) == [
        (owing["bills"]["2026-05"], D("50.00")), (owing["bills"]["2026-06"], D("20.00"))]
    second = billing.take_payment(db, actor, flat, "100.00", "微信", datetime(2026, 7, 2, 9))
    # 100 → June 30, July 50, credit 20
    assert db.rows("SELECT bill_id, amount FROM payments WHERE receipt_id = ? ORDER BY bill_id", [second]) == [
        (owing["bills"]["2026-06"], D("30.00")), (owing["bills"]["2026-07"], D("50.00"))]
    assert billing.credit_balance(db, flat) == D("20.00")
    assert billing.open_bills(db, flat).empty
    # the credit pays the next bill: 预存款 receipt of 20 → August 20, credit −20
    billing.generate_bills(db, actor, owing["community"], "2026-08")
    third = billing.take_payment(db, actor, flat, "20.00", "预存款", datetime(2026, 8, 2, 9))
    assert billing.credit_balance(db, flat) == D("0.00")
    assert db.scalar("SELECT sum(amount) FROM payments WHERE receipt_id = ?", [third]) == D("20.00")
    with pytest.raises(ValidationFailed, match="预存款余额"):
        billing.take_payment(db, actor, flat, "1.00", "预存款", datetime(2026, 8, 3, 9))
    # the receipt, its payments and its credit are audited under one change set
    changes = db.rows("SELECT DISTINCT register FROM audit_log WHERE change_id = "
                      "(SELECT change_id FROM audit_log WHERE register = 'receipts' AND row_id = ?) "
                      "ORDER BY register", [second])
    assert [r[0] for r in changes] == ["household_credits", "payments", "receipts"]


def test_receipt_numbers_run_per_community_and_year_without_gaps(db, actor, owing):
    flat, vacant = owing["flat"], owing["vacant"]
    other = add(db, actor, "communities", name="翠湖苑")
    far = add(db, actor, "households", community_id=other, code="1-1-101", area="90")
    ids = [
        billing.take_payment(db, actor, flat, "10", "现金", datetime(2026, 7, 1, 9)),
        billing.take_payment(db, actor, vacant, "10", "现金", datetime(2026, 7, 1, 10)),
        billing.take_payment(db, actor, far, "10", "现金", datetime(2026, 7, 1, 11)),
        billing.take_payment(db, actor, flat, "10", "现金", datetime(2027, 1, 2, 9)),
    ]
    billing.void_receipt(db, actor, ids[1], "重复收款")
    ids.append(billing.take_payment(db, actor, flat, "10", "现金", datetime(2026, 12, 31, 9)))
    numbers = dict(db.rows("SELECT id, receipt_no FROM receipts"))
    assert [numbers[i] for i in ids] == [
        "2026-000001", "2026-000002", "2026-000001", "2027-000001", "2026-000003"]


def test_a_receipt_is_voided_with_a_reason_and_never_deleted(db, actor, owing):
    flat = owing["flat"]
    receipt = billing.take_payment(db, actor, flat, "60.00", "现金", datetime(2026, 7, 1, 9))
    with pytest.raises(ValidationFailed, match="原因"):
        billing.void_receipt(db, actor, receipt, " ")
    with pytest.raises(ValidationFailed, match="不能删除"):
        apply_changes(db, actor, "receipts", [RowChange("delete", row_id=receipt)])
    with pytest.raises(ValidationFailed, match="不能修改"):
        apply_changes(db, actor, "receipts", [RowChange("update", row_id=receipt, values={"total": "1"})])
    billing.void_receipt(db, actor, receipt, "金额录错")
    voided, reason, at = db.rows("SELECT voided, void_reason, voided_at FROM receipts WHERE id = ?",
                                 [receipt])[0]
    assert (voided, reason) == (True, "金额录错") and at is not None
    # its money no longer counts: all three bills owed again, and its credit is gone
    assert len(billing.open_bills(db, flat)) == 3
    assert billing.credit_balance(db, flat) == D("0.00")
    with pytest.raises(ValidationFailed, match="不能恢复"):
        apply_changes(db, actor, "receipts", [RowChange("update", row_id=receipt, values={"voided": False})])


def test_payment_dated_in_a_closed_month_is_refused(db, actor, owing):
    add(db, actor, "period_closes", community_id=owing["community"], period="2026-06",
        closed_at="2026-07-01 09:00")
    with pytest.raises(ValidationFailed, match="已结账"):
        billing.take_payment(db, actor, owing["flat"], "10", "现金", datetime(2026, 6, 30, 9))
    with pytest.raises(ValidationFailed, match="已结账"):
        add(db, actor, "payments", bill_id=owing["bills"]["2026-05"], amount="10",
            paid_at="2026-06-15 09:00")
    # a bill of the closed period can still be paid today
    billing.take_payment(db, actor, owing["flat"], "10", "现金", datetime(2026, 7, 2, 9))
    assert db.scalar("SELECT count(*) FROM receipts") == 1
