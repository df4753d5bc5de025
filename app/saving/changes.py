"""The save path: the only way data changes (grid, import, sync, jobs, CLI).

change set -> permission -> convert and validate the whole set -> one transaction with
row-version checks -> one audit row per changed row. Any problem: nothing is written.
"""

from __future__ import annotations

import functools
import importlib
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import pyarrow as pa

from app import registers
from app.access.permissions import ADMIN, Actor, require, require_admin
from app.access.scope import ATTACHMENTS, owner_columns
from app.reading.queries import label_sql, resolve_labels
from app.registers.model import Field, Register
from app.registers.validation import CellError, can_fail, check, check_dates, converter
from app.saving import derived
from app.storage.audit_log import WRITES, write_audit
from app.storage.db import Database, StorageFailed, in_list, q, rows_in

Action = Literal["insert", "update", "delete", "restore"]  # restore: undo a delete (audit revert)
ACTION_WORDS = {"insert": "新增", "update": "修改", "delete": "删除", "restore": "恢复"}


@dataclass
class RowChange:
    action: Action
    row_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    version: int | None = None  # the row_version the user saw; None skips the check
    where: str | None = None  # how the user knows this row, e.g. "Excel 第 7 行"

    def place(self, index: int) -> str:
        if self.where:
            return self.where
        if self.action == "insert":
            return f"新增第 {index + 1} 行"
        return f"编号 {self.row_id}"


@dataclass
class Problem:
    row: str
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.row}「{self.column}」：{self.message}" if self.column else f"{self.row}：{self.message}"


class SaveRejected(Exception):
    """Nothing was written; `problems` says why, row by row."""

    kind = "校验未通过"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ValidationFailed(SaveRejected):
    pass


class ConflictError(SaveRejected):
    kind = "数据冲突"


class StorageFull(SaveRejected, StorageFailed):
    """The disk could not take the change set: nothing was written (every page shows it as a
    refused save, in the user's words)."""

    kind = "保存失败"


@dataclass
class SaveResult:
    change_id: str
    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)

    @property
    def summary(self) -> str:
        parts = [
            f"{word} {len(ids)} 行"
            for word, ids in (("新增", self.inserted), ("修改", self.updated), ("删除", self.deleted),
                              ("恢复", self.restored))
            if ids
        ]
        return "，".join(parts) or "没有改动"


@dataclass
class SaveContext:
    """What a register-specific rule sees: the merged rows and a cursor in the transaction."""

    db: Database
    cur: Any
    actor: Actor
    register: Register
    rows: list[tuple[int, RowChange, dict, dict | None]]  # (index, change, new row, old row)
    problems: list[Problem]
    change_id: str = ""  # side effects a rule writes are audited under the same change set
    # A history import records rows as they were (a closed order, a voided receipt): rules
    # skip workflow entry states and their automatic side effects, never field checks.
    history: bool = False

    def problem(self, index: int, change: RowChange, column: str | None, message: str) -> None:
        label = self.register.label_of(column) if column else ""
        self.problems.append(Problem(change.place(index), label, message))

    # A rule's side effects on other registers: written now, in this transaction, by the same code
    # as the save's own rows (timestamps, versions), audited under this change set with `note`.
    def insert(self, register: str, rows: list[dict], note: str, *, check_right: bool = True) -> list[int]:
        """Add rows (dicts of columns) to a register; a row without an id gets one (in place).

        `check_right=False` where the row follows from a save the actor may make without the right
        to add to that register (a repair's bill, a rectification). Returns the rows' ids.
        """
        if not rows:
            return []
        reg = registers.get(register)
        if check_right:
            require(self.actor, reg.name, "add", reg.label)
        now = self.db.now()
        missing = [row for row in rows if row.get("id") is None]  # a given id was referred to already
        for row_id, row in zip(self.db.allocate_ids(self.cur, reg.name, len(missing)), missing):
            row["id"] = row_id
        for row in rows:
            row.update(created_at=now, updated_at=now, row_version=1)
        _insert(self.cur, reg, rows, list(dict.fromkeys(col for row in rows for col in row)))
        _written(self.db, self.cur, self.actor, reg.name, self.change_id,
                 [(row["id"], "新增", None, row_json(reg, row)) for row in rows], now, note)
        return [row["id"] for row in rows]

    def update(self, register: str, values: dict[int, dict], note: str, *, where: str = "",
               params: Sequence = (), check_right: bool = True) -> list[int]:
        """Set columns of live rows of a register ({row id: {column: value}}), only where a value
        differs, and only in rows `where` (SQL with `params`) also selects. Returns the ids changed."""
        if not values:
            return []
        reg = registers.get(register)
        placeholders, id_params = in_list(sorted(values))
        found = self.cur.execute(
            "SELECT * FROM " + q(reg.name) + " WHERE deleted_at IS NULL AND id IN " + placeholders
            + (" AND (" + where + ")" if where else ""), [*id_params, *params])
        names = [d[0] for d in found.description]
        current = {row[0]: dict(zip(names, row)) for row in found.fetchall()}
        rows = []  # (index, change, new row, old row) as the save's own updates
        for row_id, given in values.items():
            old = current.get(row_id)
            if old is None:
                continue
            changed = {col: v for col, v in given.items() if v != old.get(col)}
            if changed:
                change = RowChange("update", row_id, changed, old["row_version"], f"{reg.label}编号 {row_id}")
                rows.append((len(rows), change, {**old, **changed}, old))
        if not rows:
            return []
        if check_right:
            require(self.actor, reg.name, "edit", reg.label)
        now = self.db.now()
        by_columns: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
        for row in rows:
            by_columns[tuple(row[1].values)].append(row)
        for changed, group in by_columns.items():
            _update(self.cur, reg, changed, group, now)
        _written(self.db, self.cur, self.actor, reg.name, self.change_id,
                 [(c.row_id, "修改", row_json(reg, {k: old[k] for k in c.values}), row_json(reg, c.values))
                  for _, c, _, old in rows], now, note)
        return [c.row_id for _, c, _, _ in rows]


SaveRule = Callable[[SaveContext], None]
_RULES: dict[str, list[SaveRule]] = defaultdict(list)


def save_rule(register: str) -> Callable[[SaveRule], SaveRule]:
    """Register a check that runs inside the save transaction of one register ("*": of every one,
    before the register's own)."""

    def add(fn: SaveRule) -> SaveRule:
        _RULES[register].append(fn)
        return fn

    return add


# fn(cursor, register, entries): entries as audited (row_id, action, old JSON, new JSON)
WriteSubscriber = Callable[[Any, str, list[tuple]], None]
_SUBSCRIBERS: dict[str, list[WriteSubscriber]] = defaultdict(list)


def after_write(*register_names: str) -> Callable[[WriteSubscriber], WriteSubscriber]:
    """Subscribe to writes of these registers' rows: called by the save path right after each write
    (the save's own rows and its rules' side effects), in the same transaction."""

    def add(fn: WriteSubscriber) -> WriteSubscriber:
        for name in register_names:
            _SUBSCRIBERS[name].append(fn)
        return fn

    return add


def _written(db: Database, cur, actor: Actor, register: str, change_id: str, entries: list[tuple],
             at: datetime, note: str | None = None) -> None:
    """Rows were written: their audit rows, then whoever subscribed to the register."""
    write_audit(db, cur, actor, register, change_id, entries, at, note)
    rows = [e for e in entries if e[0] is not None and e[1] in WRITES]
    if rows:
        for subscriber in _SUBSCRIBERS.get(register, ()):
            subscriber(cur, register, rows)


# The register-specific rules (app/save_rules) and the derived tables' subscribers live above the
# save path, in the domain: named here and loaded by name on the first save, as plugins are, so the
# save path never runs without them and imports nothing above itself.
PLUGINS = ("app.save_rules", *derived.MODULES)


@functools.cache
def _load_plugins() -> None:
    for name in PLUGINS:
        importlib.import_module(name)


SAVE_ATTEMPTS = 5


@dataclass
class ChangeSet:
    """The changes one actor makes to one register: a save of its own (its own change id)."""

    actor: Actor
    register: str
    changes: list[RowChange]


def apply_changes(db: Database, actor: Actor, register: str, changes: list[RowChange],
                  *, history: bool = False) -> SaveResult:
    """Validate and write a change set to one register, all or nothing.

    On PostgreSQL a save that collides with another process's save (a serialization
    failure, or both taking the same new id) is run again as a whole, re-reading rows.
    `history`: new rows are records of the past (administrators only; see SaveContext).
    """
    if history:
        require_admin(actor, "按历史记录导入")
        if any(c.action != "insert" for c in changes):
            raise ValidationFailed([Problem(registers.get(register).label, "", "按历史记录导入只能新增行")])
    return _apply_with_retries(db, [ChangeSet(actor, register, changes)], history)[0]


def apply_change_sets(db: Database, sets: list[ChangeSet]) -> list[SaveResult]:
    """Several saves (of one register or several) in one transaction, all or nothing: each is
    checked, validated and audited as apply_changes does it, in turn, and sees the ones before it."""
    return _apply_with_retries(db, sets, False)


def _apply_with_retries(db: Database, sets: list[ChangeSet], history: bool) -> list[SaveResult]:
    label = registers.get(sets[0].register).label if sets else ""
    given_ids = [[c.row_id for c in s.changes] for s in sets]  # a failed attempt assigned ids to inserts
    for attempt in range(SAVE_ATTEMPTS):
        try:
            return _apply_once(db, sets, history)
        except StorageFailed as err:
            raise StorageFull([Problem(label, "", str(err))]) from err
        except Exception as err:
            if not db.is_retryable(err):
                raise
            for s, ids in zip(sets, given_ids):
                for c, row_id in zip(s.changes, ids):
                    c.row_id = row_id
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)
    raise ConflictError([Problem(label, "", "多人正在同时修改这些数据，多次重试仍未保存，请稍后再保存")])


def _apply_once(db: Database, sets: list[ChangeSet], history: bool) -> list[SaveResult]:
    _load_plugins()
    prepared = []
    for s in sets:
        reg = registers.get(s.register)
        for action in {c.action for c in s.changes}:
            require(s.actor, reg.name,
                    {"insert": "add", "update": "edit", "delete": "delete", "restore": "add"}[action], reg.label)
        if reg.immutable and any(c.action != "insert" for c in s.changes):
            raise ValidationFailed([Problem(reg.label, "", "此台账只能追加，更正请新增调整记录")])
        problems: list[Problem] = []
        # each field's converter chosen once per save, not per cell (an import sends 10⁵ rows)
        by_name = {f.name: (f, _cell_converter(f)) for f in reg.fields}
        converted = [_convert(reg, i, c, problems, by_name) for i, c in enumerate(s.changes)]
        prepared.append((s, reg, SaveResult(change_id=uuid.uuid4().hex), converted, problems))
    if not any(s.changes for s in sets):
        return [result for _, _, result, _, _ in prepared]
    with db.transaction() as cur:
        for s, reg, result, converted, problems in prepared:
            if s.changes:
                _save(db, cur, s.actor, reg, s.changes, converted, problems, result, history)
    return [result for _, _, result, _, _ in prepared]


def _save(db: Database, cur, actor: Actor, reg: Register, changes: list[RowChange], converted: list[dict],
          problems: list[Problem], result: SaveResult, history: bool) -> None:
    """One change set inside the transaction: checks, the register's rules, the write."""
    _resolve_refs(db, cur, reg, changes, converted, problems)
    old = _load_current(cur, reg, changes)
    _check_conflicts(cur, reg, changes, old)
    rows = []
    defaults = {f.name: f.default for f in reg.fields if f.default is not None}
    for i, (c, values) in enumerate(zip(changes, converted)):
        before = old.get(c.row_id) if c.action != "insert" else None
        if c.action == "insert":  # a blank cell takes the field's default
            new = dict(defaults)
            new.update({k: v for k, v in values.items() if v is not None or k not in new})
        elif c.action == "update":
            new = {**before, **values}
        elif c.action == "restore":
            new = {**before, "deleted_at": None}
        else:
            new = dict(before)
        rows.append((i, c, new, before))
    ctx = SaveContext(db, cur, actor, reg, rows, problems, result.change_id, history)
    _check_owner(ctx)
    _check_fields(ctx)
    _check_refs_exist(ctx)
    _check_unique(ctx)
    _check_scope(ctx)
    _check_not_referenced(ctx)
    for rule in (*_RULES.get("*", []), *_RULES.get(reg.name, [])):  # "*": every register's
        rule(ctx)
    if problems:
        raise ValidationFailed(problems)
    _write(db, cur, actor, reg, rows, result)


# -- steps ------------------------------------------------------------------------------
def _cell_converter(f: Field) -> Callable[[Any], Any]:
    """The field's converter; a reference given by its label is kept for _resolve_refs."""
    conv = converter(f)
    if f.type != "ref":
        return conv

    def ref(value: Any) -> Any:
        if isinstance(value, str) and not value.strip().isdigit():
            return _LabelRef(value.strip())
        return conv(value)

    return ref


def _convert(reg: Register, index: int, change: RowChange, problems: list[Problem],
             by_name: dict[str, tuple[Field, Callable[[Any], Any]]] | None = None) -> dict:
    by_name = by_name if by_name is not None else {f.name: (f, _cell_converter(f)) for f in reg.fields}
    updating = change.action == "update"
    out = {}
    for col, value in change.values.items():
        found = by_name.get(col)
        if found is None:
            if col != "id":
                problems.append(Problem(change.place(index), col, "不是此台账的列"))
            continue
        f, conv = found
        if updating and not f.editable:
            problems.append(Problem(change.place(index), f.label, "此列不可修改"))
            continue
        try:
            out[col] = conv(value)
        except CellError as err:
            problems.append(Problem(change.place(index), f.label, f"{value!s:.40} {err}"))
    if change.action == "insert" and change.values.get("id") not in (None, ""):
        try:
            change.row_id = int(change.values["id"])
        except (TypeError, ValueError):
            problems.append(Problem(change.place(index), "编号", "应为整数"))
    return out


@dataclass(frozen=True)
class _LabelRef:
    """A reference given by its label ('阳光花园/3-2-1201' or '3-2-1201'), resolved in the transaction."""

    text: str


def _resolve_refs(db, cur, reg: Register, changes, converted: list[dict], problems) -> None:
    wanted: dict[str, set[str]] = defaultdict(set)
    for values in converted:
        for col, v in values.items():
            if isinstance(v, _LabelRef):
                wanted[col].add(v.text)
    for col, texts in wanted.items():
        f = reg.field(col)
        found = resolve_labels(db, registers.get(f.ref), sorted(texts), cur)
        for i, (c, values) in enumerate(zip(changes, converted)):
            v = values.get(col)
            if not isinstance(v, _LabelRef):
                continue
            candidates = found.get(v.text, [])
            community = values.get("community_id")
            if len(candidates) > 1 and isinstance(community, int):
                candidates = [x for x in candidates if x[2] == community] or candidates
            exact = [x for x in candidates if x[1] == v.text]
            if len(candidates) > 1 and len(exact) == 1:
                candidates = exact
            if len(candidates) == 1:
                values[col] = candidates[0][0]
                continue
            del values[col]
            ref_label = registers.get(f.ref).label
            if not candidates:
                problems.append(Problem(c.place(i), f.label, f"找不到{ref_label}「{v.text}」"))
            else:
                sample = "、".join(x[1] for x in candidates[:3])
                problems.append(
                    Problem(c.place(i), f.label, f"「{v.text}」对应多个{ref_label}（{sample}），请写完整")
                )


def _load_current(cur, reg: Register, changes: list[RowChange]) -> dict[int, dict]:
    ids = [c.row_id for c in changes if c.action != "insert" and c.row_id is not None]
    if not ids:
        return {}
    placeholders, params = in_list(ids)
    res = cur.execute("SELECT * FROM " + q(reg.name) + " WHERE id IN " + placeholders, params)
    names = [d[0] for d in res.description]
    return {row[0]: dict(zip(names, row)) for row in res.fetchall()}


def _check_conflicts(cur, reg: Register, changes: list[RowChange], old: dict[int, dict]) -> None:
    problems = []
    for i, c in enumerate(changes):
        if c.action == "insert":
            continue
        row = old.get(c.row_id)
        if c.action == "restore":
            if row is None or row["deleted_at"] is None:
                problems.append(Problem(c.place(i), "", "此行没有被删除，无需恢复"))
            elif c.version is not None and row["row_version"] != c.version:
                problems.append(Problem(c.place(i), "", "此行在删除后又有变动，请刷新后再操作"))
            continue
        if row is None or row["deleted_at"] is not None:
            problems.append(Problem(c.place(i), "", "此行已不存在（可能已被他人删除），请刷新后再改"))
        elif c.version is not None and row["row_version"] != c.version:
            who = cur.execute(
                "SELECT actor, changed_at FROM audit_log WHERE register = ? AND row_id = ? "
                "ORDER BY id DESC LIMIT 1",
                [reg.name, c.row_id],
            ).fetchone()
            by = f"已被 {who[0]} 于 {who[1]:%Y-%m-%d %H:%M} 修改" if who else "已被他人修改"
            problems.append(Problem(c.place(i), "", f"此行在您打开后{by}，您的修改未保存，请刷新后再改"))
    if problems:
        raise ConflictError(problems)


def _check_fields(ctx: SaveContext) -> None:
    today = ctx.db.now().date()
    fields = [f for f in ctx.register.fields if can_fail(f)]
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            continue
        given, updating = c.values, c.action == "update"
        for f in fields:
            if f.name in given:
                if f.name not in new:  # conversion already failed
                    continue
            elif updating:
                continue
            value = new.get(f.name)
            if value is None and not f.required:  # check() has nothing to say: skip the call
                continue
            if isinstance(value, _LabelRef):
                continue
            message = check(f, value)
            if message:
                ctx.problem(i, c, f.name, message)
        changed = None if c.action == "insert" else set(c.values)
        for column, message in check_dates(ctx.register, new, changed, today):
            ctx.problem(i, c, column, message)


def _check_refs_exist(ctx: SaveContext) -> None:
    for f in ctx.register.refs():
        ids = {
            new[f.name]
            for _, c, new, _ in ctx.rows
            if c.action != "delete" and isinstance(new.get(f.name), int)
        }
        if not ids:
            continue
        placeholders, params = in_list(sorted(ids))
        live = {
            r[0]
            for r in ctx.cur.execute(
                "SELECT id FROM " + q(f.ref) + " WHERE deleted_at IS NULL AND id IN " + placeholders,
                params,
            ).fetchall()
        }
        if f.ref == ctx.register.name:  # rows added in this same set may be referred to
            live |= {c.row_id for _, c, _, _ in ctx.rows if c.row_id}
        for i, c, new, _ in ctx.rows:
            v = new.get(f.name)
            if c.action != "delete" and isinstance(v, int) and v not in live:
                if c.action == "update" and f.name not in c.values:
                    continue
                ctx.problem(i, c, f.name, f"{registers.get(f.ref).label}编号 {v} 不存在")


def _normal(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _check_unique(ctx: SaveContext) -> None:
    reg = ctx.register
    touched = {c.row_id for _, c, _, _ in ctx.rows if c.action != "insert"}
    for cols in reg.unique:
        seen: dict[tuple, int] = {}
        keys = []
        label = "、".join(reg.label_of(col) for col in cols)
        for i, c, new, _ in ctx.rows:
            if c.action == "delete":
                continue
            if c.action == "update" and not set(cols) & set(c.values):
                continue
            key = tuple(_normal(new.get(col)) for col in cols)
            if any(k is None for k in key) and len(cols) == 1:
                continue
            if key in seen:
                ctx.problem(i, c, cols[-1], f"与本次提交的另一行重复（{label}须唯一）")
                continue
            seen[key] = i
            keys.append((i, c, key))
        if not keys:
            continue
        # Compare with live rows not being changed in this set; NULL matches NULL here.
        match = " AND ".join(
            "coalesce(lower(CAST(t." + q(col) + " AS VARCHAR)), '~') = "
            "coalesce(lower(CAST(k.k" + str(n) + " AS VARCHAR)), '~')"
            for n, col in enumerate(cols)
        )
        table = pa.table({f"k{n}": [str(k[2][n]) if k[2][n] is not None else None for k in keys]
                          for n in range(len(cols))} | {"i": [k[0] for k in keys]})
        ctx.cur.register("unique_keys", table)
        placeholders, params = in_list(sorted(x for x in touched if x is not None) or [-1])
        try:
            clash = ctx.cur.execute(
                "SELECT DISTINCT k.i FROM unique_keys k JOIN " + q(reg.name) + " t ON " + match
                + " WHERE t.deleted_at IS NULL AND t.id NOT IN " + placeholders,
                params,
            ).fetchall()
        finally:
            ctx.cur.unregister("unique_keys")
        label = "、".join(reg.label_of(col) for col in cols)
        by_index = {k[0]: k for k in keys}
        for (i,) in clash:
            _, c, key = by_index[i]
            shown = "/".join(_key_text(ctx, reg, col, v) for col, v in zip(cols, key) if v is not None)
            ctx.problem(i, c, cols[-1], f"「{shown}」已存在（{label}须唯一）")


def _key_text(ctx: SaveContext, reg: Register, col: str, value: Any) -> str:
    """A key part as the user knows it: a reference by its row's label (阳光花园), not its id (1)."""
    f = reg.field(col)
    if f.type != "ref":
        return str(value)
    ref = registers.get(f.ref)
    found = ctx.cur.execute("SELECT " + label_sql(ref, "t") + " FROM " + q(ref.name) + " t WHERE t.id = ?",
                            [int(value)]).fetchone()
    return str(found[0]) if found and found[0] else str(value)


def _community_of(cur, reg: Register, row: dict) -> int | None:
    """The community a row belongs to, directly or through its parent row (owners -> households)."""
    col = reg.community
    value = row.get(col) if col else None
    if value is None or not isinstance(value, int):
        return None
    target = reg.field(col).ref if reg.field(col).type == "ref" else None
    if col == "community_id" or target == "communities":
        return value
    parent = registers.get(target)
    found = cur.execute("SELECT * FROM " + q(parent.name) + " WHERE id = ?", [value])
    names = [d[0] for d in found.description]
    got = found.fetchone()
    return _community_of(cur, parent, dict(zip(names, got))) if got else None


def _check_scope(ctx: SaveContext) -> None:
    """A scoped actor's rows stay in their communities: the row as it was (not another
    community's row taken over) and as it will be (not one of theirs given away)."""
    allowed = ctx.actor.communities
    if allowed is None:
        return
    if ctx.register.name == ATTACHMENTS:
        _check_attachment_scope(ctx, allowed)
        return
    if ctx.register.community is None:
        return
    for i, c, new, old in ctx.rows:
        for row in (new, old):
            community = _community_of(ctx.cur, ctx.register, row) if row else None
            if community is not None and community not in allowed:
                ctx.problem(i, c, ctx.register.community, "不在您可管理的小区范围内")
                break


def _check_attachment_scope(ctx: SaveContext, allowed: tuple[int, ...]) -> None:
    """An attachment takes the community of the row it belongs to (issue 20, finding 2)."""
    for i, c, new, old in ctx.rows:
        for row in (new, old):
            if not row:
                continue
            parent = registers.catalog().get(row.get("register") or "")
            if parent is None or not isinstance(row.get("row_id"), int):
                ctx.problem(i, c, "register", "附件所属的台账或行不存在")
                break
            if parent.community is None:
                continue
            found = ctx.cur.execute("SELECT * FROM " + q(parent.name) + " WHERE id = ?", [row["row_id"]])
            names = [d[0] for d in found.description]
            got = found.fetchone()
            community = _community_of(ctx.cur, parent, dict(zip(names, got))) if got else None
            if got is None or (community is not None and community not in allowed):
                ctx.problem(i, c, "row_id", "附件所属的行不在您可管理的小区范围内")
                break


def _check_owner(ctx: SaveContext) -> None:
    """Rows with an owner (saved queries): added in one's own name, changed by the owner only,
    or by an administrator while the row is and stays shared. A private row of someone else
    is answered as missing, so its existence is not told."""
    owned = owner_columns(ctx.register)
    if not owned:
        return
    owner_col, shared_col = owned
    user = ctx.actor.user
    for i, c, new, old in ctx.rows:
        if c.action == "insert":
            if new.get(owner_col) in (None, ""):
                new[owner_col] = user
            elif new[owner_col] != user:
                ctx.problem(i, c, owner_col, f"只能以自己（{user}）的名义新增")
            continue
        if old is None:
            continue
        if old.get(owner_col) == user and new.get(owner_col) == user:
            continue
        if not old.get(shared_col):
            ctx.problem(i, c, None, "此行不存在或未共享")
        elif ctx.actor.role == ADMIN and new.get(shared_col) and new.get(owner_col) == old.get(owner_col):
            continue
        else:
            ctx.problem(i, c, None, f"由 {old.get(owner_col)} 创建，只能由创建人{ACTION_WORDS[c.action]}")


def referrers(db_cur, reg: Register, ids: list[int]) -> list[tuple[Register, str, int, int, str]]:
    """(register, column, referred id, referring row id, its label) of live rows referring to ids."""
    out = []
    for other in registers.catalog().values():
        for f in other.refs():
            if f.ref != reg.name:
                continue
            sql = (
                "SELECT t." + q(f.name) + ", t.id, " + label_sql(other, "t") + " FROM "
                + q(other.name) + " t WHERE t.deleted_at IS NULL AND t." + q(f.name)
                + " IN " + in_list(ids)[0] + " ORDER BY t.id LIMIT 200"
            )
            for target, rid, label in db_cur.execute(sql, in_list(ids)[1]).fetchall():
                out.append((other, f.name, target, rid, label))
    return out


def _check_not_referenced(ctx: SaveContext) -> None:
    deleting = {c.row_id: (i, c) for i, c, _, _ in ctx.rows if c.action == "delete"}
    if not deleting:
        return
    by_target: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for other, _col, target, rid, label in referrers(ctx.cur, ctx.register, sorted(deleting)):
        if other.name == ctx.register.name and rid in deleting:
            continue
        by_target[target][other.label].append(label or f"编号 {rid}")
    for target, groups in by_target.items():
        i, c = deleting[target]
        text = "；".join(
            f"{reg_label} {len(labels)} 行（{'、'.join(labels[:5])}{'…' if len(labels) > 5 else ''}）"
            for reg_label, labels in groups.items()
        )
        ctx.problem(i, c, None, f"仍被引用，不能删除：{text}")


# -- writing ----------------------------------------------------------------------------
def _arrow_type(f) -> pa.DataType:
    if f.scale is not None:
        return pa.decimal128(f.precision, f.scale)
    return {
        "integer": pa.int64(),
        "ref": pa.int64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "boolean": pa.bool_(),
    }.get(f.type, pa.string())


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


_JSON_PLAIN = frozenset({str, int, bool, float, type(None)})  # written by json as they are
_AUDIT_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_AUDITED: dict[tuple[str, ...], frozenset[str]] = {}  # a register's columns -> those a row's JSON keeps


def row_json(reg: Register, row: dict | None) -> str | None:
    if row is None:
        return None
    keep_columns = _AUDITED.get(reg.columns)
    if keep_columns is None:
        keep_columns = _AUDITED[reg.columns] = frozenset(reg.columns) - {"row_version"}
    # an import audits every row: plain values skip the call to _jsonable
    keep = {k: v if type(v) in _JSON_PLAIN else _jsonable(v) for k, v in row.items() if k in keep_columns}
    return _AUDIT_JSON.encode(keep)


def _write(db: Database, cur, actor: Actor, reg: Register, rows, result: SaveResult) -> None:
    now = db.now()
    inserts = [(i, c, new) for i, c, new, _ in rows if c.action == "insert"]
    audit: list[tuple] = []
    if inserts:
        supplied = [c.row_id for _, c, _ in inserts if c.row_id is not None]
        if supplied:
            placeholders, params = in_list(supplied)
            taken = cur.execute(
                "SELECT id FROM " + q(reg.name) + " WHERE id IN " + placeholders, params
            ).fetchall()
            if taken or len(set(supplied)) != len(supplied):
                raise ValidationFailed(
                    [Problem(c.place(i), "编号", "编号已被占用")
                     for i, c, _ in inserts if c.row_id in {t[0] for t in taken}]
                    or [Problem(reg.label, "编号", "本次提交中有重复编号")]
                )
        fresh = iter(db.allocate_ids(cur, reg.name, sum(1 for _, c, _ in inserts if c.row_id is None)))
        for _, c, new in inserts:
            if c.row_id is None:
                c.row_id = next(fresh)
            new.update(id=c.row_id, created_at=now, updated_at=now, row_version=1, deleted_at=None)
        columns = ["id", *(f.name for f in reg.fields), "created_at", "updated_at", "row_version"]
        _insert(cur, reg, [new for _, _, new in inserts], columns)
        for _, c, new in inserts:
            result.inserted.append(c.row_id)
            audit.append((c.row_id, "新增", None, row_json(reg, {k: new.get(k) for k in columns})))

    changes: dict[int, tuple[str, ...]] = {}  # row index → the columns an update changes
    by_columns: dict[tuple[str, ...], list[tuple]] = {}
    for i, c, new, old in rows:
        if c.action == "update":
            changed = tuple(col for col in c.values if col in new and col != "id" and new[col] != old.get(col))
            if changed:
                changes[i] = changed
                by_columns.setdefault(changed, []).append((i, c, new, old))
    for changed, group in by_columns.items():
        _update(cur, reg, changed, group, now)

    for i, c, new, old in rows:
        if c.action == "insert":
            continue
        if c.action == "update":
            if i in changes:
                after = {**new, "updated_at": now}
                result.updated.append(c.row_id)
                audit.append((c.row_id, "修改", row_json(reg, {k: old[k] for k in changes[i]}),
                              row_json(reg, {k: after[k] for k in changes[i]})))
            continue
        if c.action == "restore":
            count = cur.execute(
                "UPDATE " + q(reg.name) + " SET deleted_at = NULL, updated_at = ?, row_version = row_version + 1"
                " WHERE id = ? AND row_version = ? AND deleted_at IS NOT NULL",
                [now, c.row_id, old["row_version"]],
            ).fetchone()[0]
            result.restored.append(c.row_id)
            audit.append((c.row_id, "恢复", None, row_json(reg, new)))
        else:
            count = cur.execute(
                "UPDATE " + q(reg.name) + " SET deleted_at = ?, updated_at = ?, row_version = row_version + 1"
                " WHERE id = ? AND row_version = ? AND deleted_at IS NULL",
                [now, now, c.row_id, old["row_version"]],
            ).fetchone()[0]
            result.deleted.append(c.row_id)
            audit.append((c.row_id, "删除", row_json(reg, old), None))
        if count != 1:
            raise _conflict(c, i)
    _written(db, cur, actor, reg.name, result.change_id, audit, now)


_SYSTEM_TYPES = {"id": pa.int64(), "created_at": pa.timestamp("us"), "updated_at": pa.timestamp("us"),
                 "row_version": pa.int32()}


def _insert(cur, reg: Register, rows: list[dict], columns: list[str]) -> None:
    """Insert rows (given `columns`; the others take their defaults) in one statement."""
    fields = {f.name: f for f in reg.fields}
    schema = pa.schema([(col, _SYSTEM_TYPES.get(col) or _arrow_type(fields[col])) for col in columns])
    cur.register("incoming_rows", pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows], schema))
    try:
        cur.execute(
            "INSERT INTO " + q(reg.name) + " (" + ", ".join(q(c) for c in columns) + ") "
            "SELECT " + ", ".join(q(c) for c in columns) + " FROM incoming_rows"
        )
    finally:
        cur.unregister("incoming_rows")


BATCH_UPDATE = 20  # rows from which one joined UPDATE beats one UPDATE per row


def _update(cur, reg: Register, changed: tuple[str, ...], group: list[tuple],
            now: datetime) -> None:
    """Write rows that change the same columns, each only if nobody changed it meanwhile.

    Many rows go in one UPDATE joined to them (a seed or an import updates thousands, and each
    single-row UPDATE costs milliseconds, tens of them on PostgreSQL through DuckDB's extension);
    a few go row by row, as the join reads the whole table.
    """
    sets = ", ".join(q(col) + " = ?" for col in changed)
    single = (
        "UPDATE " + q(reg.name) + " SET " + sets + ", updated_at = ?, row_version = row_version + 1"
        " WHERE id = ? AND row_version = ? AND deleted_at IS NULL"
    )
    ids = [c.row_id for _, c, _, _ in group]
    if len(group) < BATCH_UPDATE or len(set(ids)) < len(ids):
        for i, c, new, old in group:
            if cur.execute(single, [*(new[col] for col in changed), now, c.row_id,
                                    old["row_version"]]).fetchone()[0] != 1:
                raise _conflict(c, i)
        return
    fields = {f.name: f for f in reg.fields}
    incoming = pa.table(
        {"id": pa.array(ids, pa.int64()),
         "expected": pa.array([old["row_version"] for _, _, _, old in group], pa.int32()),
         **{col: pa.array([new[col] for _, _, new, _ in group], _arrow_type(fields[col])) for col in changed}}
    )
    cur.register("incoming_updates", incoming)
    try:
        count = cur.execute(
            "UPDATE " + q(reg.name) + " t SET " + ", ".join(q(col) + " = u." + q(col) for col in changed)
            + ", updated_at = ?, row_version = t.row_version + 1 FROM incoming_updates u"
            " WHERE t.id = u.id AND t.row_version = u.expected AND t.deleted_at IS NULL", [now]
        ).fetchone()[0]
    finally:
        cur.unregister("incoming_updates")
    if count != len(group):
        versions = dict(rows_in(cur, "SELECT id, row_version FROM " + q(reg.name) + " WHERE id IN ", ids))
        i, c = next((i, c) for i, c, _, old in group if versions.get(c.row_id) != old["row_version"] + 1)
        raise _conflict(c, i)


def _conflict(c: RowChange, i: int) -> ConflictError:
    return ConflictError([Problem(c.place(i), "", "此行刚被他人修改，您的修改未保存，请刷新后再改")])
