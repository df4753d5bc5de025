"""One-time codes that hand a session token from a page run to the cookie route (app/server.py).

The page and the route run in the same server process, so a code lives here, in memory, for a
minute, and is good once: a code seen in the page's HTML cannot be replayed later, and the
token itself never appears where a script could read it.
"""

from __future__ import annotations

import os
import secrets
import threading
import time

COOKIE = "wuye_session"
SCRIPT_PATH = "/wuye/session.js"
TRUSTED_PROXIES = "WUYE_TRUSTED_PROXIES"  # addresses of reverse proxies whose headers count
LIFETIME_SECONDS = 60.0

_codes: dict[str, tuple[str | None, float]] = {}
_lock = threading.Lock()


def issue(token: str | None) -> str:
    """A code for setting the cookie to `token` (None: removing it)."""
    code = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old in [c for c, (_, at) in _codes.items() if now - at > LIFETIME_SECONDS]:
            del _codes[old]
        _codes[code] = (token, now)
    return code


def redeem(code: str) -> tuple[bool, str | None]:
    """(found, token) for a code, which is spent by this call."""
    with _lock:
        held = _codes.pop(code, None)
    if held is None or time.monotonic() - held[1] > LIFETIME_SECONDS:
        return False, None
    return True, held[0]


def trusted_proxies() -> set[str]:
    return {a.strip() for a in os.environ.get(TRUSTED_PROXIES, "").replace(";", ",").split(",") if a.strip()}
