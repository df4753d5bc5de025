-- v_vacant_check_due: 空房检查到期
-- rule: one row per household with status 空置: last_checked_on = the latest vacant check on or
--       before as_of; next_due = coalesce(last_checked_on, handover_date) + vacant.check_days;
--       due = next_due <= as_of (a check due today is due); a unit never checked and without a
--       handover date is due (next_due NULL). days_overdue = as_of − next_due.
--       Point in time: vacant_check_due_as_of(as_of DATE); this view is it at current_date.
-- source: 三(一) 入住管理 (空置房管理)
-- parameters: vacant.check_days [30]
-- 规则：每套空置房一行：下次检查日 = 上次空房检查日（没有则交房日期）+ 检查周期；到期当天即为应检查；逾期天数 = 当天 − 下次检查日。
-- 参数：空房检查周期（默认 30 天）
-- label household_id: 房屋编号
-- label community_id: 小区编号
-- label code: 房号
-- label handover_date: 交房日期
-- label last_checked_on: 最近检查
-- label last_result: 最近结果
-- label check_days: 检查周期(天)
-- label next_due: 下次检查日期
-- label due: 到期
-- label days_overdue: 逾期天数
CREATE OR REPLACE MACRO vacant_check_due_as_of(as_of) AS TABLE
WITH vacant AS (
    SELECT id, community_id, code, handover_date
    FROM households
    WHERE deleted_at IS NULL AND status = '空置'
),
last_check AS (
    SELECT household_id,
           max(checked_on) AS last_checked_on,
           arg_max(result, checked_on) AS last_result
    FROM vacant_checks
    WHERE deleted_at IS NULL AND checked_on <= as_of
    GROUP BY household_id
),
params AS (
    SELECT k.community_id, CAST(setting_int('vacant.check_days', k.community_id) AS INTEGER) AS check_days
    FROM (SELECT DISTINCT community_id FROM vacant) k
),
dated AS (
    SELECT v.id AS household_id,
           v.community_id,
           v.code,
           v.handover_date,
           l.last_checked_on,
           l.last_result,
           p.check_days,
           coalesce(l.last_checked_on, v.handover_date) + p.check_days AS next_due
    FROM vacant v
    JOIN params p ON p.community_id = v.community_id
    LEFT JOIN last_check l ON l.household_id = v.id
)
SELECT *,
       coalesce(next_due <= as_of, true) AS due,
       as_of - next_due AS days_overdue
FROM dated;

CREATE OR REPLACE VIEW v_vacant_check_due AS
SELECT * FROM vacant_check_due_as_of(current_date);
