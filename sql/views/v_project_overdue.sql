-- v_project_overdue: 逾期未验收工程
-- rule: projects whose planned_end_on is before as_of and that are not accepted by as_of
--       (accepted_on empty or later than as_of); days_overdue = as_of − planned_end_on.
--       Point in time: project_overdue_as_of(as_of DATE); this view is it at current_date.
-- source: 一 8 工程管理制度（工程进度、工程验收制度）
-- parameters: none
-- 规则：计划完工日期已过、到当天仍未验收的工程；逾期天数 = 当天 − 计划完工日期。
-- 参数：无
-- label project_id: 工程编号
-- label community_id: 小区编号
-- label name: 工程名称
-- label vendor_id: 施工单位
-- label manager_id: 负责人
-- label started_on: 开工日期
-- label planned_end_on: 计划完工
-- label progress: 进度(%)
-- label days_overdue: 逾期天数
CREATE OR REPLACE MACRO project_overdue_as_of(as_of) AS TABLE
SELECT p.id AS project_id,
       p.community_id,
       p.name,
       p.vendor_id,
       p.manager_id,
       p.started_on,
       p.planned_end_on,
       p.progress,
       CAST(as_of AS DATE) - p.planned_end_on AS days_overdue
FROM projects p
WHERE p.deleted_at IS NULL
  AND p.planned_end_on < CAST(as_of AS DATE)
  AND (p.accepted_on IS NULL OR p.accepted_on > CAST(as_of AS DATE));

CREATE OR REPLACE VIEW v_project_overdue AS
SELECT * FROM project_overdue_as_of(current_date);
