"""Writes the messy sample files that tests/test_import.py imports. Run: python tests/data/make_import_samples.py

They imitate registers as offices keep them: a title and a note above a two-level header with
merged cells, the 小区 merged down over its rows, codes with leading zeros, dates in five
spellings, a formula, blank rows; a GBK CSV with a title line; ID numbers stored as numbers.
"""

from datetime import datetime
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).parent


def households_messy() -> None:
    wb = xlsxwriter.Workbook(HERE / "households_messy.xlsx")
    notes = wb.add_worksheet("填表说明")
    notes.write(0, 0, "本表由物业服务中心维护，每月底更新。")
    ws = wb.add_worksheet("房屋台账")
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    text = wb.add_format({"num_format": "@"})
    ws.merge_range("A1:J1", "阳光花园、翠湖苑 房屋档案台账（2024年）", title)
    ws.merge_range("A2:J2", "制表：物业服务中心　　日期：2024-06-30")
    for cell, label in (("A3:A4", "编号"), ("B3:B4", "小区"), ("F3:F4", "状态"), ("I3:I4", "备 注"),
                        ("J3:J4", "楼栋")):
        ws.merge_range(cell, label, head)
    ws.merge_range("C3:E3", "房屋信息", head)
    ws.merge_range("G3:H3", "日期", head)
    for col, label in ((2, "房号"), (3, "建筑面积（㎡）"), (4, "用途"), (6, "交房日期"), (7, "入住日期")):
        ws.write(3, col, label, head)
    # Excel rows 5-8: one 小区 merged down over four rows (row 7 is blank apart from it).
    ws.merge_range("B5:B8", "阳光花园")
    ws.write_string(4, 2, "0101", text)  # leading zero kept as text
    ws.write_number(4, 3, 88)
    ws.write(4, 4, "住宅")
    ws.write(4, 5, "已入住")
    ws.write_datetime(4, 6, datetime(2009, 3, 15), day)
    ws.write_string(4, 7, "2009/4/1")
    ws.write(4, 8, "一楼")
    ws.write_string(4, 9, "1")

    ws.write_string(5, 2, "1-1-102", text)
    ws.write_formula(5, 3, "=40*2.25", None, 90)  # a formula, with the value Excel saved
    ws.write(5, 4, "住宅")
    ws.write(5, 5, "出租")
    ws.write_string(5, 6, "2009年3月15日")
    ws.write_number(5, 7, 39904)  # a date typed into a General cell: Excel's day number
    ws.write_string(5, 9, "1")

    ws.write_string(7, 2, "1-1-201", text)
    ws.write_string(7, 3, "1,234.50")
    ws.write(7, 4, "商铺")
    ws.write(7, 5, "空置")
    ws.write_string(7, 6, "2009-03-15 00:00:00")
    ws.write_number(7, 7, 20090401)
    ws.write_string(7, 9, "2")
    # Excel row 9 is blank; row 10 is in the other 小区, whose building 1 is not 阳光花园's.
    ws.write(9, 1, "翠湖苑")
    ws.write_string(9, 2, "1-1-101", text)
    ws.write_number(9, 3, 95.5)
    ws.write(9, 4, "住宅")
    ws.write(9, 5, "已入住")
    ws.write_datetime(9, 6, datetime(2017, 6, 18, 0, 0), day)
    ws.write(9, 8, "  西边套  ")
    ws.write_number(9, 9, 1)
    ws.set_column(0, 9, 14)
    wb.close()


def owners_gbk() -> None:
    lines = [
        "阳光花园、翠湖苑业主名册,,,,,,",
        "房屋,姓名,手机号,身份证号,身份,主联系人,迁入日期",
        "阳光花园/0101,张三,138 1234 5678,11010519491231002X,业主,是,2024/3/5",
        ",,,,,,",
        "1-1-101,李四,13900001111,,租户,否,2024年3月6日",
        "1-1-102,王五,,,家属,,2024-03-07",
    ]
    (HERE / "owners_gbk.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


def owners_id_as_number() -> None:
    wb = xlsxwriter.Workbook(HERE / "owners_id_as_number.xlsx")
    ws = wb.add_worksheet("业主")
    ws.write_row(0, 0, ["房屋", "姓名", "手机号", "身份证号"])
    ws.write_row(1, 0, ["阳光花园/0101", "张三"])
    ws.write_number(1, 2, 13812345678)  # 11 digits: exact as a number, restored as text
    ws.write_number(1, 3, 110105194912310020)  # 18 digits: Excel kept 15, the rest is lost
    wb.close()


if __name__ == "__main__":
    households_messy()
    owners_gbk()
    owners_id_as_number()
    print("written to", HERE)
