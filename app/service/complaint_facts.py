"""What the complaint rules need (tables `complaint_facts`, `complaint_counts`), kept in step.

A complaint's deadlines are working days after its receipt and its handling (holidays, 调休 working
weekends, per-community settings): four calendar joins per complaint, which every rule would
otherwise pay for each complaint on each reading (300 k in a large group). `follow` subscribes to
the save path's writes (app.saving.changes.after_write): a complaint refreshes its facts (its
fields, moments and both deadlines) and the counts of its groups (community × month × category,
before and after the write); a write of `holidays` or of a complaint.*_workdays setting moves
deadlines, so it refreshes every complaint. v_complaint_sla reads the facts; complaint_stats_as_of
reads the counts and takes out what was recorded after its cut-off (sql/views/v_complaint_stats.sql).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from app.saving.changes import after_write
from app.storage.db import Database, column_in, in_list, rows_in

TABLE = "complaint_facts"
COUNTS = "complaint_counts"
TABLES = (TABLE, COUNTS)
LABEL = "投诉统计要素"
MIGRATION = "070_complaint_facts"
CHUNK = 2000
SETTINGS = ("complaint.handle_workdays", "complaint.feedback_workdays")

# The facts of the complaints {complaints} selects (an IN list, or TRUE for all). The deadlines as
# the header of sql/views/v_complaint_sla.sql defines them: the N-th working day after a date is
# the working day numbered N after it (workday_calendar numbers working days without gaps).
_ROWS = """
WITH c AS (
    SELECT * FROM complaints WHERE deleted_at IS NULL AND received_at IS NOT NULL AND {complaints}
),
params AS (
    SELECT k.community_id,
           CAST(setting_int('complaint.handle_workdays', k.community_id) AS INTEGER) AS handle_days,
           CAST(setting_int('complaint.feedback_workdays', k.community_id) AS INTEGER) AS feedback_days
    FROM (SELECT DISTINCT community_id FROM c) k
),
cal AS (  -- from the first receipt to past the last deadline (3 days per working day, and 60)
    SELECT * FROM workday_calendar(
        (SELECT coalesce(min(CAST(received_at AS DATE)), current_date) FROM c),
        (SELECT coalesce(max(greatest(CAST(received_at AS DATE), CAST(handled_at AS DATE))), current_date)
                + 60 + 3 * (SELECT coalesce(max(greatest(handle_days, feedback_days)), 0) FROM params)
         FROM c))
),
workdays AS (
    SELECT day, workday_no FROM cal WHERE working
)
SELECT c.id, c.community_id, c.complaint_no, c.household_id, c.location, c.category, c.is_valid, c.status,
       c.responsible_id, strftime(c.received_at, '%Y-%m'), c.received_at, c.handled_at, c.feedback_at,
       coalesce(c.deadline, wh.day), wf.day, greatest(c.received_at, c.handled_at, c.feedback_at)
FROM c
JOIN params p ON p.community_id = c.community_id
LEFT JOIN cal cr ON cr.day = CAST(c.received_at AS DATE)
LEFT JOIN cal ch ON ch.day = CAST(c.handled_at AS DATE)
LEFT JOIN workdays wh ON wh.workday_no = cr.workday_no + p.handle_days
LEFT JOIN workdays wf ON wf.workday_no = ch.workday_no + p.feedback_days
"""
_COLUMNS = ("complaint_id, community_id, complaint_no, household_id, location, category, is_valid, status, "
            "responsible_id, month, received_at, handled_at, feedback_at, deadline, feedback_deadline, last_at")
_INSERT = "INSERT INTO " + TABLE + " (" + _COLUMNS + ") "
_EVERY_COMPLAINT = _ROWS.format(complaints="TRUE")

# v_complaint_stats's counts of the groups {groups} selects, with everything recorded
# (complaint_counted in sql/functions/complaints.sql says what each counts for).
_COUNTS = """
SELECT community_id, month, category,
       count(*) FILTER (WHERE n.received),
       count(*) FILTER (WHERE n.valid),
       count(*) FILTER (WHERE n.handled),
       count(*) FILTER (WHERE n.on_time),
       count(*) FILTER (WHERE n.fed_back)
FROM (SELECT community_id, month, category,
             complaint_counted(is_valid, received_at, handled_at, feedback_at, deadline, TIMESTAMP 'infinity') AS n
      FROM complaint_facts
      WHERE {groups})
GROUP BY community_id, month, category
"""
_COUNT_COLUMNS = "community_id, month, category, received, valid, handled, on_time, fed_back"
_INSERT_COUNTS = "INSERT INTO " + COUNTS + " (" + _COUNT_COLUMNS + ") "
_GROUP = "community_id = ? AND month = ?"  # a community's month: a few categories, found by two keys
_COUNT_MONTH = _COUNTS.format(groups=_GROUP)
_COUNT_ALL = _COUNTS.format(groups="TRUE")


@after_write("complaints", "holidays", "settings")
def follow(cur, register: str, entries: list[tuple]) -> None:
    """Refresh what rows written change (entries: row_id, action, old JSON, new JSON)."""
    if register == "complaints":
        refresh(cur, [e[0] for e in entries])
    elif register == "holidays" or (register == "settings" and _workday_settings(cur, entries)):
        _refresh_all(cur)


def _workday_settings(cur, entries: list[tuple]) -> bool:
    """Whether settings rows written hold (or held: a renamed key) a complaint.*_workdays value."""
    keys = {json.loads(side or "{}").get("key") for e in entries for side in (e[2], e[3])}
    keys |= set(column_in(cur, "SELECT key FROM settings WHERE id IN ", [e[0] for e in entries]))
    return bool(keys & set(SETTINGS))


def refresh(cur, complaints: Iterable[int | None]) -> None:
    """Recompute the facts of these complaints (a deleted one loses its row) and their groups' counts."""
    ids = sorted({c for c in complaints if c is not None})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        placeholders, params = in_list(chunk)
        months = set(rows_in(cur, "SELECT community_id, month FROM " + TABLE + " WHERE complaint_id IN ", chunk))
        cur.execute("DELETE FROM " + TABLE + " WHERE complaint_id IN " + placeholders, params)
        sql = _ROWS.format(complaints="id IN " + placeholders)
        cur.execute(_INSERT + sql, params)
        months |= set(rows_in(cur, "SELECT community_id, month FROM " + TABLE + " WHERE complaint_id IN ", chunk))
        for community_month in sorted(months, key=str):
            cur.execute("DELETE FROM " + COUNTS + " WHERE " + _GROUP, list(community_month))
            cur.execute(_INSERT_COUNTS + _COUNT_MONTH, list(community_month))


def _refresh_all(cur) -> None:
    cur.execute("DELETE FROM " + TABLE)
    cur.execute(_INSERT + _EVERY_COMPLAINT)
    cur.execute("DELETE FROM " + COUNTS)
    cur.execute(_INSERT_COUNTS + _COUNT_ALL)


def rebuild(db: Database) -> int:
    """Recompute every complaint's facts and every group's counts; returns the facts' rows."""
    with db.transaction() as cur:
        _refresh_all(cur)
    return db.scalar("SELECT count(*) FROM " + TABLE)


def differences(db: Database) -> int:
    """Complaints and groups whose kept rows differ from a recomputation (0 when the save path kept them)."""
    fresh = "SELECT * FROM (" + _EVERY_COMPLAINT + ") t(" + _COLUMNS + ")"
    kept = "SELECT " + _COLUMNS + " FROM " + TABLE
    facts = db.scalar("SELECT count(DISTINCT complaint_id) FROM ((" + fresh + " EXCEPT ALL " + kept
                      + ") UNION ALL (" + kept + " EXCEPT ALL " + fresh + "))")
    # the counts against a grouping of the facts (which the line above checks against the registers)
    fresh = "SELECT * FROM (" + _COUNT_ALL + ") t(" + _COUNT_COLUMNS + ")"
    kept = "SELECT " + _COUNT_COLUMNS + " FROM " + COUNTS
    groups = db.scalar("SELECT count(*) FROM (SELECT DISTINCT community_id, month, category FROM ((" + fresh
                       + " EXCEPT ALL " + kept + ") UNION ALL (" + kept + " EXCEPT ALL " + fresh + ")))")
    return facts + groups
