-- v_todo_fees: 欠费待办
-- rule: what is overdue in 收费管理, in v_todo's columns (to be unioned into it): one row per
--       household of v_arrears (at as_of) whose days_overdue >= fee.arrears_todo_days [90]. The
--       item names the household, its arrears, late fee and oldest due date, and the last 催缴 step
--       taken (arrears_actions up to as_of) or that none was taken yet. due_on = oldest_due_date;
--       days_overdue as in v_arrears; severity 高 when days_overdue > 180, else 中.
--       Also one row per meter reading of a period begun by as_of that the bill run cannot bill
--       (meter_usage NULL: gone down without 翻表 or 换表, or incomplete), severity 中, due_on the
--       reading's date (else the period's first day), so no reading is skipped silently.
--       Point in time: todo_fees_as_of(as_of DATE); this view is it at current_date.
-- source: 三(二) 收费管理 (催缴); 民法典第944条
-- parameters: fee.arrears_todo_days [90]; those of v_arrears
-- 规则：逾期达到天数标准的欠费户，每户一行：写明欠费金额、滞纳金、最早应缴日期和最近一次催缴（或尚未催缴）；逾期超过 180 天为高，否则为中。抄表读数小于上期而未标明翻表或换表（或所需读数不全）、出账时无法计费的，每条一行，为中。
-- 参数：欠费列入待办的逾期天数（默认 90 天），以及「欠费」的参数
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_fees_as_of(as_of) AS TABLE
WITH last_step AS (
    SELECT household_id,
           arg_max(step, acted_on) AS step,
           max(acted_on) AS acted_on
    FROM arrears_actions
    WHERE deleted_at IS NULL AND acted_on <= as_of
    GROUP BY household_id
)
SELECT a.community_id,
       '收费管理' AS area,
       '房屋 ' || a.household_code || ' 欠费 ' || a.outstanding || ' 元（' || a.bills || ' 张账单'
           || CASE WHEN a.late_fee > 0 THEN '，滞纳金 ' || a.late_fee || ' 元' ELSE '' END
           || '），最早 ' || strftime(a.oldest_due_date, '%Y-%m-%d') || ' 到期，已逾期 '
           || a.days_overdue || ' 天'
           || coalesce('；' || strftime(s.acted_on, '%Y-%m-%d') || ' 已' || s.step, '；尚未催缴') AS item,
       'households' AS ref_table,
       a.household_id AS ref_id,
       a.oldest_due_date AS due_on,
       a.days_overdue,
       CASE WHEN a.days_overdue > 180 THEN '高' ELSE '中' END AS severity
FROM arrears_as_of(as_of) a
LEFT JOIN last_step s ON s.household_id = a.household_id
WHERE a.days_overdue >= coalesce(setting_int('fee.arrears_todo_days', a.community_id), 90)
UNION ALL
SELECT h.community_id,
       '收费管理',
       '房屋 ' || h.code || ' ' || r.period || ' '
           || meter_unbillable_text(r.meter, r.reading_kind, r.prev_reading, r.curr_reading),
       'meter_readings',
       r.id,
       coalesce(r.read_on, CAST(strptime(r.period || '-01', '%Y-%m-%d') AS DATE)),
       as_of - coalesce(r.read_on, CAST(strptime(r.period || '-01', '%Y-%m-%d') AS DATE)),
       '中'
FROM meter_readings r
JOIN households h ON h.id = r.household_id AND h.deleted_at IS NULL
WHERE r.deleted_at IS NULL
  AND r.period <= strftime(CAST(as_of AS DATE), '%Y-%m')
  AND meter_usage(r.reading_kind, r.prev_reading, r.curr_reading, r.digits, r.max_reading,
                  r.old_final_reading, r.new_start_reading) IS NULL;

CREATE OR REPLACE VIEW v_todo_fees AS
SELECT * FROM todo_fees_as_of(current_date);
