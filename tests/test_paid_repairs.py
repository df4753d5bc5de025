"""Paid repairs (issue 23 item 3): a work order charged by the approved price list (amounts
computed, the order's charge their total), materials drawn through the stock rules, and the
charge billed as its own 有偿维修 bill and collected at the cashier. Both backends; expected
values worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.fees import billing, cashier
from app.saving.changes import RowChange, ValidationFailed, apply_changes
from app.service import service_desk as desk


def problems(err) -> str:
    return "\n".join(str(p) for p in err.value.problems)


@pytest.fixture
def estate(db, actor) -> dict:
    sun = add(db, actor, "communities", name="阳光花园")
    moon = add(db, actor, "communities", name="明月小区")
    dept = add(db, actor, "departments", name="工程部")
    worker = add(db, actor, "staff", name="李工", department_id=dept, community_id=sun)
    boss = add(db, actor, "staff", name="周主任", department_id=dept, community_id=sun)
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50")
    valve = add(db, actor, "stock_items", community_id=sun, code="WZ-001", name="角阀 DN15", unit="个")
    add(db, actor, "stock_movements", stock_item_id=valve, moved_at="2026-03-01 08:00", direction="入库", qty="10",
        unit_price="12")

    def price(item, unit, amount, labour, status="已审批", community=sun):
        return add(db, actor, "repair_prices", community_id=community, category="水电", item=item, unit=unit,
                   price=amount, labour=labour, status=status,
                   approved_by_id=boss if status == "已审批" else None)

    ids = {
        "sun": sun, "moon": moon, "worker": worker, "home": home, "valve": valve,
        "tap": price("更换水龙头", "个", "45.00", "20.00"),          # 65.00 a unit
        "drain": price("疏通下水管", "次", "0", "80.00"),            # 80.00
        "hose": price("更换进水软管", "米", "12.35", "0"),           # 12.35
        "draft": price("更换角阀", "个", "18.50", "10.00", "草稿"),
        "far": price("更换水龙头", "个", "40.00", "20.00", community=moon),
        "fee": add(db, actor, "fee_items", community_id=sun, name="有偿维修", method="按次", unit_price="0",
                   cycle="月", status="已审批", effective_from=date(2026, 1, 1)),
    }
    ids["order"], ids["number"] = desk.register_repair(db, actor, {
        "community_id": sun, "household_id": home, "category": "管道", "description": "厨房水龙头和下水管",
        "urgency": "一般", "reported_at": datetime(2026, 3, 2, 9, 0), "assignee_id": worker})
    desk.arrive(db, actor, ids["order"], datetime(2026, 3, 2, 10, 0))
    return ids


def test_a_paid_repair_is_charged_by_the_list_draws_stock_and_is_collected(db, actor, estate):
    order = estate["order"]
    desk.charge_by_list(db, actor, order, [(estate["tap"], Decimal("2")), (estate["drain"], Decimal("1")),
                                           (estate["hose"], Decimal("1.5"))])
    lines = desk.order_charges(db, order)
    # 2 × 65.00 = 130.00; 1 × 80.00 = 80.00; 1.5 × 12.35 = 18.525 → 18.53 (half up)
    assert [(Decimal(str(u)), Decimal(str(a))) for u, a in zip(lines["unit_price"], lines["amount"])] == [
        (Decimal("65"), Decimal("130")), (Decimal("80"), Decimal("80")), (Decimal("12.35"), Decimal("18.53"))]
    assert db.scalar("SELECT charge FROM work_orders WHERE id = ?", [order]) == Decimal("228.53")

    # materials through the stock rules: 3 of 10 issued, then 8 of the 7 left refused
    desk.issue_materials(db, actor, order, [(estate["valve"], Decimal("3"))], at=datetime(2026, 3, 2, 11, 0))
    with pytest.raises(ValidationFailed):
        desk.issue_materials(db, actor, order, [(estate["valve"], Decimal("8"))], at=datetime(2026, 3, 2, 11, 5))
    assert db.scalar("SELECT on_hand FROM stock_balance_as_of(DATE '2026-03-31') WHERE stock_item_id = ?",
                     [estate["valve"]]) == Decimal("7")

    bill = desk.bill_charges(db, actor, order, on=date(2026, 3, 6))
    assert db.rows("SELECT household_id, fee_item_id, period, amount, due_date, note FROM bills WHERE id = ?",
                   [bill]) == [(estate["home"], estate["fee"], "2026-03", Decimal("228.53"), date(2026, 3, 6),
                                f"报修单 {estate['number']} 有偿维修")]
    assert db.scalar("SELECT count(*) FROM work_order_charges WHERE bill_id = ?", [bill]) == 3
    # the cashier sees it as the household's open bill and collects it
    assert cashier.account(db, estate["home"], date(2026, 3, 6)).outstanding == Decimal("228.53")
    billing.take_payment(db, actor, estate["home"], "228.53", "现金", paid_at=datetime(2026, 3, 6, 15, 0))
    assert cashier.account(db, estate["home"], date(2026, 3, 6)).outstanding == Decimal("0")
    # the monthly bill run leaves a 按次 item alone: nothing for the household in April
    assert billing.bill_lines(db, estate["sun"], "2026-04").empty

    # a billed line is frozen (but its note may change); nothing left to bill
    first = int(lines["id"][0])
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, "work_order_charges", [RowChange("update", first, {"quantity": "1"})])
    assert "已出账的收费明细只能改备注" in problems(err)
    apply_changes(db, actor, "work_order_charges", [RowChange("update", first, {"note": "业主自购龙头一只"})])
    with pytest.raises(ValidationFailed) as err:
        desk.bill_charges(db, actor, order, on=date(2026, 3, 6))
    assert "本单没有未出账的收费明细" in problems(err)


def test_only_approved_items_of_the_orders_estate_and_positive_quantities(db, actor, estate):
    order = estate["order"]
    for price, qty, message in ((estate["draft"], "1", "收费标准「更换角阀」草稿，不能按它收费"),
                                (estate["far"], "1", "收费项目「更换水龙头」不属于报修单"),
                                (estate["tap"], "0", "数量应大于 0")):
        with pytest.raises(ValidationFailed) as err:
            apply_changes(db, actor, "work_order_charges", [RowChange("insert", values={
                "work_order_id": order, "price_id": price, "quantity": qty})])
        assert message in problems(err)
    assert db.scalar("SELECT count(*) FROM work_order_charges") == 0
    # an approved price is frozen; the total follows a deleted line: 2 × 65 + 80 = 210, then 80
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, "repair_prices", [RowChange("update", estate["tap"], {"price": "50.00"})])
    assert "已审批的收费标准不能修改" in problems(err)
    tap, _ = desk.charge_by_list(db, actor, order, [(estate["tap"], Decimal("2")), (estate["drain"], Decimal("1"))])
    assert db.scalar("SELECT charge FROM work_orders WHERE id = ?", [order]) == Decimal("210.00")
    apply_changes(db, actor, "work_order_charges", [RowChange("delete", tap)])
    assert db.scalar("SELECT charge FROM work_orders WHERE id = ?", [order]) == Decimal("80.00")


def test_a_bill_needs_a_household_the_fee_item_and_one_per_month(db, actor, estate):
    desk.charge_by_list(db, actor, estate["order"], [(estate["drain"], Decimal("1"))])
    desk.bill_charges(db, actor, estate["order"], on=date(2026, 3, 6))
    # a second order of the same household in the same month: its bill would repeat the key
    second, _ = desk.register_repair(db, actor, {
        "community_id": estate["sun"], "household_id": estate["home"], "category": "管道", "description": "卫生间",
        "urgency": "一般", "reported_at": datetime(2026, 3, 20, 9, 0), "assignee_id": estate["worker"]})
    desk.charge_by_list(db, actor, second, [(estate["tap"], Decimal("1"))])
    with pytest.raises(ValidationFailed) as err:
        desk.bill_charges(db, actor, second, on=date(2026, 3, 21))
    assert "该户 2026-03 已有一张有偿维修账单" in problems(err)
    assert desk.bill_charges(db, actor, second, on=date(2026, 4, 1))
    # a public-area order bills no one
    hall, _ = desk.register_repair(db, actor, {
        "community_id": estate["sun"], "location": "3 幢大堂", "category": "管道", "description": "大堂水管",
        "urgency": "一般", "reported_at": datetime(2026, 3, 20, 9, 0), "assignee_id": estate["worker"]})
    desk.charge_by_list(db, actor, hall, [(estate["tap"], Decimal("1"))])
    with pytest.raises(ValidationFailed) as err:
        desk.bill_charges(db, actor, hall, on=date(2026, 3, 21))
    assert "没有房屋（公共部位），不能向业主出账" in problems(err)
    # without an approved 有偿维修 fee item (按次) in its 小区 nothing is billed
    flat = add(db, actor, "households", community_id=estate["moon"], code="1-1-101", area="70.00")
    theirs, _ = desk.register_repair(db, actor, {
        "community_id": estate["moon"], "household_id": flat, "category": "管道", "description": "水龙头",
        "urgency": "一般", "reported_at": datetime(2026, 3, 20, 9, 0)})
    desk.charge_by_list(db, actor, theirs, [(estate["far"], Decimal("1"))])
    with pytest.raises(ValidationFailed) as err:
        desk.bill_charges(db, actor, theirs, on=date(2026, 3, 21))
    assert "本小区没有已审批的收费项目「有偿维修」（计费方式 按次）" in problems(err)
    assert db.scalar("SELECT count(*) FROM bills") == 2


def test_the_desk_charges_by_the_list_and_bills(tmp_path, monkeypatch):
    """The desk's 有偿维修收费 section: pick an item, charge it, bill it (one DuckDB file, AppTest)."""
    from apptest import app_test

    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from app.ui import session

    path = tmp_path / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="工程部")
    boss = add(db, actor, "staff", name="周主任", department_id=dept, community_id=sun)
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50")
    tap = add(db, actor, "repair_prices", community_id=sun, category="水电", item="更换水龙头", unit="个",
              price="45.00", labour="20.00", status="已审批", approved_by_id=boss)
    add(db, actor, "fee_items", community_id=sun, name="有偿维修", method="按次", unit_price="0", cycle="月",
        status="已审批", effective_from=date(2026, 1, 1))
    order, _ = desk.register_repair(db, actor, {"community_id": sun, "household_id": home, "category": "管道",
                                                "description": "水龙头坏了", "urgency": "一般"})
    db.close()
    monkeypatch.setenv("WUYE_DB", str(path))
    session._database.clear()
    try:
        at = app_test("pages/service_desk.py").run()
        at.selectbox(key="desk-order").set_value(order).run()
        at.selectbox(key="charge-item").set_value(tap)
        at.number_input(key="charge-qty").set_value(3.0)
        next(b for b in at.button if b.label == "按收费标准计费").click()
        at.run()
        assert not at.exception, at.exception
        assert at.success[0].value == "已计费：水电 · 更换水龙头 × 3"
        # 3 × 65.00 = 195.00
        assert "收费合计 195.00 元" in " ".join(c.value for c in at.caption)
        at.button(key="charge-bill").click().run()
        assert at.success[0].value == "已生成有偿维修账单，请到收银台收取"
    finally:
        session._database.clear()
    db = open_database(str(path))
    assert db.rows("SELECT period, amount FROM bills") == [(db.now().strftime("%Y-%m"), Decimal("195.00"))]
    db.close()
