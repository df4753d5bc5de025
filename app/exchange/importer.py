"""Import of a register from an Excel (.xlsx, .xls) or CSV file, through the save path.

file -> rows of raw cells (python-calamine; CSV decoded as UTF-8 or GB18030) -> the header
row, found by matching field labels (or given) -> columns mapped to fields (or given) -> one
RowChange per non-blank row, `where="Excel 第 n 行"` -> `apply_changes`: every row converted
and validated, then written in one audited transaction, or nothing. A dry run is the same
call whose transaction is rolled back at its end (`_RolledBack`), so it checks exactly what
a real import would, ids and uniqueness included.

Row numbers are the sheet's own, as Excel shows them in its margin (1-based, title rows
counted): with the header on row 1, data row k is Excel row k + 1. CSV rows are counted as
records, which is what Excel shows when it opens the file.

Rows whose 编号 exists already are refused, unless `update_existing` is chosen: then they
update that row (every mapped column; a blank cell clears the value), which is what a clerk
expects when re-importing an edited export. Rows without 编号 are always new rows.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gc
import io
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from app import registers
from app.access.permissions import ADMIN, Actor, require
from app.admin.backup import before_change
from app.exchange.excel import display_width
from app.exchange.import_layouts import repeated_group, unpivot
from app.exchange.source_table import SourceTable, first_data_row
from app.exchange.templates import sample_texts
from app.exchange.workbook import new_workbook
from app.exchange.workbook_reader import (
    ReadLimits,
    WorkbookUnreadable,
    norm_header,
    read_limits,
    read_workbook,
    read_workbook_sheets,
)
from app.reading.queries import LABEL_SEPARATOR, label_sql, options, resolve_labels
from app.registers.model import SYSTEM_LABELS, Field, Register
from app.registers.validation import CellError, convert
from app.saving.changes import (
    Problem,
    RowChange,
    SaveRejected,
    SaveResult,
    ValidationFailed,
    apply_changes,
)
from app.storage.db import Database, q

IMPORT_SOURCE = "导入"
HEADER_SCAN_ROWS = 30  # the header row is looked for among the first rows only
ID_COLUMN = "id"
NOT_IMPORTED = ""  # mapping target of a column that is left out
NOT_IMPORTABLE = {"attachments": "附件随文件一起上传，不能通过 Excel 导入"}
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
EXCEL_EPOCH = datetime(1899, 12, 30)
SERIAL_DATES = (18264, 73050)  # Excel day numbers of 1950-01-01 and 2099-12-31
MAX_EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number; the rest become 0
SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d+)?[eE][+-]?\d+")
DATE_WITH_TIME = re.compile(r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)[\sT]+\d{1,2}:\d{2}(:\d{2})?")
DIGITS_DATE = re.compile(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_IMPORT_BYTES = 50 * 1024 * 1024  # as streamlit_config's maxUploadSize; the CLI is held to it too

Progress = Callable[[float, str], None]


class ImportRefused(ValueError):
    """The file cannot be imported at all (unreadable, no header); str() is the Chinese message."""


# -- reading ------------------------------------------------------------------------------
def read_source(source: str | Path | bytes | IO[bytes], file_name: str | None = None,
                sheet: str | None = None, register: str | None = None,
                limits: ReadLimits | None = None) -> SourceTable:
    """Read a file (path, bytes or binary file object); the kind is found from its content.

    Without `sheet`, the sheet whose header best matches `register` is taken (else the first).
    `limits` caps rows and cells (default: the settings' defaults; `read_limits(db)` for the
    office's own); a workbook is read in a child process (app/exchange/workbook_reader.py).
    """
    if isinstance(source, (str, Path)):
        file_name = file_name or Path(source).name
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise ImportRefused(f"找不到文件 {source}") from None
        except IsADirectoryError:
            raise ImportRefused(f"{source} 是一个文件夹，不是文件") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read()
        file_name = file_name or Path(str(getattr(source, "name", "") or "")).name
    file_name = file_name or "导入文件"
    if not data or (len(data) < 4096 and not data.strip()):
        raise ImportRefused(f"文件 {file_name} 是空的")
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(f"文件 {file_name} 大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 "
                            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB：请分成几个文件导入")
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _read_workbook(data, file_name, sheet, register, limits)
    if Path(file_name).suffix.lower() in WORKBOOK_SUFFIXES:
        raise ImportRefused(f"文件 {file_name} 不是有效的 Excel 工作簿（可能已损坏或只是改了后缀名）")
    if b"\x00" in data[:65536] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRefused(f"文件 {file_name} 不是文本（CSV）也不是 Excel 文件，不能导入")
    return _read_csv(data, file_name, limits or ReadLimits())


def read_sources(source: str | Path | bytes, file_name: str | None = None,
                 limits: ReadLimits | None = None) -> list[SourceTable]:
    """Every visible sheet of a workbook (a CSV file is a workbook of one sheet)."""
    if isinstance(source, (str, Path)):
        file_name = file_name or Path(source).name
        try:
            data = Path(source).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return [read_source(source, file_name, limits=limits)]  # says what is wrong
    else:
        data = bytes(source)
    if data[:4] != b"PK\x03\x04" and data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return [read_source(data, file_name, limits=limits)]
    if len(data) > MAX_IMPORT_BYTES:
        return [read_source(data, file_name, limits=limits)]  # refused, with the size
    file_name = file_name or "导入文件"
    try:
        books = read_workbook_sheets(data, file_name, limits)
    except WorkbookUnreadable as err:
        raise ImportRefused(str(err)) from None
    tables = []
    for book in books:
        table = SourceTable(file_name, "excel", book.sheet, book.sheets, book.rows, book.merged)
        _fill_merged_down(table)
        tables.append(table)
    return tables


def _read_workbook(data: bytes, file_name: str, sheet: str | None, register: str | None,
                   limits: ReadLimits | None) -> SourceTable:
    """Through the safe reader: a child process with memory, time, row and cell limits."""
    keys = header_keys(registers.get(register)) if register is not None else None
    try:
        book = read_workbook(data, file_name, sheet, keys, limits)
    except WorkbookUnreadable as err:
        raise ImportRefused(str(err)) from None
    table = SourceTable(file_name, "excel", book.sheet, book.sheets, book.rows, book.merged)
    _fill_merged_down(table)
    return table


def _fill_merged_down(table: SourceTable) -> None:
    """A cell merged over several rows (a 小区 spanning its households) counts in every row.

    Merges within one row (titles, group headers) are left as Excel stores them: value in the
    first cell only.
    """
    for r1, c1, r2, c2 in table.merged:
        if r2 == r1 or r1 >= len(table.rows):
            continue
        top = table.rows[r1][c1] if c1 < len(table.rows[r1]) else None
        if top is None:
            continue
        for r in range(r1, min(r2, len(table.rows) - 1) + 1):
            row = table.rows[r]
            if len(row) <= c2:
                row.extend([None] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1) and row[c] is None:
                    row[c] = top
                    table.filled.add((r, c))


def _cells(rows: list[list[Any]]) -> list[list[Any]]:
    """Calamine gives '' for an empty cell: make it None; drop trailing empty rows."""
    out = [[None if v == "" else v for v in row] for row in rows]
    while out and all(v is None for v in out[-1]):
        out.pop()
    return out


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding: UTF-8 (with or without BOM), UTF-16, or GB18030."""
    for bom, encoding, name in ((codecs.BOM_UTF8, "utf-8", "UTF-8（带 BOM）"),
                                (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
                                (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), name
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:  # GB18030 is a superset of GBK and GB2312, which Chinese Excel writes
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError:
        raise ImportRefused(
            "无法识别文件编码（支持 UTF-8 和 GBK/GB18030）：请在 Excel 中另存为 .xlsx 后再导入"
        ) from None


def _read_csv(data: bytes, file_name: str, limits: ReadLimits) -> SourceTable:
    text, encoding = decode_text(data)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, cells = [], 0
    for row in reader:  # row by row, so a file over the caps stops early
        cells += len(row)
        if len(rows) >= limits.max_rows or cells > limits.max_cells:
            over = (f"超过导入上限 {limits.max_rows:,} 行" if len(rows) >= limits.max_rows
                    else f"超过导入上限 {limits.max_cells:,} 个单元格")
            raise ImportRefused(f"文件 {file_name} {over}：请把数据分成几个文件导入")
        rows.append([v if v.strip() else None for v in row])
    rows = _cells(rows)
    return SourceTable(file_name, "csv", Path(file_name).stem, [Path(file_name).stem], rows,
                       encoding=encoding)


# -- header and mapping -------------------------------------------------------------------
_norm = norm_header
PROPOSAL_CUTOFF = 0.6  # difflib ratio from which a header is offered as a guess (never applied)


def header_keys(reg: Register) -> dict[str, str]:
    """Normalised header text -> field name (or 'id'): labels, names, then aliases.

    Normalisation (workbook_reader.norm_header) drops brackets with their contents, so
    "建筑面积(㎡)" and "建筑面积（必填）" both meet the label 建筑面积(㎡).
    """
    keys = {_norm(SYSTEM_LABELS["id"]): ID_COLUMN, ID_COLUMN: ID_COLUMN}
    for f in reg.fields:
        keys.setdefault(_norm(f.label), f.name)
        keys.setdefault(_norm(f.name), f.name)
    for f in reg.fields:
        for alias in f.aliases:
            keys.setdefault(_norm(alias), f.name)
    return keys


def propose_columns(headers: list[str], reg: Register, mapped: dict[int, str]) -> dict[int, str]:
    """Column index -> field for headers that only look like a field's words (a guess to confirm).

    Headers already mapped, and fields already taken, are left out; each field is offered once,
    to the closest column.
    """
    keys = header_keys(reg)
    taken = set(mapped.values())
    best: dict[str, tuple[float, int]] = {}
    for c, h in enumerate(headers):
        k = _norm(h) if h else ""
        if not k or c in mapped:
            continue
        for key, name in keys.items():
            if name in taken or name == ID_COLUMN or len(key) < 2:
                continue
            ratio = difflib.SequenceMatcher(None, k, key).ratio()
            if key in k or k in key:
                ratio = max(ratio, 0.75)
            if ratio >= PROPOSAL_CUTOFF and ratio > best.get(name, (0.0, -1))[0]:
                best[name] = (ratio, c)
    out: dict[int, tuple[float, str]] = {}
    for name, (ratio, c) in best.items():
        if ratio > out.get(c, (0.0, ""))[0]:
            out[c] = (ratio, name)
    return {c: name for c, (_, name) in sorted(out.items())}


def _row_score(row: list[Any], keys: dict[str, str]) -> int:
    return len({keys[k] for v in row if v is not None and (k := _norm(v)) in keys})


def _best_header(rows: list[list[Any]], reg: Register) -> tuple[int, int]:
    """(0-based index, score) of the row matching the most fields among the first rows."""
    keys = header_keys(reg)
    best, score = 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        s = _row_score(row, keys)
        if s > score:
            best, score = i, s
    return best, score


def detect_header_row(table: SourceTable, reg: Register) -> int:
    """The Excel row number (1-based) of the header: the row naming the most fields."""
    index, score = _best_header(table.rows, reg)
    if score == 0:
        raise ImportRefused(
            f"在「{table.sheet}」的前 {HEADER_SCAN_ROWS} 行中找不到表头：没有一格是「{reg.label}」的列名"
            f"（例如 {'、'.join(f.label for f in reg.fields[:4])}）。请检查台账和工作表是否选对，或手动指定表头行，"
            f"或用映射指定列对应。看过的前几行：{_rows_seen(table)}"
        )
    return index + 1


def _rows_seen(table: SourceTable, count: int = 5) -> str:
    """The first non-blank rows as the reader saw them, so a clerk sees what was looked at."""
    shown = []
    for i, row in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        cells = [_shown(v)[:12] for v in row if v is not None and str(v).strip()]
        if cells:
            shown.append(f"第 {i + 1} 行：" + " | ".join(cells[:8]) + (" | …" if len(cells) > 8 else ""))
        if len(shown) == count:
            break
    return "；".join(shown) or "（都是空行）"


def header_texts(table: SourceTable, header_row: int, reg: Register | None = None) -> list[str]:
    """The text heading each column; a blank header cell takes the merged cell above it.

    Without merge information (CSV, .xls without it) a blank header cell takes the nearest
    non-blank cell above it, if that names a field of `reg` (a header merged down).
    """
    index = header_row - 1
    row = table.rows[index] if index < len(table.rows) else []
    texts = [None if v is None else str(v).strip() for v in row]
    texts += [None] * (table.width - len(texts))
    keys = header_keys(reg) if reg is not None else {}
    for c, text in enumerate(texts):
        if text:
            continue
        for r1, c1, r2, c2 in table.merged:
            top = table.rows[r1][c1] if r1 < len(table.rows) and c1 < len(table.rows[r1]) else None
            if r1 <= index <= r2 and c1 <= c <= c2 and top is not None:
                texts[c] = str(top).strip()
                break
        else:
            for above in range(index - 1, max(index - 4, -1), -1):
                v = table.rows[above][c] if c < len(table.rows[above]) else None
                if v is not None:
                    if _norm(v) in keys:
                        texts[c] = str(v).strip()
                    break
    return [t or "" for t in texts]


def map_columns(headers: list[str], reg: Register) -> dict[int, str]:
    """Column index -> field name (or 'id') for every header that names a field.

    When a field's label and one of its aliases both head a column (房号 and 房间号), the
    label wins and the other column is left out; two equal headers stay a problem to report.
    """
    keys = header_keys(reg)
    exact = {_norm(SYSTEM_LABELS["id"]), ID_COLUMN,
             *(k for f in reg.fields for k in (_norm(f.label), _norm(f.name)))}
    found = {c: keys[k] for c, h in enumerate(headers) if h and (k := _norm(h)) in keys}
    by_field: dict[str, list[int]] = {}
    for c, name in found.items():
        by_field.setdefault(name, []).append(c)
    for cols in by_field.values():
        labelled = [c for c in cols if _norm(headers[c]) in exact]
        if labelled and len(labelled) < len(cols):
            for c in cols:
                if c not in labelled:
                    del found[c]
    return found


def column_letter(index: int) -> str:
    """Excel's name of a 0-based column: 0 → A, 26 → AA."""
    return xl_col_to_name(index)


def importable_registers() -> dict[str, str]:
    """Register name -> '区域 / 台账' of every register a file may be imported into."""
    return {reg.name: f"{area} / {reg.label}" for area, regs in registers.by_area().items()
            for reg in regs if reg.name not in NOT_IMPORTABLE}


def field_choices(reg: Register) -> dict[str, str]:
    """Mapping targets for a select box: field name (or 'id', or '' = not imported) -> label."""
    return {NOT_IMPORTED: "（不导入）", ID_COLUMN: SYSTEM_LABELS["id"],
            **{f.name: f.label for f in reg.fields}}


# -- cells --------------------------------------------------------------------------------
class CellRefused(ValueError):
    """A cell whose value cannot be trusted (digits lost by Excel); the message is for the user."""


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_code(reg: Register, f: Field) -> bool:
    """A text field that identifies something (a pattern, a key, a label): dates there are wrong."""
    return bool(f.pattern) or f.name in reg.display or any(f.name in u for u in reg.unique)


def cell_reader(reg: Register, f: Field, csv_source: bool) -> Callable[[Any], Any]:
    """A function turning one raw cell of this field into what the save path converts.

    Explicit rules for what Excel does to data: numbers keep at most 15 digits (an ID
    number stored as a number has lost its last digits: refused, never guessed); codes
    typed as 3-2 may have become dates (refused for code fields); date columns may hold
    day numbers or yyyymmdd; fractions like 0.30000000000000004 are shown as 0.3.
    Text goes through a fast path: it is by far the most common cell.
    """
    if f.type == "text" and f.pattern == PERIOD_PATTERN:
        return _period_reader
    t = f.type
    text_rule = _text_rule(t, f.scale is not None)
    other = _value_rule(t, f.scale is not None, _is_code(reg, f))

    def read(v: Any) -> Any:
        if v.__class__ is str:
            s = v.strip()
            if not s:
                return None
            if csv_source and s[0] == "'" and s[1:2] in FORMULA_STARTS:
                s = s[1:]  # our CSV export protects formula-like text with a leading '
            return text_rule(s) if text_rule else s
        if v is None:
            return None
        return other(v)

    return read


PERIOD_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])$"
# A month as offices write it: 2014年10月(份), 2014-10, 2014/10/01, 201410, 20141001.
PERIOD_TEXTS = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月份?(?:\s*\d{1,2}\s*日)?"),
    re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*\d{1,2})?(?:[\sT]+\d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(\d{4})(\d{2})(?:\d{2})?"),
)


def _period_reader(v: Any) -> Any:
    """A 账期 cell: a month in any of the office's spellings, or a date cell, as 2014-10."""
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool) and SERIAL_DATES[0] <= v <= SERIAL_DATES[1]:
        v = EXCEL_EPOCH + timedelta(days=float(v))  # a date cell formatted as a number
    if isinstance(v, (date, datetime)):
        return f"{v.year:04d}-{v.month:02d}"
    s = _number_text(v).strip() if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v).strip()
    if not s:
        return None
    for pattern in PERIOD_TEXTS:
        m = pattern.fullmatch(s)
        if m and 1900 <= int(m[1]) <= 2099 and 1 <= int(m[2]) <= 12:
            return f"{m[1]}-{int(m[2]):02d}"
    return s


def _number_text(v: float) -> str:
    if isinstance(v, float):
        if v.is_integer():
            if abs(v) >= 10 ** MAX_EXACT_DIGITS:
                raise CellRefused(f"{v:.15g} 是超过 15 位的数字，Excel 已把末尾几位变成 0；"
                                  "请把该列设为文本格式后重新录入")
            return str(int(v))
        return format(v, ".15g")
    return str(v)


def _text_rule(t: str, decimal: bool) -> Callable[[str], Any] | None:
    """What a text cell (already stripped, not empty) becomes; None: the text itself."""
    if t in ("date", "timestamp"):
        def date_text(s: str) -> str:
            if t == "date" and (m := DATE_WITH_TIME.fullmatch(s)):
                return m[1]
            if DIGITS_DATE.fullmatch(s):
                return f"{s[:4]}-{s[4:6]}-{s[6:]}"
            return s
        return date_text
    if t in ("id_number", "phone"):
        def digits_text(s: str) -> str:
            if SCIENTIFIC.fullmatch(s):
                raise CellRefused(f"「{s}」是科学计数法，Excel 已丢失其中的数字；"
                                  "请把该列设为文本格式后重新录入")
            return s
        return digits_text
    if decimal:
        def number_text(s: str) -> Any:
            if t == "rate" and s.endswith("%"):
                try:
                    return Decimal(s[:-1].strip().replace(",", "")) / 100
                except InvalidOperation:
                    return s
            return s.removesuffix("元").strip()
        return number_text
    return None


def _value_rule(t: str, decimal: bool, code: bool) -> Callable[[Any], Any]:
    """What a typed cell (number, boolean, date, time) becomes."""
    textual = t in ("text", "enum", "phone")

    def value(v: Any) -> Any:
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            if t == "id_number":
                raise CellRefused("身份证号被 Excel 存成了数字，只保留了 15 位有效数字，末尾几位已丢失；"
                                  "请把该列设为文本格式后重新录入")
            if t in ("date", "timestamp"):
                s = _number_text(v)
                if DIGITS_DATE.fullmatch(s):
                    return f"{s[:4]}-{s[4:6]}-{s[6:]}"
                if SERIAL_DATES[0] <= v <= SERIAL_DATES[1]:
                    moment = EXCEL_EPOCH + timedelta(days=float(v))
                    return moment.date() if t == "date" else moment.replace(microsecond=0)
                return s
            if t == "boolean" and v in (0, 1):
                return bool(v)
            if decimal:
                return Decimal(format(v, ".15g")) if isinstance(v, float) else v
            if t in ("integer", "ref"):
                return int(v) if float(v).is_integer() else v
            return _number_text(v)
        if isinstance(v, (date, datetime)):
            if textual and code:
                raise CellRefused(f"被 Excel 识别成了日期（{_shown(v)}），原来的内容已无法确定；"
                                  "请把该列设为文本格式后重新录入")
            return v if t in ("date", "timestamp") else _shown(v)
        if isinstance(v, time):
            return v.strftime("%H:%M") if t != "timestamp" else v
        if isinstance(v, timedelta):
            return str(v)
        return v

    return value


# -- the plan -----------------------------------------------------------------------------
@dataclass
class ImportPlan:
    """What an import will do: the rows as change set, and what was found on the way."""

    register: Register
    table: SourceTable
    header_row: int
    headers: list[str]
    mapping: dict[int, str]  # column index -> field name or 'id'
    changes: list[RowChange] = field(default_factory=list)
    excel_rows: list[int] = field(default_factory=list)  # Excel row number of each change
    problems: list[Problem] = field(default_factory=list)  # found while reading the cells
    blocking: list[str] = field(default_factory=list)  # problems of the whole file
    notes: list[str] = field(default_factory=list)
    skipped_blank: int = 0
    held_back: set[int] = field(default_factory=set)  # rows refused for their 编号: not validated
    update_existing: bool = False
    community_id: int | None = None
    history: bool = False  # rows are records of the past: see app.saving.changes.SaveContext.history
    proposals: dict[int, str] = field(default_factory=dict)  # unmapped column -> a field it looks like
    derived: dict[int, str] = field(default_factory=dict)  # column made by a mapping -> how

    @property
    def row_count(self) -> int:
        return len(self.changes)

    @property
    def inserts(self) -> int:
        return sum(1 for c in self.changes if c.action == "insert")

    @property
    def updates(self) -> int:
        return sum(1 for c in self.changes if c.action == "update")

    @property
    def unmapped(self) -> list[str]:
        """Headers of columns left out, as 'C 列「xx」'."""
        return [f"{column_letter(c)} 列「{h}」" for c, h in enumerate(self.headers)
                if h and c not in self.mapping]

    def column_report(self) -> list[str]:
        """Each column of the file and the field it went to, or 忽略 (with a guess to confirm)."""
        reg, lines = self.register, []
        for c, h in enumerate(self.headers):
            if not h and c not in self.mapping:
                continue
            name = self.mapping.get(c)
            head = f"{column_letter(c)} 列「{h or '无表头'}」"
            if c in self.derived:
                head += f"（{self.derived[c]}）"
            if name:
                lines.append(f"{head} → {reg.label_of(name)}")
            elif c in self.proposals:
                lines.append(f"{head} → 忽略（像是「{reg.label_of(self.proposals[c])}」，确认后可在列对应或映射中指定）")
            else:
                lines.append(f"{head} → 忽略")
        return lines

    def column_of(self, label: str) -> int | None:
        """The column index of a field label (or 编号) in the file."""
        for c, name in self.mapping.items():
            if self.register.label_of(name) == label:
                return c
        return None

    def excel_row_of(self, where: str) -> int | None:
        m = re.search(r"第 (\d+) 行", where)
        return int(m[1]) if m and where.startswith(self.table.row_word) else None

    def mapping_table(self) -> pd.DataFrame:
        """Each column of the file, its header and the field it goes to."""
        choices = field_choices(self.register)
        return pd.DataFrame({
            "列": [column_letter(c) for c in range(len(self.headers))],
            "表头": self.headers,
            "导入到": [choices.get(self.mapping.get(c, NOT_IMPORTED), "") for c in range(len(self.headers))],
        })

    def preview(self, limit: int = 20) -> pd.DataFrame:
        """The first data rows as read, under the field labels they go to."""
        columns = sorted(self.mapping)
        labels = [self.register.label_of(self.mapping[c]) for c in columns]
        shown = []
        for n in self.excel_rows[:limit]:
            row = self.table.rows[n - 1]
            shown.append([n, *(_shown(row[c]) if c < len(row) and row[c] is not None else ""
                               for c in columns)])
        return pd.DataFrame(shown, columns=["行", *labels])


def update_changes(db: Database, plan: ImportPlan) -> list[tuple[int, int, list[tuple[str, str, str]]]]:
    """The update rows that really change something: (Excel row, 编号, [(field label, old, new)]).

    A cell is compared as the save path would store it (converted, references as ids); rows
    equal to what is stored are left out, so the preview shows only what the import changes.
    """
    reg = plan.register
    updates = [(n, c) for n, c in zip(plan.excel_rows, plan.changes) if c.action == "update"]
    if not updates:
        return []
    columns = sorted({k for _, c in updates for k in c.values if reg.has_field(k)})
    current = {row[0]: dict(zip(columns, row[1:])) for row in db.rows(
        "SELECT id, " + ", ".join(q(k) for k in columns) + " FROM " + q(reg.name)
        + " WHERE id IN (SELECT unnest(?))", [sorted({c.row_id for _, c in updates})])}
    out = []
    for n, c in updates:
        old_row = current.get(c.row_id, {})
        changed = []
        for k in columns:
            if k not in c.values:
                continue
            f, value = reg.field(k), c.values[k]
            try:
                new = convert(f, value) if not (f.type == "ref" and isinstance(value, str)
                                                and not value.strip().isdigit()) else value
            except CellError:
                new = value  # the check reports it
            if f.type == "ref" and isinstance(new, str):
                found = resolve_labels(db, registers.get(f.ref), [new.strip()]).get(new.strip(), [])
                new = found[0][0] if len(found) == 1 else new
            old = old_row.get(k)
            if new != old and not (isinstance(new, str) and str(old) == new):
                changed.append((f.label, _display(db, f, old), _display(db, f, new)))
        if changed:
            out.append((n, c.row_id, changed))
    return out


def _display(db: Database, f: Field, value: Any) -> str:
    if value is None:
        return "（空）"
    if f.type == "ref" and isinstance(value, int):
        target = registers.get(f.ref)
        label = db.scalar("SELECT " + label_sql(target, "t") + " FROM " + q(target.name) + " t WHERE t.id = ?", [value])
        return str(label if label is not None else value)
    return _shown(value)


def update_preview(db: Database, plan: ImportPlan, limit: int = 200) -> pd.DataFrame:
    """Rows of an update import that change, one line per changed cell: old → new."""
    lines = [[n, row_id, label, f"{old} → {new}"] for n, row_id, changed in update_changes(db, plan)[:limit]
             for label, old, new in changed]
    return pd.DataFrame(lines, columns=["行", "编号", "字段", "原值 → 新值"])


def plan_import(db: Database, actor: Actor, register: str, source: SourceTable | str | Path | bytes,
                *, file_name: str | None = None, sheet: str | None = None,
                header_row: int | None = None, mapping: dict[int, str] | None = None,
                community: int | str | None = None, update_existing: bool = False,
                history: bool = False, progress: Progress | None = None) -> ImportPlan:
    """Read the file and turn its rows into a change set; nothing is validated or written yet.

    `history`: the rows are records of the past (closed orders, voided receipts), kept in the
    states the file gives them — administrators only, new rows only.
    """
    reg = registers.get(register)
    require(actor, reg.name, "import", reg.label)
    if reg.name in NOT_IMPORTABLE:
        raise ImportRefused(NOT_IMPORTABLE[reg.name])
    if history:
        if actor.role != ADMIN:
            raise ImportRefused(f"{actor.user}（{actor.role}）无权按历史记录导入：只有管理员可以")
        if update_existing:
            raise ImportRefused("按历史记录导入只新增行，不能同时修改已有的行")
    report = progress or (lambda fraction, text: None)
    report(0.0, "正在读取文件…")
    with _bulk_work():
        plan = _plan(db, reg, source, file_name, sheet, header_row, mapping, community,
                     update_existing, report)
    plan.history = history
    return plan


def _plan(db: Database, reg: Register, source, file_name, sheet, header_row, mapping, community,
          update_existing: bool, report: Progress) -> ImportPlan:
    table = source if isinstance(source, SourceTable) else read_source(
        source, file_name, sheet, reg.name, read_limits(db))
    if not table.rows:
        raise ImportRefused(f"工作表「{table.sheet}」没有任何内容")
    if header_row is None:
        header_row = detect_header_row(table, reg)
    elif not 1 <= header_row <= len(table.rows):
        raise ImportRefused(f"表头行 {header_row} 超出范围：「{table.sheet}」共 {len(table.rows)} 行")
    headers = header_texts(table, header_row, reg)
    origin: dict[int, tuple[int, int]] = {}
    if mapping is None:
        size = repeated_group(headers)
        if size is not None and len(set(map_columns(headers, reg).values())) < len(map_columns(headers, reg)):
            blocks = -(-len([h for h in headers if h]) // len([h for h in headers[:size] if h]))
            table, origin = unpivot(table, header_row, size)
            headers = header_texts(table, header_row, reg)
            layout = (f"识别为并排的记录：表头「{'、'.join(h for h in headers if h)}」在一行中重复 {blocks} 组，"
                      "已把每组当作一行导入（问题按原来的行和第几组说明）")
        mapping = map_columns(headers, reg)
    mapping = {c: name for c, name in mapping.items() if name and c < len(headers)}
    plan = ImportPlan(reg, table, header_row, headers, mapping, update_existing=update_existing,
                      community_id=community_id_of(db, community) if community not in (None, "") else None)
    plan.proposals = propose_columns(headers, reg, mapping)
    _check_columns(plan)
    if plan.blocking:
        return plan
    if origin:
        plan.notes.append(layout)
    report(0.1, "正在整理数据行…")
    _build_changes(plan, report)
    for c, n in zip(plan.changes, plan.excel_rows):
        if n in origin:  # an unpivoted block is known by its row and block in the file
            c.where = f"{table.row_word} 第 {origin[n][0]} 行（第 {origin[n][1]} 组）"
    report(0.4, "正在对应关联数据（小区、房屋、人员…）…")
    _assign_ids(db, plan)
    _resolve_references(db, plan)
    _note_unlinked(plan)
    report(0.5, f"已读取 {plan.row_count:,} 行")
    return plan


def _note_unlinked(plan: ImportPlan) -> None:
    """Rows kept without the row they belong under (an owner list without rooms): say so, and how to link them."""
    reg = plan.register
    col = reg.community
    if col is None or col == "community_id" or reg.field(col).required:
        return
    unlinked = sum(1 for c in plan.changes if c.action == "insert" and c.values.get(col) in (None, ""))
    if unlinked:
        target = reg.label_of(col)
        plan.notes.append(f"{unlinked:,} 行没有「{target}」：导入后暂不属于任何{target}，"
                          f"可以之后在「{reg.label}」中补填「{target}」")


def community_id_of(db: Database, value: int | str) -> int:
    """A community given by its id or its name."""
    text = str(value).strip()
    if text.isdigit():
        found = db.scalar("SELECT id FROM communities WHERE id = ? AND deleted_at IS NULL", [int(text)])
    else:
        found = db.scalar("SELECT id FROM communities WHERE name = ? AND deleted_at IS NULL", [text])
    if found is None:
        raise ImportRefused(f"没有编号或名称为「{text}」的小区")
    return found


def _check_columns(plan: ImportPlan) -> None:
    reg = plan.register
    by_field: dict[str, list[int]] = {}
    for c, name in sorted(plan.mapping.items()):
        by_field.setdefault(name, []).append(c)
    for name, cols in by_field.items():
        if len(cols) > 1:
            where = "、".join(f"{column_letter(c)} 列" for c in cols)
            plan.blocking.append(f"多列都对应「{reg.label_of(name)}」（{where}）：请只保留其中一列")
    if not plan.mapping:
        plan.blocking.append(f"第 {plan.header_row} 行没有一列能对应到「{reg.label}」的字段，请检查表头行")
        return
    defaults = {"community_id"} if plan.community_id is not None and reg.has_field("community_id") else set()
    missing = [f.label for f in reg.fields if f.required and f.default is None
               and f.name not in by_field and f.name not in defaults]
    if missing and not plan.update_existing:
        plan.blocking.append("缺少必填的列：" + "、".join(f"「{m}」" for m in missing) + _missing_hint(plan, missing))
    if plan.update_existing and ID_COLUMN not in by_field:
        plan.blocking.append("要按编号更新已有的行，文件中须有「编号」列")


def _looks_like(f: Field, values: list[Any]) -> bool:
    """Whether a column's first cells could be this field's (numbers for a number, dates for a date)."""
    if not values:
        return False
    if f.scale is not None or f.type == "integer":
        return all(isinstance(v, (int, float, Decimal)) or re.fullmatch(r"[\d.,]+", str(v).strip()) for v in values)
    if f.type in ("date", "timestamp"):
        return all(isinstance(v, (date, datetime)) for v in values)
    return f.type in ("text", "enum", "ref")


def _missing_hint(plan: ImportPlan, missing: list[str]) -> str:
    """For each missing column: the file columns that could be it, and the mapping that fixes it."""
    reg, table = plan.register, plan.table
    free = [c for c, h in enumerate(plan.headers) if h and c not in plan.mapping]
    start = first_data_row(table, plan.header_row) - 1
    sample = {c: [r[c] for r in table.rows[start:start + 20] if c < len(r) and r[c] is not None] for c in free}
    hints = []
    for label in missing:
        f = next(f for f in reg.fields if f.label == label)
        keys = [k for k, name in header_keys(reg).items() if name == f.name]
        scored = sorted(((max(difflib.SequenceMatcher(None, _norm(plan.headers[c]), k).ratio() for k in keys), c)
                         for c in free), reverse=True)
        close = [c for ratio, c in scored if ratio >= 0.3 or plan.proposals.get(c) == f.name]
        close += [c for _, c in scored if c not in close and _looks_like(f, sample[c])]
        if not close:
            continue
        shown = "、".join(f"{column_letter(c)} 列「{plan.headers[c]}」" for c in close[:3])
        hints.append(f"「{label}」可能是 {shown}：在列对应中选定，或在映射的 [columns] 中写 "
                     f"\"{plan.headers[close[0]]}\" = \"{f.name}\"；文件没有这一列时可在映射的 [constants] 中给出")
    return "（" + "；".join(hints) + "）" if hints else "（文件中没有像是这些字段的列：可在映射的 [constants] 中给出）"


def _build_changes(plan: ImportPlan, report: Progress) -> None:
    reg, table = plan.register, plan.table
    rows, filled = table.rows, table.filled
    csv_source = table.kind == "csv"
    readers = [(c, name, cell_reader(reg, reg.field(name), csv_source) if name != ID_COLUMN else None)
               for c, name in sorted(plan.mapping.items())]
    default_community = (plan.community_id
                         if plan.community_id is not None and reg.has_field("community_id") else None)
    sample = _template_sample(reg)
    start = first_data_row(table, plan.header_row)
    total = max(len(rows) - start + 1, 1)
    prefix = f"{table.row_word} 第 "
    changes, excel_rows = plan.changes, plan.excel_rows
    for index in range(start - 1, len(rows)):
        row = rows[index]
        n = index + 1
        if (n - start) % 20000 == 0 and n > start:
            report(0.1 + 0.3 * (n - start) / total, f"正在整理第 {n:,} 行…")
        width = len(row)
        values: dict[str, Any] = {}
        refused: list[tuple[str, str]] = []
        real = False  # a cell of its own, not blank and not copied from a merged cell
        for c, name, reader in readers:
            v = row[c] if c < width else None
            if v is None:
                continue
            if not real and not (v.__class__ is str and not v.strip()) and (
                    not filled or (index, c) not in filled):
                real = True
            if reader is None:
                values[ID_COLUMN] = v
                continue
            try:
                value = reader(v)
            except CellRefused as err:
                refused.append((name, str(err)))
                continue
            if value is not None:  # blank: the field's default on insert (see _assign_ids)
                values[name] = value
        if not real:
            plan.skipped_blank += 1
            continue
        if sample is not None and n == plan.header_row + 1 and _is_sample(row, readers, sample):
            plan.notes.append(f"第 {n} 行与导入模板的示例行相同，已跳过")
            continue
        where = f"{prefix}{n} 行"
        for name, message in refused:
            plan.problems.append(Problem(where, reg.field(name).label, message))
        if default_community is not None and values.get("community_id") is None:
            values["community_id"] = default_community
        changes.append(RowChange("insert", values=values, where=where))
        excel_rows.append(n)


def _template_sample(reg: Register) -> dict[str, str] | None:
    return sample_texts(reg)


def _is_sample(row: list[Any], readers, sample: dict[str, str]) -> bool:
    shown = {name: _shown(row[c]) for c, name, _ in readers
             if c < len(row) and row[c] is not None and name in sample}
    return len(shown) >= 2 and all(sample[k] == v for k, v in shown.items())


def _assign_ids(db: Database, plan: ImportPlan) -> None:
    """Rows with a 编号: an update of that row (when chosen), else a new row keeping it."""
    reg = plan.register
    given: dict[int, int] = {}  # id -> index of its first row
    ids: list[int | None] = []
    for i, c in enumerate(plan.changes):
        raw = c.values.pop(ID_COLUMN, None)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            ids.append(None)
            continue
        try:
            number = Decimal(str(raw).strip())
            if number != number.to_integral_value() or number < 1:
                raise InvalidOperation
            row_id = int(number)
        except (InvalidOperation, ValueError):
            plan.problems.append(Problem(c.where, "编号", f"{raw!s:.20} 应为正整数（新增的行可留空）"))
            plan.held_back.add(i)
            ids.append(None)
            continue
        if row_id in given:
            plan.problems.append(Problem(c.where, "编号", f"编号 {row_id} 与第 "
                                         f"{plan.excel_rows[given[row_id]]} 行重复"))
            plan.held_back.add(i)
            ids.append(None)
            continue
        given[row_id] = i
        ids.append(row_id)
    if not given:
        return
    existing = dict(db.rows(
        "SELECT id, deleted_at IS NOT NULL FROM " + q(reg.name) + " WHERE id IN (SELECT unnest(?))",
        [sorted(given)],
    ))
    # An update sets every mapped column: a blank cell clears it; insert-only columns are left.
    updated = [name for name in plan.mapping.values()
               if name != ID_COLUMN and reg.field(name).editable]
    for i, (c, row_id) in enumerate(zip(plan.changes, ids)):
        if row_id is None:
            continue
        if row_id not in existing:
            c.values[ID_COLUMN] = row_id
        elif existing[row_id]:
            plan.problems.append(Problem(c.where, "编号", f"编号 {row_id} 的行已被删除，不能再用"))
            plan.held_back.add(i)
        elif plan.update_existing:
            c.action, c.row_id = "update", row_id
            c.values = {name: c.values.get(name) for name in updated}
        else:
            plan.held_back.add(i)
            plan.problems.append(Problem(
                c.where, "编号",
                f"编号 {row_id} 已存在；要用本文件修改已有的行，请选择「按编号更新已有行」",
            ))


def _resolve_references(db: Database, plan: ImportPlan) -> None:
    """Turn reference labels into ids where the save path alone could not decide.

    The community column goes first, so that a household '3-2-1201' or a building '3' is
    looked for in the row's own community; rows without one use the chosen default
    community. A label may also be prefixed with its community ('阳光花园/MJ-1/1号楼单元门禁').
    A number is tried as a label first (楼栋 3), then taken as an id. What stays ambiguous
    or unknown is left as text: the save path reports it in its own words.
    """
    reg = plan.register
    refs = [f for f in reg.refs() if f.name in plan.mapping.values() or
            (f.name == "community_id" and plan.community_id is not None)]
    refs.sort(key=lambda f: f.name != "community_id")
    community_field = ("community_id" if reg.has_field("community_id")
                       and reg.field("community_id").ref == "communities" else None)
    communities = {name: cid for cid, name in db.rows(
        "SELECT id, name FROM communities WHERE deleted_at IS NULL")}
    for f in refs:
        target = registers.get(f.ref)
        texts = set()
        for c in plan.changes:
            v = c.values.get(f.name)
            if isinstance(v, str):
                texts.add(v)
            elif isinstance(v, int) and not isinstance(v, bool):
                texts.add(str(v))
        if not texts:
            continue
        found = resolve_labels(db, target, sorted(texts))
        if target.name == reg.name:  # a row may name another row of the same file (返修原单)
            own = _own_labels(plan)
            found.update({t: [own[t]] for t in texts if not found.get(t) and t in own})
        prefixed = {}
        for text in texts:
            head, _, rest = text.partition("/")
            if not found.get(text) and rest and head in communities:
                prefixed[text] = (communities[head], rest)
        if prefixed:
            more = resolve_labels(db, target, sorted({rest for _, rest in prefixed.values()}))
            for text, (cid, rest) in prefixed.items():
                found[text] = [x for x in more.get(rest, []) if x[2] == cid]
        for c in plan.changes:
            v = c.values.get(f.name)
            if v is None or isinstance(v, bool):
                continue
            text = str(v)
            candidates = found.get(text, [])
            community = c.values.get(community_field) if community_field else None
            if not isinstance(community, int):
                community = plan.community_id
            if len(candidates) > 1 and community is not None:
                candidates = [x for x in candidates if x[2] == community] or candidates
            if len(candidates) > 1:
                exact = [x for x in candidates if x[1] == text]
                candidates = exact if len(exact) == 1 else candidates
            if len(candidates) == 1:
                c.values[f.name] = candidates[0][0]
            elif isinstance(v, int) or text.isdigit():
                c.values[f.name] = int(text)  # no row has it as a label: an id
        if target.name == "fee_items":
            _fee_items_by_plain_name(db, plan, f.name)


def _fee_items_by_plain_name(db: Database, plan: ImportPlan, column: str) -> None:
    """A fee item named as offices write it ("管理费"): the one of that name for the row's 小区
    (its household's, else the default) in force on the row's date (账期, else today).

    Only a single match is taken; otherwise the text stays, and the save path says it is unknown.
    """
    waiting = [c for c in plan.changes if isinstance(c.values.get(column), str)]
    if not waiting:
        return
    names = sorted({c.values[column].strip() for c in waiting})
    items = db.rows("SELECT id, name, community_id, effective_from, effective_to FROM fee_items "
                    "WHERE deleted_at IS NULL AND name IN (SELECT unnest(?))", [names])
    if not items:
        return
    homes = {c.values.get("household_id") for c in waiting if isinstance(c.values.get("household_id"), int)}
    community_of = dict(db.rows("SELECT id, community_id FROM households WHERE id IN (SELECT unnest(?))",
                                [sorted(homes)])) if homes else {}
    for c in waiting:
        name = c.values[column].strip()
        community = community_of.get(c.values.get("household_id"), plan.community_id)
        day = _row_day(c.values)
        found = [i for i in items if i[1] == name and (community is None or i[2] == community)
                 and i[3] <= day and (i[4] is None or i[4] >= day)]
        if len(found) == 1:
            c.values[column] = found[0][0]


def _row_day(values: dict[str, Any]) -> date:
    """The day a row is about: the first of its 账期, else today."""
    period = values.get("period")
    if isinstance(period, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        return date(int(period[:4]), int(period[5:]), 1)
    return date.today()


def _own_labels(plan: ImportPlan) -> dict[str, tuple[int, str, Any]]:
    """Labels of the file's own rows that carry their 编号, as resolve_labels gives them.

    Only for registers labelled by their own text columns (an order number); others are
    left to the database.
    """
    reg = plan.register
    if not reg.display or any(reg.field(col).type == "ref" for col in reg.display):
        return {}
    own = {}
    for c in plan.changes:
        parts = [c.values.get(col) for col in reg.display]
        row_id = c.values.get(ID_COLUMN, c.row_id)  # a new row keeps its 编号 in values until saved
        if isinstance(row_id, int) and all(v not in (None, "") for v in parts):
            label = LABEL_SEPARATOR.join(str(v) for v in parts)
            own[label] = (row_id, label, c.values.get(reg.community) if reg.community else None)
    return own


# -- checking and writing -------------------------------------------------------------------
@contextmanager
def _bulk_work():
    """Pause the cycle collector: bulk rows are many small containers without cycles, and
    collecting while they pile up only slows the loop down (about a fifth at 100k rows)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _DryRunDone(Exception):
    """Raised at the end of a dry run's transaction so that it rolls back."""


class _RolledBack:
    """The database, except that every transaction is rolled back at its end."""

    def __init__(self, db: Database):
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    @contextmanager
    def transaction(self):
        with self._db.transaction() as cur:
            yield cur
            raise _DryRunDone


@dataclass
class ImportResult:
    register: Register
    rows: int
    dry_run: bool
    saved: SaveResult | None = None
    skipped_blank: int = 0
    notes: list[str] = field(default_factory=list)
    report: str = ""  # sheet, header row, each column → field or 忽略 (plan_report)

    @property
    def summary(self) -> str:
        if self.dry_run:
            text = f"校验通过：{self.rows:,} 行可以导入「{self.register.label}」（试运行，未写入）"
        else:
            text = f"已导入「{self.register.label}」：{self.saved.summary if self.saved else '没有改动'}"
        if self.skipped_blank:
            text += f"；跳过空行 {self.skipped_blank:,} 行"
        return text


class ImportRejected(ValidationFailed):
    """Nothing was imported; `problems` lists every problem by row and column."""


def _sorted(plan: ImportPlan, problems: Iterable[Problem]) -> list[Problem]:
    order = {f.label: i for i, f in enumerate(plan.register.fields)}

    def key(p: Problem) -> tuple:
        row = plan.excel_row_of(p.row)
        col = plan.column_of(p.column) if p.column else None
        return (row is not None, row or 0, col if col is not None else order.get(p.column, -1))

    seen, out = set(), []
    for p in sorted(problems, key=key):
        if (p.row, p.column, p.message) not in seen:
            seen.add((p.row, p.column, p.message))
            out.append(p)
    return out


SUMMARY_FROM = 5  # this many problems in one column get a line saying what fixes them all


def _column_summaries(plan: ImportPlan, problems: list[Problem]) -> list[Problem]:
    """One line per column with many problems: how many rows, an example, and the fix."""
    reg = plan.register
    by_column: dict[str, list[Problem]] = {}
    for p in problems:
        if p.column and plan.excel_row_of(p.row) is not None:
            by_column.setdefault(p.column, []).append(p)
    lines = []
    for label, found in by_column.items():
        if len(found) < SUMMARY_FROM:
            continue
        f = next((f for f in reg.fields if f.label == label), None)
        first = found[0]
        kinds = {re.sub(r"「.*?」", "「…」", p.message) for p in found}
        if f is not None and all("位小数" in k for k in kinds):
            fix = f"可在映射中选择四舍五入：[rounding] {f.name} = {f.scale}"
        elif f is not None and f.type == "enum":
            fix = f"可在映射中把文件的写法对应到可选值：[values.{f.name}] \"文件中的写法\" = \"{f.values[0]}\""
        elif f is not None and f.type == "ref":
            fix = (f"请核对名称；写法不同时可在映射中对应：[values.{f.name}] \"文件中的写法\" = \"系统中的名称\"")
        else:
            fix = "请检查这一列是否对应对了字段，或修改文件后重新导入"
        lines.append(Problem(plan.table.file_name, label,
                             f"{len(found):,} 行有问题（如 {first.row}：{first.message}）；{fix}"))
    return lines


def _fee_item_hints(db: Database, plan: ImportPlan, problems: list[Problem]) -> list[Problem]:
    """A fee item not found: say which names the 收费标准 has, so the office sees what is expected."""
    if not plan.register.has_field("fee_item_id"):
        return problems
    label = plan.register.field("fee_item_id").label
    if not any(p.column == label and p.message.startswith("找不到") for p in problems):
        return problems
    names = [n for (n,) in db.rows("SELECT DISTINCT name FROM fee_items WHERE deleted_at IS NULL ORDER BY name")]
    expected = "、".join(f"「{n}」" for n in names[:12]) or "（收费标准中还没有收费项目）"
    tail = (f"；收费标准中的收费项目有：{expected}，可写名称（同一小区、同一日期只有一项时）"
            f"或在映射中对应：[values.fee_item_id] \"文件中的写法\" = \"收费标准中的名称\"")
    return [replace(p, message=p.message + tail) if p.column == label and p.message.startswith("找不到") else p
            for p in problems]


def _rejected(db: Database, plan: ImportPlan, problems: list[Problem]) -> ImportRejected:
    found = _fee_item_hints(db, plan, _sorted(plan, problems))
    return ImportRejected([*_column_summaries(plan, found), *found])


def run_import(db: Database, actor: Actor, plan: ImportPlan, dry_run: bool = False,
               progress: Progress | None = None) -> ImportResult:
    """Validate every row through the save path, then write all rows in one transaction.

    Raises ImportRejected with every problem (by Excel row and column label) when any row
    is wrong; then nothing is written. A dry run validates the same way and writes nothing.
    """
    report = progress or (lambda fraction, text: None)
    reg = plan.register
    if plan.blocking:
        raise ImportRejected([Problem(plan.table.file_name, "", text) for text in plan.blocking])
    if not plan.changes:
        raise ImportRejected([Problem(plan.table.file_name, "", "文件中没有可导入的数据行")])
    verb = "校验" if dry_run else "校验并写入"
    report(0.5, f"正在{verb} {plan.row_count:,} 行…")
    target = _RolledBack(db) if dry_run or plan.problems else db
    if target is db:
        before_change(db, "import", f"导入前：{reg.label} {plan.table.file_name}，{plan.row_count:,} 行")
    try:
        saved = save_plan(db, target, actor, plan)
    except _DryRunDone:
        if plan.problems:
            raise _rejected(db, plan, plan.problems) from None
        saved = None
    report(1.0, "完成")
    return ImportResult(reg, plan.row_count, dry_run or saved is None, saved, plan.skipped_blank,
                        list(plan.notes), plan_report(plan))


def save_plan(db: Database, target: Database, actor: Actor, plan: ImportPlan) -> SaveResult | None:
    """A plan's rows through the save path on `target` (the database, or a view of it whose
    transaction is rolled back or joins an outer one); ImportRejected with every problem."""
    if plan.blocking:
        raise ImportRejected([Problem(plan.table.file_name, "", text) for text in plan.blocking])
    if not plan.changes:
        raise ImportRejected([Problem(plan.table.file_name, "", "文件中没有可导入的数据行")])
    # apply_changes sets ids on the changes it writes: give it copies, so a plan can run again
    held = plan.held_back
    changes = [RowChange(c.action, c.row_id, c.values, c.version, c.where)  # replace() costs 3× as much
               for i, c in enumerate(plan.changes) if i not in held]
    saved = None
    try:
        if changes:
            with _bulk_work():
                saved = apply_changes(target, actor.via(IMPORT_SOURCE), plan.register.name, changes,
                                      history=plan.history)
    except SaveRejected as err:
        # a refused cell was left out of the change set: the save path's "必填" there is noise
        refused = {(p.row, p.column) for p in plan.problems}
        found = [p for p in err.problems if (p.row, p.column) not in refused]
        raise _rejected(db, plan, [*plan.problems, *found]) from None
    if plan.problems:
        raise _rejected(db, plan, plan.problems)
    return saved


def check_import(db: Database, actor: Actor, plan: ImportPlan,
                 progress: Progress | None = None) -> list[Problem]:
    """Every problem of the import (empty when it may be imported); writes nothing."""
    try:
        run_import(db, actor, plan, dry_run=True, progress=progress)
    except ImportRejected as err:
        return err.problems
    return []


def import_file(db: Database, actor: Actor, register: str, source: str | Path | bytes, *,
                file_name: str | None = None, sheet: str | None = None,
                header_row: int | None = None, community: int | str | None = None,
                update_existing: bool = False, history: bool = False, dry_run: bool = False,
                progress: Progress | None = None) -> ImportResult:
    """Read, map, validate and (unless a dry run) write a file, all or nothing."""
    plan = plan_import(db, actor, register, source, file_name=file_name, sheet=sheet,
                       header_row=header_row, community=community,
                       update_existing=update_existing, history=history, progress=progress)
    return run_import(db, actor, plan, dry_run=dry_run, progress=progress)


def plan_summary(plan: ImportPlan) -> str:
    """What the plan found, in one paragraph for the page."""
    parts = [f"工作表「{plan.table.sheet}」，表头在第 {plan.header_row} 行；数据 {plan.row_count:,} 行"]
    if plan.updates:
        parts[-1] += f"（新增 {plan.inserts:,} 行，按编号修改 {plan.updates:,} 行）"
    if plan.skipped_blank:
        parts.append(f"跳过空行 {plan.skipped_blank:,} 行")
    if plan.unmapped:
        parts.append("未导入的列：" + "、".join(plan.unmapped))
    return "；".join([*parts, *plan.notes, *plan.blocking]) + "。"


def plan_report(plan: ImportPlan) -> str:
    """The import report: sheet and header row chosen, then each file column → field or 忽略."""
    return "\n".join([f"工作表「{plan.table.sheet}」，表头在第 {plan.header_row} 行", *plan.column_report()])


def plan_signature(plan: ImportPlan, file_key: str) -> tuple:
    """Equal for two plans of the same file with the same choices (to reuse a check)."""
    return (file_key, plan.register.name, plan.table.sheet, plan.header_row,
            tuple(sorted(plan.mapping.items())), plan.update_existing, plan.community_id)


def community_choices(db: Database, actor: Actor) -> dict[int, str]:
    return options(db, registers.get("communities"), actor)


def error_file_name(file_name: str) -> str:
    return f"{Path(file_name).stem}_错误标注.xlsx"


def problems_table(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame({"行": [p.row for p in problems], "列": [p.column for p in problems],
                         "问题": [p.message for p in problems]})


# -- the error workbook ---------------------------------------------------------------------
ERROR_HEADER = "错误说明"


def error_workbook(plan: ImportPlan, problems: list[Problem]) -> bytes:
    """The sheet as read, every cell in place, with an error column and the bad cells marked.

    A second sheet lists every problem. The clerk fixes the marked cells and imports again.
    """
    by_row: dict[int, list[Problem]] = {}
    general: list[Problem] = []
    for p in problems:
        n = plan.excel_row_of(p.row)
        (by_row.setdefault(n, []) if n is not None else general).append(p)
    bad = {(n, plan.column_of(p.column)) for n, ps in by_row.items() for p in ps}
    out = io.BytesIO()
    wb = new_workbook(out, in_memory=True)
    ws = wb.add_worksheet(re.sub(r"[\[\]:*?/\\]", "_", plan.table.sheet)[:31] or "Sheet1")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    moment_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    red = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
    bad_fmt = wb.add_format(red)
    bad_date_fmt = wb.add_format({**red, "num_format": "yyyy-mm-dd"})
    bad_moment_fmt = wb.add_format({**red, "num_format": "yyyy-mm-dd hh:mm"})
    header_fmt = wb.add_format({"bold": True, "font_color": "#9C0006"})
    note_fmt = wb.add_format({"font_color": "#9C0006", "text_wrap": False})
    inside_merge = {(r, c) for r1, c1, r2, c2 in plan.table.merged if (r1, c1) != (r2, c2)
                    for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    for r, row in enumerate(plan.table.rows):
        for c, v in enumerate(row):
            if v is None or (r, c) in inside_merge:
                continue
            marked = (r + 1, c) in bad
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v, bad_moment_fmt if marked else moment_fmt)
            elif isinstance(v, date):
                ws.write_datetime(r, c, datetime(v.year, v.month, v.day),
                                  bad_date_fmt if marked else date_fmt)
            elif isinstance(v, bool):
                ws.write_boolean(r, c, v, bad_fmt if marked else None)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v, bad_fmt if marked else None)
            else:
                ws.write_string(r, c, str(v), bad_fmt if marked else None)
    for r1, c1, r2, c2 in plan.table.merged:
        if (r1, c1) != (r2, c2):
            v = plan.table.rows[r1][c1] if c1 < len(plan.table.rows[r1]) else None
            ws.merge_range(r1, c1, r2, c2, "" if v is None else _shown(v))
    error_col = plan.table.width
    ws.write_string(plan.header_row - 1, error_col, ERROR_HEADER, header_fmt)
    longest = display_width(ERROR_HEADER)
    for n, ps in by_row.items():
        text = "；".join(f"「{p.column}」{p.message}" if p.column else p.message for p in ps)
        ws.write_string(n - 1, error_col, text, note_fmt)
        longest = max(longest, display_width(text))
    ws.set_column(error_col, error_col, min(longest + 2, 80))
    ws.freeze_panes(plan.header_row, 0)
    listing = wb.add_worksheet("错误清单")
    listing.write_row(0, 0, ["行", "列", "问题"], header_fmt)
    for i, p in enumerate([*general, *(p for n in sorted(by_row) for p in by_row[n])], start=1):
        listing.write_row(i, 0, [p.row, p.column, p.message])
    listing.set_column(0, 1, 16)
    listing.set_column(2, 2, 80)
    wb.close()
    return out.getvalue()
