"""Export of registers and views to xlsx/csv: typed cells, labels, masking, scope, audit."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest

from app import registers
from app.access import permissions
from app.access.permissions import Actor
from app.exchange import excel
from app.reading.queries import PageRequest
from app.registers.model import register_from_dict
from app.saving.changes import RowChange, apply_changes

HEADERS = ["编号", "小区", "楼栋", "房号", "建筑面积(㎡)", "用途", "状态", "交房日期", "入住日期", "备注",
           "预存款自动抵扣", "套内面积(㎡)", "楼层"]


def add(db, actor, register, *rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def estate(db, actor):
    """Two communities, one building, four households (ids 1-4), one owner."""
    add(db, actor, "communities", {"name": "阳光花园", "green_rate": "0.35"}, {"name": "翠湖苑"})
    add(db, actor, "buildings", {"community_id": 1, "code": "3"})
    add(
        db, actor, "households",
        {"community_id": 1, "building_id": 1, "code": "3-2-1201", "area": "1234.5",
         "status": "已入住", "handover_date": "2024-03-05", "note": "=1+1"},
        {"community_id": 1, "code": "0101", "area": "88", "status": "空置", "note": "+86"},
        {"community_id": 2, "code": "1-1-101", "area": "95.25", "status": "已入住", "note": "-5"},
        {"community_id": 2, "code": "2-1-202", "area": "60", "status": "出租", "note": "@x"},
    )
    add(db, actor, "owners", {"household_id": 1, "name": "张三", "phone": "13812345678",
                              "id_number": "11010519491231002X"})
    return db


def sheet(path):
    return openpyxl.load_workbook(path).active


def rows_of(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def export_audit(db):
    return db.rows(
        "SELECT actor, register, row_id, note FROM audit_log WHERE action = '导出' ORDER BY id"
    )


# -- xlsx -------------------------------------------------------------------------------
def test_headers_are_register_labels_with_id_first(estate, actor, tmp_path):
    out = tmp_path / "households.xlsx"
    assert excel.export_register(estate, actor, "households", out) == 4
    ws = sheet(out)
    assert rows_of(ws)[0] == HEADERS
    # Register order: community, then code (text order: "0101" < "3-2-1201").
    assert [r[0] for r in rows_of(ws)[1:]] == [2, 1, 3, 4]


def test_date_cell_is_a_real_date_with_a_date_format(estate, actor, tmp_path):
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    cell = sheet(out)["H3"]  # household 1, 交房日期
    assert cell.is_date
    assert cell.value == datetime(2024, 3, 5)
    assert cell.number_format == "yyyy-mm-dd"
    assert sheet(out)["I3"].value is None  # no move-in date: an empty cell


def test_area_is_a_number_with_two_decimals(estate, actor, tmp_path):
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    cell = sheet(out)["E3"]
    assert cell.data_type == "n"
    assert cell.value == 1234.5
    assert cell.number_format == "#,##0.00"


def test_codes_keep_leading_zeros_as_text(estate, actor, tmp_path):
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    cell = sheet(out)["D2"]
    assert (cell.value, cell.data_type) == ("0101", "s")


def test_formula_like_text_stays_text(estate, actor, tmp_path):
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    notes = {c.value: c.data_type for c in sheet(out)["J"][1:]}
    assert notes == {"=1+1": "s", "+86": "s", "-5": "s", "@x": "s"}
    with zipfile.ZipFile(out) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml


def test_awkward_text_reads_back_the_same_in_openpyxl_and_calamine(estate, actor, tmp_path):
    """Rows are rendered as sheet XML by the database: markup characters are escaped,
    spaces kept, control characters (not allowed in XML) dropped, empty cells skipped."""
    from python_calamine import CalamineWorkbook

    add(estate, actor, "households",
        {"community_id": 1, "code": "9-9-901", "area": "70", "note": 'a  <b>&"甲"</b>\x07 z'},
        {"community_id": 1, "code": "9-9-902", "area": "71"})
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    by_code = {r[3]: r for r in rows_of(sheet(out))[1:]}
    assert by_code["9-9-901"][9] == 'a  <b>&"甲"</b> z'
    assert by_code["9-9-902"][9] is None and by_code["9-9-902"][4] == 71
    with CalamineWorkbook.from_path(str(out)) as wb:
        read = {r[3]: r for r in wb.get_sheet_by_index(0).to_python()[1:]}
    assert read["9-9-901"][9] == 'a  <b>&"甲"</b> z' and read["9-9-902"][9] == ""


def test_header_row_frozen_and_autofilter_over_all_rows(estate, actor, tmp_path):
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    ws = sheet(out)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:M5"


def test_column_widths_count_cjk_double_and_are_capped(estate, actor, tmp_path):
    apply_changes(estate, actor, "households", [RowChange("update", row_id=2, values={"note": "x" * 300})])
    out = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", out)
    widths = sheet(out).column_dimensions
    # 小区: the widest value is 阳光花园 (4 CJK = 8) + 2 padding.
    assert round(widths["B"].width) == 11
    # 楼栋: 阳光花园/3 = 10 + 2.
    assert round(widths["C"].width) == 13
    # 备注: 300 characters, capped.
    assert round(widths["J"].width) == excel.MAX_WIDTH + 1
    assert excel.display_width("建筑面积(㎡)") == 12  # 4 CJK + ( + ㎡ (wide) + )


def test_refs_are_exported_as_the_referenced_rows_label(estate, actor, tmp_path):
    out = tmp_path / "owners.xlsx"
    excel.export_register(estate, actor, "owners", out)
    ws = sheet(out)
    assert ws["A1"].value == "编号"
    assert ws["B1"].value == "房屋"
    assert ws["B2"].value == "阳光花园/3-2-1201"
    households = tmp_path / "h.xlsx"
    excel.export_register(estate, actor, "households", households)
    assert [c.value for c in sheet(households)[3]][1:3] == ["阳光花园", "阳光花园/3"]


def test_request_filter_limits_rows_and_all_pages_are_exported(estate, actor, tmp_path):
    out = tmp_path / "h.xlsx"
    request = PageRequest(filters={"status": ["已入住"]}, sort="code", descending=True,
                          page=2, page_size=1)
    assert excel.export_register(estate, actor, "households", out, request) == 2
    assert [r[3] for r in rows_of(sheet(out))[1:]] == ["3-2-1201", "1-1-101"]


def test_deleted_rows_are_left_out(estate, actor, tmp_path):
    apply_changes(estate, actor, "households", [RowChange("delete", row_id=4)])
    out = tmp_path / "h.xlsx"
    assert excel.export_register(estate, actor, "households", out) == 3
    assert 4 not in [r[0] for r in rows_of(sheet(out))[1:]]


def test_personal_data_masked_for_role_without_the_right(estate, tmp_path):
    out = tmp_path / "owners.xlsx"
    excel.export_register(estate, Actor("李师傅", role="维修"), "owners", out)
    ws = sheet(out)
    assert (ws["C1"].value, ws["D1"].value, ws["E1"].value) == ("姓名", "手机号", "身份证号")
    assert ws["D2"].value == "138****5678"
    assert ws["E2"].value == "110***********002X"


def test_personal_data_in_full_for_a_role_with_the_right(estate, tmp_path):
    out = tmp_path / "owners.xlsx"
    excel.export_register(estate, Actor("赵客服", role="客服"), "owners", out)
    ws = sheet(out)
    assert ws["D2"].value == "13812345678"
    assert (ws["E2"].value, ws["E2"].data_type) == ("11010519491231002X", "s")


def test_export_is_scoped_to_the_actors_communities(estate, tmp_path):
    out = tmp_path / "h.xlsx"
    scoped = Actor("孙管家", role="管理员", communities=(2,))
    assert excel.export_register(estate, scoped, "households", out) == 2
    assert [r[3] for r in rows_of(sheet(out))[1:]] == ["1-1-101", "2-1-202"]


@pytest.fixture
def samples(db, actor, monkeypatch):
    """A register with every typed field the household register lacks (money, price, rate...)."""
    reg = register_from_dict({
        "name": "export_samples", "label": "导出样例", "area": "系统", "display": ["title"],
        "fields": [
            {"name": "title", "label": "名称", "type": "text"},
            {"name": "account_no", "label": "账号", "type": "text"},
            {"name": "amount", "label": "金额", "type": "money"},
            {"name": "unit_price", "label": "单价", "type": "price"},
            {"name": "ratio", "label": "比例", "type": "rate"},
            {"name": "paid_at", "label": "缴费时间", "type": "timestamp"},
            {"name": "settled", "label": "已结清", "type": "boolean"},
            {"name": "visits", "label": "次数", "type": "integer"},
        ],
    })
    catalog = registers.catalog()
    monkeypatch.setattr(registers, "catalog", lambda: {**catalog, reg.name: reg})
    permissions.default_grants.cache_clear()  # the role defaults are worked out from the catalog
    db.migrate()  # creates the table on either backend
    add(db, actor, "export_samples",
        {"title": "物业费", "account_no": "007", "amount": "1234.5", "unit_price": "2.35",
         "ratio": "0.35", "paid_at": "2026-03-05 14:30", "settled": True, "visits": 3},
        {"title": "水费", "amount": "-20", "settled": False})
    yield db
    permissions.default_grants.cache_clear()


def test_money_rate_timestamp_and_boolean_cells(samples, actor, tmp_path):
    out = tmp_path / "samples.xlsx"
    assert excel.export_register(samples, actor, "export_samples", out) == 2
    ws = sheet(out)
    assert rows_of(ws)[0] == ["编号", "名称", "账号", "金额", "单价", "比例", "缴费时间", "已结清", "次数"]
    amount = ws["D2"]
    assert (amount.data_type, amount.value, amount.number_format) == ("n", 1234.5, "#,##0.00")
    assert ws["D3"].value == -20
    assert (ws["C2"].value, ws["C2"].data_type) == ("007", "s")
    assert (ws["E2"].value, ws["E2"].number_format) == (2.35, "#,##0.00##")
    assert (ws["F2"].value, ws["F2"].number_format) == (0.35, "0.0%")
    paid = ws["G2"]
    assert paid.is_date and paid.value == datetime(2026, 3, 5, 14, 30)
    assert paid.number_format == "yyyy-mm-dd hh:mm"
    assert (ws["H2"].value, ws["H3"].value) == ("是", "否")
    assert (ws["I2"].value, ws["I2"].data_type) == (3, "n")


def test_money_in_csv_keeps_its_two_decimals(samples, actor, tmp_path):
    out = tmp_path / "samples.csv"
    excel.export_register(samples, actor, "export_samples", out)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1] == ["1", "物业费", "007", "1234.50", "2.3500", "0.350000", "2026-03-05 14:30:00", "是", "3"]
    assert rows[2] == ["2", "水费", "", "-20.00", "", "", "", "否", ""]


def test_streams_in_batches_and_never_loads_the_table_into_pandas(estate, actor, tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "BATCH_ROWS", 3)
    monkeypatch.setattr(excel, "SAMPLE_ROWS", 2)
    monkeypatch.setattr(excel, "CHUNK_ROWS", 3)  # on a DuckDB file: chunks of 3, 1 rows

    def no_pandas(*args, **kwargs):
        raise AssertionError("export must stream from a cursor")

    monkeypatch.setattr(estate, "query", no_pandas)
    out = tmp_path / "h.xlsx"
    assert excel.export_register(estate, actor, "households", out) == 4
    rows = rows_of(sheet(out))
    assert len(rows) == 5
    # the register's order (小区, 房号) across chunks: 阳光花园 0101, 3-2-1201; 翠湖苑 1-1-101, 2-1-202
    assert [r[3] for r in rows[1:]] == ["0101", "3-2-1201", "1-1-101", "2-1-202"]


# -- csv --------------------------------------------------------------------------------
def test_csv_has_bom_chinese_headers_and_quoted_formulas(estate, actor, tmp_path):
    out = tmp_path / "households.csv"
    assert excel.export_register(estate, actor, "households", out) == 4
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert rows[1][:10] == ["2", "阳光花园", "", "0101", "88.00", "住宅", "空置", "", "", "'+86"]
    assert rows[2][:10] == ["1", "阳光花园", "阳光花园/3", "3-2-1201", "1234.50", "住宅", "已入住",
                       "2024-03-05", "", "'=1+1"]
    assert [r[9] for r in rows[3:]] == ["'-5", "'@x"]


def test_csv_masks_personal_data(estate, tmp_path):
    out = tmp_path / "owners.csv"
    excel.export_register(estate, Actor("李师傅", role="维修"), "owners", out)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1][:5] == ["1", "阳光花园/3-2-1201", "张三", "138****5678", "110***********002X"]


# -- audit, names, targets --------------------------------------------------------------
def test_every_export_is_audited_with_rows_file_and_filter(estate, actor, tmp_path):
    excel.export_register(estate, actor, "households", tmp_path / "households.xlsx",
                          PageRequest(filters={"status": ["已入住"], "community_id": 1}))
    excel.export_register(estate, actor, "owners", tmp_path / "owners.csv")
    assert export_audit(estate) == [
        ("王会计", "households", None, "导出 1 行到 households.xlsx (筛选: 状态∈{已入住}; 小区=阳光花园)"),
        ("王会计", "owners", None, "导出 1 行到 owners.csv"),
    ]


def test_register_xlsx_bytes_for_a_download_button(estate, actor):
    data = excel.register_xlsx_bytes(estate, actor, "households", PageRequest(search="阳光"))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.title == "房屋档案"
    assert [r[3] for r in rows_of(ws)[1:]] == ["0101", "3-2-1201"]
    assert export_audit(estate)[-1][3] == "导出 2 行到 房屋档案.xlsx (筛选: 搜索「阳光」)"


def test_export_to_a_binary_file_object(estate, actor):
    buffer = io.BytesIO()
    assert excel.export_register(estate, actor, "communities", buffer) == 2
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws["B2"].value == "阳光花园"
    assert (ws["E2"].value, ws["E2"].number_format) == (0.35, "0.0%")


def test_export_named_finds_registers_and_views(estate, actor, tmp_path):
    assert excel.export_named(estate, actor, "households", tmp_path / "h.xlsx") == 4
    assert excel.export_named(estate, actor, "v_community_overview", tmp_path / "v.csv") == 2
    assert [r[1] for r in export_audit(estate)] == ["households", "v_community_overview"]


def test_export_named_unknown_name_says_so_in_chinese(estate, actor, tmp_path):
    with pytest.raises(KeyError) as err:
        excel.export_named(estate, actor, "nothing", tmp_path / "x.xlsx")
    assert str(err.value) == "没有名为 nothing 的台账或视图"
    assert not (tmp_path / "x.xlsx").exists()
    assert export_audit(estate) == []


def test_unsupported_suffix_is_refused_without_a_file_or_audit(estate, actor, tmp_path):
    with pytest.raises(ValueError, match="只能导出为 .xlsx 或 .csv"):
        excel.export_register(estate, actor, "households", tmp_path / "h.xls")
    assert list(tmp_path.glob("*h.xls*")) == []
    assert export_audit(estate) == []


# -- views ------------------------------------------------------------------------------
def test_view_export_uses_the_views_labels_and_types(estate, actor, tmp_path):
    out = tmp_path / "overview.xlsx"
    assert excel.export_view(estate, actor, "v_community_overview", out) == 2
    ws = sheet(out)
    assert ws.title == "小区概况"
    assert rows_of(ws)[0] == ["小区编号", "小区", "楼栋数", "户数", "入住户数", "空置户数", "装修中户数",
                              "出租户数", "入住率", "房屋建筑面积(㎡)", "在册业主数"]
    # 阳光花园: 1 building; households 已入住 + 空置; area 1234.50 + 88.00; one owner.
    assert rows_of(ws)[1] == [1, "阳光花园", 1, 2, 1, 1, 0, 0, 0.5, 1322.5, 1]
    # 翠湖苑: 已入住 + 出租 of 2 households: occupancy 100%; area 95.25 + 60.00.
    assert rows_of(ws)[2] == [2, "翠湖苑", 0, 2, 1, 0, 0, 1, 1.0, 155.25, 0]
    assert ws["I2"].number_format == "0.0%"
    assert ws["J2"].number_format == "#,##0.00"
    assert export_audit(estate)[-1] == ("王会计", "v_community_overview", None, "导出 2 行到 overview.xlsx")


def test_view_export_is_scoped_to_the_actors_communities(estate, tmp_path):
    out = tmp_path / "overview.csv"
    scoped = Actor("孙管家", communities=(2,))
    assert excel.export_view(estate, scoped, "v_community_overview", out) == 1
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1][:2] == ["2", "翠湖苑"]
    assert rows[1][8:10] == ["1.0", "155.25"]


def test_decimal_zero_has_no_exponent_in_csv():
    assert excel._csv_any(Decimal("0E-6")) == "0.000000"
    assert excel.defuse("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert excel.defuse("阳光") == "阳光"
