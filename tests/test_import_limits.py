"""Imports within limits: no uploaded file can take the process (the web server) down.

Hostile files are made here: a workbook whose one cell is XFD1048576 (python-calamine 0.9.1
would build 1,048,576 x 16,384 cells from A1 and abort the process); the same cell slipped
by hand into the XML of an ordinary workbook whose <dimension> says A1:A3; a declared
dimension of the whole sheet over two real rows (harmless: imported); a sheet using
16,384 columns; files over a row or cell cap lowered in the settings.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from app.exchange import importer
from app.exchange.workbook_reader import ReadLimits, WorkbookUnreadable, read_workbook
from app.saving.changes import RowChange, apply_changes
from app.ui.text import ZWSP

ROOT = Path(__file__).resolve().parents[1]


def workbook(cells: dict[tuple[int, int], str]) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("Sheet1")
    for (r, c), v in cells.items():
        ws.write_string(r, c, v)
    wb.close()
    return out.getvalue()


def rows_book(rows: list[list[str]]) -> bytes:
    return workbook({(r, c): v for r, row in enumerate(rows) for c, v in enumerate(row)})


def edit_sheet(data: bytes, edit) -> bytes:
    """The workbook with xl/worksheets/sheet1.xml passed through `edit` (bytes -> bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["xl/worksheets/sheet1.xml"] = edit(parts["xl/worksheets/sheet1.xml"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return out.getvalue()


CORNER = workbook({(1_048_575, 16_383): "x"})  # the one cell: XFD1048576
COMMUNITIES = [["小区名称", "地址"], ["阳光花园", "莫干山路1288号"], ["翠湖苑", "文一西路566号"]]


def corner_slipped_in() -> bytes:
    """An ordinary 3-row workbook, its <dimension> still A1:B3, plus a cell at XFD1048576."""
    cell = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return edit_sheet(rows_book(COMMUNITIES), lambda xml: xml.replace(b"</sheetData>", cell + b"</sheetData>"))


def state(db) -> tuple:
    return (db.rows("SELECT id, name FROM communities ORDER BY id"), db.scalar("SELECT count(*) FROM audit_log"))


def set_setting(db, actor, key: str, value: str) -> None:
    row = db.scalar("SELECT id FROM settings WHERE key = ? AND community_id IS NULL AND deleted_at IS NULL", [key])
    apply_changes(db, actor, "settings", [RowChange("update", row, values={"value": value})])


# -- the corner cell ----------------------------------------------------------------------------
def test_corner_cell_workbook_is_refused_before_it_is_read(db, actor):
    assert len(CORNER) < 8_000
    before = state(db)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_file(db, actor, "communities", CORNER, file_name="角落.xlsx")
    assert str(refused.value).startswith(
        "工作表「Sheet1」用到第 1,048,576 行（区域 A1:XFD1048576），超过导入上限 200,000 行。")
    with pytest.raises(importer.ImportRefused, match="用到第 1,048,576 行（区域 A1:XFD1048576）"):
        importer.import_file(db, actor, "communities", corner_slipped_in(), file_name="小区.xlsx")
    assert state(db) == before
    # this process is alive, and the next, ordinary file imports
    assert importer.import_file(db, actor, "communities", rows_book(COMMUNITIES)).rows == 2
    assert [name for _, name in state(db)[0][-2:]] == ["阳光花园", "翠湖苑"]


def test_declared_dimension_alone_is_ignored_and_the_rows_import(db, actor):
    """A <dimension> of the whole sheet over two real rows costs calamine nothing (measured)."""
    lying = edit_sheet(rows_book(COMMUNITIES),
                       lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml))
    assert b"A1:XFD1048576" in zipfile.ZipFile(io.BytesIO(lying)).read("xl/worksheets/sheet1.xml")
    table = importer.read_source(lying, "声明.xlsx")
    assert table.rows == COMMUNITIES
    assert importer.import_file(db, actor, "communities", lying, file_name="声明.xlsx").rows == 2


def test_a_sheet_using_every_column_is_refused_by_the_cell_cap(db, actor):
    data = workbook({(0, 0): "小区名称", (0, 16_383): "右边", (999, 0): "甲"})  # A1, XFD1, A1000
    before = state(db)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_file(db, actor, "communities", data, file_name="宽.xlsx")
    assert str(refused.value).startswith(
        "工作表「Sheet1」的数据区域有 1,000 行 × 16,384 列 = 16,384,000 个单元格，超过导入上限 5,000,000 个单元格。")
    assert state(db) == before


def test_a_native_abort_in_the_reader_costs_only_the_child(tmp_path):
    """With the caps lifted, calamine itself meets A1 + XFD1048576 and aborts: a message, not a crash."""
    both = workbook({(0, 0): "小区名称", (1_048_575, 16_383): "x"})
    with pytest.raises(WorkbookUnreadable) as dead:
        read_workbook(both, "两角.xlsx", limits=ReadLimits(max_rows=2_000_000, max_cells=10**12))
    assert str(dead.value).startswith("文件无法读取：两角.xlsx 读取时所需内存超过上限")
    # the calling process goes on reading
    assert read_workbook(rows_book(COMMUNITIES), "小区.xlsx").rows == COMMUNITIES


# -- caps from the settings ---------------------------------------------------------------------
def test_row_cap_from_the_settings(db, actor):
    set_setting(db, actor, "office.import_max_rows", "3")
    assert importer.read_limits(db) == ReadLimits(max_rows=3, max_cells=5_000_000)
    four = [*COMMUNITIES, ["碧水湾", "滨江路1号"]]
    before = state(db)
    with pytest.raises(importer.ImportRefused, match="^工作表「Sheet1」用到第 4 行（区域 A1:B4），超过导入上限 3 行。"):
        importer.import_file(db, actor, "communities", rows_book(four), file_name="四行.xlsx")
    csv = "\n".join(",".join(r) for r in four).encode()
    with pytest.raises(importer.ImportRefused, match="^文件 四行.csv 超过导入上限 3 行：请把数据分成几个文件导入$"):
        importer.import_file(db, actor, "communities", csv, file_name="四行.csv")
    assert state(db) == before
    # exactly at the cap (header + 2 rows = 3 rows) is fine
    assert importer.import_file(db, actor, "communities", rows_book(COMMUNITIES)).rows == 2


def test_cell_cap_from_the_settings(db, actor):
    set_setting(db, actor, "office.import_max_cells", "5")
    before = state(db)
    with pytest.raises(importer.ImportRefused,
                       match="^工作表「Sheet1」的数据区域有 3 行 × 2 列 = 6 个单元格，超过导入上限 5 个单元格。"):
        importer.import_file(db, actor, "communities", rows_book(COMMUNITIES), file_name="小区.xlsx")
    assert state(db) == before
    set_setting(db, actor, "office.import_max_cells", "0")  # no cap is not an option: the default holds
    assert importer.read_limits(db) == ReadLimits()


def test_page_shows_the_refusal_and_keeps_working(db, actor, monkeypatch):
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from apptest import app_test

    from app.ui import session

    session._database.clear()
    try:
        at = app_test("pages/import.py").run()
        at.selectbox(key="import-register").set_value("communities").run()
        at.file_uploader[0].set_value(("角落.xlsx", CORNER, "application/octet-stream")).run()
        assert not at.exception
        shown = at.error[0].value.replace("\\", "").replace(ZWSP, "")  # the Markdown escapes md() adds
        assert "用到第 1,048,576 行（区域 A1:XFD1048576），超过导入上限 200,000 行" in shown
    finally:
        session._database.clear()


# -- the command line ---------------------------------------------------------------------------
def test_cli_dry_run_on_the_corner_cell_file_exits_2_with_a_message(tmp_path):
    path = tmp_path / "角落.xlsx"
    path.write_bytes(CORNER)
    done = subprocess.run([sys.executable, "-m", "app.cli", "--db", str(tmp_path / "office.duckdb"), "import",
                           "communities", str(path), "--dry-run"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("工作表「Sheet1」用到第 1,048,576 行（区域 A1:XFD1048576），超过导入上限 200,000 行。")


# -- the survey upload --------------------------------------------------------------------------
def test_survey_forms_upload_goes_through_the_same_reader():
    from app.surveys import survey as surveys

    good = io.BytesIO(rows_book([["问卷编号", "房号", "1", "备注"], ["Q1", "1-1-101", "5", ""]]))
    good.name = "问卷.xlsx"
    assert surveys.read_forms_file(good) == [{"问卷编号": "Q1", "房号": "1-1-101", "第1题": "5", "备注": ""}]
    corner = io.BytesIO(CORNER)
    corner.name = "角落.xlsx"
    with pytest.raises(surveys.WorkbookUnreadable, match="用到第 1,048,576 行（区域 A1:XFD1048576）"):
        surveys.read_forms_file(corner)
