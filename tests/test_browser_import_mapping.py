"""In a real browser: the import wizard drafts a mapping, saves it by name, and offers it again
when a file with the same headers comes back (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import open_database

CORPUS = Path(__file__).parent / "data" / "import_corpus"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.mark.browser
def test_wizard_saves_a_mapping_and_offers_it_again(tmp_path):
    from browser import (
        choose,
        exceptions,
        launch_chromium,
        open_page,
        require_chromium,
        start_app,
        wait_app_idle,
    )
    from playwright.sync_api import sync_playwright

    require_chromium()
    db_path = tmp_path / "wuye.duckdb"
    db = open_database(str(db_path))
    apply_changes(db, Actor("测试", source="任务"), "communities", [RowChange("insert", values={"name": "阳光花园"})])
    db.close()
    file = CORPUS / "02_房屋_高层别墅.xlsx"
    mapping = (CORPUS / "02_房屋_高层别墅.toml").read_text(encoding="utf-8")
    server = start_app(db_path, ARTIFACTS / "import-mapping-server.log")
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1200}, locale="zh-CN")
            page.set_default_timeout(60_000)
            open_page(page, server, "/import")
            choose(page, "导入到哪个台账", "小区与房屋 / 房屋档案")
            page.locator('input[type="file"]').set_input_files(str(file))
            page.get_by_text("发现 1 个问题").wait_for()  # 小区 is not in the file
            page.get_by_text("映射（常量、取值对照、合并、拆分、四舍五入）").click()
            box = page.get_by_label("映射", exact=True)
            box.wait_for()
            box.fill(mapping)
            box.press("Control+Enter")
            page.get_by_text("校验通过：4 行都可以导入").wait_for()
            page.get_by_label("映射名称").fill("高层清单")
            page.get_by_label("映射名称").press("Enter")
            wait_app_idle(page)
            page.get_by_role("button", name="保存映射").click()
            page.get_by_text("已保存映射「高层清单」").wait_for()
            assert exceptions(page) == []

            open_page(page, server, "/import")  # later, the same file again
            choose(page, "导入到哪个台账", "小区与房屋 / 房屋档案")
            page.locator('input[type="file"]').set_input_files(str(file))
            page.get_by_text("文件的表头与已保存的映射「高层清单」相同，已选用。").wait_for()
            page.get_by_text("校验通过：4 行都可以导入").wait_for()
            page.get_by_role("button", name="导入 4 行").click()
            page.get_by_text("已导入「房屋档案」：新增 4 行").wait_for()
            assert exceptions(page) == []
            browser.close()
    finally:
        server.stop()
    db = open_database(str(db_path))
    try:
        assert db.rows("SELECT code, usage FROM households ORDER BY id") == [
            ("3-101", "住宅"), ("3-102", "住宅"), ("V-2", "住宅"), ("S-1", "商铺")]
    finally:
        db.close()
