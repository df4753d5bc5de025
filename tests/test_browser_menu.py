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
