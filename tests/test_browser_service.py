"""Real-browser end-to-end: a repair from intake to 回访 on the desk, seen on the duty board and in the statistics.

On the demo file (whose orders end on 2026-09-30, so this month has none): register an urgent
order on /service_desk → the duty board counts one more open order → dispatch, arrive,
complete and visit it (score 5) → the duty board is back to its count, and the statistics page
shows this month's 1 order, arrived within 30 minutes (及时率 100.0%) and visited (回访率 100.0%).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    choose,
    exceptions,
    full_page_screenshot,
    needs_chromium,
    open_page,
    running_app,
    sign_in,
    wait_app_idle,
)

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]

ARTIFACTS = Path(__file__).parent / "artifacts"
PLACE = "浏览器测试：2幢电梯"


@pytest.fixture(scope="module")
def seeded(copy_demo):
    """The demo file and its open orders in community 1 (the desk's first community), before the server opens it."""
    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    path = copy_demo("browser-service")
    db = open_database(str(path))
    try:
        ensure_defaults(db, Actor("测试", source="任务"))
        open_orders = db.scalar("SELECT count(*) FROM work_orders WHERE deleted_at IS NULL "
                                "AND status IN ('待派工', '已派工', '处理中', '暂停')")
        this_month = db.scalar("SELECT count(*) FROM work_orders WHERE strftime(reported_at, '%Y-%m') = ?",
                               [f"{db.now():%Y-%m}"])
    finally:
        db.close()
    assert this_month == 0
    return path, open_orders


@pytest.fixture(scope="module")
def app(seeded):
    yield from running_app(seeded[0], ARTIFACTS / "server-service.log")


def visit(page, app, path: str) -> None:
    """open_page, and sign in when the login form was still drawing as open_page looked for it."""
    open_page(page, app, path)
    if page.get_by_text("请用管理员为您开设的用户名和密码登录").count():
        page.get_by_role("button", name="登录", exact=True).wait_for()
        sign_in(page)
        open_page(page, app, path)


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def click_and_wait(page, button: str, message: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    try:
        page.get_by_test_id("stAlert").filter(has_text=message).wait_for()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "service-failed.png"))
        raise AssertionError(f"after {button}: {page.get_by_test_id('stAlert').all_inner_texts()}") from None
    wait_app_idle(page)
    assert exceptions(page) == []


def test_repair_from_intake_to_visit_shows_on_duty_board_and_statistics(page, app, seeded):
    _, open_orders = seeded

    # 1. intake: an urgent order for a public place, number given at once
    visit(page, app, "/service_desk")
    page.get_by_label("报修位置").fill(PLACE)
    choose(page, "紧急程度", "紧急")
    page.get_by_label("报修内容").fill("电梯停在两层之间")
    page.get_by_role("button", name="登记报修").click()
    done = page.get_by_test_id("stAlert").filter(has_text="已登记，报修单号")
    done.wait_for()
    number = re.search(r"BX-\d{8}-\d{3}", done.inner_text())[0]
    wait_app_idle(page)
    assert metric(page, "状态") == "待派工"
    full_page_screenshot(page, ARTIFACTS / "service-intake.png")

    # 2. the duty board counts it
    page.set_viewport_size({"width": 1400, "height": 900})
    visit(page, app, "/duty_board")
    assert metric(page, "未办结") == str(open_orders + 1)
    assert exceptions(page) == []

    # 3. back on the desk: dispatch (first worker offered), arrive, complete, visit
    visit(page, app, "/service_desk")
    choose(page, "报修单（下表未办结的按紧急程度在前）", number)
    click_and_wait(page, "派工", "已派工给")
    assert metric(page, "状态") == "已派工"
    click_and_wait(page, "到场，开始处理", "已记录到场时间")
    page.get_by_label("维修报告（故障原因、处理过程、更换材料）").fill("复位控制柜，电梯恢复运行")
    click_and_wait(page, "完成", "已完成")
    assert metric(page, "状态") == "已完成"
    click_and_wait(page, "登记回访", "已登记回访（5 分）")
    assert metric(page, "状态") == "已回访"
    full_page_screenshot(page, ARTIFACTS / "service-visited.png")

    # 4. off the duty board, counted in this month's statistics
    page.set_viewport_size({"width": 1400, "height": 900})
    visit(page, app, "/duty_board")
    assert metric(page, "未办结") == str(open_orders)
    visit(page, app, "/service_report")
    assert (metric(page, "本月报修单"), metric(page, "本月及时率"), metric(page, "本月回访率"),
            metric(page, "本月满意度")) == ("1", "100.0%", "100.0%", "5.00")
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "service-report.png")
