"""The monthly report for the owners' committee: every sheet, figures equal to the as-of views at
the period's end (and to hand-worked values), native charts, and the same report on another day.

The estate (both backends): 阳光花园, three households; September 2026 bills of 300.00 each,
due 2026-09-15. 1-1-101 pays 300.00 on 09-10, 1-1-102 pays 100.00 on 09-20, 1-1-103 pays nothing.
By hand at 2026-09-30: billed 900.00, collected 400.00, 收费率 4/9; arrears 500.00 over 2
households; late fee at 0.0005/day: 1-1-103 15 days × 300 = 2.25, 1-1-102 5 days × 300 (0.75) +
10 days × 200 (1.00) = 1.75 → 4.00.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from saving import add

from app.analysis import reports
from app.cli import main


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    homes = [add(db, actor, "households", community_id=c, code=f"1-1-10{n}", area="100.00", usage="住宅",
                 status="已入住", handover_date="2020-05-01") for n in range(1, 4)]
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="3.0000",
               cycle="月", status="已审批", effective_from="2026-01-01")
    bills = [add(db, actor, "bills", household_id=h, fee_item_id=item, period="2026-09", amount="300.00",
                 due_date="2026-09-15") for h in homes]
    add(db, actor, "payments", bill_id=bills[0], amount="300.00", paid_at="2026-09-10 10:00:00")
    add(db, actor, "payments", bill_id=bills[1], amount="100.00", paid_at="2026-09-20 15:30:00")
    return {"community": c, "homes": homes, "bills": bills, "item": item}


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def produce(db, actor, period: str = "2026-09") -> bytes:
    out = io.BytesIO()
    reports.monthly_report(db, actor, period, out)
    return out.getvalue()


def rows_under(ws, heading: str) -> list[list]:
    """The data rows of the table that follows a heading cell, up to the next blank row."""
    start = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == heading)
    out, r = [], start + 2
    while r <= ws.max_row and ws.cell(r, 1).value not in (None, ""):
        out.append([ws.cell(r, c).value for c in range(1, ws.max_column + 1)])
        r += 1
    return out


def all_cells(wb: openpyxl.Workbook) -> dict[str, list[tuple]]:
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb}


def test_every_topic_has_its_sheet_and_the_figures_are_the_views_at_period_end(db, actor, estate):
    wb = workbook(produce(db, actor))
    assert wb.sheetnames == [t.sheet for t in reports.TOPICS] == [
        "概览", "收费与欠费", "维修", "投诉", "检查与整改", "消防与设备", "合同", "财务公开"]
    fees = wb["收费与欠费"]
    [row] = rows_under(fees, "2026-09 账期收费率（截至 2026-09-30）")
    assert row[:6] == ["阳光花园", 3, 900, 400, 500, pytest.approx(4 / 9)]
    view = db.query("SELECT * FROM collection_rate_as_of(DATE '2026-09-30') WHERE period = '2026-09'").iloc[0]
    assert (view["billed"], view["collected"]) == (Decimal("900.00"), Decimal("400.00"))
    assert row[5] == pytest.approx(view["rate"])
    [arrears] = rows_under(fees, "欠费（截至 2026-09-30，含滞纳金）")
    assert arrears[:5] == ["阳光花园", 2, 2, 500, 4]
    assert db.scalar("SELECT sum(late_fee) FROM arrears_as_of(DATE '2026-09-30')") == Decimal("4.00")
    [summary] = rows_under(wb["概览"], "各小区主要指标")
    assert summary[:6] == ["阳光花园", 900, 400, pytest.approx(4 / 9), 2, 500]
    assert summary[10] == db.scalar("SELECT count(*) FROM todo_as_of(DATE '2026-09-30')")
    [money_in] = rows_under(wb["财务公开"], "2026-09 物业费收款（按收款日期）")
    assert money_in[:3] == ["阳光花园", 2, 400]


def test_the_report_has_native_charts(db, actor, estate):
    data = produce(db, actor)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    charts = [n for n in names if n.startswith("xl/charts/chart")]
    assert len(charts) >= 3  # 概览, 收费率趋势, 欠费账龄 at least
    drawings = [n for n in names if n.startswith("xl/drawings/drawing")]
    assert drawings


def test_a_past_month_gives_the_same_report_whenever_produced(db, actor, estate, monkeypatch):
    first = produce(db, actor)
    # a month later: the rest of 1-1-102's bill is paid, October is billed, and "today" moved
    add(db, actor, "payments", bill_id=estate["bills"][1], amount="200.00", paid_at="2026-10-05 09:00:00")
    add(db, actor, "bills", household_id=estate["homes"][2], fee_item_id=estate["item"], period="2026-10",
        amount="300.00", due_date="2026-10-15")
    monkeypatch.setattr(type(db), "now", lambda self: datetime(2026, 12, 1, 9, 0))
    second = produce(db, actor)
    assert all_cells(workbook(first)) == all_cells(workbook(second))
    assert first == second  # the file itself too (creation time is the period's last day)
    october = workbook(produce(db, actor, "2026-10"))
    [row] = rows_under(october["收费与欠费"], "2026-10 账期收费率（截至 2026-10-31）")
    assert row[:4] == ["阳光花园", 1, 300, 0]


def test_cli_writes_the_report_and_refuses_a_bad_period(db, actor, estate, tmp_path, capsys):
    if db.is_postgres:
        pytest.skip("the CLI test opens the DuckDB file")
    url = db.url
    db.close()
    out = tmp_path / "报告.xlsx"
    assert main(["--db", url, "report", "monthly", "--period", "2026-09", "--out", str(out)]) == 0
    assert "已生成 2026-09 业委会月度报告" in capsys.readouterr().out
    assert workbook(out.read_bytes()).sheetnames[0] == "概览"
    assert main(["--db", url, "report", "monthly", "--period", "2026-9", "--out", str(out)]) == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_default_period_is_last_month():
    assert reports.default_period(date(2026, 11, 25)) == "2026-10"
    assert reports.default_period(date(2026, 1, 3)) == "2025-12"


def test_owing_households_mean_one_thing_in_every_sheet(db, actor, estate):
    # a fourth household's September bill falls due in October: unpaid (未缴) at the month's end,
    # but not in arrears — 欠费户数 counts only the two with a bill past due (09-15)
    home = add(db, actor, "households", community_id=estate["community"], code="1-1-104", area="100.00",
               usage="住宅", status="已入住", handover_date="2020-05-01")
    add(db, actor, "bills", household_id=home, fee_item_id=estate["item"], period="2026-09", amount="300.00",
        due_date="2026-10-10")
    wb = workbook(produce(db, actor))
    owing = []
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                below = ws.cell(cell.row + 1, cell.column).value
                if cell.value == "欠费户数" and ws.cell(cell.row + 1, 1).value == "阳光花园":
                    owing.append((ws.title, below))
    assert owing == [("概览", 2), ("收费与欠费", 2)]
    [rate] = rows_under(wb["收费与欠费"], "2026-09 账期收费率（截至 2026-09-30）")
    # 账单数, 应收, 实收, 未缴, 收费率, 应缴户数, 未缴户数, 户收费率
    assert rate[1:9] == [4, 1200, 400, 800, pytest.approx(1 / 3), 4, 3, pytest.approx(0.25)]


def test_the_twelve_month_tables_list_every_month_with_zero_when_nothing_happened(db, actor, estate):
    wb = workbook(produce(db, actor))
    months = [f"2025-{m}" for m in ("10", "11", "12")] + [f"2026-{m:02d}" for m in range(1, 10)]
    fees = rows_under(wb["收费与欠费"], "近 12 个账期收费率（全部所列小区合计）")
    assert [r[0] for r in fees] == months
    assert [r[1:4] for r in fees[:11]] == [[0, 0, None]] * 11  # nothing billed: no rate, not 0 %
    assert fees[11][1:4] == [900, 400, pytest.approx(4 / 9)]
    repairs = rows_under(wb["维修"], "近 12 个月")
    assert [r[0] for r in repairs] == months
    assert [r[1] for r in repairs] == [0] * 12
