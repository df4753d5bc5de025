"""Reading the audit trail and reverting from it.

Who changed what, when, from which values to which: per register, per row, per change set
(a grid save, an import). A revert builds the opposite change set and hands it to the save
path like any other save, so it is checked by every rule, audited (source 撤销) and refused
with the reason when it would break a rule or when the row changed again since.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app import registers
from app.access.permissions import Actor, can, mask_value, require, sees_personal_data
from app.reading.queries import community_filter_sql, labels_for
from app.saving.changes import ConflictError, Problem, RowChange, SaveResult, apply_changes
from app.storage.db import Database, in_list, q

COLUMNS = {"changed_at": "时间", "actor": "操作人", "source": "来源", "action": "操作",
           "row_id": "编号", "change": "内容"}
REVERT_SOURCE = "撤销"
# What undoes each audited action of a register row.
OPPOSITE = {"新增": "delete", "修改": "update", "删除": "restore", "恢复": "delete"}


@dataclass
class FieldChange:
    column: str
    label: str
    old: str
    new: str


@dataclass
class AuditEntry:
    id: int
    change_id: str
    changed_at: Any
    actor: str
    role: str | None
    source: str | None
    register: str
    row_id: int | None
    action: str
    note: str | None
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def revertible(self) -> bool:
        return self.action in OPPOSITE and self.row_id is not None and self.register in registers.catalog()

    @property
    def summary(self) -> str:
        if self.action == "修改":
            return "；".join(f"{f.label} {f.old} → {f.new}" for f in self.fields)
        return "；".join(f"{f.label} {f.new if self.action != '删除' else f.old}" for f in self.fields) \
            or (self.note or "")


RefLabels = dict[str, dict[int, str]]  # referenced register -> id -> its row's label


def _field_changes(register: str, action: str, old: str | None, new: str | None, actor: Actor,
                   ref_labels: RefLabels | None = None) -> list[FieldChange]:
    reg = registers.catalog().get(register)
    before, after = json.loads(old) if old else {}, json.loads(new) if new else {}
    hide = not sees_personal_data(actor)
    ref_labels = ref_labels or {}

    def label(col: str) -> str:
        try:
            return reg.label_of(col) if reg else col
        except KeyError:
            return col

    def shown(col: str, value) -> str:
        if value is None:
            return "空"
        if hide and reg and reg.has_field(col) and reg.field(col).is_personal:
            return mask_value(reg.field(col).type, str(value)) or ""
        ref = _ref_of(reg, col)
        if ref is not None:  # a reference reads as its row's label (阳光花园/10-3-402), not an id
            return ref_labels.get(ref, {}).get(_as_id(value), str(value))
        return str(value)

    if action == "修改":
        cols = list(after) or list(before)
        return [FieldChange(c, label(c), shown(c, before.get(c)), shown(c, after.get(c))) for c in cols]
    row = after or before
    keep = [c for c in row if (reg is None or reg.has_field(c)) and row[c] is not None]
    return [FieldChange(c, label(c), shown(c, before.get(c)), shown(c, after.get(c))) for c in keep]


_SELECT = ("SELECT id, change_id, changed_at, actor, actor_role, source, register, row_id, action, "
           "old_values, new_values, note FROM audit_log")


def _ref_of(reg, col: str) -> str | None:
    """The register a column refers to; None when it is no reference."""
    if reg is None or not reg.has_field(col):
        return None
    f = reg.field(col)
    return f.ref if f.type == "ref" and f.ref in registers.catalog() else None


def _as_id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ref_labels(db: Database, rows: list[tuple]) -> RefLabels:
    """The labels of every row the audit rows refer to, one query per referenced register."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        reg = registers.catalog().get(row[6])
        for text in (row[9], row[10]):
            for col, value in (json.loads(text) if text else {}).items():
                ref = _ref_of(reg, col)
                if ref is not None and _as_id(value) is not None:
                    wanted[ref].add(_as_id(value))
    return {ref: labels_for(db, registers.get(ref), sorted(ids)) for ref, ids in wanted.items()}


def _entries(db: Database, actor: Actor, sql: str, params: list) -> list[AuditEntry]:
    rows = db.rows(sql, params)
    labels = _ref_labels(db, rows)
    out = []
    for (aid, cid, at, who, role, source, register, row_id, action, old, new, note) in rows:
        out.append(AuditEntry(aid, cid, at, who, role, source, register, row_id, action, note,
                              _field_changes(register, action, old, new, actor, labels)))
    return out


def _scope_sql(actor: Actor, register: str) -> tuple[str, list]:
    """Limit audit rows to rows the actor may see: of their communities (deleted ones included),
    and never another user's private row (a saved query's SQL), administrators included."""
    reg = registers.catalog().get(register)
    if reg is None:
        return "", []
    if reg.name == "communities":
        if actor.communities is None:
            return "", []
        placeholders, params = in_list(actor.communities)
        return " AND row_id IN " + placeholders, params
    where, params = community_filter_sql(reg, "t", actor)
    if not where:
        return "", []
    return " AND row_id IN (SELECT t.id FROM " + q(reg.name) + " t WHERE TRUE" + where + ")", params


def entries(db: Database, actor: Actor, register: str, row_id: int | None = None,
            change_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries of a register (or of one row, or of one change set), masked and scoped."""
    require(actor, register, "view", _label(register))
    sql = _SELECT + " WHERE register = ?"
    params: list = [register]
    if row_id is not None:
        sql += " AND row_id = ?"
        params.append(row_id)
    if change_id is not None:
        sql += " AND change_id = ?"
        params.append(change_id)
    scope, scope_params = _scope_sql(actor, register)
    return _entries(db, actor, sql + scope + " ORDER BY id DESC LIMIT ?", [*params, *scope_params, limit])


def change_set(db: Database, actor: Actor, change_id: str) -> list[AuditEntry]:
    """Every entry of one save, in the order written, of the registers the actor may see."""
    found = _entries(db, actor, _SELECT + " WHERE change_id = ? ORDER BY id", [change_id])
    visible = {e.register for e in found if _may_view(actor, e.register)}
    return [e for e in found if e.register in visible and _in_scope(db, actor, e)]


def _may_view(actor: Actor, register: str) -> bool:
    return can(actor, register, "view")


def _in_scope(db: Database, actor: Actor, entry: AuditEntry) -> bool:
    scope, params = _scope_sql(actor, entry.register)
    if not scope or entry.row_id is None:
        return True
    return bool(db.scalar("SELECT count(*) FROM audit_log WHERE id = ?" + scope, [entry.id, *params]))


def _label(register: str) -> str:
    reg = registers.catalog().get(register)
    return reg.label if reg else register


def history(db: Database, actor: Actor, register: str, row_id: int | None = None,
            limit: int = 100) -> pd.DataFrame:
    """The newest audit entries of a register (or of one row), as readable lines."""
    found = entries(db, actor, register, row_id, limit=limit)
    frame = pd.DataFrame(
        [{"changed_at": e.changed_at, "actor": e.actor, "source": e.source, "action": e.action,
          "row_id": e.row_id, "change": e.note if e.action == "导出" else e.summary} for e in found],
        columns=list(COLUMNS),
    )
    return frame.rename(columns=COLUMNS)


def entries_frame(found: list[AuditEntry]) -> pd.DataFrame:
    """One line per field change (old → new), for the audit page."""
    rows = []
    for e in found:
        base = {"记录": e.id, "时间": e.changed_at, "操作人": e.actor, "角色": e.role, "来源": e.source,
                "操作": e.action, "编号": e.row_id}
        if e.action == "修改" and e.fields:
            rows += [{**base, "字段": f.label, "原值": f.old, "新值": f.new} for f in e.fields]
        else:
            rows.append({**base, "字段": "", "原值": "", "新值": e.summary if e.action != "导出" else e.note})
    return pd.DataFrame(rows, columns=["记录", "时间", "操作人", "角色", "来源", "操作", "编号", "字段",
                                       "原值", "新值"])


# -- reverting -------------------------------------------------------------------------------
def _raw(db: Database, where: str, params: list) -> list[tuple]:
    return db.rows("SELECT id, register, row_id, action, old_values, new_values FROM audit_log WHERE "
                   + where + " ORDER BY id", params)


def revert_entry(db: Database, actor: Actor, audit_id: int) -> SaveResult:
    """Undo one audited change of one row through the save path."""
    rows = _raw(db, "id = ?", [audit_id])
    if not rows:
        raise KeyError(f"没有编号为 {audit_id} 的修改记录")
    return _revert(db, actor, rows)[0]


def revert_change_set(db: Database, actor: Actor, change_id: str) -> list[SaveResult]:
    """Undo a whole save (every row it changed), one save per register, newest register first."""
    rows = _raw(db, "change_id = ?", [change_id])
    if not rows:
        raise KeyError(f"没有这次保存（{change_id}）的修改记录")
    return _revert(db, actor, rows)


def _revert(db: Database, actor: Actor, rows: list[tuple]) -> list[SaveResult]:
    by_register: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        if row[1] in registers.catalog() and row[3] in OPPOSITE and row[2] is not None:
            by_register[row[1]].append(row)
    if not by_register:
        raise ConflictError([Problem("修改记录", "", "这条记录不是台账行的修改（例如导出），无法撤销")])
    order = sorted(by_register, key=lambda r: -max(x[0] for x in by_register[r]))
    plans = [(name, _opposite_changes(db, name, by_register[name])) for name in order]
    return [apply_changes(db, actor.via(REVERT_SOURCE), name, changes) for name, changes in plans]


def _opposite_changes(db: Database, register: str, rows: list[tuple]) -> list[RowChange]:
    """The change set that undoes these audit rows of one register; refused if a row moved on since."""
    reg = registers.get(register)
    ids = sorted({r[2] for r in rows})
    placeholders, params = in_list(ids)
    res = db.cursor().execute("SELECT * FROM " + q(reg.name) + " WHERE id IN " + placeholders, params)
    names = [d[0] for d in res.description]
    current = {r[0]: dict(zip(names, r)) for r in res.fetchall()}
    first: dict[int, tuple] = {}
    last: dict[int, tuple] = {}
    for r in rows:  # several entries of one row in one save: undo back to before the first
        first.setdefault(r[2], r)
        last[r[2]] = r
    problems: list[Problem] = []
    changes = []
    for row_id in ids:
        aid, _, _, action, _, _ = first[row_id]
        newest = last[row_id]
        now = current.get(row_id)
        place = f"编号 {row_id}"
        if now is None:
            problems.append(Problem(place, "", "此行已不存在"))
            continue
        moved = _moved_on(reg, db, row_id, newest[0])
        if moved:
            problems.append(Problem(place, "", f"此后又被 {moved} 修改过，请先撤销较新的修改"))
            continue
        kind = OPPOSITE[action]
        if kind == "update":
            old = json.loads(first[row_id][4] or "{}")
            changes.append(RowChange("update", row_id, values=old, version=now["row_version"],
                                     where=place))
        else:
            changes.append(RowChange(kind, row_id, version=now["row_version"], where=place))
    if problems:
        raise ConflictError(problems)
    return changes


def _moved_on(reg, db: Database, row_id: int, audit_id: int) -> str | None:
    """Who changed the row after this audit entry (None: nobody)."""
    later = db.rows("SELECT actor, changed_at FROM audit_log WHERE register = ? AND row_id = ? AND id > ? "
                    "AND action IN ('新增', '修改', '删除', '恢复') ORDER BY id DESC LIMIT 1",
                    [reg.name, row_id, audit_id])
    if not later:
        return None
    who, at = later[0]
    return f"{who}（{at:%Y-%m-%d %H:%M}）"
