"""Opening a rectification (整改) from inside another register's save transaction.

A failed inspection, a bad repair visit, a complaint hotspot, a failed fire check or a
decoration violation each open one `rectifications` row, written with the same cursor and
audited under the same change set as the save that caused it. Use from a save rule:

    from app.checks.rectifications import open_rectification
    open_rectification(ctx, source_table="decoration_checks", source_id=c.row_id,
                       community_id=cid, issue="拆改承重墙", responsible_id=staff_id,
                       deadline=checked_on + timedelta(days=7), area="装修")

An inserted source row has no id yet while save rules run: `ensure_ids(ctx)` gives every new
row of the change set its id first (the write then uses those ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.saving.changes import SaveContext
from app.storage.db import in_list

# The register a rectification comes from -> its `source` (DOMAIN.md 检查与整改).
SOURCE_OF_TABLE = {
    "inspections": "检查",
    "complaints": "投诉",
    "work_order_visits": "回访",
    "decoration_checks": "装修巡查",
    "fire_checks": "消防检查",
    "takeover_defects": "承接查验",
    "project_checks": "工程验收",
}
AUTO_NOTE = "由{label}自动立项整改"
DEADLINE_SETTING = "rectification.deadline_days"
DEFAULT_DEADLINE_DAYS = 7


@dataclass
class Opening:
    """One rectification to open; `area` is the inspection area it belongs to."""

    source_table: str
    source_id: int
    community_id: int
    issue: str
    deadline: date
    responsible_id: int | None = None
    area: str = "其他"
    location: str | None = None
    opened_on: date | None = None  # the source's date; today when not given


def deadline_days(ctx: SaveContext, community_id: int | None) -> int:
    """The default time allowed for a rectification (setting rectification.deadline_days)."""
    value = ctx.cur.execute("SELECT setting_int(?, ?)", [DEADLINE_SETTING, community_id]).fetchone()[0]
    return int(value) if value is not None else DEFAULT_DEADLINE_DAYS


def default_deadline(ctx: SaveContext, community_id: int | None, on: date) -> date:
    return on + timedelta(days=deadline_days(ctx, community_id))


def ensure_ids(ctx: SaveContext) -> None:
    """Give every inserted row of the change set its id now, so a side effect can refer to it."""
    new = [c for _, c, _, _ in ctx.rows if c.action == "insert" and c.row_id is None]
    if not new:
        return
    for c, row_id in zip(new, ctx.db.allocate_ids(ctx.cur, ctx.register.name, len(new))):
        c.row_id = row_id


def already_opened(ctx: SaveContext, source_table: str, source_ids: list[int]) -> set[int]:
    """Source ids of that register that already have a rectification (of any status)."""
    if not source_ids:
        return set()
    placeholders, params = in_list(sorted(set(source_ids)))
    return {
        r[0]
        for r in ctx.cur.execute(
            "SELECT source_id FROM rectifications WHERE deleted_at IS NULL AND source_table = ? "
            "AND source_id IN " + placeholders,
            [source_table, *params],
        ).fetchall()
    }


def open_rectifications(ctx: SaveContext, openings: list[Opening]) -> list[int]:
    """Insert the rectifications (status 待整改) in the caller's transaction; returns their ids.

    A source row that already has a rectification gets no second one; a history import
    opens none (its file records what was opened then).
    """
    if ctx.history:
        return []
    fresh: list[Opening] = []
    for table in sorted({o.source_table for o in openings}):
        mine = [o for o in openings if o.source_table == table]
        have = already_opened(ctx, table, [o.source_id for o in mine])
        seen: set[int] = set()
        for o in mine:
            if o.source_id not in have and o.source_id not in seen:
                seen.add(o.source_id)
                fresh.append(o)
    if not fresh:
        return []
    # No permission check of its own: the rectification follows from a save the actor may make
    # (a 客服 recording a bad visit opens one without rights on 检查与整改), like the audit rows.
    today = ctx.db.now().date()
    rows = [
        {
            "source": SOURCE_OF_TABLE.get(o.source_table, "内审"),
            "source_table": o.source_table,
            "source_id": o.source_id,
            "community_id": o.community_id,
            "area": o.area,
            "location": o.location,
            "issue": o.issue,
            "responsible_id": o.responsible_id,
            "opened_on": o.opened_on or today,
            "deadline": o.deadline,  # the source's own deadline, even when already past
            "status": "待整改",
        }
        for o in fresh
    ]
    return ctx.insert("rectifications", rows, AUTO_NOTE.format(label=ctx.register.label), check_right=False)


def open_rectification(ctx: SaveContext, *, source_table: str, source_id: int, community_id: int,
                       issue: str, deadline: date, responsible_id: int | None = None,
                       area: str = "其他", location: str | None = None,
                       opened_on: date | None = None) -> int | None:
    """Open one rectification; None when that source row already has one."""
    ids = open_rectifications(ctx, [Opening(source_table, source_id, community_id, issue, deadline,
                                            responsible_id, area, location, opened_on)])
    return ids[0] if ids else None
