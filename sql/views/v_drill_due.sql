-- v_drill_due: 消防演练到期
-- rule: one row per community: last_held_on = the latest 消防 drill held on or before as_of;
--       next_due = coalesce(last_held_on, the community's handover_date) + fire.drill_every_days;
--       due = next_due <= as_of (due today is due), overdue = next_due < as_of; a community that
--       never held one and has no handover date is due (next_due NULL). days_overdue = as_of −
--       next_due. 应急 drills are listed (last_emergency_drill_on) but do not reset the fire clock.
--       Point in time: drill_due_as_of(as_of DATE); this view is it at current_date.
-- source: 三(九) 3 定期消防演习; 公安部令第61号 (at least yearly; key units every 6 months)
-- parameters: fire.drill_every_days [365]
-- 规则：每个小区一行：上次消防演练日期；下次应演练日 = 上次演练日（没有则交房日期）+ 演练周期；到期当天即为应演练，过了即为逾期。应急演练单独列出，但不重新计算消防演练周期。
-- 参数：消防演练周期（默认 365 天）
-- label community_id: 小区编号
-- label community: 小区
-- label last_held_on: 最近消防演练
-- label last_emergency_drill_on: 最近应急演练
-- label drill_every_days: 演练间隔(天)
-- label next_due: 下次演练日期
-- label due: 到期
-- label overdue: 逾期
-- label days_overdue: 逾期天数
CREATE OR REPLACE MACRO drill_due_as_of(as_of) AS TABLE
WITH held AS (
    SELECT community_id,
           max(held_on) FILTER (WHERE kind = '消防') AS last_held_on,
           max(held_on) FILTER (WHERE kind = '应急') AS last_emergency_drill_on
    FROM drills
    WHERE deleted_at IS NULL AND held_on <= as_of
    GROUP BY community_id
),
dated AS (
    SELECT c.id AS community_id,
           c.name AS community,
           h.last_held_on,
           h.last_emergency_drill_on,
           CAST(setting_int('fire.drill_every_days', c.id) AS INTEGER) AS drill_every_days,
           c.handover_date
    FROM communities c
    LEFT JOIN held h ON h.community_id = c.id
    WHERE c.deleted_at IS NULL
)
SELECT community_id,
       community,
       last_held_on,
       last_emergency_drill_on,
       drill_every_days,
       coalesce(last_held_on, handover_date) + drill_every_days AS next_due,
       coalesce(coalesce(last_held_on, handover_date) + drill_every_days <= as_of, true) AS due,
       coalesce(coalesce(last_held_on, handover_date) + drill_every_days < as_of, true) AS overdue,
       as_of - (coalesce(last_held_on, handover_date) + drill_every_days) AS days_overdue
FROM dated;

CREATE OR REPLACE VIEW v_drill_due AS
SELECT * FROM drill_due_as_of(current_date);
