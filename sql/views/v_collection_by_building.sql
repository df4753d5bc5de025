-- v_collection_by_building: 楼栋收费率
-- rule: v_collection_rate by building: one row per community × building × bill period (periods up
--       to as_of's month). billed = Σ due_net, collected = Σ paid_net (v_bill_balance at as_of),
--       rate = collected / billed (NULL when nothing billed); households_billed, households_owing
--       and household_rate as in v_collection_rate. Households without a building: building '（未分楼栋）'.
--       Late-fee bills (fee item of method 滞纳金) are left out: the rate reports the principal.
--       Point in time: collection_by_building_as_of(as_of DATE); this view is it at current_date.
-- source: 三(二) 收费管理; 一 5 财务制度
-- parameters: none
-- 规则：按小区、楼栋和账期统计收费率：应收、实收、收费率 = 实收 ÷ 应收，以及应缴户数、未缴户数和户收费率（口径同「收费率」）。没有楼栋的房屋归入「（未分楼栋）」。
-- 参数：无
-- label community_id: 小区编号
-- label building_id: 楼栋编号
-- label building: 楼栋
-- label period: 账期
-- label billed: 应收(元)
-- label collected: 实收(元)
-- label outstanding: 未缴(元)
-- label rate: 收费率
-- label households_billed: 应缴户数
-- label households_owing: 未缴户数
-- label household_rate: 户收费率
CREATE OR REPLACE MACRO collection_by_building_as_of(as_of) AS TABLE
WITH per_building AS (
    SELECT bb.community_id,
           h.building_id,
           bb.period,
           sum(bb.due_net) AS billed,
           sum(bb.paid_net) AS collected,
           sum(greatest(bb.outstanding, 0)) AS outstanding,
           count(DISTINCT bb.household_id) AS households_billed,
           count(DISTINCT bb.household_id) FILTER (WHERE bb.outstanding > 0) AS households_owing
    FROM bill_balance_as_of(as_of) bb
    JOIN households h ON h.id = bb.household_id
    WHERE bb.period <= strftime(as_of, '%Y-%m')
      AND bb.fee_item_id NOT IN (SELECT id FROM fee_items WHERE method = '滞纳金')  -- the principal only
    GROUP BY bb.community_id, h.building_id, bb.period
)
SELECT p.community_id,
       p.building_id,
       coalesce(g.code, '（未分楼栋）') AS building,
       p.period,
       p.billed,
       p.collected,
       p.outstanding,
       CAST(p.collected AS DOUBLE) / nullif(CAST(p.billed AS DOUBLE), 0) AS rate,
       p.households_billed,
       p.households_owing,
       CAST(p.households_billed - p.households_owing AS DOUBLE) / nullif(p.households_billed, 0)
           AS household_rate
FROM per_building p
LEFT JOIN buildings g ON g.id = p.building_id;

CREATE OR REPLACE VIEW v_collection_by_building AS
SELECT * FROM collection_by_building_as_of(current_date);
