"""Report workbooks: sheets of titled tables with typed cells and native Excel charts (xlsxwriter).

Used by the monthly report, the survey report and the household file. Cells are written by
kind (money and rates as numbers with formats, dates as dates, text always as text), and the
workbook's creation time is fixed by the caller, so the same figures give the same file.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from app.exchange.excel import display_width
from app.exchange.workbook import new_workbook

FORMATS = {
    "money": "#,##0.00",
    "rate": "0.0%",
    "integer": "0",
    "number": "0.00",
    "date": "yyyy-mm-dd",
    "timestamp": "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True)
class Column:
    """One column of a table: the frame's column, its Chinese header and its kind."""

    name: str
    label: str
    kind: str = "text"  # text, integer, number, money, rate, date, timestamp, boolean


@dataclass(frozen=True)
class Placed:
    """Where a table landed: header row, first and last data rows, columns by name."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, int]

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1

    def range_of(self, column: str) -> list:
        c = self.columns[column]
        return [self.sheet, self.first_row, c, self.last_row, c]

    def header_cell(self, column: str) -> list:
        return [self.sheet, self.header_row, self.columns[column]]


class ReportBook:
    """A workbook being written; `close()` finishes it."""

    def __init__(self, target: str | Path | IO[bytes], title: str, created: datetime | None = None):
        self.book = new_workbook(target, in_memory=True, remove_timezone=True)
        self.book.set_properties({"title": title, "author": "wuye 物业台账", "company": "",
                                  "created": created or datetime(2000, 1, 1)})
        self.f = {
            "title": self.book.add_format({"bold": True, "font_size": 14}),
            "subtitle": self.book.add_format({"italic": True, "font_color": "#555555"}),
            "heading": self.book.add_format({"bold": True, "font_size": 11, "font_color": "#1F4E79"}),
            "header": self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                            "text_wrap": True, "valign": "vcenter"}),
            "text": self.book.add_format({"border": 1}),
            **{k: self.book.add_format({"num_format": v, "border": 1}) for k, v in FORMATS.items()},
        }
        self.sheets: dict[str, Sheet] = {}

    def sheet(self, name: str, title: str, subtitle: str = "") -> Sheet:
        ws = self.book.add_worksheet(name[:31])
        sheet = Sheet(self, ws, name[:31])
        ws.write_string(0, 0, title, self.f["title"])
        if subtitle:
            ws.write_string(1, 0, subtitle, self.f["subtitle"])
        sheet.row = 3
        self.sheets[name] = sheet
        return sheet

    def close(self) -> None:
        self.book.close()


class Sheet:
    def __init__(self, book: ReportBook, ws, name: str):
        self.book, self.ws, self.name = book, ws, name
        self.row = 0
        self.widths: dict[int, int] = {}
        self.charts = 0

    def heading(self, text: str) -> None:
        self.ws.write_string(self.row, 0, text, self.book.f["heading"])
        self.row += 1

    def note(self, text: str) -> None:
        self.ws.write_string(self.row, 0, text, self.book.f["subtitle"])
        self.row += 2

    def pairs(self, items: Sequence[tuple[str, Any, str]]) -> dict[str, tuple[int, int]]:
        """Label/value lines (a summary block); returns label -> (row, col) of each value."""
        where = {}
        for label, value, kind in items:
            self._widen(0, label)
            self.ws.write_string(self.row, 0, label, self.book.f["header"])
            self._write(self.row, 1, value, kind)
            where[label] = (self.row, 1)
            self.row += 1
        self.row += 1
        return where

    def table(self, frame: pd.DataFrame, columns: Sequence[Column], empty: str = "（无）") -> Placed:
        """The frame's rows under a header; one blank row after."""
        header = self.row
        for c, col in enumerate(columns):
            self.ws.write_string(header, c, col.label, self.book.f["header"])
            self._widen(c, col.label)
        first = header + 1
        r = first
        data = [list(frame[col.name]) if col.name in frame else [None] * len(frame) for col in columns]
        for k in range(len(frame)):
            for c, col in enumerate(columns):
                self._write(r, c, data[c][k], col.kind)
            r += 1
        if r == first:
            self.ws.write_string(first, 0, empty, self.book.f["text"])
        placed = Placed(self.name, header, first, max(r - 1, first), {col.name: i for i, col in enumerate(columns)})
        self.row = max(r, first + 1) + 1
        for c, w in self.widths.items():
            self.ws.set_column(c, c, min(max(w + 2, 8), 60))
        return placed

    def chart(self, kind: str, series: Sequence[dict], title: str, *, subtype: str | None = None,
              y_format: str | None = None, y_title: str | None = None, x_title: str | None = None,
              at: tuple[int, int] | None = None, size: tuple[int, int] = (620, 300),
              y_max: float | None = None) -> None:
        """A native chart; each series dict: name, categories, values (xlsxwriter lists)."""
        options = {"type": kind}
        if subtype:
            options["subtype"] = subtype
        chart = self.book.book.add_chart(options)
        for s in series:
            chart.add_series(s)
        chart.set_title({"name": title, "name_font": {"size": 11}})
        axis = {}
        if y_format:
            axis["num_format"] = y_format
        if y_title:
            axis["name"] = y_title
        if y_max is not None:
            axis.update(min=0, max=y_max)
        if axis and kind != "pie":
            chart.set_y_axis(axis)
        if x_title and kind != "pie":
            chart.set_x_axis({"name": x_title})
        chart.set_size({"width": size[0], "height": size[1]})
        chart.set_legend({"position": "bottom"} if len(series) > 1 or kind == "pie" else {"none": True})
        if at is None:
            at = (self.row, 0)
            self.row += size[1] // 20 + 2
        self.ws.insert_chart(xl_rowcol_to_cell(*at), chart)
        self.charts += 1

    # -- cells -------------------------------------------------------------------------
    def _write(self, r: int, c: int, v: Any, kind: str) -> None:
        f = self.book.f
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
            self.ws.write_blank(r, c, None, f["text"])
            return
        if kind in ("date", "timestamp") or isinstance(v, (date, datetime)):
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            if isinstance(v, datetime):
                self.ws.write_datetime(r, c, v, f["timestamp"] if kind != "date" else f["date"])
                self._widen(c, "0000-00-00 00:00" if kind != "date" else "0000-00-00")
            elif isinstance(v, date):
                self.ws.write_datetime(r, c, datetime(v.year, v.month, v.day), f["date"])
                self._widen(c, "0000-00-00")
            else:
                self.ws.write_string(r, c, str(v), f["text"])
            return
        if isinstance(v, bool) or kind == "boolean":
            self.ws.write_string(r, c, "是" if v else "否", f["text"])
            return
        if kind != "text" and isinstance(v, numbers.Number):
            number = float(v)
            self.ws.write_number(r, c, number, f.get(kind, f["number"]))
            self._widen(c, f"{number:,.2f}")
            return
        text = str(v)
        self.ws.write_string(r, c, text, f["text"])
        self._widen(c, text)

    def _widen(self, c: int, text: str) -> None:
        self.widths[c] = max(self.widths.get(c, 0), min(display_width(text), 58))


def cell_ref(sheet: str, row: int, col: int) -> str:
    return "'" + sheet + "'!" + xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
