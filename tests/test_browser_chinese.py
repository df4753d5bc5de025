"""Real browser: the file uploader reads in Chinese (Streamlit has no parameter for its words)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import exceptions, launch_chromium, needs_chromium, open_page, start_app

pytestmark = [pytest.mark.browser, needs_chromium]

ARTIFACTS = Path(__file__).parent / "artifacts"

SHOWN = """el => { const s = getComputedStyle(el), after = getComputedStyle(el, '::after');
                   return [s.fontSize, after.content, after.fontSize]; }"""


def test_the_file_uploader_says_choose_file_in_chinese(tmp_path):
    from playwright.sync_api import sync_playwright

    from app.storage.db import open_database

    db_path = tmp_path / "wuye.duckdb"
    open_database(str(db_path)).close()
    server = start_app(db_path, ARTIFACTS / "chinese-uploader-server.log")
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
            page.set_default_timeout(60_000)
            open_page(page, server, "/import")
            zone = page.get_by_test_id("stFileUploaderDropzone")
            zone.wait_for()
            button = zone.locator("button [data-testid='stMarkdownContainer'] p")
            instructions = page.get_by_test_id("stFileUploaderDropzoneInstructions").locator("span").first
            # Streamlit's English is there, at size 0; the Chinese is drawn after it at a readable size
            assert button.inner_text() == "Upload"
            assert button.evaluate(SHOWN) == ["0px", '"选择文件"', "14px"]
            assert instructions.evaluate(SHOWN)[:2] == ["0px", '"或把文件拖到这里"']
            assert zone.bounding_box()["height"] > 40  # the zone still shows
            zone.screenshot(path=str(ARTIFACTS / "chinese-uploader.png"))
            assert exceptions(page) == []
            browser.close()
    finally:
        server.stop()
