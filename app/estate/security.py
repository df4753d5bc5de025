"""保安: the weekly shift grid, control-room staffing, visitors still inside and signing them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from app import registers
from app.access.permissions import Actor
from app.reading.queries import PageRequest, fetch_page, labels_for
from app.reading.views import read_view
from app.saving.changes import RowChange, SaveResult, apply_changes
from app.storage.db import Database

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CONTROL_ROOM = "监控中心"
CONTROL_ROOM_SETTING = "security.control_room_staff"


def week_of(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


def week_shifts(db: Database, actor: Actor, community_id: int, monday: date) -> pd.DataFrame:
    """The shifts rows of one community in the week starting `monday`, with staff names."""
    frame, _ = fetch_page(
        db, actor, registers.get("shifts"),
        PageRequest(filters={"community_id": [community_id], "shift_on": (monday, monday + timedelta(days=6))},
                    page_size=5000),
    )
    if frame.empty:
        return frame
    ids = sorted({int(v) for v in frame["staff_id"]})
    names = labels_for(db, registers.get("staff"), ids)
    return frame.assign(staff=[names.get(int(v), str(v)) for v in frame["staff_id"]])


def week_grid(shifts: pd.DataFrame, monday: date) -> pd.DataFrame:
    """One row per guard, one column per weekday (周一 11-23 …): 白班·门岗, 夜班·监控中心, 休息."""
    columns = [f"{WEEKDAYS[k]} {(monday + timedelta(days=k)):%m-%d}" for k in range(7)]
    if shifts.empty:
        return pd.DataFrame(columns=["保安员", *columns])
    cells: dict[str, dict[str, list[str]]] = {}
    for row in shifts.sort_values(["shift_on", "shift"]).itertuples():
        text = row.shift if row.shift == "休息" or not row.post else f"{row.shift}·{row.post}"
        col = columns[(row.shift_on - monday).days]
        cells.setdefault(row.staff, {}).setdefault(col, []).append(text)
    rows = [{"保安员": who, **{c: "、".join(days.get(c, [])) for c in columns}}
            for who, days in sorted(cells.items())]
    return pd.DataFrame(rows, columns=["保安员", *columns])


@dataclass
class StaffingGap:
    day: date
    shift: str
    on_duty: int
    required: int

    def __str__(self) -> str:
        return (f"{self.day:%m-%d}（{WEEKDAYS[self.day.weekday()]}）{self.shift}监控中心仅 {self.on_duty} 人，"
                f"每班不少于 {self.required} 人")


def control_room_gaps(db: Database, shifts: pd.DataFrame, community_id: int, monday: date) -> list[StaffingGap]:
    """Day × shift of the week where the control room has fewer than security.control_room_staff [2]."""
    required = int(db.scalar("SELECT setting_int(?, ?)", [CONTROL_ROOM_SETTING, community_id]) or 2)
    on_duty: dict[tuple[date, str], int] = {}
    if not shifts.empty:
        for row in shifts[shifts["post"] == CONTROL_ROOM].itertuples():
            on_duty[(row.shift_on, row.shift)] = on_duty.get((row.shift_on, row.shift), 0) + 1
    return [
        StaffingGap(day, shift, on_duty.get((day, shift), 0), required)
        for day in (monday + timedelta(days=k) for k in range(7))
        for shift in ("白班", "夜班")
        if on_duty.get((day, shift), 0) < required
    ]


def visitors_inside(db: Database, actor: Actor, community_id: int | None = None) -> pd.DataFrame:
    """v_visitors_inside (ID numbers masked for roles without the right), with the household label."""
    inside = read_view(db, actor, "v_visitors_inside")
    if community_id is not None:
        inside = inside[inside["community_id"] == community_id]
    ids = sorted({int(v) for v in inside["household_id"] if pd.notna(v)})
    labels = labels_for(db, registers.get("households"), ids) if ids else {}
    return inside.assign(
        household=[labels.get(int(v), "") if pd.notna(v) else "" for v in inside["household_id"]]
    ).sort_values("visited_at").reset_index(drop=True)


def sign_out(db: Database, actor: Actor, visitor_id: int, left_at: datetime | None = None) -> SaveResult:
    """Register a visitor's exit (now, unless given)."""
    return apply_changes(db, actor, "visitors",
                         [RowChange("update", visitor_id, {"left_at": left_at or db.now()})])
