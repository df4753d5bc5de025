"""Today's to-do list (view v_todo), ready for the home page: most severe and most overdue first."""

from __future__ import annotations

import pandas as pd

from app import registers
from app.access.permissions import Actor, require
from app.analysis.figure_cache import cached
from app.reading.views import read_view, view_info, view_names
from app.storage.db import Database, in_list

SEVERITY_ORDER = {"高": 0, "中": 1, "低": 2}


def link_rows(db: Database, todo: pd.DataFrame) -> tuple[list[str], list[int | None]]:
    """The (register, id) each item opens: a 回访 opens its work order (the desk shows the visits).

    The id is None for an item about no row yet (a 小区 that never held a fire drill).
    """
    tables = list(todo["ref_table"])
    ids = [None if pd.isna(i) else int(i) for i in todo["ref_id"]]
    visits = [i for t, i in zip(tables, ids) if t == "work_order_visits" and i is not None]
    if visits:
        placeholders, params = in_list(visits)
        order_of = dict(db.rows("SELECT id, work_order_id FROM work_order_visits WHERE id IN " + placeholders,
                                params))
        for n, (t, i) in enumerate(zip(tables, ids)):
            if t == "work_order_visits" and order_of.get(i) is not None:
                tables[n], ids[n] = "work_orders", int(order_of[i])
    return tables, ids


def todo_list(db: Database, actor: Actor) -> pd.DataFrame | None:
    """None when no rule feeds the list yet; else rows with a link to the page of what they are about."""
    if "v_todo" not in view_names():
        return None
    require(actor, "v_todo", "view", view_info("v_todo").title)
    who = (actor.user, actor.role, actor.communities, actor.grants, actor.personal_data)
    # the rule's rows depend on the day (v_todo is todo_as_of(current_date)) and on who reads them
    return cached(db, ("todo_list", db.now().date(), who), lambda: _todo_list(db, actor))


def _todo_list(db: Database, actor: Actor) -> pd.DataFrame:
    from app.ui.nav import href

    todo = read_view(db, actor, "v_todo")
    if todo.empty:
        return todo.assign(community=[], register=[], link=[])
    communities = dict(db.rows("SELECT id, name FROM communities"))
    tables, ids = link_rows(db, todo)
    todo = todo.assign(
        community=todo["community_id"].map(communities),
        register=todo["ref_table"].map(
            lambda t: registers.get(t).label if t in registers.catalog() else t),
        link=[href(t, i, a) for t, i, a in zip(tables, ids, todo["area"])],
        rank=todo["severity"].map(SEVERITY_ORDER),
    )
    return todo.sort_values(["rank", "days_overdue"], ascending=[True, False]).drop(columns="rank") \
        .reset_index(drop=True)
