"""The home dashboard's figures: KPI tiles and small series, all read from the rule views.

Every figure is for one month (the reporting month: by default the latest month up to today
that has bills) and one community or all the actor may see. Month figures use the as-of macros
at the month's last day (today for the running month), so a past month shows what the monthly
report shows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

from app import registers
from app.access.permissions import Actor, can, require
from app.access.scope import community_sql
from app.analysis.figure_cache import cached
from app.analysis.todo import todo_list
from app.storage.db import Database


@dataclass(frozen=True)
class Kpis:
    month: str
    as_of: date
    billed: float
    collected: float
    collection_rate: float | None
    arrears: float
    arrears_households: int
    repairs_over_limit: int
    open_repairs: int
    complaints_handled: int
    complaint_timely_rate: float | None
    satisfaction: float | None
    satisfaction_source: str
    todo: int
    todo_high: int
    money: Money | None = None  # the same month's figures in Decimal, for the ¥ tiles


@dataclass(frozen=True)
class Money:
    """A month's 应收 (billed for the period), 实收 (collected on it) and 欠费 (all overdue), as of a day."""

    month: str
    as_of: date
    billed: Decimal
    collected: Decimal
    arrears: Decimal
    arrears_households: int = 0


def yuan(value: Decimal | float | int) -> str:
    """¥ with thousands separators and fen: ¥12,345.60."""
    return f"¥{Decimal(str(value)):,.2f}"


def yuan_change(value: Decimal) -> str:
    """A change in money with its sign, for st.metric's delta (a leading - turns it red/green)."""
    return ("-" if value < 0 else "+") + yuan(abs(value))


def month_end(month: str) -> date:
    y, m = int(month[:4]), int(month[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def as_of_for(month: str, today: date) -> date:
    """The day a month's figures are taken at: its last day, or today while it runs."""
    return min(month_end(month), today)


def previous_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def month_range(last: str, count: int) -> list[str]:
    """The `count` months ending with `last`, oldest first: every month, with data or not."""
    out = [last]
    while len(out) < count:
        out.append(previous_month(out[-1]))
    return out[::-1]


def work_areas(actor: Actor) -> set[str]:
    """The business areas a role works in: those with a register it may add to or edit.

    The home page shows a role these areas' figures and to-do items (a cashier: 收费管理…; a
    dispatcher: 维修与投诉…). A role that may change nothing (业委会) oversees: every area.
    """
    catalog = registers.catalog().values()
    every = {r.area for r in catalog} - {"系统"}
    mine = {r.area for r in catalog if can(actor, r.name, "edit") or can(actor, r.name, "add")}
    return (mine & every) or every


def months(db: Database, today: date) -> list[str]:
    """Months that have bills, repairs or complaints, up to today's, newest first."""
    return cached(db, ("months", today), lambda: _months(db, today))


def _months(db: Database, today: date) -> list[str]:
    current = today.strftime("%Y-%m")
    found = {r[0] for r in db.rows(
        "SELECT DISTINCT period FROM bills WHERE deleted_at IS NULL AND period <= ? "
        "UNION SELECT DISTINCT strftime(reported_at, '%Y-%m') FROM work_orders WHERE deleted_at IS NULL "
        "UNION SELECT DISTINCT strftime(received_at, '%Y-%m') FROM complaints WHERE deleted_at IS NULL",
        [current]) if r[0] and r[0] <= current}
    return sorted(found | {current}, reverse=True)


def reporting_month(db: Database, today: date) -> str:
    """The latest month up to today's with bills (today's month when there are none)."""
    latest = cached(db, ("reporting_month", today), lambda: db.scalar(
        "SELECT max(period) FROM bills WHERE deleted_at IS NULL AND period <= ?", [today.strftime("%Y-%m")]))
    return latest or today.strftime("%Y-%m")


def money(db: Database, actor: Actor, month: str, community_id: int | None = None,
          today: date | None = None) -> Money:
    """应收 / 实收 of the month's bills and 欠费 overall, at the month's as-of day (see kpis)."""
    require(actor, "v_collection_rate", "view", "收费率")
    today = today or db.now().date()
    where, params = community_sql(actor, community_id)
    return cached(db, ("money", month, today, where, *params), lambda: _money(db, month, today, where, params))


def _money(db: Database, month: str, today: date, where: str, params: list) -> Money:
    as_of = as_of_for(month, today)
    billed, collected = db.rows(
        "SELECT coalesce(sum(billed), 0), coalesce(sum(collected), 0) FROM collection_rate_as_of(CAST(? AS DATE)) "
        "WHERE period = ?" + where, [as_of, month, *params])[0]
    arrears, owing = db.rows(
        "SELECT coalesce(sum(outstanding), 0), count(*) FROM arrears_as_of(CAST(? AS DATE)) WHERE TRUE" + where,
        [as_of, *params])[0]
    cents = Decimal("0.01")
    return Money(month, as_of, *(Decimal(str(v)).quantize(cents) for v in (billed, collected, arrears)),
                 arrears_households=int(owing))


def kpis(db: Database, actor: Actor, month: str, community_id: int | None = None,
         today: date | None = None) -> Kpis:
    require(actor, "v_collection_rate", "view", "收费率")
    today = today or db.now().date()
    where, params = community_sql(actor, community_id)
    return cached(db, ("kpis", month, today, where, *params),
                  lambda: _kpis(db, actor, month, community_id, today, where, params))


def _kpis(db: Database, actor: Actor, month: str, community_id: int | None, today: date, where: str,
          params: list) -> Kpis:
    as_of = as_of_for(month, today)
    m = money(db, actor, month, community_id, today)
    billed, collected, arrears, owing = m.billed, m.collected, m.arrears, m.arrears_households
    over, open_ = db.rows(
        "SELECT count(*) FILTER (WHERE coalesce(arrival_overdue, false) "
        "  OR (coalesce(completion_overdue, false) AND arrived_at IS NOT NULL)), count(*) "
        "FROM work_order_sla_as_of(CAST(? AS DATE)) "
        "WHERE status NOT IN ('已完成', '已回访', '已关闭') AND CAST(reported_at AS DATE) <= CAST(? AS DATE)" + where,
        [as_of, as_of, *params])[0]
    handled, on_time = db.rows(
        "SELECT coalesce(sum(handled), 0), coalesce(sum(on_time), 0) FROM complaint_stats_as_of(CAST(? AS DATE)) "
        "WHERE month = ?" + where, [as_of, month, *params])[0]
    satisfaction, source = _satisfaction(db, as_of, month, where, params)
    todo, high = _todo_counts(db, actor, community_id, today, where, params)
    return Kpis(
        month=month, as_of=as_of, billed=float(billed), collected=float(collected),
        collection_rate=float(collected) / float(billed) if billed else None,
        arrears=float(arrears), arrears_households=int(owing),
        repairs_over_limit=int(over), open_repairs=int(open_),
        complaints_handled=int(handled),
        complaint_timely_rate=int(on_time) / int(handled) if handled else None,
        satisfaction=satisfaction, satisfaction_source=source, todo=int(todo), todo_high=int(high), money=m,
    )


def _todo_counts(db: Database, actor: Actor, community_id: int | None, today: date, where: str,
                 params: list) -> tuple[int, int]:
    """(items, of which 高) of the to-do list at `today` in scope. On today itself they are counted
    from the list the page shows (app.analysis.todo, kept per day), so the home page runs the to-do rules
    once, not twice (seconds each at company scale); any other day, or a reader of the figures
    without the list's right, counts in SQL."""
    if today == db.now().date() and can(actor, "v_todo", "view"):
        todo = todo_list(db, actor)  # v_todo: todo_as_of(current_date), the actor's 小区 only
        if todo is not None:
            if community_id is not None:
                todo = todo[todo["community_id"] == community_id]
            return len(todo), int((todo["severity"] == "高").sum())
    return tuple(db.rows(
        "SELECT count(*), count(*) FILTER (WHERE severity = '高') FROM todo_as_of(CAST(? AS DATE)) WHERE TRUE" + where,
        [today, *params])[0])


def _satisfaction(db: Database, as_of: date, month: str, where: str, params: list) -> tuple[float | None, str]:
    """The latest survey's satisfaction (scores ≥ 4 of all scores); else the month's repair visits."""
    row = db.rows(
        "WITH s AS (SELECT survey_id, title, held_from, sum(satisfied) AS ok, sum(scores) AS n "
        "FROM survey_stats_as_of(CAST(? AS DATE)) WHERE TRUE" + where + " GROUP BY survey_id, title, held_from) "
        "SELECT title, CAST(ok AS DOUBLE) / nullif(n, 0) FROM s WHERE n > 0 ORDER BY held_from DESC, survey_id DESC LIMIT 1",
        [as_of, *params])
    if row:
        return row[0][1], f"业主满意率（{row[0][0]}）"
    mean = db.scalar(
        "SELECT sum(satisfaction * visited) / nullif(sum(visited) FILTER (WHERE satisfaction IS NOT NULL), 0) "
        "FROM repair_stats_as_of(CAST(? AS DATE)) WHERE month = ?" + where, [as_of, month, *params])
    return (None if mean is None else float(mean) / 5), "维修回访满意度（分数/5）"


# -- small series for the charts ----------------------------------------------------------------
def collection_trend(db: Database, actor: Actor, month: str, community_id: int | None = None,
                     today: date | None = None, count: int = 12, combined: bool = False) -> pd.DataFrame:
    """收费率 of the last `count` periods up to the month, per community (or all together when
    `combined`), at the month's as-of day. Every period is there: one without bills has billed 0
    and no rate (a rate of nothing is not 0 %)."""
    today = today or db.now().date()
    where, params = community_sql(actor, community_id, "r.community_id")
    return cached(db, ("collection_trend", month, today, count, combined, where, *params),
                  lambda: _collection_trend(db, month, today, count, combined, where, params))


def _collection_trend(db: Database, month: str, today: date, count: int, combined: bool, where: str,
                      params: list) -> pd.DataFrame:
    found = db.query(
        "SELECT c.name AS community, r.period, r.billed, r.collected "
        "FROM collection_rate_as_of(CAST(? AS DATE)) r JOIN communities c ON c.id = r.community_id "
        "WHERE r.period <= ? AND r.period > strftime(CAST(? AS DATE) - to_months(CAST(? AS INTEGER)), '%Y-%m')" + where
        + " ORDER BY r.period, c.name",
        [as_of_for(month, today), month, month_end(month), count, *params])
    found[["billed", "collected"]] = found[["billed", "collected"]].astype(float)
    if combined:
        found = found.assign(community="全部小区")
    found = found.groupby(["community", "period"], as_index=False)[["billed", "collected"]].sum()
    names = sorted(set(found["community"])) or (["全部小区"] if combined else [])
    grid = pd.MultiIndex.from_product([names, month_range(month, count)], names=["community", "period"])
    out = found.set_index(["community", "period"]).reindex(grid, fill_value=0.0).reset_index()
    out["rate"] = [c / b if b else None for b, c in zip(out["billed"], out["collected"])]
    return out.sort_values(["period", "community"]).reset_index(drop=True)


def repairs_by_month(db: Database, actor: Actor, month: str, community_id: int | None = None,
                     today: date | None = None, count: int = 12) -> pd.DataFrame:
    """报修单数 and 及时率 of the last `count` months up to the month; a month without orders shows 0."""
    today = today or db.now().date()
    where, params = community_sql(actor, community_id)
    found = db.query(
        "SELECT month, sum(orders) AS orders, CAST(sum(on_time) AS DOUBLE) / nullif(sum(arrived), 0) AS timely_rate "
        "FROM repair_stats_as_of(CAST(? AS DATE)) WHERE month <= ? "
        "AND month > strftime(CAST(? AS DATE) - to_months(CAST(? AS INTEGER)), '%Y-%m')" + where
        + " GROUP BY month ORDER BY month",
        [as_of_for(month, today), month, month_end(month), count, *params])
    out = pd.DataFrame({"month": month_range(month, count)}).merge(found, on="month", how="left")
    out["orders"] = out["orders"].fillna(0).astype(int)
    out["timely_rate"] = out["timely_rate"].astype(object).where(out["timely_rate"].notna(), None)
    return out


def complaints_by_category(db: Database, actor: Actor, month: str, community_id: int | None = None,
                           today: date | None = None) -> pd.DataFrame:
    today = today or db.now().date()
    where, params = community_sql(actor, community_id)
    return db.query(
        "SELECT category, sum(received) AS received, sum(handled) AS handled FROM complaint_stats_as_of(CAST(? AS DATE)) "
        "WHERE month = ?" + where + " GROUP BY category ORDER BY received DESC, category",
        [as_of_for(month, today), month, *params])


def todo_by_area(todo: pd.DataFrame) -> pd.DataFrame:
    if todo is None or todo.empty:
        return pd.DataFrame(columns=["area", "severity", "items"])
    return todo.groupby(["area", "severity"], as_index=False).size().rename(columns={"size": "items"})


def todo_areas(todo: pd.DataFrame | None) -> list[tuple[str, int, int]]:
    """(area, items, of which 高) of a to-do list, most urgent areas first."""
    if todo is None or todo.empty:
        return []
    counts = todo.groupby("area").agg(items=("item", "size"), high=("severity", lambda s: int((s == "高").sum())))
    counts = counts.reset_index().sort_values(["high", "items", "area"], ascending=[False, False, True])
    return [(r.area, int(r.items), int(r.high)) for r in counts.itertuples()]


def todo_for(db: Database, actor: Actor, community_id: int | None = None,
             areas: set[str] | None = None) -> pd.DataFrame | None:
    """Today's to-do list (app.analysis.todo), limited to one community and to some areas when given."""
    todo = todo_list(db, actor)
    if todo is None or todo.empty:
        return todo
    if community_id is not None:
        todo = todo[todo["community_id"] == community_id]
    if areas is not None:
        todo = todo[todo["area"].isin(areas)]
    return todo.reset_index(drop=True)
