"""The menu in a real browser: one fold per section, the page finder, and nothing fetched from
another host (an office may have no internet)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser import open_page, running_app, wait_app_idle  # noqa: F401
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def app(copy_demo):
    yield from running_app(copy_demo("menu"), ARTIFACTS / "server-menu.log")


def test_pages_request_nothing_from_another_host(page, app):
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url)
            if urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None) else None)
    for path in ("/", "/cashier", "/households", "/import"):
        open_page(page, app, path)
        page.get_by_test_id("stMain").locator("h1").first.wait_for()
    assert elsewhere == []


def test_the_menu_folds_by_section_and_the_finder_jumps_to_a_page(page, app):
    open_page(page, app, "/")
    sidebar = page.get_by_test_id("stSidebar")
    common = sidebar.get_by_test_id("stExpander").filter(has_text="常用").first
    expect(common.get_by_role("link", name="用户管理")).to_be_visible()  # the administrator's working set
    fees = sidebar.get_by_test_id("stExpander").filter(has_text="收费管理").first
    expect(fees.get_by_role("link", name="收银台")).to_be_hidden()  # folded until opened
    height = page.get_by_test_id("stSidebarContent").evaluate("e => e.scrollHeight")
    assert height < 2000  # folded sections: ~1,400 px, where the unfolded menu was 4,600 px

    finder = sidebar.get_by_test_id("stSelectbox").filter(has=page.get_by_text("跳转到…", exact=True))
    finder.click()
    page.keyboard.type("收银台")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cashier")
    wait_app_idle(page)
    expect(page.get_by_test_id("stMain").locator("h1").first).to_contain_text("收银台")
    fees = sidebar.get_by_test_id("stExpander").filter(has_text="收费管理").first
    expect(fees.get_by_role("link", name="收银台")).to_be_visible()  # the current section is open


def test_the_session_cookie_is_set_by_the_server_and_hidden_from_scripts(chromium, app):
    from browser import sign_in, wait_for_session_cookie

    context = chromium.new_context(locale="zh-CN")
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(app.url + "/")
        page.get_by_role("button", name="登录", exact=True).wait_for()
        sign_in(page)
        cookie = wait_for_session_cookie(page)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert "wuye_session" not in page.evaluate("document.cookie")
        page.reload()  # the cookie signs the new page run in
        page.get_by_role("button", name="退出登录").wait_for()
        page.get_by_role("button", name="退出登录").click()
        page.get_by_role("button", name="登录", exact=True).wait_for()
        deadline = 60
        while any(c["name"] == "wuye_session" for c in context.cookies()) and deadline:
            page.wait_for_timeout(500)  # the server removes the cookie on the next page run
            deadline -= 1
        assert not any(c["name"] == "wuye_session" for c in context.cookies())
        page.reload()
        page.get_by_role("button", name="登录", exact=True).wait_for()  # signed out for good
    finally:
        context.close()
