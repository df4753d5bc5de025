"""Tables derived from register rows and kept by the save path, one module each.

They exist for the speed of the rules that read them; each can be rebuilt from the registers at any
time, so backups leave them out and a restore, `migrate-to` or a new migration rebuilds them.
"""

from __future__ import annotations

from app.fees import bill_totals
from app.service import complaint_facts, work_order_facts
from app.storage.db import Database

KEPT = (bill_totals, work_order_facts, complaint_facts)
TABLES = {t for m in KEPT for t in m.TABLES}
LABELS = {m.TABLE: m.LABEL for m in KEPT}  # what `wuye derived` calls each (by its main table)


WRITES = ("新增", "修改", "删除", "恢复")  # audit actions that change rows (not 导出)


def follow(cur, register: str, entries: list[tuple]) -> None:
    """Refresh what an audited write of `register` rows changes (called by app.saving.changes.write_audit).

    Each module gets the entries that wrote a row: (row_id, action, old JSON, new JSON).
    """
    written = [e for e in entries if e[0] is not None and e[1] in WRITES]
    if written:
        for kept in KEPT:
            kept.follow(cur, register, written)


def rebuild(db: Database, migrations: list[str] | None = None) -> None:
    """Rebuild every derived table, or those whose migration is among `migrations` (just created)."""
    for kept in KEPT:
        if migrations is None or kept.MIGRATION in migrations:
            kept.rebuild(db)


def differences(db: Database) -> dict[str, int]:
    """Rows of each derived table that differ from a recomputation (all 0 when the save path kept them)."""
    return {kept.TABLE: kept.differences(db) for kept in KEPT}
