"""Save rules of 采购与库存: quantities, a balance that is never negative, the purchase workflow.

Marking an approved purchase request 已入库 writes its 入库 movement in the same transaction:
the storekeeper records the goods once, and the request and the ledger cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list

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
    """No movement may leave an item's balance below zero, at its moment or at any later one.

    Existing movements and the change set are replayed in time order (at the same moment,
    additions before withdrawals), so an outbound may use an inbound of the same change set.
    A dip is the change set's fault only where it is lower than without the change set.
    """
    incoming: dict[int, list[tuple]] = defaultdict(list)
    for i, c, new, _ in ctx.rows:
        direction = new.get("direction")
        delta = signed_qty(direction, new.get("qty"))
        item, moved_at = new.get("stock_item_id"), new.get("moved_at")
        if c.action == "delete" or delta is None or not isinstance(item, int) or moved_at is None:
            continue
        incoming[item].append((moved_at, delta < 0, 1, i, delta, direction, c))
    if not incoming:
        return
    touched = [c.row_id for _, c, _, _ in ctx.rows if c.action != "insert" and c.row_id is not None]
    timelines: dict[int, list[tuple]] = defaultdict(list)
    for item, moved_at, direction, qty in ctx.cur.execute(
        "SELECT stock_item_id, moved_at, direction, qty FROM stock_movements "
        "WHERE deleted_at IS NULL AND stock_item_id IN " + in_list(sorted(incoming))[0]
        + " AND id NOT IN " + in_list(touched or [-1])[0],
        [*in_list(sorted(incoming))[1], *in_list(touched or [-1])[1]],
    ).fetchall():
        delta = signed_qty(direction, qty)
        if delta is not None:
            timelines[item].append((moved_at, delta < 0, 0, -1, delta, direction, None))
    names = dict(
        ctx.cur.execute(
            "SELECT id, name FROM stock_items WHERE id IN " + in_list(sorted(incoming))[0],
            in_list(sorted(incoming))[1],
        ).fetchall()
    )
    for item, moves in incoming.items():
        timeline = sorted(timelines[item] + moves, key=lambda e: e[:4])
        balance = base = ZERO
        for n, (moved_at, _, is_new, i, delta, direction, c) in enumerate(timeline):
            before = balance
            balance += delta
            base += 0 if is_new else delta
            if delta >= 0 or balance >= 0 or balance >= base:
                continue
            name = names.get(item, f"编号 {item}")
            what = (
                f"出库 {show_qty(-delta)}" if direction == "出库" else f"盘点调整 {show_qty(delta)}"
            )
            if is_new:
                when = "" if n == len(timeline) - 1 else f"{moved_at:%Y-%m-%d %H:%M} 时"
                message = f"「{name}」{when}库存 {show_qty(before)}，{what} 后为 {show_qty(balance)}，不能为负"
            else:
                # A withdrawal of this change set, dated earlier, takes what a later one used.
                earlier = [m for m in moves if m[1] and m[0] <= moved_at] or moves
                _, _, _, i, _, _, c = max(earlier, key=lambda m: m[:4])
                message = (
                    f"「{name}」加上此笔后，{moved_at:%Y-%m-%d %H:%M} 的{what} "
                    f"会使库存为 {show_qty(balance)}，不能为负"
                )
            ctx.problem(i, c, "qty", message)
            break


FROZEN_WHEN_RECEIVED = ("stock_item_id", "qty", "unit_price", "est_price", "received_at")


@save_rule("purchase_requests")
def purchase_request_workflow(ctx: SaveContext) -> None:
    """待审批 → 已批准/已驳回 by an approver other than the requester; only 已批准 → 已入库."""
    receiving = []
    for i, c, new, old in ctx.rows:
        before = old.get("status") if old else None
        if c.action == "delete":
            continue  # a received request is referred to by its movement: the save path keeps it
        status = new.get("status")
        if before == "已入库":
            if status != "已入库":
                ctx.problem(i, c, "status", f"已入库的申请不能改为{status}")
            frozen = [
                col
                for col in FROZEN_WHEN_RECEIVED
                if col in c.values and new.get(col) != old.get(col)
            ]
            if frozen:
                ctx.problem(i, c, frozen[0], "申请已入库，不能再改；如有差错请在出入库中做盘点调整")
            continue
        if status == "已入库" and before != "已批准" and not ctx.history:
            ctx.problem(
                i, c, "status", f"只有已批准的申请才能入库（当前为{before or '新申请'}），请先审批"
            )
            continue
        if status in ("已批准", "已驳回", "已入库"):
            approver = new.get("approved_by_id")
            if approver is None:
                ctx.problem(i, c, "approved_by_id", f"{status}须填写审批人")
            elif approver == new.get("requested_by_id"):
                ctx.problem(i, c, "approved_by_id", "审批人不能是申请人本人")
        if status == "已入库":
            price = (
                new.get("unit_price") if new.get("unit_price") is not None else new.get("est_price")
            )
            if price is None:
                ctx.problem(i, c, "unit_price", "入库须填写实际单价或预计单价")
            else:
                receiving.append((c.row_id, new, price))
    if receiving and not ctx.problems and not ctx.history:  # history: the file has the movement
        _receive(ctx, receiving)


def _receive(ctx: SaveContext, receiving: list[tuple[int, dict, Decimal]]) -> None:
    """Write the 入库 movement of each request turned 已入库, with its audit rows."""
    now = ctx.db.now()
    ctx.insert("stock_movements", [
        {
            "stock_item_id": request["stock_item_id"],
            "moved_at": request.get("received_at") or now,
            "direction": "入库",
            "qty": request["qty"],
            "unit_price": price,
            "purchase_request_id": request_id,
            "note": f"采购申请 {request_id} 入库",
        }
        for request_id, request, price in receiving
    ], "采购申请入库自动生成")
