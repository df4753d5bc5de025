"""Real-browser end-to-end of issue 12: an administrator creates a register on 台账设计, adds a
field to it, enters a row in the new register's grid and exports it to Excel.

One module-scoped server on a fresh (empty, migrated) DuckDB file; the test stops it
(`app.offline()`) to read the file. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    GLIDE_EDITOR,
    add_row,
    cell,
    choose,
    column,
    exceptions,
    grid,
    needs_chromium,
    open_page,
    running_app,
    select_cell,
    select_tab,
    wait_app_idle,
    wait_sent,
)
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    path = tmp_path_factory.mktemp("browser-designer") / "wuye.duckdb"
    db = open_database(str(path))
    ensure_defaults(db, Actor("测试", source="任务"))
    db.close()
    yield from running_app(path, ARTIFACTS / "server-designer.log")


def fill(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    wait_app_idle(page)


def type_in_cell(page, col: int, row: int, text: str) -> None:
    """Type into a cell and commit with Tab (Enter on the last row would append another row)."""
    select_cell(page, col, row)
    page.keyboard.press("Enter")
    editor = page.locator(GLIDE_EDITOR).first
    editor.wait_for(state="visible", timeout=5_000)
    editor.fill(text)
    editor.press("Tab")
    editor.wait_for(state="hidden", timeout=5_000)
    expect(cell(page, col, row)).to_have_text(text, timeout=5_000)


def test_create_register_add_field_enter_row_export(page, app, tmp_path):
    # 1. a new register, with its first field
    open_page(page, app, "/designer")
    try:
        page.get_by_role("heading", name="台账设计").wait_for()
    finally:
        page.screenshot(path=str(ARTIFACTS / "designer-open.png"))
    fill(page, "台账英文名（小写字母、数字、下划线）", "plant_keys")
    fill(page, "台账名称", "机房钥匙")
    fill(page, "第一列英文名（显示名称用此列）", "key_no")
    fill(page, "第一列名称", "钥匙编号")
    page.get_by_role("button", name="创建台账").click()
    wait_app_idle(page)
    done = page.get_by_test_id("stAlert").filter(has_text="已完成")
    done.wait_for()
    assert "新建台账「机房钥匙」" in done.inner_text()
    assert exceptions(page) == []

    # 2. a field added to it (the register is picked by its label in the 修改列 tab)
    select_tab(page, "修改列")
    choose(page, "台账", "机房钥匙")
    for label, text in (("列英文名", "holder"), ("列名称", "保管人")):
        select_tab(page, "修改列")
        fill(page, label, text)
    page.get_by_role("button", name="新增列").click()
    wait_app_idle(page)
    done = page.get_by_test_id("stAlert").filter(has_text="已完成")
    try:
        done.wait_for()
    finally:
        page.screenshot(path=str(ARTIFACTS / "designer-field-added.png"), full_page=True)
    assert "新增列「保管人」" in done.inner_text()
    page.screenshot(path=str(ARTIFACTS / "designer-field-added.png"))

    # 3. a row entered in the new register's grid
    open_page(page, app, "/plant_keys")
    page.get_by_role("heading", name="机房钥匙").wait_for()
    grid(page).wait_for()
    wait_app_idle(page)
    add_row(page)
    cell(page, 1, 0).wait_for(state="attached", timeout=5_000)  # the empty grid's first row
    key_col, holder_col = column(page, "钥匙编号"), column(page, "保管人")
    assert holder_col == key_col + 1
    since = len(page.wuye_sent)
    type_in_cell(page, key_col, 0, "K-101")
    type_in_cell(page, holder_col, 0, "王师傅")
    wait_sent(page, "王师傅", since)  # the edits reach Streamlit before the click reruns the app
    page.get_by_role("button", name="保存").click()
    saved = page.get_by_test_id("stAlert").filter(has_text="已保存")
    saved.wait_for()
    assert "新增 1 行" in saved.inner_text()
    assert exceptions(page) == []
    page.screenshot(path=str(ARTIFACTS / "designer-row-saved.png"))

    # 4. exported: the workbook has the row under the Chinese headers
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    data = Path(download.value.path()).read_bytes()
    sheet = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert sheet[0] == ("编号", "钥匙编号", "保管人")
    assert sheet[1][1:] == ("K-101", "王师傅")

    # 5. the file: the table, its recorded migrations, the audit of the row and of the export
    with app.offline() as con:
        assert con.execute("SELECT key_no, holder FROM plant_keys").fetchall() == [("K-101", "王师傅")]
        versions = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        assert {"register:plant_keys", "register:plant_keys.holder"} <= versions
        actions = [r[0] for r in con.execute(
            "SELECT action FROM audit_log WHERE register = 'plant_keys' ORDER BY id").fetchall()]
        assert actions == ["新增", "导出"]
