-- v_arrears_ageing: 欠费账龄
-- rule: one row per community × age bucket of overdue bills (v_bill_balance at as_of, bills with
--       due_date < as_of and outstanding > 0). A bill's age = as_of − due_date, in days; buckets
--       '0-30' (1–30 days), '31-90', '91-180', '>180'; bucket_order 1..4. bills, households
--       (distinct), outstanding = Σ outstanding. Buckets without bills are left out. Late-fee bills
--       (fee item of method 滞纳金) are left out: the ageing is of the principal.
--       Example: as_of 2026-07-20, a bill due 2026-06-30 with 150.00 outstanding → 20 days, '0-30'.
--       Point in time: arrears_ageing_as_of(as_of DATE); this view is it at current_date.
-- source: 三(二) 收费管理 (催缴); 一 5 财务制度
-- parameters: none
-- 规则：按小区和账龄段统计逾期未缴的账单：账龄 = 当天 − 应缴日期，分 0-30 天、31-90 天、91-180 天、180 天以上四段，给出账单数、欠费户数和欠费金额。没有账单的账龄段不列出。
-- 参数：无
-- label community_id: 小区编号
-- label bucket: 账龄(天)
-- label bucket_order: 排序
-- label bills: 欠费账单数
-- label households: 欠费户数
-- label outstanding: 欠费(元)
CREATE OR REPLACE MACRO arrears_ageing_as_of(as_of) AS TABLE
WITH aged AS (
    -- the bills' totals at as_of straight from bill_totals_of (bill_balance_as_of without its
    -- joins to households and fee items, which add nothing here)
    SELECT community_id,
           household_id,
           (amount - reduced) - (paid - refunded) AS outstanding,
           CAST(as_of - due_date AS BIGINT) AS age
    FROM bill_totals_of(as_of, NULL)
    WHERE due_date < as_of AND (amount - reduced) - (paid - refunded) > 0
      AND fee_item_id NOT IN (SELECT id FROM fee_items WHERE method = '滞纳金')
)
SELECT community_id,
       CASE WHEN age <= 30 THEN '0-30' WHEN age <= 90 THEN '31-90'
            WHEN age <= 180 THEN '91-180' ELSE '>180' END AS bucket,
       CASE WHEN age <= 30 THEN 1 WHEN age <= 90 THEN 2 WHEN age <= 180 THEN 3 ELSE 4 END AS bucket_order,
       count(*) AS bills,
       count(DISTINCT household_id) AS households,
       sum(outstanding) AS outstanding
FROM aged
GROUP BY ALL;

CREATE OR REPLACE VIEW v_arrears_ageing AS
SELECT * FROM arrears_ageing_as_of(current_date);
