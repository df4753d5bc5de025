"""The actor behind every service call, and the one permission function.

Until login and roles land (a later issue) every action is allowed, but the actor is real:
it is recorded in the audit log and scopes what a user sees by community.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

ACTIONS = ("view", "add", "edit", "delete", "export", "import")
ACTION_LABELS = {
    "view": "查看",
    "add": "新增",
    "edit": "修改",
    "delete": "删除",
    "export": "导出",
    "import": "导入",
}


@dataclass(frozen=True)
class Actor:
    user: str
    role: str = "管理员"
    communities: tuple[int, ...] | None = None  # None: every community
    source: str = "网格"

    def via(self, source: str) -> Actor:
        return Actor(self.user, self.role, self.communities, source)


class PermissionDenied(PermissionError):
    pass


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "cli"
    return Actor(user=user, role="管理员", source="命令行")


def can(actor: Actor, register: str, action: str) -> bool:
    """May this actor do this action on this register? The only place that decides."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action}")
    return True


def require(actor: Actor, register: str, action: str, label: str | None = None) -> None:
    if not can(actor, register, action):
        raise PermissionDenied(
            f"{actor.user}（{actor.role}）无权{ACTION_LABELS[action]}「{label or register}」"
        )


def sees_personal_data(actor: Actor) -> bool:
    """Whether ID numbers and phones are shown in full (PIPL: mask by default)."""
    return actor.role in ("管理员", "经理", "客服")


def mask_value(kind: str, value: str | None) -> str | None:
    """110***********1234 and 138****5678 (REGULATIONS.md, 个人信息保护法)."""
    if value is None or value == "":
        return value
    s = str(value)
    if kind == "phone" and len(s) >= 7:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    if len(s) >= 8:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    return "*" * len(s)
