"""Export of registers and rule views to Excel (.xlsx) or CSV, streamed and audited.

Rows come from a DuckDB cursor in batches (`fetchmany`) and go straight into xlsxwriter in
`constant_memory` mode, so a 200k-row register exports in bounded memory. The workbook is
opened by the one writer (app/exchange/workbook.py) and every cell is written with an explicit type:
text is always `write_string` (leading zeros survive and `=1+1` stays text), numbers are
numbers with a format, dates are Excel dates.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from xlsxwriter.utility import xl_col_to_name

from app import registers
from app.access.permissions import Actor, mask_sql, mask_value, require, sees_personal_data
from app.exchange.workbook import Book, new_workbook
from app.reading import views
from app.reading.formats import percent
from app.reading.queries import PageRequest, label_sql, labels_for, order_clause, where_clause
from app.registers.expressions import columns_of, select_sql
from app.registers.model import SYSTEM_LABELS, TEXT_TYPES, Register
from app.storage.audit_log import write_audit
from app.storage.db import Database, q, sql_literal

BATCH_ROWS = 5000
SAMPLE_ROWS = 1000  # rows looked at to size columns
MIN_WIDTH, MAX_WIDTH = 6, 50
EXPORT_ACTION = "导出"

# Cell number formats by column kind; kinds without one are written as General.
NUMBER_FORMATS = {
    "integer": "0",
    "money": "#,##0.00",
    "area": "#,##0.00",
    "price": "#,##0.00##",
    "rate": "0.0%",
    "date": "yyyy-mm-dd",
    "timestamp": "yyyy-mm-dd hh:mm",
}
STRING_KINDS = TEXT_TYPES | {"ref"}
NUMBER_KINDS = {"integer", "money", "area", "price", "quantity", "rate", "number", "decimal"}
# A text beginning with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class UnknownExport(KeyError):
    """No register or view of that name; str() is the plain Chinese message."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class RegisterRows:
    """A register's exported rows: `SELECT select FROM source ORDER BY …` (source: `tbl t WHERE …`).

    Kept in parts so the writer can count and sample without sorting, and on a DuckDB file
    sort only row numbers, then render the rows a chunk at a time (memory stays bounded).
    """

    select: str
    select_params: list
    source: str
    source_params: list
    order: str
    chunked: bool = True

    @property
    def query(self) -> tuple[str, list]:
        return ("SELECT " + self.select + " FROM " + self.source + self.order,
                [*self.select_params, *self.source_params])


@dataclass(frozen=True)
class ExportColumn:
    name: str
    label: str
    kind: str  # a register field type, or number / decimal / any for view columns
    mask: str | None = None  # mask_value kind, when the actor may not see this column
    number_format: str | None = None


# -- public API ---------------------------------------------------------------------------
def export_register(db: Database, actor: Actor, register_name: str, out: str | Path | IO[bytes],
                    request: PageRequest | None = None) -> int:
    """Every row of the register under the request's filter and sort (all pages); rows written."""
    return _export_register(db, actor, register_name, out, request or PageRequest(), _target_name(out))


def register_xlsx_bytes(db: Database, actor: Actor, register_name: str,
                        request: PageRequest | None = None) -> bytes:
    """The register as an .xlsx file in memory, for a download button."""
    reg = registers.get(register_name)
    buffer = io.BytesIO()
    _export_register(db, actor, register_name, buffer, request or PageRequest(), f"{reg.label}.xlsx")
    return buffer.getvalue()


def export_view(db: Database, actor: Actor, view_name: str, out: str | Path | IO[bytes]) -> int:
    """Every row of a rule view the actor may see, with the view's Chinese labels; rows written."""
    info = views.view_info(view_name)
    require(actor, view_name, "export", info.title)
    sql, params = views.view_query(db, actor, view_name)
    personal = {} if sees_personal_data(actor) else views.personal_columns()
    with _reading_cursor(db) as cur:
        cur.execute("SELECT * FROM (" + sql + ") s LIMIT 0", params)
        columns = [
            _view_column(name, str(type_), info.label_of(name), personal.get(name))
            for name, type_, *_ in cur.description
        ]
        count = _write(out, info.title, columns, cur, (sql, params))
    _audit(db, actor, view_name, count, _target_name(out), "")
    return count


def export_named(db: Database, actor: Actor, name: str, out: str | Path | IO[bytes]) -> int:
    """Export a register or a rule view by its name."""
    if name in registers.catalog():
        return export_register(db, actor, name, out)
    if views.is_view(name):
        return export_view(db, actor, name, out)
    raise UnknownExport(f"没有名为 {name} 的台账或视图")


# -- registers ----------------------------------------------------------------------------
def _export_register(db: Database, actor: Actor, name: str, out, request: PageRequest,
                     target_name: str) -> int:
    reg = registers.get(name)
    require(actor, reg.name, "export", reg.label)
    columns, select = register_columns(reg, actor, request.include_deleted)
    columns, select, calc_params = _with_view_columns(reg, request, columns, select)
    where, params = where_clause(reg, request, actor)
    source = RegisterRows(", ".join(select), calc_params, q(reg.name) + " t" + where, params,
                          order_clause(reg, request), chunked=not db.is_postgres)
    with _reading_cursor(db) as cur:
        count = _write(out, reg.label, columns, cur, source)
    _audit(db, actor, reg.name, count, target_name, describe_request(db, reg, request))
    return count


def register_columns(reg: Register, actor: Actor, include_deleted: bool = False
                     ) -> tuple[list[ExportColumn], list[str]]:
    """The exported columns (id first, then the fields) and their SELECT expressions."""
    hide = not sees_personal_data(actor)
    columns = [ExportColumn("id", SYSTEM_LABELS["id"], "integer", number_format=NUMBER_FORMATS["integer"])]
    select = ["t.id"]
    for f in reg.fields:
        if f.type == "ref":
            ref = registers.get(f.ref)
            # A reference is exported as the label of the row it names (阳光花园/3-2-1201),
            # or its bare id when that row is gone, so nothing is lost on re-import.
            select.append(
                "coalesce((SELECT " + label_sql(ref, "x", 0) + " FROM " + q(ref.name)
                + " x WHERE x.id = t." + q(f.name) + "), CAST(t." + q(f.name) + " AS VARCHAR))"
            )
        else:
            select.append("t." + q(f.name))
        masked = f.is_personal and hide
        kind = "text" if masked else f.type
        columns.append(ExportColumn(f.name, f.label, kind, f.type if masked else None,
                                    NUMBER_FORMATS.get(kind)))
    if include_deleted:
        columns.append(ExportColumn("deleted_at", SYSTEM_LABELS["deleted_at"], "timestamp",
                                    number_format=NUMBER_FORMATS["timestamp"]))
        select.append("t.deleted_at")
    return columns, select


def _with_view_columns(reg: Register, request: PageRequest, columns: list[ExportColumn], select: list[str]
                       ) -> tuple[list[ExportColumn], list[str], list]:
    """Calculated columns added, and a saved view's columns and order kept (id stays first)."""
    calc = columns_of(reg)
    calc_sql, calc_params = select_sql(reg, "t")
    columns = [*columns, *(ExportColumn(c.name, c.label, c.field_type, None, NUMBER_FORMATS.get(c.field_type))
                           for c in calc)]
    select = [*select, *calc_sql]
    if not request.columns:
        return columns, select, calc_params
    by_name = {c.name: (c, s) for c, s in zip(columns, select)}
    by_name["updated_at"] = (ExportColumn("updated_at", SYSTEM_LABELS["updated_at"], "timestamp",
                                          number_format=NUMBER_FORMATS["timestamp"]), "t.updated_at")
    wanted = ["id", *(c for c in request.columns if c != "id" and c in by_name)]
    if request.sort in {c.name for c in calc} and request.sort not in wanted:
        wanted.append(request.sort)  # ordered by its output name: it must be selected
    if request.include_deleted:
        wanted.append("deleted_at")
    picked = [by_name[n] for n in wanted]
    # parameters of the calculated columns kept, in the order they now come
    return [c for c, _ in picked], [s for _, s in picked], _params_in_order(reg, wanted)


def _params_in_order(reg: Register, order: list[str]) -> list:
    params: list = []
    for name in order:
        if any(c.get("name") == name for c in reg.extra.get("calculated", [])):
            params += select_sql(reg, "t", only=[name])[1]
    return params


def describe_request(db: Database, reg: Register, request: PageRequest) -> str:
    """The filter of an export in words, for the audit note; empty when unfiltered."""
    parts = []
    if request.search.strip():
        parts.append(f"搜索「{request.search.strip()}」")
    for col, value in request.filters.items():
        if value is None or value == [] or value == "":
            continue
        f = reg.field(col)
        if isinstance(value, (list, tuple, set)) and f.type in ("enum", "ref", "boolean", "text"):
            shown = [_filter_value(db, f, v) for v in value]
            parts.append(f"{f.label}∈{{{'、'.join(shown)}}}")
        elif isinstance(value, tuple) or (isinstance(value, list) and len(value) == 2):
            lo, hi = value
            lo_text = "" if lo is None else _filter_value(db, f, lo)
            hi_text = "" if hi is None else _filter_value(db, f, hi)
            parts.append(f"{f.label} {lo_text}～{hi_text}")
        elif f.type in TEXT_TYPES:
            parts.append(f"{f.label}含「{value}」")
        else:
            parts.append(f"{f.label}={_filter_value(db, f, value)}")
    if request.include_deleted:
        parts.append("含已删除")
    return "; ".join(parts)


def _filter_value(db: Database, f, value: Any) -> str:
    if f.type == "ref":
        try:
            return labels_for(db, registers.get(f.ref), [int(value)]).get(int(value), str(value))
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


# -- views --------------------------------------------------------------------------------
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "UHUGEINT"}
_RATE_NAME = re.compile(r"(^|_)(rate|ratio)$")


def _view_column(name: str, sql_type: str, label: str, mask: str | None) -> ExportColumn:
    """How a view column is written, from its DuckDB type (and `_rate` names: fractions)."""
    t = sql_type.upper()
    kind, fmt = "any", None
    if mask or t == "VARCHAR":
        kind = "text"
    elif t == "BOOLEAN":
        kind = "boolean"
    elif t == "DATE":
        kind = "date"
    elif t.startswith("TIMESTAMP"):
        kind = "timestamp"
    elif t in _INTEGER_TYPES:
        kind = "integer"
    elif _RATE_NAME.search(name) and (t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL")):
        kind = "rate"
    elif m := _DECIMAL.fullmatch(t):
        scale = int(m[2])
        kind = "decimal"
        fmt = "#,##0" + ("." + "0" * scale if scale else "")
    elif t in ("DOUBLE", "FLOAT", "REAL"):
        kind = "number"
    return ExportColumn(name, label, kind, mask, fmt or NUMBER_FORMATS.get(kind))


# -- writing ------------------------------------------------------------------------------
@contextmanager
def _reading_cursor(db: Database) -> Iterator[Any]:
    """A cursor of its own, so streaming is not disturbed by other queries meanwhile."""
    cur = db.cursor().cursor()
    try:
        cur.execute("SET TimeZone = " + sql_literal(db.timezone))
        yield cur
    finally:
        cur.close()


def _target_name(out) -> str:
    if isinstance(out, (str, os.PathLike)):
        return Path(out).name
    return Path(str(getattr(out, "name", "") or "下载文件.xlsx")).name


def _write(out, sheet_title: str, columns: list[ExportColumn], cur,
           query: RegisterRows | tuple[str, list] | None = None) -> int:
    """Write rows to a path (suffix picks xlsx or csv) or a binary file object (xlsx).

    With a query (register rows, or SQL and parameters) an .xlsx has its rows rendered by the
    database (`_write_xlsx_query`); otherwise the rows are the executed cursor's.
    """
    if query is not None and (not isinstance(out, (str, os.PathLike))
                              or Path(out).suffix.lower() != ".csv"):
        write_xlsx = _write_xlsx_query
    else:
        write_xlsx = _write_xlsx
        if query is not None:
            cur.execute(*(query.query if isinstance(query, RegisterRows) else query))
    if not isinstance(out, (str, os.PathLike)):
        return write_xlsx(out, sheet_title, columns, cur, query)
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"只能导出为 .xlsx 或 .csv 文件：{path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a failed export leaves no half-written file.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        if suffix == ".csv":
            count = _write_csv(partial, columns, cur)
        else:
            count = write_xlsx(str(partial), sheet_title, columns, cur, query)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _batches(cur) -> Iterator[list[tuple]]:
    while batch := cur.fetchmany(BATCH_ROWS):
        yield batch


def _workbook(target) -> Book:
    # constant_memory: rows go to a temporary file as they come
    return new_workbook(target, constant_memory=True, remove_timezone=True)


def _lay_out(wb: Book, sheet_title: str, columns: Sequence[ExportColumn]):
    """The sheet with its styled, frozen header row; (sheet, number format of each column)."""
    ws = wb.add_worksheet(_sheet_name(sheet_title))
    header = wb.add_format({"bold": True, "bg_color": "#EDEDED", "bottom": 1, "valign": "vcenter"})
    formats = {c.number_format: wb.add_format({"num_format": c.number_format})
               for c in columns if c.number_format}
    for c, col in enumerate(columns):
        ws.write_string(0, c, col.label, header)
    ws.freeze_panes(1, 0)
    return ws, [formats.get(col.number_format) for col in columns]


def _finish(ws, columns: Sequence[ExportColumn], widths: list[int], last_row: int) -> None:
    for c, width in enumerate(widths):
        ws.set_column(c, c, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    ws.autofilter(0, 0, last_row, len(columns) - 1)


def _write_xlsx(target, sheet_title: str, columns: list[ExportColumn], cur, query=None) -> int:
    """Rows from the executed cursor, cell by cell (small results: query pages, reports)."""
    wb = _workbook(target)
    try:
        ws, formats = _lay_out(wb, sheet_title, columns)
        writers = [_xlsx_writer(ws, col, fmt) for col, fmt in zip(columns, formats)]
        widths = [display_width(col.label) for col in columns]
        row = 0
        sampled = 0
        for batch in _batches(cur):
            for values in batch:
                row += 1
                for c, value in enumerate(values):
                    if value is not None:
                        writers[c](row, c, value)
            if sampled < SAMPLE_ROWS:
                sample = batch[: SAMPLE_ROWS - sampled]
                sampled += len(sample)
                _widen(widths, columns, sample)
        _finish(ws, columns, widths, row)
    except BaseException:
        with suppress(Exception):
            wb.close()  # removes its temporary files; the first error is the one to report
        raise
    wb.close()
    return row


SHEET_XML = "xl/worksheets/sheet1.xml"
ROW_MARK = "\x01"  # stands for the row number in the rendered cells; control characters are dropped from text


def _write_xlsx_query(target, sheet_title: str, columns: list[ExportColumn], cur, query) -> int:
    """Rows rendered as sheet XML by DuckDB, column-wise, instead of cell by cell in Python.

    xlsxwriter lays the workbook out (styles, header, widths, frozen pane, autofilter) with
    one formatted placeholder row at the last row's number; the placeholder is then replaced
    by the rendered rows while the package is copied. 1,000,000 rows take seconds, not
    minutes, in bounded memory (batches of BATCH_ROWS).
    """
    if isinstance(query, RegisterRows):
        cur.execute("SELECT count(*) FROM " + query.source, query.source_params)
        total = cur.fetchone()[0]
        # the rows first, then their labels: label subqueries over the whole table cost memory
        cur.execute("SELECT " + query.select + " FROM (SELECT t.* FROM " + query.source + " LIMIT "
                    + str(SAMPLE_ROWS) + ") t", [*query.select_params, *query.source_params])
    else:
        sql, params = query
        cur.execute("SELECT count(*) FROM (" + sql + ") s", params)
        total = cur.fetchone()[0]
        cur.execute("SELECT * FROM (" + sql + ") s LIMIT " + str(SAMPLE_ROWS), params)
    widths = [display_width(col.label) for col in columns]
    _widen(widths, columns, cur.fetchall())
    layout = io.BytesIO()
    wb = _workbook(layout)
    ws, formats = _lay_out(wb, sheet_title, columns)
    for c, fmt in enumerate(formats):
        ws.write_blank(total, c, None, fmt or wb.add_format())  # gives each format its style id
    _finish(ws, columns, widths, total)
    wb.close()
    if not total:
        data = layout.getvalue()
        if isinstance(target, (str, os.PathLike)):
            Path(target).write_bytes(data)
        else:
            target.write(data)
        return 0
    rendered = _rendered_rows(cur, query, columns, formats)
    with zipfile.ZipFile(io.BytesIO(layout.getvalue())) as source, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for info in source.infolist():
            if info.filename != SHEET_XML:
                package.writestr(info, source.read(info))
                continue
            sheet = source.read(info).decode("utf-8")
            head, tail = sheet.index('<row r="' + str(total + 1) + '"'), sheet.index("</sheetData>")
            with package.open(SHEET_XML, "w", force_zip64=True) as fh:
                fh.write(sheet[:head].encode("utf-8"))
                count = 0
                for batch in rendered:
                    parts = []
                    for (row_cells,) in batch:
                        count += 1
                        n = str(count + 1)
                        parts.append('<row r="' + n + '">' + row_cells.replace(ROW_MARK, n) + "</row>")
                    fh.write("".join(parts).encode("utf-8"))
                fh.write(sheet[tail:].encode("utf-8"))
    return count


CHUNK_ROWS = 25_000  # rows rendered per query of a chunked register export (memory: ~290 MB at 1M rows)


def _rendered_rows(cur, query, columns: Sequence[ExportColumn], formats) -> Iterator[list[tuple]]:
    """Batches of rendered rows, in the export's order."""
    if not (isinstance(query, RegisterRows) and query.chunked):
        sql, params = query.query if isinstance(query, RegisterRows) else query
        cur.execute(_render_sql(columns, formats, sql), params)
        yield from _batches(cur)
        return
    # Only (id, position) is sorted; each chunk is then joined back and rendered.
    order = "export_order_" + uuid.uuid4().hex[:12]
    cur.execute("CREATE TEMP TABLE " + order + " AS SELECT t.id, row_number() OVER ("
                + query.order.strip() + ") AS n FROM " + query.source, query.source_params)
    try:
        total = cur.execute("SELECT count(*) FROM " + order).fetchone()[0]
        source_table = query.source.split(" t", 1)[0]  # q(register) of the source fragment
        sql = ("SELECT " + query.select + " FROM " + order + " o JOIN " + source_table
               + " t ON t.id = o.id WHERE o.n > ? AND o.n <= ? ORDER BY o.n")
        for first in range(0, total, CHUNK_ROWS):
            cur.execute(_render_sql(columns, formats, sql), [*query.select_params, first, first + CHUNK_ROWS])
            yield from _batches(cur)
    finally:
        cur.execute("DROP TABLE IF EXISTS " + order)


def _render_sql(columns: Sequence[ExportColumn], formats, sql: str) -> str:
    """One VARCHAR per row: its cells as sheet XML, row numbers left as ROW_MARK."""
    names = ["c" + str(c) for c in range(len(columns))]
    cells = [_cell_sql(col, xl_col_to_name(c), fmt.xf_index if fmt else 0, names[c])
             for c, (col, fmt) in enumerate(zip(columns, formats))]
    # Columns are taken by position: a view's columns may repeat a name.
    return "SELECT concat(" + ", ".join(cells) + ") FROM (" + sql + ") s(" + ", ".join(names) + ")"


# Characters XML 1.0 does not allow (tab, line feed and carriage return it does): dropped.
_NOT_XML = "".join(chr(c) for c in [*range(1, 9), 11, 12, *range(14, 32)])


def _xml_text(expr: str) -> str:
    # A raw carriage return would be read back as a line feed (XML end-of-line handling): &#13; keeps it.
    return ("replace(replace(replace(replace(translate(" + expr + ", '" + _NOT_XML + "', ''), "
            "'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(13), '&#13;')")


def _cell_sql(col: ExportColumn, letter: str, style: int, v: str) -> str:
    """The cell of one column as an SQL expression: NULL (no cell) when the value is NULL."""
    at = "'<c r=\"" + letter + "' || chr(1) || '\""
    styled = at + (" s=\"" + str(style) + "\"" if style else "") + "><v>' || "
    inline = at + " t=\"inlineStr\"><is><t xml:space=\"preserve\">' || "
    end_inline, end_value = " || '</t></is></c>'", " || '</v></c>'"
    kind = col.kind
    if col.mask:
        return inline + _xml_text(mask_sql(col.mask, v)) + end_inline
    if kind == "boolean":
        return "CASE WHEN " + v + " THEN " + inline + "'是'" + end_inline + " WHEN NOT " + v + " THEN " \
            + inline + "'否'" + end_inline + " END"
    if kind == "date":
        return styled + "CAST(" + v + " - DATE '1899-12-30' AS VARCHAR)" + end_value
    if kind == "timestamp":
        return styled + "CAST(epoch(CAST(" + v + " AS TIMESTAMP)) / 86400 + 25569 AS VARCHAR)" + end_value
    if kind in NUMBER_KINDS:
        return "CASE WHEN isfinite(CAST(" + v + " AS DOUBLE)) THEN " + styled + "CAST(" + v \
            + " AS VARCHAR)" + end_value + " END"
    return inline + _xml_text("CAST(" + v + " AS VARCHAR)") + end_inline


def _xlsx_writer(ws, col: ExportColumn, fmt) -> Callable[[int, int, Any], Any]:
    kind, mask = col.kind, col.mask

    if kind in STRING_KINDS:
        if mask:
            return lambda r, c, v: ws.write_string(r, c, mask_value(mask, str(v)) or "")
        return lambda r, c, v: ws.write_string(r, c, v if isinstance(v, str) else str(v))
    if kind == "boolean":
        return lambda r, c, v: ws.write_string(r, c, "是" if v else "否")
    if kind in ("date", "timestamp"):
        return lambda r, c, v: ws.write_datetime(r, c, v, fmt)
    if kind in NUMBER_KINDS:
        def number(r: int, c: int, v: Any) -> None:
            x = float(v)
            if math.isfinite(x):
                ws.write_number(r, c, x, fmt)
        return number
    return lambda r, c, v: _write_any(ws, r, c, v)


def _write_any(ws, r: int, c: int, v: Any) -> None:
    """A cell of a type the column did not announce (unusual view columns)."""
    if isinstance(v, bool):
        ws.write_string(r, c, "是" if v else "否")
    elif isinstance(v, (int, float, Decimal)):
        x = float(v)
        if math.isfinite(x):
            ws.write_number(r, c, x)
    else:
        ws.write_string(r, c, str(v))


def _write_csv(path: Path, columns: list[ExportColumn], cur) -> int:
    """UTF-8 with BOM (Excel reads the Chinese right); formula-like text quoted with '."""
    cells = [_csv_cell(col) for col in columns]
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([col.label for col in columns])
        for batch in _batches(cur):
            writer.writerows(
                ["" if v is None else cells[c](v) for c, v in enumerate(values)] for values in batch
            )
            count += len(batch)
    return count


def _csv_cell(col: ExportColumn) -> Callable[[Any], str]:
    kind, mask = col.kind, col.mask
    if kind in STRING_KINDS:
        if mask:
            return lambda v: defuse(mask_value(mask, str(v)) or "")
        return lambda v: defuse(str(v))
    return _csv_any


def _csv_any(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    return defuse(str(v))


def defuse(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading ' (CSV has no cell types)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# -- sizes and names ----------------------------------------------------------------------
def display_width(text: str) -> int:
    """Width in Latin characters: CJK and other wide characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(col: ExportColumn, v: Any) -> str:
    """Roughly the text Excel will show for a value, to size its column."""
    if col.mask:
        return mask_value(col.mask, str(v)) or ""
    if col.kind == "date":
        return "0000-00-00"
    if col.kind == "timestamp":
        return "0000-00-00 00:00"
    if isinstance(v, bool):
        return "是"
    if col.kind == "rate" and isinstance(v, (int, float, Decimal)):
        return percent(v)
    fmt = col.number_format or ""
    if fmt.startswith("#,##0") and isinstance(v, (int, float, Decimal)):
        decimals = len(fmt.partition(".")[2])
        return f"{float(v):,.{decimals}f}"
    return str(v)


def _widen(widths: list[int], columns: Sequence[ExportColumn], rows: Sequence[tuple]) -> None:
    for c, col in enumerate(columns):
        longest = max((display_width(_shown(col, r[c])) for r in rows if r[c] is not None), default=0)
        widths[c] = max(widths[c], longest)


def _sheet_name(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "Sheet1"


# -- audit --------------------------------------------------------------------------------
def _audit(db: Database, actor: Actor, name: str, count: int, target: str, filters: str) -> None:
    note = f"导出 {count} 行到 {target}"
    if filters:
        note += f" (筛选: {filters})"
    with db.transaction() as cur:
        write_audit(db, cur, actor, name, uuid.uuid4().hex, [(None, EXPORT_ACTION, None, None)],
                    note=note)
