-- v_arrears_recovery: 清缴率
-- rule: one row per community × month M (up to as_of's month) with earlier arrears. Earlier
--       arrears = bills with due_date before the first day of M and outstanding > 0 at that day
--       (counting payments, refunds, 减免 and 折扣 dated before it). recovered = their payments net
--       of refunds dated in M; remaining = their outstanding at the end of M (at as_of for the
--       current month; not below 0); recovery_rate = recovered / (recovered + remaining).
--       Payments of voided receipts do not count. Late-fee bills (bills.late_fee_of set) are left
--       out: 清缴率 reports the principal.
--       Point in time: arrears_recovery_as_of(as_of DATE); this view is it at current_date.
-- source: 三(二) 收费管理 (催缴); 小区物业管理处工作流程「收费管理」
-- parameters: none
-- 规则：按小区和月份统计往期欠费的清缴情况：月初之前已到期仍未缴清的账单为往期欠费；当月收回的金额（扣除退款）为已清缴，月末仍欠的为未清缴；清缴率 = 已清缴 ÷（已清缴 + 未清缴）。作废收据上的收款不计。
-- 参数：无
-- label community_id: 小区编号
-- label month: 月份
-- label arrears_bills: 往期欠费账单数
-- label arrears_at_start: 月初往期欠费(元)
-- label recovered: 当月清缴(元)
-- label remaining: 月末仍欠(元)
-- label recovery_rate: 清缴率
CREATE OR REPLACE MACRO arrears_recovery_as_of(as_of) AS TABLE
WITH bill AS (
    SELECT b.id AS bill_id,
           h.community_id,
           b.amount,
           CAST(date_trunc('month', b.due_date) + INTERVAL 1 MONTH AS DATE) AS first_month
    FROM bills b
    JOIN households h ON h.id = b.household_id
    WHERE b.deleted_at IS NULL AND b.due_date < as_of
      AND b.late_fee_of IS NULL  -- 清缴率 reports the principal; late-fee bills are not arrears of it
),
events AS (
    -- (bill, day, change of due_net, change of paid_net)
    SELECT p.bill_id, CAST(p.paid_at AS DATE) AS day, 0 AS due_change, p.amount AS paid_change
    FROM payments p
    LEFT JOIN receipts r ON r.id = p.receipt_id
    WHERE p.deleted_at IS NULL
      AND p.paid_at < as_of + 1
      AND NOT (coalesce(r.voided, false) AND coalesce(r.voided_at, p.paid_at) < as_of + 1)
    UNION ALL
    SELECT bill_id,
           CAST(adjusted_at AS DATE),
           CASE WHEN kind IN ('减免', '折扣') THEN -amount ELSE 0 END,
           CASE WHEN kind = '退款' THEN -amount ELSE 0 END
    FROM bill_adjustments
    WHERE deleted_at IS NULL AND kind IN ('减免', '折扣', '退款') AND adjusted_at < as_of + 1
),
by_month AS (
    -- NULL month: before the bill's first month of arrears
    SELECT e.bill_id,
           CASE WHEN e.day < b.first_month THEN NULL
                ELSE CAST(date_trunc('month', e.day) AS DATE) END AS month_start,
           sum(e.due_change) AS due_change,
           sum(e.paid_change) AS paid_change,
           bool_or(e.paid_change < 0) AS has_refund
    FROM events e
    JOIN bill b ON b.bill_id = e.bill_id
    GROUP BY ALL
),
opening AS (
    SELECT b.bill_id,
           b.community_id,
           b.first_month,
           b.amount + coalesce(sum(k.due_change - k.paid_change) FILTER (WHERE k.month_start IS NULL), 0)
               AS owed_at_first_month,
           coalesce(bool_or(k.has_refund) FILTER (WHERE k.month_start IS NOT NULL), false) AS refund_later
    FROM bill b
    LEFT JOIN by_month k ON k.bill_id = b.bill_id
    GROUP BY b.bill_id, b.community_id, b.first_month, b.amount
),
candidates AS (
    -- settled before its first month and never refunded later: never in arrears at a month start
    SELECT * FROM opening
    WHERE first_month <= as_of AND (owed_at_first_month > 0 OR refund_later)
),
months AS (
    SELECT CAST(s.first + to_months(CAST(t.n AS INTEGER)) AS DATE) AS month_start
    FROM (SELECT min(first_month) AS first FROM candidates) s, range(0, 1200) t(n)
    WHERE s.first + to_months(CAST(t.n AS INTEGER)) <= as_of
),
flow AS (
    SELECT c.bill_id,
           c.community_id,
           m.month_start,
           c.owed_at_first_month,
           coalesce(k.due_change - k.paid_change, 0) AS change,
           coalesce(k.paid_change, 0) AS recovered
    FROM candidates c
    JOIN months m ON m.month_start >= c.first_month
    LEFT JOIN by_month k ON k.bill_id = c.bill_id AND k.month_start = m.month_start
),
running AS (
    SELECT *,
           owed_at_first_month + sum(change) OVER (PARTITION BY bill_id ORDER BY month_start
                                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS owed_at_end
    FROM flow
),
per_month AS (
    SELECT community_id,
           strftime(month_start, '%Y-%m') AS month,
           count(*) AS arrears_bills,
           sum(owed_at_end - change) AS arrears_at_start,
           sum(recovered) AS recovered,
           sum(greatest(owed_at_end, 0)) AS remaining
    FROM running
    WHERE owed_at_end - change > 0
    GROUP BY ALL
)
SELECT community_id,
       month,
       arrears_bills,
       arrears_at_start,
       recovered,
       remaining,
       CAST(recovered AS DOUBLE) / nullif(CAST(recovered + remaining AS DOUBLE), 0) AS recovery_rate
FROM per_month;

CREATE OR REPLACE VIEW v_arrears_recovery AS
SELECT * FROM arrears_recovery_as_of(current_date);

CREATE OR REPLACE MACRO arrears_recovery_month_of(as_of) AS TABLE
-- The rows of arrears_recovery_as_of(as_of) for as_of's own month only (the monthly report):
-- each bill's outstanding at as_of comes from its kept totals (bill_totals_of), and the moves
-- dated in the month are taken back out for its outstanding at the month's start, so only the
-- month's payments are read, not every payment since the first bill. The month's first day is
-- written out in each filter (not a CTE) so that DuckDB pushes it into the table scans.
WITH voided AS (
    SELECT id, voided_at FROM receipts WHERE voided
),
moves AS (
    SELECT p.bill_id, 0 AS due_change, p.amount AS paid_change
    FROM payments p
    LEFT JOIN voided v ON v.id = p.receipt_id
    WHERE p.deleted_at IS NULL
      AND p.paid_at >= CAST(date_trunc('month', CAST(as_of AS DATE)) AS DATE)
      AND p.paid_at < as_of + 1
      AND NOT (v.id IS NOT NULL AND coalesce(v.voided_at, p.paid_at) < as_of + 1)
    UNION ALL
    SELECT bill_id,
           CASE WHEN kind IN ('减免', '折扣') THEN -amount ELSE 0 END,
           CASE WHEN kind = '退款' THEN -amount ELSE 0 END
    FROM bill_adjustments
    WHERE deleted_at IS NULL AND kind IN ('减免', '折扣', '退款')
      AND adjusted_at >= CAST(date_trunc('month', CAST(as_of AS DATE)) AS DATE) AND adjusted_at < as_of + 1
),
in_month AS (
    SELECT bill_id, sum(due_change - paid_change) AS change, sum(paid_change) AS recovered
    FROM moves
    GROUP BY bill_id
),
owed AS (
    -- in arrears at the month's start: still owing at as_of, or moved in the month
    SELECT t.bill_id,
           t.community_id,
           (t.amount - t.reduced) - (t.paid - t.refunded) AS owed_at_end,
           coalesce(m.change, 0) AS change,
           coalesce(m.recovered, 0) AS recovered
    FROM bill_totals_of(as_of, NULL) t
    LEFT JOIN in_month m ON m.bill_id = t.bill_id
    WHERE t.due_date < CAST(date_trunc('month', CAST(as_of AS DATE)) AS DATE)
      AND ((t.amount - t.reduced) - (t.paid - t.refunded) > 0 OR m.bill_id IS NOT NULL)
),
per_month AS (
    SELECT community_id,
           count(*) AS arrears_bills,
           sum(owed_at_end - change) AS arrears_at_start,
           sum(recovered) AS recovered,
           sum(greatest(owed_at_end, 0)) AS remaining
    FROM owed
    WHERE owed_at_end - change > 0
      -- 清缴率 reports the principal: late-fee bills are not arrears of it
      AND bill_id NOT IN (SELECT id FROM bills WHERE late_fee_of IS NOT NULL)
    GROUP BY community_id
)
SELECT community_id,
       strftime(CAST(as_of AS DATE), '%Y-%m') AS month,
       arrears_bills,
       arrears_at_start,
       recovered,
       remaining,
       CAST(recovered AS DOUBLE) / nullif(CAST(recovered + remaining AS DOUBLE), 0) AS recovery_rate
FROM per_month;
