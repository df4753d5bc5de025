"""Real browser: the corner-cell workbook uploaded in the import wizard costs nothing but a message.

A 5 KB .xlsx whose one cell is XFD1048576 used to abort the Streamlit server (python-calamine
building 1,048,576 x 16,384 cells). Uploaded on /import it now shows the refusal; the same
server then opens another page and imports an ordinary workbook, and the file holds exactly
those rows.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from browser import choose, exceptions, launch_chromium, needs_chromium, open_page, start_app

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"


def write_xlsx(path: Path, cells: dict[tuple[int, int], object]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for (r, c), v in cells.items():
        ws.write(r, c, v)
    wb.close()
    return path


def test_corner_cell_upload_shows_a_message_and_the_server_goes_on(tmp_path):
    from playwright.sync_api import sync_playwright

    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import open_database

    db_path = tmp_path / "wuye.duckdb"
    db = open_database(str(db_path))
    apply_changes(db, Actor("测试", source="任务"), "communities", [RowChange("insert", values={"name": "阳光花园"})])
    db.close()
    corner = write_xlsx(tmp_path / "角落.xlsx", {(1_048_575, 16_383): "x"})
    good = write_xlsx(tmp_path / "房屋.xlsx", {
        (0, 0): "小区", (0, 1): "房号", (0, 2): "建筑面积(㎡)",
        (1, 0): "阳光花园", (1, 1): "1-1-101", (1, 2): 88,
        (2, 0): "阳光花园", (2, 1): "1-1-102", (2, 2): 90.5,
    })
    server = start_app(db_path, ARTIFACTS / "import-limits-server.log")
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
            page.set_default_timeout(60_000)
            open_page(page, server, "/import")
            choose(page, "导入到哪个台账", "小区与房屋 / 房屋档案")
            page.locator('input[type="file"]').set_input_files(str(corner))
            page.get_by_text(re.compile("用到第 1,048,576 行（区域 A1:\u200b?XFD1048576），超过导入上限 200,000 行")).wait_for()
            assert exceptions(page) == []
            assert server.proc.poll() is None  # the server process lives

            open_page(page, server, "/")  # another page answers
            assert server.proc.poll() is None
            open_page(page, server, "/import")
            choose(page, "导入到哪个台账", "小区与房屋 / 房屋档案")
            page.locator('input[type="file"]').set_input_files(str(good))
            page.get_by_text("校验通过：2 行都可以导入").wait_for()
            page.get_by_role("button", name="导入 2 行").click()
            page.get_by_text("已导入「房屋档案」：新增 2 行").wait_for()
            assert exceptions(page) == []
            browser.close()
    finally:
        server.stop()
    db = open_database(str(db_path))
    assert db.rows("SELECT community_id, code, area FROM households ORDER BY id") == [
        (1, "1-1-101", Decimal("88.00")), (1, "1-1-102", Decimal("90.50"))]
    assert db.rows("SELECT source, count(*) FROM audit_log WHERE register = 'households' GROUP BY source") == [
        ("导入", 2)]
    db.close()
