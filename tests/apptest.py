"""One way for tests to open a page under Streamlit's AppTest, as a signed-in office user.

Every AppTest in the suite goes through `app_test`, so the sign-in a test needs lives here
and nowhere else: the user is created in the page's database (WUYE_DB) if absent, signed in
with their password through `app.accounts.auth.sign_in`, and the session's token put where the
browser's cookie would bring it (`st.session_state`).
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.access.permissions import cli_actor
from app.accounts import auth
from app.ui import session
from app.ui.session import CURRENT_PAGE

ROOT = Path(__file__).resolve().parents[1]
TEST_PASSWORD = "test-pass-2026"
_sessions: dict[tuple[str, str], str] = {}  # (database, user) -> session token


def sign_in_as(user: str, role: str, communities: tuple[int, ...] | None = None) -> auth.SignedIn:
    """A real session of `user` (created with `role` if absent) in the database pages open."""
    from app.storage.db import database_url

    db = session._database(database_url())
    cached = _sessions.get((db.url, user))
    signed = auth.session_user(db, cached) if cached else None
    if signed is not None and (signed.role, signed.communities) == (role, communities):
        return signed  # a password check costs argon2's time: one per user and database
    found = auth._user(db, user)
    if found is None:
        auth.add_user(db, cli_actor(), user, TEST_PASSWORD, role, communities=communities, audit=False)
    elif (found["role"], auth.parse_communities(found["communities"])) != (role, communities):
        auth.update_user(db, cli_actor(), found["id"], role=role, communities=communities)
    signed = auth.sign_in(db, user, TEST_PASSWORD)
    _sessions[(db.url, user)] = signed.token
    return signed


def app_test(path: str, current: str | None = None, *, query: dict[str, str] | None = None,
             role: str = "管理员", user: str = "测试管理员", signed_in: bool = True) -> AppTest:
    """An AppTest of `path` (relative to the project root), not yet run.

    `current` is the router's url path (register or area page); `query` the URL's query
    parameters; `role`/`user` the signed-in office user the page sees (`signed_in=False`:
    nobody is signed in).
    """
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    if current is not None:
        at.session_state[CURRENT_PAGE] = current
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if signed_in:
        at.session_state[session.TOKEN] = sign_in_as(user, role).token
    return at
