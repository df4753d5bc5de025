-- v_work_order_sla: 报修单时效
-- rule: one row per work order reported by the cut-off. arrival_limit_minutes: 紧急 repair.urgent_minutes,
--       一般 repair.normal_minutes; 预约: the deadline is appointment_at + repair.appointment_grace_minutes
--       (arrival_limit_minutes NULL). arrival_deadline = reported_at + limit (预约: appointment_at + grace);
--       on_time = arrived_at <= arrival_deadline (exactly at the limit is on time), NULL while not arrived.
--       paused_minutes = Σ minutes of the order's pauses up to completion (an open pause runs to the cut-off);
--       completion_minutes = completed_at − reported_at in minutes minus paused_minutes;
--       completed_on_time = completion_minutes <= repair.complete_hours × 60 (NULL while not completed).
--       completion_deadline = reported_at + complete_hours + paused_minutes (moves while paused).
--       is_rework = rework_of is set, or the same household and category was completed in the
--       repair.rework_window_days before reported_at. arrival_overdue / completion_overdue: not yet
--       arrived / completed and the deadline is before the cut-off. month = 'YYYY-MM' of reported_at.
--       material_cost = Σ round(qty × unit_price, 2) of the 出库 stock_movements issued to the order
--       by the cut-off (unit_price: the item's average price when issued); labor_hours, charge as entered.
--       Point in time: work_order_sla_as_of(as_of): a DATE counts what was recorded by the end of that day
--       (today: by now); a TIMESTAMP is the cut-off itself. This view is it at current_date.
--       work_order_sla_as_of(as_of, open_only := true): only the orders still open (待派工, 已派工,
--       处理中, 暂停), filtered before anything is computed (the to-do and the duty board read it).
-- source: 三(十二) 维修服务; 中国物业管理协会 服务等级标准 (紧急 30 分钟到场, 一般 24 小时)
-- parameters: repair.urgent_minutes [30], repair.normal_minutes [1440], repair.appointment_grace_minutes [15],
--             repair.complete_hours [72], repair.rework_window_days [30]
-- 规则：每张报修单一行：到场时限按紧急程度（紧急、一般），预约单为预约时间加宽限；按时到场 = 到场时间不晚于时限（恰好到时限也算按时）。完成用时 = 完成时间 − 报修时间 − 暂停时间；按时完成 = 完成用时不超过完成时限。
-- 参数：紧急报修到场时限（默认 30 分钟）、一般报修到场时限（默认 1440 分钟）、预约到场宽限（默认 15 分钟）、完成时限（默认 72 小时）、返修认定天数（默认 30 天）
-- label work_order_id: 报修单编号(内部)
-- label community_id: 小区编号
-- label order_no: 报修单号
-- label household_id: 房屋
-- label building_id: 楼栋
-- label location: 报修位置
-- label category: 类别
-- label urgency: 紧急程度
-- label status: 状态
-- label assignee_id: 维修人员
-- label month: 月份
-- label reported_at: 报修时间
-- label appointment_at: 预约时间
-- label arrival_limit_minutes: 到场时限(分钟)
-- label arrival_deadline: 应到场时间
-- label arrived_at: 到场时间
-- label on_time: 按时到场
-- label arrival_overdue: 到场超时未到
-- label paused_minutes: 暂停(分钟)
-- label completed_at: 完成时间
-- label completion_minutes: 处理用时(分钟)
-- label completion_deadline: 应完成时间
-- label completed_on_time: 按时完成
-- label completion_overdue: 超时未完成
-- label rework_of: 返修原单
-- label is_rework: 返修单
-- label labor_hours: 工时(小时)
-- label charge: 收费(元)
-- label material_cost: 材料费(元)
CREATE OR REPLACE MACRO work_order_sla_as_of(as_of, open_only := false) AS TABLE
WITH cut AS (
    SELECT repair_cutoff(as_of) AS cutoff
),
orders AS (  -- the facts kept per order (app/work_order_facts.py): its fields and found moments
    SELECT f.work_order_id AS id,
           f.community_id,
           f.order_no,
           f.household_id,
           f.location,
           f.category,
           f.urgency,
           f.status,
           f.assignee_id,
           f.reported_at,
           f.appointment_at,
           f.rework_of,
           f.labor_hours,
           f.charge,
           f.previous_completed_at,
           CASE WHEN f.arrived_at <= cut.cutoff THEN f.arrived_at END AS arrived,
           CASE WHEN f.completed_at <= cut.cutoff THEN f.completed_at END AS completed,
           cut.cutoff
    FROM work_order_facts f, cut
    WHERE f.reported_at < cut.cutoff
      -- three comparisons rather than IN: DuckDB pushes them into the scan (4x faster on 1 M orders)
      AND (NOT open_only OR (f.status <> '已完成' AND f.status <> '已回访' AND f.status <> '已关闭'))
),
params AS (
    SELECT k.community_id,
           setting_int('repair.urgent_minutes', k.community_id) AS urgent_minutes,
           setting_int('repair.normal_minutes', k.community_id) AS normal_minutes,
           setting_int('repair.appointment_grace_minutes', k.community_id) AS grace_minutes,
           setting_int('repair.complete_hours', k.community_id) AS complete_hours,
           setting_int('repair.rework_window_days', k.community_id) AS window_days
    FROM (SELECT DISTINCT community_id FROM orders) k
),
paused AS (
    SELECT o.id AS work_order_id,
           sum(greatest(0, date_diff('second', p.paused_at,
                   least(coalesce(p.resumed_at, o.cutoff), coalesce(o.completed, o.cutoff), o.cutoff))))
               / 60.0 AS paused_minutes
    FROM work_order_pauses p
    JOIN orders o ON o.id = p.work_order_id
    WHERE p.deleted_at IS NULL AND p.paused_at < o.cutoff
    GROUP BY o.id
),
timed AS (
    SELECT o.id AS work_order_id,
           o.community_id,
           o.order_no,
           o.household_id,
           h.building_id,
           o.location,
           o.category,
           o.urgency,
           o.status,
           o.assignee_id,
           strftime(o.reported_at, '%Y-%m') AS month,
           o.reported_at,
           o.appointment_at,
           CASE o.urgency WHEN '紧急' THEN pr.urgent_minutes
                          WHEN '一般' THEN pr.normal_minutes END AS arrival_limit_minutes,
           CASE o.urgency WHEN '预约' THEN o.appointment_at + to_minutes(CAST(pr.grace_minutes AS BIGINT))
                          WHEN '紧急' THEN o.reported_at + to_minutes(CAST(pr.urgent_minutes AS BIGINT))
                          ELSE o.reported_at + to_minutes(CAST(pr.normal_minutes AS BIGINT)) END AS arrival_deadline,
           o.arrived,
           coalesce(pa.paused_minutes, 0) AS paused_minutes,
           o.completed,
           pr.complete_hours,
           o.rework_of,
           -- the same household and category completed within the window before this report
           o.rework_of IS NOT NULL
               OR coalesce(o.previous_completed_at >= o.reported_at - to_days(CAST(pr.window_days AS INTEGER)),
                           false) AS is_rework,
           o.labor_hours,
           o.charge,
           CAST(coalesce(mt.material_cost, 0) AS DECIMAL(12,2)) AS material_cost,
           o.cutoff
    FROM orders o
    JOIN params pr ON pr.community_id = o.community_id
    LEFT JOIN households h ON h.id = o.household_id
    LEFT JOIN paused pa ON pa.work_order_id = o.id
    LEFT JOIN work_order_materials(repair_cutoff(as_of)) mt ON mt.work_order_id = o.id
)
SELECT work_order_id,
       community_id,
       order_no,
       household_id,
       building_id,
       location,
       category,
       urgency,
       status,
       assignee_id,
       month,
       reported_at,
       appointment_at,
       arrival_limit_minutes,
       arrival_deadline,
       arrived AS arrived_at,
       CASE WHEN arrived IS NOT NULL THEN arrived <= arrival_deadline END AS on_time,
       arrived IS NULL AND arrival_deadline < cutoff AS arrival_overdue,
       paused_minutes,
       completed AS completed_at,
       date_diff('second', reported_at, completed) / 60.0 - paused_minutes AS completion_minutes,
       reported_at + to_minutes(CAST(complete_hours * 60 + ceil(paused_minutes) AS BIGINT)) AS completion_deadline,
       CASE WHEN completed IS NOT NULL
            THEN date_diff('second', reported_at, completed) / 60.0 - paused_minutes <= complete_hours * 60 END
           AS completed_on_time,
       completed IS NULL
           AND date_diff('second', reported_at, cutoff) / 60.0 - paused_minutes > complete_hours * 60
           AS completion_overdue,
       rework_of,
       is_rework,
       labor_hours,
       charge,
       material_cost
FROM timed;

CREATE OR REPLACE VIEW v_work_order_sla AS
SELECT * FROM work_order_sla_as_of(current_date);
