"""The service desk: repair intake, dispatch and transitions, complaints, the 24-hour duty board.

Plain services over the save path (`apply_changes`), so the workflow rules in
`app/save_rules/service.py` hold here exactly as in the grid and the importer.
"""

from __future__ import annotations

import html
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from app import registers
from app.access.permissions import Actor, require
from app.exchange.workbook import new_workbook
from app.reading.queries import labels_for
from app.save_rules.service import COMPLAINT_FLOW, WORK_ORDER_FLOW, allowed_next
from app.saving.changes import Problem, RowChange, ValidationFailed, apply_changes
from app.storage.db import Database, in_list, q

OPEN_STATUSES = ("待派工", "已派工", "处理中", "暂停")
URGENCY_ORDER = {"紧急": 0, "预约": 1, "一般": 2}


def _row(db: Database, table: str, row_id: int) -> dict[str, Any]:
    res = db.cursor().execute("SELECT * FROM " + q(table) + " WHERE id = ? AND deleted_at IS NULL", [row_id])
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


def dispatch_many(db: Database, actor: Actor, order_ids: list[int], assignee_id: int,
                  at: datetime | None = None) -> str:
    """Dispatch several orders to one assignee in one change set: every order takes the same
    workflow step through the save path, and one refused order leaves all of them as they were."""
    if not order_ids:
        raise KeyError("请先勾选要派工的报修单")
    changes = []
    for order_id in order_ids:
        row = _row(db, "work_orders", order_id)
        values: dict[str, Any] = {"status": "已派工", "assignee_id": assignee_id}
        if at is not None:
            values["status_changed_at"] = at
        changes.append(RowChange("update", order_id, values, row["row_version"], where=f"报修单 {row['order_no']}"))
    apply_changes(db, actor.via("批量派工"), "work_orders", changes)
    name = db.scalar("SELECT name FROM staff WHERE id = ?", [assignee_id])
    numbers = "、".join(c.where.removeprefix("报修单 ") for c in changes)
    return f"已将 {len(changes)} 张报修单派工给 {name}：{numbers}"


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


def duty_board(db: Database, community_id: int | None = None, at: datetime | None = None,
               actor: Actor | None = None) -> pd.DataFrame:
    """24-hour duty board: open orders with the running clock, those nearest a breach first.

    `clock` says which clock runs (到场 before arrival, 完成 after); `minutes_left` is negative
    once breached.
    """
    at = at or db.now()
    sql = (
        "SELECT s.work_order_id, s.community_id, s.order_no, s.urgency, s.category, "
        "coalesce(h.code, s.location) AS location, "
        "s.status, s.assignee_id, st.name AS assignee, s.reported_at, "
        "CASE WHEN s.arrived_at IS NULL THEN '到场' ELSE '完成' END AS clock, "
        "CASE WHEN s.arrived_at IS NULL THEN s.arrival_deadline ELSE s.completion_deadline END AS deadline, "
        "date_diff('minute', CAST(? AS TIMESTAMP), "
        "  CASE WHEN s.arrived_at IS NULL THEN s.arrival_deadline ELSE s.completion_deadline END) AS minutes_left "
        "FROM work_order_sla_as_of(CAST(? AS TIMESTAMP), open_only := true) s "
        "LEFT JOIN staff st ON st.id = s.assignee_id LEFT JOIN households h ON h.id = s.household_id "
        "WHERE TRUE"
    )
    params: list[Any] = [at, at]
    if actor is not None:
        where, scoped = _scope(actor, "s.community_id", community_id)
        sql += where
        params += scoped
    elif community_id is not None:
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


def complaint_deadlines(db: Database, complaint_id: int) -> tuple[date | None, date | None]:
    """(处理时限, 反馈时限) of a complaint as v_complaint_sla computes them today."""
    got = db.rows("SELECT deadline, feedback_deadline FROM complaint_sla_as_of(current_date) "
                  "WHERE complaint_id = ?", [complaint_id])
    return got[0] if got else (None, None)


def complaint_detail(db: Database, complaint_id: int) -> dict[str, Any]:
    """One complaint as (label, text) lines, with owner_satisfied for the page's flag."""
    row = _row(db, "complaints", complaint_id)
    due, feedback_due = complaint_deadlines(db, complaint_id)
    reg = registers.get("complaints")
    names = {k: db.scalar("SELECT name FROM staff WHERE id = ?", [row[k]]) for k in ("responsible_id",) if row[k]}
    home = db.scalar("SELECT code FROM households WHERE id = ?", [row["household_id"]]) if row["household_id"] else None
    shown = {**row, "responsible_id": names.get("responsible_id"), "household_id": home, "deadline": due}
    lines = [(reg.label_of(f.name), _fmt(shown.get(f.name))) for f in reg.fields
             if f.name not in ("community_id", "status_changed_at")]
    lines.insert(lines.index(("处理时限", _fmt(due))) + 1, ("反馈时限", _fmt(feedback_due)))
    return {"lines": lines, "owner_satisfied": row["owner_satisfied"], "status": row["status"]}


# -- what the desk pages list ---------------------------------------------------------------
def next_steps(status: str | None) -> tuple[str, ...]:
    """The statuses a work order in `status` may move to (the save path's workflow)."""
    return allowed_next(WORK_ORDER_FLOW, status)


def complaint_next_steps(status: str | None) -> tuple[str, ...]:
    return allowed_next(COMPLAINT_FLOW, status)


def _scope(actor: Actor, column: str, community_id: int | None) -> tuple[str, list]:
    """A WHERE fragment: the actor's communities, narrowed to one when given."""
    sql, params = "", []
    if actor.communities is not None:
        placeholders, values = in_list(list(actor.communities))
        sql, params = " AND " + column + " IN " + placeholders, values
    if community_id is not None:
        sql += " AND " + column + " = ?"
        params.append(community_id)
    return sql, params


def communities(db: Database, actor: Actor) -> dict[int, str]:
    where, params = _scope(actor, "id", None)
    return dict(db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL" + where + " ORDER BY id",
                        params))


def staff_choices(db: Database, community_id: int) -> dict[int, str]:
    """Staff in post at a community (the people an order or complaint can be given to)."""
    return dict(db.rows(
        "SELECT s.id, s.name || coalesce('（' || d.name || '）', '') FROM staff s "
        "LEFT JOIN departments d ON d.id = s.department_id "
        "WHERE s.deleted_at IS NULL AND coalesce(s.status, '在职') = '在职' AND s.community_id = ? "
        "ORDER BY d.name NULLS LAST, s.name", [community_id]))


def household_choices(db: Database, community_id: int) -> dict[int, str]:
    return dict(db.rows("SELECT id, code FROM households WHERE deleted_at IS NULL AND community_id = ? "
                        "ORDER BY code", [community_id]))


def order_list(db: Database, actor: Actor, community_id: int | None = None,
               statuses: tuple[str, ...] | None = None, limit: int = 300) -> pd.DataFrame:
    """Orders for the desk: open ones by urgency first (紧急, 预约, 一般), then newest."""
    where, params = _scope(actor, "w.community_id", community_id)
    if statuses:
        placeholders, values = in_list(list(statuses))
        where += " AND w.status IN " + placeholders
        params += values
    return db.query(
        "SELECT w.id, w.order_no, w.status, w.urgency, w.category, coalesce(h.code, w.location) AS place, "
        "w.description, w.reported_at, st.name AS assignee FROM work_orders w "
        "LEFT JOIN households h ON h.id = w.household_id LEFT JOIN staff st ON st.id = w.assignee_id "
        "WHERE w.deleted_at IS NULL" + where + " ORDER BY "
        "CASE WHEN w.status IN ('待派工', '已派工', '处理中', '暂停') THEN 0 ELSE 1 END, "
        "CASE w.urgency WHEN '紧急' THEN 0 WHEN '预约' THEN 1 ELSE 2 END, w.reported_at DESC LIMIT ?",
        [*params, limit])


def order_labels(db: Database, ids: list[int]) -> dict[int, str]:
    """id -> 'number · urgency · category · place', parts that do not change as the order moves on."""
    if not ids:
        return {}
    placeholders, params = in_list(sorted({int(i) for i in ids}))
    return dict(db.rows(
        "SELECT w.id, concat_ws(' · ', w.order_no, w.urgency, w.category, coalesce(h.code, w.location)) "
        "FROM work_orders w LEFT JOIN households h ON h.id = w.household_id WHERE w.id IN " + placeholders, params))


def complaint_list(db: Database, actor: Actor, community_id: int | None = None,
                   open_only: bool = True, limit: int = 300) -> pd.DataFrame:
    """Complaints for the desk with their deadlines, nearest deadline first."""
    where, params = _scope(actor, "s.community_id", community_id)
    if open_only:
        where += " AND s.status <> '已关闭'"
    return db.query(
        "SELECT s.complaint_id AS id, s.complaint_no, s.status, s.category, s.location, s.is_valid, "
        "st.name AS responsible, s.received_at, s.deadline, s.handled_at, s.overdue, s.feedback_deadline, "
        "s.feedback_overdue FROM complaint_sla_as_of(current_date) s LEFT JOIN staff st ON st.id = s.responsible_id "
        "WHERE TRUE" + where + " ORDER BY s.status = '已关闭', s.deadline, s.received_at LIMIT ?",
        [*params, limit])


def order_detail(db: Database, order_id: int) -> dict[str, Any]:
    """One order with its people and places by name and its clocks (v_work_order_sla)."""
    row = _row(db, "work_orders", order_id)
    sla = db.query("SELECT * FROM work_order_sla_as_of(current_date) WHERE work_order_id = ?", [order_id])
    row["sla"] = sla.iloc[0].to_dict() if len(sla) else {}
    row["community"] = db.scalar("SELECT name FROM communities WHERE id = ?", [row["community_id"]])
    row["household"] = db.scalar("SELECT code FROM households WHERE id = ?", [row["household_id"]]) \
        if row["household_id"] else None
    row["assignee"] = db.scalar("SELECT name FROM staff WHERE id = ?", [row["assignee_id"]]) \
        if row["assignee_id"] else None
    row["rework_no"] = db.scalar("SELECT order_no FROM work_orders WHERE id = ?", [row["rework_of"]]) \
        if row["rework_of"] else None
    row["next_steps"] = next_steps(row["status"])
    return row


def order_pauses(db: Database, order_id: int) -> pd.DataFrame:
    return db.query("SELECT paused_at, resumed_at, reason FROM work_order_pauses WHERE work_order_id = ? "
                    "AND deleted_at IS NULL ORDER BY paused_at", [order_id])


def order_visits(db: Database, order_id: int) -> pd.DataFrame:
    return db.query("SELECT v.visited_at, v.method, v.satisfaction, v.comment, v.needs_rework, st.name AS staff "
                    "FROM work_order_visits v LEFT JOIN staff st ON st.id = v.staff_id "
                    "WHERE v.work_order_id = ? AND v.deleted_at IS NULL ORDER BY v.visited_at", [order_id])


# -- materials (维修领料) ---------------------------------------------------------------------
def material_choices(db: Database, order_id: int) -> pd.DataFrame:
    """Stock items of the order's community with something on hand, and their average price."""
    return db.query(
        "SELECT b.stock_item_id, b.code, b.name, b.unit, b.on_hand, b.avg_price "
        "FROM stock_balance_as_of(current_date) b JOIN work_orders w ON w.community_id = b.community_id "
        "WHERE w.id = ? AND b.on_hand > 0 ORDER BY b.code", [order_id])


def issue_materials(db: Database, actor: Actor, order_id: int, items: list[tuple[int, Any]],
                    at: datetime | None = None, handler_id: int | None = None) -> list[int]:
    """Issue stock to an order: one 出库 per item, in one change set (refused if stock would go negative).

    The unit price is the item's average price on the day (filled in by the save path).
    """
    order = _row(db, "work_orders", order_id)
    moved_at = at or db.now()
    changes = [
        RowChange("insert", values={
            "stock_item_id": item, "moved_at": moved_at, "direction": "出库", "qty": qty,
            "work_order_id": order_id, "handler_id": handler_id or order["assignee_id"],
            "note": f"报修单 {order['order_no']} 领料"})
        for item, qty in items if qty
    ]
    return apply_changes(db, actor, "stock_movements", changes).inserted


def order_materials(db: Database, order_id: int) -> pd.DataFrame:
    """Materials issued to an order: each line's amount = qty × unit price, rounded half-up to 0.01."""
    return db.query(
        "SELECT m.moved_at, i.code, i.name, i.unit, m.qty, m.unit_price, "
        "round(m.qty * coalesce(m.unit_price, 0), 2) AS amount FROM stock_movements m "
        "JOIN stock_items i ON i.id = m.stock_item_id "
        "WHERE m.work_order_id = ? AND m.deleted_at IS NULL AND m.direction = '出库' ORDER BY m.moved_at, m.id",
        [order_id])



# -- paid repairs (有偿维修: charged by the price list, billed for the cashier) -------------------
CHARGE_HEADERS = {"item": "服务项目", "unit": "计价单位", "quantity": "数量", "unit_price": "单价(元)",
                  "amount": "金额(元)", "billed_on": "出账日期", "period": "账单账期"}


def price_choices(db: Database, order_id: int) -> pd.DataFrame:
    """Approved items of the order's community price list, with what one unit costs (price + labour)."""
    return db.query(
        "SELECT p.id, p.category, p.item, p.unit, p.price + p.labour AS unit_price FROM repair_prices p "
        "JOIN work_orders w ON w.community_id = p.community_id "
        "WHERE w.id = ? AND p.deleted_at IS NULL AND p.status = '已审批' ORDER BY p.category, p.item", [order_id])


def charge_by_list(db: Database, actor: Actor, order_id: int, items: list[tuple[int, Any]]) -> list[int]:
    """Charge the order for price-list items × quantities (priced and totalled by the save path)."""
    changes = [RowChange("insert", values={"work_order_id": order_id, "price_id": price, "quantity": qty})
               for price, qty in items if qty]
    return apply_changes(db, actor, "work_order_charges", changes).inserted


def order_charges(db: Database, order_id: int) -> pd.DataFrame:
    """The order's charge lines, with the bill each was billed on."""
    return db.query(
        "SELECT c.id, p.item, p.unit, c.quantity, c.unit_price, c.amount, c.billed_on, b.period "
        "FROM work_order_charges c JOIN repair_prices p ON p.id = c.price_id "
        "LEFT JOIN bills b ON b.id = c.bill_id "
        "WHERE c.work_order_id = ? AND c.deleted_at IS NULL ORDER BY c.id", [order_id])


def bill_charges(db: Database, actor: Actor, order_id: int, on: date | None = None) -> int:
    """Bill the order's unbilled charge lines as one 有偿维修 bill dated `on` (today); its id."""
    lines = [r[0] for r in db.rows("SELECT id FROM work_order_charges WHERE work_order_id = ? "
                                   "AND deleted_at IS NULL AND bill_id IS NULL ORDER BY id", [order_id])]
    if not lines:
        raise ValidationFailed([Problem("有偿维修", "", "本单没有未出账的收费明细")])
    on = on or db.now().date()
    apply_changes(db, actor, "work_order_charges", [RowChange("update", i, {"billed_on": on}) for i in lines])
    return db.scalar("SELECT bill_id FROM work_order_charges WHERE id = ?", [lines[0]])

# -- the worker's 维修报告 --------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (datetime, pd.Timestamp)):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def repair_report(db: Database, actor: Actor, order_id: int) -> dict[str, Any]:
    """The 维修报告 of one order: its facts as (label, text) lines, materials, pauses, visits, totals."""
    require(actor, "work_orders", "view", "报修单")
    d = order_detail(db, order_id)
    sla = d["sla"]
    materials = order_materials(db, order_id)
    material_cost = sum((Decimal(str(a)) for a in materials["amount"]), Decimal("0.00"))
    minutes = sla.get("completion_minutes")
    lines = [
        ("报修单号", d["order_no"]), ("小区", d["community"]), ("房屋", d["household"]),
        ("报修位置", d["location"]), ("类别", d["category"]), ("紧急程度", d["urgency"]),
        ("报修方式", d["channel"]), ("报修人", d["reporter_name"]), ("报修内容", d["description"]),
        ("报修时间", d["reported_at"]), ("预约时间", d["appointment_at"]), ("维修人员", d["assignee"]),
        ("派工时间", d["dispatched_at"]), ("到场时间", d["arrived_at"]),
        ("应到场时间", sla.get("arrival_deadline")),
        ("按时到场", sla.get("on_time") if d["arrived_at"] else None),
        ("完成时间", d["completed_at"]),
        ("处理用时", "" if minutes is None or pd.isna(minutes) else f"{minutes / 60:.1f} 小时（不含暂停）"),
        ("维修报告", d["report"]), ("工时(小时)", d["labor_hours"]), ("收费(元)", d["charge"]),
        ("材料费(元)", material_cost), ("业主确认", d["owner_confirmed"]), ("状态", d["status"]),
        ("返修原单", d["rework_no"]),
    ]
    return {"order_no": d["order_no"], "lines": [(k, _fmt(v)) for k, v in lines],
            "materials": materials, "pauses": order_pauses(db, order_id), "visits": order_visits(db, order_id),
            "material_cost": material_cost}


MATERIAL_HEADERS = {"moved_at": "领料时间", "code": "物品编码", "name": "名称规格", "unit": "单位",
                    "qty": "数量", "unit_price": "单价(元)", "amount": "金额(元)"}
PAUSE_HEADERS = {"paused_at": "暂停时间", "resumed_at": "恢复时间", "reason": "暂停原因"}
VISIT_HEADERS = {"visited_at": "回访时间", "method": "回访方式", "satisfaction": "满意度(1-5)",
                 "comment": "业主意见", "needs_rework": "需返修", "staff": "回访人"}


def _tables(report: dict[str, Any]) -> list[tuple[str, dict[str, str], pd.DataFrame]]:
    return [("领用材料", MATERIAL_HEADERS, report["materials"]), ("暂停记录", PAUSE_HEADERS, report["pauses"]),
            ("回访", VISIT_HEADERS, report["visits"])]


def repair_report_html(report: dict[str, Any]) -> str:
    """A printable page (open it in the browser and print)."""
    e = html.escape
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in report["lines"])
    parts = [f"<h1>维修报告 {e(report['order_no'])}</h1><table>{rows}</table>"]
    for title, headers, frame in _tables(report):
        if frame.empty:
            continue
        head = "".join(f"<th>{e(h)}</th>" for h in headers.values())
        body = "".join("<tr>" + "".join(f"<td>{e(_fmt(r[c]))}</td>" for c in headers) + "</tr>"
                       for r in frame.to_dict("records"))
        parts.append(f"<h2>{e(title)}</h2><table><tr>{head}</tr>{body}</table>")
    parts.append("<p class='sign'>维修人员签字：＿＿＿＿＿＿　　业主签字：＿＿＿＿＿＿　　日期：＿＿＿＿＿＿</p>")
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%;margin-bottom:1em}"
             "th,td{border:1px solid #999;padding:4px 8px;text-align:left}th{background:#f2f2f2;width:10em}"
             ".sign{margin-top:3em}")
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>维修报告 "
            f"{e(report['order_no'])}</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


def repair_report_xlsx(report: dict[str, Any]) -> bytes:
    """The report as an Excel workbook (one sheet): facts, then each table. Text cells stay text."""
    out = io.BytesIO()
    book = new_workbook(out, in_memory=True)
    sheet = book.add_worksheet("维修报告")
    bold = book.add_format({"bold": True})
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 6, 18)
    sheet.write_string(0, 0, f"维修报告 {report['order_no']}", bold)
    r = 2
    for label, text in report["lines"]:
        sheet.write_string(r, 0, label, bold)
        sheet.write_string(r, 1, text)
        r += 1
    for title, headers, frame in _tables(report):
        if frame.empty:
            continue
        r += 1
        sheet.write_string(r, 0, title, bold)
        r += 1
        for c, h in enumerate(headers.values()):
            sheet.write_string(r, c, h, bold)
        for rec in frame.to_dict("records"):
            r += 1
            for c, col in enumerate(headers):
                value = rec[col]
                if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and not pd.isna(value):
                    sheet.write_number(r, c, float(value))
                else:
                    sheet.write_string(r, c, _fmt(value))
        r += 1
    book.close()
    return out.getvalue()


# -- statistics for the report page ---------------------------------------------------------
REPAIR_GROUPS = {"month": "月份", "category": "类别", "building_id": "楼栋", "assignee_id": "维修人员"}
COMPLAINT_GROUPS = {"month": "月份", "category": "类别", "responsible_id": "责任人"}
_GROUP_REFS = {"building_id": "buildings", "assignee_id": "staff", "responsible_id": "staff"}


def _as_of(db: Database, as_of: date | None) -> date:
    return as_of or db.now().date()


def _label_groups(db: Database, frame: pd.DataFrame, by: str) -> pd.DataFrame:
    if by in _GROUP_REFS:
        ids = [int(x) for x in frame["group_key"].dropna()]
        names = labels_for(db, registers.get(_GROUP_REFS[by]), ids)
        frame["group"] = [names.get(int(x), str(int(x))) if pd.notna(x) else "（未指定）"
                          for x in frame["group_key"]]
    else:
        frame["group"] = frame["group_key"].fillna("（未指定）").astype(str)
    return frame


def repair_breakdown(db: Database, actor: Actor, by: str = "month", as_of: date | None = None,
                     community_id: int | None = None, since_month: str | None = None) -> pd.DataFrame:
    """及时率, 返修率, 回访率, satisfaction and costs grouped by month, category, building or worker.

    The same per-order judgement as v_repair_stats (repair_orders_judged_as_of), regrouped.
    """
    if by not in REPAIR_GROUPS:
        raise KeyError(f"不能按 {by} 统计")
    require(actor, "v_repair_stats", "view", "维修统计")
    where, params = _scope(actor, "community_id", community_id)
    if since_month:
        where += " AND month >= ?"
        params.append(since_month)
    frame = db.query(
        "SELECT " + by + " AS group_key, count(*) AS orders, count(*) FILTER (WHERE arrived) AS arrived, "
        "count(*) FILTER (WHERE on_time) AS on_time, "
        "CAST(count(*) FILTER (WHERE on_time) AS DOUBLE) / nullif(count(*) FILTER (WHERE arrived), 0) AS timely_rate, "
        "count(*) FILTER (WHERE completed) AS completed, count(*) FILTER (WHERE reworked) AS reworked, "
        "CAST(count(*) FILTER (WHERE reworked) AS DOUBLE) / nullif(count(*) FILTER (WHERE completed), 0) "
        "AS rework_rate, count(*) FILTER (WHERE visited) AS visited, "
        "CAST(count(*) FILTER (WHERE visited) AS DOUBLE) / nullif(count(*) FILTER (WHERE completed), 0) "
        "AS visit_rate, CAST(sum(score_sum) AS DOUBLE) / nullif(sum(scores), 0) AS satisfaction, "
        "coalesce(sum(labor_hours), 0) AS labor_hours, coalesce(sum(material_cost), 0) AS material_cost "
        "FROM repair_orders_judged_as_of(CAST(? AS DATE)) WHERE TRUE" + where
        + " GROUP BY " + by + " ORDER BY " + by + " NULLS LAST",
        [_as_of(db, as_of), *params])
    return _label_groups(db, frame, by)


def complaint_breakdown(db: Database, actor: Actor, by: str = "month", as_of: date | None = None,
                        community_id: int | None = None, since_month: str | None = None) -> pd.DataFrame:
    """Complaint 及时率 and 处理率 grouped by month, category or responsible person (as v_complaint_stats)."""
    if by not in COMPLAINT_GROUPS:
        raise KeyError(f"不能按 {by} 统计")
    require(actor, "v_complaint_stats", "view", "投诉统计")
    where, params = _scope(actor, "community_id", community_id)
    if since_month:
        where += " AND month >= ?"
        params.append(since_month)
    frame = db.query(
        "SELECT " + by + " AS group_key, count(*) AS received, count(*) FILTER (WHERE valid) AS valid, "
        "count(*) FILTER (WHERE handled) AS handled, count(*) FILTER (WHERE on_time) AS on_time, "
        "CAST(count(*) FILTER (WHERE on_time) AS DOUBLE) / nullif(count(*) FILTER (WHERE handled), 0) AS timely_rate, "
        "CAST(count(*) FILTER (WHERE handled) AS DOUBLE) / nullif(count(*) FILTER (WHERE valid), 0) "
        "AS handling_rate, count(*) FILTER (WHERE fed_back) AS fed_back "
        "FROM complaints_judged_as_of(CAST(? AS DATE)) WHERE TRUE" + where
        + " GROUP BY " + by + " ORDER BY " + by + " NULLS LAST",
        [_as_of(db, as_of), *params])
    return _label_groups(db, frame, by)


def complaint_counts(db: Database, actor: Actor, as_of: date | None = None, community_id: int | None = None,
                     since_month: str | None = None) -> pd.DataFrame:
    """Valid complaints per month and category (v_complaint_stats summed over the communities)."""
    require(actor, "v_complaint_stats", "view", "投诉统计")
    where, params = _scope(actor, "community_id", community_id)
    if since_month:
        where += " AND month >= ?"
        params.append(since_month)
    return db.query("SELECT month, category, sum(valid) AS valid, sum(received) AS received "
                    "FROM complaint_stats_as_of(CAST(? AS DATE)) WHERE TRUE" + where
                    + " GROUP BY month, category ORDER BY month, category", [_as_of(db, as_of), *params])


def complaint_hotspots(db: Database, actor: Actor, community_id: int | None = None) -> pd.DataFrame:
    """Today's hotspots (v_complaint_hotspots), most complaints first."""
    require(actor, "v_complaint_hotspots", "view", "投诉热点")
    where, params = _scope(actor, "h.community_id", community_id)
    return db.query(
        "SELECT c.name AS community, h.location, h.category, h.complaints, h.open_complaints, "
        "h.latest_received_at, h.needs_rectification FROM v_complaint_hotspots h "
        "JOIN communities c ON c.id = h.community_id WHERE TRUE" + where
        + " ORDER BY h.complaints DESC, h.latest_received_at DESC", params)


def top_locations(db: Database, actor: Actor, community_id: int | None = None, since: date | None = None,
                  limit: int = 10) -> pd.DataFrame:
    """Places with the most repairs and complaints since a date: location (or building), counts."""
    where_w, params_w = _scope(actor, "w.community_id", community_id)
    where_c, params_c = _scope(actor, "c.community_id", community_id)
    since = since or date(1900, 1, 1)
    return db.query(
        "WITH places AS ("
        " SELECT coalesce(nullif(trim(w.location), ''), b.code || '幢（户内）', '未注明') AS place, "
        "  '报修' AS kind FROM work_orders w LEFT JOIN households h ON h.id = w.household_id "
        "  LEFT JOIN buildings b ON b.id = h.building_id "
        "  WHERE w.deleted_at IS NULL AND w.reported_at >= ?" + where_w
        + " UNION ALL SELECT coalesce(nullif(trim(c.location), ''), '未注明'), '投诉' FROM complaints c "
        "  WHERE c.deleted_at IS NULL AND coalesce(c.is_valid, true) AND c.received_at >= ?" + where_c
        + ") SELECT place, count(*) FILTER (WHERE kind = '报修') AS repairs, "
        "count(*) FILTER (WHERE kind = '投诉') AS complaints, count(*) AS total FROM places "
        "GROUP BY place ORDER BY total DESC, place LIMIT ?",
        [since, *params_w, since, *params_c, limit])


def clock_text(minutes_left: float | None) -> str:
    """'剩 1小时05分' before the deadline, '超时 35分' after (the duty board's running clock)."""
    if minutes_left is None or pd.isna(minutes_left):
        return ""
    m = int(abs(minutes_left))
    text = f"{m // 1440}天{m % 1440 // 60}小时" if m >= 1440 else (f"{m // 60}小时{m % 60:02d}分" if m >= 60
                                                                   else f"{m}分")
    return ("剩 " if minutes_left >= 0 else "超时 ") + text
