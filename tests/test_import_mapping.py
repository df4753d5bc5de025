"""Header recognition, import mappings and the errors that help (issue 18).

Expected values are worked out by hand from the files written here. Tests that save go
through the `db` fixture, so they run on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from test_import import xlsx

from app import registers
from app.exchange import import_mapping, importer
from app.exchange.workbook_reader import norm_header
from app.registers.model import DefinitionError, register_from_dict
from app.saving.changes import RowChange, apply_changes

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "data" / "import_corpus"
D = Decimal


def add(db, actor, register, *rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def estate(db, actor):
    add(db, actor, "communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    add(db, actor, "buildings", {"community_id": 1, "code": "1"}, {"community_id": 1, "code": "2"})
    return db


def counts(db) -> dict[str, int]:
    return {n: db.scalar(f"SELECT count(*) FROM {n}") for n in ("households", "owners", "settings", "audit_log")}


# -- header recognition ----------------------------------------------------------------------
@pytest.mark.parametrize("header, expected", [
    ("建筑面积（必填）", "建筑面积"),
    ("建筑物名称（必填）\n请保持建筑物名称与系统已有名称一致", "建筑物名称"),
    ("*手机号码", "手机号码"),
    ("车类型（9901 家用小汽车…）", "车类型"),
    ("应收金额（元）", "应收金额"),
    ("面积/㎡", "面积"),
    ("房 号（选填）", "房号"),
    ("（备注）", "备注"),
    ("ＡＢＣ", "abc"),
])
def test_headers_are_compared_without_their_notes(header, expected):
    assert norm_header(header) == expected


def test_office_words_map_to_fields_and_the_report_lists_every_column(estate, actor):
    data = xlsx([["小区名称（必填）", "房间号码", "产权面积", "房屋类型", "导入时请保留此行", "业主手机"],
                 ["阳光花园", "1-1-101", 87.05, "住宅", None, "13900001111"]])
    plan = importer.plan_import(estate, actor, "households", data)
    assert plan.mapping == {0: "community_id", 1: "code", 2: "area", 3: "usage"}
    assert importer.plan_report(plan).splitlines() == [
        "工作表「Sheet1」，表头在第 1 行",
        "A 列「小区名称（必填）」 → 小区",
        "B 列「房间号码」 → 房号",
        "C 列「产权面积」 → 建筑面积(㎡)",
        "D 列「房屋类型」 → 用途",
        "E 列「导入时请保留此行」 → 忽略",
        "F 列「业主手机」 → 忽略",
    ]
    result = importer.run_import(estate, actor, plan)
    assert result.report.startswith("工作表「Sheet1」，表头在第 1 行\nA 列")
    assert estate.rows("SELECT code, area, usage FROM households") == [("1-1-101", D("87.05"), "住宅")]


def test_a_similar_header_is_only_proposed(estate, actor):
    data = xlsx([["房号", "建筑面积", "小区", "入住状况"], ["1-1-101", 80, "阳光花园", "空置"]])
    plan = importer.plan_import(estate, actor, "households", data)
    assert 3 not in plan.mapping  # never applied silently
    assert plan.proposals == {3: "status"}
    assert plan.column_report()[-1] == "D 列「入住状况」 → 忽略（像是「状态」，确认后可在列对应或映射中指定）"


def test_label_beats_alias_when_both_head_a_column(estate, actor):
    data = xlsx([["小区", "房号", "房间号", "建筑面积"], ["阳光花园", "1-1-101", "101", 80]])
    plan = importer.plan_import(estate, actor, "households", data)
    assert plan.mapping == {0: "community_id", 1: "code", 3: "area"}


def test_aliases_are_checked_when_a_definition_loads():
    base = {"name": "t", "label": "测试", "area": "系统",
            "fields": [{"name": "a", "label": "甲", "type": "text", "aliases": ["乙"]},
                       {"name": "b", "label": "乙", "type": "text"}]}
    with pytest.raises(DefinitionError, match="already names"):
        register_from_dict(base)
    base["fields"][0]["aliases"] = "丙"
    with pytest.raises(DefinitionError, match="aliases"):
        register_from_dict(base)
    base["fields"][0]["aliases"] = ["丙"]
    assert register_from_dict(base).field("a").aliases == ("丙",)
    for name in ("buildings", "households", "owners", "staff", "departments", "fee_items", "bills", "payments",
                 "meter_readings", "parking_spaces", "fire_equipment", "assets", "contracts", "stock_items",
                 "vendors"):
        assert any(f.aliases for f in registers.get(name).fields), name


# -- mappings -----------------------------------------------------------------------------------
FULL = """
register = "households"
name = "老系统"
headers = ["楼号", "房屋", "面积", "类型"]

[columns]
"楼号" = "楼栋"
"类型" = "usage"

[constants]
"小区" = "阳光花园"

[joins]
code = "{楼号}-{单元}-{室}"

[rounding]
area = 2

[values.usage]
"高层" = "住宅"

[[splits]]
column = "房屋"
pattern = '^(?P<单元>\\d+)单元(?P<室>\\d+)室$'
"""


def test_a_mapping_reads_back_what_it_writes():
    m = import_mapping.parse_mapping(FULL)
    assert m.columns == {"楼号": "building_id", "类型": "usage"}  # labels become field names
    assert m.constants == {"community_id": "阳光花园"}
    again = import_mapping.parse_mapping(import_mapping.mapping_toml(m))
    assert again == m


@pytest.mark.parametrize("text, message", [
    ('register = "households"\n[columns]\n"甲" = "面宽"', "「房屋档案」没有这个字段"),
    ('register = "nothing"', "没有名为「nothing」的台账"),
    ('register = "households"\n[[splits]]\ncolumn = "房屋"\npattern = "(\\\\d+"', "不是有效的正则表达式"),
    ('register = "households"\n[[splits]]\ncolumn = "房屋"\npattern = "\\\\d+"', "没有命名分组"),
    ('register = "households"\n[rounding]\narea = "两位"', "0 到 6 的整数"),
    ('register = "households"\nfoo = 1', "不认识的项：foo"),
    ("register = ", "不是有效的 TOML"),
])
def test_a_bad_mapping_is_refused_in_chinese(text, message):
    with pytest.raises(import_mapping.MappingInvalid, match=message):
        import_mapping.parse_mapping(text)


def test_split_join_constant_values_and_rounding_together(estate, actor):
    data = xlsx([["楼号", "房屋", "面积", "类型"],
                 ["1", "1单元101室", 87.045, "高层"],
                 ["2", "3单元1202室", 77.7085, "住宅"]])
    plan = import_mapping.plan_mapped(estate, actor, "households", data, import_mapping.parse_mapping(FULL))
    importer.run_import(estate, actor, plan)
    assert estate.rows("SELECT community_id, building_id, code, area, usage FROM households ORDER BY id") == [
        (1, 1, "1-1-101", D("87.05"), "住宅"), (1, 2, "2-3-1202", D("77.71"), "住宅")]
    assert plan.notes[0] == "按映射「老系统」导入"
    assert "G 列「房号（合并）」（由 {楼号}-{单元}-{室} 合并） → 房号" in plan.column_report()


def test_a_row_the_split_cannot_read_is_a_problem_and_nothing_is_written(estate, actor):
    data = xlsx([["楼号", "房屋", "面积", "类型"], ["1", "1单元101室", 80, "住宅"], ["1", "底商", 90, "住宅"]])
    before = counts(estate)
    with pytest.raises(importer.ImportRejected) as refused:
        importer.run_import(estate, actor, import_mapping.plan_mapped(
            estate, actor, "households", data, import_mapping.parse_mapping(FULL)))
    assert str(refused.value.problems[0]) == (
        "Excel 第 3 行「房屋」：「底商」不符合映射中的拆分规则 ^(?P<单元>\\d+)单元(?P<室>\\d+)室$")
    assert counts(estate) == before


def test_a_mapping_naming_a_column_the_file_lacks_is_refused(estate, actor):
    data = xlsx([["房号", "面积"], ["1-1-101", 80]])
    m = import_mapping.parse_mapping('register = "households"\n[columns]\n"楼栋号" = "building_id"')
    with pytest.raises(import_mapping.MappingInvalid, match="映射的列「楼栋号」在文件中找不到（文件的列：「房号」、「面积」）"):
        import_mapping.plan_mapped(estate, actor, "households", data, m)


def test_saved_mapping_is_offered_for_the_same_headers_only(estate, actor):
    m = import_mapping.parse_mapping(FULL)
    import_mapping.save_mapping(estate, actor, m)
    assert import_mapping.saved_mappings(estate, "households") == {"老系统": m}
    assert import_mapping.matching_mappings(estate, "households", ["楼号（必填）", "房屋", "面积", "类型"]) == ["老系统"]
    assert import_mapping.matching_mappings(estate, "households", ["楼号", "房屋", "面积"]) == []
    m.rounding = {"area": 1}
    import_mapping.save_mapping(estate, actor, m)  # saved again under its name: replaced
    assert import_mapping.saved_mappings(estate)["老系统"].rounding == {"area": 1}
    with pytest.raises(import_mapping.MappingInvalid, match="不能含空格"):
        import_mapping.save_mapping(estate, actor, import_mapping.Mapping("households", "有 空格"))


# -- errors that help ---------------------------------------------------------------------------
def test_a_missing_required_column_names_the_columns_that_could_be_it(estate, actor):
    data = xlsx([["小区", "房号", "建面"], ["阳光花园", "1-1-101", 80]])  # (套内面积 is a field of its own)
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "households", data)
    assert refused.value.problems[0].message == (
        "缺少必填的列：「建筑面积(㎡)」（「建筑面积(㎡)」可能是 C 列「建面」：在列对应中选定，"
        "或在映射的 [columns] 中写 \"建面\" = \"area\"；文件没有这一列时可在映射的 [constants] 中给出）")


def test_many_errors_in_one_column_are_summarised_with_the_fix(estate, actor):
    rows = [["小区", "房号", "建筑面积"]] + [["阳光花园", f"1-1-{i}", 80.125] for i in range(101, 107)]
    before = counts(estate)
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "households", xlsx(rows))
    first = refused.value.problems[0]
    assert (first.column, first.message) == (
        "建筑面积(㎡)", "6 行有问题（如 Excel 第 2 行：80.125 最多 2 位小数）；可在映射中选择四舍五入：[rounding] area = 2")
    assert len(refused.value.problems) == 7  # the summary, then every row
    assert counts(estate) == before


def test_a_fee_item_under_another_name_says_what_is_expected(estate, actor):
    from datetime import date

    add(estate, actor, "households", {"community_id": 1, "code": "1-1-101", "area": D("80")})
    add(estate, actor, "fee_items", {"community_id": 1, "name": "物业服务费", "unit_price": D("1.5"),
                                     "status": "已审批", "effective_from": date(2014, 1, 1)})
    data = xlsx([["房号", "费用名称", "所属期", "应收金额", "缴费截止日"],
                 ["1-1-101", "管理费", "2014年10月", 120, "2014-10-31"]])
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "bills", data, community="阳光花园")
    assert str(refused.value.problems[0]) == (
        "Excel 第 2 行「收费项目」：找不到收费标准「管理费」；收费标准中的收费项目有：「物业服务费」，"
        "可写名称（同一小区、同一日期只有一项时）或在映射中对应：[values.fee_item_id] \"文件中的写法\" = \"收费标准中的名称\"")
    m = import_mapping.parse_mapping('register = "bills"\n[values.fee_item_id]\n"管理费" = "物业服务费"')
    importer.run_import(estate, actor, import_mapping.plan_mapped(estate, actor, "bills", data, m,
                                                                  community="阳光花园"))
    assert estate.rows("SELECT household_id, fee_item_id, period, amount FROM bills") == [(1, 1, "2014-10", D("120.00"))]


def test_no_header_found_shows_the_rows_looked_at(estate, actor):
    data = xlsx([["甲", "乙"], [1, 2]])
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_file(estate, actor, "households", data)
    assert "看过的前几行：第 1 行：甲 | 乙；第 2 行：1 | 2" in str(refused.value)


# -- the wizard saves, the CLI uses ----------------------------------------------------------------
@pytest.fixture
def app_db(estate, monkeypatch):
    url = estate.url
    estate.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def test_wizard_saves_a_mapping_that_comes_back_and_the_cli_uses(app_db):
    from apptest import app_test

    file = CORPUS / "02_房屋_高层别墅.xlsx"
    at = app_test("pages/import.py").run()
    at.selectbox(key="import-register").set_value("households").run()
    at.file_uploader[0].set_value((file.name, file.read_bytes(), "application/octet-stream")).run()
    assert not at.exception
    assert "发现 1 个问题" in at.error[0].value  # 小区 is not in the file: 缺少必填的列
    box = next(t for t in at.text_area if t.key.startswith("import-mapping-"))
    drafted = box.value
    assert drafted.startswith('register = "households"\nheaders = ["房屋编号", "产权面积", "物业类型", "备注"]')
    text = (CORPUS / "02_房屋_高层别墅.toml").read_text(encoding="utf-8")
    box.set_value(text).run()
    assert "校验通过：4 行都可以导入" in at.success[0].value
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("import-mapping-name"))).set_value(
        "高层清单").run()
    at.button(key="import-mapping-save").click().run()
    assert not at.exception
    assert any("已保存映射「高层清单」" in s.value for s in at.success)

    again = app_test("pages/import.py").run()  # the same file later: the mapping is offered
    again.selectbox(key="import-register").set_value("households").run()
    again.file_uploader[0].set_value((file.name, file.read_bytes(), "application/octet-stream")).run()
    assert not again.exception
    assert next(s for s in again.selectbox if s.key.startswith("import-saved-")).value == "高层清单"
    assert any("校验通过：4 行都可以导入" in s.value for s in again.success)

    from app.storage.db import database_url
    from app.ui import session

    session._database(database_url()).close()  # the CLI is another process: DuckDB allows one
    session._database.clear()
    done = subprocess.run([sys.executable, "-m", "app.cli", "--db", app_db, "import", "households", str(file),
                           "--map", "高层清单"], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "已导入「房屋档案」：新增 4 行" in done.stdout
    assert "工作表「Sheet1」，表头在第 2 行" in done.stdout
    from app.storage.db import open_database

    db = open_database(app_db)
    try:
        assert db.rows("SELECT code, area, usage FROM households ORDER BY id") == [
            ("3-101", D("87.05"), "住宅"), ("3-102", D("77.71"), "住宅"), ("V-2", D("210.50"), "住宅"),
            ("S-1", D("45.00"), "商铺")]
    finally:
        db.close()
