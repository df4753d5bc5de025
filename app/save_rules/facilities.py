"""Save rules of 设备与消防: fire checks keep the equipment register current; one holder per asset.

A fire check updates `fire_equipment` in the same transaction (the register holds the current
state, the checks hold the history), with its own audit rows.
"""

from __future__ import annotations

from datetime import date

from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list

# Which register date a check of each kind moves forward (DOMAIN.md, fire_checks).
CHECK_MOVES = {
    "月检": "last_checked_on",
    "年检": "last_checked_on",
    "维修": "last_serviced_on",
    "更换": "last_serviced_on",
}
SIDE_EFFECT_NOTE = "由消防检测记录自动更新"


@save_rule("fire_checks")
def fire_check_moves_equipment_forward(ctx: SaveContext) -> None:
    """Move last_checked_on (月检/年检) or last_serviced_on (维修/更换) forward, never backward."""
    latest: dict[tuple[int, str], date] = {}
    checks = []
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            continue
        equipment_id, on = new.get("fire_equipment_id"), new.get("checked_on")
        column = CHECK_MOVES.get(new.get("kind"))
        if not isinstance(equipment_id, int) or column is None or not isinstance(on, date):
            continue
        checks.append((i, c, equipment_id, on))
        key = (equipment_id, column)
        latest[key] = max(on, latest.get(key, on))
    if not latest:
        return
    ids = sorted({equipment_id for equipment_id, _ in latest})
    current = {
        row[0]: {
            "equip_no": row[1],
            "produced_on": row[2],
            "last_checked_on": row[3],
            "last_serviced_on": row[4],
        }
        for row in ctx.cur.execute(
            "SELECT id, equip_no, produced_on, last_checked_on, last_serviced_on FROM fire_equipment "
            "WHERE deleted_at IS NULL AND id IN " + in_list(ids)[0],
            in_list(ids)[1],
        ).fetchall()
    }
    for i, c, equipment_id, on in checks:
        row = current.get(equipment_id)
        if row and row["produced_on"] and on < row["produced_on"]:
            ctx.problem(
                i,
                c,
                "checked_on",
                f"早于器材 {row['equip_no']} 的出厂日期 {row['produced_on']:%Y-%m-%d}",
            )
    if ctx.problems:
        return  # nothing will be written

    moves = {}
    for equipment_id, row in current.items():
        moved = {
            column: latest[(equipment_id, column)]
            for column in ("last_checked_on", "last_serviced_on")
            if (equipment_id, column) in latest
            and (row[column] is None or latest[(equipment_id, column)] > row[column])
        }
        if moved:
            moves[equipment_id] = moved
    ctx.update("fire_equipment", moves, SIDE_EFFECT_NOTE)


@save_rule("asset_assignments")
def asset_has_one_holder_at_a_time(ctx: SaveContext) -> None:
    """An asset in use is received by one person at a time; returned after it was received."""
    rows = [(i, c, new) for i, c, new, _ in ctx.rows if c.action != "delete"]
    for i, c, new in rows:
        received, returned = new.get("received_on"), new.get("returned_on")
        if received and returned and returned < received:
            ctx.problem(i, c, "returned_on", "归还日期不能早于领用日期")
    asset_ids = sorted(
        {new["asset_id"] for _, _, new in rows if isinstance(new.get("asset_id"), int)}
    )
    if not asset_ids:
        return
    assets = {
        r[0]: (f"{r[1]} {r[2]}", r[3])
        for r in ctx.cur.execute(
            "SELECT id, asset_no, name, status FROM assets WHERE id IN " + in_list(asset_ids)[0],
            in_list(asset_ids)[1],
        ).fetchall()
    }
    touched = [c.row_id for _, c, _, _ in ctx.rows if c.action != "insert" and c.row_id is not None]
    open_loans: dict[int, tuple[str, date]] = {
        r[0]: (r[1], r[2])
        for r in ctx.cur.execute(
            "SELECT a.asset_id, s.name, a.received_on FROM asset_assignments a "
            "LEFT JOIN staff s ON s.id = a.staff_id "
            "WHERE a.deleted_at IS NULL AND a.returned_on IS NULL "
            "AND a.asset_id IN " + in_list(asset_ids)[0] + " AND a.id NOT IN " + in_list(touched or [-1])[0],
            [*in_list(asset_ids)[1], *in_list(touched or [-1])[1]],
        ).fetchall()
    }
    staff_ids = sorted({new["staff_id"] for _, _, new in rows if isinstance(new.get("staff_id"), int)})
    placeholders, params = in_list(staff_ids)
    staff_names = dict(
        ctx.cur.execute("SELECT id, name FROM staff WHERE id IN " + placeholders, params).fetchall()
    )
    for i, c, new in rows:
        asset_id = new.get("asset_id")
        if asset_id not in assets:
            continue
        label, status = assets[asset_id]
        if new.get("returned_on") is not None:
            continue
        if status == "报废":
            ctx.problem(i, c, "asset_id", f"「{label}」已报废，不能领用")
            continue
        holder = open_loans.get(asset_id)
        if holder:
            name, since = holder
            ctx.problem(
                i,
                c,
                "asset_id",
                f"「{label}」已由 {name or '他人'} 于 {since:%Y-%m-%d} 领用，尚未归还，归还后才能再领用",
            )
            continue
        open_loans[asset_id] = (
            staff_names.get(new.get("staff_id"), ""),
            new.get("received_on") or date.min,
        )
