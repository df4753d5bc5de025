"""What the repair statistics need of each work order (table `work_order_facts`), kept in step.

Repeat repairs need, for every order, the other orders of the same household and category (a
self-join of every order), and satisfaction needs every visit; the statistics would otherwise pay for
both on each reading (1 M orders in a large group). `follow` subscribes to the save path's writes
(app.saving.changes.after_write): a work order refreshes itself, the orders of its household and
category (their previous and next reports) and the order it reworks; a visit or a pause refreshes its
order. The facts hold moments, not judgements: the rules compare them with their cut-off and today's
settings (sql/views/v_repair_stats.sql), so a past date and a changed time limit need no refresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from app.saving.changes import after_write
from app.storage.db import Database, column_in, in_list, q, rows_in

TABLE = "work_order_facts"
TABLES = (TABLE,)
LABEL = "报修单统计要素"
MIGRATION = "060_work_order_facts"
CHUNK = 2000

# One order's facts. Each {…} is a filter, spelled out so that PostgreSQL gets it: the orders to
# refresh (also as the rework link, visits and pauses looked up), and every order of their households
# (for the previous and the next report of the same category). TRUE everywhere: every order.
_ROWS = """
WITH o AS (
    SELECT * FROM work_orders WHERE deleted_at IS NULL AND {orders}
),
peers AS (
    SELECT id, household_id, category, reported_at, completed_at
    FROM work_orders WHERE deleted_at IS NULL AND household_id IS NOT NULL AND {peers}
),
previous AS (  -- the latest completion of the same household and category before this report
    SELECT o.id, max(p.completed_at) AS completed_at
    FROM o JOIN peers p ON p.household_id = o.household_id AND p.category = o.category AND p.id <> o.id
    WHERE p.completed_at < o.reported_at
    GROUP BY o.id
),
repeat AS (  -- the first report of the same household and category after this completion
    SELECT o.id, min(p.reported_at) AS reported_at
    FROM o JOIN peers p ON p.household_id = o.household_id AND p.category = o.category AND p.id <> o.id
    WHERE p.reported_at > o.completed_at
    GROUP BY o.id
),
linked AS (  -- the first order recorded as a rework of this one
    SELECT r.rework_of AS id, min(r.reported_at) AS reported_at
    FROM work_orders r JOIN o ON o.id = r.rework_of
    WHERE r.deleted_at IS NULL AND {reworks}
    GROUP BY r.rework_of
),
visits AS (
    SELECT v.work_order_id AS id,
           count(*) AS visits,
           sum(v.satisfaction) AS score_sum,
           count(v.satisfaction) AS scores,
           min(v.visited_at) AS first_visit_at,
           min(v.visited_at) FILTER (WHERE v.needs_rework) AS rework_visit_at,
           max(v.visited_at) AS last_visit_at
    FROM work_order_visits v JOIN o ON o.id = v.work_order_id
    WHERE v.deleted_at IS NULL AND {visits}
    GROUP BY v.work_order_id
),
paused AS (  -- pauses up to completion (v_work_order_sla's paused_minutes once completed)
    SELECT p.work_order_id AS id,
           sum(greatest(0, date_diff('second', p.paused_at,
                   least(coalesce(p.resumed_at, o.completed_at), o.completed_at)))) / 60.0 AS minutes
    FROM work_order_pauses p JOIN o ON o.id = p.work_order_id
    WHERE p.deleted_at IS NULL AND o.completed_at IS NOT NULL AND {pauses}
    GROUP BY p.work_order_id
)
SELECT o.id, o.community_id, o.order_no, o.status, o.rework_of, o.household_id, o.category, o.urgency, strftime(o.reported_at, '%Y-%m'),
       o.reported_at, o.appointment_at, o.arrived_at, o.completed_at, o.assignee_id, o.location,
       o.labor_hours, o.charge,
       date_diff('second', o.reported_at, o.completed_at) / 60.0 - coalesce(pa.minutes, 0),
       pr.completed_at, rp.reported_at, lk.reported_at,
       coalesce(v.visits, 0), v.score_sum, coalesce(v.scores, 0), v.first_visit_at, v.rework_visit_at,
       v.last_visit_at
FROM o
LEFT JOIN previous pr ON pr.id = o.id
LEFT JOIN repeat rp ON rp.id = o.id
LEFT JOIN linked lk ON lk.id = o.id
LEFT JOIN visits v ON v.id = o.id
LEFT JOIN paused pa ON pa.id = o.id
"""
_COLUMNS = ("work_order_id, community_id, order_no, status, rework_of, household_id, category, urgency, month, reported_at, appointment_at, "
            "arrived_at, completed_at, assignee_id, location, labor_hours, charge, completion_minutes, "
            "previous_completed_at, repeat_reported_at, linked_at, visits, score_sum, scores, first_visit_at, "
            "rework_visit_at, last_visit_at")
_INSERT = "INSERT INTO " + TABLE + " (" + _COLUMNS + ") "
_EVERY_ORDER = _ROWS.format(orders="TRUE", peers="TRUE", reworks="TRUE", visits="TRUE", pauses="TRUE")


@after_write("work_orders", "work_order_visits", "work_order_pauses")
def follow(cur, register: str, entries: list[tuple]) -> None:
    """Refresh the orders rows written touched (entries: row_id, action, old JSON, new JSON)."""
    ids = [e[0] for e in entries]
    if register in ("work_order_visits", "work_order_pauses"):  # its order, and the one it moved from
        moved_from = [json.loads(e[2] or "{}").get("work_order_id") for e in entries]
        refresh(cur, column_in(cur, "SELECT work_order_id FROM " + q(register) + " WHERE id IN ", ids) + moved_from)
    elif register == "work_orders":
        households, reworked = set(), set()
        for e in entries:  # before and after: a changed household, category or rework link
            for side in (e[2], e[3]):
                values = json.loads(side or "{}")
                households.add(values.get("household_id"))
                reworked.add(values.get("rework_of"))
        for household, rework_of in rows_in(cur, "SELECT household_id, rework_of FROM work_orders WHERE id IN ", ids):
            households.add(household)
            reworked.add(rework_of)
        households.discard(None)
        peers = column_in(cur, "SELECT id FROM work_orders WHERE household_id IN ", sorted(households))
        refresh(cur, set(ids) | set(peers) | reworked)


def refresh(cur, orders: Iterable[int | None]) -> None:
    """Recompute the facts of these orders (a deleted one loses its row)."""
    ids = sorted({o for o in orders if o is not None})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        households = sorted({r[0] for r in rows_in(cur, "SELECT household_id FROM work_orders WHERE id IN ", chunk)}
                            - {None})
        op, o_params = in_list(chunk)
        hp, h_params = in_list(households)
        cur.execute("DELETE FROM " + TABLE + " WHERE work_order_id IN " + op, o_params)
        sql = _ROWS.format(orders="id IN " + op, peers="household_id IN " + hp, reworks="r.rework_of IN " + op,
                           visits="v.work_order_id IN " + op, pauses="p.work_order_id IN " + op)
        cur.execute(_INSERT + sql, o_params + h_params + o_params * 3)


def rebuild(db: Database) -> int:
    """Recompute every order's facts (after a restore, a migration or a bulk load); returns rows."""
    with db.transaction() as cur:
        cur.execute("DELETE FROM " + TABLE)
        cur.execute(_INSERT + _EVERY_ORDER)
    return db.scalar("SELECT count(*) FROM " + TABLE)


def differences(db: Database) -> int:
    """Orders whose kept facts differ from a recomputation (0 when the save path kept them)."""
    fresh = "SELECT * FROM (" + _EVERY_ORDER + ") t(" + _COLUMNS + ")"
    kept = "SELECT " + _COLUMNS + " FROM " + TABLE
    return db.scalar("SELECT count(DISTINCT work_order_id) FROM ((" + fresh + " EXCEPT ALL " + kept
                     + ") UNION ALL (" + kept + " EXCEPT ALL " + fresh + "))")
