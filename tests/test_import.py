"""Import from Excel and CSV: round trips, messy files, all-or-nothing, templates, CLI, page.

Row numbers are Excel's own (1-based, title rows counted): with the header on row 1, data
row k is on Excel row k + 1. Problems name rows as "Excel 第 n 行" (CSV: "CSV 第 n 行").
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from app import registers
from app.access.permissions import Actor
from app.exchange import excel, importer, templates
from app.saving.changes import RowChange, apply_changes
from app.storage.db import open_database

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def add(db, actor, register, *rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


def live_rows(db, register: str) -> list[tuple]:
    reg = registers.get(register)
    cols = ", ".join(["id", *(f.name for f in reg.fields)])
    return db.rows(f"SELECT {cols} FROM {reg.name} WHERE deleted_at IS NULL ORDER BY id")


def audit_count(db) -> int:
    return db.scalar("SELECT count(*) FROM audit_log")


def xlsx(rows: list[list], sheet: str = "Sheet1") -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet(sheet)
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, (date, datetime)):
                ws.write_datetime(r, c, v if isinstance(v, datetime) else datetime(v.year, v.month, v.day), day)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            elif v is not None:
                ws.write(r, c, v)
    wb.close()
    return out.getvalue()


@pytest.fixture
def estate(db, actor):
    """Two communities; buildings 阳光花园/1 (id 1), 阳光花园/2 (2), 翠湖苑/1 (3)."""
    add(db, actor, "communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    add(db, actor, "buildings", {"community_id": 1, "code": "1"}, {"community_id": 1, "code": "2"},
        {"community_id": 2, "code": "1"})
    return db


# -- round trip: export, then import into a fresh database ----------------------------------
# Why an export may not import back as it stands (see the closing note of issue 9):
LIMITS = {
    # Labels of archives, assets and stock items do not name their 小区, and the demo's two
    # 小区 use the same codes: "MJ-1/1号楼单元门禁" names two rows.
    "对应多个": "ambiguous label",
    # A refund is checked against payments, which cannot come back (their receipts cannot).
    "退款不能超过已收金额": "needs payments",
}
MUST_ROUND_TRIP = {"communities", "buildings", "households", "owners", "departments", "staff",
                   "vendors", "assets", "fire_equipment", "fire_checks", "contracts", "archives"}


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory, copy_demo):
    """The demo estate (a copy of the session's demo file: exports are audited) exported
    register by register (reference order), with its rows."""
    folder = tmp_path_factory.mktemp("demo-export")
    source = open_database(str(copy_demo("demo-export")))
    keep_money_of_some_households(source)
    actor = Actor("测试", source="任务")
    exports = {}
    for reg in registers.creation_order():
        if reg.name == "settings" or not source.scalar(f"SELECT count(*) FROM {reg.name}"):
            continue
        path = folder / f"{reg.name}.xlsx"
        excel.export_register(source, actor, reg.name, path)
        exports[reg.name] = (path, live_rows(source, reg.name))
    source.close()
    return exports


# The demo's 48,000 bills, payments and receipts would make this round trip take minutes on each
# backend for nothing more (volume is bench/excel.py's): the money of one household in eight is
# kept, whole (every bill, payment, receipt, adjustment and credit of those households), and of
# every household paying on a day a cashier closed (a closing is checked against its receipts)
# or billed for a paid repair (its charge lines name the bill).
KEPT_MONEY = (
    "CREATE TEMP TABLE kept_money AS SELECT id AS household_id FROM households WHERE id % 8 = 1 "
    "UNION SELECT r.household_id FROM receipts r JOIN cash_closings c ON c.community_id = r.community_id "
    "AND c.cashier_id = r.cashier_id AND CAST(c.closing_on AS DATE) = CAST(r.paid_at AS DATE) "
    "UNION SELECT b.household_id FROM work_order_charges w JOIN bills b ON b.id = w.bill_id"  # 有偿维修
)
GONE = "household_id NOT IN (SELECT household_id FROM kept_money)"
MONEY_BY_HOUSEHOLD = {
    "bill_adjustments": f"bill_id IN (SELECT id FROM bills WHERE {GONE})",
    "payments": f"bill_id IN (SELECT id FROM bills WHERE {GONE})",
    "household_credits": GONE,
    "receipts": GONE,
    "bill_totals": GONE,
    "bills": GONE,
}


def keep_money_of_some_households(db) -> None:
    with db.transaction() as cur:
        cur.execute(KEPT_MONEY)
        for table, where in MONEY_BY_HOUSEHOLD.items():
            cur.execute(f"DELETE FROM {table} WHERE {where}")
        cur.execute("DROP TABLE kept_money")


def unexplained(name: str, problems, rejected) -> list[str]:
    """Problems that none of LIMITS explains, nor a reference to a register that was refused."""
    reg = registers.get(name)
    by_label = {f.label: f for f in reg.fields}
    left = []
    for p in problems:
        if any(text in p.message for text in LIMITS):
            continue
        f = by_label.get(p.column)
        if "找不到" in p.message and f is not None and f.ref in rejected:
            continue
        left.append(str(p))
    return left


def test_export_then_import_gives_the_same_rows_for_every_register(db, actor, demo_exports):
    """Every register with demo rows, in reference order (a refused one tried again at the end,
    as rules such as refunds read rows of registers imported later)."""
    assert {"households", "owners", "staff"} <= set(demo_exports)
    same, rejected = [], {}
    for name in [*demo_exports, None]:
        if name is None:  # second pass
            for again in list(rejected):
                try:
                    importer.import_file(db, actor, again, demo_exports[again][0], history=True)
                except importer.ImportRejected as err:
                    rejected[again] = err.problems
                    continue
                del rejected[again]
                same.append(again)
            break
        try:
            # a history import: closed orders, voided receipts, received purchases come back
            # in their states, and nothing is opened or moved by the rows' side effects
            importer.import_file(db, actor, name, demo_exports[name][0], history=True)
        except importer.ImportRejected as err:
            rejected[name] = err.problems
            continue
        same.append(name)
    for name in same:
        assert live_rows(db, name) == demo_exports[name][1], name
    assert set(same) >= MUST_ROUND_TRIP, {k: [str(p) for p in v[:2]] for k, v in rejected.items()}
    # every register with demo rows comes back (history import; labels name their 小区)
    assert rejected == {}, {k: [str(p) for p in v[:2]] for k, v in rejected.items()}
    left = {name: unexplained(name, problems, rejected) for name, problems in rejected.items()}
    assert {k: v[:3] for k, v in left.items() if v} == {}
    print(f"round trip: {len(same)} registers the same; refused for known reasons: {sorted(rejected)}")


def test_csv_export_imports_back_with_formula_like_text_intact(estate, actor, tmp_path):
    add(estate, actor, "households",
        {"community_id": 1, "building_id": 1, "code": "0101", "area": "88", "note": "=1+1",
         "handover_date": "2024-03-05"},
        {"community_id": 2, "building_id": 3, "code": "1-1-101", "area": "95.25", "note": "-5"})
    fresh = open_database(str(tmp_path / "fresh.duckdb"))
    for name in ("communities", "buildings", "households"):
        out = tmp_path / f"{name}.csv"
        excel.export_register(estate, actor, name, out)
        importer.import_file(fresh, actor, name, out)
        assert live_rows(fresh, name) == live_rows(estate, name)
    assert live_rows(fresh, "households")[0][9] == "=1+1"  # 备注
    fresh.close()


def test_reimporting_an_edited_export_updates_rows_by_id(estate, actor, tmp_path):
    add(estate, actor, "households", {"community_id": 1, "code": "0101", "area": "88", "note": "旧"},
        {"community_id": 1, "code": "0102", "area": "60"})
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    ws["E2"] = 89.5  # 0101: new area
    ws["J2"] = None  # 0101: note cleared
    ws.append([None, "阳光花园", None, "0103", 70, "住宅", "空置"])  # a new row without 编号
    wb.save(out)

    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "households", out)
    assert [(p.row, p.column) for p in refused.value.problems] == [
        ("Excel 第 2 行", "编号"), ("Excel 第 3 行", "编号")]
    assert "按编号更新已有行" in refused.value.problems[0].message

    result = importer.import_file(estate, actor, "households", out, update_existing=True)
    assert (len(result.saved.inserted), result.saved.updated) == (1, [1])
    assert [r[3:5] + r[9:10] for r in live_rows(estate, "households")] == [
        ("0101", Decimal("89.50"), None), ("0102", Decimal("60.00"), None), ("0103", Decimal("70.00"), None)]


# -- messy files --------------------------------------------------------------------------------
def test_messy_workbook_title_rows_merged_headers_dates_formula_blank_rows(estate, actor):
    plan = importer.plan_import(estate, actor, "households", DATA / "households_messy.xlsx")
    assert plan.table.sheet == "房屋台账"  # not the notes sheet in front of it
    assert plan.header_row == 4  # under a title, a note and a group header merged over it
    assert [registers.get("households").label_of(plan.mapping[c]) for c in sorted(plan.mapping)] == [
        "编号", "小区", "房号", "建筑面积(㎡)", "用途", "状态", "交房日期", "入住日期", "备注", "楼栋"]
    assert plan.excel_rows == [5, 6, 8, 10] and plan.skipped_blank == 2
    importer.run_import(estate, actor, plan)
    assert [r[1:10] for r in live_rows(estate, "households")] == [  # up to 备注
        (1, 1, "0101", Decimal("88.00"), "住宅", "已入住", date(2009, 3, 15), date(2009, 4, 1), "一楼"),
        (1, 1, "1-1-102", Decimal("90.00"), "住宅", "出租", date(2009, 3, 15), date(2009, 4, 1), None),
        (1, 2, "1-1-201", Decimal("1234.50"), "商铺", "空置", date(2009, 3, 15), date(2009, 4, 1), None),
        # building "1" of this row's own community (id 3), not building id 1
        (2, 3, "1-1-101", Decimal("95.50"), "住宅", "已入住", date(2017, 6, 18), None, "西边套"),
    ]


@pytest.fixture
def households(estate, actor):
    add(estate, actor, "households",
        {"community_id": 1, "code": "0101", "area": "88"},
        {"community_id": 1, "code": "1-1-102", "area": "90"},
        {"community_id": 2, "code": "1-1-101", "area": "95"},
        {"community_id": 2, "code": "1-1-102", "area": "95"})
    return estate


def test_gbk_csv_with_a_title_line_and_the_default_community(households, actor):
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(households, actor, "owners", DATA / "owners_gbk.csv")
    assert [(p.row, p.column) for p in refused.value.problems] == [("CSV 第 6 行", "房屋")]
    assert "「1-1-102」对应多个房屋档案" in refused.value.problems[0].message
    result = importer.import_file(households, actor, "owners", DATA / "owners_gbk.csv", community="翠湖苑")
    assert result.rows == 3 and result.skipped_blank == 1
    assert [r[1:] for r in live_rows(households, "owners")] == [
        (1, "张三", "13812345678", "11010519491231002X", "业主", True, date(2024, 3, 5), None),
        (3, "李四", "13900001111", None, "租户", False, date(2024, 3, 6), None),
        (4, "王五", None, None, "家属", False, date(2024, 3, 7), None),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(estate, actor, encoding):
    text = "小区,楼号,层数\r\n阳光花园,07,6\r\n翠湖苑,A座,33\r\n"
    importer.import_file(estate, actor, "buildings", text.encode(encoding), file_name="楼栋.csv")
    assert [r[1:4] for r in live_rows(estate, "buildings")[3:]] == [(1, "07", 6), (2, "A座", 33)]


def test_id_number_stored_as_a_number_is_refused_never_guessed(households, actor):
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(households, actor, "owners", DATA / "owners_id_as_number.xlsx")
    assert [(p.row, p.column) for p in refused.value.problems] == [("Excel 第 2 行", "身份证号")]
    assert "15 位" in refused.value.problems[0].message
    assert live_rows(households, "owners") == []


def test_what_excel_did_to_codes_is_refused(estate, actor):
    data = xlsx([
        ["小区", "房号", "建筑面积(㎡)", "备注"],
        ["阳光花园", date(2026, 3, 2), 80, "ok"],  # typed 3-2, Excel made it a date
        ["阳光花园", "1-1-101", 80, 1234567890123456789],  # a 19-digit number in a text field
        ["阳光花园", "1-1-102", 80, date(2026, 3, 2)],  # a date in free text is just a date
    ])
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "households", data, file_name="h.xlsx")
    problems = refused.value.problems
    assert [(p.row, p.column) for p in problems] == [("Excel 第 2 行", "房号"), ("Excel 第 3 行", "备注")]
    assert "被 Excel 识别成了日期（2026-03-02）" in problems[0].message
    assert "超过 15 位" in problems[1].message


def test_dates_numbers_and_money_in_the_spellings_offices_use(estate, actor):
    data = xlsx([
        ["小区名称", "总建筑面积(㎡)", "绿化率", "车位数", "接管日期", "业委会任期届满"],
        ["甲", "¥12,345.60", "35%", 420.0, "2024.3.5", 45356],
        ["乙", 0.1 + 0.2, 0.35, "1,200", 20240305, "2024年3月5日"],
    ])
    importer.import_file(estate, actor, "communities", data, file_name="c.xlsx")
    assert [r[1:9] for r in live_rows(estate, "communities")[2:]] == [
        ("甲", None, Decimal("12345.60"), Decimal("0.350000"), 420, date(2024, 3, 5), None, date(2024, 3, 5)),
        ("乙", None, Decimal("0.30"), Decimal("0.350000"), 1200, date(2024, 3, 5), None, date(2024, 3, 5)),
    ]


def test_every_problem_is_listed_by_excel_row_and_column_label(estate, actor):
    data = xlsx([
        ["房屋台账"],
        [],
        ["小区", "房号", "建筑面积(㎡)", "状态", "交房日期"],
        ["阳光花园", "1-1-101", 80, "已入住", "2024-02-30"],
        ["阳光花园", "1/1/102", -5, "已入住", "2024-03-01"],
        ["不存在的小区", "1-1-103", 80, "住过", None],
    ])
    problems = importer.check_import(estate, actor, importer.plan_import(estate, actor, "households", data))
    assert [(p.row, p.column) for p in problems] == [
        ("Excel 第 4 行", "交房日期"),
        ("Excel 第 5 行", "房号"), ("Excel 第 5 行", "建筑面积(㎡)"),
        ("Excel 第 6 行", "小区"), ("Excel 第 6 行", "状态"),
    ]
    assert problems[3].message == "找不到小区「不存在的小区」"


def test_a_bad_row_at_excel_row_9999_of_10000_leaves_the_table_unchanged(estate, actor, tmp_path):
    """10,000 data rows under a header on row 1 fill Excel rows 2-10,001; data row 9,998 is on
    Excel row 9,999 and has a code with slashes. Nothing is written; the one error names row 9,999."""
    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["小区", "房号", "建筑面积(㎡)", "用途", "状态"])
    for k in range(1, 10_001):
        code = "3/2/1201" if k == 9_998 else f"{k // 100 + 1}-{k % 100 + 1}"
        ws.write_row(k, 0, ["阳光花园" if k % 2 else "翠湖苑", code, 80 + k % 50, "住宅", "已入住"])
    wb.close()
    before, audited = live_rows(estate, "households"), audit_count(estate)
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "households", path)
    assert [(p.row, p.column) for p in refused.value.problems] == [("Excel 第 9999 行", "房号")]
    assert live_rows(estate, "households") == before == []
    assert audit_count(estate) == audited


def test_dry_run_validates_everything_and_writes_nothing(estate, actor):
    data = xlsx([["小区", "房号", "建筑面积(㎡)", "编号"], ["阳光花园", "1-1-101", 80, 50],
                 ["翠湖苑", "1-1-101", 81, None]])
    audited = audit_count(estate)
    result = importer.import_file(estate, actor, "households", data, dry_run=True)
    assert result.dry_run and result.rows == 2 and "未写入" in result.summary
    assert live_rows(estate, "households") == [] and audit_count(estate) == audited
    result = importer.import_file(estate, actor, "households", data)
    assert result.saved.inserted[0] == 50 and len(set(result.saved.inserted)) == 2  # 编号 kept
    assert estate.rows("SELECT DISTINCT source, actor FROM audit_log WHERE register = 'households'") == [
        ("导入", actor.user)]


def test_header_row_and_mapping_can_be_chosen_by_hand(estate, actor):
    data = xlsx([["名称", "备注"], ["阳光花园", "x"], ["名称", "说明"], ["青枫苑", "物业服务中心"]])
    plan = importer.plan_import(estate, actor, "communities", data, header_row=3,
                                mapping={0: "name", 1: "address"})
    assert plan.excel_rows == [4]
    importer.run_import(estate, actor, plan)
    assert live_rows(estate, "communities")[-1][1:3] == ("青枫苑", "物业服务中心")


def test_missing_required_columns_and_duplicate_columns_are_said_once(estate, actor):
    data = xlsx([["房号", "房号", "状态"], ["1-1-101", "1-1-102", "空置"]])
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "households", data)
    assert [p.message for p in refused.value.problems] == [
        "多列都对应「房号」（A 列、B 列）：请只保留其中一列",
        "缺少必填的列：「小区」、「建筑面积(㎡)」（文件中没有像是这些字段的列：可在映射的 [constants] 中给出）",
    ]


def test_unreadable_files_are_refused_plainly(estate, actor):
    with pytest.raises(importer.ImportRefused, match="不是有效的 Excel 工作簿"):
        importer.read_source(b"not a workbook", "a.xlsx")
    with pytest.raises(importer.ImportRefused, match="找不到表头"):
        importer.import_file(estate, actor, "households", xlsx([["甲", "乙"], [1, 2]]))
    with pytest.raises(importer.ImportRefused, match="没有名为「无」的工作表"):
        importer.read_source(xlsx([["a"]]), "a.xlsx", sheet="无")


def test_progress_is_reported_up_to_done(estate, actor):
    seen = []
    data = xlsx([["小区名称"], ["甲"], ["乙"]])
    importer.import_file(estate, actor, "communities", data, progress=lambda f, text: seen.append(f))
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 1


def test_error_workbook_is_the_sheet_with_an_error_column_and_marked_cells(estate, actor):
    data = xlsx([["房屋台账"], ["小区", "房号", "建筑面积(㎡)"], ["阳光花园", "1-1-101", 80],
                 ["阳光花园", "1/1/102", "很大"]])
    plan = importer.plan_import(estate, actor, "households", data)
    problems = importer.check_import(estate, actor, plan)
    ws = openpyxl.load_workbook(io.BytesIO(importer.error_workbook(plan, problems)))["Sheet1"]
    assert [c.value for c in ws[2]] == ["小区", "房号", "建筑面积(㎡)", "错误说明"]
    assert ws["A1"].value == "房屋台账" and ws["C3"].value == 80 and ws["D3"].value is None
    assert ws["D4"].value.startswith("「房号」") and "「建筑面积(㎡)」很大 应为数字" in ws["D4"].value
    assert ws["B4"].fill.fgColor.rgb.endswith("FFC7CE") and ws["A4"].fill.fgColor.rgb != ws["B4"].fill.fgColor.rgb
    listing = openpyxl.load_workbook(io.BytesIO(importer.error_workbook(plan, problems)))["错误清单"]
    assert [c.value for c in listing[2]][:2] == ["Excel 第 4 行", "房号"]


# -- templates ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(registers.catalog()))
def test_template_has_headers_sample_dropdowns_and_notes(name):
    reg = registers.get(name)
    wb = openpyxl.load_workbook(io.BytesIO(templates.template_xlsx(name)))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["编号", *(f.label for f in reg.fields)]
    assert ws["A2"].value is None and any(c.value is not None for c in ws[2])
    lists = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        lists[str(dv.sqref).split(":")[0]] = dv.formula1
    for c, f in enumerate(reg.fields, start=2):
        col = openpyxl.utils.get_column_letter(c)
        if f.type == "enum":
            formula = lists[f"{col}2"]
            if formula.startswith('"'):
                assert formula.strip('"').split(",") == list(f.values)
            else:
                options = wb["选项"]
                ref = formula.lstrip("=").split("!")[1].replace("$", "").split(":")[0]
                assert options[ref].value == f.values[0]
        elif f.type == "boolean":
            assert lists[f"{col}2"] == '"是,否"'
    notes = wb["说明"]
    described = [row[0] for row in notes.iter_rows(min_row=8, values_only=True)]
    assert described == ["编号", *(f.label for f in reg.fields)]


def test_filled_template_imports_and_its_sample_row_is_skipped(households, actor):
    wb = openpyxl.load_workbook(io.BytesIO(templates.template_xlsx("owners", households, actor)))
    ws = wb.worksheets[0]
    assert ws["B2"].value == "翠湖苑/1-1-101"  # with a database: a real row as the sample
    ws.append([None, "翠湖苑/1-1-101", "赵六", "13700001111", None, "业主", "是"])
    out = io.BytesIO()
    wb.save(out)
    result = importer.import_file(households, actor, "owners", out.getvalue(), file_name="业主.xlsx")
    assert result.rows == 1 and result.notes == ["第 2 行与导入模板的示例行相同，已跳过"]
    assert [r[1:3] for r in live_rows(households, "owners")] == [(3, "赵六")]


def test_template_text_columns_are_formatted_as_text():
    ws = openpyxl.load_workbook(io.BytesIO(templates.template_xlsx("owners"))).worksheets[0]
    assert ws.column_dimensions["E"].number_format == "@"  # 身份证号
    assert ws["E2"].value == "11010519491231002X" and ws["E2"].data_type == "s"


# -- the command line ---------------------------------------------------------------------------
def wuye(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", "--db", str(db), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_cli_import_dry_run_then_import_then_refusal(tmp_path):
    db_file = tmp_path / "office.duckdb"
    communities = tmp_path / "小区.csv"
    communities.write_text("小区名称,地址\n阳光花园,莫干山路1288号\n翠湖苑,文一西路566号\n", encoding="utf-8-sig")
    assert wuye("import", "communities", str(communities), db=db_file).returncode == 0
    households = tmp_path / "房屋.xlsx"
    households.write_bytes(xlsx([["房屋台账"], ["房号", "建筑面积(㎡)"], ["1-1-101", 80], ["1-1-102", 81]]))

    dry = wuye("import", "households", str(households), "--community", "翠湖苑", "--dry-run", db=db_file)
    assert dry.returncode == 0, dry.stderr
    assert "校验通过：2 行可以导入「房屋档案」（试运行，未写入）" in dry.stdout
    real = wuye("import", "households", str(households), "--community", "2", "--header-row", "2",
                db=db_file)
    assert real.returncode == 0, real.stderr
    assert "已导入「房屋档案」：新增 2 行" in real.stdout

    again = wuye("import", "households", str(households), "--community", "翠湖苑",
                 "--error-report", str(tmp_path / "errors.xlsx"), db=db_file)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.splitlines() == [
        "校验未通过，未导入任何数据（2 个问题）：",
        "  Excel 第 3 行「房号」：「翠湖苑/1-1-101」已存在（小区、房号须唯一）",
        "  Excel 第 4 行「房号」：「翠湖苑/1-1-102」已存在（小区、房号须唯一）",
        f"已把标出错误的文件写到 {tmp_path / 'errors.xlsx'}",
    ]
    assert (tmp_path / "errors.xlsx").exists()
    missing = wuye("import", "households", str(tmp_path / "无.xlsx"), db=db_file)
    assert missing.returncode == 2 and "找不到文件" in missing.stderr and "Traceback" not in missing.stderr
    db = open_database(str(db_file))
    assert db.rows("SELECT community_id, code FROM households ORDER BY id") == [(2, "1-1-101"), (2, "1-1-102")]
    assert db.scalar("SELECT count(*) FROM audit_log WHERE source = '导入'") == 4
    db.close()


# -- the page -------------------------------------------------------------------------------
@pytest.fixture
def app_db(db, actor, monkeypatch):
    add(db, actor, "communities", {"name": "阳光花园"})
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def import_page():
    from apptest import app_test

    return app_test("pages/import.py").run()


def test_import_page_checks_then_imports_all_rows(app_db):
    at = import_page()
    assert not at.exception
    assert at.title[0].value == "Excel 导入"
    at.selectbox(key="import-register").set_value("households").run()
    data = xlsx([["房屋台账"], ["小区", "房号", "建筑面积(㎡)", "状态"],
                 ["阳光花园", "1-1-101", 80, "已入住"], ["阳光花园", "1-1-102", 81, "空置"]])
    at.file_uploader[0].set_value(("房屋.xlsx", data, "application/octet-stream")).run()
    assert not at.exception
    assert at.number_input[0].value == 2  # the header row found under the title
    assert "校验通过：2 行都可以导入" in at.success[0].value
    assert list(at.dataframe[0].value["房号"]) == ["1-1-101", "1-1-102"]
    at.button(key="import-run").click().run()
    assert not at.exception
    assert "已导入「房屋档案」：新增 2 行" in at.success[0].value
    from app.ui import session

    session._database.clear()
    db = open_database(app_db)
    assert db.rows("SELECT code FROM households ORDER BY id") == [("1-1-101",), ("1-1-102",)]
    db.close()


def test_import_page_lists_problems_and_keeps_the_button_disabled(app_db):
    at = import_page()
    at.selectbox(key="import-register").set_value("households").run()
    data = xlsx([["小区", "房号", "建筑面积(㎡)"], ["阳光花园", "1-1-101", 80], ["阳光花园", "1/1", -1]])
    at.file_uploader[0].set_value(("房屋.xlsx", data, "application/octet-stream")).run()
    assert not at.exception
    assert "发现 2 个问题" in at.error[0].value
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert list(zip(problems["行"], problems["列"])) == [("Excel 第 3 行", "房号"),
                                                       ("Excel 第 3 行", "建筑面积(㎡)")]
    assert at.button(key="import-run").disabled
    assert at.get("download_button")[1].proto.label == "下载标出错误的文件"


# -- a real browser -------------------------------------------------------------------------
@pytest.mark.browser
def test_browser_imports_a_workbook_through_the_wizard(tmp_path):
    from browser import (
        choose,
        exceptions,
        full_page_screenshot,
        launch_chromium,
        open_page,
        require_chromium,
        start_app,
    )
    from playwright.sync_api import sync_playwright

    require_chromium()  # skips without chromium, fails under CI / WUYE_REQUIRE_BROWSER
    db_path = tmp_path / "wuye.duckdb"
    db = open_database(str(db_path))
    add(db, Actor("测试", source="任务"), "communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    db.close()
    workbook = tmp_path / "房屋台账.xlsx"
    workbook.write_bytes(xlsx([["阳光花园房屋台账"], ["小区", "房号", "建筑面积（㎡）", "交房日期"],
                               ["阳光花园", "0101", 88, date(2024, 3, 5)],
                               ["翠湖苑", "1-1-101", 95.5, "2024年3月6日"]]))
    server = start_app(db_path, Path(__file__).parent / "artifacts" / "import-server.log")
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
            page.set_default_timeout(30_000)
            open_page(page, server, "/import")
            choose(page, "导入到哪个台账", "小区与房屋 / 房屋档案")
            page.locator('input[type="file"]').set_input_files(str(workbook))
            page.get_by_text("校验通过：2 行都可以导入").wait_for()
            assert exceptions(page) == []
            full_page_screenshot(page, Path(__file__).parent / "artifacts" / "import-checked.png")
            page.get_by_role("button", name="导入 2 行").click()
            page.get_by_text("已导入「房屋档案」：新增 2 行").wait_for()
            assert exceptions(page) == []
            browser.close()
    finally:
        server.stop()
    db = open_database(str(db_path))
    assert db.rows("SELECT community_id, code, area, handover_date FROM households ORDER BY id") == [
        (1, "0101", Decimal("88.00"), date(2024, 3, 5)), (2, "1-1-101", Decimal("95.50"), date(2024, 3, 6))]
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'households' AND source = '导入'") == 2
    db.close()


# -- history import: records of the past keep their states ----------------------------------
CLOSED_COMPLAINT = (
    "投诉编号,小区,涉及位置,受理时间,类别,投诉内容,有效投诉,状态,处理结果,关闭时间\n"
    "TS-20250310-001,阳光花园,北门,2025-03-10 09:00,环境卫生,垃圾未清运,是,已关闭,已清运,2025-03-12 17:00\n"
).encode()


def test_a_closed_complaint_imports_only_as_history_and_only_for_administrators(estate, actor):
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_file(estate, actor, "complaints", CLOSED_COMPLAINT, file_name="投诉.csv")
    assert any("不能直接登记为“已关闭”" in p.message for p in refused.value.problems)
    clerk = Actor("客服小李", role="客服")
    with pytest.raises(importer.ImportRefused, match="只有管理员可以"):
        importer.import_file(estate, clerk, "complaints", CLOSED_COMPLAINT, file_name="投诉.csv",
                             history=True)
    with pytest.raises(importer.ImportRefused, match="只新增行"):
        importer.import_file(estate, actor, "complaints", CLOSED_COMPLAINT, file_name="投诉.csv",
                             history=True, update_existing=True)
    assert estate.scalar("SELECT count(*) FROM complaints") == 0

    importer.import_file(estate, actor, "complaints", CLOSED_COMPLAINT, file_name="投诉.csv", history=True)
    row = estate.rows("SELECT complaint_no, status, result, CAST(closed_at AS VARCHAR) FROM complaints")
    assert row == [("TS-20250310-001", "已关闭", "已清运", "2025-03-12 17:00:00")]
    # nothing was opened by the row's side effects, and the row is audited as an import
    assert estate.scalar("SELECT count(*) FROM rectifications") == 0
    assert estate.scalar("SELECT count(*) FROM audit_log WHERE register = 'complaints'") == 1
