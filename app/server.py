"""The web server `wuye serve` runs: Streamlit's app (app/streamlit_app.py) plus one route of ours.

A page script runs over the WebSocket and cannot send HTTP headers, and a cookie a page script
sets is one every script on the page can read. So the session cookie is set here, by the
server: after a sign-in (or a log-out) the page loads `/wuye/session.js?code=…`, a script
source of this origin (allowed by the proxy's `script-src 'self'`), and its answer carries
`Set-Cookie: wuye_session=…; HttpOnly; SameSite=Strict` (`Secure` under https). The code is
good once, for a minute, and names the token held for it in this process (app/ui/handoff.py).
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.storage.db import checkpoint_open_files
from app.ui import handoff

SESSION_MAX_AGE = 30 * 24 * 3600  # the cookie's life; the database ends idle sessions far sooner


def _https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    return peer in handoff.trusted_proxies() and request.headers.get("x-forwarded-proto") == "https"


async def session_script(request: Request) -> Response:
    """Trade a one-time code for the session cookie (or its removal); the body does nothing."""
    response = Response("/* wuye: session cookie set by the server */\n", media_type="text/javascript",
                        headers={"Cache-Control": "no-store"})
    found, token = handoff.redeem(request.query_params.get("code", ""))
    if not found:
        return response
    if token:
        response.set_cookie(handoff.COOKIE, token, max_age=SESSION_MAX_AGE, path="/", httponly=True,
                            samesite="strict", secure=_https(request))
    else:
        response.delete_cookie(handoff.COOKIE, path="/", httponly=True, samesite="strict",
                               secure=_https(request))
    return response


@asynccontextmanager
async def lifespan(_app):
    """At shutdown (SIGTERM, systemd stop, Ctrl+C): the DuckDB file holds every change, so a
    copy of the file alone, made after the stop, misses nothing."""
    yield
    checkpoint_open_files()


app = st.App("streamlit_app.py", routes=[Route(handoff.SCRIPT_PATH, session_script)], lifespan=lifespan)
