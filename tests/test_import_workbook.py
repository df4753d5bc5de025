"""Whole-workbook import (issue 18 item 3): sheets recognised by their headers, imported in
dependency order in one transaction, linked by codes, missing departments and buildings made
only when asked; on both backends. The workbooks are written by tests/data/make_import_corpus.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_import_corpus import CORPUS, _tables, make_office

from app.exchange import import_workbook, importer

D = Decimal
BOOK = CORPUS / "21_工作簿_小区资料.xlsx"


@pytest.fixture
def office(db, actor):
    return make_office(db, actor)


def test_sheets_are_recognised_and_ordered_by_their_references():
    sheets = import_workbook.plan_workbook(BOOK)
    assert [(s.name, s.register.name if s.register else None) for s in sheets] == [
        ("楼栋单元", "buildings"), ("房屋信息", "households"), ("费用设置", "fee_items"),
        ("业主信息", "owners"), ("车位信息", "parking_spaces"), ("填写说明", None)]
    report = import_workbook.workbook_report(sheets)
    assert "工作表「填写说明」→ 忽略：认不出是哪个台账（表头：「填写说明」）" in report


def test_workbook_imports_all_sheets_linked_by_owner_code(office, actor):
    result = import_workbook.import_workbook(office, actor, BOOK, community="阳光花园")
    assert office.rows("SELECT community_id, code, units, floors, has_elevator FROM buildings WHERE id > 2 ORDER BY id") == [
        (1, "5", 2, 18, True), (1, "6", 1, 6, False)]
    assert office.rows("SELECT building_id, code, area, usage, status FROM households WHERE id > 3 ORDER BY id") == [
        (3, "5-1-101", D("89.12"), "住宅", "已入住"), (3, "5-1-102", D("89.12"), "住宅", "空置"),
        (4, "6-1-101", D("130.50"), "商铺", "出租"), (4, "6-1-201", D("130.50"), "住宅", "已入住")]
    # YZ001 owns 5-1-101 (4) and 6-1-201 (7): one owner row per room; YZ002 owns 6-1-101 (6)
    assert office.rows("SELECT household_id, name, phone FROM owners ORDER BY household_id") == [
        (4, "王建国", "13900001111"), (6, "刘芳", "13900002222"), (7, "王建国", "13900001111")]
    assert office.rows("SELECT community_id, name, method, unit_price, effective_from FROM fee_items "
                       "WHERE id > 1 ORDER BY id") == [
        (1, "物业服务费", "按面积", D("1.2000"), date(2016, 1, 1)), (1, "垃圾清运费", "固定", D("8.0000"), date(2016, 1, 1))]
    assert office.rows("SELECT space_no, kind, zone, household_id, plate FROM parking_spaces ORDER BY id") == [
        ("B-001", "产权", "地下一层", 4, "浙A00001"), ("B-002", "临时", "地面", None, None)]
    report = result.report
    assert "工作表「业主信息」→「业主与住户」：3 行，表头在第 1 行" in report
    assert "「房屋」由「业主编号」关联工作表「房屋信息」的房屋档案" in report
    assert "  A 列「房屋编号」 → 房号\n" in report


def test_a_bad_row_in_the_fourth_sheet_leaves_every_table_as_it_was(office, actor):
    before = _tables(office)
    with pytest.raises(importer.ImportRejected) as refused:
        import_workbook.import_workbook(office, actor, CORPUS / "23_工作簿_第四表有错.xlsx", community="阳光花园")
    text = "；".join(str(p) for p in refused.value.problems)
    assert "工作表「费用设置」Excel 第 2 行「单价(元)」" in text
    assert _tables(office) == before
    assert office.scalar("SELECT count(*) FROM buildings") == 2


def test_dry_run_checks_everything_and_writes_nothing(office, actor):
    before = _tables(office)
    result = import_workbook.import_workbook(office, actor, BOOK, community="阳光花园", dry_run=True)
    assert result.summary == "校验通过：工作簿 21_工作簿_小区资料.xlsx 的 5 个工作表，共 13 行（试运行，未写入）"
    assert _tables(office) == before


def test_missing_departments_and_buildings_only_when_asked(office, actor):
    book = CORPUS / "22_工作簿_缺部门楼栋.xlsx"
    before = _tables(office)
    with pytest.raises(importer.ImportRejected) as refused:
        import_workbook.import_workbook(office, actor, book, community="阳光花园")
    text = "；".join(str(p) for p in refused.value.problems)
    assert "工作表「员工花名册」：缺少部门 2 个：保洁、绿化（勾选「新建缺少的部门、楼栋」" in text
    assert _tables(office) == before
    preview = import_workbook.import_workbook(office, actor, book, community="阳光花园", create_missing=True,
                                              dry_run=True)
    assert preview.missing == ["将新建部门 2 个：保洁、绿化", "将新建楼栋 1 个：7"]
    assert _tables(office) == before
    import_workbook.import_workbook(office, actor, book, community="阳光花园", create_missing=True)
    # ids by name: PostgreSQL's sequences move on in the dry run's rolled-back transaction
    assert office.rows("SELECT name FROM departments ORDER BY id") == [("保洁部",), ("工程部",), ("保洁",), ("绿化",)]
    assert office.rows("SELECT s.name, d.name FROM staff s JOIN departments d ON d.id = s.department_id "
                       "ORDER BY s.id") == [("赵丽", "保洁"), ("钱军", "工程部"), ("孙丽", "绿化")]
    assert office.rows("SELECT b.community_id, b.code, h.code FROM households h JOIN buildings b "
                       "ON b.id = h.building_id WHERE h.id > 3") == [(1, "7", "7-1-101")]

def test_a_mapping_applies_to_the_sheet_of_its_register(office, actor):
    from test_import_corpus import MAPPED

    from app.exchange import import_mapping

    name = "02_房屋_高层别墅.xlsx"
    mapping = import_mapping.load_mapping(office, str(CORPUS / "02_房屋_高层别墅.toml"))
    result = import_workbook.import_workbook(office, actor, CORPUS / name, mappings=[mapping])
    _, _, query, expected = MAPPED[name]
    assert office.rows(query) == expected
    assert "工作表「Sheet1」→「房屋档案」：4 行，表头在第 2 行，按映射「02_房屋_高层别墅」" in result.report


def test_one_sheet_per_zone_gives_the_zone(office, actor):
    result = import_workbook.import_workbook(office, actor, CORPUS / "24_车位_分区.xlsx", community="阳光花园")
    assert office.rows("SELECT community_id, space_no, kind, zone, plate FROM parking_spaces ORDER BY id") == [
        (1, "A-001", "产权", "A区", "浙A11111"), (1, "A-002", "临时", "A区", None), (1, "B-001", "产权", "B区", None)]
    assert "工作表 「A区」、「B区」 都是「车位」：按工作表分开的台账，工作表名导入为「区域」" in result.report


def test_side_by_side_blocks_are_told_by_row_and_block(office, actor):
    text = "房号,姓名,房号,姓名\n1-1-101,王建国,9-9-999,陈立\n"
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(office, actor, "owners", text.encode(), file_name="并排.csv")
    assert [str(p) for p in refused.value.problems] == ["CSV 第 2 行（第 2 组）「房屋」：找不到房屋档案「9-9-999」"]


def test_cli_imports_a_workbook_and_says_what_is_missing(office, tmp_path, capsys):
    from app.cli import main
    from app.storage.db import open_database

    if office.is_postgres:
        pytest.skip("the CLI test opens the DuckDB file")
    url = office.url
    office.close()
    book = str(CORPUS / "22_工作簿_缺部门楼栋.xlsx")
    assert main(["--db", url, "import-workbook", book, "--community", "阳光花园"]) == 2
    assert "缺少部门 2 个：保洁、绿化" in capsys.readouterr().err
    assert main(["--db", url, "import-workbook", book, "--community", "阳光花园", "--create-missing"]) == 0
    out = capsys.readouterr().out
    assert "工作表「员工花名册」→「员工」：3 行，表头在第 1 行" in out
    assert "将新建部门 2 个：保洁、绿化" in out
    assert out.rstrip().endswith("已导入：工作簿 22_工作簿_缺部门楼栋.xlsx 的 2 个工作表，共 4 行")
    # a single file too: `wuye import staff … --create-missing`
    staff = tmp_path / "员工.csv"
    staff.write_text("姓名,部门\n周华,安保\n", encoding="utf-8")
    assert main(["--db", url, "import", "staff", str(staff), "--create-missing"]) == 0
    assert "将新建部门 1 个：安保" in capsys.readouterr().out
    db = open_database(url)
    assert db.rows("SELECT s.name, d.name FROM staff s JOIN departments d ON d.id = s.department_id "
                   "WHERE s.name = '周华'") == [("周华", "安保")]
    db.close()


@pytest.fixture
def office_app(office, monkeypatch):
    url = office.url
    office.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def test_wizard_workbook_mode_previews_asks_then_imports(office_app):
    from apptest import app_test

    from app.storage.db import open_database
    from app.ui import session

    at = app_test("pages/import.py").run()
    at.radio(key="import-mode").set_value("整个工作簿").run()
    book = (CORPUS / "22_工作簿_缺部门楼栋.xlsx").read_bytes()
    at.file_uploader[0].set_value(("缺部门.xlsx", book, "application/octet-stream")).run()
    at.selectbox(key="import-book-community").set_value(1).run()
    assert not at.exception
    assert "缺少部门 2 个：保洁、绿化" in at.dataframe[0].value["问题"].iloc[0]
    at.checkbox(key="import-book-create").check().run()
    assert [i.value for i in at.info] == ["将新建部门 2 个：保洁、绿化", "将新建楼栋 1 个：7"]
    assert "工作表「员工花名册」→「员工」：3 行" in at.text[0].value
    at.button(key="import-book-run").click().run()
    assert not at.exception
    assert at.success[0].value == "已导入：工作簿 缺部门.xlsx 的 2 个工作表，共 4 行"
    session._database.clear()
    db = open_database(office_app)
    assert db.rows("SELECT name FROM staff ORDER BY id") == [("赵丽",), ("钱军",), ("孙丽",)]
    db.close()
