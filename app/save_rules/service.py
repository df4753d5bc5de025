"""Save rules of 维修与投诉: what the work-order and complaint workflows need besides their moves.

The moves and the moments they stamp are declared in the registers' definitions (`[workflow]`,
enforced by app/save_rules/workflow.py). Here: who must be named at each step, moments in order,
numbering at intake. Pausing an order opens a `work_order_pauses` row and resuming closes it;
recording a visit moves a 已完成 order to 已回访. Those side effects are written in the same
transaction.
"""

from __future__ import annotations

from datetime import datetime

from app.save_rules.workflow import refused
from app.saving.changes import RowChange, SaveContext, save_rule
from app.storage.db import in_list, q

FINISHED = ("已完成", "已回访", "已关闭")
# Moments that must not go backwards, in the order they happen.
WORK_ORDER_CLOCK = ("reported_at", "dispatched_at", "arrived_at", "completed_at", "closed_at")

COMPLAINT_CLOCK = ("received_at", "handled_at", "feedback_at", "closed_at")


def _check_clock(ctx: SaveContext, i: int, c: RowChange, new: dict, columns: tuple[str, ...]) -> None:
    last_col, last = None, None
    for col in columns:
        value = new.get(col)
        if not isinstance(value, datetime):
            continue
        if last is not None and value < last:
            label, before = ctx.register.label_of(col), ctx.register.label_of(last_col)
            ctx.problem(i, c, col, f"{label} {value:%Y-%m-%d %H:%M} 早于{before} {last:%Y-%m-%d %H:%M}")
            return
        last_col, last = col, value


def _next_numbers(ctx: SaveContext, table: str, column: str, prefix: str, day: datetime, n: int) -> list[str]:
    """n new numbers `PREFIX-YYYYMMDD-NNN` following the highest one of that day."""
    stem = f"{prefix}-{day:%Y%m%d}-"
    top = ctx.cur.execute(
        "SELECT max(CAST(substr(" + q(column) + ", ?) AS INTEGER)) FROM " + q(table)
        + " WHERE " + q(column) + " LIKE ? AND length(" + q(column) + ") = ?",
        [len(stem) + 1, stem + "%", len(stem) + 3],
    ).fetchone()[0] or 0
    return [f"{stem}{top + k:03d}" for k in range(1, n + 1)]


def _number_new_rows(ctx: SaveContext, table: str, column: str, prefix: str, moment_col: str) -> None:
    """Give each inserted row without a number the next number of its day (intake numbering)."""
    by_day: dict[str, list[tuple[RowChange, dict]]] = {}
    for _, c, new, _ in ctx.rows:
        if c.action == "insert" and not new.get(column) and isinstance(new.get(moment_col), datetime):
            by_day.setdefault(f"{new[moment_col]:%Y%m%d}", []).append((c, new))
    for rows in by_day.values():
        numbers = _next_numbers(ctx, table, column, prefix, rows[0][1][moment_col], len(rows))
        for (c, new), number in zip(rows, numbers):
            new[column] = number
            c.values[column] = number


# -- work orders ----------------------------------------------------------------------------
@save_rule("work_orders")
def work_order_flow(ctx: SaveContext) -> None:
    pauses_to_open: list[tuple[int, datetime, str | None]] = []
    pauses_to_close: list[tuple[int, datetime]] = []
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            if old and old.get("status") != "待派工":
                ctx.problem(i, c, "status", "已派工的报修单不能删除，请按流程办结")
            continue
        before = old.get("status") if old else None
        after = new.get("status")
        if ctx.history or refused(ctx, i, c):
            continue  # history: a record of the past, its states and stamps are the file's
        if c.action == "update" and after != before:  # the move's moment, stamped by the workflow
            if after == "处理中" and before == "暂停":
                pauses_to_close.append((c.row_id, new["status_changed_at"]))
            elif after == "暂停":
                pauses_to_open.append((c.row_id, new["status_changed_at"], new.get("pause_reason")))
        if after != "待派工" and new.get("assignee_id") is None:
            ctx.problem(i, c, "assignee_id", "派工须指定维修人员")
        if new.get("urgency") == "预约" and new.get("appointment_at") is None:
            ctx.problem(i, c, "appointment_at", "预约报修须填写预约时间")
        if after == "已回访" and before == "已完成" and c.row_id is not None:
            visits = ctx.cur.execute(
                "SELECT count(*) FROM work_order_visits WHERE work_order_id = ? AND deleted_at IS NULL",
                [c.row_id],
            ).fetchone()[0]
            if not visits:
                ctx.problem(i, c, "status", "尚无回访记录：请在“维修回访”中登记回访（满意度 1–5 分），报修单会自动转为已回访")
        _check_clock(ctx, i, c, new, WORK_ORDER_CLOCK)
    _check_rework_links(ctx)
    if ctx.problems:
        return
    _number_new_rows(ctx, "work_orders", "order_no", "BX", "reported_at")
    _open_pauses(ctx, pauses_to_open)
    _close_pauses(ctx, pauses_to_close)


def _check_rework_links(ctx: SaveContext) -> None:
    wanted = {
        new["rework_of"]
        for _, c, new, _ in ctx.rows
        if c.action != "delete" and "rework_of" in c.values and isinstance(new.get("rework_of"), int)
    }
    if not wanted:
        return
    placeholders, params = in_list(sorted(wanted))
    found = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT id, status, community_id, order_no FROM work_orders WHERE id IN " + placeholders, params
        ).fetchall()
    }
    for i, c, new, _ in ctx.rows:
        ref = new.get("rework_of")
        if c.action == "delete" or "rework_of" not in c.values or ref not in found:
            continue
        status, community, number = found[ref]
        if ref == c.row_id:
            ctx.problem(i, c, "rework_of", "返修原单不能是本单")
        elif status not in FINISHED:
            ctx.problem(i, c, "rework_of", f"原单 {number} 尚未完成（{status}），不能开返修单")
        elif community != new.get("community_id"):
            ctx.problem(i, c, "rework_of", f"原单 {number} 不属于本小区")


def _open_pauses(ctx: SaveContext, pauses: list[tuple[int, datetime, str | None]]) -> None:
    if not pauses:
        return
    ctx.insert("work_order_pauses", [
        {"work_order_id": order_id, "paused_at": at, "resumed_at": None, "reason": reason}
        for order_id, at, reason in pauses], "报修单暂停自动生成")


def _close_pauses(ctx: SaveContext, resumes: list[tuple[int, datetime]]) -> None:
    if not resumes:
        return
    resumed = {}
    for order_id, at in resumes:
        for pause_id, paused_at in ctx.cur.execute(
            "SELECT id, paused_at FROM work_order_pauses WHERE work_order_id = ? AND resumed_at IS NULL "
            "AND deleted_at IS NULL",
            [order_id],
        ).fetchall():
            resumed[pause_id] = {"resumed_at": max(at, paused_at)}
    ctx.update("work_order_pauses", resumed, "报修单恢复处理自动填写", check_right=False)


@save_rule("work_order_pauses")
def pause_ends_after_it_starts(ctx: SaveContext) -> None:
    for i, c, new, _ in ctx.rows:
        start, end = new.get("paused_at"), new.get("resumed_at")
        if c.action != "delete" and start and end and end < start:
            ctx.problem(i, c, "resumed_at", "恢复时间不能早于暂停时间")


@save_rule("work_order_visits")
def visit_after_completion(ctx: SaveContext) -> None:
    """Only a finished order is visited; the first visit moves a 已完成 order to 已回访."""
    if ctx.history:
        return  # the imported order already has the state the visit led to
    ids = {new.get("work_order_id") for _, c, new, _ in ctx.rows if c.action != "delete"}
    ids = {x for x in ids if isinstance(x, int)}
    if not ids:
        return
    placeholders, params = in_list(sorted(ids))
    orders = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT id, status, completed_at, order_no, row_version FROM work_orders WHERE id IN " + placeholders,
            params,
        ).fetchall()
    }
    to_visited: dict[int, datetime] = {}
    for i, c, new, _ in ctx.rows:
        if c.action == "delete" or new.get("work_order_id") not in orders:
            continue
        status, completed_at, number, _ = orders[new["work_order_id"]]
        if status not in FINISHED:
            ctx.problem(i, c, "work_order_id", f"报修单 {number} 尚未完成（{status}），不能回访")
            continue
        visited = new.get("visited_at")
        if visited and completed_at and visited < completed_at:
            ctx.problem(i, c, "visited_at", f"回访时间早于完成时间 {completed_at:%Y-%m-%d %H:%M}")
            continue
        if c.action == "insert" and status == "已完成":
            first = to_visited.get(new["work_order_id"])
            to_visited[new["work_order_id"]] = min(first, visited) if first and visited else (visited or first)
    if ctx.problems or not to_visited:
        return
    now = ctx.db.now()
    ctx.update("work_orders", {order_id: {"status": "已回访", "status_changed_at": at or now}
                               for order_id, at in sorted(to_visited.items())},
               "登记回访自动转为已回访", where="status = ?", params=["已完成"])


# -- complaints -----------------------------------------------------------------------------
@save_rule("complaints")
def complaint_flow(ctx: SaveContext) -> None:
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            if old and old.get("status") != "待处理":
                ctx.problem(i, c, "status", "已受理处理的投诉不能删除")
            continue
        before = old.get("status") if old else None
        after = new.get("status")
        if ctx.history or refused(ctx, i, c):
            continue
        if c.action == "update" and before == "待处理" and after == "已关闭" and new.get("is_valid") is not False:
            ctx.problem(i, c, "status", "有效投诉须处理并反馈后才能关闭；仅咨询的请先把“有效投诉”改为“否”")
            continue
        if after in ("处理中", "已处理", "已反馈") and new.get("responsible_id") is None:
            ctx.problem(i, c, "responsible_id", "受理后须指定责任人")
        if after in ("已处理", "已反馈") and not (new.get("result") or "").strip():
            ctx.problem(i, c, "result", "须填写处理结果")
        _check_clock(ctx, i, c, new, COMPLAINT_CLOCK)
    if not ctx.problems:
        _number_new_rows(ctx, "complaints", "complaint_no", "TS", "received_at")


# -- materials (维修领料) ---------------------------------------------------------------------
@save_rule("stock_movements")
def materials_for_a_work_order(ctx: SaveContext) -> None:
    """Materials go out for a dispatched, unclosed order of the item's community, priced at issue.

    A 出库 naming a work order without a unit price gets the item's average price as of the
    movement's date (v_stock_balance), so the order's material cost stays what it was when issued.
    """
    rows = [(i, c, new) for i, c, new, _ in ctx.rows
            if c.action == "insert" and isinstance(new.get("work_order_id"), int)]
    if not rows:
        return
    placeholders, params = in_list(sorted({new["work_order_id"] for _, _, new in rows}))
    orders = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT id, order_no, status, community_id, reported_at FROM work_orders WHERE id IN " + placeholders,
            params,
        ).fetchall()
    }
    items = {new.get("stock_item_id") for _, _, new in rows if isinstance(new.get("stock_item_id"), int)}
    placeholders, params = in_list(sorted(items) or [-1])
    communities = dict(ctx.cur.execute(
        "SELECT id, community_id FROM stock_items WHERE id IN " + placeholders, params).fetchall())
    pricing = []
    for i, c, new in rows:
        if new["work_order_id"] not in orders:
            continue  # the generic reference check reports it
        number, status, community, reported_at = orders[new["work_order_id"]]
        if new.get("direction") != "出库":
            ctx.problem(i, c, "direction", f"维修领料只能是“出库”（报修单 {number}）")
        elif status in ("待派工", "已关闭") and not ctx.history:  # history: issued before it closed
            ctx.problem(i, c, "work_order_id", f"报修单 {number} {status}，不能领料" +
                        ("：请先派工" if status == "待派工" else ""))
        elif new.get("stock_item_id") in communities and communities[new["stock_item_id"]] != community:
            ctx.problem(i, c, "stock_item_id", f"物品不属于报修单 {number} 所在小区")
        elif isinstance(new.get("moved_at"), datetime) and new["moved_at"] < reported_at:
            ctx.problem(i, c, "moved_at", f"领料时间早于报修时间 {reported_at:%Y-%m-%d %H:%M}")
        elif new.get("unit_price") is None and isinstance(new.get("moved_at"), datetime):
            pricing.append((c, new))
    if ctx.problems or not pricing:
        return
    for c, new in pricing:
        price = ctx.cur.execute(
            "SELECT avg_price FROM stock_balance_as_of(CAST(? AS DATE)) WHERE stock_item_id = ?",
            [new["moved_at"], new["stock_item_id"]],
        ).fetchone()
        if price and price[0] is not None:
            new["unit_price"] = price[0]
            c.values["unit_price"] = price[0]
