"""The audit writer: appends audit rows inside the caller's transaction, and nothing else.

What a write changes beyond its own rows (the derived tables) follows from the save path's write
subscribers (`app.saving.changes.after_write`), not from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from app.access.permissions import Actor
    from app.storage.db import Database

WRITES = ("新增", "修改", "删除", "恢复")  # audit actions that change rows (not 导出)


def write_audit(db: Database, cur, actor: Actor, register: str, change_id: str,
                entries: list[tuple], at: datetime | None = None, note: str | None = None) -> None:
    """Append audit rows (row_id, action, old JSON, new JSON) inside the caller's transaction."""
    if not entries:
        return
    at = at or db.now()
    ids = db.allocate_ids(cur, "audit_log", len(entries))
    table = pa.table({
        "id": pa.array(ids, pa.int64()),
        "change_id": [change_id] * len(entries),
        "changed_at": pa.array([at] * len(entries), pa.timestamp("us")),
        "actor": [actor.user] * len(entries),
        "actor_role": [actor.role] * len(entries),
        "source": [actor.source] * len(entries),
        "register": [register] * len(entries),
        "row_id": pa.array([e[0] for e in entries], pa.int64()),
        "action": [e[1] for e in entries],
        "old_values": pa.array([e[2] for e in entries], pa.string()),
        "new_values": pa.array([e[3] for e in entries], pa.string()),
        "note": pa.array([note] * len(entries), pa.string()),
    })
    cur.register("incoming_audit", table)
    try:
        cur.execute(
            "INSERT INTO audit_log (id, change_id, changed_at, actor, actor_role, source, register, row_id, "
            "action, old_values, new_values, note) SELECT id, change_id, changed_at, actor, actor_role, source, "
            "register, row_id, action, old_values, new_values, note FROM incoming_audit"
        )
    finally:
        cur.unregister("incoming_audit")
    if hasattr(cur, "changed_rows") and any(e[1] in WRITES for e in entries):
        cur.changed_rows = True  # every audited write of rows: the commit gives the data a new version
