"""The late fee (滞纳金) as money: shown per bill at the cashier, posted as its own bill when the
principal is paid (frozen at what accrued on the payment day), collected with it, printed as its
own receipt line, still owed when left unpaid, and kept out of 收费率, 清缴率 and the ageing.
Collecting is switched on per 小区 (setting fee.late_fee_collect = 1; the default 0 only shows it).

Worked example (rate 0.0005/day, no grace, the default settings): 物业费 105.01 m² × 2.00 =
210.02 due 2026-06-25, paid 2026-07-10: days 06-26..07-10 = 15, 210.02 × 15 × 0.0005 = 1.57515
→ 1.58 (half-up). 211.60 settles June and its late fee; July's bill (due 07-25) is untouched.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing, cashier
from app.saving.changes import RowChange, ValidationFailed, apply_changes

D = Decimal
PAID_AT = datetime(2026, 7, 10, 10, 0)


@pytest.fixture
def home(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    h = add(db, actor, "households", community_id=c, code="1-1-101", area="105.01", status="已入住")
    add(db, actor, "owners", household_id=h, name="张三", phone="13800001111")
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
               status="已审批", effective_from="2026-01-01")
    add(db, actor, "settings", key="fee.late_fee_collect", value="1", value_type="整数", community_id=c)
    return {"community": c, "household": h, "item": item}


def _bill(db, household: int, period: str) -> int:
    return db.scalar("SELECT b.id FROM bills b JOIN fee_items f ON f.id = b.fee_item_id "
                     "WHERE b.household_id = ? AND b.period = ? AND f.method <> '滞纳金'", [household, period])


def _balance(db, bill: int, as_of: date) -> tuple[Decimal, Decimal]:
    """(paid_net, outstanding) of a bill at as_of."""
    return tuple(db.rows("SELECT paid_net, outstanding FROM bill_balance_as_of(CAST(? AS DATE)) "
                         "WHERE bill_id = ?", [as_of, bill])[0])


def test_the_worked_example_settles_june_and_its_late_fee(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")
    billing.generate_bills(db, actor, home["community"], "2026-07")
    june, july = _bill(db, home["household"], "2026-06"), _bill(db, home["household"], "2026-07")

    acc = cashier.account(db, home["household"], date(2026, 7, 10))
    shown = dict(zip(acc.open_bills["period"], acc.open_bills["late_fee"]))
    assert shown == {"2026-06": D("1.58"), "2026-07": D("0.00")}  # per bill, at the cashier
    assert acc.late_fee == D("1.58")
    assert acc.outstanding == D("420.04") and acc.to_collect == D("421.62")

    rid = billing.take_payment(db, actor, home["household"], D("211.60"), "现金", paid_at=PAID_AT)
    r = cashier.receipt(db, rid)
    assert [(x.fee_item, x.period, D(x.amount)) for x in r.lines.itertuples(index=False)] == [
        ("物业费", "2026-06", D("210.02")), ("物业费滞纳金", "2026-06", D("1.58"))]
    assert r.to_credit == D("0.00")

    late = db.rows("SELECT b.id, b.amount, b.quantity, b.due_date, f.method FROM bills b "
                   "JOIN fee_items f ON f.id = b.fee_item_id WHERE b.late_fee_of = ?", [june])
    assert len(late) == 1
    late_id, amount, days, due, method = late[0]
    assert (D(amount), D(days), due, method) == (D("1.58"), D("15"), date(2026, 7, 10), "滞纳金")
    assert _balance(db, june, date(2026, 7, 10)) == (D("210.02"), D("0.00"))
    assert _balance(db, late_id, date(2026, 7, 10)) == (D("1.58"), D("0.00"))
    assert _balance(db, july, date(2026, 7, 10)) == (D("0.00"), D("210.02"))  # untouched
    assert cashier.account(db, home["household"], date(2026, 7, 20)).late_fee == D("0.00")
    # nothing overdue before July's due date: no arrears, no late fee left to accrue
    assert db.rows("SELECT * FROM arrears_of(DATE '2026-07-20', CAST(? AS BIGINT))", [home["household"]]) == []


def test_a_late_fee_left_unpaid_stays_owed(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")
    rid = billing.take_payment(db, actor, home["household"], D("210.02"), "现金", paid_at=PAID_AT)
    assert [x.fee_item for x in cashier.receipt(db, rid).lines.itertuples(index=False)] == ["物业费"]

    # the principal is paid; the 1.58 accrued by 07-10 is a bill of its own, owed, and does not grow
    for as_of in (date(2026, 7, 20), date(2026, 9, 30)):
        row = db.rows("SELECT outstanding, late_fee, total_due FROM arrears_of(CAST(? AS DATE), "
                      "CAST(? AS BIGINT))", [as_of, home["household"]])
        assert row == [(D("0.00"), D("1.58"), D("1.58"))]
    acc = cashier.account(db, home["household"], date(2026, 7, 20))
    assert (acc.outstanding, acc.late_fee, acc.to_collect) == (D("1.58"), D("0.00"), D("1.58"))
    assert list(acc.open_bills["fee_item"]) == ["物业费滞纳金"]

    rid = billing.take_payment(db, actor, home["household"], D("1.58"), "微信",
                               paid_at=datetime(2026, 7, 20, 9, 0))
    assert [(x.fee_item, D(x.amount)) for x in cashier.receipt(db, rid).lines.itertuples(index=False)] == [
        ("物业费滞纳金", D("1.58"))]
    assert db.rows("SELECT * FROM arrears_of(DATE '2026-07-21', CAST(? AS BIGINT))", [home["household"]]) == []


def test_a_partial_payment_posts_no_late_fee_until_the_principal_is_paid(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")
    billing.take_payment(db, actor, home["household"], D("110.02"), "现金", paid_at=PAID_AT)
    assert db.scalar("SELECT count(*) FROM bills WHERE late_fee_of IS NOT NULL") == 0
    # 06-26..07-10 on 210.02 (1.57515) + 07-11..07-20 on 100.00 (0.50000) = 2.07515 → 2.08
    acc = cashier.account(db, home["household"], date(2026, 7, 20))
    assert (acc.outstanding, acc.late_fee) == (D("100.00"), D("2.08"))
    rid = billing.take_payment(db, actor, home["household"], D("102.08"), "现金",
                               paid_at=datetime(2026, 7, 20, 9, 0))
    assert [(x.fee_item, D(x.amount)) for x in cashier.receipt(db, rid).lines.itertuples(index=False)] == [
        ("物业费", D("100.00")), ("物业费滞纳金", D("2.08"))]
    assert db.scalar("SELECT count(*) FROM bills WHERE late_fee_of IS NOT NULL") == 1


def test_collection_rates_report_the_principal_and_late_fees_in_their_own_columns(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")
    billing.take_payment(db, actor, home["household"], D("211.60"), "现金", paid_at=PAID_AT)
    row = db.rows("SELECT bills, billed, collected, outstanding, rate, households_owing, late_fee_billed, "
                  "late_fee_collected FROM collection_rate_as_of(DATE '2026-07-31') WHERE period = '2026-06'")
    assert row == [(1, D("210.02"), D("210.02"), D("0.00"), 1.0, 0, D("1.58"), D("1.58"))]
    building = db.rows("SELECT billed, collected FROM collection_by_building_as_of(DATE '2026-07-31') "
                       "WHERE period = '2026-06'")
    assert building == [(D("210.02"), D("210.02"))]
    # 清缴率 of July: June's 210.02 was arrears on 07-01 and was recovered in July; the late fee is not
    recovery = db.rows("SELECT recovered, remaining FROM arrears_recovery_as_of(DATE '2026-07-31') "
                       "WHERE month = '2026-07'")
    assert recovery == [(D("210.02"), D("0.00"))]
    ageing = db.rows("SELECT bills, outstanding FROM arrears_ageing_as_of(DATE '2026-07-31')")
    assert ageing == []


def test_a_late_fee_bill_left_unpaid_is_not_in_the_principal_ageing(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")
    billing.take_payment(db, actor, home["household"], D("210.02"), "现金", paid_at=PAID_AT)
    assert db.rows("SELECT * FROM arrears_ageing_as_of(DATE '2026-07-31')") == []
    row = db.rows("SELECT outstanding, late_fee FROM arrears_as_of(DATE '2026-07-31')")
    assert row == [(D("0.00"), D("1.58"))]


def test_where_late_fees_are_not_collected_the_cashier_only_shows_them(db, actor, home):
    sid = db.scalar("SELECT id FROM settings WHERE key = 'fee.late_fee_collect' AND community_id = ?",
                    [home["community"]])
    apply_changes(db, actor, "settings", [RowChange("update", row_id=sid, values={"value": "0"})])
    billing.generate_bills(db, actor, home["community"], "2026-06")
    acc = cashier.account(db, home["household"], date(2026, 7, 10))
    assert (acc.late_fee, acc.to_collect, acc.total_due) == (D("1.58"), D("210.02"), D("211.60"))
    rid = billing.take_payment(db, actor, home["household"], D("211.60"), "现金", paid_at=PAID_AT)
    r = cashier.receipt(db, rid)
    assert [x.fee_item for x in r.lines.itertuples(index=False)] == ["物业费"]
    assert r.to_credit == D("1.58")
    assert db.scalar("SELECT count(*) FROM bills WHERE late_fee_of IS NOT NULL") == 0


# -- cap, order of collection, reducing a posted late fee -------------------------------------------
def _setting(db, actor, community: int, key: str, value: str, value_type: str) -> None:
    add(db, actor, "settings", key=key, value=value, value_type=value_type, community_id=community)


def _late_fee(db, household: int, as_of: date) -> Decimal:
    return db.scalar("SELECT late_fee FROM arrears_of(CAST(? AS DATE), CAST(? AS BIGINT))", [as_of, household])


def test_a_cap_keeps_the_late_fee_within_a_share_of_the_principal(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")
    # not above the principal (1): 2026-06-26..2032-01-01 = 2016 days, 210.02 × 2016 × 0.0005 =
    # 211.70016 → capped at 210.02
    assert _late_fee(db, home["household"], date(2032, 1, 1)) == D("211.70")
    _setting(db, actor, home["community"], "fee.late_fee_cap_ratio", "1", "小数")
    assert _late_fee(db, home["household"], date(2032, 1, 1)) == D("210.02")
    # at 0.005: at most 210.02 × 0.005 = 1.0501 → 1.05; on 07-10 1.58 is capped, on 06-30 (5 days,
    # 0.52505 → 0.53) not
    sid = db.scalar("SELECT id FROM settings WHERE key = 'fee.late_fee_cap_ratio' AND community_id = ?",
                    [home["community"]])
    apply_changes(db, actor, "settings", [RowChange("update", row_id=sid, values={"value": "0.005"})])
    assert _late_fee(db, home["household"], date(2026, 6, 30)) == D("0.53")
    assert _late_fee(db, home["household"], date(2026, 7, 10)) == D("1.05")
    rid = billing.take_payment(db, actor, home["household"], D("211.07"), "现金", paid_at=PAID_AT)
    r = cashier.receipt(db, rid)
    assert [(x.fee_item, D(x.amount)) for x in r.lines.itertuples(index=False)] == [
        ("物业费", D("210.02")), ("物业费滞纳金", D("1.05"))]
    assert r.to_credit == D("0.00")


@pytest.mark.parametrize(("order", "expected"), [
    # June 210.02 due 06-25: 40 days to 08-04, 4.2004 → 4.20; July due 07-25: 10 days, 1.0501 → 1.05
    (None, [("物业费", "2026-06", D("210.02")), ("物业费滞纳金", "2026-06", D("4.20"))]),
    ("principal_first", [("物业费", "2026-06", D("210.02")), ("物业费", "2026-07", D("4.20"))]),
])
def test_the_order_of_collection(db, actor, home, order, expected):
    if order:
        _setting(db, actor, home["community"], "fee.late_fee_order", order, "文本")
    billing.generate_bills(db, actor, home["community"], "2026-06")
    billing.generate_bills(db, actor, home["community"], "2026-07")
    rid = billing.take_payment(db, actor, home["household"], D("214.22"), "现金",
                               paid_at=datetime(2026, 8, 4, 10, 0))
    assert [(x.fee_item, x.period, D(x.amount))
            for x in cashier.receipt(db, rid).lines.itertuples(index=False)] == expected
    # either way June's late fee is posted (June is paid in full) and what is owed adds up:
    # 420.04 + 4.20 + 1.05 − 214.22 = 211.07
    assert db.scalar("SELECT count(*) FROM bills WHERE late_fee_of IS NOT NULL") == 1
    assert cashier.account(db, home["household"], date(2026, 8, 4)).total_due == D("211.07")


def test_an_unknown_order_is_refused(db, actor, home):
    with pytest.raises(ValidationFailed, match="fee.late_fee_order 只能取 by_bill 或 principal_first"):
        _setting(db, actor, home["community"], "fee.late_fee_order", "late_fee_first", "文本")


def test_a_posted_late_fee_is_reduced_by_an_approved_adjustment_on_its_bill(db, actor, home):
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=home["community"])
    billing.generate_bills(db, actor, home["community"], "2026-06")
    billing.take_payment(db, actor, home["household"], D("210.02"), "现金", paid_at=PAID_AT)
    june = _bill(db, home["household"], "2026-06")
    late = db.scalar("SELECT id FROM bills WHERE late_fee_of = ?", [june])

    def adjust(bill: int, kind: str, amount: str, **values) -> int:
        return add(db, actor, "bill_adjustments", bill_id=bill, kind=kind, amount=amount, reason="首次逾期，酌情减免",
                   adjusted_at="2026-07-12 09:00", **values)

    with pytest.raises(ValidationFailed, match="审批人"):
        adjust(late, "减免", "0.58")
    with pytest.raises(ValidationFailed, match="请选择调整类型「减免」"):
        adjust(late, "滞纳金减免", "0.58", approved_by_id=boss)
    with pytest.raises(ValidationFailed, match="请对那张滞纳金账单做「减免」"):
        adjust(june, "滞纳金减免", "0.58", approved_by_id=boss)
    with pytest.raises(ValidationFailed, match="应收不能为负"):
        adjust(late, "减免", "1.59", approved_by_id=boss)
    assert db.scalar("SELECT count(*) FROM bill_adjustments") == 0

    adjust(late, "减免", "0.58", approved_by_id=boss)  # 1.58 − 0.58
    assert db.rows("SELECT outstanding, late_fee FROM arrears_of(DATE '2026-07-20', CAST(? AS BIGINT))",
                   [home["household"]]) == [(D("0.00"), D("1.00"))]
    adjust(late, "减免", "1.00", approved_by_id=boss)  # waived in full: nothing owed any more
    assert db.rows("SELECT * FROM arrears_of(DATE '2026-07-20', CAST(? AS BIGINT))", [home["household"]]) == []
