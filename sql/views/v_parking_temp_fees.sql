-- v_parking_temp_fees: 临时停车收费
-- rule: one row per temporary stay with an exit on or before as_of. minutes = whole minutes of
--       the stay, rounded up. fee = 0 when minutes <= parking.free_minutes; otherwise each full
--       24 hours costs parking.daily_cap, and the rest costs min(daily_cap, hours rounded up ×
--       parking.hourly_rate) — counted from minute 0 of the stay (the free minutes are not
--       deducted once exceeded). E.g. free 30, 2.00/h, cap 20.00: 30 min → 0; 31 min → 2.00;
--       1500 min (25 h) → 20.00 + 2.00 = 22.00. difference = fee_charged − fee (NULL when nothing
--       was recorded as charged). The scalar macro parking_temp_fee(minutes, community_id) is the
--       same formula, for a car still parked (the front desk's calculator).
--       Point in time: parking_temp_fees_as_of(as_of DATE); this view is it at current_date.
-- source: 三(十一) 停车场管理; local/practice price rules for temporary parking
-- parameters: parking.free_minutes [30], parking.hourly_rate [2.00], parking.daily_cap [20.00]
-- 规则：每次已出场的临时停车一行：停车分钟数向上取整；不超过免费分钟数不收费；超过则每满 24 小时按每日封顶收费，余下按小时（向上取整）× 每小时费用、不超过每日封顶，从第 0 分钟算起。例：免费 30 分钟、每小时 2.00 元、封顶 20.00 元：31 分钟收 2.00 元，25 小时收 22.00 元。差额 = 实收 − 应收。
-- 参数：临时停车免费分钟数（默认 30 分钟）、每小时收费（默认 2.00 元）、每日封顶（默认 20.00 元）
-- label parking_event_id: 进出记录编号
-- label community_id: 小区编号
-- label plate: 车牌号
-- label entered_at: 入场时间
-- label exited_at: 出场时间
-- label month: 月份
-- label minutes: 停车分钟数
-- label free_minutes: 免费分钟数
-- label hourly_rate: 每小时(元)
-- label daily_cap: 每24小时封顶(元)
-- label full_days: 满24小时数
-- label fee: 应收(元)
-- label fee_charged: 实收(元)
-- label difference: 差额(元)
CREATE OR REPLACE MACRO parking_stay_minutes(entered, exited) AS
    (epoch_ms(CAST(exited AS TIMESTAMP)) - epoch_ms(CAST(entered AS TIMESTAMP)) + 59999) // 60000;

CREATE OR REPLACE MACRO parking_fee_of(minutes, free_minutes, hourly_rate, daily_cap) AS
    CAST(CASE WHEN minutes <= free_minutes THEN 0
              ELSE (minutes // 1440) * daily_cap
                   + least(daily_cap, CAST(ceil((minutes % 1440) / 60.0) AS BIGINT) * hourly_rate)
         END AS DECIMAL(12,2));

CREATE OR REPLACE MACRO parking_temp_fee(minutes, cid) AS
    parking_fee_of(minutes, setting_int('parking.free_minutes', cid),
                   setting_money('parking.hourly_rate', cid), setting_money('parking.daily_cap', cid));

CREATE OR REPLACE MACRO parking_temp_fees_as_of(as_of) AS TABLE
WITH stays AS (
    SELECT e.*, parking_stay_minutes(e.entered_at, e.exited_at) AS minutes
    FROM parking_events e
    WHERE e.deleted_at IS NULL AND e.is_temporary AND e.exited_at IS NOT NULL
      AND CAST(e.exited_at AS DATE) <= as_of
),
params AS (
    SELECT k.community_id,
           setting_int('parking.free_minutes', k.community_id) AS free_minutes,
           setting_money('parking.hourly_rate', k.community_id) AS hourly_rate,
           setting_money('parking.daily_cap', k.community_id) AS daily_cap
    FROM (SELECT DISTINCT community_id FROM stays) k
),
priced AS (
    SELECT s.id AS parking_event_id,
           s.community_id,
           s.plate,
           s.entered_at,
           s.exited_at,
           strftime(s.exited_at, '%Y-%m') AS month,
           s.minutes,
           p.free_minutes,
           p.hourly_rate,
           p.daily_cap,
           CASE WHEN s.minutes <= p.free_minutes THEN 0 ELSE s.minutes // 1440 END AS full_days,
           parking_fee_of(s.minutes, p.free_minutes, p.hourly_rate, p.daily_cap) AS fee,
           s.fee_charged
    FROM stays s
    JOIN params p ON p.community_id = s.community_id
)
SELECT *, CAST(fee_charged - fee AS DECIMAL(12,2)) AS difference
FROM priced;

CREATE OR REPLACE VIEW v_parking_temp_fees AS
SELECT * FROM parking_temp_fees_as_of(current_date);
