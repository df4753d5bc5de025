"""Today's to-do list (view v_todo), ready for the home page: most severe and most overdue first."""

from __future__ import annotations

import pandas as pd

from app import registers
from app.db import Database
from app.permissions import Actor
from app.views import read_view, view_names

SEVERITY_ORDER = {"高": 0, "中": 1, "低": 2}


def todo_list(db: Database, actor: Actor) -> pd.DataFrame | None:
    """None when no rule feeds the list yet; else rows with a link to the row they are about."""
    if "v_todo" not in view_names():
        return None
    todo = read_view(db, actor, "v_todo")
    if todo.empty:
        return todo
    communities = dict(db.rows("SELECT id, name FROM communities"))
    todo = todo.assign(
        community=todo["community_id"].map(communities),
        register=todo["ref_table"].map(
            lambda t: registers.get(t).label if t in registers.catalog() else t),
        link="/" + todo["ref_table"] + "?id=" + todo["ref_id"].astype(str),
        rank=todo["severity"].map(SEVERITY_ORDER),
    )
    return todo.sort_values(["rank", "days_overdue"], ascending=[True, False]).drop(columns="rank")
