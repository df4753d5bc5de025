"""Rule views of 设备与消防, 合同, 档案, 库存 and v_todo on small hand-built data.

Every expected row is worked out by hand in a comment. Macros are called with explicit as_of
dates, so nothing depends on today. Default parameters (REGULATIONS.md): fire checks every 30
days (15 at high-risk locations); extinguishers first service / service every / scrap after
水基型 3/1/6, 干粉 5/2/10, 洁净气体 5/2/10, 二氧化碳 5/2/12 years; elevators 15 days, water tanks
180 days, asset warn 3 days, certificate warn 30 days; contracts warn 60 days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from saving import add

from app.saving.changes import RowChange, apply_changes

AS_OF = date(2026, 10, 31)
DEMO_DAY = date(2026, 11, 25)  # the facilities demo's today in these tests


def add_many(db, actor, register: str, rows: list[dict]) -> list[int]:
    return apply_changes(
        db, actor, register, [RowChange("insert", values=v) for v in rows]
    ).inserted


@pytest.fixture
def community(db, actor) -> int:
    return add(db, actor, "communities", name="阳光花园")


@pytest.fixture
def staff(db, actor, community) -> int:
    department = add(db, actor, "departments", name="工程部")
    return add(db, actor, "staff", name="李工", department_id=department, community_id=community)


def rows(db, sql: str, params=()) -> list[tuple]:
    return db.rows(sql, list(params))


# -- v_fire_equipment_status ----------------------------------------------------------------
def fire(db, actor, community, equip_no, type_="干粉灭火器", **values) -> int:
    return add(
        db,
        actor,
        "fire_equipment",
        equip_no=equip_no,
        community_id=community,
        type=type_,
        location=values.pop("location", "1号楼大堂"),
        **values,
    )


def fire_states(db, as_of=AS_OF) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in rows(
            db,
            "SELECT equip_no, state, next_check_due, next_service_due, scrap_due, due_on, "
            "days_left FROM fire_equipment_status_as_of(?)",
            [as_of],
        )
    }


def test_fire_check_due_exactly_today_is_due(db, actor, community):
    # produced 2024-01-10: first service 2029-01-10, scrap 2034-01-10 (干粉 5 / 10 years)
    fire(db, actor, community, "F1", produced_on="2024-01-10", last_checked_on="2026-10-01")
    fire(db, actor, community, "F2", produced_on="2024-01-10", last_checked_on="2026-10-02")
    states = fire_states(db)
    # F1: 2026-10-01 + 30 = 2026-10-31 = as_of -> 待检查, 0 days left
    assert states["F1"] == (
        "待检查",
        date(2026, 10, 31),
        date(2029, 1, 10),
        date(2034, 1, 10),
        date(2026, 10, 31),
        0,
    )
    # F2: 2026-10-02 + 30 = 2026-11-01 > as_of -> 正常; due_on the earliest coming date, 1 day left
    assert states["F2"] == (
        "正常",
        date(2026, 11, 1),
        date(2029, 1, 10),
        date(2034, 1, 10),
        date(2026, 11, 1),
        1,
    )


def test_high_risk_location_is_checked_every_15_days(db, actor, community):
    fire(
        db,
        actor,
        community,
        "H1",
        produced_on="2025-01-01",
        last_checked_on="2026-10-16",
        high_risk_location=True,
        location="地下室",
    )
    fire(
        db,
        actor,
        community,
        "H2",
        produced_on="2025-01-01",
        last_checked_on="2026-10-17",
        high_risk_location=True,
        location="锅炉房",
    )
    fire(db, actor, community, "N1", produced_on="2025-01-01", last_checked_on="2026-10-16")
    states = fire_states(db)
    assert states["H1"][:2] == ("待检查", date(2026, 10, 31))  # 10-16 + 15 = 10-31
    assert states["H2"][:2] == ("正常", date(2026, 11, 1))  # 10-17 + 15 = 11-01
    assert states["N1"][:2] == ("正常", date(2026, 11, 15))  # not high risk: 10-16 + 30 = 11-15
    assert rows(
        db, "SELECT equip_no, check_days FROM fire_equipment_status_as_of(?) ORDER BY 1", [AS_OF]
    ) == [("H1", 15), ("H2", 15), ("N1", 30)]


def test_never_checked_counts_from_production(db, actor, community):
    fire(db, actor, community, "P1", produced_on="2026-10-01")  # 10-01 + 30 = 10-31
    fire(db, actor, community, "P2", produced_on="2026-10-02")  # 10-02 + 30 = 11-01
    states = fire_states(db)
    assert states["P1"][:2] == ("待检查", date(2026, 10, 31))
    assert states["P2"][:2] == ("正常", date(2026, 11, 1))


@pytest.mark.parametrize(
    "type_, first, every, scrap",
    [
        ("水基型灭火器", 3, 1, 6),
        ("干粉灭火器", 5, 2, 10),
        ("洁净气体灭火器", 5, 2, 10),
        ("二氧化碳灭火器", 5, 2, 12),
    ],
)
def test_each_extinguisher_type_first_service_interval_and_scrap_age(
    db, actor, community, type_, first, every, scrap
):
    checked = "2026-10-20"  # recent: the check is not what is due (10-20 + 30 = 11-19)
    y = AS_OF.year
    fire(
        db,
        actor,
        community,
        "SCRAP",
        type_,
        produced_on=AS_OF.replace(year=y - scrap),
        last_checked_on=checked,
    )
    fire(
        db,
        actor,
        community,
        "SCRAP+1",
        type_,
        produced_on=date(y - scrap, 11, 1),
        last_checked_on=checked,
        last_serviced_on=date(y, 1, 1),
    )
    fire(
        db,
        actor,
        community,
        "FIRST",
        type_,
        produced_on=AS_OF.replace(year=y - first),
        last_checked_on=checked,
    )
    fire(
        db,
        actor,
        community,
        "FIRST+1",
        type_,
        produced_on=date(y - first, 11, 1),
        last_checked_on=checked,
    )
    fire(
        db,
        actor,
        community,
        "EVERY",
        type_,
        produced_on=date(y - first, 1, 1),
        last_checked_on=checked,
        last_serviced_on=AS_OF.replace(year=y - every),
    )
    fire(
        db,
        actor,
        community,
        "EVERY+1",
        type_,
        produced_on=date(y - first, 1, 1),
        last_checked_on=checked,
        last_serviced_on=date(y - every, 11, 1),
    )
    states = fire_states(db)
    # produced exactly `scrap` years before as_of: scrap_due = as_of -> 待报废 (before 待维修)
    assert states["SCRAP"][0] == "待报废" and states["SCRAP"][3] == AS_OF
    # produced one day later: scrap_due = as_of + 1 day; serviced this year -> next service in `every`
    # years; checked 10-20 -> 正常
    assert states["SCRAP+1"][0] == "正常" and states["SCRAP+1"][3] == date(y, 11, 1)
    # never serviced, produced `first` years before as_of: next_service_due = as_of -> 待维修
    assert states["FIRST"][:3] == ("待维修", date(2026, 11, 19), AS_OF)
    # produced one day later: first service due tomorrow -> 正常
    assert states["FIRST+1"][0] == "正常" and states["FIRST+1"][2] == date(y, 11, 1)
    # serviced `every` years before as_of: next_service_due = as_of -> 待维修
    assert states["EVERY"][0] == "待维修" and states["EVERY"][2] == AS_OF
    assert states["EVERY+1"][0] == "正常" and states["EVERY+1"][2] == date(y, 11, 1)


def test_other_fire_equipment_has_no_service_or_scrap_dates(db, actor, community):
    fire(
        db,
        actor,
        community,
        "HYD",
        "消火栓",
        produced_on="1990-01-01",
        last_checked_on="2026-10-20",
    )
    fire(
        db,
        actor,
        community,
        "DOOR",
        "防火门",
        produced_on="2000-01-01",
        last_checked_on="2026-09-01",
    )
    states = fire_states(db)
    assert states["HYD"] == ("正常", date(2026, 11, 19), None, None, date(2026, 11, 19), 19)
    # 09-01 + 30 = 10-01: 30 days overdue
    assert states["DOOR"] == ("待检查", date(2026, 10, 1), None, None, date(2026, 10, 1), -30)


def test_fire_status_lists_only_equipment_in_use_and_reads_community_settings(db, actor, community):
    other = add(db, actor, "communities", name="翠湖苑")
    add(
        db,
        actor,
        "settings",
        key="fire.check_days",
        value="20",
        value_type="整数",
        community_id=other,
    )
    fire(db, actor, community, "A", produced_on="2025-01-01", last_checked_on="2026-10-11")
    fire(db, actor, other, "B", produced_on="2025-01-01", last_checked_on="2026-10-11")
    fire(db, actor, community, "REPAIR", produced_on="2025-01-01", status="送修")
    fire(db, actor, community, "SCRAPPED", produced_on="2010-01-01", status="报废")
    gone = fire(db, actor, community, "GONE", produced_on="2025-01-01")
    apply_changes(db, actor, "fire_equipment", [RowChange("delete", row_id=gone)])
    states = fire_states(db)
    assert set(states) == {"A", "B"}
    assert states["A"][:2] == ("正常", date(2026, 11, 10))  # 10-11 + 30
    assert states["B"][:2] == ("待检查", date(2026, 10, 31))  # 10-11 + 20 (community override)


# -- v_asset_maintenance_due ------------------------------------------------------------------
def asset(db, actor, community, asset_no, category="电梯", **values) -> int:
    return add(
        db,
        actor,
        "assets",
        asset_no=asset_no,
        community_id=community,
        name=values.pop("name", asset_no),
        category=category,
        **values,
    )


def maintained(db, actor, asset_id, *days: str) -> None:
    add_many(
        db,
        actor,
        "maintenance_records",
        [{"asset_id": asset_id, "done_on": d, "kind": "保养"} for d in days],
    )


def asset_states(db, as_of=AS_OF) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in rows(
            db,
            "SELECT asset_no, interval_days, last_done_on, next_due, state, due_on, days_left "
            "FROM asset_maintenance_due_as_of(?)",
            [as_of],
        )
    }


def test_asset_maintenance_states_and_boundaries(db, actor, community):
    ids = {}
    for no, cat, values in [
        ("DT-1", "电梯", {"install_date": "2026-01-01"}),
        ("DT-2", "电梯", {"install_date": "2026-01-01"}),
        ("DT-3", "电梯", {"install_date": "2026-01-01", "inspection_valid_until": "2026-11-30"}),
        ("DT-4", "电梯", {"install_date": "2026-01-01", "inspection_valid_until": "2026-12-01"}),
        ("SX-1", "二次供水水箱", {"install_date": "2026-05-04"}),
        ("PD-1", "配电", {"install_date": "2020-01-01", "maintenance_interval_days": 90}),
        ("PD-2", "配电", {"install_date": "2020-01-01"}),
        ("DT-OFF", "电梯", {"install_date": "2026-01-01", "status": "停用"}),
        ("DT-5", "电梯", {"install_date": "2026-01-01"}),
        ("QT-1", "其他", {"inspection_valid_until": "2026-10-30"}),
    ]:
        ids[no] = asset(db, actor, community, no, cat, **values)
    maintained(db, actor, ids["DT-1"], "2026-09-01", "2026-10-16")
    maintained(db, actor, ids["DT-2"], "2026-10-15")
    maintained(db, actor, ids["DT-3"], "2026-10-20")
    maintained(db, actor, ids["DT-4"], "2026-10-19")
    maintained(db, actor, ids["PD-1"], "2026-08-01")
    maintained(db, actor, ids["DT-5"], "2026-10-10", "2026-11-05")  # the 11-05 one is after as_of
    assert asset_states(db) == {
        # last 10-16 + 15 = 10-31: not overdue (not < as_of), within warn days -> 待维保, 0 days left
        "DT-1": (15, date(2026, 10, 16), date(2026, 10, 31), "待维保", date(2026, 10, 31), 0),
        # 10-15 + 15 = 10-30 < as_of -> 逾期, 1 day late
        "DT-2": (15, date(2026, 10, 15), date(2026, 10, 30), "逾期", date(2026, 10, 30), -1),
        # 10-20 + 15 = 11-04 = as_of + 4 (beyond warn 3); certificate 11-30 = as_of + 30 -> 证书到期
        "DT-3": (15, date(2026, 10, 20), date(2026, 11, 4), "证书到期", date(2026, 11, 30), 30),
        # 10-19 + 15 = 11-03 = as_of + 3 -> 待维保; certificate 12-01 = as_of + 31 is not yet due
        "DT-4": (15, date(2026, 10, 19), date(2026, 11, 3), "待维保", date(2026, 11, 3), 3),
        # never maintained: install 05-04 + 180 = 10-31 -> 待维保
        "SX-1": (180, None, date(2026, 10, 31), "待维保", date(2026, 10, 31), 0),
        # own interval 90: 08-01 + 90 = 10-30 -> 逾期
        "PD-1": (90, date(2026, 8, 1), date(2026, 10, 30), "逾期", date(2026, 10, 30), -1),
        # PD-2: no interval, no certificate -> no schedule, not listed; DT-OFF: not in use
        # DT-5: the 11-05 record is after as_of; 10-10 + 15 = 10-25 -> 逾期 6 days
        "DT-5": (15, date(2026, 10, 10), date(2026, 10, 25), "逾期", date(2026, 10, 25), -6),
        # a certificate is a schedule too: 10-30 <= as_of + 30 -> 证书到期, already expired
        "QT-1": (None, None, None, "证书到期", date(2026, 10, 30), -1),
    }
    # a week later DT-5's 11-05 maintenance counts: 11-05 + 15 = 11-20 -> 正常
    assert asset_states(db, date(2026, 11, 7))["DT-5"][3] == "正常"


# -- v_contract_expiring ----------------------------------------------------------------------
def test_contract_ending_exactly_at_the_warning_window_is_listed(db, actor, community):
    other = add(db, actor, "communities", name="翠湖苑")
    add(
        db,
        actor,
        "settings",
        key="contract.warn_days",
        value="90",
        value_type="整数",
        community_id=other,
    )
    base = {
        "community_id": community,
        "kind": "分包",
        "counterparty": "某保洁公司",
        "start_on": "2025-01-01",
    }
    add_many(
        db,
        actor,
        "contracts",
        [
            {**base, "contract_no": "C1", "title": "保洁", "end_on": "2026-12-30"},  # as_of + 60
            {**base, "contract_no": "C2", "title": "绿化", "end_on": "2026-12-31"},  # as_of + 61
            {
                **base,
                "contract_no": "C3",
                "title": "电梯维保",
                "end_on": "2026-10-01",
            },  # past, still 履行中
            {
                **base,
                "contract_no": "C4",
                "title": "秩序维护",
                "end_on": "2026-11-15",
                "status": "已续签",
            },
            {
                **base,
                "contract_no": "C5",
                "title": "草拟",
                "end_on": "2026-11-15",
                "status": "草拟",
            },
            {
                **base,
                "community_id": other,
                "contract_no": "C6",
                "title": "停车场",
                "end_on": "2027-01-29",
            },  # +90
            {
                **base,
                "community_id": other,
                "contract_no": "C7",
                "title": "门禁",
                "end_on": "2027-01-30",
            },  # +91
        ],
    )
    listed = rows(
        db,
        "SELECT contract_no, end_on, warn_days, days_left FROM contract_expiring_as_of(?) "
        "ORDER BY contract_no",
        [AS_OF],
    )
    assert listed == [
        ("C1", date(2026, 12, 30), 60, 60),  # 12-30 − 10-31 = 60 days
        ("C3", date(2026, 10, 1), 60, -30),  # 10-01 − 10-31 = −30 (past its end)
        ("C6", date(2027, 1, 29), 90, 90),  # other community warns 90 days ahead
    ]


# -- v_stock_balance --------------------------------------------------------------------------
def stock_item(db, actor, community, code, name, safety="0") -> int:
    return add(
        db,
        actor,
        "stock_items",
        community_id=community,
        code=code,
        name=name,
        unit="个",
        safety_stock=safety,
    )


def move(db, actor, item, moved_at, direction, qty, price=None) -> None:
    add(
        db,
        actor,
        "stock_movements",
        stock_item_id=item,
        moved_at=moved_at,
        direction=direction,
        qty=qty,
        unit_price=price,
    )


def test_stock_on_hand_average_price_and_value(db, actor, community):
    valve = stock_item(db, actor, community, "SN-01", "阀门 DN25", safety="10")
    move(db, actor, valve, "2026-01-05 09:00", "入库", "10", "12.5")
    move(db, actor, valve, "2026-03-01 09:00", "入库", "5", "14")
    move(db, actor, valve, "2026-04-01 10:00", "出库", "8")
    move(db, actor, valve, "2026-06-30 17:00", "盘点调整", "-1")
    balance = rows(
        db,
        "SELECT in_qty, out_qty, adjust_qty, on_hand, avg_price, value, below_safety "
        "FROM stock_balance_as_of(?) WHERE stock_item_id = ?",
        [AS_OF, valve],
    )
    # on_hand = 10 + 5 − 8 − 1 = 6; avg = (10 × 12.5 + 5 × 14) / 15 = 195 / 15 = 13.0000;
    # value = 6 × 13.0000 = 78.00; 6 < safety 10 -> below safety
    assert balance == [
        (
            Decimal("15.000"),
            Decimal("8.000"),
            Decimal("-1.000"),
            Decimal("6.000"),
            Decimal("13.0000"),
            Decimal("78.00"),
            True,
        )
    ]


def test_stock_average_price_and_value_round_half_up(db, actor, community):
    a = stock_item(db, actor, community, "SN-02", "水龙头")
    b = stock_item(db, actor, community, "SN-03", "垫片")
    move(db, actor, a, "2026-02-01 09:00", "入库", "1", "1.0001")
    move(db, actor, a, "2026-02-02 09:00", "入库", "1", "1.0000")
    move(db, actor, b, "2026-02-01 09:00", "入库", "1", "0.125")
    got = {
        r[0]: r[1:]
        for r in rows(
            db, "SELECT code, on_hand, avg_price, value FROM stock_balance_as_of(?)", [AS_OF]
        )
    }
    # (1.0001 + 1.0000) / 2 = 1.00005 -> 1.0001 (half-up; in floating point it would round down);
    # value 2 × 1.0001 = 2.0002 -> 2.00
    assert got["SN-02"] == (Decimal("2.000"), Decimal("1.0001"), Decimal("2.00"))
    # 1 × 0.1250 = 0.125 -> 0.13 (half-up, not half-even 0.12)
    assert got["SN-03"] == (Decimal("1.000"), Decimal("0.1250"), Decimal("0.13"))


def test_stock_item_without_movements_and_point_in_time(db, actor, community):
    empty = stock_item(db, actor, community, "SN-04", "扳手", safety="5")
    item = stock_item(db, actor, community, "SN-05", "灯泡")
    move(db, actor, item, "2026-10-31 23:59", "入库", "4", "3")
    move(db, actor, item, "2026-11-01 00:00", "出库", "1")
    got = {
        r[0]: r[1:]
        for r in rows(
            db,
            "SELECT stock_item_id, on_hand, avg_price, value, below_safety FROM stock_balance_as_of(?)",
            [AS_OF],
        )
    }
    assert got[empty] == (Decimal("0.000"), None, None, True)  # 0 < 5
    assert got[item] == (
        Decimal("4.000"),
        Decimal("3.0000"),
        Decimal("12.00"),
        False,
    )  # 11-01 not yet
    later = rows(
        db,
        "SELECT on_hand FROM stock_balance_as_of(?) WHERE stock_item_id = ?",
        [date(2026, 11, 1), item],
    )
    assert later == [(Decimal("3.000"),)]  # 4 − 1


# -- v_archive_loans_overdue ------------------------------------------------------------------
def test_overdue_archive_loans(db, actor, community):
    archives = add_many(
        db,
        actor,
        "archives",
        [
            {
                "archive_no": f"DA-{n}",
                "community_id": community,
                "category": "工程图纸",
                "title": f"图纸 {n}",
            }
            for n in range(1, 5)
        ],
    )
    loans = add_many(
        db,
        actor,
        "archive_loans",
        [
            {
                "archive_id": archives[0],
                "borrower": "张三",
                "borrowed_on": "2026-10-01",
                "due_on": "2026-10-30",
            },
            {
                "archive_id": archives[1],
                "borrower": "李四",
                "borrowed_on": "2026-10-01",
                "due_on": "2026-10-31",
            },
            {
                "archive_id": archives[2],
                "borrower": "王五",
                "borrowed_on": "2026-09-01",
                "due_on": "2026-10-01",
                "returned_on": "2026-10-20",
            },
            {
                "archive_id": archives[3],
                "borrower": "赵六",
                "borrowed_on": "2026-09-01",
                "due_on": "2026-10-01",
                "returned_on": "2026-11-05",
            },
        ],
    )
    overdue = rows(
        db,
        "SELECT archive_loan_id, archive_no, borrower, due_on, days_overdue "
        "FROM archive_loans_overdue_as_of(?) ORDER BY 1",
        [AS_OF],
    )
    assert overdue == [
        (loans[0], "DA-1", "张三", date(2026, 10, 30), 1),  # 10-31 − 10-30 = 1
        # DA-2 due today: not overdue; DA-3 returned 10-20
        (
            loans[3],
            "DA-4",
            "赵六",
            date(2026, 10, 1),
            30,
        ),  # returned only on 11-05: 30 days on 10-31
    ]
    assert rows(db, "SELECT count(*) FROM archive_loans_overdue_as_of(?)", [date(2026, 11, 6)]) == [
        (2,)
    ]
    # on 11-06: DA-1 (7 days) and DA-2 (6 days); DA-4 is back


# -- v_todo -----------------------------------------------------------------------------------
def test_todo_unions_what_is_due(db, actor, community, staff):
    ok = fire(db, actor, community, "XF-OK", produced_on="2025-01-01", last_checked_on="2026-10-20")
    due = fire(
        db,
        actor,
        community,
        "XF-01",
        produced_on="2025-01-01",
        last_checked_on="2026-10-01",
        location="1号楼大堂",
    )
    scrap = fire(
        db,
        actor,
        community,
        "XF-02",
        "水基型灭火器",
        produced_on="2020-10-01",
        last_checked_on="2026-10-20",
        location="地下车库",
    )
    lift = asset(db, actor, community, "DT-01", name="1号楼电梯", install_date="2026-01-01")
    maintained(db, actor, lift, "2026-10-10")
    contract = add(
        db,
        actor,
        "contracts",
        contract_no="HT-01",
        community_id=community,
        title="保洁外包",
        kind="分包",
        counterparty="洁净公司",
        start_on="2025-12-01",
        end_on="2026-11-30",
    )
    bolt = stock_item(db, actor, community, "WJ-01", "螺栓 M8", safety="10")
    move(db, actor, bolt, "2026-10-01 09:00", "入库", "3", "0.5")
    drawing = add(
        db,
        actor,
        "archives",
        archive_no="DA-01",
        community_id=community,
        category="工程图纸",
        title="竣工图",
    )
    loan = add(
        db,
        actor,
        "archive_loans",
        archive_id=drawing,
        borrower="张三",
        borrowed_on="2026-10-01",
        due_on="2026-10-21",
    )
    todo = rows(
        db,
        # the rows of this registers (other areas add theirs, e.g. a drill never held)
        "SELECT area, ref_table, ref_id, due_on, days_overdue, severity, item FROM todo_as_of(?) "
        "WHERE ref_table IN ('archive_loans', 'assets', 'contracts', 'fire_equipment', 'stock_items') "
        "ORDER BY ref_table, ref_id",
        [AS_OF],
    )
    assert todo == [
        # loan due 10-21: 10 days overdue
        (
            "档案与公文",
            "archive_loans",
            loan,
            date(2026, 10, 21),
            10,
            "中",
            "档案 DA-01《竣工图》借阅人 张三 逾期未还，已逾期 10 天",
        ),
        # elevator: 10-10 + 15 = 10-25 < as_of: 6 days overdue
        (
            "设备与消防",
            "assets",
            lift,
            date(2026, 10, 25),
            6,
            "高",
            "设备 DT-01 1号楼电梯（电梯）维保逾期，已逾期 6 天",
        ),
        # contract ends 11-30 = as_of + 30 (within 60): 30 days to go
        (
            "合同与工程",
            "contracts",
            contract,
            date(2026, 11, 30),
            -30,
            "低",
            "合同 HT-01 保洁外包（洁净公司）即将到期，还有 30 天",
        ),
        # XF-01: 10-01 + 30 = 10-31, due today
        (
            "设备与消防",
            "fire_equipment",
            due,
            date(2026, 10, 31),
            0,
            "中",
            "消防器材 XF-01 干粉灭火器（1号楼大堂）到期检查，今天到期",
        ),
        # XF-02 水基型 produced 2020-10-01 + 6 years = 2026-10-01: 30 days past its scrap age
        (
            "设备与消防",
            "fire_equipment",
            scrap,
            date(2026, 10, 1),
            30,
            "高",
            "消防器材 XF-02 水基型灭火器（地下车库）已到报废年限，已逾期 30 天",
        ),
        # on hand 3 < safety 10
        (
            "采购与库存",
            "stock_items",
            bolt,
            AS_OF,
            0,
            "低",
            "库存 WJ-01 螺栓 M8 结存 3个，低于安全库存 10个",
        ),
    ]
    assert ("fire_equipment", ok) not in [r[1:3] for r in todo]
    assert rows(db, "SELECT DISTINCT community_id FROM todo_as_of(?)", [AS_OF]) == [(community,)]


def test_views_at_current_date_are_the_macros_at_today(db, actor, community):
    fire(db, actor, community, "XF-01", produced_on="2020-01-01")
    today = db.scalar("SELECT current_date")
    for view, macro in [
        ("v_fire_equipment_status", "fire_equipment_status_as_of"),
        ("v_asset_maintenance_due", "asset_maintenance_due_as_of"),
        ("v_contract_expiring", "contract_expiring_as_of"),
        ("v_stock_balance", "stock_balance_as_of"),
        ("v_archive_loans_overdue", "archive_loans_overdue_as_of"),
        ("v_todo", "todo_as_of"),
    ]:
        assert rows(db, f"SELECT * FROM {view} ORDER BY ALL") == rows(
            db, f"SELECT * FROM {macro}(?) ORDER BY ALL", [today]
        )
    assert rows(db, "SELECT count(*) FROM v_todo WHERE ref_table = 'fire_equipment'") == [(1,)]


# -- demo data --------------------------------------------------------------------------------
DEMO_REGISTERS = (
    "vendors",
    "assets",
    "maintenance_records",
    "asset_assignments",
    "fire_equipment",
    "fire_checks",
    "drills",
    "contracts",
    "projects",
    "archives",
    "archive_loans",
    "documents",
    "notices",
    "stock_items",
    "purchase_requests",
    "stock_movements",
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The core demo plus this area's demo, on a DuckDB file, seeded once for the module."""
    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from seed import demo_facilities
    from seed.demo import seed_core

    seeder = Actor("演示数据", source="任务")
    database = open_database(str(tmp_path_factory.mktemp("demo") / "wuye.duckdb"))
    ensure_defaults(database, seeder)
    seed_core(database, seeder, DEMO_DAY)
    counts = demo_facilities.seed(database, seeder, DEMO_DAY)
    yield database, counts
    database.close()


def test_demo_has_the_promised_rows_and_something_due_in_every_area(demo_db):
    REFERENCE_DATE = DEMO_DAY

    db, counts = demo_db
    assert {k: db.scalar(f"SELECT count(*) FROM {k}") for k in DEMO_REGISTERS} == counts
    assert 270 <= counts["assets"] <= 330 and 450 <= counts["fire_equipment"] <= 550
    assert 50 <= counts["contracts"] <= 70 and 350 <= counts["archives"] <= 450
    assert 140 <= counts["stock_items"] <= 160 and counts["stock_movements"] > 2000
    lifts = db.rows(
        "SELECT a.category, count(DISTINCT a.id), count(*) FROM assets a "
        "JOIN maintenance_records m ON m.asset_id = a.id GROUP BY 1"
    )
    histories = {category: (n, records) for category, n, records in lifts}
    assert histories["电梯"][0] >= 20 and histories["电梯"][1] >= 20 * 20  # half-monthly for a year
    assert histories["二次供水水箱"][0] == 4
    fire = dict(
        db.rows(
            "SELECT state, count(*) FROM fire_equipment_status_as_of(?) GROUP BY 1",
            [REFERENCE_DATE],
        )
    )
    assert (
        all(fire.get(state, 0) >= 2 for state in ("待报废", "待维修", "待检查"))
        and fire["正常"] > 300
    )
    assert db.scalar("SELECT count(DISTINCT type) FROM fire_equipment") == 9
    todo = dict(db.rows("SELECT area, count(*) FROM todo_as_of(?) GROUP BY 1", [REFERENCE_DATE]))
    assert set(todo) >= {"设备与消防", "合同与工程", "档案与公文"}  # others add theirs
    assert db.scalar("SELECT count(*) FROM contract_expiring_as_of(?)", [REFERENCE_DATE]) >= 5
    assert db.scalar("SELECT count(*) FROM archive_loans_overdue_as_of(?)", [REFERENCE_DATE]) >= 3


def test_the_whole_demo_has_stock_below_safety_on_its_day(demo_file):
    # a few items reordered late (seed/demo_facilities.py): in the whole demo, not in this
    # module's core-and-facilities one, whose staff lacks who requests and approves purchases
    from conftest import DEMO_AS_OF

    from app.storage.db import open_database

    db = open_database(str(demo_file), read_only=True)
    try:
        assert db.scalar("SELECT count(*) FROM stock_balance_as_of(?) WHERE below_safety", [DEMO_AS_OF]) >= 2
        assert db.scalar("SELECT count(*) FROM todo_as_of(?) WHERE area = '采购与库存'", [DEMO_AS_OF]) >= 2
    finally:
        db.close()


def test_demo_obeys_the_save_rules(demo_db):
    db, _ = demo_db
    # stock never negative at any moment
    assert (
        db.scalar("""
        SELECT count(*) FROM (
          SELECT sum(CASE direction WHEN '出库' THEN -qty ELSE qty END)
                 OVER (PARTITION BY stock_item_id ORDER BY moved_at, id) AS running
          FROM stock_movements) WHERE running < 0""")
        == 0
    )
    # the register holds the latest check of each kind
    assert (
        db.scalar("""
        SELECT count(*) FROM fire_equipment e
        WHERE last_checked_on IS DISTINCT FROM (SELECT max(checked_on) FROM fire_checks c
                                               WHERE c.fire_equipment_id = e.id AND kind IN ('月检', '年检'))
           OR last_serviced_on IS DISTINCT FROM (SELECT max(checked_on) FROM fire_checks c
                                                 WHERE c.fire_equipment_id = e.id AND kind IN ('维修', '更换'))
        """)
        == 0
    )
    # one open loan per archive, 保密 loans approved; received requests have their movement
    assert (
        db.scalar(
            "SELECT count(*) FROM (SELECT archive_id FROM archive_loans WHERE returned_on IS NULL "
            "GROUP BY 1 HAVING count(*) > 1)"
        )
        == 0
    )
    assert (
        db.scalar(
            "SELECT count(*) FROM archive_loans l JOIN archives a ON a.id = l.archive_id "
            "WHERE a.confidentiality = '保密' AND l.approved_by_id IS NULL"
        )
        == 0
    )
    assert (
        db.scalar(
            "SELECT count(*) FROM purchase_requests r WHERE status = '已入库' AND NOT EXISTS "
            "(SELECT 1 FROM stock_movements m WHERE m.purchase_request_id = r.id)"
        )
        == 0
    )


def test_demo_is_deterministic(tmp_path, actor):
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from seed import demo_facilities

    snapshots = []
    for n in (1, 2):
        db = open_database(str(tmp_path / f"demo{n}.duckdb"))
        ensure_defaults(db, actor)
        for name in ("阳光花园", "翠湖苑"):
            cid = add(db, actor, "communities", name=name)
            dep = add(db, actor, "departments", name=f"工程部{name}")
            add_many(
                db,
                actor,
                "staff",
                [{"name": f"员工{k}", "department_id": dep, "community_id": cid} for k in range(4)],
            )
        demo_facilities.seed(db, actor, DEMO_DAY)
        snapshot = {}
        for table in DEMO_REGISTERS:
            cols = [c for c in db.columns_of(table) if c not in ("created_at", "updated_at")]
            snapshot[table] = db.rows(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id")
        snapshots.append(snapshot)
        db.close()
    assert snapshots[0] == snapshots[1]
