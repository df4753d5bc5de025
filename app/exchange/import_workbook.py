"""Import of a whole workbook: each sheet recognised as a register, all of them or nothing.

An office's 台账 often comes as one workbook with a sheet per register (楼栋单元, 房屋信息,
业主信息, 费用设置, 车位信息), the sheets linked by codes (业主编号). Here:

1. every visible sheet is read (one child process, app/exchange/workbook_reader.py);
2. each sheet's register is the one whose fields its best header row names most (the same
   header recognition as a single import; a mapping given for a register, or for a sheet by
   its `sheet`, applies there); a sheet naming fewer than two fields is 忽略, with its headers;
3. the sheets are imported in dependency order, derived from the registers' references
   (a register after every register it refers to), sheets of one register in workbook order;
4. a sheet whose register needs a reference it has no column for (业主 without 房屋) is linked
   through a code column it shares with the sheet of the referred register (业主编号 in both
   业主信息 and 房屋信息): each row takes the label of the rows with the same code;
5. everything runs in one transaction: each sheet through the save path in turn, later sheets
   seeing earlier ones' rows; any problem anywhere rolls the whole workbook back.

Missing departments or buildings (a reference by a name nobody has yet) are reported; they are
created, through the save path and in the same transaction, only when the caller says so
(`create_missing`: the wizard's checkbox, `--create-missing` in the CLI).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import registers
from app.access.permissions import Actor
from app.admin.backup import before_change
from app.exchange.import_mapping import Mapping, apply_mapping, plan_mapped
from app.exchange.importer import (
    HEADER_SCAN_ROWS,
    ID_COLUMN,
    IMPORT_SOURCE,
    ImportPlan,
    ImportRefused,
    ImportRejected,
    SourceTable,
    _bulk_work,
    _DryRunDone,
    _shown,
    community_id_of,
    detect_header_row,
    first_data_row,
    header_keys,
    header_texts,
    importable_registers,
    map_columns,
    plan_import,
    read_source,
    read_sources,
    save_plan,
)
from app.exchange.workbook_reader import norm_header, read_limits
from app.reading.queries import resolve_labels
from app.registers.model import Field, Register
from app.saving.changes import Problem, RowChange, SaveResult, apply_changes
from app.storage.db import Database, q

MIN_FIELDS = 2  # a sheet naming fewer fields of any register is not placed
NOT_PLACED = ("settings", "saved_queries")  # registers a workbook's sheet is never taken for
LINK_WORDS = ("编号", "编码", "代码", "号")


# -- recognising sheets -----------------------------------------------------------------------
@dataclass
class Sheet:
    """One sheet of the workbook and what it was taken for (register None: 忽略)."""

    table: SourceTable
    register: Register | None = None
    header_row: int | None = None
    headers: list[str] = field(default_factory=list)
    matched: int = 0
    mapping: Mapping | None = None
    link: str = ""  # how a missing reference was filled from another sheet
    zone: Field | None = None  # the 区 field this sheet's name goes to (one sheet per 区)
    plan: ImportPlan | None = None

    @property
    def name(self) -> str:
        return self.table.sheet


def _candidates() -> list[Register]:
    return [registers.get(n) for n in importable_registers() if n not in NOT_PLACED]


def _score(norms: list[list[str]], reg: Register, keys: dict[str, str]) -> tuple[int, int]:
    """(fields named, 0-based row) of the row naming most fields of `reg`; 编号 does not count."""
    best, at = 0, 0
    for i, row in enumerate(norms):
        n = len({keys[k] for k in row if k in keys and keys[k] != ID_COLUMN})
        if n > best:
            best, at = n, i
    return best, at


def _name_hint(sheet: str, reg: Register) -> int:
    """Characters the sheet's name shares with the register's label (房屋信息 / 房屋档案: 2)."""
    return len(set(sheet) & set(reg.label))


def recognise(table: SourceTable, mappings: list[Mapping] | None = None) -> Sheet:
    """The register a sheet holds, from its headers (or a mapping made for this sheet)."""
    found = Sheet(table)
    norms = [[norm_header(v) for v in row if v is not None and str(v).strip()]
             for row in table.rows[:HEADER_SCAN_ROWS]]
    for m in mappings or []:
        saved_for = {norm_header(h) for h in m.headers if h}  # a saved mapping's own headers
        same = next((i for i, row in enumerate(norms) if saved_for and set(row) == saved_for), None)
        if m.sheet == table.sheet or (not m.sheet and same is not None):
            reg = registers.get(m.register)
            found.register, found.mapping = reg, m
            found.matched, at = _score(norms, reg, header_keys(reg))
            found.header_row = m.header_row or (same + 1 if same is not None else at + 1)
            found.headers = header_texts(table, found.header_row, reg)
            return found
    best: tuple | None = None
    for reg in _candidates():
        keys = header_keys(reg)
        n, at = _score(norms, reg, keys)
        if n < MIN_FIELDS:
            continue
        required = [f.name for f in reg.fields if f.required and f.default is None]
        have = {keys[k] for k in norms[at] if k in keys}
        key = (n, _name_hint(table.sheet, reg), sum(1 for r in required if r in have) / max(len(required), 1))
        if best is None or key > best[0]:
            best = (key, reg, at)
    if best is None:
        found.headers = _first_headers(table)
        return found
    _, reg, at = best
    found.register, found.header_row, found.matched = reg, at + 1, best[0][0]
    found.headers = header_texts(table, found.header_row, reg)
    found.mapping = next((m for m in mappings or [] if m.register == reg.name and not m.sheet), None)
    if found.mapping and found.mapping.header_row:
        found.header_row = found.mapping.header_row
        found.headers = header_texts(table, found.header_row, reg)
    return found


def _first_headers(table: SourceTable) -> list[str]:
    """The first non-blank row's cells: what a sheet that was not placed shows as its headers."""
    for row in table.rows[:HEADER_SCAN_ROWS]:
        cells = [_shown(v).strip() for v in row if v is not None and str(v).strip()]
        if cells:
            return cells
    return []


# -- the order --------------------------------------------------------------------------------
def dependency_order() -> dict[str, int]:
    """Register name -> its place: after every register it refers to (registers.creation_order)."""
    return {reg.name: i for i, reg in enumerate(registers.creation_order())}


# -- links between sheets -------------------------------------------------------------------
def _mapping_of(sheet: Sheet) -> dict[int, str]:
    if sheet.mapping is not None:
        try:
            return apply_mapping(sheet.table, sheet.register, sheet.mapping, sheet.header_row).mapping
        except ImportRefused:
            return {}
    return map_columns(sheet.headers, sheet.register)


def _label_field(reg: Register) -> str | None:
    """The one text field that, with the 小区, labels a row (households: 房号), else None."""
    own = [c for c in reg.display if reg.field(c).type != "ref"]
    rest = [c for c in reg.display if reg.field(c).type == "ref" and c != "community_id"]
    return own[0] if len(own) == 1 and not rest else None


def _link(sheet: Sheet, earlier: list[Sheet]) -> tuple[SourceTable, dict[int, int], list[Problem]] | None:
    """Fill a reference the sheet has no column for from an earlier sheet sharing a code column.

    Returns the sheet with the reference column added (rows of a code found several times are
    repeated at the end), the Excel row each added row stands for, and the codes not found.
    """
    reg, mine = sheet.register, _mapping_of(sheet)
    for f in reg.refs():
        if f.name in mine.values() or f.name == "community_id":
            continue
        for other in earlier:
            label_field = _label_field(other.register) if other.register.name == f.ref else None
            if label_field is None:
                continue
            theirs = _mapping_of(other)
            label_col = next((c for c, n in theirs.items() if n == label_field), None)
            if label_col is None:
                continue
            mine_free = {norm_header(h): c for c, h in enumerate(sheet.headers) if h and c not in mine}
            their_free = {norm_header(h): c for c, h in enumerate(other.headers) if h and c not in theirs}
            shared = [k for k in mine_free if k in their_free and k.endswith(LINK_WORDS)]
            if not shared:
                continue
            return _linked(sheet, other, f, mine_free[shared[0]], their_free[shared[0]], label_col)
    return None


def _linked(sheet: Sheet, other: Sheet, f: Field, key_col: int, their_key: int,
            label_col: int) -> tuple[SourceTable, dict[int, int], list[Problem]]:
    labels: dict[str, list[str]] = {}
    start = first_data_row(other.table, other.header_row) - 1
    for row in other.table.rows[start:]:
        key = row[their_key] if their_key < len(row) else None
        label = row[label_col] if label_col < len(row) else None
        if key is not None and label is not None and _shown(key).strip():
            labels.setdefault(_shown(key).strip(), []).append(_shown(label).strip())
    table = sheet.table
    width = max(table.width, len(sheet.headers))
    rows = [list(r) + [None] * (width + 1 - len(r)) for r in table.rows]
    rows[sheet.header_row - 1][width] = f.label
    extra: dict[int, int] = {}
    problems: list[Problem] = []
    key_header = sheet.headers[key_col]
    start = first_data_row(table, sheet.header_row) - 1
    for r in range(start, len(table.rows)):
        key = rows[r][key_col]
        if key is None or not _shown(key).strip():
            continue
        found = labels.get(_shown(key).strip())
        if not found:
            problems.append(Problem(table.where(r + 1), f.label, f"{key_header}「{_shown(key).strip()}」在工作表"
                                    f"「{other.name}」中没有对应的{other.register.label}"))
            continue
        rows[r][width] = found[0]
        for label in found[1:]:  # one owner of several rooms: one row per room
            rows.append([*rows[r][:width], label])
            extra[len(rows)] = r + 1
    sheet.link = f"「{f.label}」由「{key_header}」关联工作表「{other.name}」的{other.register.label}"
    linked = SourceTable(table.file_name, table.kind, table.sheet, table.sheets, rows, list(table.merged),
                         table.encoding, set(table.filled))
    return linked, extra, problems


# -- missing departments and buildings ---------------------------------------------------------
def _creatable(target: Register) -> str | None:
    """The field naming a row of `target` when a row can be made from its name (and 小区) alone."""
    name = _label_field(target)
    if name is None:
        return None
    needed = {f.name for f in target.fields if f.required and f.default is None}
    return name if needed <= {name, "community_id"} else None


def missing_references(db: Database, plan: ImportPlan) -> dict[str, list[tuple[int | None, str]]]:
    """Referred register -> (小区, name) of rows the file names that do not exist (creatable ones)."""
    out: dict[str, list[tuple[int | None, str]]] = {}
    columns = {name: c for c, name in plan.mapping.items()}
    for f in plan.register.refs():
        target = registers.get(f.ref)
        if f.name not in columns or f.name == "community_id" or _creatable(target) is None:
            continue
        c = columns[f.name]
        wanted: dict[tuple[int | None, str], None] = {}
        for change, n in zip(plan.changes, plan.excel_rows):
            row = plan.table.rows[n - 1]
            raw = row[c] if c < len(row) else None
            text = _shown(raw).strip() if raw is not None else ""
            if not text:
                continue
            community = change.values.get("community_id")
            if not isinstance(community, int):
                community = plan.community_id
            has_community = target.has_field("community_id")
            if has_community and community is None:
                continue  # without a 小区 it cannot be made: the save path says what is missing
            wanted[(community if has_community else None, text)] = None
        if not wanted:
            continue
        found = resolve_labels(db, target, sorted({t for _, t in wanted}))
        ids = set()
        digits = [int(t) for _, t in wanted if t.isdigit()]
        if digits:
            ids = {i for (i,) in db.rows("SELECT id FROM " + q(target.name) + " WHERE id IN (SELECT unnest(?))",
                                         [digits])}
        gone = [(cid, t) for cid, t in wanted
                if not any(cid is None or x[2] == cid for x in found.get(t, []))
                and not (t.isdigit() and int(t) in ids and not found.get(t))]
        if gone:
            out.setdefault(target.name, []).extend(x for x in gone if x not in out.get(target.name, []))
    return out


def missing_text(missing: dict[str, list[tuple[int | None, str]]], create: bool) -> list[str]:
    """「将新建部门 2 个：保洁、绿化」 (or 「缺少部门 2 个：…」 when they will not be made)."""
    lines = []
    for name, found in missing.items():
        label = registers.get(name).label
        names = "、".join(dict.fromkeys(t for _, t in found))
        if create:
            lines.append(f"将新建{label} {len(found)} 个：{names}")
        else:
            lines.append(f"缺少{label} {len(found)} 个：{names}（勾选「新建缺少的部门、楼栋」"
                         f"或在命令行加 --create-missing 后导入时一并新建）")
    return lines


def _create(db: Database, actor: Actor, missing: dict[str, list[tuple[int | None, str]]]) -> list[SaveResult]:
    done = []
    for name, found in missing.items():
        target = registers.get(name)
        field_name = _creatable(target)
        changes = [RowChange("insert", values={field_name: text, **({"community_id": cid} if cid else {})},
                             where=f"新建{target.label}「{text}」") for cid, text in found]
        done.append(apply_changes(db, actor.via(IMPORT_SOURCE), name, changes))
    return done


# -- running ----------------------------------------------------------------------------------
class _Joined:
    """The database inside an outer transaction: the save path's own transaction joins it.

    Reads go through the thread's cursor, the one the outer transaction runs on, so a sheet
    sees the rows earlier sheets wrote.
    """

    def __init__(self, db: Database, cur: Any):
        self._db, self._cur = db, cur

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    @contextmanager
    def transaction(self):
        yield self._cur


@dataclass
class WorkbookResult:
    file_name: str
    sheets: list[Sheet]
    dry_run: bool
    created: dict[str, list[str]] = field(default_factory=dict)  # register label -> names made
    missing: list[str] = field(default_factory=list)  # what would be / was created, in words
    saved: dict[str, SaveResult] = field(default_factory=dict)  # sheet -> result
    notes: list[str] = field(default_factory=list)  # layouts seen (one sheet per 区)

    @property
    def placed(self) -> list[Sheet]:
        return [s for s in self.sheets if s.register is not None]

    @property
    def report(self) -> str:
        return workbook_report(self.sheets, [*self.notes, *self.missing])

    @property
    def summary(self) -> str:
        rows = sum(s.plan.row_count for s in self.placed if s.plan)
        head = "校验通过" if self.dry_run else "已导入"
        text = f"{head}：工作簿 {self.file_name} 的 {len(self.placed)} 个工作表，共 {rows:,} 行"
        if self.dry_run:
            text += "（试运行，未写入）"
        return text


def workbook_report(sheets: list[Sheet], missing: list[str] | None = None) -> str:
    """One report: per sheet the register, rows and each column → field (or 忽略 with headers)."""
    lines = []
    for s in sheets:
        if s.register is None:
            shown = "、".join(f"「{h}」" for h in s.headers[:12]) or "（空表）"
            lines.append(f"工作表「{s.name}」→ 忽略：认不出是哪个台账（表头：{shown}）")
            continue
        rows = f"{s.plan.row_count:,} 行" if s.plan else "未读取"
        how = f"，按映射「{s.mapping.name or '映射'}」" if s.mapping else ""
        lines.append(f"工作表「{s.name}」→「{s.register.label}」：{rows}，表头在第 {s.header_row} 行{how}")
        if s.link:
            lines.append(f"  {s.link}")
        if s.plan:
            lines += [f"  {line}" for line in s.plan.column_report()]
    return "\n".join([*lines, *(missing or [])])


def plan_workbook(source: str | Path | bytes, file_name: str | None = None, mappings: list[Mapping] | None = None,
                  db: Database | None = None) -> list[Sheet]:
    """Every sheet of the workbook, recognised and put in the order they are imported (忽略 last)."""
    tables = read_sources(source, file_name, read_limits(db) if db is not None else None)
    sheets = [recognise(t, mappings) for t in tables]
    order = dependency_order()
    placed = sorted((s for s in sheets if s.register is not None),
                    key=lambda s: (order.get(s.register.name, len(order)), sheets.index(s)))
    return [*placed, *(s for s in sheets if s.register is None)]


def one_sheet(db: Database, register: str, source: str | Path | bytes | SourceTable, *,
              file_name: str | None = None, sheet: str | None = None, header_row: int | None = None,
              mapping: Mapping | None = None) -> Sheet:
    """A single file's sheet taken for a register given by the caller (`wuye import --create-missing`,
    the wizard's 单个台账 mode with its 新建 checkbox: a table it has already read)."""
    reg = registers.get(register)
    if isinstance(source, SourceTable):
        table = source
    else:
        table = read_source(source, file_name, sheet or (mapping.sheet if mapping else None), reg.name,
                            read_limits(db))
    if not table.rows:
        raise ImportRefused(f"工作表「{table.sheet}」没有任何内容")
    found = Sheet(table, reg, mapping=mapping)
    found.header_row = header_row or (mapping.header_row if mapping and mapping.header_row else None) \
        or detect_header_row(table, reg)
    found.headers = header_texts(table, found.header_row, reg)
    return found


def import_creating(db: Database, actor: Actor, register: str, table: SourceTable, *, header_row: int | None = None,
                    mapping: Mapping | None = None, community: int | str | None = None,
                    dry_run: bool = False) -> WorkbookResult:
    """One register's sheet with the departments and buildings it names made first: the wizard's
    「将新建…」 checkbox, the same path as `wuye import --create-missing` (a workbook of one sheet)."""
    sheet = one_sheet(db, register, table, header_row=header_row, mapping=mapping)
    return import_workbook(db, actor, table.file_name, file_name=table.file_name, community=community,
                           create_missing=True, dry_run=dry_run, sheets=[sheet])


def import_workbook(db: Database, actor: Actor, source: str | Path | bytes, *, file_name: str | None = None,
                    mappings: list[Mapping] | None = None, community: int | str | None = None,
                    create_missing: bool = False, dry_run: bool = False,
                    sheets: list[Sheet] | None = None) -> WorkbookResult:
    """Import every sheet it can place, all or nothing; ImportRejected names sheet, row and column.

    A dry run does exactly the same in a transaction that is rolled back at its end.
    """
    if sheets is None:
        sheets = plan_workbook(source, file_name, mappings, db)
    name = file_name or (Path(source).name if isinstance(source, (str, Path)) else "导入文件")
    placed = [s for s in sheets if s.register is not None]
    if not placed:
        raise ImportRefused(f"工作簿 {name} 中没有认得出的台账：\n" + workbook_report(sheets))
    community_id = community_id_of(db, community) if community not in (None, "") else None
    result = WorkbookResult(name, sheets, dry_run, notes=mark_zone_sheets(placed))
    if not dry_run:
        before_change(db, "import", f"导入前：工作簿 {name}，{len(placed)} 个工作表")
    try:
        with db.transaction() as cur, _bulk_work():
            joined = _Joined(db, cur)
            for i, sheet in enumerate(placed):
                _import_sheet(db, joined, actor, sheet, placed[:i], community_id, create_missing, result)
            if dry_run:
                raise _DryRunDone
    except _DryRunDone:
        pass
    return result


# -- one sheet per 区 ------------------------------------------------------------------------------
ZONE_WORDS = ("区域", "分区", "区", "片区", "区号")


def _zone_field(reg: Register) -> Field | None:
    """The register's text field for a 区 (车位: 区域), if it has one."""
    for f in reg.fields:
        if f.type == "text" and any(norm_header(w) in ZONE_WORDS for w in (f.label, *f.aliases)):
            return f
    return None


def mark_zone_sheets(sheets: list[Sheet]) -> list[str]:
    """Sheets of one register split by 区 (A区, B区): the sheet's name goes to the register's
    区 field where it has one and the sheet lacks the column; otherwise the report says so."""
    notes = []
    by_register: dict[str, list[Sheet]] = {}
    for s in sheets:
        if s.register is not None:
            by_register.setdefault(s.register.name, []).append(s)
    for group in by_register.values():
        if len(group) < 2:
            continue
        reg = group[0].register
        names = "、".join(f"「{s.name}」" for s in group)
        zone = _zone_field(reg)
        if zone is None:
            notes.append(f"工作表 {names} 都是「{reg.label}」：按工作表分开的台账，已依次导入；「{reg.label}」没有区域"
                         f"字段，工作表名没有导入（各表的编号若会重复，请在文件中把区写进编号后再导入）")
            continue
        for s in group:
            if zone.name not in _mapping_of(s).values():
                s.zone = zone
        notes.append(f"工作表 {names} 都是「{reg.label}」：按工作表分开的台账，工作表名导入为「{zone.label}」")
    return notes


def _with_column(table: SourceTable, header_row: int, title: str, value: str) -> SourceTable:
    rows = [list(r) for r in table.rows]
    width = max(len(r) for r in rows)
    start = first_data_row(table, header_row) - 1
    for i, row in enumerate(rows):
        row.extend([None] * (width - len(row)))
        if i == header_row - 1:
            row.append(title)
        elif i >= start and any(v is not None and str(v).strip() for v in row):
            row.append(value)
        else:
            row.append(None)
    filled = set(table.filled) | {(i, width) for i in range(start, len(rows))}  # alone it makes no row
    return SourceTable(table.file_name, table.kind, table.sheet, table.sheets, rows, list(table.merged),
                       table.encoding, filled)


def _plan_sheet(joined: Database, actor: Actor, sheet: Sheet, earlier: list[Sheet],
                community_id: int | None) -> ImportPlan:
    table, extra, problems = sheet.table, {}, []
    linked = _link(sheet, earlier)
    if linked is not None:
        table, extra, problems = linked
    if sheet.zone is not None:
        table = _with_column(table, sheet.header_row, sheet.zone.label, sheet.name)
    options = {"header_row": sheet.header_row, "community": community_id}
    if sheet.mapping is not None:
        plan = plan_mapped(joined, actor, sheet.register.name, table, sheet.mapping, **options)
    else:
        plan = plan_import(joined, actor, sheet.register.name, table, **options)
    for change, n in zip(plan.changes, plan.excel_rows):
        if n in extra:  # a repeated row is known by the row it repeats
            change.where = table.where(extra[n])
    plan.problems[:0] = problems
    return plan


def _import_sheet(db: Database, joined: _Joined, actor: Actor, sheet: Sheet, earlier: list[Sheet],
                  community_id: int | None, create_missing: bool, result: WorkbookResult) -> None:
    try:
        plan = _plan_sheet(joined, actor, sheet, earlier, community_id)
        sheet.plan = plan
        missing = missing_references(joined, plan) if not plan.blocking else {}
        result.missing += missing_text(missing, create_missing)
        if missing and create_missing:
            _create(joined, actor, missing)
            for target, found in missing.items():
                result.created.setdefault(registers.get(target).label, []).extend(t for _, t in found)
            plan = sheet.plan = _plan_sheet(joined, actor, sheet, earlier, community_id)
        saved = save_plan(db, joined, actor, plan)
    except ImportRejected as err:
        lines = []
        if not create_missing and sheet.plan is not None and not sheet.plan.blocking:
            lines = missing_text(missing_references(joined, sheet.plan), False)
        raise ImportRejected([*(Problem(f"工作表「{sheet.name}」", "", t) for t in lines),
                              *(Problem(f"工作表「{sheet.name}」{p.row}", p.column, p.message)
                                for p in err.problems)]) from None
    except ImportRefused as err:
        raise ImportRefused(f"工作表「{sheet.name}」：{err}") from None
    if saved is not None:
        result.saved[sheet.name] = saved
