"""Rows added through the one save path, for tests that build their own estate."""

from __future__ import annotations

from app.saving.changes import RowChange, apply_changes


def add(db, actor, register: str, **values) -> int:
    """Insert one row as `actor` (validated, audited) and return its id."""
    return apply_changes(db, actor, register, [RowChange("insert", values=values)]).inserted[0]
