-- v_complaint_sla: 投诉时效
-- rule: one row per complaint received by the cut-off. deadline = the given deadline, else
--       received_at + complaint.handle_workdays working days (the N-th working day after the date of
--       received_at, that day not counted; holidays rows mark days off and 调休 working weekends);
--       on_time = date of handled_at <= deadline (NULL while unhandled);
--       feedback_deadline = handled_at + complaint.feedback_workdays working days;
--       feedback_on_time = date of feedback_at <= feedback_deadline (NULL while no feedback).
--       overdue: a valid complaint not handled with deadline < as_of; feedback_overdue: handled, no
--       feedback, feedback_deadline < as_of. month = 'YYYY-MM' of received_at.
--       Point in time: complaint_sla_as_of(as_of DATE): handling and feedback recorded after the end
--       of as_of do not count yet; this view is it at current_date.
--       complaint_sla_as_of(as_of, open_only := true): only valid complaints not 已关闭 and not yet
--       handled or fed back by the cut-off (the to-do).
--       The deadlines are worked out when a complaint is written and kept with its fields in
--       complaint_facts (app/complaint_facts.py, by the macro complaint_deadlines in
--       sql/functions/complaint_deadlines.sql), every complaint's again when holidays or these
--       settings change; here they are read and compared with the cut-off.
-- source: 三(六) 业主投诉; practice: 2 个工作日内处理, 处理后 1 个工作日内反馈
-- parameters: complaint.handle_workdays [2], complaint.feedback_workdays [1]
-- 规则：每件投诉一行：处理期限 = 登记的期限，否则为收到后第 N 个工作日（节假日和调休按节假日表）；按期处理 = 处理日期不晚于期限；反馈期限 = 处理后第 M 个工作日。逾期：有效投诉未处理且已过期限；反馈逾期：已处理未反馈且已过反馈期限。
-- 参数：投诉处理工作日（默认 2 天）、处理后反馈工作日（默认 1 天）
-- label complaint_id: 投诉编号(内部)
-- label community_id: 小区编号
-- label complaint_no: 投诉编号
-- label household_id: 房屋
-- label location: 涉及位置
-- label category: 类别
-- label is_valid: 有效投诉
-- label status: 状态
-- label responsible_id: 责任人
-- label month: 月份
-- label received_at: 受理时间
-- label deadline: 处理时限
-- label handled_at: 处理完成时间
-- label on_time: 按时处理
-- label overdue: 逾期未处理
-- label feedback_deadline: 反馈时限
-- label feedback_at: 反馈时间
-- label feedback_on_time: 按时反馈
-- label feedback_overdue: 逾期未反馈
CREATE OR REPLACE MACRO complaint_sla_as_of(as_of, open_only := false) AS TABLE
WITH cut AS (
    SELECT CAST(as_of AS DATE) AS as_day, complaint_cutoff(as_of) AS cutoff
),
received AS (
    SELECT f.*,
           CASE WHEN f.handled_at < cut.cutoff THEN f.handled_at END AS handled,
           CASE WHEN f.feedback_at < cut.cutoff THEN f.feedback_at END AS fed_back,
           cut.as_day
    FROM complaint_facts f, cut
    WHERE f.received_at < cut.cutoff
      AND (NOT open_only OR (coalesce(f.is_valid, true) AND f.status <> '已关闭'
                             AND (f.handled_at IS NULL OR f.handled_at >= cut.cutoff
                                  OR f.feedback_at IS NULL OR f.feedback_at >= cut.cutoff)))
)
SELECT complaint_id,
       community_id,
       complaint_no,
       household_id,
       location,
       category,
       is_valid,
       status,
       responsible_id,
       month,
       received_at,
       deadline,
       handled AS handled_at,
       CASE WHEN handled IS NOT NULL THEN CAST(handled AS DATE) <= deadline END AS on_time,
       coalesce(is_valid, true) AND handled IS NULL AND deadline < as_day AS overdue,
       CASE WHEN handled IS NOT NULL THEN feedback_deadline END AS feedback_deadline,
       fed_back AS feedback_at,
       CASE WHEN fed_back IS NOT NULL AND handled IS NOT NULL
            THEN CAST(fed_back AS DATE) <= feedback_deadline END AS feedback_on_time,
       coalesce(is_valid, true) AND handled IS NOT NULL AND fed_back IS NULL AND feedback_deadline < as_day
           AS feedback_overdue
FROM received;

CREATE OR REPLACE VIEW v_complaint_sla AS
SELECT * FROM complaint_sla_as_of(current_date);
