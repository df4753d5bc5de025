"""Widgets shared by the service-desk pages: run an action with a message, pick a community."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from app import registers
from app.access.permissions import Actor, PermissionDenied
from app.reading.queries import community_filter_sql
from app.saving.changes import SaveRejected
from app.storage.db import Database, q
from app.ui.text import md

FLASH = "_desk_flash"


def act(done: str | Callable[[Any], str], service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run service(*args, **kwargs); on success keep a message for the next run and rerun, else show why."""
    try:
        result = service(*args, **kwargs)
    except (SaveRejected, PermissionDenied, KeyError) as err:
        st.error(md(str(err).strip("'\"")))
        return None
    st.session_state[FLASH] = done(result) if callable(done) else done
    st.rerun()


def flash() -> None:
    """The message the last action left, shown once."""
    if message := st.session_state.pop(FLASH, None):
        st.success(message)


def pick_community(choices: dict[int, str], key: str, allow_all: bool = False) -> int | None:
    options: list[int | None] = ([None] if allow_all else []) + list(choices)
    if not options:
        st.info("还没有小区数据。")
        st.stop()
    return st.selectbox("小区", options, key=key,
                        format_func=lambda c: "全部小区" if c is None else choices[c], placeholder="请选择")


def percent(value: Any) -> str:
    """A rate as a percentage with one decimal; — when there is none (denominator 0)."""
    try:
        if value is None or value != value:
            return "—"
    except TypeError:
        return "—"
    return f"{float(value):.1%}"


def follow_link(db: Database, actor: Actor, register: str, community_key: str, row_key: str) -> None:
    """Open the row a link names (`?id=`): select its community and the row, once per link.

    The row must exist and be in the actor's communities; else a warning says so.
    """
    wanted = st.query_params.get("id")
    if not wanted or wanted == st.session_state.get(row_key + "-link"):
        return
    st.session_state[row_key + "-link"] = wanted
    reg = registers.get(register)
    scope, params = community_filter_sql(reg, "t", actor)
    found = db.rows("SELECT t.community_id FROM " + q(register) + " t WHERE t.id = ? AND t.deleted_at IS NULL" + scope,
                    [int(wanted), *params]) if wanted.isdigit() else []
    if not found:
        st.warning(f"没有编号为 {wanted} 的{reg.label}（可能已删除或不在您的小区范围内）。")
        return
    st.session_state[community_key] = found[0][0]
    st.session_state[row_key] = int(wanted)
