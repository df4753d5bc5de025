"""Discount rules at the monthly bill run (issue #19 item 6): 空置房比例 and 固定减免 are not only
for prepayment — the run gives them set-based, shows them in the dry run and writes each as a 折扣
adjustment citing the rule.

Worked by hand, July 2026 (rules valid from 07-01, so June is billed in full):
- 1-1-101 已入住, 105.01 m² × 2.00 = 210.02 物业费, 垃圾费 15.00; June paid. 「按时缴费减免」
  (固定减免 5.00, all items, only without arrears): 5.00 off each bill → owes 215.02;
- 1-1-102 空置, 88.00 m² × 2.00 = 176.00, 垃圾费 15.00; June paid. 物业费: 「空置房六折」 (物业费
  only) before the rule for all items: 176.00 − 176.00 × 0.6 (105.60) = 70.40 off; 垃圾费: 5.00 off;
- 1-1-103 已入住, 100.00 m² → 200.00 + 15.00; June's 215.00 unpaid (overdue since 06-25): no rule;
- a draft rule (固定减免 100.00) gives nothing.
Σ July 210.02 + 15 + 176 + 15 + 200 + 15 = 631.02; discounts 5 + 5 + 70.40 + 5 = 85.40.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing, cashier

D = Decimal


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="赵经理", department_id=dept, community_id=c)
    homes = {code: add(db, actor, "households", community_id=c, code=code, area=area, status=status)
             for code, area, status in (("1-1-101", "105.01", "已入住"), ("1-1-102", "88.00", "空置"),
                                        ("1-1-103", "100.00", "已入住"))}
    fee = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
              status="已审批", effective_from="2026-01-01")
    add(db, actor, "fee_items", community_id=c, name="垃圾费", method="固定", unit_price="15.0000",
        status="已审批", effective_from="2026-01-01")
    approved = {"community_id": c, "status": "已审批", "approved_by_id": boss, "valid_from": "2026-07-01"}
    vacant = add(db, actor, "fee_discounts", **approved, name="空置房六折", kind="空置房比例", fee_item_id=fee,
                 vacant_ratio="0.6")
    on_time = add(db, actor, "fee_discounts", **approved, name="按时缴费减免", kind="固定减免", fixed_amount="5.00",
                  only_without_arrears=True)
    add(db, actor, "fee_discounts", community_id=c, status="草稿", valid_from="2026-07-01", name="草稿规则",
        kind="固定减免", fixed_amount="100.00")
    assert billing.generate_bills(db, actor, c, "2026-06") == 6
    assert not db.rows("SELECT * FROM bill_adjustments")  # no rule in force in June
    for code, paid in (("1-1-101", "225.02"), ("1-1-102", "191.00")):
        billing.take_payment(db, actor, homes[code], paid, "现金", datetime(2026, 6, 20, 9, 0))
    return {"community": c, "homes": homes, "boss": boss, "vacant": vacant, "on_time": on_time}


def test_the_dry_run_names_each_household_and_rule(db, estate):
    run = billing.preview_bill_run(db, estate["community"], "2026-07")
    assert run.total == D("631.02") and run.discount == D("85.40")
    assert run.changes[run.changes["kind"] == "优惠"][["code", "detail"]].values.tolist() == [
        ["1-1-101", "物业费：优惠规则「按时缴费减免」（固定减免），账单 210.02 元，优惠 5.00 元"],
        ["1-1-101", "垃圾费：优惠规则「按时缴费减免」（固定减免），账单 15.00 元，优惠 5.00 元"],
        ["1-1-102", "物业费：优惠规则「空置房六折」（空置房比例），账单 176.00 元，优惠 70.40 元"],
        ["1-1-102", "垃圾费：优惠规则「按时缴费减免」（固定减免），账单 15.00 元，优惠 5.00 元"],
    ]


def test_the_run_writes_each_discount_citing_its_rule_and_the_period_closes_balanced(db, actor, estate):
    c, homes = estate["community"], estate["homes"]
    assert billing.generate_bills(db, actor, c, "2026-07") == 6
    got = db.rows(
        "SELECT h.code, f.name, b.amount, a.kind, a.amount, a.discount_id, a.approved_by_id, a.reason "
        "FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id JOIN households h ON h.id = b.household_id "
        "JOIN fee_items f ON f.id = b.fee_item_id ORDER BY h.code, f.id")
    on_time, vacant, boss = estate["on_time"], estate["vacant"], estate["boss"]
    assert got == [
        ("1-1-101", "物业费", D("210.02"), "折扣", D("5.00"), on_time, boss, "优惠规则「按时缴费减免」（固定减免），2026-07 出账"),
        ("1-1-101", "垃圾费", D("15.00"), "折扣", D("5.00"), on_time, boss, "优惠规则「按时缴费减免」（固定减免），2026-07 出账"),
        ("1-1-102", "物业费", D("176.00"), "折扣", D("70.40"), vacant, boss, "优惠规则「空置房六折」（空置房比例），2026-07 出账"),
        ("1-1-102", "垃圾费", D("15.00"), "折扣", D("5.00"), on_time, boss, "优惠规则「按时缴费减免」（固定减免），2026-07 出账"),
    ]
    # a second run adds nothing and gives no discount twice
    assert billing.generate_bills(db, actor, c, "2026-07") == 0
    assert db.scalar("SELECT count(*) FROM bill_adjustments") == 4
    # 1-1-101 pays July's 215.02 exactly; the period closes and the ledger balances
    rid = billing.take_payment(db, actor, homes["1-1-101"], "215.02", "现金", db.now())
    # the receipt names the rule on each bill it pays
    assert cashier.receipt(db, rid).lines[["fee_item", "amount", "note"]].values.tolist() == [
        ["物业费", D("205.02"), "优惠规则「按时缴费减免」优惠 5.00 元"],
        ["垃圾费", D("10.00"), "优惠规则「按时缴费减免」优惠 5.00 元"]]
    cashier.close_period(db, actor, c, "2026-07")
    owed = dict(db.rows("SELECT household_code, sum(outstanding) FROM bill_balance_as_of(current_date) "
                        "WHERE period = '2026-07' GROUP BY household_code"))
    assert owed == {"1-1-101": D("0.00"), "1-1-102": D("115.60"), "1-1-103": D("215.00")}
    assert db.rows("SELECT sum(amount), sum(reduced), sum(paid_net), sum(outstanding) "
                   "FROM bill_balance_as_of(current_date) WHERE period = '2026-07'") == [
        (D("631.02"), D("85.40"), D("215.02"), D("330.60"))]
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'bill_adjustments' AND action = '新增'") == 4
