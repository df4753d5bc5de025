-- v_bill_balance: 账单余额
-- rule: one row per bill. due_net = amount − Σ(减免, 折扣); paid_net = Σ payments − Σ(退款);
--       outstanding = due_net − paid_net; status 已缴清 (outstanding ≤ 0) / 部分缴纳
--       (0 < outstanding < due_net) / 未缴. Payments of a voided receipt do not count.
--       Example: amount 300.00, 减免 50.00, paid 100.00 → due_net 250.00, outstanding 150.00, 部分缴纳.
--       Point in time: bill_balance_as_of(as_of DATE) counts payments and adjustments dated up to
--       the end of as_of (and receipts voided by then); this view is it at current_date.
--       One household: bill_balance_of(as_of, household_id) reads only that household's bills,
--       payments and adjustments (the cashier, statements and the household page); NULL: all.
--       Totals: bill_totals_of(as_of, household) gives each bill's reduced, paid, refunded and
--       late_fee_waived at as_of: the totals kept in bill_totals by the save path (every move up
--       to now, see app/bill_totals.py) less the payments, voids and adjustments dated after as_of.
-- source: 三(二) 收费管理; 一 5 财务制度
-- parameters: none
-- 规则：每张账单一行：应收净额 = 金额 − 减免 − 折扣；实收净额 = 收款 − 退款；欠款 = 应收净额 − 实收净额；状态为已缴清、部分缴纳或未缴。作废收据上的收款不计。例：金额 300.00、减免 50.00、已缴 100.00 → 应收 250.00、欠款 150.00、部分缴纳。
-- 参数：无
-- label bill_id: 账单编号
-- label community_id: 小区编号
-- label household_id: 房屋编号(内部)
-- label household_code: 房号
-- label fee_item_id: 收费项目编号
-- label fee_item: 收费项目
-- label period: 账期
-- label amount: 应收金额(元)
-- label due_date: 缴费截止日
-- label reduced: 减免折扣(元)
-- label paid: 已收(元)
-- label refunded: 已退款(元)
-- label due_net: 应收净额(元)
-- label paid_net: 实收净额(元)
-- label outstanding: 欠费(元)
-- label late_fee_waived: 滞纳金减免(元)
-- label last_paid_at: 最近收款时间
-- label status: 缴费状态
CREATE OR REPLACE MACRO bill_totals_of(as_of, household) AS TABLE
-- The kept totals count every move up to now; what happened after as_of is taken back out
-- (at today: nothing, and the dated scans below skip their tables' blocks by min/max).
WITH voided AS (
    SELECT id, voided_at FROM receipts WHERE voided
),
of_household AS (
    SELECT bill_id FROM bill_totals WHERE household_id = household
),
moves_after AS (
    -- a payment after as_of that still counts today: not yet paid on as_of
    SELECT p.bill_id, -p.amount AS paid, 0 AS reduced, 0 AS refunded, 0 AS late_fee_waived
    FROM payments p
    LEFT JOIN voided v ON v.id = p.receipt_id
    WHERE p.deleted_at IS NULL AND p.paid_at >= as_of + 1 AND v.id IS NULL
      AND (household IS NULL OR p.bill_id IN (SELECT bill_id FROM of_household))
    UNION ALL
    -- a receipt voided after as_of: on as_of its payments still counted
    SELECT p.bill_id, p.amount, 0, 0, 0
    FROM payments p
    JOIN voided v ON v.id = p.receipt_id AND v.voided_at >= as_of + 1
    WHERE p.deleted_at IS NULL AND p.paid_at < as_of + 1
      AND (household IS NULL OR p.bill_id IN (SELECT bill_id FROM of_household))
    UNION ALL
    SELECT bill_id,
           0,
           -CASE WHEN kind IN ('减免', '折扣') THEN amount ELSE 0 END,
           -CASE WHEN kind = '退款' THEN amount ELSE 0 END,
           -CASE WHEN kind = '滞纳金减免' THEN amount ELSE 0 END
    FROM bill_adjustments
    WHERE deleted_at IS NULL AND adjusted_at >= as_of + 1
      AND (household IS NULL OR bill_id IN (SELECT bill_id FROM of_household))
),
later AS (
    -- DECIMAL(14,2) like the kept totals: the sums over every bill below stay 64-bit integers
    SELECT bill_id,
           CAST(sum(paid) AS DECIMAL(14,2)) AS paid,
           CAST(sum(reduced) AS DECIMAL(14,2)) AS reduced,
           CAST(sum(refunded) AS DECIMAL(14,2)) AS refunded,
           CAST(sum(late_fee_waived) AS DECIMAL(14,2)) AS late_fee_waived,
           bool_or(paid <> 0) AS payments_moved
    FROM moves_after
    GROUP BY bill_id
),
last_paid AS (
    -- the latest payment counted on as_of, for the bills whose payments moved since
    SELECT p.bill_id, max(p.paid_at) AS last_paid_at
    FROM (SELECT bill_id FROM later WHERE payments_moved) m
    JOIN payments p ON p.bill_id = m.bill_id
    LEFT JOIN voided v ON v.id = p.receipt_id AND (v.voided_at IS NULL OR v.voided_at < as_of + 1)
    WHERE p.deleted_at IS NULL AND p.paid_at < as_of + 1 AND v.id IS NULL
    GROUP BY p.bill_id
)
SELECT t.bill_id,
       t.community_id,
       t.household_id,
       t.fee_item_id,
       t.period,
       t.amount,
       t.due_date,
       t.first_of_period,
       t.reduced + coalesce(l.reduced, 0) AS reduced,
       t.paid + coalesce(l.paid, 0) AS paid,
       t.refunded + coalesce(l.refunded, 0) AS refunded,
       t.late_fee_waived + coalesce(l.late_fee_waived, 0) AS late_fee_waived,
       CASE WHEN l.payments_moved THEN lp.last_paid_at ELSE t.last_paid_at END AS last_paid_at
FROM bill_totals t
LEFT JOIN later l ON l.bill_id = t.bill_id
LEFT JOIN last_paid lp ON lp.bill_id = t.bill_id
WHERE household IS NULL OR t.household_id = household;

CREATE OR REPLACE MACRO bill_balance_of(as_of, household) AS TABLE
SELECT t.bill_id,
       t.community_id,
       t.household_id,
       h.code AS household_code,
       t.fee_item_id,
       f.name AS fee_item,
       t.period,
       t.amount,
       t.due_date,
       t.reduced,
       t.paid,
       t.refunded,
       t.amount - t.reduced AS due_net,
       t.paid - t.refunded AS paid_net,
       (t.amount - t.reduced) - (t.paid - t.refunded) AS outstanding,
       t.late_fee_waived,
       t.last_paid_at,
       CASE WHEN (t.amount - t.reduced) - (t.paid - t.refunded) <= 0 THEN '已缴清'
            WHEN (t.paid - t.refunded) > 0 THEN '部分缴纳'
            ELSE '未缴' END AS status
FROM bill_totals_of(as_of, household) t
JOIN households h ON h.id = t.household_id
LEFT JOIN fee_items f ON f.id = t.fee_item_id;

CREATE OR REPLACE MACRO bill_balance_as_of(as_of) AS TABLE
SELECT * FROM bill_balance_of(as_of, NULL);

CREATE OR REPLACE VIEW v_bill_balance AS
SELECT * FROM bill_balance_as_of(current_date);
