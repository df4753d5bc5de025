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
-- source: 三(六) 业主投诉; practice: 2 个工作日内处理, 处理后 1 个工作日内反馈
-- parameters: complaint.handle_workdays [2], complaint.feedback_workdays [1]
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
CREATE OR REPLACE MACRO complaint_sla_as_of(as_of) AS TABLE
WITH cut AS (
    SELECT CAST(as_of AS DATE) AS as_day,
           CASE WHEN typeof(as_of) = 'DATE'
                THEN CAST(CAST(as_of AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
                ELSE CAST(as_of AS TIMESTAMP) END AS cutoff
),
received AS (
    SELECT c.*,
           CASE WHEN c.handled_at < cut.cutoff THEN c.handled_at END AS handled,
           CASE WHEN c.feedback_at < cut.cutoff THEN c.feedback_at END AS fed_back,
           cut.as_day
    FROM complaints c, cut
    WHERE c.deleted_at IS NULL AND c.received_at < cut.cutoff
),
params AS (
    SELECT k.community_id,
           CAST(setting_int('complaint.handle_workdays', k.community_id) AS INTEGER) AS handle_days,
           CAST(setting_int('complaint.feedback_workdays', k.community_id) AS INTEGER) AS feedback_days
    FROM (SELECT DISTINCT community_id FROM received) k
),
cal AS (
    SELECT * FROM workday_calendar(
        (SELECT coalesce(min(CAST(received_at AS DATE)), current_date) FROM received),
        (SELECT coalesce(max(greatest(CAST(received_at AS DATE), CAST(handled AS DATE))), current_date)
                + 60 + 3 * (SELECT coalesce(max(greatest(handle_days, feedback_days)), 0) FROM params)
         FROM received))
),
workdays AS (  -- working days are numbered 1, 2, 3 … without gaps: the N-th after d is one equi-join
    SELECT day, workday_no FROM cal WHERE working
),
dated AS (
    SELECT r.*,
           p.handle_days,
           p.feedback_days,
           coalesce(r.deadline, wh.day) AS due,
           wf.day AS feedback_due
    FROM received r
    JOIN params p ON p.community_id = r.community_id
    LEFT JOIN cal cr ON cr.day = CAST(r.received_at AS DATE)
    LEFT JOIN cal ch ON ch.day = CAST(r.handled AS DATE)
    LEFT JOIN workdays wh ON wh.workday_no = cr.workday_no + p.handle_days
    LEFT JOIN workdays wf ON wf.workday_no = ch.workday_no + p.feedback_days
)
SELECT id AS complaint_id,
       community_id,
       complaint_no,
       household_id,
       location,
       category,
       is_valid,
       status,
       responsible_id,
       strftime(received_at, '%Y-%m') AS month,
       received_at,
       due AS deadline,
       handled AS handled_at,
       CASE WHEN handled IS NOT NULL THEN CAST(handled AS DATE) <= due END AS on_time,
       coalesce(is_valid, true) AND handled IS NULL AND due < as_day AS overdue,
       feedback_due AS feedback_deadline,
       fed_back AS feedback_at,
       CASE WHEN fed_back IS NOT NULL AND handled IS NOT NULL THEN CAST(fed_back AS DATE) <= feedback_due END
           AS feedback_on_time,
       coalesce(is_valid, true) AND handled IS NOT NULL AND fed_back IS NULL AND feedback_due < as_day
           AS feedback_overdue
FROM dated;

CREATE OR REPLACE VIEW v_complaint_sla AS
SELECT * FROM complaint_sla_as_of(current_date);
