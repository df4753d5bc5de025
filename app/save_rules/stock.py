"""Save rules of 采购与库存: quantities, a balance that is never negative, the purchase workflow.

Marking an approved purchase request 已入库 writes its 入库 movement in the same transaction:
the storekeeper records the goods once, and the request and the ledger cannot disagree.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from app import registers
from app.changes import SaveContext, row_json, save_rule, write_audit
from app.permissions import require

ZERO = Decimal(0)


def show_qty(value: Decimal) -> str:
    """3.000 -> '3', 2.500 -> '2.5' (quantities have three decimals in the table)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed_qty(direction: str | None, qty: Decimal | None) -> Decimal | None:
    """How a movement changes the balance: 入库 +, 出库 −, 盘点调整 as signed."""
    if qty is None:
        return None
    return {"入库": qty, "出库": -qty, "盘点调整": qty}.get(direction or "")


@save_rule("stock_movements")
def movement_quantities(ctx: SaveContext) -> None:
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            continue
        direction, qty = new.get("direction"), new.get("qty")
        if qty is None:
            continue
        if direction in ("入库", "出库") and qty <= 0:
            ctx.problem(i, c, "qty", f"{direction}数量应大于 0")
        elif direction == "盘点调整" and qty == 0:
            ctx.problem(i, c, "qty", "盘点调整数量不能为 0（盘盈填正数，盘亏填负数）")
        if direction == "入库" and new.get("unit_price") is None:
            ctx.problem(i, c, "unit_price", "入库须填写单价")


@save_rule("stock_movements")
def stock_never_negative(ctx: SaveContext) -> None:
    """No movement may leave an item's balance below zero at its moment or at any later one.

    Existing movements and the whole change set are replayed in time order (at the same moment
    additions before withdrawals), so an outbound may use an inbound of the same change set.
    """
    incoming: dict[int, list[tuple[datetime, Decimal, int, object]]] = defaultdict(list)
    for i, c, new, _ in ctx.rows:
        delta = signed_qty(new.get("direction"), new.get("qty"))
        item, moved_at = new.get("stock_item_id"), new.get("moved_at")
        if c.action == "delete" or delta is None or not isinstance(item, int) or moved_at is None:
            continue
        incoming[item].append((moved_at, delta, i, c))
    if not incoming:
        return
    touched = [c.row_id for _, c, _, _ in ctx.rows if c.action != "insert" and c.row_id is not None]
    events: dict[int, list[tuple]] = defaultdict(list)
    for item, moved_at, direction, qty in ctx.cur.execute(
        "SELECT stock_item_id, moved_at, direction, qty FROM stock_movements "
        "WHERE deleted_at IS NULL AND stock_item_id IN (SELECT unnest(?)) AND id NOT IN (SELECT unnest(?))",
        [sorted(incoming), touched or [-1]],
    ).fetchall():
        delta = signed_qty(direction, qty)
        if delta is not None:
            events[item].append((moved_at, delta < 0, 0, -1, delta, None))
    for item, moves in incoming.items():
        for moved_at, delta, i, c in moves:
            events[item].append((moved_at, delta < 0, 1, i, delta, c))
    names = dict(ctx.cur.execute(
        "SELECT id, name FROM stock_items WHERE id IN (SELECT unnest(?))", [sorted(incoming)]
    ).fetchall())
    for item, timeline in events.items():
        timeline.sort(key=lambda e: e[:4])
        balance = ZERO
        for n, (moved_at, _, _, i, delta, c) in enumerate(timeline):
            before, balance = balance, balance + delta
            if balance >= 0 or delta >= 0:
                continue
            name = names.get(item, f"编号 {item}")
            what = f"出库 {show_qty(-delta)}" if c is None or _direction(ctx, i) == "出库" \
                else f"盘点调整 {show_qty(delta)}"
            if c is not None:
                when = "" if n == len(timeline) - 1 else f"{moved_at:%Y-%m-%d %H:%M} 时"
                ctx.problem(i, c, "qty",
                            f"「{name}」{when}库存 {show_qty(before)}，{what} 后为 {show_qty(balance)}，不能为负")
            else:
                # An earlier movement of this change set takes what a later one already used.
                i, c = next((m[2], m[3]) for m in sorted(incoming[item], key=lambda m: m[0], reverse=True)
                            if m[0] <= moved_at and m[1] < 0)
                ctx.problem(i, c, "qty",
                            f"「{name}」加上此笔后，{moved_at:%Y-%m-%d %H:%M} 的{what} 会使库存为 "
                            f"{show_qty(balance)}，不能为负")
            break


def _direction(ctx: SaveContext, index: int) -> str | None:
    return next(new.get("direction") for i, _, new, _ in ctx.rows if i == index)


TRANSITIONS = {
    "待审批": {"待审批", "已批准", "已驳回"},
    "已批准": {"已批准", "已驳回", "已入库", "待审批"},
    "已驳回": {"已驳回", "待审批"},
    "已入库": {"已入库"},
}
FROZEN_WHEN_RECEIVED = ("stock_item_id", "qty", "unit_price", "est_price", "received_at")


@save_rule("purchase_requests")
def purchase_request_workflow(ctx: SaveContext) -> None:
    """待审批 → 已批准/已驳回 → (已批准) 已入库; the approver decides and is not the requester."""
    receiving = []
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            if old and old.get("status") == "已入库":
                ctx.problem(i, c, None, "已入库的采购申请不能删除，如有差错请在出入库中做盘点调整")
            continue
        status = new.get("status")
        before = old.get("status") if old else None
        if before is None and status == "已入库" or before and status not in TRANSITIONS.get(before, {status}):
            if status == "已入库":
                ctx.problem(i, c, "status", f"只有已批准的申请才能入库（当前为{before or '新申请'}），请先审批")
            else:
                ctx.problem(i, c, "status", f"已入库的申请不能改为{status}")
            continue
        if before == "已入库":
            frozen = [col for col in FROZEN_WHEN_RECEIVED if col in c.values and new.get(col) != old.get(col)]
            if frozen:
                ctx.problem(i, c, frozen[0], "申请已入库，不能再改；如有差错请在出入库中做盘点调整")
            continue
        if status in ("已批准", "已驳回"):
            approver = new.get("approved_by_id")
            if approver is None:
                ctx.problem(i, c, "approved_by_id", f"{status}须填写审批人")
            elif approver == new.get("requested_by_id"):
                ctx.problem(i, c, "approved_by_id", "审批人不能是申请人本人")
        if status == "已入库" and before == "已批准":
            price = new.get("unit_price") if new.get("unit_price") is not None else new.get("est_price")
            if price is None:
                ctx.problem(i, c, "unit_price", "入库须填写实际单价或预计单价")
                continue
            receiving.append((c.row_id, new, price))
    if receiving and not ctx.problems:
        _receive(ctx, receiving)


def _receive(ctx: SaveContext, receiving: list[tuple[int, dict, Decimal]]) -> None:
    """Write the 入库 movement of each request turned 已入库, with its audit rows."""
    reg = registers.get("stock_movements")
    require(ctx.actor, reg.name, "add", reg.label)
    now = ctx.db.now()
    ids = ctx.db.allocate_ids(ctx.cur, reg.name, len(receiving))
    rows = []
    for movement_id, (request_id, request, price) in zip(ids, receiving):
        rows.append({
            "id": movement_id,
            "stock_item_id": request["stock_item_id"],
            "moved_at": request.get("received_at") or now,
            "direction": "入库",
            "qty": request["qty"],
            "unit_price": price,
            "purchase_request_id": request_id,
            "handler_id": request.get("requested_by_id"),
            "note": f"采购申请 {request_id} 入库",
            "created_at": now,
            "updated_at": now,
            "row_version": 1,
        })
    columns = list(rows[0])
    ctx.cur.executemany(
        "INSERT INTO stock_movements (" + ", ".join(columns) + ") VALUES ("
        + ", ".join("?" for _ in columns) + ")",
        [[row[col] for col in columns] for row in rows],
    )
    change_id = getattr(ctx, "change_id", None) or uuid.uuid4().hex
    write_audit(ctx.db, ctx.cur, ctx.actor, reg.name, change_id,
                [(row["id"], "新增", None, row_json(reg, row)) for row in rows], now,
                "采购申请入库自动生成")
