"""Save rules of paid repairs (有偿维修): a price list that is approved before use and frozen once
approved; a work order's charge lines priced from it (never typed), the order's charge kept as
their total; a billing date on the lines raises one 有偿维修 bill for the order's household, in
the same transaction, for the cashier to collect."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from app import registers
from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list

CENT = Decimal("0.01")
FEE_ITEM = "有偿维修"
FEE_METHOD = "按次"  # not billed by the monthly run: each bill comes from a work order
PRICED = ("price", "labour", "unit", "item")


def _rows_by_id(cur, sql: str, ids) -> dict[int, tuple]:
    if not ids:
        return {}
    placeholders, params = in_list(sorted(ids))
    return {r[0]: r[1:] for r in cur.execute(sql + placeholders, params).fetchall()}


@save_rule("repair_prices")
def price_list_rules(ctx: SaveContext) -> None:
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            continue
        if new.get("status") == "已审批" and new.get("approved_by_id") is None:
            ctx.problem(i, c, "approved_by_id", "审批须填写审批人")
        if old and old.get("status") == "已审批":
            if new.get("status") == "草稿":
                ctx.problem(i, c, "status", "已审批的收费标准不能退回草稿，请停用后新增一条")
            changed = [col for col in PRICED if col in c.values and new.get(col) != old.get(col)]
            if changed:
                ctx.problem(i, c, changed[0], "已审批的收费标准不能修改；调价请停用后新增一条")


@save_rule("work_order_charges")
def charge_by_the_list(ctx: SaveContext) -> None:
    """Price each line from the list, refuse what the list or the order does not allow, then
    raise the bills asked for and keep each order's charge equal to its lines' total."""
    cur = ctx.cur
    orders = _rows_by_id(cur, "SELECT id, order_no, status, community_id, household_id FROM work_orders WHERE id IN ",
                         {n.get("work_order_id") for _, _, n, _ in ctx.rows if isinstance(n.get("work_order_id"), int)}
                         | {o["work_order_id"] for _, _, _, o in ctx.rows if o})
    prices = _rows_by_id(cur, "SELECT id, community_id, item, status, price, labour FROM repair_prices WHERE id IN ",
                         {n["price_id"] for _, _, n, _ in ctx.rows if isinstance(n.get("price_id"), int)})
    for i, c, new, old in ctx.rows:
        if old and old.get("bill_id") is not None:
            if c.action == "delete":
                ctx.problem(i, c, None, "已出账的收费明细不能删除；金额有误请在收银台做账单调整")
            elif any(col != "note" and new.get(col) != old.get(col) for col in c.values):
                ctx.problem(i, c, None, "已出账的收费明细只能改备注；金额有误请在收银台做账单调整")
            continue
        if c.action == "delete" or new.get("work_order_id") not in orders or new.get("price_id") not in prices:
            continue  # the generic checks report a missing reference
        number, status, community, _ = orders[new["work_order_id"]]
        price_community, item, price_status, price, labour = prices[new["price_id"]]
        if price_community != community:
            ctx.problem(i, c, "price_id", f"收费项目「{item}」不属于报修单 {number} 所在小区")
        elif price_status != "已审批" and not ctx.history and (old is None or "price_id" in c.values):
            ctx.problem(i, c, "price_id", f"收费标准「{item}」{price_status}，不能按它收费")
        if status == "已关闭" and c.action == "insert" and not ctx.history:
            ctx.problem(i, c, "work_order_id", f"报修单 {number} 已关闭，不能再加收费")
        qty = new.get("quantity")
        if qty is not None and qty <= 0:
            ctx.problem(i, c, "quantity", "数量应大于 0")
            continue
        if ctx.history and new.get("amount") is not None:
            continue  # recorded as it was charged then
        unit_price = price + labour
        amount = (qty * unit_price).quantize(CENT, ROUND_HALF_UP) if qty is not None else None
        for col, value in (("unit_price", unit_price), ("amount", amount)):
            new[col] = value
            c.values[col] = value
    if ctx.problems or ctx.history:
        return
    _raise_bills(ctx, orders)
    _order_totals(ctx, orders)


def _raise_bills(ctx: SaveContext, orders: dict[int, tuple]) -> None:
    """Lines given a billing date and no bill yet: one 有偿维修 bill per order and date."""
    groups: dict[tuple[int, object], list] = defaultdict(list)
    for i, c, new, _ in ctx.rows:
        if c.action != "delete" and new.get("billed_on") and new.get("bill_id") is None:
            groups[(new["work_order_id"], new["billed_on"])].append((i, c, new))
    if not groups:
        return
    cur, reg = ctx.cur, registers.get("bills")
    now = ctx.db.now()
    bills = []
    for (order_id, on), lines in groups.items():
        number, _, community, household = orders[order_id]
        i, c, _ = lines[0]
        if household is None:
            ctx.problem(i, c, "billed_on", f"报修单 {number} 没有房屋（公共部位），不能向业主出账")
            continue
        fee = cur.execute("SELECT id FROM fee_items WHERE deleted_at IS NULL AND community_id = ? AND name = ? "
                          "AND method = ? AND status = '已审批' ORDER BY id LIMIT 1",
                          [community, FEE_ITEM, FEE_METHOD]).fetchone()
        if fee is None:
            ctx.problem(i, c, "billed_on", f"本小区没有已审批的收费项目「{FEE_ITEM}」（计费方式 {FEE_METHOD}），"
                                           "请先在收费标准中添加")
            continue
        period = on.strftime("%Y-%m")
        if cur.execute("SELECT 1 FROM period_closes WHERE deleted_at IS NULL AND community_id = ? AND period = ?",
                       [community, period]).fetchone():
            ctx.problem(i, c, "billed_on", f"账期 {period} 已结账，不能再出账单；请按当前日期出账")
            continue
        if cur.execute("SELECT 1 FROM bills WHERE deleted_at IS NULL AND household_id = ? AND fee_item_id = ? "
                       "AND period = ?", [household, fee[0], period]).fetchone():
            ctx.problem(i, c, "billed_on", f"该户 {period} 已有一张{FEE_ITEM}账单（每户每月一张），"
                                           "请改在下月出账或并入那一张报修单")
            continue
        total = sum((new["amount"] for _, _, new in lines), Decimal(0))
        bills.append(({"household_id": household, "fee_item_id": fee[0], "period": period, "quantity": Decimal(1),
                       "amount": total, "due_date": on, "issued_at": now,
                       "note": f"报修单 {number} {FEE_ITEM}"}, lines))
    if ctx.problems or not bills:
        return
    rows = []
    for bid, (bill, lines) in zip(ctx.db.allocate_ids(cur, reg.name, len(bills)), bills):
        rows.append({"id": bid, **bill})
        for _, c, new in lines:
            new["bill_id"] = bid
            c.values["bill_id"] = bid
    # the repair desk bills the owner without rights on 收费管理: the bill follows from its save
    ctx.insert(reg.name, rows, "有偿维修出账自动生成", check_right=False)


def _order_totals(ctx: SaveContext, orders: dict[int, tuple]) -> None:
    """Each touched order's charge = the sum of its live lines (this change set's as saved)."""
    cur = ctx.cur
    touched = {new.get("work_order_id") for _, _, new, _ in ctx.rows} | {
        old["work_order_id"] for _, _, _, old in ctx.rows if old}
    touched = sorted(t for t in touched if t in orders)
    if not touched:
        return
    mine = {c.row_id for _, c, _, _ in ctx.rows if c.row_id is not None}
    totals: dict[int, Decimal] = defaultdict(Decimal)
    placeholders, params = in_list(touched)
    for order_id, amount, row_id in cur.execute(
            "SELECT work_order_id, amount, id FROM work_order_charges WHERE deleted_at IS NULL "
            "AND work_order_id IN " + placeholders, params).fetchall():
        if row_id not in mine and amount is not None:
            totals[order_id] += amount
    for _, c, new, _ in ctx.rows:
        if c.action != "delete" and new.get("amount") is not None:
            totals[new["work_order_id"]] += new["amount"]
    ctx.update("work_orders", {order_id: {"charge": totals.get(order_id, Decimal(0)).quantize(CENT)}
                               for order_id in touched}, "按有偿维修收费明细自动合计", check_right=False)
