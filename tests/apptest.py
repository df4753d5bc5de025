"""One way for tests to open a page under Streamlit's AppTest, as a signed-in office user.

Every AppTest in the suite goes through `app_test`, so the sign-in a test needs lives here
and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.ui.session import CURRENT_PAGE

ROOT = Path(__file__).resolve().parents[1]


def app_test(path: str, current: str | None = None, *, query: dict[str, str] | None = None,
             role: str = "管理员", user: str = "测试管理员") -> AppTest:
    """An AppTest of `path` (relative to the project root), not yet run.

    `current` is the router's url path (register or area page); `query` the URL's query
    parameters; `role`/`user` the signed-in office user the page sees.
    """
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    if current is not None:
        at.session_state[CURRENT_PAGE] = current
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.session_state["_wuye_user"] = user
    at.session_state["_wuye_role"] = role
    return at
