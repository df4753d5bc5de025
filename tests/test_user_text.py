"""User text is shown as text, never as Markdown or HTML (issue #20, finding 7).

A 备注 was rendered as Markdown on 一户一档, so anyone could plant links and external images (a
beacon firing for every viewer). Here links, images, raw HTML and emphasis are planted in every
free-text field the pages show (house 备注, owner and staff names, the 小区 name, work order and
complaint descriptions and locations), the pages are rendered under AppTest, and no element that
Streamlit renders as Markdown holds them unescaped — while the text itself is still shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apptest import app_test
from browser import (  # noqa: F401  (chromium and page are fixtures)
    exceptions,
    needs_chromium,
    open_page,
    running_app,
    wait_app_idle,
)
from saving import add

from app.access.permissions import Actor
from app.settings import ensure_defaults
from app.storage.db import open_database
from app.ui.text import md

LINK = "[点此领奖](http://evil.example/x)"
IMAGE = "![](http://evil.example/b.png)"
HTML = "<img src=http://evil.example/c.png>"
EMPHASIS = "**粗体**_斜体_"
PLANTED = f"{LINK}{IMAGE}{HTML}{EMPHASIS}"
# what must never reach a Markdown element as is
RAW = ["http://evil.example", "](", "<img", "**粗体**", "_斜体_"]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    path = tmp_path_factory.mktemp("user-text") / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="花园" + PLANTED)
    dept = add(db, actor, "departments", name="工程部")
    worker = add(db, actor, "staff", name="李工" + LINK, department_id=dept, community_id=sun)
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50", note="备注" + PLANTED)
    add(db, actor, "owners", household_id=home, name="张伟" + IMAGE, role="业主")
    db.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("WUYE_DB", str(path))
    from app.ui import session

    session._database.clear()
    yield {"home": home, "worker": worker}
    session._database.clear()
    mp.undo()


def markdown_sources(at) -> list[str]:
    """The text of every element Streamlit renders as Markdown (bodies, labels, metric values)."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        out += [e.value for e in getattr(at, kind)]
    for m in at.metric:
        out += [m.label, m.value]
    out += [e.label for e in at.expander]
    out += [e.label for e in at.tabs]
    for kind in ("selectbox", "text_input", "text_area", "checkbox", "radio", "button", "number_input"):
        out += [e.label for e in getattr(at, kind)]
    return [str(s) for s in out if s]


def assert_nothing_planted(at) -> list[str]:
    assert not at.exception, at.exception
    sources = markdown_sources(at)
    for source in sources:
        bare = re.sub(r"\\.", "§", source)  # a backslash-escaped mark is text in CommonMark
        for raw in RAW:
            assert raw not in bare, f"unescaped {raw!r} in Markdown: {source!r}"
    return sources


def test_household_file_shows_notes_and_names_as_text(estate):
    at = app_test("pages/household.py", query={"id": str(estate["home"])}).run()
    sources = assert_nothing_planted(at)
    # the 备注 and the 小区 name are there, escaped (CommonMark shows them as typed)
    assert any(md("备注" + PLANTED) in s for s in sources)
    assert any(md("花园" + PLANTED) in s for s in sources)


def test_home_page_shows_the_community_name_as_text(estate):
    at = app_test("pages/home.py").run()
    sources = assert_nothing_planted(at)
    assert any(md("花园" + PLANTED) in s for s in sources)


def test_work_order_description_and_assignee_are_text(estate):
    at = app_test("pages/service_desk.py").run()
    at.selectbox(key="intake-household").set_value(estate["home"])
    at.text_area(key="intake-description").input("漏水" + PLANTED)
    at.selectbox(key="intake-assignee").set_value(estate["worker"])
    at.button[0].click().run()
    sources = assert_nothing_planted(at)
    assert any(md("漏水" + PLANTED) in s for s in sources)
    assert any(md("李工" + LINK) in s for s in sources)


def test_complaint_text_and_responsible_are_text(estate):
    at = app_test("pages/service_complaints.py").run()
    at.selectbox(key="complaint-category").set_value("噪音")
    at.text_input(key="complaint-location").input("3幢" + HTML)
    at.selectbox(key="complaint-responsible").set_value(estate["worker"])
    at.text_area(key="complaint-description").input("噪音" + PLANTED)
    at.button[0].click().run()
    sources = assert_nothing_planted(at)
    assert any(md("李工" + LINK) in s for s in sources)


def test_a_refusal_quoting_input_is_escaped(estate):
    """Save path messages quote what was typed (「…」): that text is escaped too."""
    at = app_test("pages/cashier.py").run()
    assert not at.exception, at.exception
    refusal = md(f"收款金额「{PLANTED}」不是数字。")
    assert not any(raw in re.sub(r"\\.", "§", refusal) for raw in RAW)
    # what md() leaves alone reads the same, what would start a block is escaped
    assert md("3-2-1201 建筑面积(㎡) 89.50") == "3-2-1201 建筑面积(㎡) 89.50"
    assert md("- 1. www.evil.example a@b.cn http://x") == \
        "\\- 1. www\u200b\\.evil.example a\\@\u200bb.cn http\\:\u200b//x"  # no autolink either
    assert md("1. 第一") == "1\\. 第一" and md("多行\n文字") == "多行 文字"


# -- in a real browser: no request leaves for the planted host ------------------------------------
ARTIFACTS = Path(__file__).parent / "artifacts"
SERVER_LOG = ARTIFACTS / "server-user-text.log"
BROWSER_IDS: dict[str, int] = {}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on its own DuckDB file (a server holds the file; the AppTest estate is another)."""
    path = tmp_path_factory.mktemp("user-text-browser") / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="花园" + PLANTED)
    BROWSER_IDS["home"] = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50",
                              note="备注" + PLANTED)
    add(db, actor, "owners", household_id=BROWSER_IDS["home"], name="张伟" + IMAGE, role="业主")
    BROWSER_IDS["fire"] = add(db, actor, "fire_equipment", equip_no="MH-01", community_id=sun, type="干粉灭火器",
                              location="大堂" + PLANTED, produced_on="2024-05-10")
    db.close()
    yield from running_app(path, SERVER_LOG)


@pytest.mark.browser
@needs_chromium
def test_no_request_leaves_for_a_planted_host_and_no_traceback_is_logged(page, app):
    page.set_default_timeout(60_000)  # signing in (argon2) on a busy machine
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    open_page(page, app, f"/household?id={BROWSER_IDS['home']}")
    # the 备注 is on the page as typed: brackets, parentheses and stars, no link, no image
    page.get_by_text("备注[点此领奖](http", exact=False).first.wait_for()
    # not even an autolink: GFM links http://… found in text whatever the escapes
    assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
    assert page.locator("strong", has_text="粗体").count() == 0
    # a record's details (the panel that logged ArrowInvalid) open without a traceback
    open_page(page, app, f"/fire_equipment?id={BROWSER_IDS['fire']}")
    page.get_by_role("tab", name="修改记录").wait_for()
    wait_app_idle(page)
    assert exceptions(page) == []
    assert not [url for url in asked if "evil.example" in url]
    log = SERVER_LOG.read_text()
    assert "Traceback" not in log and "ArrowInvalid" not in log, log[-2000:]
