"""The walk of test_browser_walk_admin.py for the demo users of 维修, 保安, 业委会 (seed/users.py), each
signed in with its role: the pages of its menu (browser.walk_urls) must show no exception, no
English, no None in a grid, and fetch nothing from another host."""

from __future__ import annotations

import pytest
from browser import WALK_PASSWORD, needs_chromium, walk_app, walk_menu, walk_urls

from seed.users import DEMO_USERS

pytestmark = [pytest.mark.browser, needs_chromium]

ROLES = ("维修", "保安", "业委会")


@pytest.fixture(scope="module")
def app(copy_demo):
    yield from walk_app(copy_demo, "walk-field")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_menu_reads_clean(chromium, app, role):
    user = next(name for name, r in DEMO_USERS if r == role)
    urls = walk_urls(role)
    walk = walk_menu(chromium, app, role, user, WALK_PASSWORD, urls)
    print(walk.summary())
    assert len(walk.seconds) == len(urls)
    assert not walk.findings, "\n".join(walk.findings)
