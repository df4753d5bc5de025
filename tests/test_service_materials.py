"""Materials issued from stock to a work order, the 维修报告, and the regrouped statistics — both backends."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from saving import add

from app import registers
from app.saving.changes import ValidationFailed
from app.service import service_desk as desk
from app.storage import postgres


@pytest.fixture
def estate(db, actor) -> dict:
    """One community with a household, a worker, a valve bought twice; a second community with a tap."""
    sun = add(db, actor, "communities", name="阳光花园")
    moon = add(db, actor, "communities", name="明月小区")
    dept = add(db, actor, "departments", name="工程部")
    worker = add(db, actor, "staff", name="李工", department_id=dept, community_id=sun)
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50")
    valve = add(db, actor, "stock_items", community_id=sun, code="WZ-001", name="角阀 DN15", unit="个")
    tap = add(db, actor, "stock_items", community_id=moon, code="WZ-001", name="水龙头", unit="个")
    for item, at, qty, price in ((valve, "2026-03-01 08:00", "10", "12"), (valve, "2026-03-05 08:00", "10", "15"),
                                 (tap, "2026-03-01 08:00", "5", "30")):
        add(db, actor, "stock_movements", stock_item_id=item, moved_at=at, direction="入库", qty=qty,
            unit_price=price)
    order, number = desk.register_repair(db, actor, {
        "community_id": sun, "household_id": home, "category": "管道", "description": "厨房角阀漏水",
        "urgency": "一般", "reported_at": datetime(2026, 3, 2, 9, 0), "assignee_id": worker})
    return {"sun": sun, "moon": moon, "worker": worker, "home": home, "valve": valve, "tap": tap,
            "order": order, "number": number}


def problems(err: ValidationFailed) -> str:
    return "\n".join(str(p) for p in err.value.problems)


def test_work_order_id_of_a_movement_is_a_reference_to_work_orders(db):
    field = registers.get("stock_movements").field("work_order_id")
    assert (field.type, field.ref) == ("ref", "work_orders")
    # same storage as before (BIGINT), so existing numbers stay valid; PostgreSQL indexes it
    assert db.scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'stock_movements' "
                     "AND column_name = 'work_order_id'") == "BIGINT"
    if db.is_postgres:
        names = {r[0] for r in postgres.rows(db.cursor(), "SELECT indexname FROM pg_indexes "
                                             "WHERE tablename = 'stock_movements'")}
        assert "stock_movements_work_order_id_idx" in names


def test_materials_are_priced_at_the_average_on_the_day_and_counted_as_cost(db, actor, estate):
    order = estate["order"]
    # 03-02: only the first 入库 (10 × 12.00): average 12.0000; 3 × 12 = 36.00
    desk.issue_materials(db, actor, order, [(estate["valve"], Decimal("3"))], at=datetime(2026, 3, 2, 10, 0))
    desk.arrive(db, actor, order, datetime(2026, 3, 2, 10, 0))
    # 03-06: (10 × 12 + 10 × 15) / 20 = 13.5000; 2 × 13.5 = 27.00
    desk.issue_materials(db, actor, order, [(estate["valve"], Decimal("2"))], at=datetime(2026, 3, 6, 9, 0))
    used = desk.order_materials(db, order)
    assert [(Decimal(str(p)), Decimal(str(a))) for p, a in zip(used["unit_price"], used["amount"])] == [
        (Decimal("12"), Decimal("36")), (Decimal("13.5"), Decimal("27"))]
    cost = db.scalar("SELECT material_cost FROM work_order_sla_as_of(DATE '2026-03-31') WHERE work_order_id = ?",
                     [order])
    assert cost == Decimal("63.00")
    assert db.scalar("SELECT material_cost FROM repair_stats_as_of(DATE '2026-03-31') WHERE month = '2026-03'") \
        == Decimal("63.00")
    # before the second issue, only the first counts
    assert db.scalar("SELECT material_cost FROM work_order_sla_as_of(DATE '2026-03-03') WHERE work_order_id = ?",
                     [order]) == Decimal("36.00")
    # the balance: 20 in, 5 out
    assert db.scalar("SELECT on_hand FROM stock_balance_as_of(DATE '2026-03-31') WHERE stock_item_id = ?",
                     [estate["valve"]]) == Decimal("15")
    moved = db.rows("SELECT direction, handler_id, note FROM stock_movements WHERE work_order_id = ? ORDER BY id",
                    [order])
    assert moved[0] == ("出库", estate["worker"], f"报修单 {estate['number']} 领料")


def test_an_issue_cannot_make_stock_negative(db, actor, estate):
    desk.issue_materials(db, actor, estate["order"], [(estate["valve"], Decimal("15"))],
                         at=datetime(2026, 3, 6, 9, 0))
    with pytest.raises(ValidationFailed) as err:
        desk.issue_materials(db, actor, estate["order"], [(estate["valve"], Decimal("6"))],
                             at=datetime(2026, 3, 6, 10, 0))
    assert "库存 5，出库 6 后为 -1，不能为负" in problems(err)
    assert db.scalar("SELECT count(*) FROM stock_movements WHERE work_order_id = ?", [estate["order"]]) == 1


def test_materials_need_a_dispatched_order_of_the_same_community_and_go_out_only(db, actor, estate):
    waiting, number = desk.register_repair(db, actor, {
        "community_id": estate["sun"], "household_id": estate["home"], "category": "水电", "description": "跳闸",
        "reported_at": datetime(2026, 3, 2, 9, 0)})
    with pytest.raises(ValidationFailed) as err:
        desk.issue_materials(db, actor, waiting, [(estate["valve"], 1)], at=datetime(2026, 3, 3, 9, 0))
    assert f"报修单 {number} 待派工，不能领料：请先派工" in problems(err)
    with pytest.raises(ValidationFailed) as err:
        desk.issue_materials(db, actor, estate["order"], [(estate["tap"], 1)], at=datetime(2026, 3, 3, 9, 0))
    assert f"物品不属于报修单 {estate['number']} 所在小区" in problems(err)
    with pytest.raises(ValidationFailed) as err:  # the grid: a 入库 naming an order
        add(db, actor, "stock_movements", stock_item_id=estate["valve"], moved_at="2026-03-03 09:00",
            direction="入库", qty="1", unit_price="12", work_order_id=estate["order"])
    assert "维修领料只能是“出库”" in problems(err)
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "stock_movements", stock_item_id=estate["valve"], moved_at="2026-03-03 09:00",
            direction="出库", qty="1", work_order_id=999)
    assert "报修单编号 999 不存在" in problems(err)
    # the grid may name the order by its number; the price is filled in as for the service
    add(db, actor, "stock_movements", stock_item_id=estate["valve"], moved_at="2026-03-03 09:00",
        direction="出库", qty="1", work_order_id=estate["number"])
    assert db.scalar("SELECT unit_price FROM stock_movements WHERE work_order_id = ?", [estate["order"]]) \
        == Decimal("12")


def test_repair_report_lists_facts_materials_and_visit_and_exports(db, actor, estate):
    order = estate["order"]
    desk.arrive(db, actor, order, datetime(2026, 3, 2, 9, 40))
    desk.issue_materials(db, actor, order, [(estate["valve"], 1)], at=datetime(2026, 3, 2, 9, 50))
    desk.complete(db, actor, order, datetime(2026, 3, 2, 11, 0), report="更换角阀", labor_hours=Decimal("1.5"),
                  charge=Decimal("30"), owner_confirmed=True)
    desk.record_visit(db, actor, order, 5, datetime(2026, 3, 3, 9, 0), comment="满意")
    report = desk.repair_report(db, actor, order)
    lines = dict(report["lines"])
    assert lines["报修单号"] == estate["number"]
    assert (lines["到场时间"], lines["按时到场"], lines["完成时间"]) == ("2026-03-02 09:40", "是", "2026-03-02 11:00")
    # 09:00 to 11:00 with no pause: 2.0 hours
    assert lines["处理用时"] == "2.0 小时（不含暂停）"
    assert (lines["维修报告"], lines["材料费(元)"], lines["业主确认"], lines["状态"]) == ("更换角阀", "12.00", "是", "已回访")
    assert report["visits"]["satisfaction"].tolist() == [5]
    page = desk.repair_report_html(report)
    assert f"维修报告 {estate['number']}" in page and "角阀 DN15" in page
    sheet = load_workbook(io.BytesIO(desk.repair_report_xlsx(report))).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "维修报告" in cells and "更换角阀" in cells and "角阀 DN15" in cells and 12 in cells


def test_breakdowns_regroup_the_same_judgement_by_worker_category_and_month(db, actor, estate):
    order = estate["order"]
    # order 1 (一般, 管道): arrived 09:40 (on time), completed, visited 4
    desk.arrive(db, actor, order, datetime(2026, 3, 2, 9, 40))
    desk.complete(db, actor, order, datetime(2026, 3, 2, 11, 0))
    desk.record_visit(db, actor, order, 4, datetime(2026, 3, 3, 9, 0))
    # order 2 (紧急, 电梯, same worker): reported 03-10 10:00, arrived 10:45 > 10:30 (late), completed, no visit
    second, _ = desk.register_repair(db, actor, {
        "community_id": estate["sun"], "location": "5幢电梯", "category": "电梯", "description": "电梯困人",
        "urgency": "紧急", "reported_at": datetime(2026, 3, 10, 10, 0), "assignee_id": estate["worker"]})
    desk.arrive(db, actor, second, datetime(2026, 3, 10, 10, 45))
    desk.complete(db, actor, second, datetime(2026, 3, 10, 12, 0))
    as_of = date(2026, 3, 31)
    by_worker = desk.repair_breakdown(db, actor, "assignee_id", as_of).to_dict("records")
    assert len(by_worker) == 1
    w = by_worker[0]
    # 2 arrived, 1 on time: 1/2; 2 completed, 1 visited: 1/2; score 4
    assert (w["group"], w["orders"], w["timely_rate"], w["visit_rate"], w["satisfaction"]) == ("李工", 2, 0.5, 0.5, 4.0)
    by_category = {r["group"]: r for r in desk.repair_breakdown(db, actor, "category", as_of).to_dict("records")}
    assert (by_category["管道"]["timely_rate"], by_category["电梯"]["timely_rate"]) == (1.0, 0.0)
    # by month equals the view
    month = desk.repair_breakdown(db, actor, "month", as_of).iloc[0]
    view = db.query("SELECT * FROM repair_stats_as_of(?)", [as_of]).iloc[0]
    assert [month[k] for k in ("orders", "on_time", "visited")] == [view[k] for k in ("orders", "on_time", "visited")]
    # another community's actor sees none of it
    from app.access.permissions import Actor

    outsider = Actor("王五", communities=(estate["moon"],))
    assert desk.repair_breakdown(db, outsider, "month", as_of).empty
    # complaints by responsible person: one valid handled next day (on time), one consultation
    c1, _ = desk.register_complaint(db, actor, {
        "community_id": estate["sun"], "category": "噪音", "description": "装修噪音", "location": "3幢",
        "received_at": datetime(2026, 3, 2, 9, 0), "responsible_id": estate["worker"]})
    desk.move_complaint(db, actor, c1, "已处理", datetime(2026, 3, 3, 9, 0), result="已劝导")
    desk.register_complaint(db, actor, {
        "community_id": estate["sun"], "category": "收费", "description": "咨询收费标准", "is_valid": False,
        "received_at": datetime(2026, 3, 2, 10, 0)})
    people = {r["group"]: r for r in desk.complaint_breakdown(db, actor, "responsible_id", as_of).to_dict("records")}
    assert (people["李工"]["valid"], people["李工"]["timely_rate"], people["李工"]["handling_rate"]) == (1, 1.0, 1.0)
    assert people["（未指定）"]["valid"] == 0
    counts = desk.complaint_counts(db, actor, as_of).to_dict("records")
    assert [(r["category"], r["valid"], r["received"]) for r in counts] == [("噪音", 1, 1), ("收费", 0, 1)]
    places = desk.top_locations(db, actor).set_index("place")
    assert (places.loc["5幢电梯", "repairs"], places.loc["3幢", "complaints"]) == (1, 1)


def test_clock_text_reads_left_or_over():
    assert desk.clock_text(20) == "剩 20分"
    assert desk.clock_text(65) == "剩 1小时05分"
    assert desk.clock_text(-35) == "超时 35分"
    assert desk.clock_text(1500) == "剩 1天1小时"
