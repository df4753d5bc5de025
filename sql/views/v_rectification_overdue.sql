-- v_rectification_overdue: 整改逾期
-- rule: rectifications opened on or before as_of, neither done nor verified by as_of (done_at and
--       verified_at empty or later than as_of), with deadline < as_of; days_overdue = as_of − deadline.
--       A rectification due today is not yet overdue.
--       Point in time: rectification_overdue_as_of(as_of DATE); this view is it at current_date.
-- source: 三(三)(四)(五) 检查制度 3) 整改; 三(六) 集中投诉 限期整改; 四 ISO9001 纠正措施
-- parameters: none (deadline is set on each rectification; rectification.deadline_days gives the default)
-- 规则：已开出、尚未完成也未验证、且已过整改期限的整改单；逾期天数 = 当天 − 整改期限。当天到期的还不算逾期。
-- 参数：无（整改期限在每张整改单上填写，默认期限取自整改期限天数设置）
-- label rectification_id: 整改编号
-- label community_id: 小区编号
-- label source: 来源
-- label source_table: 来源台账
-- label source_id: 来源编号
-- label area: 检查区域
-- label location: 位置
-- label issue: 整改问题
-- label responsible_id: 整改责任人
-- label opened_on: 立项日期
-- label deadline: 整改期限
-- label status: 状态
-- label days_overdue: 逾期天数
CREATE OR REPLACE MACRO rectification_overdue_as_of(as_of) AS TABLE
SELECT r.id AS rectification_id,
       r.community_id,
       r.source,
       r.source_table,
       r.source_id,
       r.area,
       r.location,
       r.issue,
       r.responsible_id,
       r.opened_on,
       r.deadline,
       r.status,
       CAST(as_of AS DATE) - r.deadline AS days_overdue
FROM rectifications r
WHERE r.deleted_at IS NULL
  AND coalesce(r.opened_on, CAST(r.created_at AS DATE)) <= CAST(as_of AS DATE)
  AND (r.done_at IS NULL OR CAST(r.done_at AS DATE) > CAST(as_of AS DATE))
  AND (r.verified_at IS NULL OR CAST(r.verified_at AS DATE) > CAST(as_of AS DATE))
  AND r.deadline < CAST(as_of AS DATE);

CREATE OR REPLACE VIEW v_rectification_overdue AS
SELECT * FROM rectification_overdue_as_of(current_date);
