"""Fees: the bill run for a period and the cashier (payments, receipts, voids). No Streamlit.

Amounts are computed set-based in SQL (one statement for all methods and households) and
written through the save path, so bills are validated and audited like any other row. The
cashier writes a receipt; the save rule of `receipts` (app/save_rules/fees.py) numbers it and
allocates it to the household's bills in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from app import registers
from app.access.permissions import Actor
from app.admin.backup import before_change
from app.registers import expressions
from app.registers.validation import money
from app.saving.changes import Problem, RowChange, ValidationFailed, apply_changes
from app.storage.db import Database, q

PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")

# One row per (household, fee item) that the run for a period bills, with its amount.
# Parameters: period, period, community_id (NULL: every community, in one statement). Each method
# is one set-based branch joined on community (an equi-join, so a run over all communities is one
# hash join, not a loop); the due day comes from each community's settings, looked up once per
# community. Parking spaces are added when that register exists. _BILL_CTES ends with the shares of
# the shared meters (公摊), which the dry run also reads on their own.
_BILL_CTES = """
WITH run AS (
    SELECT CAST(? AS VARCHAR) AS period,
           CAST(strptime(? || '-01', '%Y-%m-%d') AS DATE) AS period_start,
           CAST(? AS BIGINT) AS community_id
),
run_days AS (
    SELECT period,
           period_start,
           last_day(period_start) AS period_end,
           month(period_start) AS period_month
    FROM run
),
scope AS (
    SELECT c.id AS community_id,
           make_date(year(d.period_start), month(d.period_start),
                     CAST(least(greatest(coalesce(setting_int('fee.due_day', c.id), 25), 1),
                                day(d.period_end)) AS INTEGER)) AS due_date,
           coalesce(setting_text('fee.prorate', c.id), 'day') = 'day' AS by_day
    FROM communities c, run r, run_days d
    WHERE r.community_id IS NULL OR c.id = r.community_id
),
items AS (
    SELECT f.id, f.community_id, f.method, f.unit_price, f.usage_scope, f.meter,
           coalesce(f.vacant_ratio, 1) AS vacant_ratio,
           coalesce(f.surcharge, 0) AS surcharge,
           coalesce(f.area_basis, '建筑面积') AS area_basis,
           f.months,
           f.effective_from,
           f.effective_to,
           -- the item's own choice (按天 / 不折算) before its community's fee.prorate
           coalesce(CASE f.prorate WHEN '按天' THEN true WHEN '不折算' THEN false END, s.by_day) AS by_day,
           r.period_start,
           CAST(r.period_start + to_months(f.months) AS DATE) - 1 AS cycle_end,
           CAST(CAST(r.period_start + to_months(f.months) AS DATE) - r.period_start AS INTEGER) AS cycle_days
    FROM (SELECT *, CASE cycle WHEN '月' THEN 1 WHEN '季' THEN 3 ELSE 12 END AS months FROM fee_items) f
    JOIN scope s ON s.community_id = f.community_id, run_days r
    WHERE f.deleted_at IS NULL
      AND f.status = '已审批'
      AND f.effective_from <= r.period_end
      AND (f.effective_to IS NULL OR f.effective_to >= r.period_start)
      AND (f.cycle = '月'
           OR (f.cycle = '季' AND r.period_month IN (1, 4, 7, 10))
           OR (f.cycle = '年' AND r.period_month = 1))
),
homes AS (
    SELECT h.id, h.community_id, h.code, h.building_id, h.area, h.inner_area, h.floor, h.usage, h.status,
           s.due_date,
           -- fees run from 交房 (or 入住 where no handover date is recorded)
           coalesce(h.handover_date, h.move_in_date) AS start_on,
           CASE WHEN h.handover_date IS NOT NULL THEN '交房' ELSE '入住' END AS start_kind
    FROM households h
    JOIN scope s ON s.community_id = h.community_id
    WHERE h.deleted_at IS NULL
),
shared_readings AS (
    -- 公摊: a shared meter's reading of the period, priced by its 公摊 item (approved, in effect):
    -- usage × price, half-up to the cent, in cents
    SELECT r.id AS reading_id, r.name AS meter_name, r.basis, r.building_id, r.period, d.period_end,
           i.id AS fee_item_id, i.community_id, i.unit_price, i.usage_scope, i.meter,
           CAST(r.curr_reading - r.prev_reading AS DECIMAL(12,3)) AS total_used,
           CAST(round((r.curr_reading - r.prev_reading) * i.unit_price, 2) * 100 AS HUGEINT) AS total_cents
    FROM shared_meter_readings r
    JOIN items i ON i.id = r.fee_item_id AND i.method = '公摊'
    JOIN run_days d ON d.period = r.period
    WHERE r.deleted_at IS NULL
),
shared_members AS (
    -- each household of a meter's scope (its building, else the community; handed over by the
    -- period's end): every home twice, under its building and under 0 (the whole community), so
    -- this is an equi-join
    SELECT s.reading_id, h.id AS household_id, h.code, h.building_id AS home_building_id, h.area, h.due_date
    FROM shared_readings s
    JOIN (SELECT *, building_id AS scope FROM homes WHERE building_id IS NOT NULL
          UNION ALL SELECT *, 0 FROM homes) h
      ON h.community_id = s.community_id AND h.scope = coalesce(s.building_id, 0)
    WHERE (s.usage_scope IS NULL OR h.usage = s.usage_scope) AND (h.start_on IS NULL OR h.start_on <= s.period_end)
),
shared_weights AS (
    -- a meter without households keeps one row (household NULL): the run stops on it
    SELECT s.*, h.household_id, h.code, h.home_building_id, h.area, h.due_date,
           CASE WHEN s.basis = '按用量'
                THEN CAST(meter_usage(m.reading_kind, m.prev_reading, m.curr_reading, m.digits, m.max_reading,
                                      m.old_final_reading, m.new_start_reading) AS DECIMAL(12,3)) END AS own_used
    FROM shared_readings s
    LEFT JOIN shared_members h ON h.reading_id = s.reading_id
    LEFT JOIN meter_readings m ON m.household_id = h.household_id AND m.meter = s.meter
         AND m.period = s.period AND m.deleted_at IS NULL
),
shared_split AS (
    SELECT *, sum(weight) OVER (PARTITION BY reading_id) AS total_weight,
           count(household_id) OVER (PARTITION BY reading_id) AS households
    FROM (SELECT *, CASE basis WHEN '按面积' THEN CAST(area * 100 AS HUGEINT)
                               WHEN '平均' THEN CAST(1 AS HUGEINT)
                               ELSE CAST(coalesce(own_used, 0) * 1000 AS HUGEINT) END AS weight
          FROM shared_weights) w
),
shared_rounded AS (
    -- a share is total × weight / Σ weights, half-up to the cent: ⌊(2·total·w + W) / 2W⌋ cents
    SELECT *, CASE WHEN total_weight > 0
                   THEN (2 * total_cents * weight + total_weight) // (2 * total_weight) END AS share_cents
    FROM shared_split
),
shared_shares AS (
    -- weights are exact integers (area × 100, 1, own usage × 1000); the rounding remainder
    -- (total − Σ shares) goes to the largest share, ties to the first 房号
    SELECT *, total_cents - sum(share_cents) OVER (PARTITION BY reading_id) AS remainder_cents,
           row_number() OVER (PARTITION BY reading_id ORDER BY share_cents DESC NULLS LAST, code) AS remainder_rank
    FROM shared_rounded
)"""

# What `_SHARED_TEXT` calls a number: 100.000 → 100, 0.6000 → 0.6.
_NUM = "rtrim(rtrim(CAST({} AS VARCHAR), '0'), '.')"
_CENTS = "CAST(CAST({} AS DECIMAL(38,0)) * 0.01 AS DECIMAL(18,2))"
# A share's note on the bill: the meter, its amount, the basis and this household's part.
_SHARED_TEXT = (
    "CASE WHEN share_cents IS NULL THEN '公摊表计「' || meter_name || '」' || CASE WHEN households = 0 "
    "THEN '的分摊范围内没有房屋' ELSE '按用量分摊，但范围内各户本期用量合计为 0' END || '，无法分摊' "
    "ELSE '公摊 ' || meter_name || '：用量 ' || " + _NUM.format("total_used") + " || ' × 单价 ' || "
    + _NUM.format("unit_price") + " || ' = ' || " + _CENTS.format("total_cents") + " || ' 元，' || "
    "CASE basis WHEN '按面积' THEN '按建筑面积 ' || area || '/' || CAST(CAST(total_weight AS DECIMAL(38,0)) "
    "* 0.01 AS DECIMAL(18,2)) || ' ㎡' WHEN '平均' THEN '平均分摊给 ' || households || ' 户' "
    "ELSE '按本户用量 ' || " + _NUM.format("coalesce(own_used, 0)") + " || '/' || "
    + _NUM.format("CAST(CAST(total_weight AS DECIMAL(38,0)) * 0.001 AS DECIMAL(18,3))") + " END || "
    "'，本户 ' || " + _CENTS.format("share_cents + CASE WHEN remainder_rank = 1 THEN remainder_cents ELSE 0 END")
    + " || ' 元' || CASE WHEN remainder_rank = 1 AND remainder_cents <> 0 THEN '（含尾差 ' || "
    + _CENTS.format("remainder_cents") + " || ' 元）' ELSE '' END END")

_BILL_LINES = _BILL_CTES + """,
spans AS (
    -- 按面积 and 固定: the days of the cycle the item bills this household (all of them when not
    -- pro-rated); a cycle that ends before the household's start is not billed at all
    SELECT h.id AS household_id, h.area, h.inner_area, h.floor, CAST(NULL AS DECIMAL(12,3)) AS used,
           h.status, h.due_date, h.start_on, h.start_kind, i.*,
           CASE WHEN i.by_day THEN greatest(i.period_start, i.effective_from, coalesce(h.start_on, i.period_start))
                ELSE i.period_start END AS from_day,
           CASE WHEN i.by_day THEN least(i.cycle_end, coalesce(i.effective_to, i.cycle_end))
                ELSE i.cycle_end END AS to_day
    FROM items i
    JOIN homes h ON h.community_id = i.community_id AND (i.usage_scope IS NULL OR h.usage = i.usage_scope)
    WHERE (i.method IN ('按面积', '固定') OR (i.method = '公式' AND i.meter IS NULL))
      AND (h.start_on IS NULL OR h.start_on <= i.cycle_end)
),
lines AS (
    -- 按面积 on 建筑面积 or 套内面积 (none recorded: NULL, which stops the run, never 0); a formula
    -- item's own formula ({{area_formula}} is one CASE over the formula items); 附加费 once a bill
    SELECT household_id, id AS fee_item_id,
           CAST(CASE WHEN method = '按面积' THEN basis_area WHEN method = '公式' THEN 1 ELSE months END
                AS DECIMAL(12,3)) AS quantity,
           CAST(CASE WHEN method = '按面积'
                     THEN basis_area * unit_price * months * CASE WHEN status = '空置' THEN vacant_ratio ELSE 1 END
                          + surcharge
                     WHEN method = '公式' THEN {area_formula} + surcharge
                     ELSE unit_price * months END AS DECIMAL(38,12)) AS full_amount,
           CAST(to_day - from_day + 1 AS INTEGER) AS days,
           cycle_days,
           due_date,
           CASE WHEN to_day - from_day + 1 < cycle_days THEN
               concat_ws('，',
                   CASE WHEN start_on = from_day AND start_on > period_start
                        THEN start_kind || ' ' || strftime(start_on, '%Y-%m-%d') || ' 起' END,
                   CASE WHEN effective_from = from_day AND effective_from > period_start
                         AND NOT (start_on = from_day AND start_on > period_start)
                        THEN '收费标准 ' || strftime(effective_from, '%Y-%m-%d') || ' 起生效' END,
                   CASE WHEN effective_to = to_day AND effective_to < cycle_end
                        THEN '收费标准 ' || strftime(effective_to, '%Y-%m-%d') || ' 止' END)
               || '，按 ' || (to_day - from_day + 1) || '/' || cycle_days || ' 天计' END AS prorated,
           CAST(NULL AS VARCHAR) AS shared
    FROM (SELECT *, id AS fee_item_id, CASE WHEN area_basis = '套内面积' THEN inner_area ELSE area END AS basis_area FROM spans) x
    WHERE to_day >= from_day
    UNION ALL
    SELECT household_id, fee_item_id, used,
           CAST(CASE WHEN method = '公式' THEN {meter_formula} ELSE round(used * unit_price, 2) END + surcharge
                AS DECIMAL(38,12)), 1, 1, due_date, NULL, NULL
    FROM (
        -- usage of a plain reading, a rollover or a replacement; a reading it cannot bill is left
        -- out here and listed by unbillable_readings (dry run, run output, to-do)
        SELECT h.id AS household_id, i.id AS fee_item_id, i.method, i.unit_price, i.surcharge, h.due_date,
               h.area, h.inner_area, h.floor,
               CAST(meter_usage(m.reading_kind, m.prev_reading, m.curr_reading, m.digits, m.max_reading,
                                m.old_final_reading, m.new_start_reading) AS DECIMAL(12,3)) AS used
        FROM items i
        JOIN homes h ON h.community_id = i.community_id AND (i.usage_scope IS NULL OR h.usage = i.usage_scope)
        JOIN meter_readings m ON m.household_id = h.id AND m.meter = i.meter
        JOIN run_days r ON m.period = r.period
        WHERE i.method IN ('按用量', '公式') AND m.deleted_at IS NULL
    ) x
    WHERE used IS NOT NULL
    UNION ALL
    SELECT household_id, fee_item_id,
           CAST(sum(round(CAST(total_used AS DOUBLE) * CAST(weight AS DOUBLE)
                          / CAST(nullif(total_weight, 0) AS DOUBLE), 3)) AS DECIMAL(12,3)),
           CAST(sum(share_cents + CASE WHEN remainder_rank = 1 THEN remainder_cents ELSE 0 END) AS DECIMAL(38,0))
               * 0.01,
           1, 1, due_date, NULL, string_agg({shared_text}, '；')
    FROM shared_shares
    GROUP BY household_id, fee_item_id, due_date
    {parking}
),
priced AS (
    -- pro-rated: full × days / days of the cycle, rounded half-up once, in exact integers (a
    -- DECIMAL division would go through DOUBLE): cents = ⌊(200·x + k) / 2k⌋, x = full × days × 10¹²,
    -- k = days of the cycle × 10¹²
    SELECT household_id, fee_item_id, quantity, due_date, prorated, shared,
           CAST(CASE WHEN days >= cycle_days THEN round(full_amount, 2)
                     ELSE CAST((CAST(CAST(full_amount * days AS DECIMAL(38,12)) * 1000000000000 AS HUGEINT) * 200
                                + CAST(cycle_days AS HUGEINT) * 1000000000000)
                               // (CAST(cycle_days AS HUGEINT) * 2000000000000) AS DECIMAL(18,0)) * 0.01
                END AS DECIMAL(12,2)) AS amount
    FROM lines
),
billable AS (
    SELECT l.*
    FROM priced l
    LEFT JOIN (
        -- already billed this period (unique per household, fee item and period): skipped
        SELECT b.household_id, b.fee_item_id
        FROM bills b, run_days r
        WHERE b.period = r.period AND b.deleted_at IS NULL
    ) billed ON billed.household_id = l.household_id AND billed.fee_item_id = l.fee_item_id
    -- a NULL or negative amount (a formula that failed, a missing 套内面积) is kept: bill_lines stops on it
    WHERE (l.amount IS NULL OR l.amount <> 0) AND billed.household_id IS NULL
),
run_rules AS (
    -- the discount rules the run itself applies (优惠规则 空置房比例 and 固定减免, approved, in force
    -- on the period's first day); the prepayment kinds are the cashier's (app/fees/prepayment.py)
    SELECT d.id, d.community_id, d.fee_item_id, d.name, d.kind, d.vacant_ratio, d.fixed_amount,
           d.only_without_arrears, d.approved_by_id
    FROM fee_discounts d
    JOIN scope s ON s.community_id = d.community_id, run_days r
    WHERE d.deleted_at IS NULL AND d.status = '已审批' AND d.kind IN ('空置房比例', '固定减免')
      AND d.valid_from <= r.period_start AND (d.valid_to IS NULL OR d.valid_to >= r.period_start)
),
in_arrears AS (
    -- households owing on an earlier period's bill past its due date on the run's day (the kept
    -- totals: every move up to now); read only where a rule is 仅限无欠费
    SELECT DISTINCT t.household_id
    FROM bill_totals t
    JOIN (SELECT DISTINCT community_id FROM run_rules WHERE only_without_arrears) k
      ON k.community_id = t.community_id, run_days r
    WHERE t.period < r.period AND t.due_date < CAST(? AS DATE)
      AND (t.amount - t.reduced) - (t.paid - t.refunded) > 0
),
discounts AS (
    -- one rule per bill: the fee item's own rule before a rule for all items, then the larger
    -- discount, then the first rule. 空置房比例: bill − bill × ratio (half-up), only for 空置 homes and
    -- not where the fee standard already lowered the bill by its own 空置房系数; 固定减免: the amount,
    -- not above the bill
    SELECT * FROM (
        SELECT b.household_id, b.fee_item_id, d.id AS discount_id, d.name AS discount_rule,
               d.kind AS discount_kind, d.approved_by_id AS discount_approved_by_id,
               CAST(CASE d.kind WHEN '空置房比例' THEN b.amount - round(b.amount * d.vacant_ratio, 2)
                                ELSE least(d.fixed_amount, b.amount) END AS DECIMAL(12,2)) AS discount,
               d.fee_item_id IS NULL AS for_all_items
        FROM billable b
        JOIN homes h ON h.id = b.household_id
        JOIN items i ON i.id = b.fee_item_id
        JOIN run_rules d ON d.community_id = h.community_id
             AND (d.fee_item_id IS NULL OR d.fee_item_id = b.fee_item_id)
        LEFT JOIN in_arrears a ON a.household_id = b.household_id
        WHERE b.amount > 0
          AND (d.kind = '固定减免'
               OR (h.status = '空置' AND NOT (i.method = '按面积' AND i.vacant_ratio < 1)))
          AND NOT (d.only_without_arrears AND a.household_id IS NOT NULL)
    ) x
    WHERE discount > 0
    QUALIFY row_number() OVER (PARTITION BY household_id, fee_item_id
                               ORDER BY for_all_items, discount DESC, discount_id) = 1
)
SELECT b.household_id, b.fee_item_id, b.quantity, b.amount, b.due_date, b.prorated, b.shared,
       d.discount_id, d.discount, d.discount_rule, d.discount_kind, d.discount_approved_by_id
FROM billable b
LEFT JOIN discounts d ON d.household_id = b.household_id AND d.fee_item_id = b.fee_item_id
ORDER BY b.household_id, b.fee_item_id
"""

_PARKING_LINES = """
    UNION ALL
    SELECT h.id, i.id, CAST(i.months AS DECIMAL(12,3)),
           CAST(round(sum(s.monthly_fee) * i.unit_price * i.months, 2) AS DECIMAL(38,12)), 1, 1,
           h.due_date, NULL, NULL
    FROM items i
    JOIN homes h ON h.community_id = i.community_id AND (i.usage_scope IS NULL OR h.usage = i.usage_scope)
    JOIN parking_spaces s ON s.household_id = h.id
    JOIN run_days r ON true
    WHERE i.method = '按车位' AND s.deleted_at IS NULL AND s.kind = '租赁'
      AND (s.lease_end_on IS NULL OR s.lease_end_on >= r.period_start)
    GROUP BY h.id, i.id, i.months, i.unit_price, h.due_date
"""


def unbillable_readings(db: Database, community_id: int, period: str) -> pd.DataFrame:
    """Readings of the period the bill run cannot bill (gone down without 翻表 or 换表, or
    incomplete): what the run's output lists, so none is skipped silently."""
    return db.query(
        "SELECT r.id AS reading_id, h.code, r.meter, "
        "meter_unbillable_text(r.meter, r.reading_kind, r.prev_reading, r.curr_reading) AS detail "
        "FROM meter_readings r JOIN households h ON h.id = r.household_id "
        "WHERE h.community_id = ? AND r.period = ? AND r.deleted_at IS NULL AND h.deleted_at IS NULL "
        "AND meter_usage(r.reading_kind, r.prev_reading, r.curr_reading, r.digits, r.max_reading, "
        "r.old_final_reading, r.new_start_reading) IS NULL ORDER BY h.code, r.meter",
        [community_id, check_period(period)])


def check_period(period: str) -> str:
    if not isinstance(period, str) or not PERIOD.fullmatch(period):
        raise ValueError(f"账期应写作 年-月，例如 2026-07，而不是 {period!r}")
    return period


def _has_parking(db: Database) -> bool:
    return "parking_spaces" in registers.catalog() and db.table_exists("parking_spaces")


def bill_lines(db: Database, community_id: int | None, period: str, on: date | None = None) -> pd.DataFrame:
    """The bills a run for this period would add (none already billed): the dry run's rows.

    Each line carries the discount the run gives it (discount_id, discount, discount_rule, …: the
    优惠规则 空置房比例 and 固定减免 in force; NULL when none), 仅限无欠费 judged on `on` (the
    run's day, default today).

    community_id None: every community at once (one statement; the benchmark's month run).
    Raises BillRunStopped when an amount cannot be computed (a formula that fails or gives a
    negative amount, a missing 套内面积): the dry run and the run stop, naming household and item.
    """
    check_period(period)
    sql, params = bill_lines_sql(db, community_id, on)
    lines = db.query(sql, [period, period, community_id, *params])
    failed = lines["amount"].map(lambda a: a is None or a != a or a < 0)
    if failed.any():
        raise BillRunStopped(_failures(db, lines[failed], period))
    return lines


def bill_lines_sql(db: Database, community_id: int | None, on: date | None = None) -> tuple[str, list]:
    """The bill run's one statement, with the formula items of the community (None: all) compiled in,
    and the parameters that follow period, period, community_id (the benchmark runs it as is); `on`
    is the run's day (default today), for the discount rules only without arrears."""
    area_formula, area_params = _formula_case(db, community_id, metered=False)
    meter_formula, meter_params = _formula_case(db, community_id, metered=True)
    sql = _BILL_LINES.format(parking=_PARKING_LINES if _has_parking(db) else "", shared_text=_SHARED_TEXT,
                             area_formula=area_formula, meter_formula=meter_formula)
    return sql, [*area_params, *meter_params, on or db.now().date()]


class BillRunStopped(ValidationFailed):
    """The bill run (and its dry run) cannot go on: some amount cannot be computed."""

    kind = "出账已停止"


def _formula_items(db: Database, community_id: int | None) -> list[tuple[int, str, str | None]]:
    """Approved formula items in scope: (id, formula, meter)."""
    return db.rows(
        "SELECT id, formula, meter FROM fee_items WHERE method = '公式' AND status = '已审批' "
        "AND deleted_at IS NULL AND (CAST(? AS BIGINT) IS NULL OR community_id = ?) ORDER BY id",
        [community_id, community_id])


def _formula_case(db: Database, community_id: int | None, metered: bool) -> tuple[str, list]:
    """One CASE over the formula items (with or without a meter), each compiled from the safe
    expression language to SQL over the row `x`: set-based, no Python per household. A formula
    that no longer compiles gives NULL, which stops the run with the reason."""
    parts, params = [], []
    for item_id, formula, meter in _formula_items(db, community_id):
        if (meter is not None) != metered:
            continue
        try:
            compiled = expressions.compile_fee_formula(formula or "")
        except expressions.ExpressionError:
            continue
        # a blank variable gives NULL (the run stops on it) unless the formula handles blanks itself
        filled = "" if expressions.handles_blanks(formula) else " AND ".join(
            "x." + q(f) + " IS NOT NULL" for f in compiled.fields)
        value = "CAST(" + compiled.sql + " AS DECIMAL(38,12))"
        parts.append("WHEN x.fee_item_id = ? THEN " + (f"CASE WHEN {filled} THEN {value} END" if filled else value))
        params += [item_id, *compiled.params]
    if not parts:
        return "CAST(NULL AS DECIMAL(38,12))", []
    return "(CASE " + " ".join(parts) + " END)", params


def _failures(db: Database, failed: pd.DataFrame, period: str) -> list[Problem]:
    """One problem per household and item whose amount cannot be computed, with the reason."""
    problems: list[Problem] = []
    for row in failed.itertuples(index=False):
        if isinstance(row.shared, str):  # a shared meter that cannot be split: one problem per meter
            name = db.scalar("SELECT name FROM fee_items WHERE id = ?", [int(row.fee_item_id)])
            problem = Problem(f"{period} 公摊", name, row.shared + "，出账已停止")
            if problem not in problems:
                problems.append(problem)
            continue
        if len(problems) >= 50:
            continue
        code, area, inner_area, floor = db.rows(
            "SELECT code, area, inner_area, floor FROM households WHERE id = ?", [int(row.household_id)])[0]
        name, method, formula, price, meter = db.rows(
            "SELECT name, method, formula, unit_price, meter FROM fee_items WHERE id = ?",
            [int(row.fee_item_id)])[0]
        where = f"{period} 房屋 {code}"
        if method == "公式":
            used = row.quantity if meter is not None else None
            values = {"area": area, "inner_area": inner_area, "floor": floor, "used": used, "unit_price": price}
            try:
                reason = expressions.fee_formula_failure(formula or "", values)
            except expressions.ExpressionError as err:
                reason = f"公式有误：{err}"
            if reason == "结果为负数" and row.amount == row.amount and row.amount is not None:
                reason = f"结果为负数（{money(row.amount)} 元）"
            problems.append(Problem(where, name, f"计费公式「{formula}」{reason}，出账已停止（不按 0 元出账）"))
        elif inner_area is None:
            problems.append(Problem(where, name, "按套内面积计费，但房屋档案没有填写套内面积，出账已停止"))
        else:  # pragma: no cover - no other method gives NULL or a negative amount
            problems.append(Problem(where, name, "金额无法计算，出账已停止"))
    if len(failed) > len(problems) >= 50:
        problems.append(Problem("出账", "", "另有同类问题未列出"))
    return problems


def generate_bills(db: Database, actor: Actor, community_id: int, period: str,
                   progress: Callable[[int, int], None] | None = None) -> int:
    """Bill every approved fee item of a community for a period; returns bills added.

    Idempotent: a (household, fee item, period) already billed is skipped, and the save
    path (and the unique index of sql/migrations/002_fee_keys.sql) refuses a duplicate should
    two runs race. With `progress`, the bills are saved one building at a time (one transaction
    each) and progress(bills saved, bills to save) is called after each; a run stopped halfway
    is completed by running it again.
    """
    lines = bill_lines(db, community_id, period)
    if lines.empty:
        return 0
    before_change(db, "billing", f"出账前：小区 {community_id} {period}，{len(lines):,} 张账单")
    issued_at = db.now()

    def change(row) -> RowChange:
        return bill_change(row, period, issued_at)

    actor = actor.via("出账")
    if progress is None:
        changes = [change(row) for row in lines.itertuples(index=False)]
        inserted = apply_changes(db, actor, "bills", changes).inserted
        give_discounts(db, actor, lines, inserted, period, issued_at)
        use_credit(db, actor, community_id, period)
        return len(inserted)
    building_of = dict(db.rows(
        "SELECT id, coalesce(building_id, 0) FROM households WHERE community_id = ?", [community_id]))
    lines = lines.assign(building=lines["household_id"].map(building_of).fillna(0))
    done, total = 0, len(lines)
    progress(0, total)
    for _, part in lines.groupby("building", sort=True):
        changes = [change(row) for row in part.itertuples(index=False)]
        inserted = apply_changes(db, actor, "bills", changes).inserted
        give_discounts(db, actor, part, inserted, period, issued_at)
        done += len(inserted)
        progress(done, total)
    use_credit(db, actor, community_id, period)
    return done


# -- 预存款自动抵扣 after a run ----------------------------------------------------------
# -- 预存款 used at the bill run ---------------------------------------------------------------
# Per household with credit_auto: min(credit balance, what it owes on bills up to the period),
# one statement for the community (credit as billing.credit_balance: a voided receipt's credit
# does not count).
_CREDIT_TO_USE = """
WITH credit AS (
    SELECT c.household_id, sum(c.amount) AS balance
    FROM household_credits c
    JOIN households h ON h.id = c.household_id
    LEFT JOIN receipts r ON r.id = c.receipt_id AND c.amount > 0
    WHERE c.deleted_at IS NULL AND NOT coalesce(r.voided, false)
      AND h.community_id = ? AND h.credit_auto AND h.deleted_at IS NULL
    GROUP BY c.household_id
    HAVING sum(c.amount) > 0
),
owed AS (
    SELECT b.household_id, sum(b.outstanding) AS owed
    FROM bill_balance_as_of(DATE '9999-12-30') b
    JOIN credit ON credit.household_id = b.household_id
    WHERE b.outstanding > 0 AND b.period <= ?
    GROUP BY b.household_id
)
SELECT credit.household_id, CAST(least(credit.balance, owed.owed) AS DECIMAL(12,2)) AS amount
FROM credit JOIN owed ON owed.household_id = credit.household_id
ORDER BY credit.household_id
"""


def use_credit(db: Database, actor: Actor, community_id: int, period: str) -> int:
    """After a bill run: each household marked 预存款自动抵扣 pays what it owes (up to this
    period) from its credit, as a 预存款 receipt (the receipts save rule allocates it, oldest due
    first, and writes the credit taken). The amounts are one statement; each receipt is its own
    save (numbered receipts are issued one per change set), so a run stopped halfway is finished
    by running it again (what was used is no longer owed). Returns the receipts issued."""
    if not db.scalar("SELECT count(*) FROM households WHERE community_id = ? AND credit_auto "
                     "AND deleted_at IS NULL", [community_id]):
        return 0  # most communities: no household marked, no balance worked out
    found = db.query(_CREDIT_TO_USE, [community_id, check_period(period)])
    at, actor = db.now(), actor.via("出账")
    for r in found.itertuples(index=False):
        apply_changes(db, actor, "receipts", [RowChange("insert", values={
            "community_id": community_id, "household_id": int(r.household_id), "paid_at": at,
            "total": money(r.amount), "method": "预存款", "note": f"{period} 出账后预存款自动抵扣"})])
    return len(found)


def give_discounts(db: Database, actor: Actor, lines: pd.DataFrame, bill_ids: list[int], period: str,
                   at: datetime) -> int:
    """The run's discount rules on the bills just made (lines in the order they were saved): one
    折扣 adjustment per discounted bill, citing the rule and its approver; returns how many."""
    if "discount_id" not in lines or not len(bill_ids):
        return 0
    changes = [
        RowChange("insert", values={
            "bill_id": bill_id, "kind": "折扣", "amount": money(row.discount), "adjusted_at": at,
            "approved_by_id": int(row.discount_approved_by_id), "discount_id": int(row.discount_id),
            "reason": f"优惠规则「{row.discount_rule}」（{row.discount_kind}），{period} 出账"})
        for row, bill_id in zip(lines.itertuples(index=False), bill_ids) if pd.notna(row.discount_id)]
    if changes:
        apply_changes(db, actor.via("出账"), "bill_adjustments", changes)
    return len(changes)


def bill_change(row, period: str, issued_at) -> RowChange:
    """The new bill of one line of `bill_lines`; its note says why it is pro-rated or what 公摊 it holds."""
    notes = [("按天折算：" if part == "prorated" else "") + getattr(row, part) for part in ("prorated", "shared")
             if isinstance(getattr(row, part, None), str)]
    note = "；".join(notes)
    return RowChange("insert", values={
        "household_id": int(row.household_id),
        "fee_item_id": int(row.fee_item_id),
        "period": period,
        "quantity": row.quantity,
        "amount": money(row.amount),
        "due_date": row.due_date,
        "issued_at": issued_at,
        **({"note": note} if note else {}),
    })


def generate_bills_for(db: Database, actor: Actor, community_ids: list[int], period: str) -> dict[int, int]:
    """One bill run over several communities, all in one transaction: bills added per community.

    Either every community is billed or none is (a crash or a refused bill leaves nothing
    half done), so the operator never has to find out which communities a failed run reached.
    """
    parts = {c: bill_lines(db, c, period) for c in community_ids}
    total = sum(len(lines) for lines in parts.values())
    if not total:
        return {c: 0 for c in community_ids}
    before_change(db, "billing", f"出账前：小区 {'、'.join(map(str, community_ids))} {period}，"
                                 f"{total:,} 张账单")
    issued_at = db.now()
    changes, owner = [], []
    for community_id, lines in parts.items():
        for row in lines.itertuples(index=False):
            changes.append(bill_change(row, period, issued_at))
            owner.append(community_id)
    inserted = apply_changes(db, actor.via("出账"), "bills", changes).inserted
    give_discounts(db, actor, pd.concat(list(parts.values()), ignore_index=True), inserted, period, issued_at)
    added = {c: 0 for c in community_ids}
    for community_id in owner[:len(inserted)]:
        added[community_id] += 1
    for community_id in community_ids:
        use_credit(db, actor, community_id, period)
    return added


def previous_period(period: str) -> str:
    y, m = map(int, check_period(period).split("-"))
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


# -- the dry run ------------------------------------------------------------------------
@dataclass
class BillRunPreview:
    """What a bill run would do, per building, before the user confirms it."""

    community_id: int
    period: str
    previous: str
    lines: pd.DataFrame  # the bills the run would add (bill_lines)
    buildings: pd.DataFrame  # per building: this run against the previous period
    changes: pd.DataFrame  # per household: what changed since the previous period
    already_billed: int  # bills of this period already there (skipped by the run)

    @property
    def total(self) -> Decimal:
        return money(self.lines["amount"].sum()) if not self.lines.empty else money(0)

    @property
    def discount(self) -> Decimal:
        """What the run's discount rules take off these bills (written as 折扣 adjustments)."""
        return money(self.lines["discount"].dropna().sum()) if not self.lines.empty else money(0)


# Per building: households, bills and amount of the previous period (from bills) and what is
# already billed this period. Parameters: community, previous period, this period.
_BUILDING_TOTALS = """
SELECT coalesce(h.building_id, 0) AS building_id,
       coalesce(any_value(g.code), '（未分楼栋）') AS building,
       count(DISTINCT h.id) AS households,
       count(b.id) FILTER (WHERE b.period = ?) AS previous_bills,
       coalesce(sum(b.amount) FILTER (WHERE b.period = ?), 0) AS previous_amount,
       count(b.id) FILTER (WHERE b.period = ?) AS already_billed
FROM households h
LEFT JOIN buildings g ON g.id = h.building_id
LEFT JOIN bills b ON b.household_id = h.id AND b.deleted_at IS NULL AND b.period IN (?, ?)
WHERE h.community_id = ? AND h.deleted_at IS NULL
GROUP BY coalesce(h.building_id, 0)
"""

# One row per finding: new households (never billed before this period while others were), areas
# changed since the previous period's 按面积 bills, meter readings missing or that cannot be billed,
# households without an owner. Parameters: community ×2, period ×4, previous, period ×2.
_CHANGES = """
WITH homes AS (
    SELECT h.id, h.code, h.area, h.usage, coalesce(h.building_id, 0) AS building_id
    FROM households h WHERE h.community_id = ? AND h.deleted_at IS NULL
),
meter_items AS (
    SELECT DISTINCT f.meter, f.usage_scope, f.name
    FROM fee_items f
    WHERE f.community_id = ? AND f.deleted_at IS NULL AND f.status = '已审批'
      AND f.method IN ('按用量', '公式') AND f.meter IS NOT NULL
      AND f.effective_from <= last_day(CAST(strptime(? || '-01', '%Y-%m-%d') AS DATE))
      AND (f.effective_to IS NULL OR f.effective_to >= CAST(strptime(? || '-01', '%Y-%m-%d') AS DATE))
)
SELECT h.building_id, h.code, '新增房屋' AS kind, '此前没有出过账单' AS detail
FROM homes h
WHERE EXISTS (SELECT 1 FROM bills b WHERE b.period < ? AND b.deleted_at IS NULL
              AND b.household_id IN (SELECT id FROM homes))
  AND NOT EXISTS (SELECT 1 FROM bills b WHERE b.household_id = h.id AND b.period < ?
                  AND b.deleted_at IS NULL)
UNION ALL
SELECT h.building_id, h.code, '面积变更',
       '上期按 ' || CAST(b.quantity AS DECIMAL(10,2)) || ' ㎡ 计费，现为 ' || h.area || ' ㎡'
FROM homes h
JOIN bills b ON b.household_id = h.id AND b.period = ? AND b.deleted_at IS NULL
JOIN fee_items f ON f.id = b.fee_item_id AND f.method = '按面积'
WHERE CAST(b.quantity AS DECIMAL(10,2)) <> h.area
UNION ALL
SELECT h.building_id, h.code, '缺少抄表', m.name || '：本期没有' || m.meter || '表读数'
FROM homes h
JOIN meter_items m ON m.usage_scope IS NULL OR m.usage_scope = h.usage
WHERE NOT EXISTS (SELECT 1 FROM meter_readings r WHERE r.household_id = h.id AND r.meter = m.meter
                  AND r.period = ? AND r.deleted_at IS NULL)
UNION ALL
SELECT h.building_id, h.code, '读数不能出账',
       meter_unbillable_text(r.meter, r.reading_kind, r.prev_reading, r.curr_reading)
FROM homes h
JOIN meter_readings r ON r.household_id = h.id AND r.period = ? AND r.deleted_at IS NULL
WHERE meter_usage(r.reading_kind, r.prev_reading, r.curr_reading, r.digits, r.max_reading,
                  r.old_final_reading, r.new_start_reading) IS NULL
UNION ALL
SELECT h.building_id, h.code, '无业主', '没有在住的业主登记'
FROM homes h
WHERE NOT EXISTS (SELECT 1 FROM owners o WHERE o.household_id = h.id AND o.deleted_at IS NULL
                  AND o.role = '业主' AND (o.moved_out_on IS NULL OR o.moved_out_on > current_date))
"""


def preview_bill_run(db: Database, community_id: int, period: str) -> BillRunPreview:
    """The dry run: per building, this run's bills against the previous period, and what changed."""
    previous = previous_period(period)
    lines = bill_lines(db, community_id, period)
    totals = db.query(_BUILDING_TOTALS, [previous, previous, period, previous, period, community_id])
    building_of = dict(db.rows(
        "SELECT id, coalesce(building_id, 0) FROM households WHERE community_id = ?", [community_id]))
    new = (lines.assign(building_id=lines["household_id"].map(building_of).fillna(0).astype("int64"))
           .groupby("building_id").agg(bills=("amount", "size"), amount=("amount", "sum"))
           .reset_index()) if not lines.empty else pd.DataFrame(
               {"building_id": pd.Series(dtype="int64"), "bills": pd.Series(dtype="int64"),
                "amount": pd.Series(dtype="object")})
    buildings = totals.merge(new, on="building_id", how="left")
    buildings["bills"] = buildings["bills"].fillna(0).astype("int64")
    buildings["amount"] = [money(a) if pd.notna(a) else money(0) for a in buildings["amount"]]
    buildings["previous_amount"] = [money(a) for a in buildings["previous_amount"]]
    buildings["difference"] = [a + already - p for a, already, p in zip(
        buildings["amount"], _already_amounts(db, community_id, period, buildings["building_id"]),
        buildings["previous_amount"])]
    buildings = buildings.sort_values("building_id", key=lambda b: b.replace(0, 2**62)).reset_index(
        drop=True)
    changes = db.query(_CHANGES, [community_id, community_id, period, period, period, period,
                                  previous, period, period])
    changes = pd.concat([changes, _prorated_changes(db, community_id, lines),
                         _discount_changes(db, community_id, lines),
                         _shared_changes(db, community_id, period)], ignore_index=True)
    names = dict(zip(buildings["building_id"], buildings["building"]))
    changes.insert(0, "building", changes["building_id"].map(names))
    changes = changes.sort_values(["building_id", "code", "kind"]).drop(columns="building_id")
    return BillRunPreview(community_id, period, previous, lines,
                          buildings[["building_id", "building", "households", "previous_bills",
                                     "previous_amount", "already_billed", "bills", "amount",
                                     "difference"]],
                          changes.reset_index(drop=True), int(buildings["already_billed"].sum()))


def _line_findings(db: Database, community_id: int, part: pd.DataFrame, kind: str, detail) -> pd.DataFrame:
    """One finding per bill line of `part`: its household, `kind`, and `detail(line, fee item name)`."""
    columns = ["building_id", "code", "kind", "detail"]
    if part.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "building_id" else "object") for c in columns})
    homes = {h: (b, code) for h, b, code in db.rows(
        "SELECT id, coalesce(building_id, 0), code FROM households WHERE community_id = ?", [community_id])}
    items = dict(db.rows("SELECT id, name FROM fee_items WHERE community_id = ?", [community_id]))
    return pd.DataFrame([
        {"building_id": homes[r.household_id][0], "code": homes[r.household_id][1], "kind": kind,
         "detail": detail(r, items[r.fee_item_id])} for r in part.itertuples(index=False)], columns=columns)


def _prorated_changes(db: Database, community_id: int, lines: pd.DataFrame) -> pd.DataFrame:
    """Which household and item the run pro-rates, and why."""
    part = lines[lines["prorated"].map(lambda p: isinstance(p, str))] if not lines.empty else lines
    return _line_findings(db, community_id, part, "按天折算",
                          lambda r, item: f"{item}：{r.prorated}，{money(r.amount)} 元")


def _discount_changes(db: Database, community_id: int, lines: pd.DataFrame) -> pd.DataFrame:
    """Which household and item the run discounts, by which rule, how much."""
    part = lines[lines["discount_id"].notna()] if not lines.empty else lines
    return _line_findings(db, community_id, part, "优惠",
                          lambda r, item: f"{item}：优惠规则「{r.discount_rule}」（{r.discount_kind}），"
                                          f"账单 {money(r.amount)} 元，优惠 {money(r.discount)} 元")


# One finding per shared meter of the period: its amount, basis, households, and who takes the
# rounding remainder. Parameters: those of _BILL_CTES.
_USED, _PRICE = _NUM.format("total_used"), _NUM.format("unit_price")
_TOTAL, _REMAINDER = _CENTS.format("total_cents"), _CENTS.format("remainder_cents")
_SHARED_SUMMARY = _BILL_CTES + """
SELECT coalesce(home_building_id, 0) AS building_id, code, '公摊' AS kind,
       meter_name || '：用量 ' || """ + _USED + """ || ' × 单价 ' || """ + _PRICE + """
       || ' = ' || """ + _TOTAL + """ || ' 元，' || basis || '分摊给 ' || households
       || ' 户，尾差 ' || """ + _REMAINDER + """ || ' 元计入 ' || code
       || '（分摊金额最多的一户，相同时取房号最前的一户）' AS detail
FROM shared_shares
WHERE remainder_rank = 1 AND share_cents IS NOT NULL
ORDER BY meter_name
"""


def _shared_changes(db: Database, community_id: int, period: str) -> pd.DataFrame:
    """The dry run's line per shared meter (公摊): what is split, how, and where the remainder goes."""
    return db.query(_SHARED_SUMMARY, [period, period, community_id])


def _already_amounts(db: Database, community_id: int, period: str, building_ids) -> list[Decimal]:
    found = dict(db.rows(
        "SELECT coalesce(h.building_id, 0), sum(b.amount) FROM bills b "
        "JOIN households h ON h.id = b.household_id "
        "WHERE h.community_id = ? AND b.period = ? AND b.deleted_at IS NULL "
        "GROUP BY coalesce(h.building_id, 0)", [community_id, period]))
    return [money(found.get(b, 0)) for b in building_ids]


# -- cashier ----------------------------------------------------------------------------
def open_bills(db: Database, household_id: int, as_of: date | None = None) -> pd.DataFrame:
    """A household's bills with money still owed, oldest due first (the order payments go)."""
    return db.query(
        "SELECT bill_id, fee_item, period, due_date, due_net, paid_net, outstanding, status "
        "FROM bill_balance_of(CAST(? AS DATE), CAST(? AS BIGINT)) WHERE outstanding > 0 "
        "ORDER BY due_date, period, bill_id",
        [as_of or db.now().date(), household_id],
    )


def credit_balance(db: Database, household_id: int) -> Decimal:
    """Σ household_credits (+ received, − applied), leaving out credit of voided receipts."""
    value = db.scalar(
        "SELECT coalesce(sum(c.amount), 0) FROM household_credits c "
        "LEFT JOIN receipts r ON r.id = c.receipt_id AND c.amount > 0 "
        "WHERE c.deleted_at IS NULL AND c.household_id = ? AND NOT coalesce(r.voided, false)",
        [household_id],
    )
    return Decimal(value).quantize(Decimal("0.01"))


def take_payment(
    db: Database,
    actor: Actor,
    household_id: int,
    amount: Any,
    method: str,
    paid_at: datetime | None = None,
    cashier_id: int | None = None,
    note: str | None = None,
) -> int:
    """Take a payment: one numbered receipt, allocated oldest due first, overpayment to credit.

    Returns the receipt id. Everything (receipt, its payments, credit) is one transaction.
    """
    community_id = db.scalar(
        "SELECT community_id FROM households WHERE id = ? AND deleted_at IS NULL", [household_id]
    )
    if community_id is None:
        raise ValidationFailed([Problem("收款", "房屋", f"房屋编号 {household_id} 不存在")])
    values = {
        "community_id": community_id,
        "household_id": household_id,
        "paid_at": paid_at or db.now(),
        "total": amount,
        "method": method,
        "cashier_id": cashier_id,
        "note": note,
    }
    result = apply_changes(
        db, actor.via("收银台"), "receipts",
        [RowChange("insert", values={k: v for k, v in values.items() if v is not None})],
    )
    return result.inserted[0]


def void_receipt(db: Database, actor: Actor, receipt_id: int, reason: str) -> None:
    """Void a receipt: its number stays used, its payments and credit stop counting."""
    apply_changes(
        db, actor.via("收银台"), "receipts",
        [RowChange("update", row_id=receipt_id, values={"voided": True, "void_reason": reason})],
    )
