"""Sheet layouts other than one record per row, recognised before the columns are mapped.

Side-by-side record blocks: offices print narrow lists three to a row to save paper
(房号 姓名 电话 | 房号 姓名 电话 | …). When a header row is one group of headers repeated
across the row (blank separator columns allowed), the sheet is unpivoted: each block of each
row becomes a row of its own, and problems are told by the Excel row and the block.
"""

from __future__ import annotations

from app.exchange.source_table import SourceTable, first_data_row
from app.exchange.workbook_reader import norm_header


def repeated_group(headers: list[str]) -> int | None:
    """The width of the header group repeated across the row (a trailing blank included), or None."""
    keys = [norm_header(h) if h else "" for h in headers]
    while keys and not keys[-1]:
        keys.pop()
    width = len(keys)
    for size in range(2, width // 2 + 1):
        group = keys[:size]
        if sum(1 for k in group if k) < 2:
            continue
        padded = keys + [""] * (-width % size)
        if all(padded[i] == group[i % size] for i in range(len(padded))):
            return size
    return None


def unpivot(table: SourceTable, header_row: int, size: int) -> tuple[SourceTable, dict[int, tuple[int, int]]]:
    """The sheet with one block per row; new Excel row -> (original Excel row, block number)."""
    head = header_row - 1
    start = first_data_row(table, header_row) - 1
    rows = [list(r[:size]) for r in table.rows[:start]]
    origin: dict[int, tuple[int, int]] = {}
    for r in range(start, len(table.rows)):
        row = table.rows[r]
        for b, at in enumerate(range(0, max(len(row), 1), size)):
            block = list(row[at:at + size])
            if not any(v is not None and str(v).strip() for v in block):
                continue
            rows.append(block + [None] * (size - len(block)))
            origin[len(rows)] = (r + 1, b + 1)
    rows[head] = list(table.rows[head][:size])
    return SourceTable(table.file_name, table.kind, table.sheet, table.sheets, rows, [], table.encoding), origin
