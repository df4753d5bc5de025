-- v_parking_lease_expiring: 车位租期到期
-- rule: leased spaces (kind 租赁 with a household) whose lease_end_on <= as_of +
--       parking.lease_warn_days; days_left = lease_end_on − as_of (negative once past: the
--       household still holds the space after its lease ended).
--       Point in time: parking_lease_expiring_as_of(as_of DATE); this view is it at current_date.
-- source: 三(十一) 停车场管理 (车位租赁与续租)
-- parameters: parking.lease_warn_days [15]
-- 规则：已出租给住户、租期将在提醒天数内到期（或已到期仍在使用）的车位；剩余天数 = 租期结束日 − 当天，已过期为负数。
-- 参数：车位租期到期提前提醒天数（默认 15 天）
-- label parking_space_id: 车位编号(内部)
-- label community_id: 小区编号
-- label space_no: 车位号
-- label zone: 区域
-- label household_id: 房屋编号
-- label household_code: 房号
-- label plate: 车牌号
-- label monthly_fee: 月租(元)
-- label lease_end_on: 租期结束
-- label warn_days: 提前提醒(天)
-- label days_left: 剩余天数
CREATE OR REPLACE MACRO parking_lease_expiring_as_of(as_of) AS TABLE
WITH leased AS (
    SELECT s.*, h.code AS household_code
    FROM parking_spaces s
    LEFT JOIN households h ON h.id = s.household_id
    WHERE s.deleted_at IS NULL AND s.kind = '租赁' AND s.household_id IS NOT NULL
      AND s.lease_end_on IS NOT NULL
),
params AS (
    SELECT k.community_id,
           CAST(coalesce(setting_int('parking.lease_warn_days', k.community_id), 15) AS INTEGER) AS warn_days
    FROM (SELECT DISTINCT community_id FROM leased) k
)
SELECT s.id AS parking_space_id,
       s.community_id,
       s.space_no,
       s.zone,
       s.household_id,
       s.household_code,
       s.plate,
       s.monthly_fee,
       s.lease_end_on,
       p.warn_days,
       s.lease_end_on - as_of AS days_left
FROM leased s
JOIN params p ON p.community_id = s.community_id
WHERE s.lease_end_on <= as_of + p.warn_days;

CREATE OR REPLACE VIEW v_parking_lease_expiring AS
SELECT * FROM parking_lease_expiring_as_of(current_date);
