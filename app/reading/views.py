"""Rule views: their metadata, read from the header comment of `sql/views/v_*.sql`, and rows.

A header looks like

    -- v_community_overview: 小区概况
    -- rule: one row per community ...
    --       (continued on indented lines)
    -- source: 二 小区基本概况
    -- parameters: none
    -- 规则：每个小区一行……
    -- 参数：无
    -- label community_id: 小区编号

The rule and parameters lines in English are for developers (they name columns and setting
keys); 规则 and 参数 say the same for the office, in Chinese, and are what the app shows.

Only files named `v_*.sql` are views; other files in the folder (table macros) are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from app import registers
from app.access.permissions import Actor, mask_value, require, sees_personal_data
from app.storage.db import SQL_DIR, Database, in_list, q

VIEWS_DIR = SQL_DIR / "views"
COMMUNITY_COLUMN = "community_id"

_VIEW_NAME = re.compile(r"v_[a-z0-9_]+")
_KEY = re.compile(r"--\s?(v_[a-z0-9_]+|rule|source|parameters|规则|参数|label\s+[a-z_][a-z0-9_]*)\s*[:：]\s?(.*)")
# Chinese entries are written as one line each: a continuation would join them with spaces.
_CHINESE_KEYS = {"规则": "rule_zh", "参数": "parameters_zh"}


@dataclass(frozen=True)
class ViewInfo:
    name: str
    title: str
    rule: str = ""
    source: str = ""
    parameters: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    rule_zh: str = ""  # the rule as the office reads it
    parameters_zh: str = ""  # the parameters by their Chinese names, with defaults

    def label_of(self, column: str) -> str:
        return self.labels.get(column, column)


def view_path(name: str) -> Path:
    return VIEWS_DIR / f"{name}.sql"


def view_names() -> list[str]:
    return sorted(p.stem for p in VIEWS_DIR.glob("v_*.sql"))


def is_view(name: str) -> bool:
    return bool(_VIEW_NAME.fullmatch(name)) and view_path(name).is_file()


def parse_header(name: str, text: str) -> ViewInfo:
    """The metadata in the leading `--` lines of a view file."""
    values: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        m = _KEY.fullmatch(line)
        # An indented comment line continues the previous entry.
        if m and not re.match(r"--\s{2,}", line):
            key, value = m[1], m[2].strip()
            if key.startswith("label"):
                current = labels.setdefault(key.split()[1], [])
            else:
                key = "title" if key.startswith("v_") else _CHINESE_KEYS.get(key, key)
                current = values.setdefault(key, [])
            current.append(value)
        elif current is not None:
            current.append(line[2:].strip())

    def joined(parts: list[str] | None) -> str:
        return " ".join(p for p in parts or [] if p)

    return ViewInfo(
        name=name,
        title=joined(values.get("title")) or name,
        rule=joined(values.get("rule")),
        source=joined(values.get("source")),
        parameters=joined(values.get("parameters")),
        labels={col: joined(parts) for col, parts in labels.items()},
        rule_zh="".join(values.get("rule_zh") or []),
        parameters_zh="".join(values.get("parameters_zh") or []),
    )


def view_info(name: str) -> ViewInfo:
    if not is_view(name):
        raise KeyError(f"没有名为 {name} 的视图")
    return parse_header(name, view_path(name).read_text(encoding="utf-8"))


def label_of(view: str, column: str) -> str:
    """The Chinese header of a view column; the column name when the header has none."""
    return view_info(view).label_of(column)


def personal_columns() -> dict[str, str]:
    """Column name -> masking kind, for names that hold personal data in any register."""
    found: dict[str, str] = {}
    for reg in registers.catalog().values():
        for f in reg.fields:
            if f.is_personal:
                found.setdefault(f.name, f.type)
    return found


def view_columns(db: Database, name: str) -> list[str]:
    return db.columns_of(name)


def view_query(db: Database, actor: Actor, name: str, limit: int | None = None) -> tuple[str, list]:
    """SQL and parameters for a view's rows, scoped to the actor's communities."""
    if not is_view(name):
        raise KeyError(f"没有名为 {name} 的视图")
    sql = "SELECT * FROM " + q(name)
    params: list = []
    if actor.communities is not None and COMMUNITY_COLUMN in view_columns(db, name):
        placeholders, values = in_list(actor.communities)
        sql += " WHERE " + q(COMMUNITY_COLUMN) + " IN " + placeholders
        params += values
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def read_view(db: Database, actor: Actor, name: str, limit: int | None = None) -> pd.DataFrame:
    """The rows of a rule view the actor may see; personal data masked for roles without the right."""
    info = view_info(name)
    require(actor, name, "view", info.title)
    sql, params = view_query(db, actor, name, limit)
    frame = db.query(sql, params)
    if not sees_personal_data(actor):
        for col, kind in personal_columns().items():
            if col in frame:
                frame[col] = [mask_value(kind, v) for v in frame[col]]
    return frame
