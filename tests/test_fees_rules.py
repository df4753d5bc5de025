"""Fee rule views (v_bill_balance, v_arrears, v_collection_rate, v_arrears_recovery) on hand-built data.

Every expected figure is worked out by hand in a comment. Macros are called with explicit
as_of dates. Default parameters (REGULATIONS.md): late fee 0.0005 per day, grace 0 days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from saving import add

from app.saving.changes import RowChange, apply_changes

D = Decimal


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    homes = [add(db, actor, "households", community_id=c, code=f"1-1-10{n}", area="100.00",
                 status="已入住") for n in range(1, 5)]
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积",
               unit_price="3.0000", status="已审批", effective_from="2026-01-01")
    return {"community": c, "boss": boss, "homes": homes, "item": item}


def bill(db, actor, estate, home: int, period: str, amount: str, due: str) -> int:
    return add(db, actor, "bills", household_id=home, fee_item_id=estate["item"], period=period,
               amount=amount, due_date=due)


def pay(db, actor, bill_id: int, amount: str, at: str) -> int:
    return add(db, actor, "payments", bill_id=bill_id, amount=amount, paid_at=at)


def adjust(db, actor, estate, bill_id: int, kind: str, amount: str, at: str) -> int:
    return add(db, actor, "bill_adjustments", bill_id=bill_id, kind=kind, amount=amount,
               reason="测试", approved_by_id=estate["boss"], adjusted_at=at)


def balance(db, bill_id: int, as_of=date(2026, 12, 31)) -> dict:
    frame = db.query("SELECT * FROM bill_balance_as_of(?) WHERE bill_id = ?", [as_of, bill_id])
    return frame.iloc[0].to_dict()


def arrears(db, as_of) -> dict[int, dict]:
    frame = db.query("SELECT * FROM arrears_as_of(?) ORDER BY household_id", [as_of])
    return {r["household_id"]: r for r in frame.to_dict("records")}


# -- v_bill_balance -------------------------------------------------------------------------
def test_bill_balance_domain_example_waiver_and_partial_payment(db, actor, estate):
    b = bill(db, actor, estate, estate["homes"][0], "2026-06", "300.00", "2026-06-30")
    adjust(db, actor, estate, b, "减免", "50.00", "2026-06-10 09:00")
    pay(db, actor, b, "100.00", "2026-06-15 10:00")
    row = balance(db, b)
    # due_net = 300 − 50 = 250; paid_net = 100; outstanding = 150; 0 < 150 < 250 → 部分缴纳
    assert (row["due_net"], row["paid_net"], row["outstanding"], row["status"]) == (
        D("250.00"), D("100.00"), D("150.00"), "部分缴纳")


def test_bill_balance_statuses_refund_and_as_of(db, actor, estate):
    b = bill(db, actor, estate, estate["homes"][0], "2026-06", "300.00", "2026-06-30")
    assert balance(db, b)["status"] == "未缴"
    pay(db, actor, b, "300.00", "2026-07-01 08:00")
    assert (balance(db, b)["outstanding"], balance(db, b)["status"]) == (D("0.00"), "已缴清")
    # a refund of 20 returns money: paid_net 280, outstanding 20 → 部分缴纳
    adjust(db, actor, estate, b, "退款", "20.00", "2026-07-05 08:00")
    row = balance(db, b)
    assert (row["paid_net"], row["outstanding"], row["status"]) == (D("280.00"), D("20.00"), "部分缴纳")
    # as of 2026-06-30 nothing was paid yet
    assert balance(db, b, date(2026, 6, 30))["status"] == "未缴"
    # 滞纳金减免 does not touch what is due
    adjust(db, actor, estate, b, "滞纳金减免", "5.00", "2026-07-06 08:00")
    assert balance(db, b)["due_net"] == D("300.00")


# -- v_arrears ------------------------------------------------------------------------------
def test_late_fee_domain_example_around_a_partial_payment(db, actor, estate):
    home = estate["homes"][0]
    b = bill(db, actor, estate, home, "2026-06", "300.00", "2026-06-30")
    pay(db, actor, b, "100.00", "2026-07-10 15:30")
    row = arrears(db, date(2026, 7, 20))[home]
    # 07-01..07-10: 10 days × 300 × 0.0005 = 1.50; 07-11..07-20: 10 × 200 × 0.0005 = 1.00
    assert row["late_fee"] == D("2.50")
    assert row["days_overdue"] == 20
    assert row["outstanding"] == D("200.00")
    assert row["oldest_due_date"] == date(2026, 6, 30)
    assert row["total_due"] == D("202.50")


def test_a_bill_due_today_is_not_overdue_and_paid_bills_drop_out(db, actor, estate):
    a, b = estate["homes"][:2]
    bill(db, actor, estate, a, "2026-06", "300.00", "2026-06-30")
    paid = bill(db, actor, estate, b, "2026-06", "300.00", "2026-06-25")
    pay(db, actor, paid, "300.00", "2026-06-20 10:00")
    assert arrears(db, date(2026, 6, 30)) == {}
    # one day later: 1 day × 300 × 0.0005 = 0.15
    row = arrears(db, date(2026, 7, 1))[a]
    assert (row["days_overdue"], row["late_fee"]) == (1, D("0.15"))


def test_late_fee_rounds_half_up_per_bill_and_waiver_lowers_it_not_below_zero(db, actor, estate):
    home = estate["homes"][0]
    b1 = bill(db, actor, estate, home, "2026-05", "125.00", "2026-05-31")
    b2 = bill(db, actor, estate, home, "2026-06", "25.00", "2026-06-30")
    as_of = date(2026, 7, 2)
    # b1: 32 days (06-01..07-02) × 125 × 0.0005 = 2.000; b2: 2 days × 25 × 0.0005 = 0.025 → 0.03
    # (half-even would give 0.02); household: 2.00 + 0.03 = 2.03
    row = arrears(db, as_of)[home]
    assert (row["late_fee"], row["bills"], row["outstanding"], row["days_overdue"]) == (
        D("2.03"), 2, D("150.00"), 32)
    adjust(db, actor, estate, b1, "滞纳金减免", "1.00", "2026-07-01 09:00")
    assert arrears(db, as_of)[home]["late_fee"] == D("1.03")
    adjust(db, actor, estate, b2, "滞纳金减免", "5.00", "2026-07-01 09:00")
    assert arrears(db, as_of)[home]["late_fee"] == D("0.00")


def test_grace_days_and_rate_come_from_settings(db, actor, estate):
    home = estate["homes"][0]
    bill(db, actor, estate, home, "2026-06", "300.00", "2026-06-30")
    rows = db.rows("SELECT id, key FROM settings WHERE key IN ('fee.grace_days', "
                   "'fee.late_fee_rate_per_day') AND community_id IS NULL")
    ids = {k: i for i, k in rows}
    apply_changes(db, actor, "settings", [
        RowChange("update", row_id=ids["fee.grace_days"], values={"value": "5"}),
        RowChange("update", row_id=ids["fee.late_fee_rate_per_day"], values={"value": "0.001"}),
    ])
    # days 07-06..07-20 = 15 × 300 × 0.001 = 4.50; days_overdue still counts from the due date
    row = arrears(db, date(2026, 7, 20))[home]
    assert (row["late_fee"], row["days_overdue"]) == (D("4.50"), 20)


def test_late_fee_equals_the_literal_day_by_day_definition(db, actor, estate):
    """Checks the stretch sum against DOMAIN.md's wording, one generated day at a time."""
    a, b, c = estate["homes"][:3]
    b1 = bill(db, actor, estate, a, "2026-04", "333.33", "2026-04-25")
    pay(db, actor, b1, "100.01", "2026-05-03 09:00")
    pay(db, actor, b1, "50.00", "2026-05-03 18:00")
    adjust(db, actor, estate, b1, "减免", "33.33", "2026-05-20 09:00")
    pay(db, actor, b1, "100.00", "2026-06-02 09:00")
    adjust(db, actor, estate, b1, "退款", "30.00", "2026-06-10 09:00")
    b2 = bill(db, actor, estate, b, "2026-05", "87.65", "2026-05-25")
    pay(db, actor, b2, "87.00", "2026-07-19 09:00")
    bill(db, actor, estate, c, "2026-06", "1234.56", "2026-06-25")
    as_of = date(2026, 7, 20)
    literal = db.rows(
        """
        WITH days AS (
            SELECT b.id AS bill_id, b.household_id, CAST(d.range AS DATE) AS day, b.amount
            FROM bills b, range(b.due_date + 1, ? + 1, INTERVAL 1 DAY) d
        ),
        owed AS (
            SELECT d.bill_id, d.household_id, d.day,
                   d.amount
                   - coalesce((SELECT sum(a.amount) FROM bill_adjustments a WHERE a.bill_id = d.bill_id
                               AND a.kind IN ('减免', '折扣') AND CAST(a.adjusted_at AS DATE) < d.day), 0)
                   - coalesce((SELECT sum(p.amount) FROM payments p WHERE p.bill_id = d.bill_id
                               AND CAST(p.paid_at AS DATE) < d.day), 0)
                   + coalesce((SELECT sum(a.amount) FROM bill_adjustments a WHERE a.bill_id = d.bill_id
                               AND a.kind = '退款' AND CAST(a.adjusted_at AS DATE) < d.day), 0) AS owed
            FROM days d
        )
        SELECT household_id, round(sum(greatest(owed, 0) * CAST(0.0005 AS DECIMAL(10,6))), 2)
        FROM owed GROUP BY bill_id, household_id ORDER BY household_id
        """,
        [as_of],
    )
    got = {h: r["late_fee"] for h, r in arrears(db, as_of).items()}
    assert got == {h: fee for h, fee in literal}
    # by hand for b2: 05-26..07-19 = 55 days × 87.65 × 0.0005 = 2.410375; 07-20 × 0.65 → 2.41
    assert got[b] == D("2.41")


# -- v_collection_rate ----------------------------------------------------------------------
def test_collection_rate_and_household_rate(db, actor, estate):
    h1, h2, h3, h4 = estate["homes"]
    for h in (h1, h2, h3, h4):
        bill(db, actor, estate, h, "2026-06", "300.00", "2026-06-25")
    b5 = bill(db, actor, estate, h1, "2026-07", "300.00", "2026-07-25")
    ids = {r[1]: r[0] for r in db.rows("SELECT id, household_id FROM bills WHERE period = '2026-06'")}
    pay(db, actor, ids[h1], "300.00", "2026-06-20 09:00")
    pay(db, actor, ids[h2], "300.00", "2026-07-02 09:00")
    pay(db, actor, ids[h3], "100.00", "2026-07-02 09:00")
    adjust(db, actor, estate, ids[h4], "减免", "60.00", "2026-06-20 09:00")
    pay(db, actor, b5, "150.00", "2026-07-26 09:00")
    frame = db.query("SELECT * FROM collection_rate_as_of(?) ORDER BY period", [date(2026, 7, 31)])
    june, july = frame.to_dict("records")
    # June: billed 300 × 3 + 240 = 1140; collected 300 + 300 + 100 = 700; rate 700 / 1140
    # households 4, owing 2 (h3 200, h4 240) → household rate 2 / 4
    assert (june["billed"], june["collected"], june["outstanding"]) == (D("1140.00"), D("700.00"), D("440.00"))
    assert june["rate"] == pytest.approx(700 / 1140)
    assert (june["households_billed"], june["households_owing"], june["household_rate"]) == (4, 2, 0.5)
    assert (july["billed"], july["collected"], july["household_rate"]) == (D("300.00"), D("150.00"), 0.0)
    # as of June: July's bills are not counted, June's July payments not yet
    early = db.query("SELECT * FROM collection_rate_as_of(?)", [date(2026, 6, 30)]).to_dict("records")
    assert [(r["period"], r["collected"]) for r in early] == [("2026-06", D("300.00"))]


# -- v_arrears_recovery ---------------------------------------------------------------------
def test_arrears_recovery_rate_well_below_one(db, actor, estate):
    h1, h2, h3, h4 = estate["homes"]
    b1 = bill(db, actor, estate, h1, "2026-05", "300.00", "2026-05-25")
    b2 = bill(db, actor, estate, h2, "2026-05", "200.00", "2026-05-25")
    b3 = bill(db, actor, estate, h3, "2026-05", "500.00", "2026-05-25")
    b4 = bill(db, actor, estate, h4, "2026-05", "100.00", "2026-05-25")
    pay(db, actor, b4, "100.00", "2026-05-20 09:00")  # paid on time: never earlier arrears
    pay(db, actor, b1, "100.00", "2026-05-28 09:00")  # before June: June starts owing 200
    pay(db, actor, b1, "50.00", "2026-06-10 09:00")
    pay(db, actor, b2, "200.00", "2026-06-15 09:00")
    adjust(db, actor, estate, b3, "减免", "100.00", "2026-06-20 09:00")
    pay(db, actor, b2, "20.00", "2026-06-16 09:00")  # overpaid by 20 …
    adjust(db, actor, estate, b2, "退款", "20.00", "2026-06-18 09:00")  # … and refunded
    frame = db.query("SELECT * FROM arrears_recovery_as_of(?) ORDER BY month", [date(2026, 7, 31)])
    rows = {r["month"]: r for r in frame.to_dict("records")}
    june = rows["2026-06"]
    # June 1: b1 200, b2 200, b3 500 owed → 3 bills, 900. recovered = 50 + 200 + 20 − 20 = 250.
    # end of June: b1 150, b2 0, b3 400 → remaining 550. rate = 250 / 800 = 0.3125
    assert (june["arrears_bills"], june["arrears_at_start"], june["recovered"], june["remaining"]) == (
        3, D("900.00"), D("250.00"), D("550.00"))
    assert june["recovery_rate"] == pytest.approx(0.3125)
    # July 1: b1 150, b3 400 (b2 settled); nothing paid in July → rate 0
    july = rows["2026-07"]
    assert (july["arrears_bills"], july["recovered"], july["remaining"], july["recovery_rate"]) == (
        2, D("0.00"), D("550.00"), 0.0)
    assert "2026-05" not in rows  # bills due in May are not earlier arrears in May


def test_payments_of_a_voided_receipt_do_not_count(db, actor, estate):
    from app.fees import billing

    home = estate["homes"][0]
    b = bill(db, actor, estate, home, "2026-06", "300.00", "2026-06-25")
    receipt = billing.take_payment(db, actor, home, "300.00", "现金", datetime(2026, 6, 20, 9))
    assert balance(db, b)["status"] == "已缴清"
    billing.void_receipt(db, actor, receipt, "收款金额录错")
    assert balance(db, b, db.now().date())["outstanding"] == D("300.00")
    today = db.now().date()
    assert arrears(db, today)[home]["outstanding"] == D("300.00")
    # as of a day before the void the receipt still counted: the past does not change
    assert arrears(db, date(2026, 6, 26)) == {}


def test_late_fee_leaves_out_a_voided_receipt_among_kept_payments(db, actor, estate):
    """A bill that keeps one payment and loses another to a void: the late fee is taken over
    stretches of the bill's balance (v_arrears' moved path), and the voided receipt's payment must
    not shorten any stretch. Days are counted from today (T): a void is stamped with the clock."""
    from app.fees import billing

    home = estate["homes"][0]
    other_item = add(db, actor, "fee_items", community_id=estate["community"], name="垃圾清运费",
                     method="固定", unit_price="200.0000", status="已审批", effective_from="2026-01-01")
    today = db.now().date()

    def day(n: int) -> date:
        return today - timedelta(days=n)

    def at(n: int) -> datetime:
        return datetime.combine(day(n), datetime.min.time()).replace(hour=9)

    b1 = bill(db, actor, estate, home, f"{day(40):%Y-%m}", "600.00", str(day(40)))
    b2 = add(db, actor, "bills", household_id=home, fee_item_id=other_item, period=f"{day(20):%Y-%m}",
             amount="200.00", due_date=str(day(20)))
    kept = billing.take_payment(db, actor, home, "200.00", "现金", at(30))    # all to b1 (oldest)
    voided = billing.take_payment(db, actor, home, "500.00", "微信", at(10))  # 400 to b1, 100 to b2
    paid = db.rows("SELECT receipt_id, bill_id, amount FROM payments ORDER BY receipt_id, bill_id")
    assert paid == [(kept, b1, D("200.00")), (voided, b1, D("400.00")), (voided, b2, D("100.00"))]

    # Before the void (rate 0.0005/day, grace 0): b1 is paid off and drops out; b2 owes 100.
    # b2: T−19..T−10 = 10 days × 200 × 0.0005 = 1.00; T−9..T = 10 days × 100 × 0.0005 = 0.50 → 1.50
    row = arrears(db, today)[home]
    assert (row["bills"], row["outstanding"], row["late_fee"]) == (1, D("100.00"), D("1.50"))

    billing.void_receipt(db, actor, voided, "金额录错")
    # After it, as of T, b1 owes 400 with the kept payment (paid 200 ≠ 0: the stretch path):
    #   T−39..T−30 = 10 days × 600 × 0.0005 = 3.00 (a payment counts from the day after it)
    #   T−29..T    = 30 days × 400 × 0.0005 = 6.00                                  → b1 9.00
    # b2 owes 200 again, nothing counted: T−19..T = 20 days × 200 × 0.0005          → b2 2.00
    # late_fee 11.00, outstanding 600, total 611.00. Counting the voided 400 on b1 would give
    # 3.00 + T−29..T−10 20 days × 400 × 0.0005 = 4.00 + T−9..T at 0 = 7.00 → 9.00 in all.
    row = arrears(db, today)[home]
    assert (row["bills"], row["outstanding"], row["days_overdue"]) == (2, D("600.00"), 40)
    assert (row["late_fee"], row["total_due"]) == (D("11.00"), D("611.00"))
    # The day before the void the receipt still counted: as of T−1 only b2, at 100 from T−9:
    # T−19..T−10 = 10 days × 200 × 0.0005 = 1.00; T−9..T−1 = 9 days × 100 × 0.0005 = 0.45 → 1.45
    row = arrears(db, day(1))[home]
    assert (row["bills"], row["outstanding"], row["late_fee"]) == (1, D("100.00"), D("1.45"))
