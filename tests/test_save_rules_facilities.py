"""Save rules of 设备与消防, 档案 and 采购与库存: refused with their Chinese messages, nothing written."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.saving.changes import RowChange, ValidationFailed, apply_changes


def insert(db, actor, register: str, *rows: dict):
    return apply_changes(db, actor, register, [RowChange("insert", values=v) for v in rows])


def update(db, actor, register: str, row_id: int, **values):
    return apply_changes(db, actor, register, [RowChange("update", row_id=row_id, values=values)])


def refused(db, actor, register: str, changes: list[RowChange]) -> list[str]:
    """The problems of a refused change set, each as '<place>「<column>」：<message>'."""
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, register, changes)
    return [str(p) for p in err.value.problems]


def snapshot(db, table: str) -> list[tuple]:
    return db.rows(f"SELECT * FROM {table} ORDER BY id")


@pytest.fixture
def community(db, actor) -> int:
    return add(db, actor, "communities", name="阳光花园")


@pytest.fixture
def people(db, actor, community) -> dict[str, int]:
    department = add(db, actor, "departments", name="综合部")
    ids = insert(
        db,
        actor,
        "staff",
        *(
            {"name": n, "department_id": department, "community_id": community}
            for n in ("李主任", "王库管", "赵工")
        ),
    ).inserted
    return dict(zip(("主任", "库管", "工"), ids))


# -- fire checks --------------------------------------------------------------------------------
@pytest.fixture
def extinguisher(db, actor, community) -> int:
    return add(
        db,
        actor,
        "fire_equipment",
        equip_no="XF-0001",
        community_id=community,
        type="干粉灭火器",
        location="1号楼大堂",
        produced_on="2022-03-01",
        last_checked_on="2026-09-10",
        last_serviced_on="2025-03-01",
    )


def equipment_dates(db, equipment_id: int) -> tuple:
    return db.rows(
        "SELECT last_checked_on, last_serviced_on, row_version FROM fire_equipment WHERE id = ?",
        [equipment_id],
    )[0]


def test_fire_check_moves_last_checked_on_forward(db, actor, extinguisher, people):
    result = insert(
        db,
        actor,
        "fire_checks",
        {
            "fire_equipment_id": extinguisher,
            "checked_on": "2026-10-08",
            "kind": "月检",
            "checked_by_id": people["工"],
        },
    )
    assert equipment_dates(db, extinguisher) == (date(2026, 10, 8), date(2025, 3, 1), 2)
    audit = db.rows(
        "SELECT change_id, action, old_values, new_values, note FROM audit_log "
        "WHERE register = 'fire_equipment' AND row_id = ? AND action = '修改'",
        [extinguisher],
    )
    assert len(audit) == 1
    _, action, old, new, note = audit[0]
    assert (action, json.loads(old), json.loads(new), note) == (
        "修改",
        {"last_checked_on": "2026-09-10"},
        {"last_checked_on": "2026-10-08"},
        "由消防检测记录自动更新",
    )
    assert result.inserted


def test_fire_check_of_service_kinds_moves_last_serviced_on(db, actor, extinguisher):
    insert(
        db,
        actor,
        "fire_checks",
        {"fire_equipment_id": extinguisher, "checked_on": "2026-10-01", "kind": "年检"},
        {"fire_equipment_id": extinguisher, "checked_on": "2026-10-20", "kind": "月检"},
        {"fire_equipment_id": extinguisher, "checked_on": "2026-10-05", "kind": "维修"},
    )
    # the latest 月检/年检 of the set wins; 维修 moves the service date
    assert equipment_dates(db, extinguisher)[:2] == (date(2026, 10, 20), date(2026, 10, 5))
    insert(
        db,
        actor,
        "fire_checks",
        {"fire_equipment_id": extinguisher, "checked_on": "2026-11-02", "kind": "更换"},
    )
    assert equipment_dates(db, extinguisher)[:2] == (date(2026, 10, 20), date(2026, 11, 2))


def test_an_older_fire_check_never_moves_the_register_backward(db, actor, extinguisher):
    insert(
        db,
        actor,
        "fire_checks",
        {"fire_equipment_id": extinguisher, "checked_on": "2026-08-01", "kind": "月检"},
        {"fire_equipment_id": extinguisher, "checked_on": "2024-01-01", "kind": "维修"},
    )
    assert equipment_dates(db, extinguisher) == (date(2026, 9, 10), date(2025, 3, 1), 1)
    assert (
        db.scalar(
            "SELECT count(*) FROM audit_log WHERE register = 'fire_equipment' AND action = '修改'"
        )
        == 0
    )


def test_recording_a_check_changes_the_equipment_state(db, actor, extinguisher):
    as_of = date(2026, 10, 20)  # 09-10 + 30 = 10-10 < 10-20: due for check
    state = "SELECT state FROM fire_equipment_status_as_of(?) WHERE fire_equipment_id = ?"
    assert db.rows(state, [as_of, extinguisher]) == [("待检查",)]
    insert(
        db,
        actor,
        "fire_checks",
        {"fire_equipment_id": extinguisher, "checked_on": "2026-10-19", "kind": "月检"},
    )
    assert db.rows(state, [as_of, extinguisher]) == [("正常",)]


def test_fire_check_before_production_is_refused(db, actor, extinguisher):
    before = snapshot(db, "fire_equipment")
    problems = refused(
        db,
        actor,
        "fire_checks",
        [
            RowChange(
                "insert",
                values={
                    "fire_equipment_id": extinguisher,
                    "checked_on": "2021-01-01",
                    "kind": "月检",
                },
            )
        ],
    )
    assert problems == ["新增第 1 行「日期」：早于器材 XF-0001 的出厂日期 2022-03-01"]
    assert snapshot(db, "fire_equipment") == before
    assert db.scalar("SELECT count(*) FROM fire_checks") == 0


def test_a_refused_change_set_leaves_the_equipment_untouched(db, actor, extinguisher):
    before = snapshot(db, "fire_equipment")
    refused(
        db,
        actor,
        "fire_checks",
        [
            RowChange(
                "insert",
                values={
                    "fire_equipment_id": extinguisher,
                    "checked_on": "2026-10-30",
                    "kind": "月检",
                },
            ),
            RowChange(
                "insert",
                values={
                    "fire_equipment_id": extinguisher,
                    "checked_on": "2026-10-30",
                    "kind": "周检",
                },
            ),
        ],
    )
    assert snapshot(db, "fire_equipment") == before
    assert (
        db.scalar(
            "SELECT count(*) FROM audit_log WHERE register = 'fire_equipment' AND action = '修改'"
        )
        == 0
    )


# -- asset assignments --------------------------------------------------------------------------
def test_an_asset_has_one_holder_at_a_time(db, actor, community, people):
    pc = add(
        db,
        actor,
        "assets",
        asset_no="BG-001",
        community_id=community,
        name="台式电脑",
        category="办公设备",
    )
    add(
        db,
        actor,
        "asset_assignments",
        asset_id=pc,
        staff_id=people["库管"],
        received_on="2026-01-05",
    )
    problems = refused(
        db,
        actor,
        "asset_assignments",
        [
            RowChange(
                "insert",
                values={"asset_id": pc, "staff_id": people["工"], "received_on": "2026-03-01"},
            )
        ],
    )
    assert problems == [
        "新增第 1 行「设备」：「BG-001 台式电脑」已由 王库管 于 2026-01-05 领用，尚未归还，归还后才能再领用"
    ]
    problems = refused(
        db,
        actor,
        "asset_assignments",
        [
            RowChange(
                "insert",
                values={
                    "asset_id": pc,
                    "staff_id": people["工"],
                    "received_on": "2026-03-01",
                    "returned_on": "2026-02-01",
                },
            )
        ],
    )
    assert problems == ["新增第 1 行「归还日期」：归还日期不能早于领用日期"]


# -- stock movements ----------------------------------------------------------------------------
@pytest.fixture
def valve(db, actor, community) -> int:
    item = add(
        db,
        actor,
        "stock_items",
        community_id=community,
        code="SN-025",
        name="阀门 DN25",
        unit="个",
        safety_stock="5",
    )
    add(
        db,
        actor,
        "stock_movements",
        stock_item_id=item,
        moved_at="2026-10-01 09:00",
        direction="入库",
        qty="3",
        unit_price="32",
    )
    return item


def out(item: int, qty: str, at: str = "2026-10-20 10:00", direction: str = "出库") -> RowChange:
    return RowChange(
        "insert", values={"stock_item_id": item, "moved_at": at, "direction": direction, "qty": qty}
    )


def test_outbound_movement_cannot_make_stock_negative(db, actor, valve):
    before = snapshot(db, "stock_movements")
    problems = refused(db, actor, "stock_movements", [out(valve, "5")])
    assert problems == ["新增第 1 行「数量」：「阀门 DN25」库存 3，出库 5 后为 -2，不能为负"]
    assert snapshot(db, "stock_movements") == before


def test_outbound_counts_other_movements_of_the_same_change_set(db, actor, valve):
    problems = refused(
        db, actor, "stock_movements", [out(valve, "2"), out(valve, "2", "2026-10-21 10:00")]
    )
    assert problems == ["新增第 2 行「数量」：「阀门 DN25」库存 1，出库 2 后为 -1，不能为负"]
    # an inbound in the same set (same moment: additions first) makes it possible
    inbound = RowChange(
        "insert",
        values={
            "stock_item_id": valve,
            "moved_at": "2026-10-20 10:00",
            "direction": "入库",
            "qty": "10",
            "unit_price": "30",
        },
    )
    apply_changes(db, actor, "stock_movements", [out(valve, "2"), out(valve, "9"), inbound])
    assert db.scalar("SELECT on_hand FROM stock_balance_as_of(DATE '2026-10-31')") == Decimal(
        "2.000"
    )


def test_negative_stocktake_adjustment_cannot_make_stock_negative(db, actor, valve):
    problems = refused(db, actor, "stock_movements", [out(valve, "-4", direction="盘点调整")])
    assert problems == ["新增第 1 行「数量」：「阀门 DN25」库存 3，盘点调整 -4 后为 -1，不能为负"]
    apply_changes(db, actor, "stock_movements", [out(valve, "-3", direction="盘点调整")])


def test_backdated_outbound_cannot_use_stock_that_arrived_later(db, actor, valve):
    problems = refused(db, actor, "stock_movements", [out(valve, "1", "2026-09-15 10:00")])
    assert problems == [
        "新增第 1 行「数量」：「阀门 DN25」2026-09-15 10:00 时库存 0，出库 1 后为 -1，不能为负"
    ]
    # an outbound dated before a later one that already used the stock
    apply_changes(db, actor, "stock_movements", [out(valve, "3", "2026-10-20 10:00")])
    problems = refused(db, actor, "stock_movements", [out(valve, "1", "2026-10-10 10:00")])
    assert problems == [
        "新增第 1 行「数量」：「阀门 DN25」加上此笔后，2026-10-20 10:00 的出库 3 会使库存为 -1，不能为负"
    ]


def test_movement_quantities_and_prices(db, actor, valve):
    problems = refused(
        db,
        actor,
        "stock_movements",
        [
            out(valve, "0"),
            out(valve, "-1"),
            RowChange(
                "insert",
                values={
                    "stock_item_id": valve,
                    "moved_at": "2026-10-20",
                    "direction": "入库",
                    "qty": "0",
                    "unit_price": "1",
                },
            ),
            out(valve, "0", direction="盘点调整"),
            RowChange(
                "insert",
                values={
                    "stock_item_id": valve,
                    "moved_at": "2026-10-20",
                    "direction": "入库",
                    "qty": "2",
                },
            ),
        ],
    )
    assert problems == [
        "新增第 1 行「数量」：出库数量应大于 0",
        "新增第 2 行「数量」：出库数量应大于 0",
        "新增第 3 行「数量」：入库数量应大于 0",
        "新增第 4 行「数量」：盘点调整数量不能为 0（盘盈填正数，盘亏填负数）",
        "新增第 5 行「单价(元)」：入库须填写单价",
    ]


def test_stock_movements_are_a_ledger(db, actor, valve):
    movement = db.scalar("SELECT id FROM stock_movements")
    problems = refused(
        db, actor, "stock_movements", [RowChange("update", row_id=movement, values={"qty": "1"})]
    )
    assert problems == ["出入库：此台账只能追加，更正请新增调整记录"]


# -- purchase requests --------------------------------------------------------------------------
def request(item: int, people: dict, **values) -> dict:
    return {
        "stock_item_id": item,
        "qty": "10",
        "est_price": "30",
        "requested_by_id": people["工"],
        "requested_on": "2026-10-15",
        **values,
    }


def test_purchase_request_reaches_stock_only_once_approved(db, actor, valve, people):
    problems = refused(
        db,
        actor,
        "purchase_requests",
        [RowChange("insert", values=request(valve, people, status="已入库"))],
    )
    assert problems == ["新增第 1 行「状态」：只有已批准的申请才能入库（当前为新申请），请先审批"]
    pending = add(db, actor, "purchase_requests", **request(valve, people))
    movements = snapshot(db, "stock_movements")
    problems = refused(
        db,
        actor,
        "purchase_requests",
        [RowChange("update", row_id=pending, values={"status": "已入库"})],
    )
    assert problems == [
        f"编号 {pending}「状态」：只有已批准的申请才能入库（当前为待审批），请先审批"
    ]
    assert snapshot(db, "stock_movements") == movements
    assert db.scalar("SELECT status FROM purchase_requests WHERE id = ?", [pending]) == "待审批"


def test_approval_needs_an_approver_other_than_the_requester(db, actor, valve, people):
    pending = add(db, actor, "purchase_requests", **request(valve, people))
    problems = refused(
        db,
        actor,
        "purchase_requests",
        [RowChange("update", row_id=pending, values={"status": "已批准"})],
    )
    assert problems == [f"编号 {pending}「审批人」：已批准须填写审批人"]
    problems = refused(
        db,
        actor,
        "purchase_requests",
        [
            RowChange(
                "update",
                row_id=pending,
                values={"status": "已批准", "approved_by_id": people["工"]},
            )
        ],
    )
    assert problems == [f"编号 {pending}「审批人」：审批人不能是申请人本人"]


def test_receiving_an_approved_request_writes_its_inbound_movement(db, actor, valve, people):
    approved = add(
        db,
        actor,
        "purchase_requests",
        **request(valve, people, approved_by_id=people["主任"], status="已批准", unit_price="31.5"),
    )
    update(
        db, actor, "purchase_requests", approved, status="已入库", received_at="2026-10-25 09:30"
    )
    movement = db.rows(
        "SELECT stock_item_id, moved_at, direction, qty, unit_price, purchase_request_id "
        "FROM stock_movements WHERE purchase_request_id = ?",
        [approved],
    )
    assert movement == [
        (
            valve,
            datetime(2026, 10, 25, 9, 30),
            "入库",
            Decimal("10.000"),
            Decimal("31.5000"),
            approved,
        )
    ]
    # 3 @ 32 + 10 @ 31.5 = 96 + 315 = 411 over 13 -> 31.6154 (31.615384…)
    assert db.rows(
        "SELECT on_hand, avg_price FROM stock_balance_as_of(DATE '2026-10-31') WHERE stock_item_id = ?",
        [valve],
    ) == [(Decimal("13.000"), Decimal("31.6154"))]
    audited = db.rows(
        "SELECT a.change_id, a.note FROM audit_log a WHERE a.register = 'stock_movements' "
        "AND a.action = '新增' AND a.new_values LIKE '%采购申请%'"
    )
    assert [note for _, note in audited] == ["采购申请入库自动生成"]
    # received is final: no going back, no deleting, no second movement
    problems = refused(
        db,
        actor,
        "purchase_requests",
        [RowChange("update", row_id=approved, values={"status": "已批准"})],
    )
    assert problems == [f"编号 {approved}「状态」：已入库的申请不能改为已批准"]
    problems = refused(
        db, actor, "purchase_requests", [RowChange("update", row_id=approved, values={"qty": "12"})]
    )
    assert problems == [
        f"编号 {approved}「数量」：申请已入库，不能再改；如有差错请在出入库中做盘点调整"
    ]
    problems = refused(db, actor, "purchase_requests", [RowChange("delete", row_id=approved)])
    assert len(problems) == 1 and "仍被引用，不能删除：出入库 1 行" in problems[0]
    update(db, actor, "purchase_requests", approved, reason="补货")
    assert (
        db.scalar("SELECT count(*) FROM stock_movements WHERE purchase_request_id = ?", [approved])
        == 1
    )


def test_receiving_without_any_price_is_refused(db, actor, valve, people):
    approved = add(
        db,
        actor,
        "purchase_requests",
        **request(valve, people, est_price=None, approved_by_id=people["主任"], status="已批准"),
    )
    problems = refused(
        db,
        actor,
        "purchase_requests",
        [RowChange("update", row_id=approved, values={"status": "已入库"})],
    )
    assert problems == [f"编号 {approved}「实际单价(元)」：入库须填写实际单价或预计单价"]
    assert (
        db.scalar("SELECT count(*) FROM stock_movements WHERE purchase_request_id IS NOT NULL") == 0
    )


# -- archive loans ------------------------------------------------------------------------------
@pytest.fixture
def archives(db, actor, community) -> dict[str, int]:
    ids = insert(
        db,
        actor,
        "archives",
        {
            "archive_no": "YZ-0001",
            "community_id": community,
            "category": "业主资料",
            "title": "1号楼业主资料",
            "confidentiality": "保密",
        },
        {
            "archive_no": "GC-0001",
            "community_id": community,
            "category": "工程图纸",
            "title": "1号楼给排水竣工图",
            "confidentiality": "内部",
        },
    ).inserted
    return {"保密": ids[0], "图纸": ids[1]}


def loan(archive: int, **values) -> RowChange:
    return RowChange(
        "insert",
        values={
            "archive_id": archive,
            "borrower": "张三",
            "borrowed_on": "2026-10-10",
            "due_on": "2026-10-24",
            **values,
        },
    )


def test_lending_a_confidential_archive_needs_an_approver(db, actor, archives, people):
    problems = refused(db, actor, "archive_loans", [loan(archives["保密"])])
    assert problems == [
        "新增第 1 行「审批人」：「YZ-0001 1号楼业主资料」为保密档案，借阅须填写审批人"
    ]
    assert db.scalar("SELECT count(*) FROM archive_loans") == 0
    apply_changes(
        db, actor, "archive_loans", [loan(archives["保密"], approved_by_id=people["主任"])]
    )


def test_an_archive_cannot_be_lent_again_before_it_is_returned(db, actor, archives):
    first = apply_changes(db, actor, "archive_loans", [loan(archives["图纸"])]).inserted[0]
    problems = refused(
        db,
        actor,
        "archive_loans",
        [loan(archives["图纸"], borrower="李四", borrowed_on="2026-10-15", due_on="2026-10-20")],
    )
    assert problems == [
        "新增第 1 行「档案」：「GC-0001 1号楼给排水竣工图」已于 2026-10-10 借给 张三，尚未归还，归还后才能再借"
    ]
    update(db, actor, "archive_loans", first, returned_on="2026-10-18")
    apply_changes(
        db,
        actor,
        "archive_loans",
        [loan(archives["图纸"], borrower="李四", borrowed_on="2026-10-18", due_on="2026-10-30")],
    )


def test_two_open_loans_of_one_archive_in_one_change_set_are_refused(db, actor, archives):
    problems = refused(
        db,
        actor,
        "archive_loans",
        [loan(archives["图纸"]), loan(archives["图纸"], borrower="李四", borrowed_on="2026-10-12")],
    )
    assert problems == [
        "新增第 2 行「档案」：「GC-0001 1号楼给排水竣工图」已于 2026-10-10 借给 张三，尚未归还，归还后才能再借"
    ]


def test_returned_loans_may_be_entered_as_history_but_not_overlapping(db, actor, archives):
    apply_changes(db, actor, "archive_loans", [loan(archives["图纸"])])  # open since 10-10
    apply_changes(
        db,
        actor,
        "archive_loans",
        [
            loan(
                archives["图纸"],
                borrower="王五",
                borrowed_on="2026-09-01",
                due_on="2026-09-10",
                returned_on="2026-09-08",
            )
        ],
    )
    problems = refused(
        db,
        actor,
        "archive_loans",
        [
            loan(
                archives["图纸"],
                borrower="赵六",
                borrowed_on="2026-09-05",
                due_on="2026-09-20",
                returned_on="2026-09-12",
            )
        ],
    )
    assert problems == [
        "新增第 1 行「借出日期」：「GC-0001 1号楼给排水竣工图」2026-09-01 至 2026-09-08 已借给 王五，借阅时间不能重叠"
    ]


def test_loan_dates_must_be_in_order(db, actor, archives):
    problems = refused(
        db,
        actor,
        "archive_loans",
        [loan(archives["图纸"], due_on="2026-10-01", returned_on="2026-10-05")],
    )
    assert problems == [
        "新增第 1 行「应还日期」：应还日期不能早于借出日期",
        "新增第 1 行「归还日期」：归还日期不能早于借出日期",
    ]


def test_attachment_must_point_at_a_live_row(db, actor, archives):
    values = {
        "row_id": archives["图纸"],
        "file_name": "a.pdf",
        "stored_path": "attachments/x/a.pdf",
        "sha256": "0" * 64,
        "size": 10,
    }
    problems = refused(
        db,
        actor,
        "attachments",
        [
            RowChange("insert", values={**values, "register": "no_such"}),
            RowChange("insert", values={**values, "register": "archives", "row_id": 999}),
        ],
    )
    assert problems == [
        "新增第 1 行「台账」：没有名为 no_such 的台账",
        "新增第 2 行「行编号」：档案编号 999 不存在",
    ]
