"""Reading the audit trail: who changed what, when, from which values to which."""

from __future__ import annotations

import json

import pandas as pd

from app import registers
from app.db import Database
from app.permissions import Actor, mask_value, require, sees_personal_data

COLUMNS = {"changed_at": "时间", "actor": "操作人", "source": "来源", "action": "操作",
           "row_id": "编号", "change": "内容"}


def _describe(register: str, action: str, old: str | None, new: str | None, actor: Actor) -> str:
    """One readable line: 建筑面积(㎡) 89.50 → 90.25；状态 空置 → 已入住."""
    reg = registers.get(register) if register in registers.catalog() else None
    before, after = json.loads(old) if old else {}, json.loads(new) if new else {}
    hide = not sees_personal_data(actor)

    def label(col: str) -> str:
        try:
            return reg.label_of(col) if reg else col
        except KeyError:
            return col

    def shown(col: str, value) -> str:
        if value is None:
            return "空"
        if hide and reg and reg.has_field(col) and reg.field(col).is_personal:
            return mask_value(reg.field(col).type, str(value))
        return str(value)

    if action == "修改":
        return "；".join(f"{label(c)} {shown(c, before.get(c))} → {shown(c, after.get(c))}" for c in after)
    row = after or before
    keep = [c for c in row if reg is None or reg.has_field(c)]
    return "；".join(f"{label(c)} {shown(c, row[c])}" for c in keep if row[c] is not None)


def history(db: Database, actor: Actor, register: str, row_id: int | None = None,
            limit: int = 100) -> pd.DataFrame:
    """The newest audit entries of a register (or of one row), as readable lines."""
    require(actor, register, "view")
    sql = ("SELECT changed_at, actor, source, action, row_id, old_values, new_values, note "
           "FROM audit_log WHERE register = ?")
    params: list = [register]
    if row_id is not None:
        sql += " AND row_id = ?"
        params.append(row_id)
    rows = db.rows(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    frame = pd.DataFrame(
        [{"changed_at": at, "actor": who, "source": src, "action": act, "row_id": rid,
          "change": note if act == "导出" else _describe(register, act, old, new, actor)}
         for at, who, src, act, rid, old, new, note in rows],
        columns=list(COLUMNS),
    )
    return frame.rename(columns=COLUMNS)
