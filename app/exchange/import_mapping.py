"""Import mappings: how an office's own spreadsheet becomes a register's columns.

One mapping (a small TOML text) says, for one register:

    register = "households"
    [columns]            # file header -> field name or label; "" leaves the column out
    "房屋编号" = "code"
    [constants]          # fields the file lacks, the same for every row (also fills blank cells)
    community_id = "阳光花园"
    [values.usage]       # the office's words -> the register's values, per field
    "高层" = "住宅"
    [joins]              # a field made of several columns: {header} is that column's cell
    code = "{楼号}-{房间}"
    [[splits]]           # one column cut by a pattern; named groups become columns (or fields)
    column = "房屋"
    pattern = '^(?P<单元>\\d+)单元(?P<室>\\d+)室$'
    [rounding]           # decimals kept, rounded half up, where the office agrees
    area = 2

The CLI (`wuye import … --map FILE.toml|NAME`) and the wizard (pages/import.py) both go
through `plan_mapped`, and the wizard saves mappings by name in the settings register
(key `import.mapping.<name>`, through the save path, so they are audited). A saved mapping
remembers the headers it was made for, so the wizard offers it when they come back.

A mapping only rewrites the sheet as read (a copy, with the made columns appended at the
right); the importer then validates every row as usual.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from app import registers
from app.access.permissions import Actor
from app.exchange.importer import (
    ID_COLUMN,
    ImportPlan,
    ImportRefused,
    SourceTable,
    _shown,
    detect_header_row,
    first_data_row,
    header_texts,
    map_columns,
    plan_import,
    read_source,
)
from app.exchange.workbook_reader import norm_header, read_limits
from app.registers.model import Register
from app.saving.changes import Problem, RowChange, apply_changes
from app.storage.db import Database

SETTING_PREFIX = "import.mapping."
NAME_PATTERN = re.compile(r"[^\s.]{1,30}")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MAX_PATTERN = 200  # a split pattern is one short regular expression


@dataclass
class Split:
    column: str
    pattern: str


@dataclass
class Mapping:
    register: str
    name: str = ""
    sheet: str | None = None
    header_row: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    joins: dict[str, str] = field(default_factory=dict)
    splits: list[Split] = field(default_factory=list)
    rounding: dict[str, int] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)  # the file's headers when it was saved

    @property
    def is_empty(self) -> bool:
        return not (self.columns or self.constants or self.values or self.joins or self.splits or self.rounding)


class MappingInvalid(ImportRefused):
    """The mapping itself cannot be used; str() says why, in Chinese."""


# -- reading and writing the TOML text ---------------------------------------------------------
def parse_mapping(text: str, register: str | None = None, name: str = "") -> Mapping:
    """A mapping from its TOML text; every field it names is checked against the register."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise MappingInvalid(f"映射文件不是有效的 TOML：{err}") from None
    reg_name = data.get("register") or register
    if not reg_name:
        raise MappingInvalid("映射文件缺少 register（台账名，例如 register = \"households\"）")
    if register and reg_name != register:
        raise MappingInvalid(f"映射是为「{reg_name}」写的，不能用于「{register}」")
    try:
        reg = registers.get(reg_name)
    except KeyError:
        raise MappingInvalid(f"没有名为「{reg_name}」的台账") from None
    unknown = set(data) - {"register", "name", "sheet", "header_row", "columns", "constants", "values",
                           "joins", "splits", "rounding", "headers"}
    if unknown:
        raise MappingInvalid(f"映射中有不认识的项：{'、'.join(sorted(unknown))}")
    m = Mapping(reg_name, name or str(data.get("name", "")), data.get("sheet"), data.get("header_row"))
    m.columns = {str(h): (_field(reg, v, f"列「{h}」") if v else "") for h, v in _table(data, "columns").items()}
    m.constants = {_field(reg, k, "常量"): v for k, v in _table(data, "constants").items()}
    m.values = {_field(reg, k, "取值对照"): {str(a): str(b) for a, b in _table(_table(data, "values"), k).items()}
                for k in _table(data, "values")}
    m.joins = {_field(reg, k, "合并"): str(v) for k, v in _table(data, "joins").items()}
    for k, v in _table(data, "rounding").items():
        if not isinstance(v, int) or not 0 <= v <= 6:
            raise MappingInvalid(f"rounding 中「{k}」应为 0 到 6 的整数（保留的小数位数）")
        m.rounding[_field(reg, k, "四舍五入")] = v
    for s in data.get("splits", []):
        if not isinstance(s, dict) or not s.get("column") or not s.get("pattern"):
            raise MappingInvalid("每个 [[splits]] 需要 column（要拆分的列）和 pattern（带命名分组的正则表达式）")
        pattern = str(s["pattern"])
        if len(pattern) > MAX_PATTERN:
            raise MappingInvalid(f"拆分规则最多 {MAX_PATTERN} 个字符")
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            raise MappingInvalid(f"拆分规则「{pattern}」不是有效的正则表达式：{err}") from None
        if not compiled.groupindex:
            raise MappingInvalid(f"拆分规则「{pattern}」没有命名分组，例如 (?P<单元>\\d+)")
        m.splits.append(Split(str(s["column"]), pattern))
    m.headers = [str(h) for h in data.get("headers", [])]
    return m


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MappingInvalid(f"映射中的 {key} 应为一个表（[{key}]）")
    return value


def _field(reg: Register, text: Any, where: str) -> str:
    """A field named by its name or its label (编号 = the id column)."""
    text = str(text).strip()
    if text in ("id", "编号"):
        return ID_COLUMN
    for f in reg.fields:
        if text in (f.name, f.label) or norm_header(text) == norm_header(f.label):
            return f.name
    raise MappingInvalid(f"映射的{where}指向「{text}」，但「{reg.label}」没有这个字段")


def _quoted(text: Any) -> str:
    return json.dumps(str(text), ensure_ascii=False)  # a JSON string is a TOML basic string


def mapping_toml(m: Mapping) -> str:
    """The TOML text of a mapping (what `parse_mapping` reads back)."""
    lines = [f"register = {_quoted(m.register)}"]
    if m.name:
        lines.append(f"name = {_quoted(m.name)}")
    if m.sheet:
        lines.append(f"sheet = {_quoted(m.sheet)}")
    if m.header_row:
        lines.append(f"header_row = {int(m.header_row)}")
    if m.headers:
        lines.append("headers = [" + ", ".join(_quoted(h) for h in m.headers) + "]")
    for key, table in (("columns", m.columns), ("constants", m.constants), ("joins", m.joins),
                       ("rounding", m.rounding)):
        if table:
            lines += ["", f"[{key}]"]
            for k, v in table.items():
                value = str(int(v)) if key == "rounding" else _quoted(v)
                lines.append(f"{_quoted(k)} = {value}")
    for f, words in m.values.items():
        lines += ["", f"[values.{f}]", *(f"{_quoted(a)} = {_quoted(b)}" for a, b in words.items())]
    for s in m.splits:
        lines += ["", "[[splits]]", f"column = {_quoted(s.column)}", f"pattern = {_quoted(s.pattern)}"]
    return "\n".join(lines) + "\n"


def load_mapping(db: Database, name_or_path: str, register: str | None = None) -> Mapping:
    """A mapping from a TOML file, or else one saved by name in the database."""
    path = Path(name_or_path)
    if path.suffix.lower() == ".toml" or path.exists():
        try:
            return parse_mapping(path.read_text(encoding="utf-8"), register, path.stem)
        except FileNotFoundError:
            raise MappingInvalid(f"找不到映射文件 {name_or_path}") from None
    saved = saved_mappings(db, register)
    if name_or_path not in saved:
        names = "、".join(saved) or "没有"
        raise MappingInvalid(f"没有名为「{name_or_path}」的已保存映射（已保存的：{names}）")
    return saved[name_or_path]


# -- saved in the database ---------------------------------------------------------------------
def saved_mappings(db: Database, register: str | None = None) -> dict[str, Mapping]:
    """Name -> mapping, of every mapping saved in the settings (for one register if given)."""
    out = {}
    rows = db.rows("SELECT key, value FROM settings WHERE key LIKE ? AND community_id IS NULL "
                   "AND deleted_at IS NULL ORDER BY key", [SETTING_PREFIX + "%"])
    for key, text in rows:
        name = key[len(SETTING_PREFIX):]
        try:
            m = parse_mapping(text, None, name)
        except ImportRefused:
            continue  # a register renamed since: the mapping no longer applies
        if register is None or m.register == register:
            out[name] = m
    return out


def save_mapping(db: Database, actor: Actor, m: Mapping) -> None:
    """Save (or replace) a mapping by its name, through the save path."""
    if not m.name or not NAME_PATTERN.fullmatch(m.name):
        raise MappingInvalid("映射名称须为 1 到 30 个字，不能含空格或「.」")
    key = SETTING_PREFIX + m.name
    text = mapping_toml(m)
    parse_mapping(text)  # what is saved must read back
    found = db.rows("SELECT id, row_version FROM settings WHERE key = ? AND community_id IS NULL "
                    "AND deleted_at IS NULL", [key])
    values = {"value": text, "value_type": "文本",
              "description": f"导入映射：{registers.get(m.register).label}"}
    if found:
        change = RowChange("update", row_id=found[0][0], version=found[0][1], values=values)
    else:
        change = RowChange("insert", values={"key": key, **values})
    apply_changes(db, actor, "settings", [change])


def _header_set(headers: list[str]) -> frozenset[str]:
    return frozenset(k for h in headers if h and (k := norm_header(h)))


def matching_mappings(db: Database, register: str, headers: list[str]) -> list[str]:
    """Names of saved mappings made for a file with these same headers (compared normalised)."""
    want = _header_set(headers)
    return [name for name, m in saved_mappings(db, register).items()
            if m.headers and _header_set(m.headers) == want]


# -- applying a mapping to a sheet ---------------------------------------------------------------
@dataclass
class Mapped:
    table: SourceTable
    header_row: int
    mapping: dict[int, str]  # column index -> field
    derived: dict[int, str]  # made column -> how it was made
    problems: list[Problem]


def _find(headers: list[str], text: str, what: str) -> int:
    key = norm_header(text)
    for c, h in enumerate(headers):
        if h == text:
            return c
    for c, h in enumerate(headers):
        if h and norm_header(h) == key:
            return c
    shown = "、".join(f"「{h}」" for h in headers if h) or "没有列"
    raise MappingInvalid(f"映射的{what}「{text}」在文件中找不到（文件的列：{shown}）")


def header_row_for(table: SourceTable, reg: Register, m: Mapping) -> int:
    """The mapping's header row, else the row naming most fields or mapped columns."""
    if m.header_row:
        return m.header_row
    wanted = {norm_header(h) for h in [*m.columns, *(s.column for s in m.splits)]}
    wanted |= {norm_header(p) for t in m.joins.values() for p in PLACEHOLDER.findall(t)}
    best, score = None, 0
    for i, row in enumerate(table.rows[:30]):
        s = len({k for v in row if v is not None and (k := norm_header(v)) in wanted})
        if s > score:
            best, score = i + 1, s
    try:
        auto = detect_header_row(table, reg)
    except ImportRefused:
        if best is None:
            raise
        return best
    return best if best is not None and score > 0 and best != auto and _beats(table, reg, best, auto, wanted) else auto


def _beats(table: SourceTable, reg: Register, row: int, auto: int, wanted: set[str]) -> bool:
    def count(r: int) -> int:
        headers = header_texts(table, r, reg)
        return len(map_columns(headers, reg)) + sum(1 for h in headers if h and norm_header(h) in wanted)
    return count(row) > count(auto)


def apply_mapping(table: SourceTable, reg: Register, m: Mapping, header_row: int | None = None) -> Mapped:
    """A copy of the sheet with the mapping done: made columns appended, values translated."""
    header_row = header_row or header_row_for(table, reg, m)
    headers = header_texts(table, header_row, reg)
    mapping = map_columns(headers, reg)
    for text, name in m.columns.items():
        c = _find(headers, text, "列")
        mapping = {k: v for k, v in mapping.items() if k != c and (not name or v != name)}
        if name:
            mapping[c] = name
    width = max(table.width, len(headers))
    rows = [list(r) + [None] * (width - len(r)) for r in table.rows]
    filled = set(table.filled)
    start = first_data_row(table, header_row) - 1
    head = header_row - 1
    derived: dict[int, str] = {}
    problems: list[Problem] = []
    names = list(headers) + [""] * (width - len(headers))

    def add_column(title: str, how: str) -> int:
        for r in rows:
            r.append(None)
        c = len(names)
        names.append(title)
        rows[head][c] = title
        derived[c] = how
        return c

    def assign(c: int, name: str) -> None:
        for k in [k for k, v in mapping.items() if v == name]:
            del mapping[k]
        mapping[c] = name

    for s in m.splits:
        source = _find(names, s.column, "拆分列")
        pattern = re.compile(s.pattern)
        made = {g: add_column(g, f"由「{s.column}」拆分") for g in pattern.groupindex}
        for r in range(start, len(rows)):
            v = rows[r][source]
            if v is None or not _shown(v).strip():
                continue
            hit = pattern.search(_shown(v).strip())
            if hit is None:
                problems.append(Problem(table.where(r + 1), s.column,
                                        f"「{_shown(v)}」不符合映射中的拆分规则 {s.pattern}"))
                continue
            for g, c in made.items():
                rows[r][c] = hit.group(g)
        for g, c in made.items():
            try:
                assign(c, _field(reg, g, "拆分分组"))
            except MappingInvalid:
                pass  # a part used by a join only
    for name, template in m.joins.items():
        parts = [(p, _find(names, p, "合并列")) for p in PLACEHOLDER.findall(template)]
        c = add_column(f"{reg.label_of(name)}（合并）", f"由 {template} 合并")
        for r in range(start, len(rows)):
            cells = {p: rows[r][k] for p, k in parts}
            if all(v is None or not _shown(v).strip() for v in cells.values()):
                continue
            rows[r][c] = PLACEHOLDER.sub(lambda hit, cells=cells: _shown(cells[hit[1]]).strip()
                                         if cells[hit[1]] is not None else "", template)
        assign(c, name)
    for name, value in m.constants.items():
        have = [c for c, v in mapping.items() if v == name]
        if have:  # the file has the column: the constant fills its blank cells
            c = have[0]
        else:
            c = add_column(f"{reg.label_of(name)}（映射常量）", "映射中的常量")
            mapping[c] = name
        for r in range(start, len(rows)):
            if rows[r][c] is None:
                rows[r][c] = value
                filled.add((r, c))  # a constant alone does not make a row
    for name, words in m.values.items():
        folded = {str(a).strip(): b for a, b in words.items()}
        for c in [c for c, v in mapping.items() if v == name]:
            for r in range(start, len(rows)):
                v = rows[r][c]
                if v is not None and _shown(v).strip() in folded:
                    rows[r][c] = folded[_shown(v).strip()]
    for name, places in m.rounding.items():
        step = Decimal(1).scaleb(-places)
        for c in [c for c, v in mapping.items() if v == name]:
            for r in range(start, len(rows)):
                v = rows[r][c]
                if v is None or isinstance(v, bool):
                    continue
                try:
                    number = Decimal(_shown(v).strip().replace(",", ""))
                except InvalidOperation:
                    continue  # the importer reports it
                rows[r][c] = number.quantize(step, rounding=ROUND_HALF_UP)
    out = SourceTable(table.file_name, table.kind, table.sheet, table.sheets, rows, list(table.merged),
                      table.encoding, filled)
    return Mapped(out, header_row, mapping, derived, problems)


def plan_mapped(db: Database, actor: Actor, register: str, source: SourceTable | str | Path | bytes,
                m: Mapping, *, file_name: str | None = None, sheet: str | None = None,
                header_row: int | None = None, **options: Any) -> ImportPlan:
    """`importer.plan_import` for a file read through a mapping."""
    reg = registers.get(register)
    if m.register != reg.name:
        raise MappingInvalid(f"映射是为「{registers.get(m.register).label}」写的，不能用于「{reg.label}」")
    table = source if isinstance(source, SourceTable) else read_source(
        source, file_name, sheet or m.sheet, reg.name, read_limits(db))
    if not table.rows:
        raise ImportRefused(f"工作表「{table.sheet}」没有任何内容")
    done = apply_mapping(table, reg, m, header_row)
    plan = plan_import(db, actor, register, done.table, header_row=done.header_row, mapping=done.mapping,
                       **options)
    plan.derived = done.derived
    plan.problems[:0] = done.problems
    if m.name:
        plan.notes.insert(0, f"按映射「{m.name}」导入")
    return plan


def mapping_from_choices(register: str, headers: list[str], chosen: dict[int, str], name: str = "",
                         **parts: Any) -> Mapping:
    """The mapping a person made in the wizard: each file column's choice ('' = 忽略)."""
    reg = registers.get(register)
    auto = map_columns(headers, reg)
    columns = {headers[c]: name_ for c, name_ in sorted(chosen.items())
               if headers[c] and (name_ or c in auto) and auto.get(c) != name_}
    return Mapping(register, name, columns=columns, headers=[h for h in headers if h], **parts)
