"""The service desk: repair intake, dispatch and transitions, complaints, the 24-hour duty board.

Plain services over the save path (`apply_changes`), so the workflow rules in
`app/save_rules/service.py` hold here exactly as in the grid and the importer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from app.changes import RowChange, apply_changes
from app.db import Database
from app.permissions import Actor

OPEN_STATUSES = ("待派工", "已派工", "处理中", "暂停")
URGENCY_ORDER = {"紧急": 0, "预约": 1, "一般": 2}


def _row(db: Database, table: str, row_id: int) -> dict[str, Any]:
    res = db.cursor().execute("SELECT * FROM " + table + " WHERE id = ? AND deleted_at IS NULL", [row_id])
    names = [d[0] for d in res.description]
    got = res.fetchone()
    if got is None:
        raise KeyError(f"{table} {row_id} 不存在")
    return dict(zip(names, got))


# -- repairs --------------------------------------------------------------------------------
def register_repair(db: Database, actor: Actor, values: dict[str, Any]) -> tuple[int, str]:
    """Intake: a new 待派工 order (or 已派工 when an assignee is given); returns (id, order number)."""
    values = dict(values)
    values.setdefault("reported_at", db.now())
    if values.get("assignee_id") is not None:
        values.setdefault("status", "已派工")
    result = apply_changes(db, actor, "work_orders", [RowChange("insert", values=values)])
    order_id = result.inserted[0]
    return order_id, db.scalar("SELECT order_no FROM work_orders WHERE id = ?", [order_id])


def move_order(db: Database, actor: Actor, order_id: int, status: str, at: datetime | None = None,
               **values: Any) -> None:
    """Move an order to `status` (refused by the save path unless the workflow allows it)."""
    _move(db, actor, "work_orders", order_id, status, at, values)


def _move(db: Database, actor: Actor, register: str, row_id: int, status: str,
          at: datetime | None, values: dict[str, Any]) -> None:
    """One status move through the save path, stamped at `at` when given (else now)."""
    row = _row(db, register, row_id)
    change = {"status": status, **values}
    if at is not None:
        change["status_changed_at"] = at
    apply_changes(db, actor, register, [RowChange("update", row_id, change, row["row_version"])])


def dispatch(db: Database, actor: Actor, order_id: int, assignee_id: int, at: datetime | None = None) -> None:
    move_order(db, actor, order_id, "已派工", at, assignee_id=assignee_id)


def arrive(db: Database, actor: Actor, order_id: int, at: datetime | None = None) -> None:
    move_order(db, actor, order_id, "处理中", at)


def pause(db: Database, actor: Actor, order_id: int, reason: str, at: datetime | None = None) -> None:
    move_order(db, actor, order_id, "暂停", at, pause_reason=reason)


def resume(db: Database, actor: Actor, order_id: int, at: datetime | None = None) -> None:
    move_order(db, actor, order_id, "处理中", at)


def complete(db: Database, actor: Actor, order_id: int, at: datetime | None = None, *,
             report: str | None = None, labor_hours: Any = None, charge: Any = None,
             owner_confirmed: bool | None = None) -> None:
    extra = {k: v for k, v in {"report": report, "labor_hours": labor_hours, "charge": charge,
                               "owner_confirmed": owner_confirmed}.items() if v is not None}
    move_order(db, actor, order_id, "已完成", at, **extra)


def record_visit(db: Database, actor: Actor, order_id: int, satisfaction: int, at: datetime | None = None,
                 *, staff_id: int | None = None, comment: str | None = None,
                 needs_rework: bool = False) -> int:
    """A 回访 (1–5); a 已完成 order becomes 已回访 in the same save."""
    values = {"work_order_id": order_id, "visited_at": at or db.now(), "satisfaction": satisfaction,
              "staff_id": staff_id, "comment": comment, "needs_rework": needs_rework}
    return apply_changes(db, actor, "work_order_visits", [RowChange("insert", values=values)]).inserted[0]


def close_order(db: Database, actor: Actor, order_id: int, at: datetime | None = None) -> None:
    move_order(db, actor, order_id, "已关闭", at)


def reopen_as_rework(db: Database, actor: Actor, order_id: int, description: str,
                     at: datetime | None = None) -> tuple[int, str]:
    """Re-open a finished order: a new order linked to it by rework_of (the old one keeps its record)."""
    old = _row(db, "work_orders", order_id)
    return register_repair(db, actor, {
        "community_id": old["community_id"], "household_id": old["household_id"],
        "location": old["location"], "category": old["category"], "description": description,
        "channel": old["channel"], "urgency": old["urgency"] if old["urgency"] != "预约" else "一般",
        "reported_at": at or db.now(), "rework_of": order_id,
    })


def duty_board(db: Database, community_id: int | None = None, at: datetime | None = None) -> pd.DataFrame:
    """24-hour duty board: open orders with the running clock, those nearest a breach first.

    `clock` says which clock runs (到场 before arrival, 完成 after); `minutes_left` is negative
    once breached.
    """
    at = at or db.now()
    sql = (
        "SELECT s.work_order_id, s.community_id, s.order_no, s.urgency, s.category, s.location, "
        "s.status, s.assignee_id, st.name AS assignee, s.reported_at, "
        "CASE WHEN s.arrived_at IS NULL THEN '到场' ELSE '完成' END AS clock, "
        "CASE WHEN s.arrived_at IS NULL THEN s.arrival_deadline ELSE s.completion_deadline END AS deadline, "
        "date_diff('minute', CAST(? AS TIMESTAMP), "
        "  CASE WHEN s.arrived_at IS NULL THEN s.arrival_deadline ELSE s.completion_deadline END) AS minutes_left "
        "FROM work_order_sla_as_of(CAST(? AS TIMESTAMP)) s LEFT JOIN staff st ON st.id = s.assignee_id "
        "WHERE s.status IN ('待派工', '已派工', '处理中', '暂停')"
    )
    params: list[Any] = [at, at]
    if community_id is not None:
        sql += " AND s.community_id = ?"
        params.append(community_id)
    sql += (" ORDER BY minutes_left, CASE s.urgency WHEN '紧急' THEN 0 WHEN '预约' THEN 1 ELSE 2 END, "
            "s.reported_at")
    return db.query(sql, params)


# -- complaints -----------------------------------------------------------------------------
def register_complaint(db: Database, actor: Actor, values: dict[str, Any]) -> tuple[int, str]:
    """Registration with a number at once; 处理中 when a responsible person is given."""
    values = dict(values)
    values.setdefault("received_at", db.now())
    if values.get("responsible_id") is not None:
        values.setdefault("status", "处理中")
    result = apply_changes(db, actor, "complaints", [RowChange("insert", values=values)])
    cid = result.inserted[0]
    return cid, db.scalar("SELECT complaint_no FROM complaints WHERE id = ?", [cid])


def move_complaint(db: Database, actor: Actor, complaint_id: int, status: str, at: datetime | None = None,
                   **values: Any) -> None:
    """Move a complaint to `status` (refused by the save path unless its flow allows it)."""
    _move(db, actor, "complaints", complaint_id, status, at, values)
