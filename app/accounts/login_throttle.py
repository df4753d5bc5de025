"""Throttling sign-in attempts: growing delays by user name and by client, never a lock-out.

Every attempt is a row of `login_attempts` (sql/migrations/080_login_attempts.sql). After
`office.login_attempts` [5] failures for a user name, each further try must wait BASE_SECONDS,
doubling with every failure, up to `office.lockout_minutes` [15]; the same holds after
CLIENT_FREE failures from one client within CLIENT_WINDOW, whatever names it tried. Attempts
made while waiting are refused without checking the password and are not counted, so nobody
can push the wait beyond the cap.

The client a user has signed in from before (within KNOWN_CLIENT_DAYS) is that user's own: there
only the failures for that name from that client count. Failures from other machines, or other
names tried on a shared machine, can then not keep an administrator out of their own PC; an
attacker elsewhere still meets the delays. A success or `wuye user unlock` clears a name's
failures (unlock also those of the clients that tried it).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from app.settings import value
from app.storage.db import Database

BASE_SECONDS = 30
DEFAULT_FREE = 5
DEFAULT_CAP_MINUTES = 15
NAME_WINDOW = timedelta(hours=24)
CLIENT_FREE = 10
CLIENT_WINDOW = timedelta(hours=1)
KNOWN_CLIENT_DAYS = 90
KEEP_DAYS = 180  # older attempts are deleted at a successful sign-in


def key(name: str | None) -> str:
    """The name attempts are counted under: trimmed, without case (as users are looked up)."""
    return (name or "").strip().lower()


def _setting(db: Database, name: str, default: int) -> int:
    try:
        found = value(db, name)
        return int(found) if found not in (None, "") else default
    except (ValueError, TypeError):
        return default
    except Exception:  # settings macros not created (a bare database)
        return default


def delay(failures: int, free: int, cap_seconds: float) -> float:
    """Seconds to wait after the last of `failures`: none up to `free`, then doubling, capped."""
    if failures < free:
        return 0.0
    return float(min(BASE_SECONDS * 2 ** min(failures - free, 30), cap_seconds))


def known_client(db: Database, user_id: int | None, client: str, now: datetime) -> bool:
    """Has this user signed in from this client within KNOWN_CLIENT_DAYS?"""
    found = db.scalar(
        "SELECT count(*) FROM login_attempts WHERE user_id = ? AND client = ? AND ok AND attempted_at > ?",
        [-1 if user_id is None else user_id, client, now - timedelta(days=KNOWN_CLIENT_DAYS)])
    return bool(found)


def wait_seconds(db: Database, name: str, client: str, user_id: int | None,
                 now: datetime) -> int:
    """Whole seconds this client must wait before trying `name` again; 0: it may try now."""
    free = _setting(db, "office.login_attempts", DEFAULT_FREE)
    cap = 60 * _setting(db, "office.lockout_minutes", DEFAULT_CAP_MINUTES)
    own = known_client(db, user_id, client, now)  # always asked: the same work for unknown names
    sql = ("SELECT count(*), max(attempted_at) FROM login_attempts WHERE name = ? AND NOT ok "
           "AND cleared_at IS NULL AND attempted_at > ?")
    params: list = [key(name), now - NAME_WINDOW]
    if own:
        sql += " AND client = ?"
        params.append(client)
    counts = [(*db.rows(sql, params)[0], free)]
    if not own:
        counts.append((*db.rows(
            "SELECT count(*), max(attempted_at) FROM login_attempts WHERE client = ? AND NOT ok "
            "AND cleared_at IS NULL AND attempted_at > ?", [client, now - CLIENT_WINDOW])[0], CLIENT_FREE))
    until = now
    for failures, last, allowed in counts:
        if failures and last is not None:
            until = max(until, last + timedelta(seconds=delay(failures, allowed, cap)))
    return math.ceil((until - now).total_seconds())


def record(db: Database, cur, name: str, user_id: int | None, client: str, ok: bool,
           now: datetime) -> None:
    """One attempt, in the caller's transaction; a success clears the name's failures."""
    (attempt_id,) = db.allocate_ids(cur, "login_attempts", 1)
    cur.execute("INSERT INTO login_attempts (id, attempted_at, name, user_id, client, ok) VALUES (?, ?, ?, ?, ?, ?)",
                [attempt_id, now, key(name), user_id, client, ok])
    if ok:
        cur.execute("UPDATE login_attempts SET cleared_at = ? WHERE name = ? AND NOT ok "
                    "AND cleared_at IS NULL", [now, key(name)])
        cur.execute("DELETE FROM login_attempts WHERE attempted_at < ?", [now - timedelta(days=KEEP_DAYS)])


def clear(db: Database, cur, name: str, now: datetime) -> None:
    """Unlock: the name's failures, and those of every client that tried it, stop counting."""
    cur.execute(
        "UPDATE login_attempts SET cleared_at = ? WHERE NOT ok AND cleared_at IS NULL AND "
        "(name = ? OR client IN (SELECT client FROM login_attempts WHERE name = ? AND NOT ok))",
        [now, key(name), key(name)])


def failures_since(db: Database, name: str, since: datetime | None) -> int:
    """Failed attempts for `name` after its last sign-in (`since`), cleared ones included.

    Moments are kept to the second, so "after" is decided by the attempts' ids (allocated in
    order): a failure in the same second as the sign-in still counts when it came after it."""
    return db.scalar(
        "SELECT count(*) FROM login_attempts WHERE name = ? AND NOT ok AND attempted_at >= ? AND id > "
        "coalesce((SELECT max(id) FROM login_attempts WHERE name = ? AND ok), 0)",
        [key(name), since or datetime(1970, 1, 1), key(name)]) or 0


def recent_failures(db: Database, limit: int = 200) -> list[dict]:
    """The latest failed attempts, newest first: when, which name, known user or not, client."""
    names = ["attempted_at", "name", "user_id", "client", "cleared_at"]
    rows = db.rows("SELECT " + ", ".join(names) + " FROM login_attempts WHERE NOT ok "
                   "ORDER BY attempted_at DESC, id DESC LIMIT ?", [limit])
    return [dict(zip(names, r)) for r in rows]
