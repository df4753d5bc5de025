"""The register grid: search, filters, sort and paging in the database; edit, add, delete, save.

The editor is fed a frozen snapshot of one page; its diff (edited/added/deleted rows) is turned
into a change set for `apply_changes` on Save. After a save or a refresh the editor gets a new
key, so an edit is never applied twice (Streamlit issue #7749).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app import registers
from app.access.permissions import Actor, PermissionDenied, can, sees_personal_data
from app.exchange.excel import register_xlsx_bytes
from app.reading.queries import PageRequest, count_rows, fetch_page, labels_for, options
from app.registers.expressions import columns_of
from app.registers.model import MONEY_FORMAT, Register
from app.saving.changes import RowChange, SaveRejected, apply_changes
from app.storage.db import Database
from app.ui import views_bar
from app.ui.text import md

PAGE_SIZES = (20, 50, 100, 200)
SHOWN_SYSTEM = ("id", "updated_at")


@dataclass
class Snapshot:
    """The page the editor was built from: positions map to ids and versions."""

    frame: pd.DataFrame
    ids: list[int]
    versions: list[int]
    labels: list[str]


def column_config(reg: Register, ref_options: dict[str, dict[int, str]], actor: Actor) -> dict:
    cc = st.column_config
    config: dict[str, Any] = {
        "id": cc.NumberColumn("编号", format="%d", disabled=True, width="small"),
        "updated_at": cc.DatetimeColumn("修改时间", format="YYYY-MM-DD HH:mm", disabled=True),
    }
    hide_personal = not sees_personal_data(actor)
    for f in reg.fields:
        common = {"help": f.help, "disabled": not f.editable or (f.is_personal and hide_personal)}
        if f.type == "enum":
            config[f.name] = cc.SelectboxColumn(f.label, options=list(f.values), **common)
        elif f.type == "ref" and ref_options.get(f.name):
            config[f.name] = cc.SelectboxColumn(
                f.label, options=list(ref_options[f.name].values()), **common
            )
        elif f.type in ("integer",):
            config[f.name] = cc.NumberColumn(f.label, format="%d", step=1, **common)
        elif f.type == "money":  # shown as ¥12,345.60, edited as a plain number
            config[f.name] = cc.NumberColumn(f.label, format=MONEY_FORMAT, step=0.01, **common)
        elif f.type == "rate":
            config[f.name] = cc.NumberColumn(f.label, format="%.4f", step=0.0001, **common)
        elif f.scale is not None:
            config[f.name] = cc.NumberColumn(
                f.label, format=f"%.{f.scale}f", step=10 ** -f.scale, **common
            )
        elif f.type == "date":
            config[f.name] = cc.DateColumn(f.label, format="YYYY-MM-DD", **common)
        elif f.type == "timestamp":
            config[f.name] = cc.DatetimeColumn(f.label, format="YYYY-MM-DD HH:mm", **common)
        elif f.type == "boolean":
            config[f.name] = cc.CheckboxColumn(f.label, **common)
        else:
            config[f.name] = cc.TextColumn(f.label, **common)
    for c in columns_of(reg):  # calculated columns (issue 12): shown, never edited
        help_text = "计算列：" + c.expression
        if c.kind == "日期":
            config[c.name] = cc.DateColumn(c.label, format="YYYY-MM-DD", disabled=True, help=help_text)
        elif c.kind == "数值":
            config[c.name] = cc.NumberColumn(c.label, disabled=True, help=help_text)
        elif c.kind == "是否":
            config[c.name] = cc.CheckboxColumn(c.label, disabled=True, help=help_text)
        else:
            config[c.name] = cc.TextColumn(c.label, disabled=True, help=help_text)
    return config


def display_frame(db: Database, reg: Register, frame: pd.DataFrame,
                  ref_options: dict[str, dict[int, str]]) -> pd.DataFrame:
    """What the editor shows: refs as labels, decimals as numbers, only the useful columns."""
    out = pd.DataFrame(index=range(len(frame)))
    out["id"] = frame["id"].astype("Int64") if len(frame) else pd.Series(dtype="Int64")
    for f in reg.fields:
        values = frame[f.name] if f.name in frame else pd.Series([None] * len(frame))
        if f.type == "ref":
            known = ref_options.get(f.name) or labels_for(
                db, registers.get(f.ref), [int(v) for v in values if pd.notna(v)]
            )
            out[f.name] = pd.Series([known.get(int(v)) if pd.notna(v) else None for v in values],
                                    dtype="object")
        elif f.scale is not None:
            out[f.name] = pd.Series([float(v) if v is not None and pd.notna(v) else None
                                     for v in values], dtype="float64")
        elif f.type in ("integer",):
            out[f.name] = pd.Series(list(values), dtype="Int64")
        elif f.type == "boolean":
            out[f.name] = pd.Series([bool(v) if v is not None and pd.notna(v) else None
                                     for v in values], dtype="boolean")
        elif f.type == "date":
            out[f.name] = pd.Series([v if isinstance(v, date) else None for v in values],
                                    dtype="object")
        elif f.type == "timestamp":
            out[f.name] = pd.to_datetime(values.reset_index(drop=True))
        else:
            out[f.name] = pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v))
                                     else str(v) for v in values], dtype="object")
    for c in columns_of(reg):
        values = list(frame[c.name]) if c.name in frame else [None] * len(frame)
        if c.kind == "数值":
            out[c.name] = pd.Series([float(v) if v is not None and pd.notna(v) else None for v in values],
                                    dtype="float64")
        elif c.kind == "日期":
            out[c.name] = pd.Series([v if isinstance(v, date) else None for v in values], dtype="object")
        else:
            out[c.name] = pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                                     for v in values], dtype="object")
    out["updated_at"] = pd.to_datetime(frame["updated_at"]).reset_index(drop=True) if len(frame) \
        else pd.Series(dtype="datetime64[us]")
    return out


def _plain(value: Any) -> Any:
    """A grid value as the save path takes it (Timestamp -> datetime, NaN -> None)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def changes_from_editor(reg: Register, snap: Snapshot, state: dict) -> list[RowChange]:
    """The editor's diff as a change set; positions are those of the snapshot."""
    changes: list[RowChange] = []
    for pos, edits in sorted((int(k), v) for k, v in state.get("edited_rows", {}).items()):
        values = {k: _plain(v) for k, v in edits.items() if k in {f.name for f in reg.fields}}
        if values:
            changes.append(RowChange(
                "update", row_id=snap.ids[pos], version=snap.versions[pos], values=values,
                where=f"第 {pos + 1} 行（编号 {snap.ids[pos]}）",
            ))
    for n, row in enumerate(state.get("added_rows", [])):
        values = {k: _plain(v) for k, v in row.items() if k in {f.name for f in reg.fields}}
        if any(v not in (None, "") for v in values.values()):
            changes.append(RowChange("insert", values=values, where=f"新增第 {n + 1} 行"))
    for pos in sorted(state.get("deleted_rows", [])):
        changes.append(RowChange(
            "delete", row_id=snap.ids[pos], version=snap.versions[pos],
            where=f"第 {pos + 1} 行（编号 {snap.ids[pos]}）",
        ))
    return changes


def _filters(db: Database, reg: Register, actor: Actor, key: str,
             ref_options: dict[str, dict[int, str]]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    fields = [f for f in reg.fields if not f.is_personal]
    with st.expander("筛选", expanded=False):
        cols = st.columns(3)
        for n, f in enumerate(fields):
            with cols[n % 3]:
                k = f"{key}-filter-{f.name}"
                if f.type == "enum":
                    chosen[f.name] = st.multiselect(f.label, f.values, key=k, placeholder="全部（可多选）")
                elif f.type == "ref" and ref_options.get(f.name):
                    opts = ref_options[f.name]
                    picked = st.multiselect(f.label, list(opts), format_func=opts.get, key=k, placeholder="全部（可多选）")
                    chosen[f.name] = picked
                elif f.type == "boolean":
                    pick = st.selectbox(f.label, ["全部", "是", "否"], key=k, placeholder="请选择")
                    chosen[f.name] = None if pick == "全部" else [pick == "是"]
                elif f.type == "date":
                    rng = st.date_input(f.label, value=[], key=k, format="YYYY-MM-DD")
                    if isinstance(rng, (list, tuple)) and len(rng) == 2:
                        chosen[f.name] = (rng[0], rng[1])
                elif f.type in ("text",):
                    chosen[f.name] = st.text_input(f.label, key=k)
    return {c: v for c, v in chosen.items() if v not in (None, "", [])}


def _request_key(reg: Register, req: PageRequest) -> str:
    raw = json.dumps([reg.name, req.search, sorted(req.filters.items()), req.sort, req.descending,
                      req.page, req.page_size], default=str, ensure_ascii=False)
    return hashlib.sha1(raw.encode()).hexdigest()[:10]


def show_problems(err: SaveRejected) -> None:
    st.error(f"{err.kind}：未保存任何修改。请按下表改正后再保存。")
    st.dataframe(
        pd.DataFrame([{"行": p.row, "列": p.column, "问题": p.message} for p in err.problems]),
        hide_index=True, width="stretch", placeholder="",
    )


def empty_state(reg: Register, actor: Actor, searched: bool) -> str:
    """What an empty grid tells its user to do next, by what this user may do."""
    if searched:
        return "没有符合搜索或筛选条件的记录。可换个关键词，或清除筛选。"
    ways = []
    if can(actor, reg.name, "add") and not reg.immutable:
        ways.append("在下方表格最后一行直接填写，然后点「保存」")
    if can(actor, reg.name, "import") and not reg.immutable:
        ways.append("在「Excel 导入」页从 Excel 台账导入")
    if not ways:
        return f"「{reg.label}」还没有记录。"
    return f"「{reg.label}」还没有记录。可以" + "，或".join(ways) + "。"


def register_grid(db: Database, actor: Actor, reg: Register, *, base_filters: dict | None = None,
                  key: str | None = None) -> dict[int, str]:
    """Render one register as a paged, editable grid with save and export.

    Returns id -> label of the rows on the page shown, for pickers below the grid.
    """
    key = key or f"grid-{reg.name}"
    version_key = f"{key}-version"
    st.session_state.setdefault(version_key, 0)
    ref_options = {f.name: options(db, registers.get(f.ref), actor) for f in reg.refs()}
    shown_columns = views_bar.choose_view(db, actor, reg, key)

    top = st.columns([4, 2, 1, 1.4])
    search = top[0].text_input("搜索", key=f"{key}-search", placeholder="输入文字，在文本列中查找",
                               label_visibility="collapsed")
    sortable = {"": "默认排序", "id": "编号", **{f.name: f.label for f in reg.fields},
                **{c.name: c.label for c in columns_of(reg)}, "updated_at": "修改时间"}
    sort = top[1].selectbox("排序", list(sortable), format_func=sortable.get, key=f"{key}-sort",
                            label_visibility="collapsed", placeholder="请选择")
    descending = top[2].toggle("降序", key=f"{key}-desc")
    page_size = top[3].selectbox("每页", PAGE_SIZES, index=1, key=f"{key}-size",
                                 label_visibility="collapsed", format_func=lambda n: f"每页 {n} 行", placeholder="请选择")
    filters = {**_filters(db, reg, actor, key, ref_options), **(base_filters or {})}

    req = PageRequest(search=search, filters=filters, sort=sort or None, descending=descending,
                      page_size=page_size, columns=shown_columns)
    total = count_rows(db, reg, req, actor)
    if total == 0:
        st.info(empty_state(reg, actor, searched=bool(search or set(filters) - set(base_filters or {}))))
    pages = max(1, math.ceil(total / page_size))
    grid_area, pager_area = st.container(), st.container()
    with pager_area:
        left, right = st.columns([3, 2])
        with left:
            req.page = st.pagination(pages, key=f"{key}-page-{pages}") if pages > 1 else 1
        right.caption(f"共 {total:,} 行，第 {req.page}/{pages} 页")

    editor_key = f"{key}-editor-{_request_key(reg, req)}-{st.session_state[version_key]}"
    snap_key = f"{editor_key}-snapshot"
    if snap_key not in st.session_state:
        for old in [k for k in st.session_state if str(k).startswith(f"{key}-editor-")]:
            del st.session_state[old]  # earlier pages' snapshots and diffs
        frame, _ = fetch_page(db, actor, reg, req)
        labels = labels_for(db, reg, [int(v) for v in frame["id"]])
        st.session_state[snap_key] = Snapshot(
            frame=display_frame(db, reg, frame, ref_options),
            ids=[int(v) for v in frame["id"]],
            versions=[int(v) for v in frame["row_version"]],
            labels=[labels.get(int(v), "") for v in frame["id"]],
        )
    snap: Snapshot = st.session_state[snap_key]
    st.session_state[f"{key}-current-editor"] = editor_key  # lets tests address the editor

    editable = can(actor, reg.name, "edit") and not reg.immutable
    with grid_area:
        st.data_editor(
            snap.frame,
            key=editor_key,
            column_config=column_config(reg, ref_options, actor),
            column_order=shown_columns or ["id", *(f.name for f in reg.fields),
                                           *(c.name for c in columns_of(reg)), "updated_at"],
            hide_index=True,
            num_rows="dynamic" if can(actor, reg.name, "add") else "fixed",
            disabled=not editable and not can(actor, reg.name, "add"),
            height=38 + 35 * (min(len(snap.frame), 20) + 1),
            placeholder="",
        )

    actions = st.columns([1, 1, 1, 4])
    saved = actions[0].button("保存", key=f"{key}-save", type="primary", icon=":material/save:")
    if actions[1].button("刷新", key=f"{key}-refresh", icon=":material/refresh:"):
        st.session_state[version_key] += 1
        st.rerun()
    if can(actor, reg.name, "export"):
        actions[2].download_button(
            "导出 Excel", data=lambda: register_xlsx_bytes(db, actor, reg.name, req),
            file_name=f"{reg.label}-{db.now():%Y%m%d}.xlsx", key=f"{key}-export",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:", on_click="ignore",
        )
    views_bar.save_and_chart(db, actor, reg, key, req, {k: v for k, v in filters.items()
                                                         if k not in (base_filters or {})})
    done_key = f"{key}-done"
    if done_key in st.session_state:
        st.success(st.session_state.pop(done_key))
    if saved:
        _save(db, actor, reg, snap, st.session_state.get(editor_key, {}), done_key, version_key)
    return dict(zip(snap.ids, snap.labels))


def _save(db: Database, actor: Actor, reg: Register, snap: Snapshot, diff: dict,
          done_key: str, version_key: str) -> None:
    changes = changes_from_editor(reg, snap, diff)
    if not changes:
        st.info("没有需要保存的修改。")
        return
    try:
        result = apply_changes(db, actor, reg.name, changes)
    except SaveRejected as err:
        show_problems(err)
        return
    except PermissionDenied as err:
        st.error(md(err))
        return
    st.session_state[done_key] = f"已保存：{result.summary}。"
    st.session_state[version_key] += 1
    st.rerun()

