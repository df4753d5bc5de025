"""Designer limits and calculated columns that never raise (issue #20, finding 8), on both backends.

A 300-character register name was accepted and then broke every backup (file name too long); a
calculated column whose expression passed its check could overflow on later data and make the
grid and the export raise. Now names are limited when saved, with a Chinese message, and a bad
row's calculated cell is empty with its reason ("计算失败：数值溢出") in the record panel.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from app import registers
from app.admin import designer
from app.exchange.excel import export_register
from app.reading.queries import PageRequest, fetch_page
from app.registers.expressions import ExpressionError, shown_for_row
from app.registers.model import NAME_MAX, DefinitionError
from app.saving.changes import RowChange, apply_changes

FIELDS = [
    {"name": "tag", "label": "标签", "type": "text", "required": True},
    {"name": "copies", "label": "份数", "type": "integer"},
    {"name": "deposit", "label": "押金", "type": "money"},
    {"name": "made_on", "label": "配制日期", "type": "date"},
]


def make_tally(db, actor) -> None:
    designer.create_register(db, actor, {"name": "tally", "label": "计数台账", "area": "设备与消防",
                                         "fields": FIELDS, "display": ["tag"]})


def test_register_and_field_names_are_limited_with_a_chinese_message(db, actor):
    long_name = "a" * 300
    with pytest.raises(DefinitionError, match=f"最多 {NAME_MAX} 个字符"):
        designer.create_register(db, actor, {"name": long_name, "label": "很长", "area": "设备与消防",
                                             "fields": FIELDS})
    hostile = ["[点此](http://evil.example)", "![](http://evil.example/b.png)", "<img src=x>", "**粗体**",
               "备注" * 16]
    for label in hostile:
        with pytest.raises(DefinitionError, match="中文名称"):
            designer.create_register(db, actor, {"name": "tally", "label": label, "area": "设备与消防",
                                                 "fields": FIELDS})
    assert db.scalar("SELECT count(*) FROM custom_definitions") == 0
    assert "tally" not in registers.catalog()
    make_tally(db, actor)
    with pytest.raises(DefinitionError, match=f"最多 {NAME_MAX} 个字符"):
        designer.add_field(db, actor, "tally", {"name": "b" * 41, "label": "说明", "type": "text"})
    with pytest.raises(DefinitionError, match="不能含有"):
        designer.add_field(db, actor, "tally", {"name": "note", "label": "说明<script>", "type": "text"})
    with pytest.raises(DefinitionError, match="不能含有"):
        designer.change_field(db, actor, "tally", "tag", label="[x](http://evil.example)")
    with pytest.raises(ExpressionError, match="最多"):
        designer.set_calculated(db, actor, "tally", "c" * 41, "合计", "份数 + 1")
    with pytest.raises(ExpressionError, match="不能含有"):
        designer.set_calculated(db, actor, "tally", "total", "![](http://evil.example/b.png)", "份数 + 1")
    # names within the limits still work, a 40-character name included
    designer.add_field(db, actor, "tally", {"name": "n" * NAME_MAX, "label": "建筑面积(㎡)", "type": "text"})
    assert registers.get("tally").field("n" * NAME_MAX).label == "建筑面积(㎡)"


def test_calculated_columns_never_raise_on_later_data(db, actor, tmp_path):
    make_tally(db, actor)
    saved = apply_changes(db, actor, "tally", [
        RowChange("insert", values={"tag": "A", "copies": 3, "deposit": "2.50", "made_on": "2016-02-29"}),
    ])
    (ok,) = saved.inserted
    # every expression passes its check on the rows there are now
    designer.set_calculated(db, actor, "tally", "total", "总额", "份数 * 押金")
    designer.set_calculated(db, actor, "tally", "square", "平方", "份数 * 份数")
    designer.set_calculated(db, actor, "tally", "per_copy", "每份", "押金 / 份数")
    designer.set_calculated(db, actor, "tally", "due_on", "到期日", "加天(配制日期, 份数)")
    # later rows make each of them overflow, divide by zero, or leave the calendar
    later = apply_changes(db, actor, "tally", [
        RowChange("insert", values={"tag": "BIG", "copies": 9_000_000_000, "deposit": "9999999999.99",
                                    "made_on": "2020-01-01"}),
        RowChange("insert", values={"tag": "ZERO", "copies": 0, "deposit": "5.00", "made_on": "2020-01-01"}),
        RowChange("insert", values={"tag": "FAR", "copies": 5_000_000, "deposit": "1.00", "made_on": "2020-01-01"}),
    ])
    big, zero, far = later.inserted
    reg = registers.get("tally")
    frame, total = fetch_page(db, actor, reg, PageRequest(sort="tag"))
    assert total == 4
    got = frame.set_index("id")
    assert Decimal(got.loc[ok, "total"]) == Decimal("7.50") and Decimal(got.loc[ok, "square"]) == 9
    assert Decimal(got.loc[ok, "per_copy"]) == Decimal("0.833333") and got.loc[ok, "due_on"] == date(2016, 3, 3)
    # 9e9 × 1e10 = 9e19, 9e9² = 8.1e19, 5e6 days ≈ 13 690 years after 2020: all empty, nothing raised
    for row_id, column in [(big, "total"), (big, "square"), (zero, "per_copy"), (far, "due_on"), (far, "square")]:
        assert pd_isna(got.loc[row_id, column]), (row_id, column, got.loc[row_id, column])
    assert Decimal(got.loc[far, "total"]) == Decimal("5000000.00")
    # sorting by a calculated column is fine too
    frame, _ = fetch_page(db, actor, reg, PageRequest(sort="square", descending=True))
    assert list(frame["id"])[0] == ok  # NULLS LAST
    # the export writes the good values and empty cells
    out = tmp_path / "tally.xlsx"
    export_register(db, actor, "tally", out, PageRequest(sort="tag"))
    sheet = [list(r) for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True)]
    header = sheet[0]
    by_tag = {r[header.index("标签")]: r for r in sheet[1:]}
    assert by_tag["A"][header.index("总额")] == pytest.approx(7.5)
    assert by_tag["BIG"][header.index("总额")] in (None, "")
    # the record panel says why a cell is empty
    assert shown_for_row(db, reg, big)["总额"] == "计算失败：数值溢出"
    assert shown_for_row(db, reg, zero)["每份"] == "计算失败：除数为零"
    assert shown_for_row(db, reg, far)["到期日"] == "计算失败：日期超出范围"
    shown = shown_for_row(db, reg, ok)
    assert shown["到期日"] == "2016-03-03" and Decimal(shown["总额"]) == Decimal("7.5")


def test_expressions_that_could_only_fail_are_refused_when_saved(db, actor):
    make_tally(db, actor)
    for text, reason in [("1e300", "数字过大"), ("999999999999 + 1", "数字过大"), ("999999 * 9999999", "数字过大"),
                         ("加天(配制日期, 99999999)", "天数过大"), ("加年(配制日期, 100000)", "年数过大")]:
        with pytest.raises(ExpressionError, match=reason):
            designer.set_calculated(db, actor, "tally", "bad", "坏的", text)
    assert not registers.get("tally").extra.get("calculated")


def pd_isna(value) -> bool:
    return value is None or value != value
