"""The check-and-fix loop of one inspection area: its plans, what is due, inspections, rectifications.

Every area (清洁消杀, 保安, 绿化, 消防, 设备, 装修) is served by the same functions and the same
page (pages/checks.py, one navigation entry per area). Recording an inspection and moving a
rectification along go through the save path, so the save rules (app/save_rules/checks.py)
hold here as everywhere.
"""

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

# URL slug -> inspection area (inspection_plans.area)
AREAS = {
    "cleaning": "清洁消杀",
    "security": "保安",
    "greening": "绿化",
    "fire": "消防",
    "equipment": "设备",
    "decoration": "装修",
}
PAGE_PREFIX = "checks-"
# The rectification areas shown on each area's page (repairs go with equipment).
RECTIFICATION_AREAS = {"设备": ("设备", "维修")}
OPEN = ("待整改", "已整改")
RECENT_DAYS = 30

def area_of_page(url_path: str) -> str:
    """The inspection area of a checks page's url path (checks-cleaning -> 清洁消杀)."""
    return AREAS.get(url_path.removeprefix(PAGE_PREFIX), "清洁消杀")


@dataclass
class AreaOverview:
    """What an area's page shows, already scoped to the actor and labelled."""

    area: str
    plans: pd.DataFrame  # v_inspection_due rows of the area
    todo: pd.DataFrame  # v_todo_checks rows about the area's plans and rectifications
    rectifications: pd.DataFrame  # open ones (待整改/已整改)
    inspections: pd.DataFrame  # of the last RECENT_DAYS days, newest first

    @property
    def due(self) -> int:
        return int(self.plans["due"].sum()) if not self.plans.empty else 0

    @property
    def overdue_rectifications(self) -> int:
        if self.rectifications.empty:
            return 0
        return int(((self.rectifications["status"] == "待整改")
                    & (self.rectifications["days_overdue"] > 0)).sum())


def _staff_names(db: Database, ids) -> dict[int, str]:
    wanted = sorted({int(x) for x in ids if pd.notna(x)})
    return labels_for(db, registers.get("staff"), wanted) if wanted else {}


def _name(names: dict[int, str], value) -> str:
    return names.get(int(value), "") if pd.notna(value) else ""


def area_overview(db: Database, actor: Actor, area: str, community_id: int | None = None) -> AreaOverview:
    today = db.now().date()
    plans = read_view(db, actor, "v_inspection_due")
    plans = plans[plans["area"] == area]
    if community_id is not None:
        plans = plans[plans["community_id"] == community_id]
    plans = plans.sort_values(["due", "next_due"], ascending=[False, True]).reset_index(drop=True)

    areas = list(RECTIFICATION_AREAS.get(area, (area,)))
    filters = {"area": areas, "status": list(OPEN)}
    if community_id is not None:
        filters["community_id"] = [community_id]
    rect, _ = fetch_page(db, actor, registers.get("rectifications"),
                         PageRequest(filters=filters, sort="deadline", page_size=500))
    if not rect.empty:
        rect["days_overdue"] = [(today - d).days if d is not None and pd.notna(d) else None
                                for d in rect["deadline"]]

    plan_ids = [int(x) for x in plans["plan_id"]]
    inspections = pd.DataFrame()
    if plan_ids:
        inspections, _ = fetch_page(
            db, actor, registers.get("inspections"),
            PageRequest(filters={"plan_id": plan_ids,
                                 "inspected_at": (datetime.combine(today - timedelta(days=RECENT_DAYS),
                                                                   datetime.min.time()), None)},
                        sort="inspected_at", descending=True, page_size=200))

    names = _staff_names(db, [*plans["responsible_id"], *(rect["responsible_id"] if not rect.empty else []),
                              *(inspections["inspector_id"] if not inspections.empty else [])])
    plans = plans.assign(responsible=[_name(names, v) for v in plans["responsible_id"]])
    if not rect.empty:
        rect = rect.assign(responsible=[_name(names, v) for v in rect["responsible_id"]])
    if not inspections.empty:
        plan_items = dict(zip(plans["plan_id"], plans["item"]))
        inspections = inspections.assign(
            item=[plan_items.get(v, "") for v in inspections["plan_id"]],
            inspector=[_name(names, v) for v in inspections["inspector_id"]],
        )

    todo = read_view(db, actor, "v_todo_checks")
    rect_ids = set(rect["id"]) if not rect.empty else set()
    mine = ((todo["ref_table"] == "inspection_plans") & todo["ref_id"].isin(plan_ids)) | (
        (todo["ref_table"] == "rectifications") & todo["ref_id"].isin(rect_ids))
    todo = todo[mine].sort_values(["days_overdue"], ascending=False).reset_index(drop=True)
    return AreaOverview(area, plans, todo, rect, inspections)


def record_inspection(db: Database, actor: Actor, *, plan_id: int, inspected_at: datetime,
                      result: str, inspector_id: int | None = None, findings: str | None = None,
                      location: str | None = None, score: int | None = None,
                      rectify_by_id: int | None = None, rectify_deadline: date | None = None) -> SaveResult:
    """Add one inspection; a 不合格 one opens its rectification in the same save."""
    values = {"plan_id": plan_id, "inspected_at": inspected_at, "result": result,
              "inspector_id": inspector_id, "findings": findings or None, "location": location or None,
              "score": score, "rectify_by_id": rectify_by_id, "rectify_deadline": rectify_deadline}
    return apply_changes(db, actor, "inspections",
                         [RowChange("insert", values={k: v for k, v in values.items() if v is not None})])


def mark_done(db: Database, actor: Actor, rectification_id: int, measures: str,
              done_at: datetime | None = None) -> SaveResult:
    """The responsible person reports the rectification done (待整改 → 已整改)."""
    values = {"status": "已整改", "measures": measures or None}
    if done_at is not None:
        values["done_at"] = done_at
    return apply_changes(db, actor, "rectifications", [RowChange("update", rectification_id, values)])


def verify(db: Database, actor: Actor, rectification_id: int, verified_by_id: int | None,
           passed: bool = True, note: str | None = None) -> SaveResult:
    """Someone else checks the fix: 已验证, or back to 待整改 when it does not hold."""
    values: dict = {"verify_note": note or None}
    if passed:
        values.update(status="已验证", verified_by_id=verified_by_id)
    else:
        values.update(status="待整改")
    return apply_changes(db, actor, "rectifications", [RowChange("update", rectification_id, values)])
