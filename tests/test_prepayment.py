"""Prepayment at the cashier (issue #19 item 6): a household pays N months ahead.

Worked by hand: 物业费 105.01 m² × 2.00 = 210.02 a month, due on the 25th; paid on 2026-07-10.
- nothing billed yet: 12 months 2026-07..2027-06 = 12 × 210.02 = 2,520.24, twelve bills paid;
- handed over 2026-07-17 (pro-rated by day, the run's own formula): July = 210.02 × 15 / 31
  = 101.6226 → 101.62, then 2 × 210.02: 3 months = 521.66;
- June's 210.02 unpaid (overdue since 06-25): 3 months ahead collect June too = 4 × 210.02 = 840.08.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing, cashier, prepayment

D = Decimal
AT = datetime(2026, 7, 10, 9, 0)


@pytest.fixture
def home(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    h = add(db, actor, "households", community_id=c, code="1-1-101", area="105.01", status="已入住")
    add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
        status="已审批", effective_from="2026-01-01")
    return {"community": c, "household": h}


def settled(db, household: int) -> list[tuple[str, Decimal, Decimal]]:
    return db.rows("SELECT period, due_net, outstanding FROM bill_balance_as_of(DATE '2027-12-31') "
                   "WHERE household_id = ? ORDER BY period", [household])


def test_twelve_months_ahead_are_billed_paid_and_each_on_the_receipt(db, actor, home):
    rid = prepayment.prepay(db, actor, home["household"], 12, "现金", paid_at=AT)
    rows = settled(db, home["household"])
    assert len(rows) == 12 and all(due == D("210.02") and left == 0 for _, due, left in rows)
    r = cashier.receipt(db, rid)
    assert r.total == D("2520.24") and r.to_credit == 0
    assert list(r.lines["period"]) == [p for p, _, _ in rows]
    assert set(r.lines["amount"]) == {D("210.02")}
    assert db.rows("SELECT prepaid_from, prepaid_to FROM receipts WHERE id = ?", [rid]) == [("2026-07", "2027-06")]
    cashier.receipt_workbook(db, rid)  # prints


def test_a_later_bill_run_does_not_bill_the_prepaid_months_again(db, actor, home):
    prepayment.prepay(db, actor, home["household"], 3, "现金", paid_at=AT)
    c = home["community"]
    assert billing.generate_bills(db, actor, c, "2026-08") == 0
    assert billing.generate_bills(db, actor, c, "2026-10") == 1  # the month after the prepaid ones
    assert db.scalar("SELECT count(*) FROM bills WHERE household_id = ? AND period = '2026-08'",
                     [home["household"]]) == 1
    # the next prepayment starts after the latest month billed
    assert prepayment.first_period(db, home["household"], AT.date()) == "2026-11"


def test_the_first_month_is_pro_rated_by_the_runs_formula(db, actor, home):
    h = add(db, actor, "households", community_id=home["community"], code="1-1-102", area="105.01",
            status="已入住", handover_date="2026-07-17")
    rid = prepayment.prepay(db, actor, h, 3, "微信", paid_at=AT)
    assert cashier.receipt(db, rid).total == D("521.66")
    assert [(p, due) for p, due, _ in settled(db, h)] == [
        ("2026-07", D("101.62")), ("2026-08", D("210.02")), ("2026-09", D("210.02"))]
    assert db.scalar("SELECT note FROM bills WHERE household_id = ? AND period = '2026-07'",
                     [h]).startswith("按天折算：交房 2026-07-17 起")


def test_arrears_are_collected_first_then_the_months_ahead(db, actor, home):
    billing.generate_bills(db, actor, home["community"], "2026-06")  # due 06-25, unpaid
    q = prepayment.quote(db, home["household"], 3, on=AT.date())
    assert q.periods == ["2026-07", "2026-08", "2026-09"]
    assert (q.owed_before, q.new_total, q.total) == (D("210.02"), D("630.06"), D("840.08"))
    rid = prepayment.prepay(db, actor, home["household"], 3, "现金", paid_at=AT)
    assert [left for _, _, left in settled(db, home["household"])] == [0, 0, 0, 0]
    assert list(cashier.receipt(db, rid).lines["period"]) == ["2026-06", "2026-07", "2026-08", "2026-09"]


def test_bad_month_counts_are_refused_and_change_nothing(db, actor, home):
    from app.saving.changes import ValidationFailed

    for months in (0, 37):
        with pytest.raises(ValidationFailed, match="预缴月数应为 1 到 36"):
            prepayment.prepay(db, actor, home["household"], months, "现金", paid_at=AT)
    assert db.scalar("SELECT count(*) FROM bills") == 0
    assert db.scalar("SELECT count(*) FROM receipts") == 0


def test_a_refused_receipt_leaves_no_bill(db, actor, home):
    """The bills and the receipt are one transaction (#19): a receipt refused inside it (a cashier
    not on the staff list, found after the bills were written) or before it (no right to issue
    receipts) leaves no bill, payment or receipt, and nothing in the audit log."""
    from app.access.permissions import Actor, PermissionDenied, default_grants
    from app.saving.changes import ValidationFailed

    with pytest.raises(ValidationFailed, match="编号 999 不存在"):
        prepayment.prepay(db, actor, home["household"], 3, "现金", paid_at=AT, cashier_id=999)
    clerk = Actor("李收费", grants=default_grants("管理员") - {("receipts", "add")})
    with pytest.raises(PermissionDenied, match="无权新增「收据」"):
        prepayment.prepay(db, clerk, home["household"], 3, "现金", paid_at=AT)
    for table in ("bills", "payments", "receipts"):
        assert db.scalar("SELECT count(*) FROM " + table) == 0, table
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register IN ('bills', 'payments', 'receipts')") == 0
    # the same prepayment, entered correctly, goes through whole
    rid = prepayment.prepay(db, actor, home["household"], 3, "现金", paid_at=AT)
    assert [left for _, _, left in settled(db, home["household"])] == [0, 0, 0]
    assert cashier.receipt(db, rid).total == D("630.06")


def test_the_cashier_page_prepays_a_year_with_a_free_month(copy_demo, monkeypatch):
    """The page on a copy of the demo: 预缴 12 months under 「预缴一年赠一个月」 of the demo."""
    from apptest import app_test

    from app.storage.db import open_database

    path = copy_demo("prepay-page")
    monkeypatch.setenv("WUYE_DB", str(path))
    db = open_database(str(path))
    try:
        code, household, community = db.rows(
            "SELECT h.code, h.id, h.community_id FROM households h WHERE h.deleted_at IS NULL "
            "AND h.usage = '住宅' AND h.status = '已入住' "
            "AND (SELECT count(*) FROM households x WHERE x.code = h.code) = 1 "
            "AND NOT EXISTS (SELECT 1 FROM v_bill_balance b WHERE b.household_id = h.id AND b.outstanding > 0) "
            "ORDER BY h.id LIMIT 1")[0]
        rule = db.scalar("SELECT id FROM fee_discounts WHERE community_id = ? AND name = '预缴一年赠一个月'",
                         [community])
        q = prepayment.quote(db, household, 12, rule)
    finally:
        db.close()
    assert q.refused is None and q.discount > 0
    at = app_test("pages/cashier.py").run()
    at.text_input(key="cashier-find").input(code).run()
    at.toggle(key="cashier-prepay-open").set_value(True).run()
    at.selectbox(key="cashier-prepay-rule").set_value(rule).run()
    assert not at.exception and not at.warning
    assert any(f"应收 **{q.total:,.2f}** 元" in m.value for m in at.markdown)
    at.button(key="FormSubmitter:cashier-prepay-预缴并开收据").click().run()
    assert not at.exception and not at.error
    assert any(s.value.startswith(f"已收款 {q.total:,.2f} 元，收据号 ") for s in at.success)


def test_the_bill_run_uses_credit_of_households_marked_for_it(db, actor, home):
    """预存款自动抵扣: 1-1-101 (marked) has 500.00 of credit → July's 210.02 paid from it, 289.98
    left; 1-1-102 (marked) has 100.00 → 100.00 paid, 110.02 owed; 1-1-103 (not marked) keeps its
    300.00 and owes 210.02."""
    c = home["community"]
    db_ids = {"1-1-101": home["household"]}
    from app.saving.changes import RowChange, apply_changes

    apply_changes(db, actor, "households", [RowChange("update", home["household"], {"credit_auto": True}, 1)])
    db_ids["1-1-102"] = add(db, actor, "households", community_id=c, code="1-1-102", area="105.01",
                            status="已入住", credit_auto=True)
    db_ids["1-1-103"] = add(db, actor, "households", community_id=c, code="1-1-103", area="105.01",
                            status="已入住")
    for code, amount in (("1-1-101", "500.00"), ("1-1-102", "100.00"), ("1-1-103", "300.00")):
        billing.take_payment(db, actor, db_ids[code], amount, "现金", paid_at=datetime(2026, 6, 30, 9))
    assert billing.generate_bills(db, actor, c, "2026-07") == 3
    got = {code: (billing.credit_balance(db, h),
                  db.scalar("SELECT outstanding FROM bill_balance_as_of(DATE '9999-12-30') WHERE household_id = ?",
                            [h])) for code, h in db_ids.items()}
    assert got == {"1-1-101": (D("289.98"), D("0.00")), "1-1-102": (D("0.00"), D("110.02")),
                   "1-1-103": (D("300.00"), D("210.02"))}
    assert db.rows("SELECT household_id, total, method FROM receipts WHERE method = '预存款' ORDER BY household_id") \
        == [(db_ids["1-1-101"], D("210.02"), "预存款"), (db_ids["1-1-102"], D("100.00"), "预存款")]
