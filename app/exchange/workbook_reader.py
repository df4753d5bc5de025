"""Reading an uploaded workbook so that no file can take the server down with it.

A workbook is untrusted input, and python-calamine sizes a sheet from its cells: a 1.7 KB
.xlsx with one cell at XFD1048576 asks for 549 GB when the sheet is opened, and the process
aborts (a native abort: no Python exception to catch). So every workbook is read here:

1. in a child process (this file run as a script: nothing of `app` imported, no site
   initialisation, so it starts in tens of milliseconds) with an address-space limit (RLIMIT_AS) and a time limit: whatever the file does to the reader
   costs that one child, and the caller gets `WorkbookUnreadable` ("文件无法读取：…");
2. an .xlsx sheet's XML is first scanned as a stream (last row and column actually used,
   number of cells) and a sheet over the row or cell cap is refused before calamine sees it.
   The declared <dimension> is not trusted either way: it can lie small, and a large one
   that the cells do not fill costs calamine nothing (measured with 0.9.1), so it is ignored;
3. rows are then taken one at a time (iter_rows) and counted against the same caps, which
   also covers the formats that cannot be scanned (.xls, .xlsb, .ods).

The child returns every row from row 1 (cells as Python values, None = blank), the merged
ranges and the sheet names: what the importer read with calamine in-process before.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import pickle
import re
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from posixpath import join, normpath

DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_CELLS = 5_000_000
CHILD_MEMORY_BYTES = 2 * 1024**3  # the child's address space: 5,000,000 cells fit with room to spare
CHILD_SECONDS = 300
MAX_ROWS_SETTING = "office.import_max_rows"
MAX_CELLS_SETTING = "office.import_max_cells"
HEADER_SCAN_ROWS = 30  # as the importer: the header is looked for among the first rows only
ALL_SHEETS = "*"  # never a sheet's name: Excel does not allow * in one
XML_PART_LIMIT = 16 * 1024**2  # workbook.xml and its rels are small; more is not a workbook


class WorkbookUnreadable(ValueError):
    """The workbook cannot be read within the limits; str() is the Chinese message."""


@dataclass(frozen=True)
class ReadLimits:
    max_rows: int = DEFAULT_MAX_ROWS
    max_cells: int = DEFAULT_MAX_CELLS


@dataclass
class WorkbookSheet:
    """One sheet as read: rows from row 1, merged ranges (r1, c1, r2, c2; 0-based), all sheet names."""

    sheet: str
    sheets: list[str]
    rows: list[list]
    merged: list[tuple[int, int, int, int]]


def read_limits(db) -> ReadLimits:
    """The caps from the settings (defaults when a setting is missing or not a positive number)."""
    from app.settings import value

    def setting(key: str, default: int) -> int:
        try:
            found = int(str(value(db, key) or "").replace(",", ""))
        except (ValueError, TypeError):
            return default
        except Exception:  # a bare database without the settings macros
            return default
        return found if found > 0 else default

    return ReadLimits(setting(MAX_ROWS_SETTING, DEFAULT_MAX_ROWS), setting(MAX_CELLS_SETTING, DEFAULT_MAX_CELLS))


def read_workbook(data: bytes, file_name: str, sheet: str | None = None,
                  header_keys: dict[str, str] | None = None, limits: ReadLimits | None = None,
                  memory_bytes: int = CHILD_MEMORY_BYTES, seconds: float = CHILD_SECONDS) -> WorkbookSheet:
    """Read one sheet of a workbook in a child process.

    Without `sheet`, the visible sheet whose first rows name most of `header_keys` (normalised
    header text -> field) is taken, else the first visible sheet.
    """
    limits = limits or ReadLimits()
    request = {"data": data, "file_name": file_name, "sheet": sheet, "keys": header_keys or {},
               "max_rows": limits.max_rows, "max_cells": limits.max_cells,
               "memory": memory_bytes, "seconds": int(seconds)}
    request["site"] = _calamine_site()
    # -I -S: no site initialisation (the editable installs' finders cost more than the read of
    # a small file), no PYTHON* variables, and not app/ on sys.path (its modules would shadow
    # the standard library's); the child finds calamine through request["site"]
    try:
        done = subprocess.run([sys.executable, "-I", "-S", __file__], input=pickle.dumps(request, protocol=5),
                              capture_output=True, timeout=seconds + 5, check=False)
    except subprocess.TimeoutExpired:
        raise WorkbookUnreadable(f"文件无法读取：读取 {file_name} 超过 {int(seconds)} 秒，已停止") from None
    if done.returncode != 0 or not done.stdout:
        raise WorkbookUnreadable(f"文件无法读取：{file_name} {_death(done.returncode)}。请在 Excel 中打开，"
                                 "只保留要导入的行和列后另存为 .xlsx 再导入")
    status, payload = _SafeUnpickler(done.stdout).load()
    if status == "refused":
        raise WorkbookUnreadable(payload)
    if sheet == ALL_SHEETS:
        return [WorkbookSheet(**one) for one in payload["all"]]
    return WorkbookSheet(**payload)


def read_workbook_sheets(data: bytes, file_name: str, limits: ReadLimits | None = None) -> list[WorkbookSheet]:
    """Every visible sheet of a workbook, read in one child process (a whole-workbook import)."""
    return read_workbook(data, file_name, ALL_SHEETS, None, limits)


@functools.cache
def _calamine_site() -> str:
    """The folder python-calamine is installed in (found without importing it)."""
    spec = importlib.util.find_spec("python_calamine")
    return os.path.dirname(next(iter(spec.submodule_search_locations)))


def _death(exitcode: int | None) -> str:
    if exitcode == -signal.SIGXCPU:
        return f"读取超过 {CHILD_SECONDS} 秒，已停止"
    if exitcode is not None and exitcode < 0:
        return "读取时所需内存超过上限（文件用到的区域过大，或文件已损坏）"
    return "读取时出错（文件可能已损坏）"


class _SafeUnpickler(pickle.Unpickler):
    """The child's answer holds plain values and dates only: nothing else may be loaded."""

    ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
               ("datetime", "timedelta"), ("datetime", "timezone")}

    def __init__(self, data: bytes):
        super().__init__(io.BytesIO(data))

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed")
        return super().find_class(module, name)


# -- in the child: the scan ---------------------------------------------------------------
_PREFIX = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")


class _Tags:
    """Patterns for one sheet's namespace prefix (usually none): each starts with a literal,
    which the regex engine finds fast; findall and bytes.count do the work in C."""

    def __init__(self, prefix: bytes):
        row, cell = b"<" + prefix + b"row", b"<" + prefix + b"c"
        self.rows = (row + b" ", row + b">", row + b"/")
        self.cells = (cell + b" ", cell + b">", cell + b"/", cell + b"\t", cell + b"\n", cell + b"\r")
        self.row_number = re.compile(re.escape(row) + rb"\s(?:[^>]*?\s)?r=\"(\d+)\"")
        self.cell_column = re.compile(re.escape(cell) + rb"\s(?:[^>]*?\s)?r=\"([A-Za-z]+)")
        self.cell_row = re.compile(re.escape(cell) + rb"\s(?:[^>]*?\s)?r=\"[A-Za-z]+(\d+)\"")
        self.end = b"</" + prefix + b"sheetData>"


@dataclass
class Extent:
    """What a sheet's XML declares and uses: rows and columns counted from A1."""

    rows: int = 0
    columns: int = 0
    cells: int = 0
    last_cell: str = ""
    complete: bool = False  # False: the scan stopped early, over a cap


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from xl/workbook.xml and its relationships."""
    from xml.etree import ElementTree

    def part(name: str):
        info = zf.getinfo(name)
        if info.file_size > XML_PART_LIMIT:
            raise ValueError(f"{name} is too large")
        return ElementTree.fromstring(zf.read(info))

    rels_name = "xl/_rels/workbook.xml.rels"
    targets = {}
    for rel in part(rels_name):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
        targets[rel.get("Id")] = target
    parts = {}
    for el in part("xl/workbook.xml").iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            if rid in targets and targets[rid] in zf.NameToInfo:
                parts[el.get("name", "")] = targets[rid]
    return parts


def scan_sheet(zf: zipfile.ZipFile, member: str, limits: ReadLimits) -> Extent:
    """Stream one sheet's XML; stop as soon as it is known to be over a cap."""
    ext = Extent()
    tags = None
    carry = b""
    last_col = ""
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(1 << 20)
            buf = carry + chunk
            cut = buf.rfind(b"<") if chunk else len(buf)  # every tag before the last '<' is whole
            if cut <= 0 and chunk:
                carry = buf
                continue
            part, carry = buf[:cut], buf[cut:]
            if tags is None:
                found = _PREFIX.search(part)
                tags = _Tags(found.group(1) + b":" if found and found.group(1) else b"")
            end = part.find(tags.end)
            if end >= 0:
                part = part[:end]
            ext.rows += sum(part.count(t) for t in tags.rows)  # rows without r="" count too
            ext.cells += sum(part.count(t) for t in tags.cells)
            numbers = set(tags.row_number.findall(part)) | set(tags.cell_row.findall(part))
            if numbers:
                top = max(map(int, numbers))
                if top > ext.rows:
                    ext.rows, ext.last_cell = top, ""
            columns = {c.decode().upper() for c in set(tags.cell_column.findall(part))}
            if columns:
                widest = max(columns, key=lambda c: (len(c), c))
                if (len(widest), widest) > (len(last_col), last_col):
                    last_col = widest
                    ext.columns = column_number(widest)
            if end >= 0 or not chunk:
                ext.complete = True
                break
            if ext.rows > limits.max_rows or ext.cells > limits.max_cells or ext.rows * ext.columns > limits.max_cells:
                break
    if ext.complete and last_col:
        ext.last_cell = f"{last_col}{ext.rows}"
    return ext


def _over(name: str, ext: Extent, limits: ReadLimits) -> str | None:
    """The refusal for a sheet over a cap, or None."""
    tail = "。请只保留要导入的行和列（删除多余的行列，或把数据分成几个文件）后再导入"
    if ext.rows > limits.max_rows:
        if not ext.complete:
            return f"工作表「{name}」超过导入上限 {limits.max_rows:,} 行" + tail
        where = f"（区域 A1:{ext.last_cell}）" if ext.last_cell else ""
        return (f"工作表「{name}」用到第 {ext.rows:,} 行{where}，超过导入上限 {limits.max_rows:,} 行" + tail)
    area = ext.rows * ext.columns
    if area > limits.max_cells or ext.cells > limits.max_cells:
        least = "" if ext.complete else "至少"
        return (f"工作表「{name}」的数据区域有{least} {ext.rows:,} 行 × {ext.columns:,} 列 = {max(area, ext.cells):,} "
                f"个单元格，超过导入上限 {limits.max_cells:,} 个单元格" + tail)
    return None


# -- in the child: the reading --------------------------------------------------------------
# Header normalisation, shared with the importer (this file runs alone in the child, so it
# lives here). Offices write notes into their headers: "建筑面积（必填）", "单价(元)",
# "建筑物名称（必填）\n请保持建筑物名称与系统已有名称一致", "*手机号码", "车类型（9901 家用小汽车…）".
_BRACKETED = re.compile(r"[(\[【〔{<《「][^()\[\]【】〔〕{}<>《》「」]*[)\]】〕}>》」]")
_MARKS = re.compile(r"必填项?|选填项?|可选|非必填|必输")
_UNIT_TAIL = re.compile(r"[/／](元|㎡|m2|m²|平方米|平米|天|个)$")
_DROPPED = re.compile(r"[\s*＊:：_·'\"“”]")


def norm_header(text) -> str:
    """A header cell as compared: width folded, first line only, no brackets with their contents,
    no 必填/选填/可选 marks, no *, spaces or trailing units, lower case."""
    import unicodedata

    s = unicodedata.normalize("NFKC", str(text))
    lines = [line for line in s.splitlines() if line.strip()]
    s = lines[0] if lines else ""
    bare = _BRACKETED.sub("", s)
    s = bare if _DROPPED.sub("", _MARKS.sub("", bare)) else s.strip("()[]【】")  # "(备注)" keeps its word
    s = _MARKS.sub("", s)
    s = _DROPPED.sub("", s).lower()
    return _UNIT_TAIL.sub("", s) or s


_norm = norm_header


def _score(rows: list[list], keys: dict[str, str]) -> int:
    best = 0
    for row in rows[:HEADER_SCAN_ROWS]:
        best = max(best, len({keys[k] for v in row if v not in (None, "") and (k := _norm(v)) in keys}))
    return best


class _Refused(Exception):
    pass


def _rows(ws, limits: ReadLimits, name: str, nrows: int | None = None) -> list[list]:
    """Every row from row 1 (A1 first): '' made None, trailing empty rows dropped; capped."""
    start_row, start_col = ws.start or (0, 0)
    width = (ws.width or 0) + start_col
    height = start_row + (ws.height or 0)
    if nrows is None:  # before any row is built: the formats the scan cannot see (.xls, .ods, .xlsb)
        problem = _over(name, Extent(height, width, height * width, complete=True), limits)
        if problem:
            raise _Refused(problem)
    rows: list[list] = [[] for _ in range(min(start_row, nrows if nrows is not None else start_row))]
    pad = [None] * start_col
    for row in ws.iter_rows():
        if nrows is not None and len(rows) >= nrows:
            break
        if len(rows) >= limits.max_rows:
            raise _Refused(f"工作表「{name}」超过导入上限 {limits.max_rows:,} 行。请把数据分成几个文件导入")
        rows.append(pad + [None if v == "" else v for v in row])
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def child_read(req: dict) -> dict:
    from python_calamine import (
        CalamineError,
        CalamineWorkbook,
        PasswordError,
        SheetTypeEnum,
        SheetVisibleEnum,
    )

    data, file_name, wanted, keys = req["data"], req["file_name"], req["sheet"], req["keys"]
    limits = ReadLimits(req["max_rows"], req["max_cells"])
    extents: dict[str, Extent] = {}
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "xl/workbook.xml" in zf.NameToInfo:
                    parts = _sheet_parts(zf)
                    names = [wanted] if wanted in parts else list(parts)
                    extents = {n: scan_sheet(zf, parts[n], limits) for n in names}
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError):
            pass  # calamine says what is wrong with it, below
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise _Refused(f"Excel 文件 {file_name} 设有密码，请先取消密码再导入") from None
    except (CalamineError, OSError, ValueError) as err:
        raise _Refused(f"无法读取 Excel 文件 {file_name}：{err}") from None
    with wb:
        all_names = list(wb.sheet_names)
        names = [m.name for m in wb.sheets_metadata
                 if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet] or all_names
        problems = {n: p for n in all_names if n in extents and (p := _over(n, extents[n], limits))}
        if wanted == ALL_SHEETS:  # over a cap anywhere: the workbook is refused as a whole
            for n in names:
                if n in problems:
                    raise _Refused(problems[n])
            return {"all": [_sheet(wb, n, all_names, limits) for n in names]}
        if wanted is not None:
            if wanted not in all_names:
                raise _Refused(f"工作簿中没有名为「{wanted}」的工作表（有：{'、'.join(all_names)}）")
            chosen = wanted
        elif keys and len(names) > 1:
            readable = [n for n in names if n not in problems] or names
            scores = {n: _score(_rows(wb.get_sheet_by_name(n), limits, n, HEADER_SCAN_ROWS), keys)
                      for n in readable if n not in problems}
            chosen = max(readable, key=lambda n: scores.get(n, -1))  # first of the best
        else:
            chosen = names[0]
        if chosen in problems:
            raise _Refused(problems[chosen])
        return _sheet(wb, chosen, all_names, limits)


def _sheet(wb, name: str, all_names: list[str], limits: ReadLimits) -> dict:
    from python_calamine import CalamineError

    try:
        ws = wb.get_sheet_by_name(name)
        rows = _rows(ws, limits, name)
        merged = [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in (ws.merged_cell_ranges or [])]
    except CalamineError as err:
        raise _Refused(f"无法读取工作表「{name}」：{err}") from None
    return {"sheet": name, "sheets": all_names, "rows": rows, "merged": merged}


def _child_main() -> None:
    """The child: the limits first, then the reading; the answer as one pickle on stdout."""
    import resource

    req = pickle.load(sys.stdin.buffer)
    resource.setrlimit(resource.RLIMIT_AS, (req["memory"], req["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (req["seconds"], req["seconds"]))
    sys.path.append(req["site"])
    try:
        answer = ("ok", child_read(req))
    except _Refused as err:
        answer = ("refused", str(err))
    except MemoryError:
        answer = ("refused", f"文件无法读取：{req['file_name']} 读取时所需内存超过上限")
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=5))
    sys.stdout.flush()


if __name__ == "__main__":
    _child_main()
