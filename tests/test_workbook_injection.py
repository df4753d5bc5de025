"""No workbook the product makes turns user text into a formula or a link (issue #20, finding 3).

Hostile text is planted where users type (community and owner names, fee items, remarks, void
reasons, adjustment reasons, work orders, survey answers, an imported sheet), then every
workbook-producing function (PRODUCERS, listed by name) writes its file. Each file is opened
twice: with openpyxl (no cell is a formula, every hostile text is there verbatim as text) and as
raw sheet XML (no `<f>` element, no hyperlink: the real proof, whatever a reader makes of it).
A guard fails when a module opens a workbook other than through app/exchange/workbook.py, or when a new
module starts making workbooks without being listed here. Both backends.
"""

from __future__ import annotations

import ast
import html
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils.escape import unescape
from saving import add

from app.analysis import builder as analysis
from app.analysis import reports
from app.analysis.builder import ChartSpec, Source
from app.estate import household_file
from app.exchange import excel, importer, templates
from app.exchange.workbook import NoFormulas, new_workbook
from app.fees import billing, cashier, fee_documents
from app.service import service_desk as desk
from app.surveys import survey as surveys

ROOT = Path(__file__).resolve().parents[1]

LINK = '=HYPERLINK("http://x","点此核对")'
SUM = "=1+2"
PLUS, MINUS, AT, ARRAY = "+1+2", "-1+2", "@SUM(1,2)", "{=1+2}"
TAB, CR = "\t=1+2", "\r=1+2"
# The save path trims names, so a leading tab or CR only reaches the database some other way
# (a NocoDB edit, a direct PostgreSQL session): planted with plain SQL below.
OWNERS = (SUM, PLUS, MINUS, AT, ARRAY, TAB, CR)
STARTS = ("=", "+", "-", "@", "{", "\t", "\r")


@pytest.fixture
def estate(db, actor) -> dict:
    """小区 named LINK; one household whose owners are OWNERS; fee item SUM billed for 2026-06,
    paid (overpaid, credit note MINUS), a voided receipt (reason AT), an adjustment (reason PLUS);
    a repair order, a survey with an open answer and a measure, all with hostile text; a second
    household owes its bill."""
    c = add(db, actor, "communities", name=LINK, service_phone="0571-88886666")
    dept = add(db, actor, "departments", name="财务部")
    boss = add(db, actor, "staff", name="钱经理", department_id=dept, community_id=c)
    b = add(db, actor, "buildings", community_id=c, code="1")
    home = add(db, actor, "households", community_id=c, building_id=b, code="1-1-101", area="100.00",
               status="已入住", usage="住宅")
    behind = add(db, actor, "households", community_id=c, building_id=b, code="1-1-102", area="50.00",
                 status="已入住", usage="住宅")  # never pays: the 催缴 notice
    add(db, actor, "owners", household_id=behind, name=SUM, phone="13800002222")
    owners = [add(db, actor, "owners", household_id=home, name=f"业主{i}", phone="13800001111")
              for i in range(len(OWNERS))]
    for owner, name in zip(owners, OWNERS):
        db.cursor().execute("UPDATE owners SET name = ? WHERE id = ?", [name, owner])
    item = add(db, actor, "fee_items", community_id=c, name=SUM, method="按面积", unit_price="2.0000",
               status="已审批", effective_from="2026-01-01")
    billing.generate_bills(db, actor, c, "2026-06")
    bill = db.scalar("SELECT id FROM bills WHERE household_id = ? AND fee_item_id = ?", [home, item])
    add(db, actor, "bill_adjustments", bill_id=bill, kind="减免", amount="5", reason=PLUS,
        approved_by_id=boss, adjusted_at="2026-06-05 09:00")
    voided = billing.take_payment(db, actor, home, "10.00", "现金", paid_at=datetime(2026, 6, 8, 9))
    billing.void_receipt(db, actor, voided, AT)
    paid = billing.take_payment(db, actor, home, "300.00", "微信", paid_at=datetime(2026, 6, 10, 9),
                                cashier_id=boss, note=MINUS)
    db.cursor().execute("UPDATE household_credits SET note = ? WHERE household_id = ?", [MINUS, home])
    order, _ = desk.register_repair(db, actor, {
        "community_id": c, "household_id": home, "category": "管道", "description": LINK,
        "location": ARRAY, "urgency": "一般", "reported_at": datetime(2026, 6, 2, 9, 0)})
    survey = add(db, actor, "surveys", community_id=c, title=SUM, distributed=2, held_from=date(2026, 6, 1),
                 held_to=date(2026, 6, 15))
    for no, text, dimension, kind in ((1, PLUS, "保洁", "评分"), (2, "您的意见和建议", "整体", "文字")):
        add(db, actor, "survey_questions", survey_id=survey, no=no, text=text, dimension=dimension, kind=kind)
    surveys.enter_forms(db, actor, survey, [{"问卷编号": "F1", "房号": "1-1-101", "第1题": "2", "第2题": LINK}],
                        submitted_at=datetime(2026, 6, 3, 10, 0))
    add(db, actor, "survey_measures", survey_id=survey, dimension="保洁", issue=AT, kind="纠正措施",
        measure=MINUS, responsible_id=boss, due_on=date(2026, 7, 15))
    return {"community": c, "home": home, "receipt": paid, "voided": voided, "order": order, "survey": survey}


# -- the producers --------------------------------------------------------------------------------
def _bytes_of(write: Callable[[io.BytesIO], object]) -> bytes:
    out = io.BytesIO()
    write(out)
    return out.getvalue()


def _console(db, actor, estate) -> bytes:
    sql = "SELECT o.name, f.name AS fee_item FROM owners o, fee_items f ORDER BY o.id"
    return analysis.result_xlsx(db, actor, analysis.run_query(db, actor, sql), sql)


def _chart_table(db, actor, estate) -> bytes:
    chart = analysis.build_chart(db, actor, Source("table", "owners", "业主"), ChartSpec("name"))
    return analysis.chart_table_xlsx(db, actor, chart)


def _import_errors(db, actor, estate) -> bytes:
    """An owners sheet with hostile names, one naming no household: the error workbook gives it back."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet()
    rows = [["房屋", "姓名", "电话"], *[[f"{LINK}/1-1-101", name, "13800003333"] for name in OWNERS],
            [f"{LINK}/9-9-999", LINK, "13800003333"]]
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            sheet.write_string(r, c, text)
    book.close()
    plan = importer.plan_import(db, actor, "owners", out.getvalue(), file_name="业主.xlsx")
    problems = importer.check_import(db, actor, plan)
    assert problems  # 9-9-999 is no household, so there is an error workbook to make
    return importer.error_workbook(plan, problems)


# name -> (makes the workbook, hostile texts that must be in it verbatim)
PRODUCERS: dict[str, tuple[Callable[[object, object, dict], bytes], tuple[str, ...]]] = {
    "excel.register_xlsx_bytes(owners)": (
        lambda db, actor, e: excel.register_xlsx_bytes(db, actor, "owners"), OWNERS),
    "excel.register_xlsx_bytes(households)": (
        lambda db, actor, e: excel.register_xlsx_bytes(db, actor, "households"), (LINK,)),
    "excel.export_register(file)": (
        lambda db, actor, e: _bytes_of(lambda out: excel.export_register(db, actor, "fee_items", out)), (SUM,)),
    "excel.export_view(v_bill_balance)": (
        lambda db, actor, e: _bytes_of(lambda out: excel.export_view(db, actor, "v_bill_balance", out)), (SUM,)),
    "analysis.result_xlsx": (_console, (*OWNERS, SUM)),
    "analysis.rows_xlsx": (
        lambda db, actor, e: analysis.rows_xlsx("结果", ["a", "b"], ["VARCHAR", "INTEGER"],
                                                [(t, 1) for t in (LINK, *OWNERS)]), (LINK, *OWNERS)),
    "analysis.chart_table_xlsx": (_chart_table, OWNERS),
    "cashier.receipt_workbook(A4)": (
        lambda db, actor, e: cashier.receipt_workbook(db, e["receipt"]), (LINK, SUM, *OWNERS)),
    "cashier.receipt_workbook(半A4, voided)": (
        lambda db, actor, e: cashier.receipt_workbook(db, e["voided"], "半A4"), (LINK, AT, *OWNERS)),
    "fee_documents.statement_workbook": (
        lambda db, actor, e: fee_documents.statement_workbook(db, e["home"], date(2026, 6, 30)),
        (LINK, SUM, PLUS, MINUS, AT, *OWNERS)),
    "fee_documents.notices_workbook": (
        lambda db, actor, e: fee_documents.notices_workbook(db, e["community"], "2026-06", date(2026, 6, 30))[0],
        (LINK, SUM)),
    "fee_documents.notices_workbook(催缴)": (
        lambda db, actor, e: fee_documents.notices_workbook(db, e["community"], "2026-06", date(2026, 7, 30),
                                                            arrears_days=0)[0], (LINK,)),
    "reports.monthly_report": (
        lambda db, actor, e: _bytes_of(lambda out: reports.monthly_report(db, actor, "2026-06", out)), (LINK,)),
    "household_file.export_workbook": (
        lambda db, actor, e: _bytes_of(lambda out: household_file.export_workbook(db, actor, e["home"], out)),
        (LINK, *OWNERS)),
    "surveys.survey_report": (
        lambda db, actor, e: _bytes_of(lambda out: surveys.survey_report(db, actor, e["survey"], out)),
        (LINK, SUM, PLUS, MINUS, AT)),
    "service_desk.repair_report_xlsx": (
        lambda db, actor, e: desk.repair_report_xlsx(desk.repair_report(db, actor, e["order"])), (LINK, ARRAY)),
    "templates.template_xlsx(households)": (
        lambda db, actor, e: templates.template_xlsx("households", db, actor), (LINK,)),
    "importer.error_workbook": (_import_errors, (LINK, *OWNERS)),
}

# Modules that make workbooks, each covered by PRODUCERS above (report_book through reports,
# surveys and household_file; excel through the register, view and console exports).
MAKERS = {"app/exchange/excel.py", "app/fees/fee_documents.py", "app/fees/cashier.py", "app/exchange/report_book.py", "app/exchange/templates.py",
          "app/exchange/importer.py", "app/service/service_desk.py"}


def assert_values_only(data: bytes, hostile: tuple[str, ...], name: str) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheets = [n for n in package.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        assert sheets, name
        for sheet in sheets:
            xml = package.read(sheet).decode("utf-8")
            assert not re.search(r"<f[ >/]", xml), f"{name}: {sheet} has a formula"
            assert "<hyperlink" not in xml, f"{name}: {sheet} has a link"
            for formula in re.findall(r"<formula1>(.*?)</formula1>", xml):  # drop-downs: "a,b" or a range
                inner = html.unescape(formula)
                assert not inner.startswith('"') or '"' not in inner[1:-1], f"{name}: drop-down {inner}"
        assert "xl/calcChain.xml" not in package.namelist(), name
    texts = []
    for ws in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{name}: {ws.title}!{cell.coordinate} = {cell.value!r}"
                assert cell.hyperlink is None, f"{name}: {ws.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    assert cell.data_type in ("s", "inlineStr"), (name, cell.coordinate, cell.data_type)
                    texts.append(unescape(cell.value))  # _x000D_ is how a sheet spells a CR
    for text in hostile:
        assert any(text in t for t in texts), f"{name}: {text!r} is not in the workbook as text"
    # the hostile text opens a cell somewhere: where an unsafe writer would have made a formula
    assert any(t.startswith(STARTS) and any(t.startswith(h) for h in (LINK, *OWNERS)) for t in texts), name


def test_every_workbook_keeps_hostile_text_as_text(db, actor, estate):
    """One estate, every producer (an estate takes seconds to build); every failure is listed."""
    failures = []
    for name, (make, hostile) in PRODUCERS.items():
        try:
            assert_values_only(make(db, actor, estate), hostile, name)
        except AssertionError as err:
            failures.append(str(err).splitlines()[0])
    assert failures == []


# -- the one writer --------------------------------------------------------------------------------
def test_the_writer_keeps_text_text_whichever_method_is_called(tmp_path):
    """write, write_row, write_column and merge_range of a str: text cells; formulas refused."""
    out = io.BytesIO()
    book = new_workbook(out, in_memory=True, strings_to_formulas=True, strings_to_urls=True)  # asked: ignored
    ws = book.add_worksheet()
    ws.write(0, 0, LINK)
    ws.write("B1", "http://x")
    ws.write_row(1, 0, [SUM, 7, None, "3"])
    ws.write_column(2, 0, [PLUS, ARRAY])
    ws.merge_range(4, 0, 4, 3, AT)
    for call in (lambda: ws.write_formula(5, 0, SUM), lambda: ws.write_url(5, 0, "http://x"),
                 lambda: ws.write_array_formula(5, 0, 5, 0, ARRAY)):
        with pytest.raises(NoFormulas):
            call()
    book.close()
    assert_values_only(out.getvalue(), (LINK, SUM, PLUS, ARRAY, AT), "new_workbook")
    ws = openpyxl.load_workbook(out).active
    assert [ws["A1"].value, ws["B1"].value, ws["A2"].value, ws["B2"].value, ws["D2"].value, ws["A5"].value] \
        == [LINK, "http://x", SUM, 7, "3", AT]  # the number stays a number, "3" stays text


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_opens_a_workbook_but_the_one_writer():
    """Only app/exchange/workbook.py imports xlsxwriter (its utility helpers aside); no pandas to_excel,
    no openpyxl writing; and every module that makes workbooks is one PRODUCERS walks."""
    sources = sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "pages").rglob("*.py")])
    assert len(sources) > 50
    bypass, makers = [], set()
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        imports = _imports(path)
        if rel != "app/exchange/workbook.py" and any(
                m == "xlsxwriter" or (m.startswith("xlsxwriter.") and m != "xlsxwriter.utility") for m in imports):
            bypass.append(rel + ": imports xlsxwriter")
        if re.search(r"\.to_excel\(|ExcelWriter|openpyxl\.Workbook\(|\.save\(.*\.xlsx", text) or (
                "openpyxl" in imports and re.search(r"\bWorkbook\(\)", text)):
            bypass.append(rel + ": writes a workbook without app/exchange/workbook.py")
        if re.search(r"\bnew_workbook\(|\bBook\(", text) and rel != "app/exchange/workbook.py":
            makers.add(rel)
    assert bypass == []
    assert makers == MAKERS, "a module makes workbooks: add its producers to PRODUCERS and MAKERS"
