"""The fee pages under AppTest on the demo file: the cashier takes a payment, the bill run previews."""

from __future__ import annotations

import pytest
from apptest import app_test


@pytest.fixture(scope="module")
def demo_env(copy_demo, monkeypatch_module):
    path = copy_demo("fee-pages")
    monkeypatch_module.setenv("WUYE_DB", str(path))
    return path


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_cashier_page_finds_a_household_and_takes_its_outstanding(demo_env):
    from app.storage.db import open_database

    db = open_database(str(demo_env))
    try:
        code, outstanding = db.rows(
            "SELECT h.code, a.outstanding FROM v_arrears a JOIN households h ON h.id = a.household_id "
            "WHERE (SELECT count(*) FROM households x WHERE x.code = h.code) = 1 "
            "ORDER BY a.household_id LIMIT 1")[0]
    finally:
        db.close()
    at = app_test("pages/cashier.py")
    at.run()
    at.text_input(key="cashier-find").input(code).run()
    assert not at.exception
    assert at.metric[0].label == "欠费(元)"
    at.button(key="FormSubmitter:cashier-pay-收款并开收据").click().run()
    assert not at.exception and not at.error
    texts = [s.value for s in at.success]
    assert "没有未缴账单。" in texts
    assert any(t.startswith(f"已收款 {outstanding:,.2f} 元，收据号 ") for t in texts), texts


def test_fees_page_previews_the_bill_run_and_makes_notices(demo_env):
    at = app_test("pages/fees.py")
    at.run()
    assert not at.exception
    at.button(key="fees-preview").click().run()
    assert not at.exception
    assert [m.label for m in at.metric][:3] == ["将新增账单", "合计(元)", "本期已有账单（跳过）"]
    at.button(key="fees-make-notices").click().run()
    assert not at.exception
    assert any(m.value.startswith("缴费通知单 ") for m in at.markdown)
