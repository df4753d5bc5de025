"""Real-browser end-to-end of the check-and-fix loop on the 清洁消杀 page (/checks-cleaning).

A small hand-built DuckDB file: one 小区, 张主管 (responsible for a weekly 楼道保洁 plan started ten
days ago and never inspected, so it is overdue) and 李经理. In the browser: the home page's
今日待办 lists the plan; on the area page record a 不合格 check → the plan item goes and a
rectification item (限 … 前整改) appears in 本区域待办; mark it done → 已整改待验证; verifying it
as 张主管 himself is refused; as 李经理 it is verified and the area's to-do list is empty; the
home page's 今日待办 no longer has a 检查与整改 row. The file then holds the inspection, the
rectification (已验证 by 李经理) and its audit rows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    choose,
    column,
    exceptions,
    full_page_screenshot,
    grid,
    needs_chromium,
    open_page,
    open_todo,
    running_app,
    wait_app_idle,
    wait_grid,
)
from playwright.sync_api import expect

from app.save_rules.checks import SAME_PERSON

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"
FINDINGS = "浏览器测试：3幢楼道有垃圾"
PLAN_ITEM = "检查计划 清洁消杀·楼道保洁（每 7 天，抽查）从未检查，到期检查"


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    path = tmp_path_factory.mktemp("browser-checks") / "wuye.duckdb"
    db = open_database(str(path))
    actor = Actor("测试", source="任务")
    try:
        ensure_defaults(db, actor)

        def add(register, **values):
            return apply_changes(db, actor, register, [RowChange("insert", values=values)]).inserted[0]

        today = db.now().date()
        community = add("communities", name="阳光花园")
        department = add("departments", name="环境部")
        zhang = add("staff", name="张主管", department_id=department, community_id=community)
        li = add("staff", name="李经理", department_id=department, community_id=community)
        plan = add("inspection_plans", community_id=community, area="清洁消杀", item="楼道保洁", frequency_days=7,
                   method="抽查", responsible_id=zhang, starts_on=today - timedelta(days=10))
        todo = db.rows("SELECT item FROM v_todo WHERE area = '检查与整改'")
    finally:
        db.close()
    # started 10 days ago, every 7 days: due 3 days ago
    assert todo == [(PLAN_ITEM + "，已逾期 3 天",)]
    return path, {"zhang": zhang, "li": li, "plan": plan, "today": today}


@pytest.fixture(scope="module")
def app(estate):
    yield from running_app(estate[0], ARTIFACTS / "server-checks.log")


def home_todo(page) -> tuple[int, list[str]]:
    """The home page's 今日待办 count (its tile) and the 事项 of its grid (a few rows, all in view)."""
    tile = page.get_by_test_id("stMetric").filter(has_text="今日待办").first
    count = int(tile.get_by_test_id("stMetricValue").inner_text().strip())
    if not count:
        return 0, []
    items = []
    for n in open_todo(page):  # one grid per area, a few rows each, all in view
        col = column(page, "事项", n)
        cells = grid(page, n).locator(f'td[aria-colindex="{col}"][data-testid^="glide-cell-"]')
        items += [t.strip() for t in cells.all_inner_texts()]
    return count, items


def area_todo(page) -> str:
    """The text of 本区域待办 (a static table, or the all-clear message)."""
    wait_app_idle(page)
    table = page.get_by_test_id("stTable")
    table.or_(page.get_by_text("没有到期的检查或未完成的整改")).first.wait_for()
    return table.first.inner_text() if table.count() else ""


def click_and_wait(page, button: str, message: str) -> None:
    page.get_by_role("button", name=button).click()
    page.get_by_test_id("stAlert").filter(has_text=message).first.wait_for()
    wait_app_idle(page)


def test_fail_fix_verify_changes_the_todo_list(page, app, estate):
    _, ids = estate

    # 1. the home page lists the overdue plan
    open_page(page, app, "/")
    count_before, items = home_todo(page)
    assert [t for t in items if "检查计划" in t or "整改（" in t] == [PLAN_ITEM + "，已逾期 3 天"], items

    # 2. the area page lists it too; record a failed check
    open_page(page, app, "/checks-cleaning")
    assert PLAN_ITEM in area_todo(page)
    page.get_by_test_id("stRadio").get_by_text("不合格").click()
    page.get_by_label("发现问题").fill(FINDINGS)
    expect(page.get_by_label("发现问题")).to_have_value(FINDINGS)  # in the form: submitted with it
    click_and_wait(page, "保存检查记录", "已自动立项整改")
    todo = area_todo(page)
    deadline = ids["today"] + timedelta(days=7)
    assert PLAN_ITEM not in todo  # inspected today: next due in 7 days
    assert f"整改（检查）清洁消杀检查不合格（楼道保洁）：{FINDINGS}，限 {deadline:%m-%d} 前整改" in todo
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "checks-failed.png")

    # 3. the responsible person reports it done
    page.get_by_label("整改措施").fill("已清理并复查")
    expect(page.get_by_label("整改措施")).to_have_value("已清理并复查")
    click_and_wait(page, "整改完成", "已标记为已整改")
    assert "已整改待验证" in area_todo(page)

    # 4. verifying one's own fix is refused; someone else verifies it
    choose(page, "验证人", "张主管")
    page.get_by_role("button", name="验证通过").click()
    page.get_by_test_id("stAlert").filter(has_text=SAME_PERSON).wait_for()
    wait_app_idle(page)
    assert "已整改待验证" in area_todo(page)
    choose(page, "验证人", "李经理")
    click_and_wait(page, "验证通过", "已验证")
    assert area_todo(page) == ""
    page.get_by_text("没有到期的检查或未完成的整改").wait_for()
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "checks-verified.png")

    # 5. the home page's to-do list has no 检查与整改 row left
    open_page(page, app, "/")
    count_after, items = home_todo(page)
    assert count_after == count_before - 1
    assert not [t for t in items if "检查计划" in t or "整改（" in t], items

    # 6. the file
    with app.offline() as con:
        inspections = con.execute(
            "SELECT id, result, findings FROM inspections WHERE plan_id = ? AND deleted_at IS NULL", [ids["plan"]]
        ).fetchall()
        assert [(r[1], r[2]) for r in inspections] == [("不合格", FINDINGS)]
        rect = con.execute(
            "SELECT source, source_id, responsible_id, verified_by_id, status, measures FROM rectifications"
        ).fetchall()
        assert rect == [("检查", inspections[0][0], ids["zhang"], ids["li"], "已验证", "已清理并复查")]
        actions = con.execute(
            "SELECT action, source FROM audit_log WHERE register = 'rectifications' ORDER BY id").fetchall()
        assert actions == [("新增", "网格"), ("修改", "网格"), ("修改", "网格")]
        # the office's today (a raw connection's current_date is in UTC)
        assert con.execute("SELECT count(*) FROM todo_as_of(?) WHERE area = '检查与整改'",
                           [ids["today"]]).fetchone()[0] == 0
