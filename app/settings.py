"""Rule parameters: defaults from REGULATIONS.md, stored in the `settings` register."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

DEFAULTS_FILE = Path(__file__).parent / "settings_defaults.toml"

# Key prefix -> the tab it appears on in the settings page.
PARAMETER_GROUPS = {
    "office": "系统",
    "fee": "收费",
    "repair": "维修",
    "complaint": "投诉",
    "fire": "消防",
    "asset": "设备",
    "contract": "合同",
    "parking": "停车",
    "vacant": "空置房",
    "survey": "调查",
    "security": "保安",
    "rectification": "检查整改",
    "quality": "质量体系",
    "committee": "业委会",
}


def defaults() -> list[dict]:
    with open(DEFAULTS_FILE, "rb") as fh:
        return tomllib.load(fh)["setting"]


def ensure_defaults(db: Database, actor: Actor) -> int:
    """Add every default parameter that is missing (never overwrites an office's value)."""
    have = {r[0] for r in db.rows("SELECT key FROM settings WHERE community_id IS NULL AND deleted_at IS NULL")}
    missing = [RowChange("insert", values=d) for d in defaults() if d["key"] not in have]
    if missing:
        apply_changes(db, actor.via("任务"), "settings", missing)
    return len(missing)


def value(db: Database, key: str, community_id: int | None = None) -> str | None:
    return db.scalar("SELECT setting_text(?, ?)", [key, community_id])
