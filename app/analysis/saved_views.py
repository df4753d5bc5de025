"""Saved views of a register's grid (issue 12): filters, search, sort, visible columns and their
order, saved by name; personal (the owner's) or shared (everyone's); one may be the default the
register opens on (a personal default before a shared one). A view is a `PageRequest`, so the grid,
the export (`app.exchange.excel.export_register`) and the chart (`chart_data`) read the same rows.

Shared views and shared defaults are made by administrators; anyone who sees a register keeps
personal views of it. Every write is audited (register `saved_views`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from app import registers
from app.access.permissions import ADMIN, Actor, PermissionDenied, require
from app.reading.queries import PageRequest, UnknownColumn, field_of, label_sql, where_clause
from app.registers.expressions import columns_of
from app.registers.model import DECIMALS, Register
from app.storage.audit_log import write_audit
from app.storage.db import Database, q

AUDIT_REGISTER = "saved_views"
NUMBER_TYPES = set(DECIMALS) | {"integer"}


@dataclass
class SavedView:
    id: int | None
    register: str
    name: str
    owner: str
    shared: bool = False
    is_default: bool = False
    search: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str | None = None
    descending: bool = False
    columns: list[str] = field(default_factory=list)  # visible columns in order; empty: all

    @property
    def title(self) -> str:
        mark = "（共享）" if self.shared else "（个人）"
        return self.name + mark + ("·默认" if self.is_default else "")

    def request(self, page_size: int = 50) -> PageRequest:
        return PageRequest(search=self.search, filters=dict(self.filters), sort=self.sort,
                           descending=self.descending, page_size=page_size, columns=list(self.columns) or None)


def column_choices(reg: Register) -> dict[str, str]:
    """Columns a view can show: name -> label (fields, calculated columns, 修改时间)."""
    return {"id": "编号", **{f.name: f.label for f in reg.fields},
            **{c.name: c.label for c in columns_of(reg)}, "updated_at": "修改时间"}


# -- (de)serializing the spec -------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [_encode(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _decode(reg: Register, col: str, value: Any) -> Any:
    f = reg.field(col)
    if f.type == "date" and isinstance(value, list) and len(value) == 2:
        return tuple(date.fromisoformat(v) if isinstance(v, str) else v for v in value)
    if isinstance(value, list) and len(value) == 2 and f.type in NUMBER_TYPES:
        return tuple(value)
    return value


def spec_of(view: SavedView) -> str:
    return json.dumps({
        "search": view.search, "sort": view.sort, "descending": view.descending, "columns": view.columns,
        "filters": {k: _encode(v) for k, v in view.filters.items()},
    }, ensure_ascii=False, sort_keys=True)


def _from_row(row: tuple) -> SavedView | None:
    id_, register, name, owner, shared, is_default, spec = row
    reg = registers.catalog().get(register)
    if reg is None:
        return None
    data = json.loads(spec)
    allowed = column_choices(reg)
    filters = {k: _decode(reg, k, v) for k, v in data.get("filters", {}).items() if reg.has_field(k)}
    sort = data.get("sort")
    return SavedView(int(id_), register, name, owner, bool(shared), bool(is_default), data.get("search", ""),
                     filters, sort if sort in allowed else None, bool(data.get("descending")),
                     [c for c in data.get("columns", []) if c in allowed])


# -- reading ------------------------------------------------------------------------------------
COLUMNS = "id, register, name, owner, shared, is_default, spec"


def views_for(db: Database, actor: Actor, register: str) -> list[SavedView]:
    """The views of a register the actor may use: their own, then the shared ones."""
    require(actor, register, "view", registers.get(register).label)
    rows = db.rows("SELECT " + COLUMNS + " FROM saved_views WHERE register = ? AND (owner = ? OR shared) "
                   "ORDER BY shared, name, id", [register, actor.user])
    return [v for v in map(_from_row, rows) if v is not None]


def default_view(db: Database, actor: Actor, register: str) -> SavedView | None:
    """The view the register opens on: the actor's own default, else the shared one."""
    found = [v for v in views_for(db, actor, register) if v.is_default]
    mine = [v for v in found if not v.shared and v.owner == actor.user]
    return (mine or found or [None])[0]


def get_view(db: Database, actor: Actor, view_id: int) -> SavedView:
    rows = db.rows("SELECT " + COLUMNS + " FROM saved_views WHERE id = ?", [view_id])
    view = _from_row(rows[0]) if rows else None
    if view is None or not (view.shared or view.owner == actor.user):
        raise KeyError(f"没有编号为 {view_id} 的视图")
    require(actor, view.register, "view", registers.get(view.register).label)
    return view


# -- writing ------------------------------------------------------------------------------------
def _check(actor: Actor, view: SavedView) -> None:
    reg = registers.get(view.register)
    require(actor, reg.name, "view", reg.label)
    if view.shared and actor.role != ADMIN:
        raise PermissionDenied(f"{actor.user}（{actor.role}）无权保存共享视图：只有管理员可以")
    if not view.name.strip():
        raise ValueError("请给视图起个名字")
    for col in view.filters:
        field_of(reg, col)
    allowed = column_choices(reg)
    unknown = [c for c in [*view.columns, *([view.sort] if view.sort else [])] if c not in allowed]
    if unknown:
        raise UnknownColumn(f"「{reg.label}」没有名为「{'、'.join(map(str, unknown))}」的列")


def save_view(db: Database, actor: Actor, view: SavedView) -> SavedView:
    """Save a view (a new one, or the actor's own of the same name replaced); audited."""
    view.name = view.name.strip()
    view.owner = actor.user
    _check(actor, view)
    with db.transaction() as cur:
        old = cur.execute("SELECT " + COLUMNS + " FROM saved_views WHERE register = ? AND name = ? AND owner = ? "
                          "AND shared = ?", [view.register, view.name, view.owner, view.shared]).fetchall()
        if view.is_default:  # one default per owner (personal) or per register (shared)
            if view.shared:
                cur.execute("UPDATE saved_views SET is_default = FALSE WHERE register = ? AND shared", [view.register])
            else:
                cur.execute("UPDATE saved_views SET is_default = FALSE WHERE register = ? AND owner = ? "
                            "AND NOT shared", [view.register, view.owner])
        now = db.now()
        if old:
            view.id = int(old[0][0])
            cur.execute("UPDATE saved_views SET is_default = ?, spec = ?, updated_at = ? WHERE id = ?",
                        [view.is_default, spec_of(view), now, view.id])
        else:
            view.id = db.allocate_ids(cur, "saved_views", 1)[0]
            cur.execute("INSERT INTO saved_views (id, register, name, owner, shared, is_default, spec, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [view.id, view.register, view.name, view.owner, view.shared, view.is_default,
                         spec_of(view), now, now])
        write_audit(db, cur, actor, AUDIT_REGISTER, uuid.uuid4().hex, [(
            view.id, "修改" if old else "新增", json.dumps(old[0][1:], ensure_ascii=False, default=str) if old else None,
            json.dumps({"register": view.register, "name": view.name, "shared": view.shared,
                        "is_default": view.is_default, "spec": spec_of(view)}, ensure_ascii=False),
        )], note=f"视图「{view.name}」")
    return view


def delete_view(db: Database, actor: Actor, view_id: int) -> None:
    view = get_view(db, actor, view_id)
    if view.owner != actor.user and actor.role != ADMIN:
        raise PermissionDenied(f"{actor.user} 无权删除他人的视图「{view.name}」")
    with db.transaction() as cur:
        cur.execute("DELETE FROM saved_views WHERE id = ?", [view_id])
        write_audit(db, cur, actor, AUDIT_REGISTER, uuid.uuid4().hex,
                    [(view_id, "删除", spec_of(view), None)], note=f"视图「{view.name}」")


# -- charting ------------------------------------------------------------------------------------
def chart_data(db: Database, actor: Actor, register: str, request: PageRequest, group_by: str,
               measure: str | None = None) -> pd.DataFrame:
    """Rows of a view grouped by one column: 分组, 行数 and (with a number column) 合计."""
    reg = registers.get(register)
    require(actor, reg.name, "view", reg.label)
    f = field_of(reg, group_by, "分组")
    if f.is_personal:
        raise ValueError("个人信息列不能用于分组")
    if f.type == "ref":
        ref = registers.get(f.ref)
        key = "(SELECT " + label_sql(ref, "x", 1) + " FROM " + q(ref.name) + " x WHERE x.id = t." + q(f.name) + ")"
    else:
        key = "CAST(t." + q(f.name) + " AS VARCHAR)"
    total = ""
    if measure:
        m = field_of(reg, measure, "合计")
        if m.type not in NUMBER_TYPES:
            raise ValueError(f"「{m.label}」不是数值列")
        total = ", sum(t." + q(m.name) + ") AS 合计"
    where, params = where_clause(reg, request, actor)
    sql = ("SELECT coalesce(" + key + ", '（空）') AS 分组, count(*) AS 行数" + total + " FROM " + q(reg.name)
           + " t" + where + " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50")
    frame = db.query(sql, params)
    if "合计" in frame:
        frame["合计"] = frame["合计"].astype(float)
    return frame
