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

import pandas as pd

from app.db import Database, in_list
from app.permissions import Actor, require


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


def month_end(month: str) -> date:
    y, m = int(month[:4]), int(month[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def as_of_for(month: str, today: date) -> date:
    """The day a month's figures are taken at: its last day, or today while it runs."""
    return min(month_end(month), today)


def scope(actor: Actor, community_id: int | None, column: str = "community_id") -> tuple[str, list]:
    """` AND community_id IN (…)` for the actor's communities and the chosen one."""
    ids = None if actor.communities is None else set(actor.communities)
    if community_id is not None:
        ids = {community_id} if ids is None else ids & {community_id}
    if ids is None:
        return "", []
    placeholders, params = in_list(sorted(ids))
    return " AND " + column + " IN " + placeholders, params


def communities(db: Database, actor: Actor) -> dict[int, str]:
    where, params = scope(actor, None, "id")
    return dict(db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL" + where + " ORDER BY id", params))


def months(db: Database, today: date) -> list[str]:
    """Months that have bills, repairs or complaints, up to today's, newest first."""
    current = today.strftime("%Y-%m")
    found = {r[0] for r in db.rows(
        "SELECT DISTINCT period FROM bills WHERE deleted_at IS NULL AND period <= ? "
        "UNION SELECT DISTINCT strftime(reported_at, '%Y-%m') FROM work_orders WHERE deleted_at IS NULL "
        "UNION SELECT DISTINCT strftime(received_at, '%Y-%m') FROM complaints WHERE deleted_at IS NULL",
        [current]) if r[0] and r[0] <= current}
    return sorted(found | {current}, reverse=True)


def reporting_month(db: Database, today: date) -> str:
    """The latest month up to today's with bills (today's month when there are none)."""
    latest = db.scalar("SELECT max(period) FROM bills WHERE deleted_at IS NULL AND period <= ?",
                       [today.strftime("%Y-%m")])
    return latest or today.strftime("%Y-%m")


def kpis(db: Database, actor: Actor, month: str, community_id: int | None = None,
         today: date | None = None) -> Kpis:
    require(actor, "v_collection_rate", "view", "收费率")
    today = today or db.now().date()
    as_of = as_of_for(month, today)
    where, params = scope(actor, community_id)
    billed, collected = db.rows(
        "SELECT coalesce(sum(billed), 0), coalesce(sum(collected), 0) FROM collection_rate_as_of(CAST(? AS DATE)) "
        "WHERE period = ?" + where, [as_of, month, *params])[0]
    arrears, owing = db.rows(
        "SELECT coalesce(sum(outstanding), 0), count(*) FROM arrears_as_of(CAST(? AS DATE)) WHERE TRUE" + where,
        [as_of, *params])[0]
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
    todo, high = db.rows(
        "SELECT count(*), count(*) FILTER (WHERE severity = '高') FROM todo_as_of(CAST(? AS DATE)) WHERE TRUE" + where,
        [today, *params])[0]
    return Kpis(
        month=month, as_of=as_of, billed=float(billed), collected=float(collected),
        collection_rate=float(collected) / float(billed) if billed else None,
        arrears=float(arrears), arrears_households=int(owing),
        repairs_over_limit=int(over), open_repairs=int(open_),
        complaints_handled=int(handled),
        complaint_timely_rate=int(on_time) / int(handled) if handled else None,
        satisfaction=satisfaction, satisfaction_source=source, todo=int(todo), todo_high=int(high),
    )


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
                     today: date | None = None, count: int = 12) -> pd.DataFrame:
    """收费率 of the last `count` periods up to the month, per community, at the month's as-of day."""
    today = today or db.now().date()
    where, params = scope(actor, community_id, "r.community_id")
    return db.query(
        "SELECT c.name AS community, r.period, r.rate, r.billed, r.collected "
        "FROM collection_rate_as_of(CAST(? AS DATE)) r JOIN communities c ON c.id = r.community_id "
        "WHERE r.period <= ? AND r.period > strftime(CAST(? AS DATE) - to_months(CAST(? AS INTEGER)), '%Y-%m')" + where
        + " ORDER BY r.period, c.name",
        [as_of_for(month, today), month, month_end(month), count, *params])


def repairs_by_month(db: Database, actor: Actor, month: str, community_id: int | None = None,
                     today: date | None = None, count: int = 12) -> pd.DataFrame:
    today = today or db.now().date()
    where, params = scope(actor, community_id)
    return db.query(
        "SELECT month, sum(orders) AS orders, CAST(sum(on_time) AS DOUBLE) / nullif(sum(arrived), 0) AS timely_rate "
        "FROM repair_stats_as_of(CAST(? AS DATE)) WHERE month <= ? "
        "AND month > strftime(CAST(? AS DATE) - to_months(CAST(? AS INTEGER)), '%Y-%m')" + where
        + " GROUP BY month ORDER BY month",
        [as_of_for(month, today), month, month_end(month), count, *params])


def complaints_by_category(db: Database, actor: Actor, month: str, community_id: int | None = None,
                           today: date | None = None) -> pd.DataFrame:
    today = today or db.now().date()
    where, params = scope(actor, community_id)
    return db.query(
        "SELECT category, sum(received) AS received, sum(handled) AS handled FROM complaint_stats_as_of(CAST(? AS DATE)) "
        "WHERE month = ?" + where + " GROUP BY category ORDER BY received DESC, category",
        [as_of_for(month, today), month, *params])


def todo_by_area(todo: pd.DataFrame) -> pd.DataFrame:
    if todo is None or todo.empty:
        return pd.DataFrame(columns=["area", "severity", "items"])
    return todo.groupby(["area", "severity"], as_index=False).size().rename(columns={"size": "items"})


def todo_for(db: Database, actor: Actor, community_id: int | None = None) -> pd.DataFrame | None:
    """Today's to-do list (app.todo), limited to one community when one is chosen."""
    from app.todo import todo_list

    todo = todo_list(db, actor)
    if todo is None or community_id is None or todo.empty:
        return todo
    return todo[todo["community_id"] == community_id].reset_index(drop=True)
