"""Demo sign-ins: one user per role besides the administrator, each with a one-time password.

Not a `demo_*` module: `wuye seed --demo` calls it after the data, so it can print the
passwords at the end. The passwords come from the same generator as the administrator's
(app/accounts/auth.py), are never stored in clear, and must be changed at the first sign-in.
"""

from __future__ import annotations

from app.access.permissions import Actor
from app.accounts import auth
from app.storage.db import Database

# (user name, role): one sign-in per role, named so the office sees who is who
DEMO_USERS = (
    ("jingli", "经理"),
    ("kefu", "客服"),
    ("caiwu", "财务"),
    ("weixiu", "维修"),
    ("baoan", "保安"),
    ("yeweihui", "业委会"),
)


def add_demo_users(db: Database, actor: Actor) -> list[tuple[str, str, str]]:
    """(name, role, one-time password) of the demo users added; a name already taken is left as is."""
    added = []
    for name, role in DEMO_USERS:
        if db.scalar("SELECT count(*) FROM users WHERE lower(name) = lower(?)", [name]):
            continue
        password = auth.one_time_password()
        auth.add_user(db, actor, name, password, role, must_change_password=True)
        added.append((name, role, password))
    return added


def password_table(rows: list[tuple[str, str, str]]) -> str:
    """用户名 / 角色 / 一次性密码, aligned for a terminal (CJK characters take two columns)."""
    def width(text: str) -> int:
        return sum(2 if ord(c) > 0x2E80 else 1 for c in text)

    def pad(text: str, to: int) -> str:
        return text + " " * (to - width(text))

    table = [("用户名", "角色", "一次性密码"), *rows]
    widths = [max(width(r[i]) for r in table) for i in range(3)]
    return "\n".join("  ".join(pad(cell, w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in table)
