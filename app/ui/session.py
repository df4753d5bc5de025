"""Per-process database and per-session signed-in user for the Streamlit pages.

The session token lives in `st.session_state` and in the browser's cookie `wuye_session` (so a
reload or a new tab stays signed in), which the server sets HttpOnly (app/server.py: no script on
the page can read it); the database decides whether it is still valid
(`app.accounts.auth.session_user`). A page run without a valid session shows nothing but a pointer to
the login page: `actor()` stops it.
"""

from __future__ import annotations

import ipaddress
import time

import streamlit as st

from app.access.permissions import Actor
from app.accounts import auth
from app.admin.backup import attach_to_app
from app.saving.derived import open_for_app
from app.storage.db import Database, DatabaseBusy, database_url
from app.ui import handoff

CURRENT_PAGE = "_wuye_page"
TOKEN = "_wuye_token"
_SIGNED = "_wuye_signed"  # (checked at, SignedIn): the last check, reused for a few seconds
COOKIE = handoff.COOKIE
_COOKIE_ASKED = "_wuye_cookie_asked"  # the token the cookie was last set to from here
RECHECK_SECONDS = 5.0


@st.cache_resource(show_spinner=False)
def _database(url: str) -> Database:
    database = open_for_app(url)
    attach_to_app(database)  # daily backup; backups before imports and bill runs
    return database


def db() -> Database:
    try:
        return _database(database_url())
    except DatabaseBusy as err:
        st.error(str(err))
        st.stop()


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser context (AppTest)
        return None
    return value if isinstance(value, str) and value else None


def _trusted_proxies() -> set[str]:
    return handoff.trusted_proxies()


def client_address() -> str:
    """The address a sign-in comes from, for the throttle (app.accounts.login_throttle).

    The peer of the WebSocket, as Streamlit sees it (it reports a local peer as None). Only
    when that peer is a configured trusted proxy (WUYE_TRUSTED_PROXIES, e.g. 127.0.0.1 for the
    README's nginx or Caddy on the same machine) is X-Forwarded-For believed: its last entry,
    the one that proxy wrote itself, is the client. '' when there is no browser (AppTest).
    """
    try:
        peer = st.context.ip_address or "127.0.0.1"
        headers = st.context.headers
    except Exception:  # no browser context
        return ""
    if not isinstance(peer, str):  # AppTest's stand-in context
        return ""
    if peer in _trusted_proxies():
        forwarded = [a.strip() for a in (headers.get("X-Forwarded-For") or "").split(",") if a.strip()]
        if forwarded:
            try:
                return str(ipaddress.ip_address(forwarded[-1]))
            except ValueError:
                return forwarded[-1][:64]
    return peer


def signed_in() -> auth.SignedIn | None:
    """The signed-in user of this browser session, or None."""
    token = st.session_state.get(TOKEN) or _cookie_token()
    if not token:
        return None
    cached = st.session_state.get(_SIGNED)
    if cached and cached[1].token == token and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached[1]
    found = auth.session_user(db(), token)
    if found is None:
        st.session_state.pop(TOKEN, None)
        st.session_state.pop(_SIGNED, None)
        return None
    st.session_state[TOKEN] = token
    st.session_state[_SIGNED] = (time.monotonic(), found)
    return found


def remember(signed: auth.SignedIn) -> None:
    """After a sign-in: this session is signed in; the cookie follows on the next run."""
    st.session_state[TOKEN] = signed.token
    st.session_state[_SIGNED] = (time.monotonic(), signed)


def refresh() -> None:
    """Read the signed-in user again on the next check (after a password or role change)."""
    st.session_state.pop(_SIGNED, None)


def forget() -> None:
    """Log out: end the session in the database and here; the cookie is cleared on the next run."""
    auth.sign_out(db(), st.session_state.get(TOKEN) or _cookie_token())
    st.session_state.pop(TOKEN, None)
    st.session_state.pop(_SIGNED, None)


def sync_cookie() -> None:
    """Make the browser's cookie match this session (set after sign-in, cleared after log-out).

    The page loads the server's cookie route with a one-time code (app/server.py); the cookie it
    sets is HttpOnly. A WebSocket session sees the cookies it was opened with, so what was asked
    for is remembered here rather than asked for again on every run.
    """
    token = st.session_state.get(TOKEN)
    if token == st.session_state.get(_COOKIE_ASKED, _cookie_token()):
        return
    st.session_state[_COOKIE_ASKED] = token
    st.html(f'<script src="{handoff.SCRIPT_PATH}?code={handoff.issue(token)}"></script>',
            unsafe_allow_javascript=True)


def actor() -> Actor:
    """The signed-in user's actor; without one the page stops here."""
    who = signed_in()
    if who is None:
        st.warning("请先登录：打开应用首页，用您的用户名和密码登录。")
        st.stop()
    return who.actor


def current_page() -> str:
    return st.session_state.get(CURRENT_PAGE, "")
