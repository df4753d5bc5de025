"""Saved views in the register grid (issue 12): pick a view, choose columns, save the current
view, chart it. The logic is app/analysis/saved_views.py; this module only lays out widgets."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.access.permissions import ADMIN, Actor, PermissionDenied
from app.analysis import saved_views
from app.reading.queries import PageRequest
from app.registers.model import DECIMALS, Register
from app.storage.db import Database
from app.ui import charts
from app.ui.text import md

NONE = 0  # the select box's "all rows, every column"


def _apply(reg: Register, key: str, view: saved_views.SavedView | None) -> None:
    """Put a view's settings into the grid's widgets (before they are drawn)."""
    state = st.session_state
    state[f"{key}-search"] = view.search if view else ""
    state[f"{key}-sort"] = (view.sort or "") if view else ""
    state[f"{key}-desc"] = bool(view and view.descending)
    state[f"{key}-columns"] = list(view.columns) if view and view.columns else []
    for f in reg.fields:
        state.pop(f"{key}-filter-{f.name}", None)
    for col, value in (view.filters if view else {}).items():
        f = reg.field(col)
        k = f"{key}-filter-{col}"
        if f.type == "boolean" and isinstance(value, list) and value:
            state[k] = "是" if value[0] else "否"
        elif f.type == "date" and isinstance(value, (list, tuple)) and len(value) == 2:
            state[k] = [v if isinstance(v, date) else date.fromisoformat(v) for v in value]
        elif f.type in ("enum", "ref"):
            state[k] = list(value) if isinstance(value, (list, tuple)) else [value]
        elif f.type == "text":
            state[k] = str(value)


def choose_view(db: Database, actor: Actor, reg: Register, key: str) -> list[str] | None:
    """The view select box and the visible columns; returns the columns to show (None: all)."""
    views = {v.id: v for v in saved_views.views_for(db, actor, reg.name)}
    chosen_key, applied_key = f"{key}-view", f"{key}-view-applied"
    if applied_key not in st.session_state:  # first time: open on the default view
        default = saved_views.default_view(db, actor, reg.name)
        st.session_state[chosen_key] = default.id if default else NONE
        st.session_state[applied_key] = st.session_state[chosen_key]
        _apply(reg, key, default)

    def changed() -> None:
        picked = st.session_state.get(chosen_key, NONE)
        st.session_state[applied_key] = picked
        _apply(reg, key, views.get(picked))

    if st.session_state.get(chosen_key) not in (NONE, *views):
        st.session_state[chosen_key] = NONE
    choices = saved_views.column_choices(reg)
    left, right = st.columns([2, 5])
    left.selectbox("视图", [NONE, *views], key=chosen_key, on_change=changed,
                   format_func=lambda i: "全部（不使用视图）" if i == NONE else views[i].title, placeholder="请选择")
    st.session_state[f"{key}-columns"] = [c for c in st.session_state.get(f"{key}-columns", []) if c in choices]
    shown = right.multiselect("显示的列（按选择顺序；不选则全部显示）", list(choices), key=f"{key}-columns",
                              format_func=choices.get, placeholder="请选择（可多选）")
    return list(shown) or None


def save_and_chart(db: Database, actor: Actor, reg: Register, key: str, req: PageRequest,
                   filters: dict) -> None:
    """Save the current settings as a view; chart the rows of the current view."""
    left, right = st.columns(2)
    with left.popover("另存为视图", icon=":material/bookmark_add:"):
        name = st.text_input("视图名称", key=f"{key}-view-name")
        shared = st.checkbox("共享给所有人", key=f"{key}-view-shared", disabled=actor.role != ADMIN,
                             help="只有管理员可以保存共享视图")
        default = st.checkbox("设为打开本台账时的默认视图", key=f"{key}-view-default")
        if st.button("存为视图", key=f"{key}-view-save", type="primary"):
            view = saved_views.SavedView(None, reg.name, name, actor.user, shared, default, req.search,
                                         filters, req.sort, req.descending, list(req.columns or []))
            try:
                saved = saved_views.save_view(db, actor, view)
            except (ValueError, PermissionDenied) as err:
                st.error(md(err))
            else:
                st.session_state[f"{key}-view-applied"] = saved.id
                st.success(f"已保存视图「{md(saved.name)}」。")
    with right.expander("图表", icon=":material/bar_chart:"):
        groups = {f.name: f.label for f in reg.fields if f.type in ("enum", "ref", "boolean", "text", "date")
                  and not f.is_personal}
        numbers = {"": "行数", **{f.name: f.label for f in reg.fields if f.type in set(DECIMALS) | {"integer"}}}
        if not groups:
            st.caption("本台账没有可分组的列。")
            return
        by = st.selectbox("按哪一列分组", list(groups), format_func=groups.get, key=f"{key}-chart-by", placeholder="请选择")
        measure = st.selectbox("统计", list(numbers), format_func=lambda n: numbers[n] if n == "" else
                               f"{numbers[n]}合计", key=f"{key}-chart-measure", placeholder="请选择")
        data = saved_views.chart_data(db, actor, reg.name, req, by, measure or None)
        st.altair_chart(charts.grouped_rows(data, numbers[measure] + ("合计" if measure else ""), groups[by],
                                            bool(measure)), width="stretch")
