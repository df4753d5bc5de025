"""arrears_recovery_month_of(as_of): the monthly report's 往期欠费清缴 for as_of's own month, read
from the kept bill totals, equals that month's rows of arrears_recovery_as_of(as_of) (both backends).

Hand-built (as tests/test_fees_rules.py): four bills of May 2026 due 05-25. b4 paid on time; b1 pays
100 on 05-28 and 50 on 06-10; b2 pays 200 on 06-15 and 20 more on 06-16, refunded 06-18; b3 gets a
减免 of 100 on 06-20. June: 3 bills, 900 at the start (200 + 200 + 500), 250 recovered, 550 remaining.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing

D = Decimal
COLUMNS = ["community_id", "month", "arrears_bills", "arrears_at_start", "recovered", "remaining"]


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    homes = [add(db, actor, "households", community_id=c, code=f"1-1-10{n}", area="100.00",
                 status="已入住") for n in range(1, 6)]
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积",
               unit_price="3.0000", status="已审批", effective_from="2026-01-01")

    def bill(home, amount, period="2026-05", due="2026-05-25"):
        return add(db, actor, "bills", household_id=home, fee_item_id=item, period=period, amount=amount,
                   due_date=due)

    def pay(bill_id, amount, at):
        add(db, actor, "payments", bill_id=bill_id, amount=amount, paid_at=at)

    def adjust(bill_id, kind, amount, at):
        add(db, actor, "bill_adjustments", bill_id=bill_id, kind=kind, amount=amount, adjusted_at=at,
            reason="测试", approved_by_id=boss)

    b1, b2, b3, b4 = (bill(h, a) for h, a in zip(homes, ["300.00", "200.00", "500.00", "100.00"]))
    pay(b4, "100.00", "2026-05-20 09:00")
    pay(b1, "100.00", "2026-05-28 09:00")
    pay(b1, "50.00", "2026-06-10 09:00")
    pay(b2, "200.00", "2026-06-15 09:00")
    adjust(b3, "减免", "100.00", "2026-06-20 09:00")
    pay(b2, "20.00", "2026-06-16 09:00")
    adjust(b2, "退款", "20.00", "2026-06-18 09:00")
    # a receipt voided today: it counted on every past day, not today
    b5 = bill(homes[4], "80.00", "2026-10", "2026-10-25")
    receipt = billing.take_payment(db, actor, homes[4], "80.00", "现金", datetime(2026, 10, 20, 9))
    billing.void_receipt(db, actor, receipt, "收款金额录错")
    return {"community": c, "bills": [b1, b2, b3, b4, b5]}


def month_rows(db, as_of: date) -> tuple[list[dict], list[dict]]:
    month = as_of.strftime("%Y-%m")
    every = db.query("SELECT * FROM arrears_recovery_as_of(CAST(? AS DATE)) WHERE month = ? ORDER BY community_id",
                     [as_of, month])
    one = db.query("SELECT * FROM arrears_recovery_month_of(CAST(? AS DATE)) ORDER BY community_id", [as_of])
    return every.to_dict("records"), one.to_dict("records")


def test_june_by_hand(db, actor, estate):
    every, one = month_rows(db, date(2026, 6, 30))
    assert [[r[c] for c in COLUMNS[2:]] for r in one] == [[3, D("900.00"), D("250.00"), D("550.00")]]
    assert one[0]["recovery_rate"] == pytest.approx(0.3125)
    assert one == every


@pytest.mark.parametrize("as_of", [date(2026, 5, 31), date(2026, 6, 12), date(2026, 6, 30), date(2026, 7, 31),
                                   date(2026, 10, 31), date(2026, 11, 30), None])
def test_equals_the_month_of_every_month(db, actor, estate, as_of):
    as_of = as_of or db.now().date()  # today: the voided receipt no longer counts
    every, one = month_rows(db, as_of)
    assert one == every
    if as_of == db.now().date():
        # b5 (80.00, its receipt voided today) is earlier arrears of this month, owed whole
        assert one[0]["remaining"] >= D("80.00")
