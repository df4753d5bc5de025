-- v_bill_balance: 账单余额
-- rule: one row per bill. due_net = amount − Σ(减免, 折扣); paid_net = Σ payments − Σ(退款);
--       outstanding = due_net − paid_net; status 已缴清 (outstanding ≤ 0) / 部分缴纳
--       (0 < outstanding < due_net) / 未缴. Payments of a voided receipt do not count.
--       Example: amount 300.00, 减免 50.00, paid 100.00 → due_net 250.00, outstanding 150.00, 部分缴纳.
--       Point in time: bill_balance_as_of(as_of DATE) counts payments and adjustments dated up to
--       the end of as_of (and receipts voided by then); this view is it at current_date.
--       One household: bill_balance_of(as_of, household_id) reads only that household's bills,
--       payments and adjustments (the cashier, statements and the household page); NULL: all.
-- source: 三(二) 收费管理; 一 5 财务制度
-- parameters: none
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
CREATE OR REPLACE MACRO bill_balance_of(as_of, household) AS TABLE
WITH adjusted AS (
    SELECT bill_id,
           coalesce(sum(amount) FILTER (WHERE kind IN ('减免', '折扣')), 0) AS reduced,
           coalesce(sum(amount) FILTER (WHERE kind = '退款'), 0) AS refunded,
           coalesce(sum(amount) FILTER (WHERE kind = '滞纳金减免'), 0) AS late_fee_waived
    FROM bill_adjustments
    WHERE deleted_at IS NULL AND adjusted_at < as_of + 1
      AND (household IS NULL OR bill_id IN (SELECT id FROM bills WHERE household_id = household))
    GROUP BY bill_id
),
voided AS (
    -- receipts voided by the end of as_of (a void without a time counts from the payment on):
    -- few rows, so payments are matched against them (a small hash table), not against all receipts
    SELECT id FROM receipts WHERE voided AND (voided_at IS NULL OR voided_at < as_of + 1)
),
paid AS (
    SELECT p.bill_id,
           sum(p.amount) AS paid,
           max(p.paid_at) AS last_paid_at
    FROM payments p
    LEFT JOIN voided v ON v.id = p.receipt_id
    WHERE p.deleted_at IS NULL
      AND p.paid_at < as_of + 1
      AND v.id IS NULL
      AND (household IS NULL OR p.bill_id IN (SELECT id FROM bills WHERE household_id = household))
    GROUP BY p.bill_id
),
balance AS (
    SELECT b.id AS bill_id,
           h.community_id,
           b.household_id,
           h.code AS household_code,
           b.fee_item_id,
           f.name AS fee_item,
           b.period,
           b.amount,
           b.due_date,
           coalesce(a.reduced, 0) AS reduced,
           coalesce(p.paid, 0) AS paid,
           coalesce(a.refunded, 0) AS refunded,
           b.amount - coalesce(a.reduced, 0) AS due_net,
           coalesce(p.paid, 0) - coalesce(a.refunded, 0) AS paid_net,
           coalesce(a.late_fee_waived, 0) AS late_fee_waived,
           p.last_paid_at
    FROM bills b
    JOIN households h ON h.id = b.household_id
    LEFT JOIN fee_items f ON f.id = b.fee_item_id
    LEFT JOIN adjusted a ON a.bill_id = b.id
    LEFT JOIN paid p ON p.bill_id = b.id
    WHERE b.deleted_at IS NULL AND (household IS NULL OR b.household_id = household)
)
SELECT bill_id,
       community_id,
       household_id,
       household_code,
       fee_item_id,
       fee_item,
       period,
       amount,
       due_date,
       reduced,
       paid,
       refunded,
       due_net,
       paid_net,
       due_net - paid_net AS outstanding,
       late_fee_waived,
       last_paid_at,
       CASE WHEN due_net - paid_net <= 0 THEN '已缴清'
            WHEN due_net - paid_net < due_net THEN '部分缴纳'
            ELSE '未缴' END AS status
FROM balance;

CREATE OR REPLACE MACRO bill_balance_as_of(as_of) AS TABLE
SELECT * FROM bill_balance_of(as_of, NULL);

CREATE OR REPLACE VIEW v_bill_balance AS
SELECT * FROM bill_balance_as_of(current_date);
