"""The totals kept per bill (app/fees/bill_totals.py): every write through the save path keeps them
equal to a recomputation from the ledger rows, and the rules give the same figures at any date.

Expected figures are worked out by hand in comments. Both backends (the `db` fixture).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.fees import bill_totals, billing
from app.saving.changes import RowChange, apply_changes

D = Decimal


def add(db, actor, register: str, row_id: int | None = None, **values) -> int:
    return apply_changes(db, actor, register, [RowChange("insert", row_id=row_id, values=values)]).inserted[0]


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    other = add(db, actor, "communities", name="翠湖苑")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    homes = [add(db, actor, "households", community_id=c, code=f"1-1-10{n}", area="100.00",
                 status="已入住") for n in (1, 2)]
    fee = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积",
              unit_price="3.0000", status="已审批", effective_from="2026-01-01")
    rubbish = add(db, actor, "fee_items", community_id=c, name="垃圾清运费", method="固定",
                  unit_price="20.0000", status="已审批", effective_from="2026-01-01")
    return {"community": c, "other": other, "boss": boss, "homes": homes, "fee": fee, "rubbish": rubbish}


def kept(db, bill_id: int) -> tuple:
    return db.rows("SELECT community_id, reduced, refunded, late_fee_waived, paid, first_of_period, last_paid_at "
                   "FROM bill_totals WHERE bill_id = ?", [bill_id])[0]


def test_every_kind_of_write_keeps_the_totals(db, actor, estate):
    home, c = estate["homes"][0], estate["community"]
    # the bill run: 100 m² × 3.00 = 300.00 物业费 and 20.00 垃圾清运费 for each of the two homes
    assert billing.generate_bills(db, actor, c, "2026-06") == 4
    fee_bill, rubbish_bill = (db.scalar("SELECT id FROM bills WHERE household_id = ? AND fee_item_id = ?",
                                        [home, item]) for item in (estate["fee"], estate["rubbish"]))
    assert kept(db, fee_bill)[:5] == (c, D("0"), D("0"), D("0"), D("0"))
    assert db.scalar("SELECT count(*) FROM bill_totals") == 4
    # a payment of 250.00 goes to the oldest due first (both due the same day: lower id first)
    first_receipt = billing.take_payment(db, actor, home, "250.00", "现金", paid_at=datetime(2026, 6, 10, 9))
    paid = dict(db.rows("SELECT bill_id, amount FROM payments WHERE receipt_id = ?", [first_receipt]))
    assert sum(paid.values()) == D("250.00")
    for bill_id, amount in paid.items():
        assert kept(db, bill_id)[4] == amount
    assert bill_totals.differences(db) == 0
    # adjustments of every kind land in their own column
    for kind, amount, at in (("减免", "30.00", "2026-06-11 09:00"), ("退款", "5.00", "2026-06-12 09:00"),
                             ("滞纳金减免", "1.50", "2026-06-13 09:00")):
        add(db, actor, "bill_adjustments", bill_id=fee_bill, kind=kind, amount=amount, reason="测试",
            approved_by_id=estate["boss"], adjusted_at=at)
    row = kept(db, fee_bill)
    assert row[1:4] == (D("30.00"), D("5.00"), D("1.50"))
    # voiding the receipt takes its payments out of both bills
    billing.void_receipt(db, actor, first_receipt, "收错房号")
    assert kept(db, fee_bill)[4] == D("0") and kept(db, rubbish_bill)[4] == D("0")
    # a household moved to another community takes its bills' totals along
    apply_changes(db, actor, "households", [RowChange("update", row_id=home,
                                                      values={"community_id": estate["other"]})])
    assert kept(db, fee_bill)[0] == estate["other"]
    assert bill_totals.differences(db) == 0


def test_first_of_period_counts_each_household_once_even_with_an_earlier_id_added_later(db, actor, estate):
    home = estate["homes"][0]
    late = add(db, actor, "bills", row_id=900, household_id=home, fee_item_id=estate["fee"], period="2026-07",
               amount="300.00", due_date="2026-07-25")
    assert kept(db, late)[5] is True
    # a bill of the same household and period with a lower id (an import that keeps its numbers)
    early = add(db, actor, "bills", row_id=500, household_id=home, fee_item_id=estate["rubbish"],
                period="2026-07", amount="20.00", due_date="2026-07-25")
    assert (kept(db, early)[5], kept(db, late)[5]) == (True, False)
    rate = db.rows("SELECT bills, households_billed, households_owing FROM collection_rate_as_of(?) "
                   "WHERE period = '2026-07'", [date(2026, 7, 31)])
    assert rate == [(2, 1, 1)]  # two bills, one household billed and owing


def test_rules_at_a_past_date_take_out_what_happened_since(db, actor, estate):
    home = estate["homes"][0]
    b = add(db, actor, "bills", household_id=home, fee_item_id=estate["fee"], period="2026-06",
            amount="300.00", due_date="2026-06-30")
    receipt = billing.take_payment(db, actor, home, "100.00", "现金", paid_at=datetime(2026, 7, 10, 15, 30))
    add(db, actor, "bill_adjustments", bill_id=b, kind="减免", amount="50.00", reason="测试",
        approved_by_id=estate["boss"], adjusted_at="2026-07-15 09:00")

    def balance(as_of):
        return db.rows("SELECT paid, reduced, outstanding FROM bill_balance_as_of(?) WHERE bill_id = ?",
                       [as_of, b])[0]

    # kept totals: paid 100, reduced 50 → outstanding 300 − 50 − 100 = 150 (as_of after every move)
    assert balance(date(2026, 7, 31)) == (D("100.00"), D("50.00"), D("150.00"))
    # 2026-07-12: the payment counts, the waiver of 07-15 not yet → 300 − 100 = 200
    assert balance(date(2026, 7, 12)) == (D("100.00"), D("0"), D("200.00"))
    # 2026-07-09: neither → 300
    assert balance(date(2026, 7, 9)) == (D("0"), D("0"), D("300.00"))
    # a second payment on 08-05: at 07-31 it is taken back out, and the latest payment is 07-10's
    billing.take_payment(db, actor, home, "40.00", "微信", paid_at=datetime(2026, 8, 5, 9))
    assert db.rows("SELECT paid, last_paid_at FROM bill_balance_as_of(?) WHERE bill_id = ?",
                   [date(2026, 7, 31), b]) == [(D("100.00"), datetime(2026, 7, 10, 15, 30))]
    assert db.rows("SELECT paid, last_paid_at FROM bill_balance_as_of(?) WHERE bill_id = ?",
                   [date(2026, 8, 31), b]) == [(D("140.00"), datetime(2026, 8, 5, 9))]
    # late fee at 07-20 (waiver of 50 from 07-16 on): 07-01..07-10 300 × 10 × 0.0005 = 1.50;
    # 07-11..07-15 200 × 5 × 0.0005 = 0.50; 07-16..07-20 150 × 5 × 0.0005 = 0.375 → 2.375 → 2.38
    assert db.rows("SELECT outstanding, late_fee FROM arrears_as_of(?)", [date(2026, 7, 20)]) == [
        (D("150.00"), D("2.38"))]
    # a receipt voided today still counted on 07-31 (the void is dated after it)
    billing.void_receipt(db, actor, receipt, "作废测试")
    assert balance(date(2026, 7, 31)) == (D("100.00"), D("50.00"), D("150.00"))
    # today: 300 − 50 waived − 40 paid on 08-05 = 210
    assert balance(db.now().date()) == (D("40.00"), D("50.00"), D("210.00"))
    # and one household's statement at 07-31 agrees
    assert db.rows("SELECT paid, outstanding FROM bill_balance_of(?, ?)", [date(2026, 7, 31), home]) == [
        (D("100.00"), D("150.00"))]


def test_a_database_from_before_the_totals_gets_them_on_opening(db_url, actor):
    from app.saving.derived import open_for_app
    from app.storage.db import open_database

    db = open_database(db_url)
    try:
        c = add(db, actor, "communities", name="阳光花园")
        home = add(db, actor, "households", community_id=c, code="1-1-101", area="80.00", status="已入住")
        item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积",
                   unit_price="2.0000", status="已审批", effective_from="2026-01-01")
        b = add(db, actor, "bills", household_id=home, fee_item_id=item, period="2026-06", amount="160.00",
                due_date="2026-06-30")
        add(db, actor, "payments", bill_id=b, amount="60.00", paid_at="2026-06-20 10:00")
        with db.transaction() as cur:  # as a database of an earlier version: no totals, no record of them
            cur.execute("DROP TABLE bill_totals")
            cur.execute("DELETE FROM schema_migrations WHERE version = '050_bill_totals'")
    finally:
        db.close()
    db = open_for_app(db_url)  # as the app, the CLI and the jobs open it
    try:
        assert db.rows("SELECT paid FROM bill_totals WHERE bill_id = ?", [b]) == [(D("60.00"),)]
        assert db.rows("SELECT outstanding FROM v_bill_balance WHERE bill_id = ?", [b]) == [(D("100.00"),)]
    finally:
        db.close()
