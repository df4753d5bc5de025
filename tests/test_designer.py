"""Registers, fields and calculated columns the office defines itself (issue 12), on both backends.

Everything goes through the service layer (app/admin/designer.py): a register with every field type is
created, then edited through apply_changes, imported, exported and audited like a built-in one;
fields are added, renamed and retired keeping their data; changes that would invalidate rows are
refused with those rows; hostile and broken calculated expressions are refused.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from app import registers
from app.access.permissions import Actor, PermissionDenied, can
from app.admin import designer
from app.exchange.excel import export_register
from app.exchange.importer import import_file
from app.exchange.templates import template_xlsx
from app.reading.queries import PageRequest, fetch_page
from app.registers.expressions import ExpressionError
from app.registers.model import SQL_TYPES, DefinitionError
from app.saving.changes import RowChange, ValidationFailed, apply_changes
from app.storage.db import open_database

EVERY_TYPE = [
    {"name": "key_no", "label": "钥匙编号", "type": "text", "required": True, "pattern": "K[0-9]+",
     "pattern_hint": "K 加数字"},
    {"name": "community_id", "label": "小区", "type": "ref", "ref": "communities"},
    {"name": "copies", "label": "份数", "type": "integer", "min": 0, "max": 10},
    {"name": "deposit", "label": "押金", "type": "money"},
    {"name": "unit_price", "label": "单价", "type": "price"},
    {"name": "room_area", "label": "房间面积", "type": "area"},
    {"name": "weight", "label": "重量", "type": "quantity"},
    {"name": "share", "label": "分摊比例", "type": "rate"},
    {"name": "made_on", "label": "配制日期", "type": "date"},
    {"name": "lent_at", "label": "借出时间", "type": "timestamp"},
    {"name": "spare", "label": "备用", "type": "boolean"},
    {"name": "room", "label": "机房", "type": "enum", "values": ["配电房", "水泵房", "电梯机房"]},
    {"name": "keeper_phone", "label": "保管人电话", "type": "phone"},
    {"name": "keeper_id", "label": "保管人身份证", "type": "id_number"},
]


def rows_of(data: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def make_keys(db, actor) -> int:
    """The register plant_keys with every field type, and a community; returns the community id."""
    designer.create_register(db, actor, {
        "name": "plant_keys", "label": "机房钥匙", "area": "设备与消防", "description": "各机房钥匙的保管与借用",
        "fields": EVERY_TYPE, "display": ["key_no"], "unique": [["key_no"]],
    })
    saved = apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})])
    return saved.inserted[0]


def test_every_field_type_is_covered():
    assert {f["type"] for f in EVERY_TYPE} == set(SQL_TYPES)


def test_custom_register_end_to_end(db, actor, tmp_path):
    community = make_keys(db, actor)
    reg = registers.get("plant_keys")
    assert [f.name for f in reg.fields] == [f["name"] for f in EVERY_TYPE]
    assert reg.community == "community_id"  # scoped by community like the built-in ones
    assert reg in registers.by_area()["设备与消防"]
    versions = {r[0] for r in db.rows("SELECT version FROM schema_migrations")}
    assert "register:plant_keys" in versions
    assert set(db.columns_of("plant_keys")) >= {f["name"] for f in EVERY_TYPE} | {"id", "row_version"}
    # permissions follow the area: 维修 writes 设备与消防, 财务 does not
    assert can(Actor("小李", "维修"), "plant_keys", "add")
    assert not can(Actor("小钱", "财务"), "plant_keys", "add")

    # edit through the save path: conversion, validation, audit
    saved = apply_changes(db, actor, "plant_keys", [
        RowChange("insert", values={"key_no": "K1", "community_id": community, "copies": 2, "deposit": "50.5",
                                    "unit_price": "1.2345", "room_area": "12.5", "weight": "0.125",
                                    "share": "0.25", "made_on": "2020-03-01", "lent_at": "2026-11-20 09:30",
                                    "spare": True, "room": "配电房", "keeper_phone": "13812345678",
                                    "keeper_id": "11010519491231002X"}),
        RowChange("insert", values={"key_no": "K2", "community_id": "阳光花园", "room": "水泵房"}),
    ])
    k1, k2 = saved.inserted
    apply_changes(db, actor, "plant_keys", [RowChange("update", row_id=k2, values={"copies": 3})])
    row = db.rows("SELECT deposit, unit_price, made_on, lent_at, spare, community_id, copies FROM plant_keys "
                  "WHERE id = ?", [k1])[0]
    assert row == (Decimal("50.50"), Decimal("1.2345"), date(2020, 3, 1), datetime(2026, 11, 20, 9, 30), True,
                   community, 2)
    assert db.scalar("SELECT community_id FROM plant_keys WHERE id = ?", [k2]) == community
    with pytest.raises(ValidationFailed) as refused:
        apply_changes(db, actor, "plant_keys", [RowChange("insert", values={"key_no": "X9", "copies": 11,
                                                                             "room": "锅炉房"})])
    text = str(refused.value)
    assert "钥匙编号" in text and "份数" in text and "机房" in text
    audit = db.rows("SELECT action, row_id FROM audit_log WHERE register = 'plant_keys' ORDER BY id")
    assert audit == [("新增", k1), ("新增", k2), ("修改", k2)]
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'custom_definitions' AND action = '新增'") == 1

    # the grid's page masks personal data for a role without the right
    frame, total = fetch_page(db, Actor("小李", "维修"), reg, PageRequest(sort="key_no"))
    assert total == 2 and list(frame["keeper_phone"])[0] == "138****5678"

    # export: labels as headers, refs as labels
    out = tmp_path / "keys.xlsx"
    assert export_register(db, actor, "plant_keys", out, PageRequest(sort="key_no")) == 2
    sheet = rows_of(out.read_bytes())
    assert sheet[0][:4] == ("编号", "钥匙编号", "小区", "份数")
    assert sheet[1][1:4] == ("K1", "阳光花园", 2)

    # the import template and an import by labels
    template = rows_of(template_xlsx("plant_keys"))
    assert "钥匙编号" in " ".join(str(c) for c in template[0] if c)
    book = openpyxl.Workbook()
    book.active.append(["钥匙编号", "小区", "机房", "配制日期", "押金"])
    book.active.append(["K3", "阳光花园", "电梯机房", "2021-05-06", "20"])
    data = io.BytesIO()
    book.save(data)
    result = import_file(db, actor, "plant_keys", data.getvalue(), file_name="钥匙.xlsx")
    assert len(result.saved.inserted) == 1
    assert db.rows("SELECT room, made_on, deposit FROM plant_keys WHERE key_no = 'K3'") == [
        ("电梯机房", date(2021, 5, 6), Decimal("20.00"))]

    # another process opening the database finds the register in its catalog
    registers.load_custom([])
    assert "plant_keys" not in registers.catalog()
    other = open_database(db.url, migrate=False)
    try:
        assert registers.get("plant_keys").label == "机房钥匙"
    finally:
        other.close()


def test_only_administrators_change_schemas(db, actor):
    clerk = Actor("小张", "客服")
    with pytest.raises(PermissionDenied):
        designer.create_register(db, clerk, {"name": "visits", "label": "便民服务", "area": "调查与文化",
                                             "fields": [{"name": "what", "label": "事项", "type": "text"}]})
    with pytest.raises(PermissionDenied):
        designer.add_field(db, clerk, "households", {"name": "floor_heating", "label": "地暖", "type": "boolean"})
    assert "visits" not in registers.catalog()
    # bad definitions are refused with the reason, nothing stored
    for bad, word in [
        ({"name": "Visits", "label": "x", "area": "系统", "fields": [{"name": "a", "label": "甲", "type": "text"}]},
         "小写"),
        ({"name": "households", "label": "x", "area": "系统", "fields": [{"name": "a", "label": "甲", "type": "text"}]},
         "已有"),
        ({"name": "visits", "label": "便民", "area": "系统", "fields": [{"name": "a", "label": "甲", "type": "money2"}]},
         "unknown type"),
        ({"name": "visits", "label": "便民", "area": "系统",
          "fields": [{"name": "a", "label": "甲", "type": "ref", "ref": "nowhere"}]}, "不存在"),
        ({"name": "visits", "label": "便民", "area": "系统", "fields": [{"name": "a", "label": "甲", "type": "enum"}]},
         "enum needs values"),
    ]:
        with pytest.raises(DefinitionError, match=word):
            designer.create_register(db, actor, bad)
    assert designer.stored(db) == {}


def test_fields_added_renamed_retired_keep_data(db, actor):
    community = make_keys(db, actor)
    saved = apply_changes(db, actor, "plant_keys", [
        RowChange("insert", values={"key_no": "K1", "community_id": community, "room": "配电房"})])
    k1 = saved.inserted[0]
    # a new field on the custom register and on a built-in one
    designer.add_field(db, actor, "plant_keys", {"name": "holder", "label": "保管人", "type": "text"})
    designer.add_field(db, actor, "communities", {"name": "floor_heating", "label": "地暖", "type": "boolean",
                                                  "default": False})
    assert registers.get("communities").field("floor_heating").label == "地暖"
    assert "register:communities.floor_heating" in {r[0] for r in db.rows("SELECT version FROM schema_migrations")}
    assert db.scalar("SELECT floor_heating FROM communities WHERE id = ?", [community]) is False
    apply_changes(db, actor, "plant_keys", [RowChange("update", row_id=k1, values={"holder": "王师傅"})])
    apply_changes(db, actor, "communities", [RowChange("update", row_id=community, values={"floor_heating": True})])
    # rename a built-in field's label and a custom one
    designer.change_field(db, actor, "communities", "name", label="小区名称")
    designer.change_field(db, actor, "plant_keys", "holder", label="保管人姓名")
    assert registers.get("communities").label_of("name") == "小区名称"
    assert registers.get("plant_keys").label_of("holder") == "保管人姓名"
    # retire: hidden from the register, data kept, and back again
    designer.retire_field(db, actor, "plant_keys", "holder")
    designer.retire_field(db, actor, "communities", "floor_heating")
    assert not registers.get("plant_keys").has_field("holder")
    assert not registers.get("communities").has_field("floor_heating")
    assert db.scalar("SELECT holder FROM plant_keys WHERE id = ?", [k1]) == "王师傅"
    frame, _ = fetch_page(db, actor, registers.get("plant_keys"), PageRequest())
    with pytest.raises(ValidationFailed):  # no longer a column of the register
        apply_changes(db, actor, "plant_keys", [RowChange("update", row_id=k1, values={"holder": "李"})])
    with pytest.raises(DefinitionError, match="已停用"):  # its name stays taken
        designer.add_field(db, actor, "plant_keys", {"name": "holder", "label": "新保管人", "type": "integer"})
    with pytest.raises(designer.SchemaChangeRefused, match="显示名称"):
        designer.retire_field(db, actor, "plant_keys", "key_no")
    designer.restore_field(db, actor, "plant_keys", "holder")
    assert registers.get("plant_keys").label_of("holder") == "保管人姓名"
    assert db.scalar("SELECT holder FROM plant_keys WHERE id = ?", [k1]) == "王师傅"
    # every change is in the audit log with the definition before and after
    notes = [r[0] for r in db.rows("SELECT note FROM audit_log WHERE register = 'custom_definitions' ORDER BY id")]
    assert any("停用列「保管人姓名」" in n for n in notes) and any("恢复列" in n for n in notes)
    new = json.loads(db.scalar("SELECT new_values FROM audit_log WHERE register = 'custom_definitions' "
                               "AND note LIKE '%地暖%' ORDER BY id LIMIT 1"))
    assert new["name"] == "communities" and "floor_heating" in new["definition"]


def test_refused_changes_list_the_rows(db, actor):
    community = make_keys(db, actor)
    saved = apply_changes(db, actor, "plant_keys", [
        RowChange("insert", values={"key_no": "K1", "community_id": community, "room": "配电房"}),
        RowChange("insert", values={"key_no": "K2", "community_id": community, "room": "水泵房", "copies": 1}),
        RowChange("insert", values={"key_no": "K3", "community_id": community, "room": "配电房", "copies": 2}),
    ])
    k1, k2, k3 = saved.inserted
    # required while rows are empty: K1 has no 份数
    with pytest.raises(designer.SchemaChangeRefused) as refused:
        designer.change_field(db, actor, "plant_keys", "copies", required=True)
    assert refused.value.rows == [(k1, "K1")]
    assert "编号 " + str(k1) + " K1" in str(refused.value)
    assert not registers.get("plant_keys").field("copies").required
    # ... or with an explicit value for them, written through the save path (audited)
    change = designer.change_field(db, actor, "plant_keys", "copies", required=True, fill=1)
    assert change.rows_changed == 1 and registers.get("plant_keys").field("copies").required
    assert db.scalar("SELECT copies FROM plant_keys WHERE id = ?", [k1]) == 1
    assert db.scalar("SELECT source FROM audit_log WHERE register = 'plant_keys' AND row_id = ? "
                     "AND action = '修改'", [k1]) == "台账设计"
    # an enum value in use removed: refused with the rows, or moved to another value
    with pytest.raises(designer.SchemaChangeRefused) as refused:
        designer.change_field(db, actor, "plant_keys", "room", values=["水泵房", "电梯机房"])
    assert refused.value.rows == [(k1, "K1"), (k3, "K3")] and "配电房" in str(refused.value)
    designer.change_field(db, actor, "plant_keys", "room", values=["水泵房", "电梯机房", "高压配电房"],
                          replace={"配电房": "高压配电房"})
    assert registers.get("plant_keys").field("room").values == ("水泵房", "电梯机房", "高压配电房")
    assert db.rows("SELECT id, room FROM plant_keys ORDER BY id") == [
        (k1, "高压配电房"), (k2, "水泵房"), (k3, "高压配电房")]
    # a value not in use goes without asking
    designer.change_field(db, actor, "plant_keys", "room", values=["水泵房", "高压配电房"])
    # a new required field on a register with rows needs a default
    with pytest.raises(designer.SchemaChangeRefused) as refused:
        designer.add_field(db, actor, "plant_keys", {"name": "floor", "label": "楼层", "type": "integer",
                                                     "required": True})
    assert [r[0] for r in refused.value.rows] == [k1, k2, k3]
    designer.add_field(db, actor, "plant_keys", {"name": "floor", "label": "楼层", "type": "integer",
                                                 "required": True, "default": -1})
    assert db.rows("SELECT DISTINCT floor FROM plant_keys") == [(-1,)]
    # narrowing a type: text -> enum refused while a value is not an option
    designer.add_field(db, actor, "plant_keys", {"name": "color", "label": "颜色", "type": "text"})
    apply_changes(db, actor, "plant_keys", [RowChange("update", row_id=k1, values={"color": "红"}),
                                            RowChange("update", row_id=k2, values={"color": "紫"})])
    with pytest.raises(designer.SchemaChangeRefused) as refused:
        designer.change_field(db, actor, "plant_keys", "color", type="enum", values=["红", "蓝"])
    assert refused.value.rows == [(k2, "K2")]
    designer.change_field(db, actor, "plant_keys", "color", type="enum", values=["红", "蓝", "紫"])
    assert registers.get("plant_keys").field("color").type == "enum"
    with pytest.raises(designer.SchemaChangeRefused, match="暂不支持"):
        designer.change_field(db, actor, "plant_keys", "copies", type="date")


HOSTILE = [
    "__import__('os').system('id')",
    "open('/etc/passwd')",
    "份数.__class__",
    "eval('1')",
    "[x for x in ()]",
    "lambda: 1",
    "份数 ** 99999999",
    "份数; DROP TABLE plant_keys",
    "连接(钥匙编号, \"'); DROP TABLE plant_keys; --\") = 1",
    "小区 + 1",  # a reference (an id)
    "保管人电话 + 'x'",  # personal data
]
BROKEN = ["年(钥匙编号)", "份数 +", "配制日期 + 配制日期", "没有这列 * 2", "如果(份数, 1, 2)", "日期('2026-02-30')",
          "份数 > '2020-01-01'", "四舍五入(份数, 份数)", ""]


def test_calculated_columns(db, actor, tmp_path):
    community = make_keys(db, actor)
    saved = apply_changes(db, actor, "plant_keys", [
        RowChange("insert", values={"key_no": "K1", "community_id": community, "made_on": "2016-02-29",
                                    "copies": 3, "unit_price": "2.5"}),
        RowChange("insert", values={"key_no": "K2", "community_id": community, "copies": 0}),
    ])
    k1, k2 = saved.inserted
    designer.set_calculated(db, actor, "plant_keys", "expires_on", "到期日", "加年(配制日期, 10)")
    designer.set_calculated(db, actor, "plant_keys", "total", "总价", "份数 * 单价")
    designer.set_calculated(db, actor, "plant_keys", "per_copy", "每份", "四舍五入(10 / 份数, 2)")
    designer.set_calculated(db, actor, "plant_keys", "state", "状态",
                            "如果(配制日期 < '2020-01-01' 且 份数 >= 1, '老钥匙', 连接('其他', 份数))")
    reg = registers.get("plant_keys")
    frame, _ = fetch_page(db, actor, reg, PageRequest(sort="key_no"))
    got = frame.set_index("id")
    # 2016-02-29 + 10 years: no 29 February in 2026 -> 2026-02-28 (both databases)
    assert got.loc[k1, "expires_on"] == date(2026, 2, 28)
    assert float(got.loc[k1, "total"]) == 7.5
    assert float(got.loc[k1, "per_copy"]) == 3.33
    assert got.loc[k1, "state"] == "老钥匙" and got.loc[k2, "state"] == "其他0"
    assert got.loc[k2, "per_copy"] is None or got.loc[k2, "per_copy"] != got.loc[k2, "per_copy"]  # 10/0: empty
    # sorted by a calculated column, exported with the others
    frame, _ = fetch_page(db, actor, reg, PageRequest(sort="total", descending=True))
    assert list(frame["id"]) == [k1, k2]
    out = tmp_path / "calc.xlsx"
    export_register(db, actor, "plant_keys", out, PageRequest(sort="key_no"))
    sheet = rows_of(out.read_bytes())
    i = sheet[0].index("到期日")
    assert sheet[1][i] == datetime(2026, 2, 28) and sheet[0].index("总价") > i
    # hostile and broken expressions are refused with the reason; nothing stored
    before = designer.definition_text(db, "plant_keys")
    for text in [*HOSTILE, *BROKEN]:
        with pytest.raises(ExpressionError) as refused:
            designer.set_calculated(db, actor, "plant_keys", "bad", "坏的", text)
        assert str(refused.value), text
    assert designer.definition_text(db, "plant_keys") == before
    assert db.scalar("SELECT count(*) FROM plant_keys") == 2
    # names clash, and a field a calculated column uses cannot be retired
    with pytest.raises(ExpressionError, match="已被使用"):
        designer.set_calculated(db, actor, "plant_keys", "copies", "份数二", "份数 + 1")
    with pytest.raises(designer.SchemaChangeRefused, match="总价"):
        designer.retire_field(db, actor, "plant_keys", "unit_price")
    designer.remove_calculated(db, actor, "plant_keys", "total")
    assert "total" not in {c["name"] for c in registers.get("plant_keys").extra["calculated"]}
