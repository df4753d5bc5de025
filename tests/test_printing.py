"""Printable documents (issue 23 item 9): receipts, notices and statements as A4 print views with the
小区 name, ¥ amounts and 大写; a batch is one document with a page per receipt or household.
Hand-built bills on both backends; the arithmetic is in the comments."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from saving import add

from app.access.permissions import Actor, PermissionDenied
from app.fees import billing, printing


@pytest.fixture
def estate(db, actor) -> dict:
    """阳光花园 with two homes at 物业费 2.00/㎡: 1-101 (100 ㎡ → 200.00), 1-102 (80 ㎡ → 160.00)."""
    c = add(db, actor, "communities", name="阳光花园", service_phone="0571-88886666")
    dept = add(db, actor, "departments", name="财务部")
    cashier_id = add(db, actor, "staff", name="钱出纳", department_id=dept, community_id=c)
    b = add(db, actor, "buildings", community_id=c, code="1")
    a1 = add(db, actor, "households", community_id=c, building_id=b, code="1-101", area="100.00", status="已入住")
    a2 = add(db, actor, "households", community_id=c, building_id=b, code="1-102", area="80.00", status="已入住")
    add(db, actor, "owners", household_id=a1, name="张三", phone="13800001111")
    add(db, actor, "owners", household_id=a2, name="李四", phone="13800002222")
    add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
        status="已审批", effective_from="2026-01-01")
    return {"community": c, "cashier": cashier_id, "a1": a1, "a2": a2}


def pages(text: str) -> int:
    return text.count("<section class='page'>")


def test_a_receipts_print_view_has_its_number_amount_in_yuan_and_in_words(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    rid = billing.take_payment(db, actor, estate["a1"], "250.00", "微信", paid_at=datetime(2026, 7, 20, 10),
                               cashier_id=estate["cashier"])
    page = printing.receipts_html(db, actor, [rid])
    # 250.00 paid: 200.00 settles the 2026-07 bill, 50.00 goes to credit.
    assert "阳光花园 物业服务收费收据" in page and "收据号：2026-000001" in page
    assert "¥200.00" in page and "¥50.00" in page and "¥250.00" in page
    assert "金额大写：人民币贰佰伍拾元整" in page
    assert "@page { size: A4 portrait" in page and "window.print()" in page and pages(page) == 1


def test_a_batch_of_receipts_is_one_document_with_a_page_each(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    first = billing.take_payment(db, actor, estate["a1"], "200.00", "现金", paid_at=datetime(2026, 7, 20, 10))
    second = billing.take_payment(db, actor, estate["a2"], "1234.50", "现金", paid_at=datetime(2026, 7, 21, 10))
    page = printing.receipts_html(db, actor, [first, second])
    assert pages(page) == 2 and "break-after: page" in page
    assert page.index("2026-000001") < page.index("2026-000002")
    assert "人民币贰佰元整" in page and "人民币壹仟贰佰叁拾肆元伍角整" in page


def test_notices_and_statements_print_a_page_per_household_of_the_actors_communities(db, actor, estate):
    c = estate["community"]
    for period in ("2026-05", "2026-06"):
        billing.generate_bills(db, actor, c, period)
    as_of = date(2026, 6, 30)
    page = printing.notices_html(db, actor, c, [estate["a1"], estate["a2"]], "2026-06", as_of, dunning=True)
    assert pages(page) == 2 and page.count("阳光花园 物业费催缴通知书") == 2
    assert "第九百四十四条" in page and "0571-88886666" in page
    # 1-101: 200 (05, due 05-25: 36 days × 200 × 0.0005 = 3.60) + 200 (06, due 06-25: 5 days → 0.50)
    # = 400.00 owed, 4.10 late fee, 404.10 in all.
    statement = printing.statements_html(db, actor, [estate["a1"]], as_of)
    assert "阳光花园 物业费用对账单" in statement and "¥404.10" in statement and "¥4.10" in statement
    assert "大写：人民币肆佰零肆元壹角整" in statement and pages(statement) == 1
    other = add(db, actor, "communities", name="翠湖苑")
    clerk = Actor("财务小钱", "财务", communities=(other,))  # 阳光花园 is not theirs
    with pytest.raises(PermissionDenied, match="不在您负责的小区范围内"):
        printing.statements_html(db, clerk, [estate["a1"]], as_of)


@pytest.mark.browser
def test_chromium_prints_a_batch_of_two_receipts_on_two_a4_pages_without_the_button(chromium):
    import re
    from decimal import Decimal

    import pandas as pd

    from app.fees.cashier import Receipt

    def made(no: str, amount: str) -> Receipt:
        lines = pd.DataFrame([{"fee_item": "物业费", "period": "2026-07", "amount": Decimal(amount)}])
        return Receipt(1, no, "阳光花园", "1-101", "张三", datetime(2026, 7, 20, 10), Decimal(amount), "现金",
                       "钱出纳", False, None, lines, Decimal("0.00"), "0571-88886666")

    text = printing.document("收据 2 张", [printing.receipt_page(made("2026-000001", "200.00")),
                                          printing.receipt_page(made("2026-000002", "1234.50"))])
    page = chromium.new_page()
    try:
        page.set_content(text, wait_until="load")
        assert page.get_by_role("button", name="打印").is_visible()
        page.emulate_media(media="print")
        assert page.get_by_role("button", name="打印").is_hidden()
        pdf = page.pdf(prefer_css_page_size=True)
    finally:
        page.close()
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2  # one A4 page per receipt
    assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 841\.\d+", pdf)  # A4: 595 × 842 points
