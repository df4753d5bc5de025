"""Real browser: the home dashboard and the 一户一档 page on the demo file, with screenshots.

The household is the demo's household with the most timeline events (bills, receipts, repairs,
survey forms…); the page must show its 小区 and 房号, the 时间线 tab and no exception.
Screenshots: tests/artifacts/dashboard-home.png, household-file.png (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import (  # noqa: F401  (chromium and page are fixtures)
    exceptions,
    full_page_screenshot,
    needs_chromium,
    open_page,
    running_app,
)

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def seeded(copy_demo):
    from app.access.permissions import Actor
    from app.estate import household_file
    from app.storage.db import open_database

    path = copy_demo("browser-household")
    db = open_database(str(path))
    try:
        hid, community, code, _ = db.rows(
            "SELECT t.household_id, c.name, h.code, count(*) AS n FROM v_household_timeline t "
            "JOIN households h ON h.id = t.household_id JOIN communities c ON c.id = h.community_id "
            "GROUP BY ALL ORDER BY n DESC, t.household_id LIMIT 1")[0]
        # the page's timeline adds the registers found from the definitions and the audit log
        events = len(household_file.timeline(db, Actor("admin"), hid, db.now().date()))
    finally:
        db.close()
    return path, {"id": hid, "title": f"{community} {code}", "events": events}


@pytest.fixture(scope="module")
def app(seeded):
    yield from running_app(seeded[0], ARTIFACTS / "server-household.log")


def test_dashboard_and_household_file_render_in_a_browser(page, app, seeded):
    _, target = seeded
    open_page(page, app, "/")
    page.get_by_test_id("stMetricLabel").filter(has_text="收费率").first.wait_for()
    page.get_by_role("heading", name="今日待办").wait_for()
    page.locator('[data-testid="stVegaLiteChart"], .vega-embed').first.wait_for()
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "dashboard-home.png")

    page.set_viewport_size({"width": 1400, "height": 900})
    open_page(page, app, f"/household?id={target['id']}")
    page.get_by_role("heading", name=target["title"]).wait_for()
    page.get_by_role("tab", name=f"时间线（{target['events']}）").wait_for()
    page.get_by_text("导出一户一档", exact=False).wait_for()
    assert exceptions(page) == []
    full_page_screenshot(page, ARTIFACTS / "household-file.png")
