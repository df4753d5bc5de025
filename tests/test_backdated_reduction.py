"""Backdated reductions: a 减免 or 折扣 may carry the date from which it counts for the late fee
(counts_from, default its own date).

Worked example (rate 0.0005/day, no grace): 物业费 105.01 m² × 2.00 = 210.02 due 2026-06-25;
减免 50.00 made 2026-07-10; late fee as of 07-10 (days 06-26..07-10 = 15):
- counting from the due date 06-25: 160.02 × 15 × 0.0005 = 1.20015 → 1.20;
- counting from 07-01: 210.02 × 6 (06-26..07-01) × 0.0005 = 0.63006 + 160.02 × 9 (07-02..07-10)
  × 0.0005 = 0.72009 → 1.35015 → 1.35;
- no date (its own, 07-10): 210.02 × 15 × 0.0005 = 1.57515 → 1.58.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing, cashier
from app.saving.changes import ValidationFailed

D = Decimal
AS_OF = date(2026, 7, 10)


@pytest.fixture
def june(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    h = add(db, actor, "households", community_id=c, code="1-1-101", area="105.01", status="已入住")
    add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
        status="已审批", effective_from="2026-01-01")
    billing.generate_bills(db, actor, c, "2026-06")
    bill = db.scalar("SELECT id FROM bills WHERE household_id = ? AND period = '2026-06'", [h])
    return {"community": c, "household": h, "bill": bill, "boss": boss}


def reduce(db, actor, june, at: str = "2026-07-10 09:00", **values) -> int:
    return add(db, actor, "bill_adjustments", bill_id=june["bill"], kind="减免", amount="50.00",
               reason="停水补偿", approved_by_id=june["boss"], adjusted_at=at, **values)


def late_fee(db, june, as_of: date = AS_OF) -> Decimal:
    return db.scalar("SELECT late_fee FROM bill_late_fees_of(CAST(? AS DATE), CAST(? AS BIGINT)) "
                     "WHERE bill_id = ?", [as_of, june["household"], june["bill"]])


@pytest.mark.parametrize(("counts_from", "expected"), [
    ("2026-06-25", D("1.20")),  # from the due date: 160.02 × 15 days
    ("2026-07-01", D("1.35")),  # 6 days on 210.02 + 9 days on 160.02
    (None, D("1.58")),  # its own date, 07-10: the whole 15 days on 210.02
])
def test_the_worked_example(db, actor, june, counts_from, expected):
    assert late_fee(db, june) == D("1.58")  # before the reduction
    reduce(db, actor, june, **({"counts_from": counts_from} if counts_from else {}))
    assert late_fee(db, june) == expected
    arrears = db.rows("SELECT outstanding, late_fee FROM arrears_of(CAST(? AS DATE), CAST(? AS BIGINT))",
                      [AS_OF, june["household"]])
    assert arrears == [(D("160.02"), expected)]
    assert cashier.account(db, june["household"], AS_OF).late_fee == expected


def test_a_reduction_made_earlier_counts_from_its_own_date(db, actor, june):
    # made 07-05, no date given: 210.02 × 10 (06-26..07-05) = 1.0501 + 160.02 × 5 (07-06..07-10)
    # = 0.40005 → 1.45015 → 1.45
    reduce(db, actor, june, at="2026-07-05 15:00")
    assert late_fee(db, june) == D("1.45")


def test_the_late_fee_before_the_reduction_was_made_does_not_change(db, actor, june):
    # the late fee as of 07-05 was 210.02 × 10 × 0.0005 = 1.05; a reduction made on 07-10 and
    # backdated to the due date does not rewrite what was owed on 07-05
    reduce(db, actor, june, counts_from="2026-06-25")
    assert late_fee(db, june, date(2026, 7, 5)) == D("1.05")
    assert late_fee(db, june, date(2026, 7, 20)) == D("2.00")  # 160.02 × 25 = 2.00025 → 2.00


def test_the_cashier_collects_the_reduced_late_fee(db, actor, june):
    add(db, actor, "settings", key="fee.late_fee_collect", value="1", value_type="整数",
        community_id=june["community"])
    reduce(db, actor, june, counts_from="2026-06-25")
    rid = billing.take_payment(db, actor, june["household"], D("161.22"), "现金",
                               paid_at=datetime(2026, 7, 10, 10, 0))
    lines = [(x.fee_item, D(x.amount)) for x in cashier.receipt(db, rid).lines.itertuples(index=False)]
    assert lines == [("物业费", D("160.02")), ("物业费滞纳金", D("1.20"))]
    assert cashier.receipt(db, rid).to_credit == D("0.00")


@pytest.mark.parametrize(("values", "message"), [
    ({"counts_from": "2026-07-11"}, "滞纳金计算起始日不能晚于调整日期 2026-07-10"),
    ({"counts_from": "2026-06-25", "kind": "退款"}, "只有减免、折扣可以指定滞纳金计算起始日"),
])
def test_bad_dates_are_refused_and_nothing_is_saved(db, actor, june, values, message):
    if values.get("kind") == "退款":
        billing.take_payment(db, actor, june["household"], D("210.02"), "现金",
                             paid_at=datetime(2026, 7, 1, 10, 0))
    with pytest.raises(ValidationFailed, match=message):
        add(db, actor, "bill_adjustments", **{
            "bill_id": june["bill"], "kind": "减免", "amount": "50.00", "reason": "停水补偿",
            "approved_by_id": june["boss"], "adjusted_at": "2026-07-10 09:00", **values})
    assert db.scalar("SELECT count(*) FROM bill_adjustments") == 0
