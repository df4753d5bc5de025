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

# The facts of the complaints a list of ids selects (NULL: all), deadlines included: the macro
# complaint_deadlines (sql/functions/complaint_deadlines.sql) says how they are worked out.
_COLUMNS = ("complaint_id, community_id, complaint_no, household_id, location, category, is_valid, status, "
            "responsible_id, month, received_at, handled_at, feedback_at, deadline, feedback_deadline, last_at")
_INSERT = "INSERT INTO " + TABLE + " (" + _COLUMNS + ") "
_ROWS_OF = "SELECT " + _COLUMNS + " FROM complaint_deadlines(?)"
_EVERY_COMPLAINT = "SELECT " + _COLUMNS + " FROM complaint_deadlines(CAST(NULL AS BIGINT[]))"

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
        cur.execute(_INSERT + _ROWS_OF, [chunk])
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
