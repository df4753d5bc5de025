-- v_collection_rate: 收费率
-- rule: one row per community × bill period (bills of periods up to as_of's month).
--       billed = Σ due_net; collected = Σ paid_net of those bills (payments up to as_of);
--       rate 收费率 = collected / billed; households_billed; households_owing (outstanding > 0 on
--       that period's bills); household_rate 户收费率 = (households_billed − households_owing) /
--       households_billed; outstanding = Σ positive outstanding. Rates are NULL when nothing billed.
--       Late-fee bills (fee item of method 滞纳金, made by the cashier) are left out of all of these:
--       the rates report the principal; late_fee_billed / late_fee_collected are their own columns.
--       Point in time: collection_rate_as_of(as_of DATE); this view is it at current_date.
-- source: 三(二) 收费管理; 一 5 财务制度
-- parameters: none
-- 规则：按小区和账期统计：应收 = 应收净额合计，实收 = 这些账单截至当天的实收净额合计，收费率 = 实收 ÷ 应收；户收费率 =（应缴户数 − 未缴户数）÷ 应缴户数，未缴户数为该账期账单尚有欠款的户数；未缴金额 = 各账单正的欠款之和。（「欠费户数」只指截至当天有逾期未缴账单的户数，见「欠费」。）没有应收时收费率为空。
-- 参数：无
-- label community_id: 小区编号
-- label period: 账期
-- label bills: 账单数
-- label billed: 应收(元)
-- label collected: 实收(元)
-- label outstanding: 未缴(元)
-- label rate: 收费率
-- label households_billed: 应缴户数
-- label households_owing: 未缴户数
-- label household_rate: 户收费率
-- label late_fee_billed: 滞纳金应收(元)
-- label late_fee_collected: 滞纳金实收(元)
CREATE OR REPLACE MACRO collection_rate_as_of(as_of) AS TABLE
-- One pass over the bills' totals at as_of. Billed households are counted by the first bill each
-- has in the period (first_of_period), not with count(DISTINCT …) over every bill; the distinct
-- count is left for owing households, among the few bills still outstanding.
WITH late_fee_items AS (
    SELECT id FROM fee_items WHERE method = '滞纳金'
),
per_period AS (
    SELECT community_id,
           period,
           count(*) FILTER (WHERE l.id IS NULL) AS bills,
           coalesce(sum(amount - reduced) FILTER (WHERE l.id IS NULL), 0) AS billed,
           coalesce(sum(paid - refunded) FILTER (WHERE l.id IS NULL), 0) AS collected,
           coalesce(sum(greatest((amount - reduced) - (paid - refunded), 0)) FILTER (WHERE l.id IS NULL), 0)
               AS outstanding,
           count(*) FILTER (WHERE first_of_period) AS households_billed,
           count(DISTINCT household_id) FILTER (WHERE (amount - reduced) - (paid - refunded) > 0
                                                AND l.id IS NULL) AS households_owing,
           coalesce(sum(amount - reduced) FILTER (WHERE l.id IS NOT NULL), 0) AS late_fee_billed,
           coalesce(sum(paid - refunded) FILTER (WHERE l.id IS NOT NULL), 0) AS late_fee_collected
    FROM bill_totals_of(as_of, NULL) t
    LEFT JOIN late_fee_items l ON l.id = t.fee_item_id
    WHERE period <= strftime(as_of, '%Y-%m')
    GROUP BY community_id, period
)
SELECT community_id,
       period,
       bills,
       billed,
       collected,
       outstanding,
       CAST(collected AS DOUBLE) / nullif(CAST(billed AS DOUBLE), 0) AS rate,
       households_billed,
       households_owing,
       CAST(households_billed - households_owing AS DOUBLE) / nullif(households_billed, 0) AS household_rate,
       late_fee_billed,
       late_fee_collected
FROM per_period;

CREATE OR REPLACE VIEW v_collection_rate AS
SELECT * FROM collection_rate_as_of(current_date);
