-- v_agency_collection_balance: 代收代缴余额
-- rule: one row per community, kind and payee of agency_collections: collected = Σ amount of
--       代收 rows, passed_on = Σ amount of 转交 rows, both dated on or before as_of; balance =
--       collected − passed_on (money held for the payee; negative means more was passed on than
--       collected, to be checked); last_passed_on = the latest 转交 date.
--       Point in time: agency_collection_balance_as_of(as_of DATE); this view is it at current_date.
-- source: 三(二) 收费管理（代收代缴）
-- parameters: none
-- 规则：每个小区、款项和收款单位一行：代收合计、已转交合计，余额 = 代收 − 转交（管理处暂存、尚未转交的钱；为负说明转交多于代收，需核对），以及最近一次转交日期。
-- 参数：无
-- label community_id: 小区编号
-- label kind: 款项
-- label payee: 收款单位
-- label collected: 代收合计
-- label passed_on: 已转交合计
-- label balance: 余额
-- label last_passed_on: 最近转交日期
CREATE OR REPLACE MACRO agency_collection_balance_as_of(as_of) AS TABLE
SELECT community_id,
       kind,
       payee,
       CAST(coalesce(sum(amount) FILTER (WHERE direction = '代收'), 0) AS DECIMAL(14,2)) AS collected,
       CAST(coalesce(sum(amount) FILTER (WHERE direction = '转交'), 0) AS DECIMAL(14,2)) AS passed_on,
       CAST(coalesce(sum(amount) FILTER (WHERE direction = '代收'), 0)
            - coalesce(sum(amount) FILTER (WHERE direction = '转交'), 0) AS DECIMAL(14,2)) AS balance,
       max(moved_on) FILTER (WHERE direction = '转交') AS last_passed_on
FROM agency_collections
WHERE deleted_at IS NULL AND moved_on <= CAST(as_of AS DATE)
GROUP BY community_id, kind, payee;

CREATE OR REPLACE VIEW v_agency_collection_balance AS
SELECT * FROM agency_collection_balance_as_of(current_date);
