"""Ad-hoc analysis: the chart builder, exports of results, and saved queries.

Everything runs in the actor's console sandbox (`app.analysis.sql_console`): scoped, masked copies
of the registers and rule views, never the raw tables. The chart builder aggregates in
DuckDB; its SQL is assembled only from column names checked against the source's columns,
and filter values are parameters.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import altair as alt
import pandas as pd

from app import registers
from app.access.permissions import ADMIN, Actor, PermissionDenied, require
from app.access.scope import community_filter_sql
from app.analysis.sql_console import (
    QueryResult,
    ReadOnlyViolation,
    check_read_only,
    console_registers,
    console_views,
    run_query,
    sandbox_for,
    tables_named,
)
from app.exchange import excel
from app.reading import views
from app.reading.queries import label_sql
from app.saving.changes import RowChange, SaveRejected, apply_changes
from app.storage.audit_log import write_audit
from app.storage.db import Database, q

SAVED = "saved_queries"
SHIPPED_OWNER = "系统"
SHIPPED_ACTOR = Actor(SHIPPED_OWNER, ADMIN, source="任务")
MAX_GROUPS = 1000
CONSOLE_AUDIT = "sql_console"

AGGREGATES = {"count": "计数", "sum": "合计", "avg": "平均", "min": "最小", "max": "最大"}
FILTER_OPS = {"=": "等于", "!=": "不等于", ">": "大于", ">=": "不小于", "<": "小于", "<=": "不大于",
              "contains": "包含"}
TIME_UNITS = {"day": "按日", "month": "按月", "year": "按年"}
TIME_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
MARKS = {"bar": "柱状图", "line": "折线图", "area": "面积图", "point": "散点图", "arc": "饼图"}
SOURCE_KINDS = {"table": "台账", "view": "规则视图", "saved": "常用查询", "sql": "当前查询"}
EMPTY = "（空）"

_INTEGER = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "UHUGEINT"}
_FLOAT = {"DOUBLE", "FLOAT", "REAL"}


class ChartError(ValueError):
    """A chart that cannot be built as asked; str() is the Chinese message."""


# -- sources and their columns -------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    kind: str  # table | view | saved | sql
    ref: str  # register or view name, saved query id, or the SQL text
    title: str = ""

    @property
    def label(self) -> str:
        return f"{SOURCE_KINDS[self.kind]}：{self.title or self.ref}"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str  # DuckDB type, e.g. VARCHAR, DATE, DECIMAL(12,2)

    @property
    def is_numeric(self) -> bool:
        return is_numeric_type(self.type)

    @property
    def is_temporal(self) -> bool:
        return self.type == "DATE" or self.type.startswith("TIMESTAMP")


def is_numeric_type(sql_type: str) -> bool:
    t = sql_type.upper()
    return t in _INTEGER or t in _FLOAT or t.startswith("DECIMAL")


def chart_sources(db: Database, actor: Actor) -> list[Source]:
    """Registers, rule views and saved queries the actor may chart."""
    found = [Source("table", r.name, r.label) for r in sorted(console_registers(actor), key=lambda r: r.position)]
    found += [Source("view", v, views.view_info(v).title) for v in console_views(actor)]
    found += [Source("saved", str(s.id), s.name) for s in saved_queries(db, actor)]
    return found


def source_sql(db: Database, actor: Actor, source: Source) -> str:
    """The SELECT giving the source's rows in the sandbox.

    A register's references come as the labels of the rows they name (楼栋 3号楼, not 17),
    and a view's community_id as the community's name: what a chart axis should show.
    """
    if source.kind == "table":
        reg = registers.get(source.ref)
        if reg not in console_registers(actor):
            raise ChartError(f"不能对「{reg.label}」作图")
        select = []
        for col in reg.columns:
            f = reg.field(col) if reg.has_field(col) else None
            if f is not None and f.type == "ref":
                select.append(_label_of_ref(f.ref, "t." + q(col)) + " AS " + q(col))
            else:
                select.append("t." + q(col))
        return "SELECT " + ", ".join(select) + " FROM " + q(reg.name) + " t"
    if source.kind == "view":
        if source.ref not in console_views(actor):
            raise ChartError(f"不能对视图 {source.ref} 作图")
        columns = db.columns_of(source.ref)
        select = [_label_of_ref("communities", "v." + q(c)) + " AS " + q(c) if c == "community_id"
                  else "v." + q(c) for c in columns]
        return "SELECT " + ", ".join(select) + " FROM " + q(source.ref) + " v"
    if source.kind == "saved":
        return check_read_only(get_saved_query(db, actor, int(source.ref)).sql)
    if source.kind == "sql":
        return check_read_only(source.ref)
    raise ChartError(f"未知的数据来源：{source.kind}")


def _label_of_ref(register: str, expr: str) -> str:
    ref = registers.get(register)
    return ("coalesce((SELECT " + label_sql(ref, "x", 0) + " FROM " + q(ref.name) + " x WHERE x.id = "
            + expr + "), CAST(" + expr + " AS VARCHAR))")


def source_columns(db: Database, actor: Actor, source: Source) -> list[Column]:
    """The source's columns with Chinese labels and DuckDB types (the query runs with no rows)."""
    sql = source_sql(db, actor, source)
    box = sandbox_for(db, actor, tables_named(sql))
    result = box.run("SELECT * FROM (\n" + sql + "\n) AS src LIMIT 0", row_limit=None)
    labels = _labels(source)
    return [Column(name, labels.get(name, name), type_) for name, type_ in zip(result.columns, result.types)]


def _labels(source: Source) -> dict[str, str]:
    if source.kind == "table":
        reg = registers.get(source.ref)
        return {c: reg.label_of(c) for c in reg.columns}
    if source.kind == "view":
        info = views.view_info(source.ref)
        return {**info.labels, "community_id": "小区"}
    return {}


# -- the chart builder ---------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class ChartSpec:
    dimension: str
    aggregate: str = "count"
    measure: str | None = None
    color: str | None = None
    filters: tuple[Filter, ...] = ()
    time_unit: str | None = None
    mark: str = "bar"

    def to_json(self) -> str:
        data = asdict(self)
        data["filters"] = [asdict(f) for f in self.filters]
        return json.dumps(data, ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> ChartSpec:
        try:
            data = json.loads(text)
            filters = tuple(Filter(**f) for f in data.pop("filters", []) or [])
            return cls(**data, filters=filters)
        except (TypeError, ValueError, AttributeError) as err:
            raise ChartError(f"图表设置无法读取：{err}") from None


@dataclass
class ChartResult:
    source: Source
    spec: ChartSpec
    table: pd.DataFrame  # Chinese column names; Decimal values kept
    types: list[str]  # DuckDB type of each table column
    chart: alt.Chart
    title: str
    sql: str = field(repr=False)
    params: list = field(repr=False)


def chart_sql(source_text: str, columns: list[Column], spec: ChartSpec) -> tuple[str, list]:
    """The aggregate query over the source: identifiers checked against `columns`, values as parameters."""
    by_name = {c.name: c for c in columns}

    def column(name: str | None, role: str) -> Column:
        if name not in by_name:
            raise ChartError(f"{role}「{name}」不是这个数据来源的列")
        return by_name[name]

    if spec.aggregate not in AGGREGATES:
        raise ChartError(f"不支持的汇总方式：{spec.aggregate}")
    if spec.mark not in MARKS:
        raise ChartError(f"不支持的图表类型：{spec.mark}")
    dim = column(spec.dimension, "维度")
    dim_expr = "src." + q(dim.name, any_name=True)
    if spec.time_unit:
        if spec.time_unit not in TIME_UNITS:
            raise ChartError(f"不支持的时间粒度：{spec.time_unit}")
        if not dim.is_temporal:
            raise ChartError(f"「{dim.label}」不是日期列，不能{TIME_UNITS[spec.time_unit]}汇总")
        dim_expr = ("strftime(date_trunc('" + spec.time_unit + "', " + dim_expr + "), '"
                    + TIME_FORMATS[spec.time_unit] + "')")
    select = [dim_expr + ' AS "dimension"']
    if spec.color:
        select.append("src." + q(column(spec.color, "颜色").name, any_name=True) + ' AS "color"')
    if spec.measure:
        measure = column(spec.measure, "度量")
        if spec.aggregate in ("sum", "avg") and not measure.is_numeric:
            raise ChartError(f"「{measure.label}」不是数值列，不能{AGGREGATES[spec.aggregate]}")
        target = "src." + q(measure.name, any_name=True)
        value = {"count": f"count({target})", "sum": f"sum({target})", "avg": f"round(avg({target}), 2)",
                 "min": f"min({target})", "max": f"max({target})"}[spec.aggregate]
    elif spec.aggregate == "count":
        value = "count(*)"
    else:
        raise ChartError(f"{AGGREGATES[spec.aggregate]}需要选择一个度量列")
    select.append(value + ' AS "value"')
    where, params = [], []
    for f in spec.filters:
        col = column(f.column, "筛选")
        if f.op not in FILTER_OPS:
            raise ChartError(f"不支持的筛选条件：{f.op}")
        target = "src." + q(col.name, any_name=True)
        if f.value is None or f.value == "":
            if f.op not in ("=", "!="):
                raise ChartError(f"请填写「{col.label}」的筛选值")
            where.append(target + (" IS NULL" if f.op == "=" else " IS NOT NULL"))
        elif f.op == "contains":
            where.append("CAST(" + target + " AS VARCHAR) ILIKE ?")
            params.append("%" + str(f.value) + "%")
        else:
            where.append(target + " " + f.op + " ?")
            params.append(filter_value(col, f.value))
    sql = ("SELECT " + ", ".join(select) + " FROM (\n" + source_text + "\n) AS src"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " GROUP BY ALL ORDER BY 1 NULLS LAST" + (", 2 NULLS LAST" if spec.color else ""))
    return sql, params


def filter_value(col: Column, value: Any) -> Any:
    """A filter value typed like its column (so 2024-03-01 compares as a date); ChartError if it cannot be."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    t = col.type.upper()
    try:
        if t == "BOOLEAN":
            if text.lower() in ("是", "true", "1", "y", "yes"):
                return True
            if text.lower() in ("否", "false", "0", "n", "no"):
                return False
            raise ValueError(text)
        if t in _INTEGER:
            return int(text.replace(",", ""))
        if t.startswith("DECIMAL") or t in _FLOAT:
            return Decimal(text.replace(",", "").replace("¥", ""))
        if t == "DATE":
            return date.fromisoformat(_iso_date(text))
        if t.startswith("TIMESTAMP"):
            return datetime.fromisoformat(_iso_date(text))
    except (ValueError, InvalidOperation):
        raise ChartError(f"筛选值「{value}」不是有效的{_type_word(t)}（列「{col.label}」）") from None
    return text


def _iso_date(text: str) -> str:
    m = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(.*)", text)
    if not m:
        return text
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}{m[4]}"


def _type_word(t: str) -> str:
    if t == "BOOLEAN":
        return "是/否"
    if t in _INTEGER:
        return "整数"
    if t.startswith("DECIMAL") or t in _FLOAT:
        return "数字"
    if t == "DATE" or t.startswith("TIMESTAMP"):
        return "日期（如 2024-03-05）"
    return "值"


def build_chart(db: Database, actor: Actor, source: Source, spec: ChartSpec) -> ChartResult:
    """Aggregate the source as the spec says; an Altair chart and its table."""
    columns = source_columns(db, actor, source)
    text = source_sql(db, actor, source)
    sql, params = chart_sql(text, columns, spec)
    box = sandbox_for(db, actor, tables_named(text))
    result = box.run(sql, params, row_limit=MAX_GROUPS)
    if result.truncated:
        raise ChartError(f"分组超过 {MAX_GROUPS} 个，图表看不清：请换一个维度或加筛选条件")
    by_name = {c.name: c for c in columns}
    dim_label = by_name[spec.dimension].label + (f"（{TIME_UNITS[spec.time_unit]}）" if spec.time_unit else "")
    value_label = (AGGREGATES[spec.aggregate] + (f" {by_name[spec.measure].label}" if spec.measure else ""))
    labels = {"dimension": dim_label, "color": by_name[spec.color].label if spec.color else "",
              "value": value_label}
    frame = result.frame
    title = f"{source.title or SOURCE_KINDS[source.kind]}：{value_label}（按{dim_label}）"
    chart = _chart(frame, spec, labels, title)
    table = frame.rename(columns=labels)
    return ChartResult(source, spec, table, result.types, chart, title, sql, params)


def _chart(frame: pd.DataFrame, spec: ChartSpec, labels: dict[str, str], title: str) -> alt.Chart:
    data = pd.DataFrame({"dimension": [_shown(v) for v in frame["dimension"]],
                         "value": [None if v is None or pd.isna(v) else float(v) for v in frame["value"]]})
    tooltip = [alt.Tooltip("dimension:N", title=labels["dimension"]),
               alt.Tooltip("value:Q", title=labels["value"])]
    if spec.color:
        data["color"] = [_shown(v) for v in frame["color"]]
        tooltip.insert(1, alt.Tooltip("color:N", title=labels["color"]))
    base = alt.Chart(data, title=title)
    if spec.mark == "arc":
        return base.mark_arc().encode(
            theta=alt.Theta("value:Q", title=labels["value"]),
            color=alt.Color("dimension:N", title=labels["dimension"], sort=None),
            tooltip=tooltip,
        )
    mark = {"bar": base.mark_bar, "line": lambda: base.mark_line(point=True), "area": base.mark_area,
            "point": base.mark_point}[spec.mark]()
    x_type = "N" if spec.mark == "bar" else "O"
    encoding: dict[str, Any] = {
        "x": alt.X(f"dimension:{x_type}", title=labels["dimension"], sort=None,
                   axis=alt.Axis(labelAngle=-45, labelLimit=160)),
        "y": alt.Y("value:Q", title=labels["value"], stack=spec.mark in ("bar", "area") or None),
        "tooltip": tooltip,
    }
    if spec.color:
        encoding["color"] = alt.Color("color:N", title=labels["color"])
    return mark.encode(**encoding)


def _shown(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- exports -------------------------------------------------------------------------------
class _Rows:
    """Rows with the cursor method the Excel writer streams from."""

    def __init__(self, rows: list[tuple]):
        self._rows = rows
        self._at = 0

    def fetchmany(self, n: int) -> list[tuple]:
        batch = self._rows[self._at:self._at + n]
        self._at += n
        return batch


def rows_xlsx(title: str, columns: list[str], types: list[str], rows: list[tuple],
              labels: dict[str, str] | None = None) -> bytes:
    """Rows as an .xlsx in memory: typed cells, Chinese headers, frozen header, autofilter."""
    labels = labels or {}
    specs = [excel._view_column(c, t, labels.get(c, c), None) for c, t in zip(columns, types)]
    buffer = io.BytesIO()
    excel._write_xlsx(buffer, title, specs, _Rows(rows))
    return buffer.getvalue()


def result_xlsx(db: Database, actor: Actor, result: QueryResult, sql: str, title: str = "查询结果") -> bytes:
    """A console result as .xlsx (the rows shown, up to the row limit); the export is audited."""
    require(actor, CONSOLE_AUDIT, "export", "查询结果")
    data = rows_xlsx(title, result.columns, result.types, result.rows())
    _audit_export(db, actor, result.row_count, f"{title}.xlsx", sql)
    return data


def chart_table_xlsx(db: Database, actor: Actor, chart: ChartResult) -> bytes:
    """A chart's aggregated table as .xlsx; the export is audited."""
    require(actor, CONSOLE_AUDIT, "export", "图表数据")
    rows = list(chart.table.itertuples(index=False, name=None))
    rows = [tuple(None if not isinstance(v, str) and pd.isna(v) else v for v in r) for r in rows]
    data = rows_xlsx(chart.title, list(chart.table.columns), chart.types, rows)
    _audit_export(db, actor, len(rows), "图表数据.xlsx", f"{chart.source.label} {chart.spec.to_json()}")
    return data


def chart_json(chart: ChartResult) -> str:
    """The chart as a Vega-Lite specification (data included)."""
    return chart.chart.to_json()


def chart_html(chart: ChartResult) -> str:
    """The chart as a stand-alone HTML page (loads the Vega scripts when opened)."""
    return chart.chart.to_html()


def chart_png(chart: ChartResult) -> bytes | None:
    """The chart as PNG when vl-convert is installed; None otherwise."""
    try:
        import vl_convert  # noqa: F401
    except ImportError:
        return None
    buffer = io.BytesIO()
    chart.chart.save(buffer, format="png")
    return buffer.getvalue()


def _audit_export(db: Database, actor: Actor, count: int, target: str, what: str) -> None:
    note = f"导出 {count} 行到 {target}（{what[:500]}）"
    with db.transaction() as cur:
        write_audit(db, cur, actor, CONSOLE_AUDIT, uuid.uuid4().hex, [(None, excel.EXPORT_ACTION, None, None)],
                    note=note)


# -- saved queries -------------------------------------------------------------------------
@dataclass(frozen=True)
class SavedQuery:
    id: int
    name: str
    sql: str
    chart: ChartSpec | None
    owner: str
    shared: bool
    description: str
    row_version: int

    def editable_by(self, actor: Actor) -> bool:
        """Its creator changes or deletes a saved query; an administrator also a shared one
        (the save path enforces the same, whichever page the change comes from)."""
        return self.owner == actor.user or (self.shared and actor.role == ADMIN)


SHIPPED: list[dict[str, Any]] = [
    {
        "name": "各楼栋房屋状态",
        "description": "每栋楼已入住、空置、装修中、出租的户数。",
        "sql": """SELECT c.name AS 小区,
       coalesce(c.name || ' ' || b.code, c.name || ' 无楼栋') AS 楼栋,
       h.status AS 状态,
       count(*) AS 户数
FROM households h
JOIN communities c ON c.id = h.community_id
LEFT JOIN buildings b ON b.id = h.building_id
GROUP BY ALL
ORDER BY 小区, 楼栋, 状态""",
        "chart": ChartSpec("楼栋", "sum", "户数", color="状态"),
    },
    {
        "name": "各小区业主与住户人数",
        "description": "在住（未迁出）的业主、家属、租户人数，按小区。",
        "sql": """SELECT c.name AS 小区, o.role AS 身份, count(*) AS 人数
FROM owners o
JOIN households h ON h.id = o.household_id
JOIN communities c ON c.id = h.community_id
WHERE o.moved_out_on IS NULL
GROUP BY ALL
ORDER BY 小区, 身份""",
        "chart": ChartSpec("小区", "sum", "人数", color="身份"),
    },
    {
        "name": "本月到期的灭火器",
        "description": "到本月底前需要检查、维修或报废的灭火器（含已逾期的），来自消防器材状态视图。",
        "sql": """SELECT c.name AS 小区, f.equip_no AS 器材编号, f.type AS 类型, f.location AS 位置,
       f.state AS 状态, f.due_on AS 到期日, f.days_left AS 剩余天数
FROM v_fire_equipment_status f
JOIN communities c ON c.id = f.community_id
WHERE f.type LIKE '%灭火器%' AND f.due_on <= last_day(current_date)
ORDER BY f.due_on, f.equip_no""",
        "chart": ChartSpec("小区", "count", color="状态"),
    },
    {
        "name": "低于安全库存的物品",
        "description": "结存数量低于安全库存、需要补充的物品，来自库存结存视图。",
        "sql": """SELECT c.name AS 小区, s.code AS 物品编码, s.name AS 名称规格, s.category AS 类别,
       s.unit AS 单位, s.on_hand AS 结存数量, s.safety_stock AS 安全库存,
       s.safety_stock - s.on_hand AS 缺口
FROM v_stock_balance s
JOIN communities c ON c.id = s.community_id
WHERE s.below_safety
ORDER BY 小区, 类别, 物品编码""",
        "chart": ChartSpec("类别", "count", color="小区"),
    },
    {
        "name": "即将到期的合同",
        "description": "履行中、在提醒期内或已过结束日期的合同，来自合同到期提醒视图。",
        "sql": """SELECT c.name AS 小区, e.contract_no AS 合同编号, e.title AS 合同名称, e.kind AS 类别,
       e.counterparty AS 对方单位, e.end_on AS 结束日期, e.days_left AS 剩余天数,
       e.amount AS 合同金额
FROM v_contract_expiring e
JOIN communities c ON c.id = e.community_id
ORDER BY e.days_left, e.contract_no""",
        "chart": ChartSpec("类别", "count", color="小区"),
    },
    {
        "name": "各楼栋每月报修量",
        "description": "近 12 个月每栋楼每月的报修单数（公共区域的报修单计在小区名下）。",
        "sql": """SELECT strftime(date_trunc('month', w.reported_at), '%Y-%m') AS 月份,
       coalesce(c.name || ' ' || b.code, c.name || ' 公共区域') AS 楼栋,
       count(*) AS 报修单数
FROM work_orders w
JOIN communities c ON c.id = w.community_id
LEFT JOIN households h ON h.id = w.household_id
LEFT JOIN buildings b ON b.id = h.building_id
WHERE w.reported_at >= date_trunc('month', current_date) - INTERVAL 11 MONTH
GROUP BY ALL
ORDER BY 月份, 楼栋""",
        "chart": ChartSpec("月份", "sum", "报修单数", color="楼栋"),
    },
    {
        "name": "各楼栋欠费",
        "description": "每栋楼的欠费户数、欠费金额、滞纳金与合计应缴，来自欠费视图，按合计应缴从高到低。",
        "sql": """SELECT c.name AS 小区,
       coalesce(c.name || ' ' || b.code, c.name || ' 无楼栋') AS 楼栋,
       count(*) AS 欠费户数,
       sum(a.outstanding) AS 欠费金额,
       sum(a.late_fee) AS 滞纳金,
       sum(a.total_due) AS 合计应缴
FROM v_arrears a
JOIN communities c ON c.id = a.community_id
JOIN households h ON h.id = a.household_id
LEFT JOIN buildings b ON b.id = h.building_id
GROUP BY ALL
ORDER BY 合计应缴 DESC""",
        "chart": ChartSpec("楼栋", "sum", "合计应缴", color="小区"),
    },
    {
        "name": "各小区待办事项",
        "description": "消防、设备、合同、库存、档案各方面到期或逾期的事项数，按紧急程度。",
        "sql": """SELECT c.name AS 小区, t.area AS 业务范围, t.severity AS 紧急程度, count(*) AS 事项数
FROM v_todo t
JOIN communities c ON c.id = t.community_id
GROUP BY ALL
ORDER BY 小区, 业务范围, 紧急程度""",
        "chart": ChartSpec("业务范围", "sum", "事项数", color="紧急程度"),
    },
]


def ensure_saved_queries(db: Database, actor: Actor) -> int:
    """Add the shipped queries not yet there; one deleted by the office stays deleted. How many."""
    had = {r[0] for r in db.rows("SELECT name FROM " + q(SAVED) + " WHERE owner = ?", [SHIPPED_OWNER])}
    missing = [s for s in SHIPPED if s["name"] not in had]
    if not missing:
        return 0
    changes = [
        RowChange("insert", values={
            "name": s["name"], "sql": s["sql"], "chart": s["chart"].to_json(), "owner": SHIPPED_OWNER,
            "shared": True, "description": s["description"],
        })
        for s in missing
    ]
    try:
        # added in the name of their owner, 系统: the save path lets one add rows only as oneself
        return len(apply_changes(db, SHIPPED_ACTOR, SAVED, changes).inserted)
    except SaveRejected:  # another session added them meanwhile
        return 0


def saved_queries(db: Database, actor: Actor) -> list[SavedQuery]:
    """The shared queries and the actor's own, by name (the shipped ones are added when missing)."""
    require(actor, SAVED, "view", "常用查询")
    ensure_saved_queries(db, actor)
    scope, params = community_filter_sql(registers.get(SAVED), "t", actor)  # shared or the actor's own
    rows = db.rows(
        "SELECT id, name, sql, chart, owner, shared, description, row_version FROM " + q(SAVED)
        + " t WHERE deleted_at IS NULL" + scope + " ORDER BY name, id",
        params,
    )
    return [_saved(r) for r in rows]


def _saved(row: tuple) -> SavedQuery:
    id_, name, sql, chart, owner, shared, description, version = row
    spec = None
    if chart:
        try:
            spec = ChartSpec.from_json(chart)
        except ChartError:
            spec = None  # edited by hand in the grid into something unreadable: no chart
    return SavedQuery(int(id_), name, sql, spec, owner, bool(shared), description or "", int(version))


def get_saved_query(db: Database, actor: Actor, query_id: int) -> SavedQuery:
    for s in saved_queries(db, actor):
        if s.id == query_id:
            return s
    raise KeyError("没有这个常用查询，或它未共享")


def save_query(db: Database, actor: Actor, name: str, sql: str, chart: ChartSpec | None = None,
               shared: bool = False, description: str = "", query_id: int | None = None) -> int:
    """Save a read-only query (new, or an update of the actor's own); its id."""
    check_read_only(sql)
    ensure_saved_queries(db, actor)  # before the first of the user's own, or they never come
    if not name.strip():
        raise ReadOnlyViolation("请填写查询名称")
    values = {"name": name.strip(), "sql": sql.strip(), "chart": chart.to_json() if chart else None,
              "shared": bool(shared), "description": description.strip() or None}
    if query_id is None:
        result = apply_changes(db, actor, SAVED, [RowChange("insert", values={**values, "owner": actor.user})])
        return result.inserted[0]
    current = get_saved_query(db, actor, query_id)
    if not current.editable_by(actor):
        raise PermissionDenied(f"「{current.name}」由 {current.owner} 创建，只能由创建人修改；可另存为新的查询")
    apply_changes(db, actor, SAVED, [RowChange("update", query_id, values, version=current.row_version)])
    return query_id


def save_chart(db: Database, actor: Actor, query_id: int, chart: ChartSpec) -> None:
    """Keep a chart setting with the actor's own saved query."""
    current = get_saved_query(db, actor, query_id)
    save_query(db, actor, current.name, current.sql, chart, current.shared, current.description, query_id)


def delete_saved_query(db: Database, actor: Actor, query_id: int) -> None:
    current = get_saved_query(db, actor, query_id)
    if not current.editable_by(actor):
        raise PermissionDenied(f"「{current.name}」由 {current.owner} 创建，只能由创建人删除")
    apply_changes(db, actor, SAVED, [RowChange("delete", query_id, version=current.row_version)])


def run_saved_query(db: Database, actor: Actor, query_id: int, **limits: Any) -> QueryResult:
    """Run a saved query in the actor's sandbox (scoped and masked for this actor)."""
    return run_query(db, actor, get_saved_query(db, actor, query_id).sql, **limits)
