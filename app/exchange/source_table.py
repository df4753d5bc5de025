"""One sheet of a file as read (the importer's input, and the layouts' that unpivot it first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceTable:
    """One sheet of a file as read: every row from row 1, cells as Python values (None = blank)."""

    file_name: str
    kind: str  # "excel" or "csv"
    sheet: str
    sheets: list[str]
    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 (0-based)
    encoding: str | None = None  # CSV only
    filled: set[tuple[int, int]] = field(default_factory=set)  # cells given their merge's value

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    @property
    def row_word(self) -> str:
        return "Excel" if self.kind == "excel" else "CSV"

    def where(self, excel_row: int) -> str:
        return f"{self.row_word} 第 {excel_row} 行"


def first_data_row(table: SourceTable, header_row: int) -> int:
    """The Excel row number after the header, or after header cells merged downward."""
    index = header_row - 1
    last = index
    for r1, _, r2, _ in table.merged:
        if r1 <= index <= r2:
            last = max(last, r2)
    return last + 2
