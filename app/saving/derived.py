"""Tables derived from register rows and kept by the save path, one module each.

They exist for the speed of the rules that read them; each can be rebuilt from the registers at any
time, so backups leave them out and a restore, `migrate-to` or a new migration rebuilds them. Each
module keeps its table in step by subscribing to the save path's writes (app.saving.changes.after_write);
whoever opens the database for the app opens it here, so a derived table a migration has just
created is filled from the registers before anyone reads it.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

from app.storage.db import Database, open_database

# Each keeps one derived table (TABLE, TABLES, LABEL, MIGRATION, rebuild, differences, and an
# after_write subscriber). They live in their areas, above the save path: named here and loaded by
# name, as plugins are, on the first save and whenever the tables are rebuilt.
MODULES = ("app.fees.bill_totals", "app.service.work_order_facts", "app.service.complaint_facts")


@functools.cache
def kept() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(name) for name in MODULES)


@functools.cache
def tables() -> frozenset[str]:
    return frozenset(t for m in kept() for t in m.TABLES)


def labels() -> dict[str, str]:
    """What `wuye derived` calls each table (by its main table)."""
    return {m.TABLE: m.LABEL for m in kept()}


def open_for_app(url: str | None = None, migrate: bool = True, read_only: bool = False) -> Database:
    """The database as the app uses it (app.storage.db.open_database), its derived tables filled."""
    db = open_database(url, migrate=migrate, read_only=read_only)
    rebuild(db, db.migrated)
    return db


def migrate(db: Database, views: bool = True) -> list[str]:
    """Database.migrate, then fill the derived tables a migration has just created."""
    applied = db.migrate(views)
    rebuild(db, applied)
    return applied


def rebuild(db: Database, migrations: list[str] | None = None) -> None:
    """Rebuild every derived table, or those whose migration is among `migrations` (just created)."""
    for module in kept():
        if migrations is None or module.MIGRATION in migrations:
            module.rebuild(db)


def differences(db: Database) -> dict[str, int]:
    """Rows of each derived table that differ from a recomputation (all 0 when the save path kept them)."""
    return {module.TABLE: module.differences(db) for module in kept()}
