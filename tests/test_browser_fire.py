"""Real-browser end-to-end: record a fire check through the grid, see the home page's to-do change.

A fire_equipment item that is 待检查 (v_fire_equipment_status) shows on the home page as
「消防器材 … 到期检查」 in 今日待办. Adding a 月检 fire_checks row for it dated today, through the
Glide editor of /fire_checks, and saving moves fire_equipment.last_checked_on to today
(app/save_rules/facilities.py), so the to-do row goes away; the file then holds the check, the
new date and both audit rows (the insert and the 修改 side effect, same change_id).

Same pattern as tests/test_browser.py: one module-scoped server on a demo DuckDB file; the test
stops it (`app.offline()`) to read the file. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    GLIDE_EDITOR,
    ROW_HEIGHT,
    add_row,
    cell,
    cell_text,
    column,
    exceptions,
    full_page_screenshot,
    grid,
    launch_chromium,
    needs_chromium,
    next_paint,
    open_page,
    running_app,
    start_app,
    wait_app_idle,
    wait_grid,
    wait_sent,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"
FINDINGS = "浏览器端到端测试：压力正常，铅封完好"


@dataclass
class Target:
    """The fire equipment the test checks, as the seeded file had it."""

    id: int
    equip_no: str
    label: str  # its select-box label in the grid (equip_no/type/location)
    todo_prefix: str  # its v_todo item up to 到期检查 (the overdue suffix depends on the date)
    todo_item: str
    todo_count: int  # rows of v_todo at the start
    today: date  # the office date (Database.now(), Asia/Shanghai by default)
    area: str  # its to-do area on the home page


@pytest.fixture(scope="module")
def seeded(copy_demo):
    """The demo file, and the 待检查 fire equipment picked from it before the server opens it."""
    from app import registers
    from app.reading.queries import labels_for
    from app.storage.db import open_database
    path = copy_demo("browser-fire")
    db = open_database(str(path))
    try:
        today = db.now().date()
        picked = db.rows(
            "SELECT s.fire_equipment_id, s.equip_no, s.type, s.location FROM v_fire_equipment_status s "
            "JOIN fire_equipment e ON e.id = s.fire_equipment_id "
            "JOIN v_todo t ON t.ref_table = 'fire_equipment' AND t.ref_id = s.fire_equipment_id "
            "WHERE s.state = '待检查' AND (e.produced_on IS NULL OR e.produced_on <= ?) "
            # the most overdue: near the top of its area on the home page, which lists the most
            # urgent TODO_ROWS of each area
            "ORDER BY t.days_overdue DESC, s.fire_equipment_id LIMIT 1",
            [today],
        )
        assert picked, "the demo data has no fire equipment in state 待检查"
        fid, equip_no, type_, location = picked[0]
        label = labels_for(db, registers.get("fire_equipment"), [fid])[fid]
        same_label = db.scalar(
            "SELECT count(*) FROM fire_equipment WHERE deleted_at IS NULL "
            "AND concat_ws('/', equip_no, type, location) = ?", [label])
        assert same_label == 1, f"label {label!r} is not unique"
        found = db.rows("SELECT item, area FROM v_todo WHERE ref_table = 'fire_equipment' AND ref_id = ?", [fid])
        items = [r[0] for r in found]
        prefix = f"消防器材 {equip_no} {type_}（{location or ''}）到期检查"
        assert len(items) == 1 and items[0].startswith(prefix), items
        target = Target(fid, equip_no, label, prefix, items[0],
                        db.scalar("SELECT count(*) FROM v_todo"), today, found[0][1])
    finally:
        db.close()
    return path, target


@pytest.fixture(scope="module")
def app(seeded):
    yield from running_app(seeded[0], ARTIFACTS / "server-fire.log")


# -- the grid beyond tests/browser.py -------------------------------------------------------------
def column_texts(page, label: str, n: int = 0) -> dict[int, str]:
    """Row -> text of one column over all rows: Glide's accessibility table holds only the rows
    in view, so scroll the grid from top to bottom and collect."""
    col = column(page, label, n)  # aria-colindex; glide-cell-<col>-… numbers differ without row markers
    scroller = grid(page, n).locator(".dvn-scroller").first
    found: dict[int, str] = {}
    top = 0
    while True:
        top = scroller.evaluate("(e, top) => { e.scrollTop = top; return e.scrollTop; }", top)
        # Glide redraws and rebuilds its accessibility table: wait until it starts at the top row
        first = int(top // ROW_HEIGHT)  # the partly hidden top row is in the table too
        page.wait_for_function(
            """([e, col, first]) => [...e.closest('[data-testid="stDataFrameResizable"]')
                   .querySelectorAll(`td[aria-colindex="${col}"][data-testid^="glide-cell-"]`)]
                 .reduce((m, td) => Math.min(m, Number(td.dataset.testid.split('-').pop())),
                         Infinity) === first""",
            arg=[scroller.element_handle(), col, first], timeout=5_000,
        )
        next_paint(page)  # the rows' texts are filled in on the frame after
        for testid, text in scroller.evaluate(
            """(e, col) => [...e.closest('[data-testid="stDataFrameResizable"]')
                   .querySelectorAll(`td[aria-colindex="${col}"][data-testid^="glide-cell-"]`)]
                 .map(td => [td.getAttribute('data-testid'), td.textContent.trim()])""",
            col,
        ):
            found[int(testid.rsplit("-", 1)[1])] = text
        height, client, now = scroller.evaluate("e => [e.scrollHeight, e.clientHeight, e.scrollTop]")
        if now + client >= height - 1:
            return found
        top = now + client - 2 * ROW_HEIGHT


def todo_items(page, area: str) -> list[str]:
    """The 事项 of every row of one area's grid in the home page's 今日待办 (its fold opened; the
    demo's other areas hold hundreds of rows that this test need not read)."""
    page.get_by_role("heading", name="今日待办").wait_for()
    fold = page.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text=f"{area}："))
    fold.wait_for()
    shown = min(int(re.search(r"：(\d+) 项", fold.locator("summary").inner_text()).group(1)), TODO_ROWS)
    fold.locator("summary").click()
    fold.get_by_test_id("stDataFrameResizable").wait_for(timeout=90_000)
    grids = page.get_by_test_id("stDataFrameResizable")
    inside = fold.element_handle()
    [n] = [i for i in range(grids.count()) if grids.nth(i).evaluate("(el, fold) => fold.contains(el)", inside)]
    wait_grid(page, n)
    texts = list(column_texts(page, "事项", n).values())
    assert len(texts) == shown, f"read {len(texts)} of the {shown} rows of {area}"
    return texts


TODO_ROWS = 200  # pages/home.py: each area lists its most urgent 200 items


def new_row(page, n: int = 0, timeout: float = 5.0) -> int:
    """The index of the row "Add row" just appended: Glide scrolls it into view at the bottom,
    an empty row after the page's rows."""
    deadline = time.monotonic() + timeout
    while True:
        page.wait_for_timeout(200)  # a poll with a deadline: the row's index is what is waited for
        # ids and texts read in one go: the grid may redraw between two separate reads
        texts = dict(grid(page, n).locator('td[data-testid^="glide-cell-1-"]').evaluate_all(
            "tds => tds.map(td => [Number(td.dataset.testid.split('-').pop()),"
            " (td.textContent || '').trim()])"))
        last = max(texts, default=0)
        if last >= 1 and texts[last] == "" and texts.get(last - 1):
            return last
        assert time.monotonic() < deadline, "the added row did not come into view"


def select_last_row_cell(page, col: int, row: int, n: int = 0) -> None:
    """Select a cell of the grid's bottom row (the row just added: Glide scrolls to it)."""
    for attempt in range(3):  # a busy machine may click before Glide has scrolled to the new row
        box = grid(page, n).bounding_box()
        page.mouse.click(box["x"] + 60, box["y"] + box["height"] - ROW_HEIGHT / 2)
        try:
            cell(page, 1, row, n).and_(page.locator('[aria-selected="true"]')).wait_for(
                state="attached", timeout=5_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            cell(page, 1, row, n).wait_for(state="attached", timeout=5_000)  # scrolled to it
    for _ in range(col - 1):
        page.keyboard.press("ArrowRight")
    cell(page, col, row, n).and_(page.locator('[aria-selected="true"]')).wait_for(
        state="attached", timeout=5_000)


# The editors below work on the selected cell (col, row) and commit with Tab, which moves the
# selection one cell right. (Enter would move it down, and on the last row Glide then appends
# yet another row.)
def choose_in_cell(page, col: int, row: int, option: str, n: int = 0) -> None:
    """A select-box cell: open its editor (react-select), type the option's label, Tab."""
    page.keyboard.press("Enter")
    combo = page.locator("#portal input[role=combobox]")
    combo.wait_for(state="visible", timeout=5_000)
    combo.press_sequentially(option)
    page.locator("#portal [role=option]").filter(has_text=option).first.wait_for(timeout=5_000)
    combo.press("Tab")
    combo.wait_for(state="hidden", timeout=5_000)
    expect(cell(page, col, row, n)).to_have_text(option, timeout=5_000)


def date_in_cell(page, col: int, row: int, value: date, n: int = 0) -> None:
    page.keyboard.press("Enter")
    editor = page.locator('#portal input[data-testid="date-picker-cell"]')
    editor.wait_for(state="visible", timeout=5_000)
    editor.fill(value.isoformat())
    editor.press("Tab")
    editor.wait_for(state="hidden", timeout=5_000)
    expect(cell(page, col, row, n)).to_have_text(value.isoformat(), timeout=5_000)


def text_in_cell(page, col: int, row: int, text: str, n: int = 0) -> None:
    page.keyboard.press("Enter")
    editor = page.locator(GLIDE_EDITOR).first
    editor.wait_for(state="visible", timeout=5_000)
    editor.fill(text)
    editor.press("Tab")
    editor.wait_for(state="hidden", timeout=5_000)
    expect(cell(page, col, row, n)).to_have_text(text, timeout=5_000)


# -- the test ----------------------------------------------------------------------------------------
def test_fire_check_in_grid_clears_todo_and_moves_equipment(page, app, seeded):
    _, target = seeded

    # 1. the home page lists the equipment as due for its check
    open_page(page, app, "/")
    before = todo_items(page, target.area)
    assert target.todo_item in before
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "fire-home-before.png")

    # 2. add a 月检 row for it in the fire_checks grid and save
    page.set_viewport_size({"width": 1400, "height": 900})
    open_page(page, app, "/fire_checks")
    wait_grid(page)
    equip, on, kind, result, findings = (
        column(page, c) for c in ("消防器材", "日期", "类别", "结果", "情况说明"))
    add_row(page)
    new = new_row(page)

    assert [on, kind, result, findings] == [equip + 1, equip + 2, equip + 3, equip + 4]
    select_last_row_cell(page, equip, new)
    since = len(page.wuye_sent)
    try:
        choose_in_cell(page, equip, new, target.label)
        date_in_cell(page, on, new, target.today)
        choose_in_cell(page, kind, new, "月检")
        choose_in_cell(page, result, new, "合格")
        text_in_cell(page, findings, new, FINDINGS)
    finally:
        page.screenshot(path=str(ARTIFACTS / "fire-check-entered.png"))
    wait_sent(page, FINDINGS, since)  # the edits reach Streamlit before the click reruns the app

    page.get_by_role("button", name="保存").click()
    saved = page.get_by_test_id("stAlert").filter(has_text="已保存")
    saved.wait_for()
    assert "新增 1 行" in saved.inner_text()
    assert exceptions(page) == []
    page.screenshot(path=str(ARTIFACTS / "fire-check-saved.png"))

    # 3. the home page no longer lists it
    open_page(page, app, "/")
    after = todo_items(page, target.area)
    assert not [t for t in after if t.startswith(target.todo_prefix)], target.todo_prefix
    assert set(before) - set(after) == {target.todo_item}
    full_page_screenshot(page, ARTIFACTS / "fire-home-after.png")

    # 4. the file: the check, the moved date, the audit of both
    with app.offline() as con:
        checks = con.execute(
            "SELECT id, kind, result, findings FROM fire_checks "
            "WHERE fire_equipment_id = ? AND checked_on = ? AND deleted_at IS NULL",
            [target.id, target.today],
        ).fetchall()
        assert len(checks) == 1, checks
        check_id, kind_saved, result_saved, findings_saved = checks[0]
        assert (kind_saved, result_saved, findings_saved) == ("月检", "合格", FINDINGS)
        last_checked, = con.execute(
            "SELECT last_checked_on FROM fire_equipment WHERE id = ?", [target.id]).fetchone()
        assert last_checked == target.today
        inserted = con.execute(
            "SELECT change_id, source, new_values FROM audit_log "
            "WHERE register = 'fire_checks' AND action = '新增' AND row_id = ?", [check_id]
        ).fetchall()
        assert len(inserted) == 1, inserted
        change_id, source, new_values = inserted[0]
        assert source == "网格"
        assert json.loads(new_values)["kind"] == "月检"
        moved = con.execute(
            "SELECT old_values, new_values, note FROM audit_log "
            "WHERE register = 'fire_equipment' AND action = '修改' AND row_id = ? AND change_id = ?",
            [target.id, change_id],
        ).fetchall()
        assert len(moved) == 1, moved
        old_values, new_values, note = moved[0]
        assert json.loads(new_values)["last_checked_on"] == target.today.isoformat()
        assert json.loads(old_values)["last_checked_on"] != target.today.isoformat()
        assert note == "由消防检测记录自动更新"
