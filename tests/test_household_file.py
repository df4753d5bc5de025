"""一户一档 (app.estate.household_file): balance, timeline, sections and masking, and the workbook."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
from test_reports import add, estate  # noqa: F401  (fixture)

from app.access.permissions import Actor
from app.estate import household_file


def test_file_of_a_household_balance_timeline_and_sections(db, actor, estate):  # noqa: F811
    home = estate["homes"][1]  # 1-1-102: 300.00 due 09-15, 100.00 paid 09-20
    add(db, actor, "owners", household_id=home, name="王芳", phone="13812345678", id_number="11010519491231002X",
        role="业主", is_primary=True, move_in_date="2020-06-01")
    file = household_file.load(db, actor, home, as_of=date(2026, 9, 30))
    assert file.header["房号"] == "1-1-102" and file.header["小区"] == "阳光花园"
    b = file.balance
    assert (b["outstanding"], b["overdue"], b["oldest_due"], b["days_overdue"]) == (
        Decimal("200.00"), Decimal("200.00"), date(2026, 9, 15), 15)
    assert list(file.timeline["what"]) == [
        "账单 2026-09 物业费 应收 300.00 元，2026-09-15 前缴清", "业主 王芳 迁入（主联系人）", "交房"]
    titles = {s.register: s for s in file.sections}
    owners = titles["owners"].rows
    assert owners["手机号"][0] == "13812345678"  # 管理员 sees personal data
    assert titles["bills"].total == 1 and titles["work_orders"].total == 0
    masked = household_file.load(db, Actor("李师傅", role="维修"), home, as_of=date(2026, 9, 30))
    row = next(s for s in masked.sections if s.register == "owners").rows.iloc[0]
    assert (row["手机号"], row["身份证号"]) == ("138****5678", "110***********002X")


def test_household_workbook_is_masked_for_the_role(db, actor, estate):  # noqa: F811
    home = estate["homes"][1]
    add(db, actor, "owners", household_id=home, name="王芳", phone="13812345678", role="业主")
    out = io.BytesIO()
    household_file.export_workbook(db, Actor("张客服", role="经理"), home, out, as_of=date(2026, 9, 30))
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames[:2] == ["概况", "时间线"] and "业主与住户" in wb.sheetnames and "账单" in wb.sheetnames
    out = io.BytesIO()
    household_file.export_workbook(db, Actor("李师傅", role="维修"), home, out, as_of=date(2026, 9, 30))
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["业主与住户"]
    values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "138****5678" in values and "13812345678" not in values


def test_find_households_by_code_or_owner(db, actor, estate):  # noqa: F811
    add(db, actor, "owners", household_id=estate["homes"][2], name="赵强", role="业主")
    assert list(household_file.find_households(db, actor, "102").values()) == ["阳光花园/1-1-102"]
    assert list(household_file.find_households(db, actor, "赵强")) == [estate["homes"][2]]
