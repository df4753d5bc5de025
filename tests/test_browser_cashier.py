"""Real-browser end-to-end: take a payment on the cashier page; the arrears and the to-do row go.

A demo household long in arrears is on v_todo (收费管理, via v_todo_fees). On /cashier the
cashier finds it by its code, takes its whole outstanding in cash (the amount the form offers)
and gets a receipt number. The file then holds the receipt with the next number of the year,
payments allocated to every open bill (oldest due first, summing to the total), the audit rows
of the receipt and of its payments under one change id; the household is no longer in
v_arrears nor in v_todo, and the page shows no open bills.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    exceptions,
    full_page_screenshot,
    needs_chromium,
    open_page,
    running_app,
    wait_app_idle,
)

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"


@dataclass
class Target:
    household_id: int
    community_id: int
    code: str
    outstanding: Decimal
    open_bills: list[int]  # oldest due first
    next_no: str  # the receipt number the payment should get
    todo_count: int


@pytest.fixture(scope="module")
def seeded(copy_demo):
    from app.fees import billing
    from app.storage.db import open_database

    path = copy_demo("browser-cashier")
    db = open_database(str(path))
    try:
        today = db.now().date()
        picked = db.rows(
            "SELECT t.ref_id, h.community_id, h.code FROM v_todo_fees t JOIN households h ON h.id = t.ref_id "
            "WHERE (SELECT count(*) FROM households x WHERE x.code = h.code) = 1 "
            "ORDER BY t.days_overdue DESC, t.ref_id LIMIT 1")
        assert picked, "the demo data has no household long in arrears"
        household, community, code = picked[0]
        bills = billing.open_bills(db, household, today)
        outstanding = sum(bills["outstanding"], Decimal("0.00"))
        last = db.scalar(
            "SELECT max(CAST(substr(receipt_no, 6) AS INTEGER)) FROM receipts WHERE community_id = ? "
            "AND receipt_no LIKE ?", [community, f"{today.year}-%"]) or 0
        target = Target(household, community, code, outstanding, [int(b) for b in bills["bill_id"]],
                        f"{today.year}-{last + 1:06d}", db.scalar("SELECT count(*) FROM v_todo"))
        assert billing.credit_balance(db, household) == 0
    finally:
        db.close()
    return path, target


@pytest.fixture(scope="module")
def app(seeded):
    yield from running_app(seeded[0], ARTIFACTS / "server-cashier.log")


def test_cashier_takes_a_payment_and_the_arrears_and_todo_row_go(page, app, seeded):
    _, t = seeded
    open_page(page, app, "/cashier")
    page.screenshot(path=str(ARTIFACTS / "cashier-open.png"))
    page.get_by_label("查找房屋").fill(t.code)
    page.get_by_label("查找房屋").press("Enter")
    wait_app_idle(page)
    page.get_by_text("未缴账单").wait_for()
    amount = page.get_by_label("收款金额(元)")
    assert Decimal(amount.input_value()) == t.outstanding  # the form offers the whole outstanding
    page.get_by_role("button", name="收款并开收据").click()
    done = page.get_by_test_id("stAlert").filter(has_text="已收款")
    done.wait_for()
    assert re.search(rf"收据号 {t.next_no}\b", done.inner_text()), done.inner_text()
    page.get_by_text("没有未缴账单。").wait_for()
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "cashier-paid.png")

    with app.offline() as con:
        con.execute("SET TimeZone = 'Asia/Shanghai'")  # the office's today, as the app has it
        receipts = con.execute(
            "SELECT id, receipt_no, total, method, voided FROM receipts WHERE household_id = ? "
            "AND receipt_no = ?", [t.household_id, t.next_no]).fetchall()
        assert len(receipts) == 1, receipts
        rid, _, total, method, voided = receipts[0]
        assert (total, method, voided) == (t.outstanding, "现金", False)
        paid = con.execute("SELECT bill_id, amount FROM payments WHERE receipt_id = ? ORDER BY id",
                           [rid]).fetchall()
        assert [b for b, _ in paid] == t.open_bills
        assert sum(a for _, a in paid) == t.outstanding
        assert not con.execute("SELECT * FROM household_credits WHERE receipt_id = ?", [rid]).fetchall()
        audit = con.execute(
            "SELECT register, row_id, change_id, source, new_values FROM audit_log "
            "WHERE action = '新增' AND ((register = 'receipts' AND row_id = ?) OR (register = 'payments' "
            "AND row_id IN (SELECT id FROM payments WHERE receipt_id = ?)))", [rid, rid]).fetchall()
        assert sorted(r[0] for r in audit) == ["payments"] * len(paid) + ["receipts"]
        assert len({r[2] for r in audit}) == 1 and {r[3] for r in audit} == {"收银台"}
        receipt_audit = next(json.loads(r[4]) for r in audit if r[0] == "receipts")
        assert receipt_audit["receipt_no"] == t.next_no
        assert not con.execute("SELECT * FROM v_arrears WHERE household_id = ?", [t.household_id]).fetchall()
        assert not con.execute("SELECT * FROM v_todo WHERE area = '收费管理' AND ref_table = 'households' "
                               "AND ref_id = ?", [t.household_id]).fetchall()
        assert con.execute("SELECT count(*) FROM v_todo").fetchone()[0] == t.todo_count - 1
