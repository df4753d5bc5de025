-- v_parking_temp_fees: 临时停车收费
-- rule: one row per temporary stay with an exit on or before as_of. minutes = whole minutes of
--       the stay, rounded up. fee = 0 when minutes <= parking.free_minutes; otherwise each full
--       24 hours costs parking.daily_cap, and the rest costs min(daily_cap, hours rounded up ×
--       parking.hourly_rate) — counted from minute 0 of the stay (the free minutes are not
--       deducted once exceeded). E.g. free 30, 2.00/h, cap 20.00: 30 min → 0; 31 min → 2.00;
--       1500 min (25 h) → 20.00 + 2.00 = 22.00. difference = fee_charged − fee (NULL when nothing
--       was recorded as charged). Where the community has a 临时停车收费规则 (parking_rules) in force
--       for the vehicle type on the day of entry, fee is that rule's (parking_fees_of: first hour,
--       per hour, night band, cap per calendar day or per 24 h) and rule_name names it; the three
--       columns of settings then do not apply. The scalar macro parking_temp_fee(minutes, community_id) is the
--       same formula, for a car still parked (the front desk's calculator).
--       Point in time: parking_temp_fees_as_of(as_of DATE); this view is it at current_date.
-- source: 三(十一) 停车场管理; local/practice price rules for temporary parking
-- parameters: parking.free_minutes [30], parking.hourly_rate [2.00], parking.daily_cap [20.00]
-- 规则：每次已出场的临时停车一行：停车分钟数向上取整；不超过免费分钟数不收费；超过则每满 24 小时按每日封顶收费，余下按小时（向上取整）× 每小时费用、不超过每日封顶，从第 0 分钟算起。例：免费 30 分钟、每小时 2.00 元、封顶 20.00 元：31 分钟收 2.00 元，25 小时收 22.00 元。小区有「临时停车收费规则」时按入场当日有效、对应车型的规则收费（首小时、以后每小时、夜间每小时、每日封顶），并注明规则名称。差额 = 实收 − 应收。
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
-- label rule_name: 收费规则
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

-- The fees of a set of temporary stays, all priced in one statement (a list of structs
-- {id, community_id, vehicle_type, entered_at, exited_at}, ids unique): the one formula of the
-- desk, the exit, the cars parked now and the view. The rule (parking_rules) in force for a stay
-- is the vehicle type's own before the community's rule for every type, then the latest
-- valid_from, on the day of entry; where there is none, the parking.* settings (the default).
-- Under a rule: nothing within the free minutes; otherwise every started hour from minute 0
-- (slot k starts at entered + k h) costs the night rate if it starts in the night band, else the
-- first-hour price (k = 0) or the per-hour price; the slots of one calendar day of their start
-- (or of one 24 h from entry) are capped at daily_cap. E.g. 20 free minutes, 5.00 first hour,
-- 2.00 after, cap 30.00 a day, night 22–07 1.00: 10:00–12:10 = 5 + 2 + 2 = 9.00.
CREATE OR REPLACE MACRO parking_fees_of(stays) AS TABLE
WITH stay AS (
    SELECT s.id, s.community_id, s.vehicle_type,
           CAST(s.entered_at AS TIMESTAMP) AS entered_at,
           parking_stay_minutes(s.entered_at, s.exited_at) AS minutes
    FROM (SELECT unnest(stays, recursive := true)) s
),
ruled AS (
    SELECT s.*, r.id AS rule_id, r.name AS rule_name, r.free_minutes AS rule_free_minutes, r.first_hour,
           r.per_hour, r.daily_cap AS rule_cap, r.cap_basis, r.night_per_hour,
           r.night_per_hour IS NOT NULL AND r.night_from IS NOT NULL AND r.night_to IS NOT NULL AS has_night,
           r.night_from, r.night_to
    FROM stay s
    LEFT JOIN parking_rules r
      ON r.community_id = s.community_id AND r.deleted_at IS NULL
     AND (r.vehicle_type IS NULL OR r.vehicle_type = s.vehicle_type)
     AND r.valid_from <= CAST(s.entered_at AS DATE)
     AND (r.valid_to IS NULL OR r.valid_to >= CAST(s.entered_at AS DATE))
    QUALIFY row_number() OVER (PARTITION BY s.id
                               ORDER BY r.vehicle_type IS NULL, r.valid_from DESC, r.id DESC) = 1
),
slots AS (
    -- the started hours of every stay under a rule past its free minutes
    SELECT *, entered_at + to_hours(k) AS starts
    FROM (SELECT *, unnest(range(0, CAST((minutes + 59) // 60 AS BIGINT))) AS k
          FROM ruled WHERE rule_id IS NOT NULL AND minutes > rule_free_minutes) x
),
days AS (
    SELECT id, coalesce(least(any_value(rule_cap), sum(price)), sum(price)) AS fee
    FROM (
        SELECT id, rule_cap,
               CASE WHEN cap_basis = '每24小时' THEN k // 24
                    ELSE CAST(date_diff('day', CAST(entered_at AS DATE), CAST(starts AS DATE)) AS BIGINT)
               END AS day_no,
               CASE WHEN has_night AND CASE WHEN night_from > night_to
                                             THEN hour(starts) >= night_from OR hour(starts) < night_to
                                             ELSE hour(starts) >= night_from AND hour(starts) < night_to END
                    THEN night_per_hour
                    WHEN k = 0 THEN first_hour
                    ELSE per_hour END AS price
        FROM slots
    ) p
    GROUP BY id, day_no
),
settings AS (
    SELECT k.community_id,
           setting_int('parking.free_minutes', k.community_id) AS free_minutes,
           setting_money('parking.hourly_rate', k.community_id) AS hourly_rate,
           setting_money('parking.daily_cap', k.community_id) AS daily_cap
    FROM (SELECT DISTINCT community_id FROM stay) k
)
SELECT r.id, r.minutes, r.rule_id, r.rule_name,
       CAST(CASE WHEN r.rule_id IS NULL
                 THEN parking_fee_of(r.minutes, p.free_minutes, p.hourly_rate, p.daily_cap)
                 WHEN r.minutes <= r.rule_free_minutes THEN 0
                 ELSE coalesce(f.fee, 0) END AS DECIMAL(12,2)) AS fee
FROM ruled r
JOIN settings p ON p.community_id = r.community_id
LEFT JOIN (SELECT id, sum(fee) AS fee FROM days GROUP BY id) f ON f.id = r.id;

-- One stay's fee (the front desk's calculator and the exit): the same statement over one stay.
CREATE OR REPLACE MACRO parking_event_fee(cid, vtype, entered, exited) AS (
    SELECT fee FROM parking_fees_of([{'id': CAST(0 AS BIGINT), 'community_id': CAST(cid AS BIGINT),
                                      'vehicle_type': CAST(vtype AS VARCHAR),
                                      'entered_at': CAST(entered AS TIMESTAMP),
                                      'exited_at': CAST(exited AS TIMESTAMP)}])
);

CREATE OR REPLACE MACRO parking_temp_fees_as_of(as_of) AS TABLE
WITH stays AS (
    SELECT e.id, e.community_id, e.plate, e.vehicle_type, e.entered_at, e.exited_at, e.fee_charged
    FROM parking_events e
    WHERE e.deleted_at IS NULL AND e.is_temporary AND e.exited_at IS NOT NULL
      AND CAST(e.exited_at AS DATE) <= as_of
),
fees AS (
    SELECT * FROM parking_fees_of((
        SELECT list({'id': CAST(id AS BIGINT), 'community_id': CAST(community_id AS BIGINT),
                     'vehicle_type': CAST(vehicle_type AS VARCHAR), 'entered_at': CAST(entered_at AS TIMESTAMP),
                     'exited_at': CAST(exited_at AS TIMESTAMP)})
        FROM stays))
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
           f.minutes,
           p.free_minutes,
           p.hourly_rate,
           p.daily_cap,
           CASE WHEN f.minutes <= p.free_minutes THEN 0 ELSE f.minutes // 1440 END AS full_days,
           f.fee,
           f.rule_name,
           s.fee_charged
    FROM stays s
    JOIN fees f ON f.id = s.id
    JOIN params p ON p.community_id = s.community_id
)
SELECT *, CAST(fee_charged - fee AS DECIMAL(12,2)) AS difference
FROM priced;

CREATE OR REPLACE VIEW v_parking_temp_fees AS
SELECT * FROM parking_temp_fees_as_of(current_date);
