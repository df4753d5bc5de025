-- complaint_deadlines(ids): 投诉处理时限与反馈时限
-- rule: per complaint (not deleted, received): deadline = the given deadline, else the
--       complaint.handle_workdays-th working day after the date of received_at (that day not
--       counted; holidays rows mark days off and 调休 working weekends); feedback_deadline = the
--       complaint.feedback_workdays-th working day after the date of handled_at (NULL while
--       unhandled). The N-th working day after a day is the working day numbered N after it
--       (workday_calendar numbers working days without gaps), one calendar for all complaints.
--       With the complaint's own fields, month ('YYYY-MM' of received_at) and last_at (the latest
--       of received_at, handled_at, feedback_at): the rows of complaint_facts, which
--       app/complaint_facts.py keeps with every write and v_complaint_sla reads.
--       ids: the complaints to work out (a list of ids; NULL: every complaint). Their id range
--       is what PostgreSQL is asked for, so refreshing one complaint reads one row there.
-- source: 三(六) 业主投诉; practice: 2 个工作日内处理, 处理后 1 个工作日内反馈
-- parameters: complaint.handle_workdays [2], complaint.feedback_workdays [1]
-- 规则：处理期限 = 登记的期限，否则为收到后第 N 个工作日；反馈期限 = 处理后第 M 个工作日（节假日和调休按节假日表）。
CREATE OR REPLACE MACRO complaint_deadlines(ids) AS TABLE
WITH c AS (
    SELECT * FROM complaints
    WHERE deleted_at IS NULL AND received_at IS NOT NULL
      AND id BETWEEN coalesce(list_min(ids), 0) AND coalesce(list_max(ids), 9223372036854775807)
      AND (ids IS NULL OR list_contains(ids, id))
),
params AS (
    SELECT k.community_id,
           CAST(setting_int('complaint.handle_workdays', k.community_id) AS INTEGER) AS handle_days,
           CAST(setting_int('complaint.feedback_workdays', k.community_id) AS INTEGER) AS feedback_days
    FROM (SELECT DISTINCT community_id FROM c) k
),
cal AS (  -- from the first receipt to past the last deadline (3 days per working day, and 60)
    SELECT * FROM workday_calendar(
        (SELECT coalesce(min(CAST(received_at AS DATE)), current_date) FROM c),
        (SELECT coalesce(max(greatest(CAST(received_at AS DATE), CAST(handled_at AS DATE))), current_date)
                + 60 + 3 * (SELECT coalesce(max(greatest(handle_days, feedback_days)), 0) FROM params)
         FROM c))
),
workdays AS (
    SELECT day, workday_no FROM cal WHERE working
)
SELECT c.id AS complaint_id, c.community_id, c.complaint_no, c.household_id, c.location, c.category,
       c.is_valid, c.status, c.responsible_id, strftime(c.received_at, '%Y-%m') AS month,
       c.received_at, c.handled_at, c.feedback_at,
       coalesce(c.deadline, wh.day) AS deadline,
       wf.day AS feedback_deadline,
       greatest(c.received_at, c.handled_at, c.feedback_at) AS last_at
FROM c
JOIN params p ON p.community_id = c.community_id
LEFT JOIN cal cr ON cr.day = CAST(c.received_at AS DATE)
LEFT JOIN cal ch ON ch.day = CAST(c.handled_at AS DATE)
LEFT JOIN workdays wh ON wh.workday_no = cr.workday_no + p.handle_days
LEFT JOIN workdays wf ON wf.workday_no = ch.workday_no + p.feedback_days;
