"""Bench: v_repair_stats, v_complaint_stats and v_todo in DuckDB against the same rules in pandas.

Prints figures; not a test. Run:  .venv/bin/python bench/operations.py [--scale 1.0] [--runs 3] [--keep DIR]

Data (scale 1.0, issue 6): 100 communities, 1,000,000 work orders over a year (5 % paused once, 80 % of
the completed visited, scores 5…1 in the demo seed's proportions 50/30/12/6/2, nine in ten visits
asking for rework followed by a linked rework order), 300,000 complaints (10 % consultations, 10 %
handled late, public holidays of 2026 in `holidays`). What is still open is what an office has open:
1 in 10 of the last week's orders (complaints: 1 in 12 not handled, 1 in 6 more not fed back), and
1 in 50 times that of earlier ones (stuck). Generated with SQL
range() straight into a scratch DuckDB file. As of 2026-10-31 (a past day, so both sides use the
same cut-off: the end of that day).

For each rule: DuckDB time = median of --runs runs of `SELECT * FROM <rule>_as_of(as_of)` read the
way the app reads it (Database.query: Arrow, then a pandas DataFrame); pandas time = the rule in
vectorised pandas over DataFrames already in memory; results checked equal. v_todo: all of
todo_as_of in DuckDB against the 维修与投诉 items alone in pandas (the data set has no other area's
data, except one drill reminder per community), those items checked equal. Then peak RSS.
The rules read the tables the save path keeps (app/service/work_order_facts.py, app/service/complaint_facts.py),
rebuilt once after the bulk load; pandas works from the registers themselves.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import smoke  # noqa: E402

AS_OF = date(2026, 10, 31)
CUTOFF = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
COMMUNITIES = 100
HOLIDAYS = [date(2026, 1, 1), date(2026, 1, 2)] + [date(2026, 2, 16) + timedelta(days=k) for k in range(7)] \
    + [date(2026, 5, d) for d in range(1, 6)] + [date(2026, 10, d) for d in range(1, 9)]
URGENT, NORMAL, GRACE, COMPLETE_HOURS, WINDOW_DAYS, HANDLE_DAYS, FEEDBACK_DAYS = 30, 1440, 15, 72, 30, 2, 1
HOTSPOT_COUNT, HOTSPOT_DAYS = 3, 30


def build_database(path: Path, scale: float) -> dict[str, int]:
    from app.access.permissions import Actor
    from app.service import complaint_facts, work_order_facts
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    n = {"work_orders": int(1_000_000 * scale), "complaints": int(300_000 * scale)}
    db = open_database(str(path))
    ensure_defaults(db, Actor("bench", source="任务"))
    with db.transaction() as cur:
        cur.execute("INSERT INTO communities (id, name) SELECT i + 1, '测试小区' || (i + 1) FROM range(?) t(i)",
                    [COMMUNITIES])
        cur.executemany("INSERT INTO holidays (id, on_date, is_workday, name) VALUES (?, ?, false, '假日')",
                        [[k + 1, d] for k, d in enumerate(HOLIDAYS)])
        cur.execute(
            """INSERT INTO work_orders (id, order_no, community_id, household_id, category, description, channel,
                                        urgency, appointment_at, reported_at, status, arrived_at, completed_at)
               SELECT i + 1, 'BX-' || i, i % ? + 1, CASE WHEN hash(i * 2) % 5 = 0 THEN NULL
                                                         ELSE hash(i * 3) % (? * 300) + 1 END,
                      ['水电', '管道', '门窗', '电梯', '公共设施', '其他'][CAST(hash(i * 5) % 6 AS INTEGER) + 1],
                      '报修', '电话', urgency,
                      CASE WHEN urgency = '预约' THEN reported + INTERVAL 1 DAY END, reported,
                      CASE WHEN done THEN '已完成' WHEN arrived THEN '处理中' ELSE '已派工' END,
                      CASE WHEN arrived THEN reported + to_minutes(CAST(hash(i * 7) % 1800 AS BIGINT)) END,
                      CASE WHEN done THEN reported + to_minutes(CAST(1800 + hash(i * 11) % 6000 AS BIGINT)) END
               FROM (SELECT i, urgency, reported,
                            NOT backlog OR hash(i * 23) % 20 <> 0 AS arrived, NOT backlog OR hash(i * 23) % 20 > 1 AS done
                     FROM (SELECT i, ['紧急', '一般', '一般', '一般', '预约'][CAST(hash(i * 17) % 5 AS INTEGER) + 1] AS urgency,
                                  TIMESTAMP '2025-11-01 00:00' + to_minutes(CAST(hash(i * 19) % 525600 AS BIGINT)) AS reported
                           FROM range(?) t(i))
                     -- still open: 10 % of the last week's orders, 2 % of those of earlier weeks (stuck)
                     CROSS JOIN LATERAL (SELECT reported >= TIMESTAMP '2026-10-25' OR hash(i * 29) % 50 = 0 AS backlog))""",
            [COMMUNITIES, COMMUNITIES, n["work_orders"]])
        cur.execute(
            """INSERT INTO work_order_pauses (id, work_order_id, paused_at, resumed_at)
               SELECT row_number() OVER (), id, arrived_at + INTERVAL 10 MINUTE,
                      CASE WHEN hash(id) % 4 <> 0 THEN arrived_at + to_minutes(CAST(20 + hash(id * 3) % 3000 AS BIGINT)) END
               FROM work_orders WHERE arrived_at IS NOT NULL AND id % 20 = 3""")
        cur.execute(  # scores 5…1 in the demo seed's proportions (50, 30, 12, 6, 2); 2 or less asks for rework
            """INSERT INTO work_order_visits (id, work_order_id, visited_at, satisfaction, needs_rework)
               SELECT row_number() OVER (), id, completed_at + INTERVAL 1 DAY, score, score <= 2
               FROM (SELECT id, completed_at, CASE WHEN hash(id * 7) % 100 < 50 THEN 5 WHEN hash(id * 7) % 100 < 80 THEN 4
                                                   WHEN hash(id * 7) % 100 < 92 THEN 3 WHEN hash(id * 7) % 100 < 98 THEN 2
                                                   ELSE 1 END AS score
                     FROM work_orders WHERE completed_at IS NOT NULL AND hash(id * 5) % 5 <> 0)""")
        cur.execute(  # nine in ten such visits got a linked rework order (a later order of the data set)
            """UPDATE work_orders o SET rework_of = v.work_order_id
               FROM work_order_visits v
               WHERE v.needs_rework AND hash(v.id) % 10 <> 0 AND o.id = v.work_order_id + 1000""")
        cur.execute(
            """INSERT INTO complaints (id, complaint_no, community_id, location, received_at, channel, category,
                                       description, is_valid, status, handled_at, feedback_at)
               SELECT i + 1, 'TS-' || i, i % ? + 1, '位置' || (hash(i) % 40), received, '电话',
                      ['服务态度', '环境卫生', '安全', '维修', '收费', '噪音', '停车', '绿化', '其他'][CAST(hash(i * 3) % 9 AS INTEGER) + 1],
                      '投诉', hash(i * 5) % 10 <> 0, '已处理',
                      CASE WHEN NOT backlog OR hash(i * 7) % 12 <> 0 THEN received + to_hours(CAST(
                          CASE WHEN hash(i * 11) % 10 = 0 THEN 80 + hash(i * 13) % 100 ELSE 1 + hash(i * 13) % 40 END AS BIGINT)) END,
                      CASE WHEN NOT backlog OR hash(i * 7) % 12 <> 0 AND hash(i * 17) % 6 <> 0
                           THEN received + to_hours(CAST(200 + hash(i * 19) % 30 AS BIGINT)) END
               FROM (SELECT i, TIMESTAMP '2025-11-01 00:00' + to_minutes(CAST(hash(i * 23) % 525600 AS BIGINT)) AS received
                     FROM range(?) t(i))
               -- not handled or not fed back: 1 in 12 (6) of the last week's complaints, 2 % of those before
               CROSS JOIN LATERAL (SELECT received >= TIMESTAMP '2026-10-25' OR hash(i * 29) % 50 = 0 AS backlog)""",
            [COMMUNITIES, n["complaints"]])
    for kept in (work_order_facts, complaint_facts):  # written in bulk above, not through the save path
        t = time.perf_counter()
        kept.rebuild(db)
        print(f"{kept.TABLE} rebuilt: {time.perf_counter() - t:.1f} s")
    counts = {t: db.scalar("SELECT count(*) FROM " + t) for t in
              ("work_orders", "work_order_pauses", "work_order_visits", "complaints")}
    db.close()
    return counts


# -- the rules in pandas -------------------------------------------------------------------
def repair_stats_pandas(orders: pd.DataFrame, pauses: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    o = orders[orders["reported_at"] < CUTOFF].copy()
    o["arrived"] = o["arrived_at"].where(o["arrived_at"] <= CUTOFF)
    o["completed"] = o["completed_at"].where(o["completed_at"] <= CUTOFF)
    limit = o["urgency"].map({"紧急": URGENT, "一般": NORMAL})
    deadline = (o["reported_at"] + pd.to_timedelta(limit, unit="m")).where(
        o["urgency"] != "预约", o["appointment_at"] + pd.Timedelta(minutes=GRACE))
    o["on_time"] = o["arrived"].notna() & (o["arrived"] <= deadline)
    p = pauses.merge(o[["id", "completed"]], left_on="work_order_id", right_on="id")
    p = p[p["paused_at"] < CUTOFF]
    end = pd.concat([p["resumed_at"].fillna(CUTOFF), p["completed"].fillna(CUTOFF)], axis=1).min(axis=1).clip(upper=CUTOFF)
    p["minutes"] = ((end - p["paused_at"]).dt.total_seconds().clip(lower=0)) / 60
    paused = p.groupby("work_order_id")["minutes"].sum()
    o["paused"] = o["id"].map(paused).fillna(0.0)
    minutes = (o["completed"] - o["reported_at"]).dt.total_seconds() / 60 - o["paused"]
    o["completed_on_time"] = o["completed"].notna() & (minutes <= COMPLETE_HOURS * 60)
    v = visits.merge(o.loc[o["completed"].notna(), ["id"]], left_on="work_order_id", right_on="id")
    v = v[v["visited_at"] <= CUTOFF].groupby("work_order_id").agg(
        visits=("satisfaction", "size"), score_sum=("satisfaction", "sum"), scores=("satisfaction", "count"),
        needs_rework=("needs_rework", "any"))
    o = o.join(v, on="id")
    linked = set(o["rework_of"].dropna().astype(int))
    # repeated: the same household and category reported again within the window after completion
    later = o.loc[o["household_id"].notna(), ["household_id", "category", "reported_at"]].sort_values("reported_at")
    done = o.loc[o["household_id"].notna() & o["completed"].notna(), ["id", "household_id", "category", "completed"]]
    done = done.sort_values("completed")
    nxt = pd.merge_asof(done, later.rename(columns={"reported_at": "next_reported"}), left_on="completed",
                        right_on="next_reported", by=["household_id", "category"], direction="forward",
                        allow_exact_matches=False)
    repeated = set(nxt.loc[nxt["next_reported"] <= nxt["completed"] + pd.Timedelta(days=WINDOW_DAYS), "id"])
    o["is_completed"] = o["completed"].notna()
    o["reworked"] = o["is_completed"] & (o["id"].isin(linked) | o["needs_rework"].fillna(False).astype(bool)
                                         | o["id"].isin(repeated))
    o["visited"] = o["is_completed"] & (o["visits"].fillna(0) > 0)
    o["month"] = o["reported_at"].dt.strftime("%Y-%m")
    g = o.groupby(["community_id", "month"]).agg(
        orders=("id", "size"), arrived=("arrived", "count"), on_time=("on_time", "sum"),
        completed=("is_completed", "sum"), completed_on_time=("completed_on_time", "sum"),
        reworked=("reworked", "sum"), visited=("visited", "sum"), score_sum=("score_sum", "sum"),
        scores=("scores", "sum")).reset_index()
    g["timely_rate"] = g["on_time"] / g["arrived"].replace(0, np.nan)
    g["rework_rate"] = g["reworked"] / g["completed"].replace(0, np.nan)
    g["visit_rate"] = g["visited"] / g["completed"].replace(0, np.nan)
    g["satisfaction"] = g["score_sum"] / g["scores"].replace(0, np.nan)
    return g.drop(columns=["score_sum", "scores"])


def complaint_stats_pandas(complaints: pd.DataFrame) -> pd.DataFrame:
    c = complaints[complaints["received_at"] < CUTOFF].copy()
    handled = c["handled_at"].where(c["handled_at"] < CUTOFF)
    fed = c["feedback_at"].where(c["feedback_at"] < CUTOFF)
    day = c["received_at"].dt.floor("D").values.astype("datetime64[D]")
    due = c["deadline"].astype("datetime64[ns]").values.astype("datetime64[D]")
    computed = np.busday_offset(day, HANDLE_DAYS, roll="backward", holidays=HOLIDAYS)
    due = np.where(np.isnat(due), computed, due)
    valid = c["is_valid"].fillna(True).astype(bool)
    c["valid"] = valid
    c["handled"] = valid & handled.notna()
    c["on_time"] = c["handled"] & (handled.dt.floor("D").values.astype("datetime64[D]") <= due)
    c["fed_back"] = c["handled"] & fed.notna()
    c["month"] = c["received_at"].dt.strftime("%Y-%m")
    g = c.groupby(["community_id", "month", "category"]).agg(
        received=("id", "size"), valid=("valid", "sum"), handled=("handled", "sum"), on_time=("on_time", "sum"),
        fed_back=("fed_back", "sum")).reset_index()
    g["timely_rate"] = g["on_time"] / g["handled"].replace(0, np.nan)
    g["handling_rate"] = g["handled"] / g["valid"].replace(0, np.nan)
    g["feedback_rate"] = g["fed_back"] / g["handled"].replace(0, np.nan)
    return g


def todo_service_pandas(orders: pd.DataFrame, pauses: pd.DataFrame, visits: pd.DataFrame,
                        complaints: pd.DataFrame) -> pd.DataFrame:
    """todo_service_as_of(AS_OF): overdue orders and complaints, hotspots, bad visits without rework."""
    open_status = ~orders["status"].isin(["已完成", "已回访", "已关闭"])
    o = orders[orders["reported_at"] < CUTOFF]
    arrived = o["arrived_at"].where(o["arrived_at"] <= CUTOFF)
    completed = o["completed_at"].where(o["completed_at"] <= CUTOFF)
    limit = o["urgency"].map({"紧急": URGENT}).fillna(NORMAL)
    deadline = (o["reported_at"] + pd.to_timedelta(limit, unit="m")).where(
        o["urgency"] != "预约", o["appointment_at"] + pd.Timedelta(minutes=GRACE))
    late = o[arrived.isna() & (deadline < CUTOFF) & open_status]
    due = deadline[late.index]
    parts = [pd.DataFrame({
        "item": "报修单 " + late["order_no"] + "（" + late["urgency"] + "，" + late["category"] + "）超时未到场，应于 "
                + due.dt.strftime("%m-%d %H:%M") + " 前到场",
        "ref_table": "work_orders", "ref_id": late["id"], "due_on": due.dt.normalize(),
        "severity": np.where(late["urgency"] == "紧急", "高", "中")})]
    p = pauses.merge(pd.DataFrame({"id": o["id"], "completed": completed}), left_on="work_order_id", right_on="id")
    p = p[p["paused_at"] < CUTOFF]
    end = pd.concat([p["resumed_at"].fillna(CUTOFF), p["completed"].fillna(CUTOFF)], axis=1).min(axis=1)
    p = p.assign(minutes=((end - p["paused_at"]).dt.total_seconds().clip(lower=0)) / 60)
    paused = o["id"].map(p.groupby("work_order_id")["minutes"].sum()).fillna(0.0)
    running = (CUTOFF - o["reported_at"]).dt.total_seconds() / 60 - paused
    slow = o[completed.isna() & (running > COMPLETE_HOURS * 60) & arrived.notna() & open_status]
    due = slow["reported_at"] + pd.to_timedelta(COMPLETE_HOURS * 60 + np.ceil(paused[slow.index]), unit="m")
    parts.append(pd.DataFrame({
        "item": "报修单 " + slow["order_no"] + "（" + slow["category"] + "）超时未完成，应于 "
                + due.dt.strftime("%m-%d %H:%M") + " 前完成",
        "ref_table": "work_orders", "ref_id": slow["id"], "due_on": due.dt.normalize(), "severity": "中"}))

    c = complaints[complaints["received_at"] < CUTOFF]
    handled = c["handled_at"].where(c["handled_at"] < CUTOFF)
    fed = c["feedback_at"].where(c["feedback_at"] < CUTOFF)
    day = c["received_at"].values.astype("datetime64[D]")
    due = np.busday_offset(day, HANDLE_DAYS, roll="backward", holidays=HOLIDAYS)
    due = pd.Series(np.where(c["deadline"].isna(), due, c["deadline"].values.astype("datetime64[D]")),
                    index=c.index).astype("datetime64[ns]")
    valid = c["is_valid"].fillna(True).astype(bool)
    active = c["status"] != "已关闭"
    as_of = pd.Timestamp(AS_OF)
    todo = c[valid & handled.isna() & (due <= as_of) & active]
    parts.append(pd.DataFrame({
        "item": "投诉 " + todo["complaint_no"] + "（" + todo["category"] + "）"
                + np.where(due[todo.index] < as_of, "逾期未处理", "今天到期"),
        "ref_table": "complaints", "ref_id": todo["id"], "due_on": due[todo.index],
        "severity": np.where(due[todo.index] < as_of, "高", "低")}))
    done = c[valid & handled.notna() & active]
    fb_due = pd.Series(np.busday_offset(handled[done.index].values.astype("datetime64[D]"), FEEDBACK_DAYS,
                                        roll="backward", holidays=HOLIDAYS), index=done.index).astype("datetime64[ns]")
    silent = done[fed[done.index].isna() & (fb_due < as_of)]
    parts.append(pd.DataFrame({
        "item": "投诉 " + silent["complaint_no"] + "（" + silent["category"] + "）已处理，逾期未反馈业主",
        "ref_table": "complaints", "ref_id": silent["id"], "due_on": fb_due[silent.index], "severity": "中"}))
    recent = c[valid & c["location"].notna() & (c["location"].str.strip() != "")].assign(location=lambda x: x["location"].str.strip())
    recent = recent[(recent["received_at"].dt.normalize() > as_of - pd.Timedelta(days=HOTSPOT_DAYS))]
    recent = recent.sort_values(["received_at", "id"])
    hot = recent.groupby(["community_id", "category", "location"]).agg(
        complaints=("id", "size"), latest_id=("id", "last"), latest=("received_at", "last")).reset_index()
    hot = hot[hot["complaints"] >= HOTSPOT_COUNT]
    parts.append(pd.DataFrame({
        "item": "投诉热点：" + hot["location"] + " " + hot["category"] + " 近期 " + hot["complaints"].astype(str)
                + " 次投诉，需责任到人、限期整改",
        "ref_table": "complaints", "ref_id": hot["latest_id"], "due_on": hot["latest"].dt.normalize(),
        "severity": "中"}))
    v = visits[(visits["visited_at"].dt.normalize() <= as_of)
               & ((visits["satisfaction"] <= 2) | visits["needs_rework"].fillna(False).astype(bool))]
    reworked = set(orders.loc[orders["rework_of"].notna() & (orders["reported_at"].dt.normalize() <= as_of),
                              "rework_of"].astype(int))
    v = v[~v["work_order_id"].isin(reworked)]
    number = v["work_order_id"].map(orders.set_index("id")["order_no"])
    parts.append(pd.DataFrame({
        "item": "报修单 " + number + " 回访"
                + np.where(v["needs_rework"].fillna(False).astype(bool), "要求返修",
                           "不满意（" + v["satisfaction"].astype(str) + " 分）") + "，尚未安排返修",
        "ref_table": "work_order_visits", "ref_id": v["id"], "due_on": v["visited_at"].dt.normalize(),
        "severity": "中"}))
    out = pd.concat(parts, ignore_index=True)
    out["days_overdue"] = (as_of - out["due_on"]).dt.days
    out["item"] = out["item"] + np.where(out["days_overdue"] > 0, "，已逾期 " + out["days_overdue"].astype(str) + " 天", "")
    return out


def same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)[a.columns]
    for col in a.columns:
        left, right = a[col], b[col]
        if col in keys:
            assert (left.astype(str) == right.astype(str)).all(), col
        else:
            np.testing.assert_allclose(left.astype(float), right.astype(float), rtol=1e-9, err_msg=col)


def timed(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path)
    smoke.flag(ap, scale=0.01, runs=1)
    args = smoke.parse(ap)
    from app.storage.db import open_database

    work = args.keep or Path(tempfile.mkdtemp(prefix="wuye-bench-operations-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / "service.duckdb"
    t = time.perf_counter()
    if not path.exists():
        print("rows:", build_database(path, args.scale))
    print(f"data ready in {time.perf_counter() - t:.1f} s")
    db = open_database(str(path))
    try:
        t = time.perf_counter()
        orders = db.cursor().execute("SELECT id, order_no, status, community_id, household_id, category, urgency, "
                                     "appointment_at, reported_at, arrived_at, completed_at, rework_of "
                                     "FROM work_orders").df()
        pauses = db.cursor().execute("SELECT work_order_id, paused_at, resumed_at FROM work_order_pauses").df()
        visits = db.cursor().execute("SELECT id, work_order_id, visited_at, satisfaction, needs_rework "
                                     "FROM work_order_visits").df()
        complaints = db.cursor().execute("SELECT id, complaint_no, status, community_id, category, location, "
                                         "received_at, is_valid, deadline, handled_at, feedback_at "
                                         "FROM complaints").df()
        print(f"pandas load: {time.perf_counter() - t:.2f} s")
        cols = ["community_id", "month", "orders", "arrived", "on_time", "completed", "completed_on_time",
                "reworked", "visited", "timely_rate", "rework_rate", "visit_rate", "satisfaction"]
        rules = [
            ("v_repair_stats", "SELECT " + ", ".join(cols) + " FROM repair_stats_as_of(CAST(? AS DATE))",
             lambda: repair_stats_pandas(orders, pauses, visits), ["community_id", "month"]),
            ("v_complaint_stats", "SELECT * FROM complaint_stats_as_of(CAST(? AS DATE))",
             lambda: complaint_stats_pandas(complaints), ["community_id", "month", "category"]),
        ]
        for name, sql, pandas_fn, keys in rules:
            duck_s, duck = timed(lambda sql=sql: db.query(sql, [AS_OF]), args.runs)
            pd_s, frame = timed(pandas_fn, args.runs)
            same(duck, frame, keys)
            print(f"{name}: {len(duck):,} rows; DuckDB {duck_s:.3f} s, pandas {pd_s:.3f} s, "
                  f"{pd_s / duck_s:.1f}x; results equal")
        todo_s, todo = timed(lambda: db.query("SELECT * FROM todo_as_of(CAST(? AS DATE))", [AS_OF]), args.runs)
        pd_s, frame = timed(lambda: todo_service_pandas(orders, pauses, visits, complaints), args.runs)
        service = todo[todo["area"] == "维修与投诉"]
        keys = ["ref_table", "ref_id", "item"]
        same(service[keys + ["days_overdue"]].astype({"ref_id": "int64"}),
             frame[keys + ["days_overdue"]].astype({"ref_id": "int64"}), keys)
        others = todo.loc[todo["area"] != "维修与投诉", "area"].value_counts().to_dict()
        # what DuckDB spends binding, optimizing and planning the union of every to-do rule (EXPLAIN
        # does all of it but run; PREPARE binds only): a floor under v_todo whatever the data
        plan_s, _ = timed(lambda: db.rows("EXPLAIN (FORMAT json) SELECT * FROM todo_as_of(CAST(? AS DATE))", [AS_OF]),
                          args.runs)
        print(f"v_todo: {len(todo):,} rows ({len(service):,} of 维修与投诉, others {others}); DuckDB {todo_s:.3f} s "
              f"for all of v_todo, pandas {pd_s:.3f} s for the 维修与投诉 items alone, {pd_s / todo_s:.1f}x; "
              f"维修与投诉 items equal; planning alone (EXPLAIN) {plan_s:.3f} s")
    finally:
        db.close()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
