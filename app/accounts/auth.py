"""Users, passwords and sessions: who is signed in, and the actor their role gives them.

Passwords are argon2id hashes (argon2-cffi); no password is stored, logged or audited in
clear. A session is a random token the tab keeps (and a cookie, when no proxy is in front:
app.ui.session); the database keeps its SHA-256 and ends it at log-out, after
`office.session_idle_minutes` without use, after `SESSION_MAX_HOURS`, at a password change
and when the user is disabled. Wrong passwords slow further tries down (growing delays by user
name and by client, `app.accounts.login_throttle`) instead of locking the account; an unknown user name
gets the same answer in the same time. Every password set passes `app.accounts.password_policy`. User
changes are audited under the register `users`.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.access.permissions import (
    ADMIN,
    ROLES,
    Actor,
    actor_for_role,
    ensure_matrix,
    require_admin,
)
from app.accounts import login_throttle
from app.accounts.password_policy import MIN_LENGTH as MIN_PASSWORD_LENGTH  # noqa: F401  (pages show it)
from app.accounts.password_policy import PasswordRejected as PasswordRejected
from app.accounts.password_policy import check as check_password_rules
from app.settings import value
from app.storage.audit_log import write_audit
from app.storage.db import Database

USERS = "users"
SESSION_MAX_HOURS = 12
DEFAULT_IDLE_MINUTES = 30
TOUCH_SECONDS = 60  # last_seen_at is written at most this often
FIRST_ADMIN = "admin"
# Checking a password against this when the user does not exist costs the same time as a real check.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-password")
WRONG = "用户名或密码不正确"


class LoginFailed(Exception):
    """Sign-in refused; str() says why in words that do not tell whether the user exists."""


@dataclass(frozen=True)
class SignedIn:
    """A signed-in user: who, with what role and scope, and the actor services get."""

    user_id: int
    name: str
    role: str
    communities: tuple[int, ...] | None
    token: str
    must_change_password: bool
    actor: Actor
    failed_attempts: int = 0  # failed sign-ins for this name since the previous sign-in


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _setting(db: Database, key: str, default: int) -> int:
    try:
        found = value(db, key)
        return int(found) if found not in (None, "") else default
    except (ValueError, TypeError):
        return default
    except Exception:  # settings macros not created (a bare database)
        return default


def parse_communities(text: str | None) -> tuple[int, ...] | None:
    if text is None or str(text).strip() == "":
        return None
    return tuple(int(x) for x in str(text).replace("，", ",").split(",") if x.strip())


def _communities_text(communities) -> str | None:
    if communities is None:
        return None
    return ",".join(str(int(c)) for c in communities)


def _audit(db: Database, cur, actor: Actor, user_id: int, action: str, old: dict | None,
           new: dict | None, note: str | None = None) -> None:

    def dumped(d):
        return json.dumps(d, ensure_ascii=False, sort_keys=True) if d is not None else None

    write_audit(db, cur, actor, USERS, uuid.uuid4().hex, [(user_id, action, dumped(old), dumped(new))],
                note=note)


# -- users ---------------------------------------------------------------------------------
def user_count(db: Database) -> int:
    return db.scalar("SELECT count(*) FROM users") or 0


def add_user(db: Database, actor: Actor, name: str, password: str, role: str = ADMIN,
             communities: tuple[int, ...] | None = None, must_change_password: bool = False,
             audit: bool = True) -> int:
    """A new user (administrators only); the password is checked and stored hashed. Its id."""
    require_admin(actor, "添加用户")
    name = name.strip()
    if not name:
        raise ValueError("用户名不能为空")
    if role not in ROLES:
        raise ValueError(f"没有名为 {role} 的角色（可选：{'、'.join(ROLES)}）")
    check_password_rules(password, name)
    if db.scalar("SELECT count(*) FROM users WHERE lower(name) = lower(?)", [name]):
        raise ValueError(f"用户名「{name}」已存在")
    ensure_matrix(db)
    now = db.now()
    with db.transaction() as cur:
        (user_id,) = db.allocate_ids(cur, USERS, 1)
        cur.execute(
            "INSERT INTO users (id, name, role, communities, password_hash, must_change_password, "
            "failed_logins, active, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, 0, TRUE, ?, ?)",
            [user_id, name, role, _communities_text(communities), hash_password(password),
             must_change_password, now, now],
        )
        if audit:
            _audit(db, cur, actor, user_id, "新增", None,
                   {"name": name, "role": role, "communities": _communities_text(communities)})
    return user_id


def community_names(db: Database) -> dict[int, str]:
    """Every live community, for choosing a user's scope."""
    return dict(db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id"))


def list_users(db: Database, actor: Actor) -> list[dict]:
    require_admin(actor, "查看用户")
    names = ["id", "name", "role", "communities", "active", "must_change_password", "last_login_at",
             "created_at"]
    users = [dict(zip(names, r)) for r in db.rows("SELECT " + ", ".join(names) + " FROM users ORDER BY id")]
    now = db.now()
    for u in users:
        u["failed_since_login"] = login_throttle.failures_since(
            db, u["name"], u["last_login_at"] or u["created_at"])
        wait = login_throttle.wait_seconds(db, u["name"], "", u["id"], now)  # from a new client
        u["wait_until"] = now + timedelta(seconds=wait) if wait > 0 else None
    return users


def recent_failures(db: Database, actor: Actor, limit: int = 200) -> list[dict]:
    """The latest failed sign-ins (administrators only), newest first."""
    require_admin(actor, "查看登录失败记录")
    return login_throttle.recent_failures(db, limit)


def _user(db: Database, name: str) -> dict | None:
    names = ["id", "name", "role", "communities", "password_hash", "must_change_password",
             "active", "last_login_at", "created_at"]
    row = db.rows("SELECT " + ", ".join(names) + " FROM users WHERE lower(name) = lower(?)", [name.strip()])
    return dict(zip(names, row[0])) if row else None


def update_user(db: Database, actor: Actor, user_id: int, *, role: str | None = None,
                communities: tuple[int, ...] | None | str = "keep", active: bool | None = None) -> None:
    """Change a user's role, scope or whether they may sign in (administrators only); audited."""
    require_admin(actor, "修改用户")
    names = ["name", "role", "communities", "active"]
    row = db.rows("SELECT " + ", ".join(names) + " FROM users WHERE id = ?", [user_id])
    if not row:
        raise KeyError(f"没有编号为 {user_id} 的用户")
    before = dict(zip(names, row[0]))
    after = dict(before)
    if role is not None:
        if role not in ROLES:
            raise ValueError(f"没有名为 {role} 的角色")
        after["role"] = role
    if communities != "keep":
        after["communities"] = _communities_text(communities)
    if active is not None:
        after["active"] = bool(active)
    if before["role"] == ADMIN and (after["role"] != ADMIN or not after["active"]) and db.scalar(
            "SELECT count(*) FROM users WHERE role = ? AND active AND id <> ?", [ADMIN, user_id]) == 0:
        raise ValueError("至少要保留一位可登录的管理员")
    changed = [k for k in names if after[k] != before[k]]
    if not changed:
        return
    with db.transaction() as cur:
        cur.execute("UPDATE users SET role = ?, communities = ?, active = ? WHERE id = ?",
                    [after["role"], after["communities"], after["active"], user_id])
        # a changed role or scope takes effect at once: the user signs in again
        cur.execute("UPDATE user_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                    [db.now(), user_id])
        _audit(db, cur, actor, user_id, "修改", {k: before[k] for k in changed}, {k: after[k] for k in changed})


def unlock_user(db: Database, actor: Actor, user_id: int) -> None:
    """Clear the user's sign-in throttle: failures for the name, and from the clients that tried it."""
    require_admin(actor, "解锁用户")
    name = db.scalar("SELECT name FROM users WHERE id = ?", [user_id])
    if name is None:
        raise KeyError(f"没有编号为 {user_id} 的用户")
    with db.transaction() as cur:
        cur.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user_id])
        login_throttle.clear(db, cur, name, db.now())
        _audit(db, cur, actor, user_id, "修改", None, None, note="解锁")


def reset_password(db: Database, actor: Actor, user_id: int, password: str) -> None:
    """An administrator sets a new password; the user must change it at the next sign-in."""
    require_admin(actor, "重设密码")
    name = db.scalar("SELECT name FROM users WHERE id = ?", [user_id])
    if name is None:
        raise KeyError(f"没有编号为 {user_id} 的用户")
    check_password_rules(password, name)
    _store_password(db, actor, user_id, password, must_change=True, note="管理员重设密码")


def change_password(db: Database, signed: SignedIn, old: str, new: str) -> None:
    """The user changes their own password (the old one is checked); other sessions end."""
    user = _user(db, signed.name)
    if user is None or not _verify(user["password_hash"], old):
        raise PasswordRejected("原密码不正确")
    if new == old:
        raise PasswordRejected("新密码不能与原密码相同")
    check_password_rules(new, signed.name)
    _store_password(db, signed.actor, user["id"], new, must_change=False, note="修改密码",
                    keep_token=signed.token)


def _store_password(db: Database, actor: Actor, user_id: int, password: str, must_change: bool,
                    note: str, keep_token: str | None = None) -> None:
    now = db.now()
    with db.transaction() as cur:
        cur.execute("UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?, "
                    "failed_logins = 0, locked_until = NULL WHERE id = ?",
                    [hash_password(password), must_change, now, user_id])
        cur.execute("UPDATE user_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL "
                    "AND token_hash <> ?", [now, user_id, _token_hash(keep_token or "")])
        _audit(db, cur, actor, user_id, "修改", None, None, note=note)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# -- signing in ----------------------------------------------------------------------------
def sign_in(db: Database, name: str, password: str, client: str = "",
            now: datetime | None = None) -> SignedIn:
    """Check the password and start a session; LoginFailed says why.

    `client` is the address the attempt comes from (app.ui.session.client_address). While the
    throttle makes this client wait for this name, the password is not checked at all. An
    unknown name gets the same answers, after the same argon2 work, as a wrong password.
    """
    user = _user(db, name or "")
    now = now or db.now()
    user_id = user["id"] if user else None
    wait = login_throttle.wait_seconds(db, name or "", client, user_id, now)
    if wait > 0:
        shown = f"{wait} 秒" if wait < 120 else f"{math.ceil(wait / 60)} 分钟"
        raise LoginFailed(f"登录尝试过于频繁，请 {shown}后再试")
    right = _verify(user["password_hash"] if user else _DUMMY_HASH, password) and user is not None
    if not right:
        with db.transaction() as cur:
            login_throttle.record(db, cur, name or "", user_id, client, False, now)
        raise LoginFailed(WRONG)
    if not user["active"]:
        raise LoginFailed("此账号已停用，请联系管理员")
    failed = login_throttle.failures_since(db, user["name"], user["last_login_at"] or user["created_at"])
    token = secrets.token_urlsafe(32)
    with db.transaction() as cur:
        (session_id,) = db.allocate_ids(cur, "user_sessions", 1)
        cur.execute("INSERT INTO user_sessions (id, token_hash, user_id, created_at, last_seen_at) "
                    "VALUES (?, ?, ?, ?, ?)", [session_id, _token_hash(token), user["id"], now, now])
        cur.execute("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?",
                    [now, user["id"]])
        login_throttle.record(db, cur, user["name"], user["id"], client, True, now)
    found = session_user(db, token, now)
    assert found is not None
    return replace(found, failed_attempts=failed)


def session_user(db: Database, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The signed-in user of a session token, or None (unknown, ended, expired, user disabled)."""
    if not token:
        return None
    names = ["sid", "created_at", "last_seen_at", "ended_at", "user_id", "name", "role", "communities",
             "must_change_password", "active"]
    row = db.rows(
        "SELECT s.id, s.created_at, s.last_seen_at, s.ended_at, u.id, u.name, u.role, u.communities, "
        "u.must_change_password, u.active FROM user_sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ?", [_token_hash(token)])
    if not row:
        return None
    s = dict(zip(names, row[0]))
    now = now or db.now()
    idle = timedelta(minutes=_setting(db, "office.session_idle_minutes", DEFAULT_IDLE_MINUTES))
    if s["ended_at"] is not None:
        return None
    if not s["active"] or now - s["last_seen_at"] > idle or now - s["created_at"] > timedelta(hours=SESSION_MAX_HOURS):
        with db.transaction() as cur:
            cur.execute("UPDATE user_sessions SET ended_at = ? WHERE id = ?", [now, s["sid"]])
        return None
    if (now - s["last_seen_at"]).total_seconds() >= TOUCH_SECONDS:
        with db.transaction() as cur:
            cur.execute("UPDATE user_sessions SET last_seen_at = ? WHERE id = ?", [now, s["sid"]])
    communities = parse_communities(s["communities"])
    return SignedIn(s["user_id"], s["name"], s["role"], communities, token, bool(s["must_change_password"]),
                    actor_for_role(db, s["name"], s["role"], communities))


def sign_out(db: Database, token: str | None) -> None:
    if token:
        with db.transaction() as cur:
            cur.execute("UPDATE user_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                        [db.now(), _token_hash(token)])


def first_admin(db: Database, actor: Actor, name: str = FIRST_ADMIN) -> str | None:
    """With no user yet: an administrator with a one-time password (returned, to print once)."""
    if user_count(db):
        return None
    password = one_time_password()
    add_user(db, actor, name, password, ADMIN, must_change_password=True)
    return password


def one_time_password() -> str:
    """14 characters without look-alikes (0/O, 1/l/I); drawn again until the policy accepts it."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(14))
        try:
            check_password_rules(password)
        except PasswordRejected:
            continue
        return password
