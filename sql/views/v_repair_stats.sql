-- v_repair_stats: 维修统计
-- rule: one row per community × month (of reported_at). orders; arrived; on_time;
--       timely_rate 及时率 = on_time / arrived; completed; reworked = completed orders that were
--       repeated (another order's rework_of points to it, a visit says needs_rework, or the same
--       household and category is reported again within repair.rework_window_days after completion);
--       rework_rate 返修率 = reworked / completed; visited = completed orders with a visit;
--       visit_rate 回访率 = visited / completed; satisfaction = mean visit score (1..5).
--       Rates are fractions, NULL when the denominator is 0. labor_hours, charge, material_cost: sums.
--       The per-order judgement is the macro repair_orders_judged_as_of(as_of) (one row per order,
--       with building_id and assignee_id), so the same figures can be grouped by building, category
--       or worker (app/service_desk.repair_breakdown).
--       Point in time: repair_stats_as_of(as_of), counting what was recorded by then (see
--       v_work_order_sla); this view is it at current_date.
-- source: 三(十二) 维修服务 (及时率、返修率、回访率)
-- parameters: those of v_work_order_sla
-- label community_id: 小区编号
-- label month: 月份
-- label orders: 报修单数
-- label arrived: 已到场
-- label on_time: 按时到场
-- label timely_rate: 及时率
-- label completed: 已完成
-- label completed_on_time: 按时完成
-- label reworked: 返修单数
-- label rework_rate: 返修率
-- label visited: 已回访
-- label visit_rate: 回访率
-- label satisfaction: 平均满意度
-- label labor_hours: 工时(小时)
-- label charge: 收费(元)
-- label material_cost: 材料费(元)
CREATE OR REPLACE MACRO repair_orders_judged_as_of(as_of) AS TABLE
WITH sla AS (
    SELECT * FROM work_order_sla_as_of(as_of)
),
cut AS (
    SELECT CASE WHEN typeof(as_of) = 'DATE'
                THEN CASE WHEN CAST(as_of AS DATE) = current_date THEN localtimestamp
                          ELSE CAST(CAST(as_of AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY END
                ELSE CAST(as_of AS TIMESTAMP) END AS cutoff
),
window_days AS (
    SELECT id AS community_id,
           CAST(setting_int('repair.rework_window_days', id) AS INTEGER) AS days
    FROM communities
),
visits AS (  -- counted for completed orders only (see judged)
    SELECT v.work_order_id,
           count(*) AS visits,
           sum(v.satisfaction) AS score_sum,
           count(v.satisfaction) AS scores,
           bool_or(coalesce(v.needs_rework, false)) AS needs_rework
    FROM work_order_visits v, cut
    WHERE v.deleted_at IS NULL AND v.visited_at <= cut.cutoff
    GROUP BY v.work_order_id
),
linked AS (
    SELECT DISTINCT rework_of AS work_order_id FROM sla WHERE rework_of IS NOT NULL
),
repeated AS (  -- the same household and category reported again within the window after completion
    SELECT DISTINCT s.work_order_id
    FROM sla s
    JOIN window_days w ON w.community_id = s.community_id
    JOIN sla n ON n.household_id = s.household_id AND n.category = s.category
                  AND n.work_order_id <> s.work_order_id
    WHERE s.completed_at IS NOT NULL
      AND n.reported_at > s.completed_at
      AND n.reported_at <= s.completed_at + to_days(w.days)
),
judged AS (
    SELECT s.community_id,
           s.month,
           s.work_order_id,
           s.building_id,
           s.category,
           s.assignee_id,
           s.location,
           s.arrived_at IS NOT NULL AS arrived,
           coalesce(s.on_time, false) AS on_time,
           s.completed_at IS NOT NULL AS completed,
           coalesce(s.completed_on_time, false) AS completed_on_time,
           s.completed_at IS NOT NULL
               AND (l.work_order_id IS NOT NULL OR coalesce(v.needs_rework, false)
                    OR r.work_order_id IS NOT NULL) AS reworked,
           s.completed_at IS NOT NULL AND coalesce(v.visits, 0) > 0 AS visited,
           CASE WHEN s.completed_at IS NOT NULL THEN v.score_sum END AS score_sum,
           CASE WHEN s.completed_at IS NOT NULL THEN v.scores END AS scores,
           s.labor_hours,
           s.charge,
           s.material_cost
    FROM sla s
    LEFT JOIN visits v ON v.work_order_id = s.work_order_id
    LEFT JOIN linked l ON l.work_order_id = s.work_order_id
    LEFT JOIN repeated r ON r.work_order_id = s.work_order_id
)
SELECT * FROM judged;

CREATE OR REPLACE MACRO repair_stats_as_of(as_of) AS TABLE
SELECT community_id,
       month,
       count(*) AS orders,
       count(*) FILTER (WHERE arrived) AS arrived,
       count(*) FILTER (WHERE on_time) AS on_time,
       CAST(count(*) FILTER (WHERE on_time) AS DOUBLE) / nullif(count(*) FILTER (WHERE arrived), 0)
           AS timely_rate,
       count(*) FILTER (WHERE completed) AS completed,
       count(*) FILTER (WHERE completed_on_time) AS completed_on_time,
       count(*) FILTER (WHERE reworked) AS reworked,
       CAST(count(*) FILTER (WHERE reworked) AS DOUBLE) / nullif(count(*) FILTER (WHERE completed), 0)
           AS rework_rate,
       count(*) FILTER (WHERE visited) AS visited,
       CAST(count(*) FILTER (WHERE visited) AS DOUBLE) / nullif(count(*) FILTER (WHERE completed), 0)
           AS visit_rate,
       CAST(sum(score_sum) AS DOUBLE) / nullif(sum(scores), 0) AS satisfaction,
       coalesce(sum(labor_hours), 0) AS labor_hours,
       coalesce(sum(charge), 0) AS charge,
       coalesce(sum(material_cost), 0) AS material_cost
FROM repair_orders_judged_as_of(as_of)
GROUP BY community_id, month;

CREATE OR REPLACE VIEW v_repair_stats AS
SELECT * FROM repair_stats_as_of(current_date);
