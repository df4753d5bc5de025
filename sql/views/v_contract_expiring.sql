-- v_contract_expiring: 合同到期提醒
-- rule: contracts with status 履行中 and end_on <= as_of + contract.warn_days;
--       days_left = end_on - as_of (negative once past: still 履行中 after its end).
--       Point in time: contract_expiring_as_of(as_of DATE); this view is it at current_date.
-- source: 一 10 合同管理; 二(四)6 经营用房 (合同、月租)
-- parameters: contract.warn_days [60]
-- 规则：履行中、且将在提醒天数内到期（或已过期仍为履行中）的合同；剩余天数 = 到期日 − 当天，已过期为负数。
-- 参数：合同到期提前提醒天数（默认 60 天）
-- label contract_id: 合同编号(内部)
-- label community_id: 小区编号
-- label contract_no: 合同编号
-- label title: 合同名称
-- label kind: 类别
-- label counterparty: 对方单位
-- label vendor_id: 分包方
-- label start_on: 开始日期
-- label end_on: 结束日期
-- label amount: 合同金额(元)
-- label monthly_rent: 月租(元)
-- label handler_id: 经办人
-- label warn_days: 提前提醒(天)
-- label days_left: 剩余天数
CREATE OR REPLACE MACRO contract_expiring_as_of(as_of) AS TABLE
WITH active AS (
    SELECT *
    FROM contracts
    WHERE deleted_at IS NULL AND status = '履行中'
),
params AS (
    SELECT k.community_id, CAST(setting_int('contract.warn_days', k.community_id) AS INTEGER) AS warn_days
    FROM (SELECT DISTINCT community_id FROM active) k
)
SELECT c.id AS contract_id,
       c.community_id,
       c.contract_no,
       c.title,
       c.kind,
       c.counterparty,
       c.vendor_id,
       c.start_on,
       c.end_on,
       c.amount,
       c.monthly_rent,
       c.handler_id,
       p.warn_days,
       c.end_on - as_of AS days_left
FROM active c
JOIN params p ON p.community_id = c.community_id
WHERE c.end_on <= as_of + p.warn_days;

CREATE OR REPLACE VIEW v_contract_expiring AS
SELECT * FROM contract_expiring_as_of(current_date);
