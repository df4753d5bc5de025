"""Registers that read like ledgers (issue #21 item 6): a default order per register in its
definition, newest first for bills, receipts, logs; exports show references by label.

Orders are read through `fetch_page` and the Excel export on both backends.
"""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from app import registers
from app.admin import designer
from app.exchange import excel
from app.reading.queries import PageRequest, fetch_page
from app.registers.model import DATE_TYPES, DefinitionError, register_from_dict
from app.saving.changes import RowChange, apply_changes
from app.storage.postgres import index_sql

NEWEST_FIRST = ("bills", "receipts", "payments", "work_orders", "complaints", "parking_events",
                "visitors", "monitor_logs", "patrols", "fire_checks", "meter_readings",
                "stock_movements", "finance_entries", "incidents", "inspections", "bill_adjustments",
                "cash_closings", "arrears_actions", "household_credits", "work_order_visits")


def definition(order_by) -> dict:
    return {"name": "log", "label": "日志", "area": "系统", "order_by": order_by,
            "fields": [{"name": "at", "label": "时间", "type": "timestamp"},
                       {"name": "what", "label": "内容", "type": "text"}]}


def add(db, actor, register, *rows) -> list[int]:
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


# -- the definition --------------------------------------------------------------------------
def test_desc_entries_parse_and_id_breaks_ties_in_the_first_keys_direction():
    assert register_from_dict(definition(["at desc", "what"])).order_keys == (
        ("at", True), ("what", False), ("id", True))
    assert register_from_dict(definition(["at", "what desc"])).order_keys == (
        ("at", False), ("what", True), ("id", False))
    assert register_from_dict(definition(["at asc", "id desc", "what"])).order_keys == (
        ("at", False), ("id", True), ("what", False))  # an explicit id stays where it is
    assert register_from_dict({k: v for k, v in definition([]).items() if k != "order_by"}).order_keys == (
        ("id", False),)


@pytest.mark.parametrize("bad, words", [
    (["-at"], "列名 desc"),
    (["at DESC"], "列名 desc"),
    (["at descending"], "列名 desc"),
    (["at  desc extra"], "列名 desc"),
    ([3], "列名 desc"),
    (["when desc"], "'when' is not a field"),
    (["at desc", "at"], "重复"),
    ("at desc", "应为列表"),
])
def test_a_bad_order_is_refused_when_the_definition_loads(bad, words):
    with pytest.raises(DefinitionError, match=words):
        register_from_dict(definition(bad))


def test_ledgers_and_logs_list_newest_first():
    for name in NEWEST_FIRST:
        reg = registers.get(name)
        first, descending = reg.order_keys[0]
        assert descending, name
        assert first == "period" or reg.field(first).type in DATE_TYPES, name
        assert reg.order_keys[-1] == ("id", True), name
    # registers that are lists, not logs, keep reading A to Z
    assert registers.get("households").order_keys == (("community_id", False), ("code", False), ("id", False))


def test_postgres_index_follows_the_directions():
    bills = index_sql(registers.get("bills"))
    [(name, sql)] = [(n, s) for n, s in bills.items() if "_order_" in n]
    assert name.startswith("bills_order_") and name != "bills_order_idx"
    assert '("period" DESC NULLS LAST, "household_id", "fee_item_id", "id" DESC NULLS LAST)' in sql
    assert "households_order_idx" in index_sql(registers.get("households"))  # unchanged name


# -- read back on both backends --------------------------------------------------------------
@pytest.fixture
def gate(db, actor):
    """One community and a household 10-3-402; visitors logged out of order, two at one minute."""
    add(db, actor, "communities", {"name": "阳光花园"})
    add(db, actor, "households", {"community_id": 1, "code": "10-3-402", "area": "88", "status": "已入住"})
    ids = add(db, actor, "visitors",
              {"community_id": 1, "visited_at": datetime(2026, 3, 1, 9, 0), "name": "甲", "purpose": "家政"},
              {"community_id": 1, "visited_at": datetime(2026, 5, 2, 8, 30), "name": "乙", "purpose": "家政",
               "household_id": 1},
              {"community_id": 1, "visited_at": datetime(2026, 4, 9, 17, 0), "name": "丙", "purpose": "其他"},
              {"community_id": 1, "visited_at": datetime(2026, 5, 2, 8, 30), "name": "丁", "purpose": "快递外卖"})
    assert ids == sorted(ids)
    return db


def test_grid_default_order_is_newest_first_latest_entry_of_a_minute_on_top(gate, actor):
    frame, total = fetch_page(gate, actor, registers.get("visitors"), PageRequest())
    assert total == 4
    # 5-02 08:30 twice: 丁 was entered after 乙, so it comes first; then 4-09, then 3-01
    assert list(frame["name"]) == ["丁", "乙", "丙", "甲"]
    page2, _ = fetch_page(gate, actor, registers.get("visitors"), PageRequest(page=2, page_size=3))
    assert list(page2["name"]) == ["甲"]


def test_a_chosen_sort_still_wins_over_the_default(gate, actor):
    frame, _ = fetch_page(gate, actor, registers.get("visitors"), PageRequest(sort="visited_at"))
    assert list(frame["name"]) == ["甲", "丙", "乙", "丁"]


def test_empty_values_of_a_descending_key_come_last(db, actor):
    add(db, actor, "communities", {"name": "阳光花园"})
    # documents: dated desc; a document without a date lists after the dated ones on both backends
    base = {"community_id": 1, "direction": "收文", "status": "登记"}
    add(db, actor, "documents", {**base, "title": "一月", "dated": "2026-01-05"}, {**base, "title": "无日期"},
        {**base, "title": "六月", "dated": "2026-06-01"})
    frame, _ = fetch_page(db, actor, registers.get("documents"), PageRequest())
    assert list(frame["title"]) == ["六月", "一月", "无日期"]


def test_export_lists_newest_first_with_references_by_label(gate, actor, tmp_path):
    out = tmp_path / "visitors.xlsx"
    assert excel.export_register(gate, actor, "visitors", out) == 4
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    header = rows[0]
    names = [r[header.index("访客姓名")] for r in rows[1:]]
    assert names == ["丁", "乙", "丙", "甲"]
    assert rows[2][header.index("小区")] == "阳光花园"
    assert rows[2][header.index("被访房屋")] == "阳光花园/10-3-402"  # not the id 1
    assert rows[1][header.index("被访房屋")] is None


def test_designer_register_with_a_descending_order(db, actor):
    designer.create_register(db, actor, {
        "name": "boiler_log", "label": "锅炉记录", "area": "设备与消防", "order_by": ["read_at desc"],
        "fields": [{"name": "read_at", "label": "抄表时间", "type": "timestamp", "required": True},
                   {"name": "reading", "label": "读数", "type": "quantity"},
                   {"name": "note", "label": "备注", "type": "text"}]})
    add(db, actor, "boiler_log", {"read_at": datetime(2026, 1, 1, 8), "reading": "1"},
        {"read_at": datetime(2026, 1, 3, 8), "reading": "3"}, {"read_at": datetime(2026, 1, 2, 8), "reading": "2"})
    frame, _ = fetch_page(db, actor, registers.get("boiler_log"), PageRequest())
    assert [float(v) for v in frame["reading"]] == [3.0, 2.0, 1.0]
    # a column the order uses cannot be retired, whatever its direction
    with pytest.raises(designer.SchemaChangeRefused, match="排序"):
        designer.retire_field(db, actor, "boiler_log", "read_at")
    designer.retire_field(db, actor, "boiler_log", "note")  # one it does not use can
    with pytest.raises(DefinitionError, match="列名 desc"):
        designer.create_register(db, actor, {
            "name": "boiler_log2", "label": "锅炉记录二", "area": "设备与消防", "order_by": ["-read_at"],
            "fields": [{"name": "read_at", "label": "抄表时间", "type": "timestamp"}]})
    if db.is_postgres:
        indexes = {r[0] for r in db.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'boiler_log'")}
        assert any(n.startswith("boiler_log_order_") for n in indexes), indexes


def test_export_to_bytes_keeps_the_order(gate, actor):
    data = excel.register_xlsx_bytes(gate, actor, "visitors", PageRequest())
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert [r[rows[0].index("访客姓名")] for r in rows[1:]] == ["丁", "乙", "丙", "甲"]
