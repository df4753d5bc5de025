"""The one writer of .xlsx files: every workbook the product makes is opened here (`new_workbook`).

Text that came from a user (an owner's name, a fee item, a remark, a register cell) must reach
Excel as text, never as a formula or a link: `=HYPERLINK("http://…","点此核对")` in an owner's
name would otherwise be a live link in the 收据 a clerk prints. So the workbook options turn
xlsxwriter's guessing off, and the worksheets handed out here write every str as a text cell
whichever method a producer calls (`write`, `write_row`, `write_column`, `merge_range`), and
refuse formulas and links outright: the product writes values, never formulas. Numbers and
dates stay typed. tests/test_workbook_injection.py walks every producer and guards that no
module opens a workbook any other way.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet, convert_cell_args, convert_range_args

# These win over whatever a producer asks for.
SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


class NoFormulas(TypeError):
    """A producer asked for a formula or a link: workbooks of the product hold values only."""


class TextSheet(Worksheet):
    """A worksheet on which a str is always a text cell (never a formula, link or number)."""

    @convert_cell_args
    def write(self, row: int, col: int, *args: Any) -> int:
        if args and isinstance(args[0], str):
            return write_text(self, row, col, args[0], *args[1:2])
        return super().write(row, col, *args)

    @convert_cell_args
    def write_row(self, row: int, col: int, data, cell_format=None) -> int:
        for offset, token in enumerate(data):
            if error := self.write(row, col + offset, token, cell_format):
                return error
        return 0

    @convert_cell_args
    def write_column(self, row: int, col: int, data, cell_format=None) -> int:
        for offset, token in enumerate(data):
            if error := self.write(row + offset, col, token, cell_format):
                return error
        return 0

    @convert_range_args
    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, data: Any,
                    cell_format=None) -> int:
        if not isinstance(data, str):
            return super().merge_range(first_row, first_col, last_row, last_col, data, cell_format)
        error = super().merge_range(first_row, first_col, last_row, last_col, "", cell_format)
        return error or write_text(self, first_row, first_col, data, cell_format)

    def _refuse(self, *args: Any, **kwargs: Any) -> int:
        raise NoFormulas("导出的工作簿只写数值和文本，不写公式或链接")

    write_formula = write_array_formula = write_dynamic_array_formula = write_url = _refuse


class Book(xlsxwriter.Workbook):
    """An xlsxwriter workbook with the safe options and TextSheet worksheets."""

    def __init__(self, target: str | Path | IO[bytes], options: dict[str, Any] | None = None):
        super().__init__(str(target) if isinstance(target, Path) else target, {**(options or {}), **SAFE_OPTIONS})

    def add_worksheet(self, name: str | None = None, worksheet_class=None) -> TextSheet:
        return super().add_worksheet(name, TextSheet)


def new_workbook(target: str | Path | IO[bytes], **options: Any) -> Book:
    """A workbook to write: a path, or a binary file object (`in_memory=True` for BytesIO)."""
    return Book(target, options)


def write_text(ws: Worksheet, row: int, col: int, text: Any, cell_format=None) -> int:
    """A text cell, always: `=1+2` stays the four characters. Empty text is a (formatted) blank."""
    text = "" if text is None else str(text)
    if text == "":
        return ws.write_blank(row, col, None, cell_format)
    return ws.write_string(row, col, text, cell_format)


def write_value(ws: Worksheet, row: int, col: int, value: Any, cell_format=None, date_format=None) -> int:
    """A cell typed by its value: numbers as numbers, dates as Excel dates (with date_format),
    booleans as 是/否, anything else as text. None and NaN are blanks."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ws.write_blank(row, col, None, cell_format)
    if isinstance(value, bool):
        return write_text(ws, row, col, "是" if value else "否", cell_format)
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        if not math.isfinite(number):
            return ws.write_blank(row, col, None, cell_format)
        return ws.write_number(row, col, number, cell_format)
    if isinstance(value, (date, datetime)) and date_format is not None:
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        return ws.write_datetime(row, col, moment, date_format)
    return write_text(ws, row, col, value, cell_format)
