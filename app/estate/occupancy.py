"""Move-in (入住手续), vacant units (空房检查, 钥匙) and emergencies as plain services over the save path."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database, in_list

MOVE_IN_ITEMS = ("docs_checked", "agreement_signed", "meters_recorded", "keys_handed_over", "first_fees_paid")


def communities(db: Database, actor: Actor) -> dict[int, str]:
    """id -> name of the communities the actor manages, for a page's picker."""
    rows = db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id")
    allowed = actor.communities
    return {cid: name for cid, name in rows if allowed is None or cid in allowed}


def households(db: Database, community_id: int, statuses: tuple[str, ...] | None = None) -> dict[int, str]:
    """id -> code of a community's households (optionally of some statuses)."""
    sql = "SELECT id, code FROM households WHERE deleted_at IS NULL AND community_id = ?"
    params: list[Any] = [community_id]
    if statuses:
        placeholders, values = in_list(statuses)
        sql += " AND status IN " + placeholders
        params += values
    return dict(db.rows(sql + " ORDER BY code", params))


def staff(db: Database, community_id: int | None = None) -> dict[int, str]:
    """id -> name of staff in service (of the community, or of head office)."""
    sql = "SELECT id, name FROM staff WHERE deleted_at IS NULL AND coalesce(status, '在职') = '在职'"
    params: list[Any] = []
    if community_id is not None:
        sql += " AND (community_id = ? OR community_id IS NULL)"
        params.append(community_id)
    return dict(db.rows(sql + " ORDER BY id", params))


def start_move_in(db: Database, actor: Actor, household_id: int, started_on: date | None = None,
                  **values: Any) -> int:
    row = {"household_id": household_id, "started_on": started_on or db.now().date(), **values}
    return apply_changes(db, actor, "move_ins", [RowChange("insert", values=row)]).inserted[0]


def complete_move_in(db: Database, actor: Actor, move_in_id: int, on: date | None = None, **values: Any) -> None:
    """Close the move-in (every item must be done); the household's move-in date follows."""
    version = db.scalar("SELECT row_version FROM move_ins WHERE id = ?", [move_in_id])
    apply_changes(db, actor, "move_ins", [
        RowChange("update", move_in_id, {**values, "completed_on": on or db.now().date()}, version)])


def record_vacant_check(db: Database, actor: Actor, household_id: int, checked_on: date | None = None,
                        **values: Any) -> int:
    row = {"household_id": household_id, "checked_on": checked_on or db.now().date(), **values}
    return apply_changes(db, actor, "vacant_checks", [RowChange("insert", values=row)]).inserted[0]


def lend_key(db: Database, actor: Actor, household_id: int, holder: str, at: datetime | None = None,
             **values: Any) -> int:
    row = {"household_id": household_id, "holder": holder, "borrowed_at": at or db.now(), **values}
    return apply_changes(db, actor, "keys", [RowChange("insert", values=row)]).inserted[0]


def return_key(db: Database, actor: Actor, loan_id: int, at: datetime | None = None) -> None:
    version = db.scalar("SELECT row_version FROM keys WHERE id = ?", [loan_id])
    apply_changes(db, actor, "keys", [RowChange("update", loan_id, {"returned_at": at or db.now()}, version)])
