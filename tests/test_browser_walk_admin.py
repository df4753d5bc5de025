"""A walk through every page of the app in a real browser, per role (issue 21, item 8).

Signed in as the administrator here (test_browser_walk_office.py and _field.py walk the demo
roles), each page is opened as a click in the menu opens it, on the demo: it must show no
Streamlit exception, none of Streamlit's or Python's English (browser.ENGLISH_UI), no None in a
grid, and no page may fetch anything from another host. Screenshots:
tests/artifacts/walk/<role>/<page>.png. The files run side by side under pytest-xdist.
"""

from __future__ import annotations

import pytest
from browser import BROWSER_PASSWORD, BROWSER_USER, needs_chromium, walk_app, walk_menu

from app.access.permissions import ADMIN
from app.ui import nav

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def app(copy_demo):
    yield from walk_app(copy_demo, "walk-admin")


def test_every_page_reads_clean_for_the_administrator(chromium, app):
    walk = walk_menu(chromium, app, ADMIN, BROWSER_USER, BROWSER_PASSWORD)
    print(walk.summary())
    assert len(walk.seconds) == sum(len(items) for items in nav.menu(ADMIN).values())
    assert not walk.findings, "\n".join(walk.findings)
