"""查询与图表: a read-only SQL console, the chart builder and saved queries (services: app.analysis.builder)."""

import hashlib

import streamlit as st

from app.access.permissions import PermissionDenied
from app.analysis import builder as analysis
from app.analysis import sql_console
from app.analysis.builder import (
    AGGREGATES,
    FILTER_OPS,
    MARKS,
    SOURCE_KINDS,
    TIME_UNITS,
    ChartError,
    Source,
)
from app.analysis.sql_console import (
    ROW_LIMIT,
    QueryFailed,
    QueryResult,
    ReadOnlyViolation,
    console_tables,
)
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.text import md

PAGE_ROWS = 100
TABS = ["查询", "图表", "常用查询"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEMS = (ReadOnlyViolation, QueryFailed, ChartError, PermissionDenied, SaveRejected, KeyError)

db, actor = session.db(), session.actor()
state = st.session_state


# -- glue between widgets and services -----------------------------------------------------
def chart_key(name: str, source: Source) -> str:
    """Widget keys per source, so a new source starts with fresh choices."""
    digest = hashlib.sha1(f"{source.kind}:{source.ref}".encode()).hexdigest()[:10]
    return f"chart-{name}-{digest}"


def open_chart(source: Source, spec: analysis.ChartSpec | None) -> None:
    state["chart-kind"] = source.kind
    state[f"chart-source-{source.kind}"] = source.ref
    if source.kind == "sql":
        state["chart-sql"] = source.ref
    if spec is not None:
        state[chart_key("dimension", source)] = spec.dimension
        state[chart_key("time-unit", source)] = spec.time_unit
        state[chart_key("aggregate", source)] = spec.aggregate
        state[chart_key("measure", source)] = spec.measure
        state[chart_key("color", source)] = spec.color
        state[chart_key("mark", source)] = spec.mark
        first = spec.filters[0] if spec.filters else None
        state[chart_key("filter-column", source)] = first.column if first else None
        state[chart_key("filter-op", source)] = first.op if first else "="
        state[chart_key("filter-value", source)] = "" if first is None else str(first.value)
    state["analysis-tab"] = "图表"


def load_into_console(sql: str) -> None:
    state["analysis-sql"] = sql
    state["analysis-tab"] = "查询"


def show_result(result: QueryResult, sql: str, key: str) -> None:
    """A result with paging and an Excel download."""
    if result.truncated:
        st.warning(result.notice or f"结果超过 {ROW_LIMIT:,} 行，只保留前 {ROW_LIMIT:,} 行；请加筛选条件缩小范围。")
    pages = max(1, -(-result.row_count // PAGE_ROWS))
    st.dataframe(result.page(state.get(f"{key}-page", 1), PAGE_ROWS), hide_index=True, placeholder="")
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        if pages > 1:
            st.pagination(pages, key=f"{key}-page")
        st.caption(f"共 {result.row_count:,} 行，用时 {result.seconds:.2f} 秒")
    right.download_button("导出 Excel", data=lambda: analysis.result_xlsx(db, actor, result, sql),
                          file_name="查询结果.xlsx", mime=XLSX, key=f"{key}-xlsx", on_click="ignore",
                          icon=":material/download:")


def show_problem(err: Exception) -> None:
    """The Chinese message; under it, in small text, what the database itself said."""
    st.error(md(err))
    if detail := getattr(err, "detail", ""):
        st.caption("原始信息：" + md(" ".join(detail.split())))


def pick(label: str, options: list, labels: dict, key: str, none: str | None = None, **kw):
    """A select box over column names shown by their labels; `none` adds an empty choice."""
    choices = ([None] if none else []) + options
    if state.get(key) not in choices:
        state.pop(key, None)
    return st.selectbox(label, choices, format_func=lambda v: none if v is None else labels.get(v, v),
                        key=key, placeholder="请选择", **kw)


# -- page ------------------------------------------------------------------------------------
st.title("查询与图表")
st.caption("查询只在按您的角色脱敏、按您负责的小区限定的数据副本上运行，只能读、不能改；"
           f"每次最多 {ROW_LIMIT:,} 行。")
if message := state.pop("analysis-flash", None):
    st.success(message)

tab_query, tab_chart, tab_saved = st.tabs(TABS, key="analysis-tab", on_change="rerun")

if tab_query.open:
    with tab_query:
        with st.expander("可查询的表"):
            tables = {t.name: t for t in console_tables(db, actor)}
            name = st.selectbox("表", list(tables), key="analysis-table",
                                format_func=lambda n: f"{n}（{tables[n].kind}：{tables[n].label}）", placeholder="请选择")
            st.dataframe({"列名": [c for c, _ in tables[name].columns],
                          "含义": [label for _, label in tables[name].columns]}, hide_index=True, placeholder="")
        st.text_area("SQL（一条 SELECT 语句）", key="analysis-sql", height=160,
                     placeholder=sql_console.EXAMPLE_QUERY)
        if st.button("运行", type="primary", key="analysis-run", icon=":material/play_arrow:"):
            state.pop("analysis-result", None)
            state.pop("analysis-result-page", None)
            try:
                sql = state.get("analysis-sql", "")
                state["analysis-result"] = (sql, analysis.run_query(db, actor, sql))
            except PROBLEMS as err:
                show_problem(err)
        if found := state.get("analysis-result"):
            sql, result = found
            show_result(result, sql, "analysis-result")
            st.button("作图", key="analysis-chart", icon=":material/bar_chart:",
                      on_click=open_chart, args=(Source("sql", sql, "当前查询"), None))
            with st.form("analysis-save", clear_on_submit=True):
                st.markdown("**保存为常用查询**")
                name = st.text_input("名称", key="analysis-save-name")
                description = st.text_input("说明", key="analysis-save-description")
                shared = st.checkbox("共享给所有同事", key="analysis-save-shared")
                if st.form_submit_button("保存"):
                    try:
                        analysis.save_query(db, actor, name, sql, shared=shared, description=description)
                        st.success(f"已保存「{md(name.strip())}」")
                    except PROBLEMS as err:
                        show_problem(err)

if tab_chart.open:
    with tab_chart:
        sources = analysis.chart_sources(db, actor)
        if state.get("chart-sql"):
            sources.append(Source("sql", state["chart-sql"], "当前查询"))
        kinds = list(dict.fromkeys(s.kind for s in sources))
        if state.get("chart-kind") not in kinds:
            state["chart-kind"] = "table"
        kind = st.segmented_control("数据来源", kinds, format_func=SOURCE_KINDS.get, key="chart-kind") or "table"
        by_ref = {s.ref: s for s in sources if s.kind == kind}
        ref = pick("表、视图或查询", list(by_ref), {r: s.title for r, s in by_ref.items()},
                   key=f"chart-source-{kind}")
        source = by_ref[ref]
        try:
            columns = analysis.source_columns(db, actor, source)
        except PROBLEMS as err:
            show_problem(err)
            columns = []
        if columns:
            names = [c.name for c in columns]
            labels = {c.name: c.label for c in columns}
            temporal = {c.name for c in columns if c.is_temporal}
            numeric = [c.name for c in columns if c.is_numeric]
            a, b, c, d = st.columns(4)
            with a:
                dimension = pick("维度（横轴）", names, labels, chart_key("dimension", source))
                time_unit = None
                if dimension in temporal:
                    time_unit = st.selectbox("时间粒度", [None, *TIME_UNITS], key=chart_key("time-unit", source),
                                             format_func=lambda v: "按原值" if v is None else TIME_UNITS[v], placeholder="请选择")
            with b:
                aggregate = st.selectbox("汇总方式", list(AGGREGATES), format_func=AGGREGATES.get,
                                         key=chart_key("aggregate", source), placeholder="请选择")
                measure_options = numeric if aggregate in ("sum", "avg") else names
                measure = pick("度量", measure_options, labels, chart_key("measure", source),
                               none="（行数）" if aggregate == "count" else "（请选择）")
            with c:
                color = pick("颜色分组", names, labels, chart_key("color", source), none="（不分组）")
                mark = st.selectbox("图表类型", list(MARKS), format_func=MARKS.get, key=chart_key("mark", source), placeholder="请选择")
            with d:
                filter_column = pick("筛选列", names, labels, chart_key("filter-column", source), none="（不筛选）")
                filter_op = st.selectbox("条件", list(FILTER_OPS), format_func=FILTER_OPS.get,
                                         key=chart_key("filter-op", source), disabled=filter_column is None, placeholder="请选择")
                filter_value = st.text_input("值（空表示为空）", key=chart_key("filter-value", source),
                                             disabled=filter_column is None)
            filters = (analysis.Filter(filter_column, filter_op, filter_value),) if filter_column else ()
            spec = analysis.ChartSpec(dimension, aggregate, measure, color, filters, time_unit, mark)
            try:
                chart = analysis.build_chart(db, actor, source, spec)
            except PROBLEMS as err:
                show_problem(err)
                chart = None
            if chart is not None:
                st.altair_chart(chart.chart)
                st.dataframe(chart.table, hide_index=True, placeholder="")
                e1, e2, e3, e4 = st.columns(4)
                e1.download_button("表格 Excel", data=lambda: analysis.chart_table_xlsx(db, actor, chart),
                                   file_name="图表数据.xlsx", mime=XLSX, key="chart-xlsx", on_click="ignore")
                e2.download_button("图表 JSON", data=analysis.chart_json(chart), file_name="图表.vl.json",
                                   mime="application/json", key="chart-json", on_click="ignore")
                e3.download_button("图表 HTML", data=analysis.chart_html(chart), file_name="图表.html",
                                   mime="text/html", key="chart-html", on_click="ignore")
                if (png := analysis.chart_png(chart)) is not None:
                    e4.download_button("图表 PNG", data=png, file_name="图表.png", mime="image/png",
                                       key="chart-png", on_click="ignore")
                own = source.kind == "saved" and analysis.get_saved_query(
                    db, actor, int(source.ref)).editable_by(actor)
                if own and st.button("把图表设置保存到此查询", key="chart-save-spec"):
                    try:
                        analysis.save_chart(db, actor, int(source.ref), spec)
                        st.success("已保存图表设置")
                    except PROBLEMS as err:
                        show_problem(err)
                if source.kind in ("sql", "saved"):
                    with st.form("chart-save", clear_on_submit=True):
                        st.markdown("**另存为常用查询（含图表设置）**")
                        name = st.text_input("名称", key="chart-save-name")
                        shared = st.checkbox("共享给所有同事", key="chart-save-shared")
                        if st.form_submit_button("保存"):
                            try:
                                analysis.save_query(db, actor, name, analysis.source_sql(db, actor, source),
                                                    spec, shared=shared)
                                st.success(f"已保存「{md(name.strip())}」")
                            except PROBLEMS as err:
                                show_problem(err)

if tab_saved.open:
    with tab_saved:
        queries = {s.id: s for s in analysis.saved_queries(db, actor)}
        st.dataframe({"名称": [s.name for s in queries.values()],
                      "说明": [s.description for s in queries.values()],
                      "创建人": [s.owner for s in queries.values()],
                      "共享": [s.shared for s in queries.values()],
                      "图表": [s.chart is not None for s in queries.values()]}, hide_index=True, placeholder="")
        if queries:
            chosen = queries[pick("选择查询", list(queries), {i: s.name for i, s in queries.items()},
                                  key="saved-pick")]
            st.code(chosen.sql, language="sql")
            b1, b2, b3, b4 = st.columns(4)
            run = b1.button("运行", type="primary", key="saved-run", icon=":material/play_arrow:")
            b2.button("载入到查询", key="saved-load", on_click=load_into_console, args=(chosen.sql,))
            b3.button("作图", key="saved-chart", icon=":material/bar_chart:", on_click=open_chart,
                      args=(Source("saved", str(chosen.id), chosen.name), chosen.chart))
            if chosen.editable_by(actor) and b4.button("删除", key="saved-delete"):
                analysis.delete_saved_query(db, actor, chosen.id)
                state["analysis-flash"] = f"已删除「{chosen.name}」"
                st.rerun()
            if run:
                state.pop("saved-result-page", None)
                try:
                    state["saved-result"] = (chosen.id, chosen.sql, analysis.run_saved_query(db, actor, chosen.id))
                except PROBLEMS as err:
                    state.pop("saved-result", None)
                    show_problem(err)
            if (found := state.get("saved-result")) and found[0] == chosen.id:
                show_result(found[2], found[1], "saved-result")
