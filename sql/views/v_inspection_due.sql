-- v_inspection_due: 检查计划到期
-- rule: one row per active inspection plan: last_inspected_on = the date of its latest inspection on
--       or before as_of (any result: a failed check was still done); next_due =
--       coalesce(last_inspected_on, starts_on) + frequency_days; days_overdue = as_of − next_due;
--       due = next_due <= as_of (a check due today is due); overdue = next_due < as_of.
--       Point in time: inspection_due_as_of(as_of DATE); this view is it at current_date.
-- source: 三(三)清洁消杀 (四)保安 (五)绿化 3 检查制度 1) 检查频率、方式(抽查); 三(九) 消防; 三(十) 装修
-- parameters: none (frequency_days and starts_on are set on each plan)
-- 规则：每个启用的检查计划一行：下次检查日 = 上次检查日期（没有则开始日期）+ 检查周期；到期当天即为应检查，过了即为逾期；逾期天数 = 当天 − 下次检查日。
-- 参数：无（检查周期和开始日期在每个检查计划上填写）
-- label plan_id: 检查计划编号
-- label community_id: 小区编号
-- label area: 检查区域
-- label item: 检查项目
-- label method: 检查方式
-- label frequency_days: 频率(天)
-- label responsible_id: 负责人
-- label starts_on: 开始日期
-- label inspections: 检查次数
-- label last_inspected_on: 最近检查
-- label last_result: 最近结果
-- label next_due: 下次检查
-- label days_overdue: 逾期天数
-- label due: 到期
-- label overdue: 逾期
CREATE OR REPLACE MACRO inspection_due_as_of(as_of) AS TABLE
WITH done AS (
    SELECT plan_id,
           count(*) AS inspections,
           max(CAST(inspected_at AS DATE)) AS last_inspected_on,
           arg_max(result, inspected_at) AS last_result
    FROM inspections
    WHERE deleted_at IS NULL
      AND CAST(inspected_at AS DATE) <= CAST(as_of AS DATE)
    GROUP BY plan_id
),
planned AS (
    SELECT p.id AS plan_id,
           p.community_id,
           p.area,
           p.item,
           p.method,
           p.frequency_days,
           p.responsible_id,
           p.starts_on,
           coalesce(d.inspections, 0) AS inspections,
           d.last_inspected_on,
           d.last_result,
           coalesce(d.last_inspected_on, p.starts_on) + CAST(p.frequency_days AS INTEGER) AS next_due
    FROM inspection_plans p
    LEFT JOIN done d ON d.plan_id = p.id
    WHERE p.deleted_at IS NULL
      AND coalesce(p.is_active, true)
)
SELECT *,
       CAST(as_of AS DATE) - next_due AS days_overdue,
       next_due <= CAST(as_of AS DATE) AS due,
       next_due < CAST(as_of AS DATE) AS overdue
FROM planned;

CREATE OR REPLACE VIEW v_inspection_due AS
SELECT * FROM inspection_due_as_of(current_date);
