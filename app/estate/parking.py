"""The parking desk (停车场): entries and exits, who is parked now, temporary fees, occupancy.

The fee formula lives once, in SQL (`parking_fees_of` in sql/views/v_parking_temp_fees.sql: the
临时停车收费规则 in force for the vehicle type, or the parking.* settings where a community has
none, every stay of a set in one statement): the calculator and the charge at the exit
(`parking_event_fee`, the same statement over one stay) and the cars parked now use it exactly
as the view does.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

PAYMENT_METHODS = ("现金", "微信", "支付宝", "免费放行")
VEHICLE_TYPES = ("小型汽车", "新能源汽车", "摩托车", "其他")  # parking_rules.vehicle_type


def normal_plate(plate: str | None) -> str | None:
    """浙a 12345 -> 浙A12345."""
    if plate is None:
        return None
    return re.sub(r"[\s·\-]", "", str(plate)).upper() or None


def temp_fee(db: Database, community_id: int, entered_at: datetime, exited_at: datetime,
             vehicle_type: str | None = None) -> tuple[int, Decimal]:
    """(minutes rounded up, fee) of a temporary stay under the rule in force (or the settings)."""
    minutes, fee = db.rows(
        "SELECT parking_stay_minutes(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP)), "
        "parking_event_fee(CAST(? AS BIGINT), CAST(? AS VARCHAR), CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))",
        [entered_at, exited_at, community_id, vehicle_type, entered_at, exited_at],
    )[0]
    return int(minutes), Decimal(fee)


def rules(db: Database, community_id: int) -> pd.DataFrame:
    """The community's temporary-parking rules, newest first (empty: the settings apply)."""
    return db.query(
        "SELECT name, coalesce(vehicle_type, '全部车型') AS vehicle_type, free_minutes, first_hour, per_hour, "
        "daily_cap, cap_basis, night_from, night_to, night_per_hour, valid_from, valid_to FROM parking_rules "
        "WHERE community_id = ? AND deleted_at IS NULL ORDER BY vehicle_type NULLS FIRST, valid_from DESC",
        [community_id])


def fee_rules(db: Database, community_id: int) -> dict[str, Any]:
    """The three settings used where the community has no rule, for showing next to the calculator."""
    free, rate, cap = db.rows(
        "SELECT setting_int('parking.free_minutes', ?), setting_money('parking.hourly_rate', ?), "
        "setting_money('parking.daily_cap', ?)",
        [community_id, community_id, community_id],
    )[0]
    return {"free_minutes": free, "hourly_rate": rate, "daily_cap": cap}


def record_entry(db: Database, actor: Actor, community_id: int, plate: str, at: datetime | None = None,
                 **values: Any) -> int:
    """A vehicle enters; temporary unless its plate has a space in this community."""
    row = {"community_id": community_id, "plate": plate, "entered_at": at or db.now(), **values}
    return apply_changes(db, actor, "parking_events", [RowChange("insert", values=row)]).inserted[0]


def record_exit(db: Database, actor: Actor, event_id: int, at: datetime | None = None,
                payment_method: str = "现金") -> Decimal:
    """A vehicle leaves: the stay is closed and, if temporary, its fee charged; returns the fee."""
    row = db.rows(
        "SELECT community_id, entered_at, is_temporary, row_version, vehicle_type FROM parking_events "
        "WHERE id = ? AND deleted_at IS NULL AND exited_at IS NULL",
        [event_id],
    )
    if not row:
        raise KeyError(f"进出记录 {event_id} 不存在或已出场")
    community_id, entered_at, temporary, version, vehicle_type = row[0]
    at = at or db.now()
    values: dict[str, Any] = {"exited_at": at}
    fee = Decimal("0.00")
    if temporary:
        _, fee = temp_fee(db, community_id, entered_at, at, vehicle_type)
        values["fee_charged"] = fee
        values["payment_method"] = payment_method if fee > 0 else "免费放行"
    apply_changes(db, actor, "parking_events", [RowChange("update", event_id, values, version)])
    return fee


def parked_now(db: Database, community_id: int | None = None, at: datetime | None = None) -> pd.DataFrame:
    """Vehicles inside now: plate, space, since when, minutes so far and the fee if they left now."""
    at = at or db.now()
    # every temporary stay inside is priced in one statement (parking_fees_of), as if it left at `at`
    sql = (
        "WITH inside AS (SELECT * FROM parking_events e WHERE e.deleted_at IS NULL AND e.exited_at IS NULL "
        "AND e.entered_at <= CAST(? AS TIMESTAMP)), "
        "fees AS (SELECT * FROM parking_fees_of((SELECT list({'id': CAST(id AS BIGINT), "
        "'community_id': CAST(community_id AS BIGINT), 'vehicle_type': CAST(vehicle_type AS VARCHAR), "
        "'entered_at': CAST(entered_at AS TIMESTAMP), 'exited_at': CAST(? AS TIMESTAMP)}) "
        "FROM inside WHERE is_temporary))) "
        "SELECT e.id AS parking_event_id, e.community_id, e.plate, e.is_temporary, s.space_no, "
        "h.code AS household, e.entered_at, "
        "parking_stay_minutes(e.entered_at, CAST(? AS TIMESTAMP)) AS minutes, f.fee AS fee_now "
        "FROM inside e LEFT JOIN fees f ON f.id = e.id "
        "LEFT JOIN parking_spaces s ON s.id = e.parking_space_id "
        "LEFT JOIN households h ON h.id = s.household_id WHERE true"
    )
    params: list[Any] = [at, at, at]
    if community_id is not None:
        sql += " AND e.community_id = ?"
        params.append(community_id)
    return db.query(sql + " ORDER BY e.entered_at", params)


def find_open_stay(db: Database, community_id: int, plate: str) -> int | None:
    """The open stay of a plate in a community (as typed at the gate), if any."""
    return db.scalar(
        "SELECT max(id) FROM parking_events WHERE community_id = ? AND plate = ? AND exited_at IS NULL "
        "AND deleted_at IS NULL",
        [community_id, normal_plate(plate)],
    )


def leases_expiring(db: Database, community_id: int | None = None) -> pd.DataFrame:
    sql = "SELECT * FROM v_parking_lease_expiring"
    params: list[Any] = []
    if community_id is not None:
        sql += " WHERE community_id = ?"
        params.append(community_id)
    return db.query(sql + " ORDER BY days_left, space_no", params)


def occupancy(db: Database, community_id: int) -> dict[str, Any]:
    res = db.cursor().execute("SELECT * FROM v_parking_occupancy WHERE community_id = ?", [community_id])
    names = [c[0] for c in res.description]
    got = res.fetchone()
    return dict(zip(names, got)) if got else {}


def fees_today(db: Database, community_id: int) -> pd.DataFrame:
    return db.query(
        "SELECT plate, entered_at, exited_at, minutes, fee, fee_charged FROM v_parking_temp_fees "
        "WHERE community_id = ? AND CAST(exited_at AS DATE) = current_date ORDER BY exited_at DESC",
        [community_id],
    )
