"""Running totals of every bill (table `bill_totals`), kept in step with the fee ledger.

The fee rules would otherwise sum every payment and adjustment on each reading (12 M payments
for a large group). `follow` subscribes to the save path's writes of the ledger's registers, so a new bill, a payment, an adjustment, a voided receipt or a household moved to another
community refreshes the bills it touches, in the same transaction. Bills are refreshed a household's
period at a time, because `first_of_period` is decided among them. The rules take back out of these
totals what is dated after their as-of day (bill_totals_of in sql/views/v_bill_balance.sql), so a
past date gives the same figures as summing the ledger rows up to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from app.saving.changes import after_write
from app.storage import postgres
from app.storage.db import Database, column_in, in_list, q, rows_in

TABLE = "bill_totals"
TABLES = (TABLE,)
LABEL = "账单累计"
MIGRATION = "050_bill_totals"
CHUNK = 2000  # bills per refresh statement: bounded IN lists, which PostgreSQL gets spelled out

# One bill's totals from its ledger rows; every {…} is a filter (an IN list, or TRUE for all).
# Valid in DuckDB and in PostgreSQL, so a rebuild on PostgreSQL runs on the server itself.
_ROWS = """
SELECT b.id, h.community_id, b.household_id, b.fee_item_id, b.period, b.amount, b.due_date,
       b.id = min(b.id) OVER (PARTITION BY b.household_id, b.period),
       coalesce(a.reduced, 0), coalesce(a.refunded, 0), coalesce(a.late_fee_waived, 0),
       coalesce(p.paid, 0), p.last_paid_at
FROM bills b
JOIN (SELECT id, community_id FROM households WHERE {households}) h ON h.id = b.household_id
LEFT JOIN (
    SELECT bill_id,
           sum(amount) FILTER (WHERE kind IN ('减免', '折扣')) AS reduced,
           sum(amount) FILTER (WHERE kind = '退款') AS refunded,
           sum(amount) FILTER (WHERE kind = '滞纳金减免') AS late_fee_waived
    FROM bill_adjustments
    WHERE deleted_at IS NULL AND {adjusted_bills}
    GROUP BY bill_id
) a ON a.bill_id = b.id
LEFT JOIN (
    SELECT p.bill_id,
           sum(p.amount) FILTER (WHERE NOT coalesce(r.voided, false)) AS paid,
           max(p.paid_at) FILTER (WHERE NOT coalesce(r.voided, false)) AS last_paid_at
    FROM payments p
    LEFT JOIN (SELECT id, voided FROM receipts WHERE {receipts}) r ON r.id = p.receipt_id
    WHERE p.deleted_at IS NULL AND {paid_bills}
    GROUP BY p.bill_id
) p ON p.bill_id = b.id
WHERE b.deleted_at IS NULL AND {bills}
"""
_COLUMNS = ("bill_id, community_id, household_id, fee_item_id, period, amount, due_date, first_of_period, "
            "reduced, refunded, late_fee_waived, paid, last_paid_at")
_INSERT = "INSERT INTO " + TABLE + " (" + _COLUMNS + ") "
_EVERY_BILL = _ROWS.format(households="TRUE", adjusted_bills="TRUE", receipts="TRUE", paid_bills="TRUE",
                           bills="TRUE")


@after_write("bills", "payments", "bill_adjustments", "receipts", "households")
def follow(cur, register: str, entries: list[tuple]) -> None:
    """Refresh the bills rows written touched (entries: row_id, action, old JSON, new JSON)."""
    ids = [e[0] for e in entries]
    if register == "households":  # only a move to another community changes a bill's totals row
        ids = [e[0] for e in entries if e[1] == "修改" and "community_id" in json.loads(e[3] or "{}")]
        refresh(cur, column_in(cur, "SELECT id FROM bills WHERE household_id IN ", ids))
    elif register == "bills":
        refresh(cur, ids)
    elif register == "receipts":  # a new receipt has no payments yet; a void moves its payments' bills
        ids = [e[0] for e in entries if e[1] != "新增"]
        refresh(cur, column_in(cur, "SELECT bill_id FROM payments WHERE receipt_id IN ", ids))
    else:
        refresh(cur, column_in(cur, "SELECT bill_id FROM " + q(register) + " WHERE id IN ", ids))


def refresh(cur, bills: Iterable[int]) -> None:
    """Recompute the totals of these bills and of the other bills of their households' periods."""
    ids = sorted({b for b in bills if b is not None})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        pairs = set(rows_in(cur, "SELECT household_id, period FROM bills WHERE id IN ", chunk))
        if not pairs:
            continue
        households = sorted({h for h, _ in pairs})
        periods = sorted({p for _, p in pairs})
        hp, hp_params = in_list(households)
        pp, pp_params = in_list(periods)
        group = [i for i, h, p in cur.execute(
            "SELECT id, household_id, period FROM bills WHERE household_id IN " + hp + " AND period IN " + pp,
            hp_params + pp_params).fetchall() if (h, p) in pairs]
        receipts = column_in(cur, "SELECT DISTINCT receipt_id FROM payments WHERE receipt_id IS NOT NULL "
                                "AND bill_id IN ", group)
        gp, gp_params = in_list(group)
        rp, rp_params = in_list(receipts)
        cur.execute("DELETE FROM " + TABLE + " WHERE bill_id IN " + gp, gp_params)
        # placeholders in the order they appear in _ROWS: households, adjustments, receipts, payments, bills
        sql = _ROWS.format(households="id IN " + hp, adjusted_bills="bill_id IN " + gp, receipts="id IN " + rp,
                           paid_bills="p.bill_id IN " + gp, bills="b.id IN " + gp)
        cur.execute(_INSERT + sql, hp_params + gp_params + rp_params + gp_params + gp_params)


def rebuild(db: Database) -> int:
    """Recompute every bill's totals (after a restore, a migration or a bulk load); returns rows."""
    sql = _INSERT + _EVERY_BILL
    with db.transaction() as cur:
        if db.is_postgres:  # on the server: no copy of the ledger through DuckDB
            postgres.execute(cur, "TRUNCATE " + TABLE + ";\n" + sql)
        else:
            cur.execute("DELETE FROM " + TABLE)
            cur.execute(sql)
    return db.scalar("SELECT count(*) FROM " + TABLE)


def differences(db: Database) -> int:
    """Bills whose kept totals differ from a recomputation (0 when the save path kept them)."""
    fresh = "SELECT " + _COLUMNS + " FROM (" + _EVERY_BILL + ") t(" + _COLUMNS + ")"
    kept = "SELECT " + _COLUMNS + " FROM " + TABLE
    return db.scalar("SELECT count(DISTINCT bill_id) FROM ((" + fresh + " EXCEPT ALL " + kept + ") UNION ALL ("
                     + kept + " EXCEPT ALL " + fresh + "))")
