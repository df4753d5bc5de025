"""Reading registers: labels of rows, a page of a register, and reference resolution.

SQL text is assembled only from identifiers of register definitions (quoted by `q`);
every value is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from app import registers
from app.access.permissions import Actor, can, mask_value, require, sees_personal_data
from app.registers.expressions import select_sql
from app.registers.model import TEXT_TYPES, Register, money_text
from app.storage.db import Database, in_list, q

LABEL_SEPARATOR = "/"


def label_sql(reg: Register, alias: str, depth: int = 0) -> str:
    """SQL for the human label of a row: its display fields, refs expanded, joined by '/'."""
    if not reg.display:
        return "CAST(" + alias + ".id AS VARCHAR)"
    parts = []
    for col in reg.display:
        f = reg.field(col)
        if f.type == "ref":
            inner = f"r{depth + 1}"
            ref = registers.get(f.ref)
            parts.append(
                "(SELECT " + label_sql(ref, inner, depth + 1) + " FROM " + q(ref.name) + " "
                + inner + " WHERE " + inner + ".id = " + alias + "." + q(col) + ")"
            )
        else:
            parts.append("CAST(" + alias + "." + q(col) + " AS VARCHAR)")
    return "concat_ws('" + LABEL_SEPARATOR + "', " + ", ".join(parts) + ")"


class UnknownColumn(ValueError):
    """A filter or sort names a column the register does not have; str() is the Chinese message."""


def field_of(reg: Register, col: str, purpose: str = "筛选"):
    """The field a filter (sort, grouping…) names, or UnknownColumn naming the column."""
    if not isinstance(col, str) or not reg.has_field(col):
        raise UnknownColumn(f"「{reg.label}」没有名为「{col}」的列，不能按它{purpose}")
    return reg.field(col)


def owner_columns(reg: Register) -> tuple[str, str] | None:
    """(owner column, shared column) of a register whose rows belong to a user and are private
    unless shared (`owner_field`/`shared_field` in its definition, e.g. saved queries)."""
    owner, shared = reg.extra.get("owner_field"), reg.extra.get("shared_field")
    return (owner, shared) if owner and shared else None


ATTACHMENTS = "attachments"


def community_filter_sql(reg: Register, alias: str, actor: Actor) -> tuple[str, list]:
    """A WHERE fragment limiting rows to those the actor may see (empty when unlimited).

    Three limits, every read path goes through here: the actor's communities (directly or
    through the parent row, owners -> households); private rows of registers with an owner
    (only their owner sees them); attachments, which take the visibility of the row they
    belong to (its register must be viewable, its row in scope).
    """
    where, params = _community_only(reg, alias, actor)
    owned = owner_columns(reg)
    if owned:
        where += " AND (" + alias + "." + q(owned[1]) + " OR " + alias + "." + q(owned[0]) + " = ?)"
        params = [*params, actor.user]
    if reg.name == ATTACHMENTS:
        sub, sub_params = _attachment_parents_sql(alias, actor)
        where += sub
        params = [*params, *sub_params]
    return where, params


def _community_only(reg: Register, alias: str, actor: Actor) -> tuple[str, list]:
    if actor.communities is None or reg.community is None:
        return "", []
    ids = list(actor.communities)
    col = reg.community
    f = reg.field(col)
    if f.type == "ref" and f.ref != "communities":
        parent = registers.get(f.ref)
        sub, params = _community_only(parent, "p", actor)
        return (
            " AND " + alias + "." + q(col) + " IN (SELECT p.id FROM " + q(parent.name) + " p WHERE TRUE" + sub + ")",
            params,
        )
    placeholders, params = in_list(ids)
    return " AND " + alias + "." + q(col) + " IN " + placeholders, params


def _attachment_parents_sql(alias: str, actor: Actor) -> tuple[str, list]:
    """Attachments whose row the actor sees: free registers by name, limited ones row by row."""
    free: list[str] = []
    limited: list[str] = []
    params: list = []
    for parent in registers.catalog().values():
        if parent.name == ATTACHMENTS or not can(actor, parent.name, "view"):
            continue
        sub, sub_params = community_filter_sql(parent, "ap", actor)
        if not sub:
            free.append(parent.name)
            continue
        limited.append("(" + alias + "." + q("register") + " = ? AND " + alias + "." + q("row_id")
                       + " IN (SELECT ap.id FROM "
                       + q(parent.name) + " ap WHERE TRUE" + sub + "))")
        params += [parent.name, *sub_params]
    parts = []
    free_params: list = []
    if free:
        placeholders, free_params = in_list(free)
        parts.append(alias + "." + q("register") + " IN " + placeholders)
    return " AND (" + " OR ".join([*parts, *limited] or ["FALSE"]) + ")", [*free_params, *params]


def options(db: Database, reg: Register, actor: Actor, limit: int = 5000) -> dict[int, str]:
    """id -> label of every live row (for select boxes); empty when there are too many."""
    where, params = community_filter_sql(reg, "t", actor)
    sql = (
        "SELECT t.id, " + label_sql(reg, "t") + " FROM " + q(reg.name) + " t "
        "WHERE t.deleted_at IS NULL" + where + " ORDER BY 2 LIMIT ?"
    )
    rows = db.rows(sql, [*params, limit + 1])
    return {} if len(rows) > limit else dict(rows)


def labels_for(db: Database, reg: Register, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    placeholders, params = in_list(sorted(set(ids)))
    sql = "SELECT t.id, " + label_sql(reg, "t") + " FROM " + q(reg.name) + " t WHERE t.id IN " + placeholders
    return dict(db.rows(sql, params))


def resolve_labels(db, reg: Register, texts: list[str], cur=None) -> dict[str, list[tuple[int, str, Any]]]:
    """Candidates per text: rows whose label equals it or ends with '/<text>'.

    Returns text -> [(id, label, community_id or None)], so '3-2-1201' finds the household
    in whatever community has it, and the caller decides when that is ambiguous.
    """
    if not texts:
        return {}
    community = "t." + q("community_id") if reg.has_field("community_id") else "NULL"
    sql = (
        "WITH labels AS (SELECT t.id, " + label_sql(reg, "t") + " AS label, " + community
        + " AS community_id FROM " + q(reg.name) + " t WHERE t.deleted_at IS NULL), "
        "wanted AS (SELECT unnest(?) AS text) "
        "SELECT w.text, l.id, l.label, l.community_id FROM wanted w JOIN labels l "
        "ON l.label = w.text OR ends_with(l.label, '" + LABEL_SEPARATOR + "' || w.text)"
    )
    runner = cur if cur is not None else db.cursor()
    found: dict[str, list] = {t: [] for t in texts}
    for text, id_, label, cid in runner.execute(sql, [sorted(set(texts))]).fetchall():
        found[text].append((id_, label, cid))
    return found


# -- a page of a register -----------------------------------------------------------------
@dataclass
class PageRequest:
    search: str = ""
    filters: dict[str, Any] = field(default_factory=dict)  # column -> value, list or (lo, hi)
    sort: str | None = None
    descending: bool = False
    page: int = 1
    page_size: int = 50
    include_deleted: bool = False
    columns: list[str] | None = None  # visible columns in order (a saved view); None: all


def where_clause(reg: Register, req: PageRequest, actor: Actor) -> tuple[str, list]:
    clauses = ["t.deleted_at IS NULL"] if not req.include_deleted else ["TRUE"]
    params: list[Any] = []
    scope, scope_params = community_filter_sql(reg, "t", actor)
    if scope:
        clauses.append(scope.removeprefix(" AND "))
        params += scope_params
    if req.search.strip():
        words = []
        for f in reg.fields:
            if f.type in TEXT_TYPES and not (f.is_personal and not sees_personal_data(actor)):
                words.append("t." + q(f.name) + " ILIKE ?")
            elif f.type == "ref":
                ref = registers.get(f.ref)
                words.append(
                    "t." + q(f.name) + " IN (SELECT s.id FROM " + q(ref.name) + " s WHERE "
                    + label_sql(ref, "s", 5) + " ILIKE ?)"
                )
        if words:
            clauses.append("(" + " OR ".join(words) + ")")
            params += ["%" + req.search.strip() + "%"] * len(words)
    for col, value in req.filters.items():
        f = field_of(reg, col)
        target = "t." + q(col)
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, (list, tuple, set)) and f.type in ("enum", "ref", "boolean", "text"):
            placeholders, values = in_list(value)
            clauses.append(target + " IN " + placeholders)
            params += values
        elif isinstance(value, tuple) or (isinstance(value, list) and len(value) == 2):
            lo, hi = value
            if lo is not None:
                clauses.append(target + " >= ?")
                params.append(lo)
            if hi is not None:
                clauses.append(target + " <= ?")
                params.append(hi)
        elif f.type in TEXT_TYPES:
            clauses.append(target + " ILIKE ?")
            params.append("%" + str(value) + "%")
        else:
            clauses.append(target + " = ?")
            params.append(value)
    return " WHERE " + " AND ".join(clauses), params


def order_clause(reg: Register, req: PageRequest) -> str:
    if req.sort and (req.sort == "id" or reg.has_field(req.sort) or req.sort in reg.columns):
        direction = " DESC" if req.descending else " ASC"
        return " ORDER BY t." + q(req.sort) + direction + " NULLS LAST, t.id" + direction
    if req.sort and any(c.get("name") == req.sort for c in reg.extra.get("calculated", [])):
        direction = " DESC" if req.descending else " ASC"  # a calculated column: its output name
        return " ORDER BY " + q(req.sort) + direction + " NULLS LAST, t.id" + direction
    if req.sort:
        raise UnknownColumn(f"「{reg.label}」没有名为「{req.sort}」的列，不能按它排序")
    return " ORDER BY " + default_order_sql(reg)


def default_order_sql(reg: Register, alias: str = "t") -> str:
    """The definition's order (issue 21: ledgers newest first); NULLS LAST on both backends."""
    return ", ".join(alias + "." + q(c) + (" DESC" if desc else " ASC") + " NULLS LAST"
                     for c, desc in reg.order_keys)


def count_rows(db: Database, reg: Register, req: PageRequest, actor: Actor) -> int:
    where, params = where_clause(reg, req, actor)
    return int(db.query_page("SELECT count(*) AS n FROM " + q(reg.name) + " t" + where, params)["n"][0])


def fetch_page(db: Database, actor: Actor, reg: Register, req: PageRequest) -> tuple[pd.DataFrame, int]:
    """One page of rows in the database's order; personal data masked for the actor."""
    require(actor, reg.name, "view", reg.label)
    total = count_rows(db, reg, req, actor)
    where, params = where_clause(reg, req, actor)
    calculated, calc_params = calculated_sql(reg)
    sql = (
        "SELECT t.*" + "".join(", " + c for c in calculated) + " FROM " + q(reg.name) + " t" + where
        + order_clause(reg, req) + " LIMIT ? OFFSET ?"
    )
    frame = db.query_page(sql, [*calc_params, *params, req.page_size, (max(req.page, 1) - 1) * req.page_size])
    return mask_frame(reg, frame, actor), total


def calculated_sql(reg: Register, alias: str = "t") -> tuple[list[str], list]:
    """SELECT items of the register's calculated columns (issue 12, app/registers/expressions.py)."""
    if not reg.extra.get("calculated"):
        return [], []
    return select_sql(reg, alias)


def mask_frame(reg: Register, frame: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    if sees_personal_data(actor):
        return frame
    frame = frame.copy()
    for f in reg.fields:
        if f.is_personal and f.name in frame:
            frame[f.name] = [mask_value(f.type, v) for v in frame[f.name]]
    return frame


def register_counts(db: Database, actor: Actor, names: list[str]) -> dict[str, int]:
    out = {}
    for name in names:
        reg = registers.get(name)
        out[name] = count_rows(db, reg, PageRequest(), actor)
    return out


def today(db: Database) -> date:
    return db.now().date()


def fetch_row(db: Database, actor: Actor, reg: Register, row_id: int) -> dict | None:
    """One live row as {label: shown value}: refs as labels, personal data masked."""
    require(actor, reg.name, "view", reg.label)
    scope, params = community_filter_sql(reg, "t", actor)
    frame = db.query(
        "SELECT t.* FROM " + q(reg.name) + " t WHERE t.id = ? AND t.deleted_at IS NULL" + scope,
        [row_id, *params],
    )
    if frame.empty:
        return None
    row = mask_frame(reg, frame, actor).iloc[0]
    shown: dict[str, Any] = {"编号": int(row["id"])}
    for f in reg.fields:
        value = row[f.name]
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            value = ""
        elif f.type == "ref":
            value = labels_for(db, registers.get(f.ref), [int(value)]).get(int(value), value)
        elif f.type == "boolean":
            value = "是" if value else "否"
        elif f.type == "money":
            value = money_text(value)
        shown[f.label] = str(value)
    shown["修改时间"] = f"{row['updated_at']:%Y-%m-%d %H:%M}"
    return shown
