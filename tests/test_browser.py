"""Real-browser tests: `streamlit run` of the app on a demo DuckDB file, driven by chromium.

One server for the module (the app as `wuye serve` runs it). DuckDB locks its file, so a test
that checks the file stops the server first (`app.offline()`), reads, and starts it again.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    cell_text,
    column,
    edit_cell,
    exceptions,
    full_page_screenshot,
    launch_chromium,
    needs_chromium,
    open_page,
    running_app,
    start_app,
    wait_app_idle,
    wait_grid,
)

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"


def _households(con):
    return con.execute("SELECT * FROM households ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def app(copy_demo):
    def remember(app, con) -> None:  # the table as it was when the server last started
        app.households_at_start = _households(con)
        app.audit_rows_at_start = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]

    yield from running_app(copy_demo("browser"), ARTIFACTS / "server.log", remember)


def _area_path(area: str) -> str:
    from app import registers

    return "/" + registers.area_slug(area)


PAGES = {
    "home": ("/", "物业台账"),
    "area-estate": (_area_path("小区与房屋"), "小区与房屋"),
    "households": ("/households", "房屋档案"),
    "owners": ("/owners", "业主与住户"),
    "rule-settings": ("/rule-settings", "规则参数"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_main_pages_render(page, app, name):
    path, title = PAGES[name]
    open_page(page, app, path)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == title
    if name in ("households", "owners", "rule-settings"):
        wait_grid(page)
        assert cell_text(page, 1, 0), "the grid shows no rows"
    if name == "home":
        # vega draws its marks (an svg.marks) after the chart's element appears: wait for them
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] .marks')]
                     .some(m => m.getBoundingClientRect().width > 0
                                && m.querySelector('path, rect, line, symbol, text'))""")
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / f"page-{name}.png")


def test_invalid_edit_shows_problems_and_writes_nothing(page, app):
    open_page(page, app, "/households")
    wait_grid(page)
    area, code = column(page, "建筑面积(㎡)"), column(page, "房号")
    edit_cell(page, area, 0, "-5")
    edit_cell(page, code, 1, "3/2")
    page.get_by_role("button", name="保存").click()

    error = page.get_by_test_id("stAlert").filter(has_text="校验未通过")
    error.wait_for()
    assert "未保存任何修改" in error.inner_text()
    problems = page.get_by_test_id("stDataFrame").filter(
        has=page.locator('th[role="columnheader"]', has_text="问题"))
    problems.locator("td").first.wait_for(state="attached")
    table_text = " ".join(problems.locator("th, td").all_text_contents())
    assert "不能小于 0.01" in table_text
    assert "房号由数字或字母以“-”连接" in table_text
    page.screenshot(path=str(ARTIFACTS / "save-rejected.png"))

    with app.offline() as con:
        assert _households(con) == app.households_at_start
        assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == app.audit_rows_at_start


def test_edit_and_save_writes_value_and_audit(page, app):
    open_page(page, app, "/households")
    wait_grid(page)
    note = column(page, "备注")
    row_id = int(cell_text(page, column(page, "编号"), 0))
    old = cell_text(page, note, 0)
    new = f"浏览器改备注 {row_id}"
    edit_cell(page, note, 0, new)
    page.get_by_role("button", name="保存").click()

    page.get_by_test_id("stAlert").filter(has_text="已保存").wait_for()
    assert "修改 1 行" in page.get_by_test_id("stAlert").filter(has_text="已保存").inner_text()
    page.screenshot(path=str(ARTIFACTS / "save-ok.png"))
    wait_grid(page)  # the grid is rebuilt from the database after the save
    assert cell_text(page, note, 0) == new

    with app.offline() as con:
        assert con.execute("SELECT note FROM households WHERE id = ?", [row_id]).fetchone()[0] == new
        audit = con.execute(
            "SELECT actor, source, old_values, new_values FROM audit_log "
            "WHERE register = 'households' AND action = '修改' AND row_id = ? "
            "ORDER BY id DESC", [row_id]
        ).fetchall()
    assert len(audit) == 1
    actor, source, old_values, new_values = audit[0]
    assert json.loads(new_values)["note"] == new
    assert (json.loads(old_values).get("note") or "") == old
    assert source == "网格" and actor
