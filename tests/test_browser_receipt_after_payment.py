"""Real-browser: two payments in a row at 收银台, and after each the receipt offered for download is
the one just issued (number in the file name and on the sheet, amount on its 合计 line).

Before the fix the receipt picker kept its earlier value, so after the second payment 下载收据
handed over the first receipt.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    exceptions,
    needs_chromium,
    open_page,
    running_app,
    wait_app_idle,
)

pytestmark = [pytest.mark.browser, needs_chromium]

ARTIFACTS = Path(__file__).parent / "artifacts"
D = Decimal


@pytest.fixture(scope="module")
def seeded(copy_demo):
    from app.storage.db import open_database

    path = copy_demo("browser-receipt")
    db = open_database(str(path))
    try:
        code = db.rows(
            "SELECT h.code FROM v_arrears a JOIN households h ON h.id = a.household_id "
            "WHERE (SELECT count(*) FROM households x WHERE x.code = h.code) = 1 "
            "AND a.outstanding > 50 ORDER BY a.household_id LIMIT 1")[0][0]
    finally:
        db.close()
    return path, code


@pytest.fixture(scope="module")
def app(seeded):
    yield from running_app(seeded[0], ARTIFACTS / "server-receipt.log")


def test_two_payments_in_a_row_each_download_their_own_receipt(page, app, seeded):
    _, code = seeded
    open_page(page, app, "/cashier")
    page.get_by_label("查找房屋").fill(code)
    page.get_by_label("查找房屋").press("Enter")
    wait_app_idle(page)
    page.get_by_text("未缴账单").wait_for()
    numbers = []
    for amount in ("12.34", "23.45"):
        page.get_by_label("收款金额(元)").fill(amount)
        page.get_by_role("button", name="收款并开收据").click()
        done = page.get_by_test_id("stAlert").filter(has_text=f"已收款 {amount} 元")
        done.wait_for()
        wait_app_idle(page)
        number = re.search(r"收据号 ([0-9]{4}-[0-9]{6})", done.inner_text()).group(1)
        assert number not in numbers
        numbers.append(number)
        with page.expect_download() as info:
            page.get_by_role("button", name="下载收据（Excel，可打印）").click()
        download = info.value
        assert download.suggested_filename == f"收据_{number}.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
        assert sheet["B2"].value == number
        total = [r for r in sheet.iter_rows(values_only=True) if r[0] == "合计"][0][2]
        assert D(str(total)).quantize(D("0.01")) == D(amount)
    assert exceptions(page) == []
