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
-- 规则：按小区和月份统计报修：报修单数、到场数、按时到场数及及时率；完成数、返修数（被另一单标为返修、回访要求返修，或同户同类在返修期内再报）及返修率；回访数及回访率；平均满意度（1–5 分）；工时、收费和材料费合计。分母为 0 时比率为空。
-- 参数：同「报修单时效」
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
-- One pass over work_order_facts (kept by the save path, app/work_order_facts.py): the moments each
-- order was reported, arrived, completed, reworked, visited, compared here with the cut-off and the
-- settings, as v_work_order_sla judges them; visits after the cut-off are taken back out of the sums.
-- Limits are compared as microseconds (epoch_us): integer arithmetic instead of a timestamp plus an
-- interval on every order.
WITH cut AS (
    SELECT repair_cutoff(as_of) AS cutoff
),
params AS (
    SELECT id AS community_id,
           CAST(setting_int('repair.urgent_minutes', id) AS BIGINT) AS urgent_minutes,
           CAST(setting_int('repair.normal_minutes', id) AS BIGINT) AS normal_minutes,
           CAST(setting_int('repair.appointment_grace_minutes', id) AS BIGINT) AS grace_minutes,
           CAST(setting_int('repair.complete_hours', id) AS BIGINT) AS complete_hours,
           CAST(setting_int('repair.rework_window_days', id) AS BIGINT) AS window_days
    FROM communities
),
visits_after AS (  -- few or none: visits recorded after the cut-off
    SELECT v.work_order_id, sum(v.satisfaction) AS score_sum, count(v.satisfaction) AS scores
    FROM work_order_visits v, cut
    WHERE v.deleted_at IS NULL AND v.visited_at > cut.cutoff
    GROUP BY v.work_order_id
),
facts AS (
    SELECT f.*,
           f.arrived_at <= cut.cutoff AS arrived,
           f.completed_at <= cut.cutoff AS completed,
           cut.cutoff,
           f.scores - coalesce(a.scores, 0) AS scores_then,
           f.score_sum - coalesce(a.score_sum, 0) AS score_sum_then
    FROM work_order_facts f
    CROSS JOIN cut
    LEFT JOIN visits_after a ON a.work_order_id = f.work_order_id
    WHERE f.reported_at < cut.cutoff
)
SELECT f.community_id,
       f.month,
       f.work_order_id,
       h.building_id,
       f.category,
       f.assignee_id,
       f.location,
       coalesce(f.arrived, false) AS arrived,
       coalesce(f.arrived AND CASE f.urgency
               WHEN '预约' THEN epoch_us(f.arrived_at) - epoch_us(f.appointment_at) <= pr.grace_minutes * 60000000
               WHEN '紧急' THEN epoch_us(f.arrived_at) - epoch_us(f.reported_at) <= pr.urgent_minutes * 60000000
               ELSE epoch_us(f.arrived_at) - epoch_us(f.reported_at) <= pr.normal_minutes * 60000000 END,
                false) AS on_time,
       coalesce(f.completed, false) AS completed,
       coalesce(f.completed AND f.completion_minutes <= pr.complete_hours * 60, false) AS completed_on_time,
       coalesce(f.completed, false)
           AND (f.linked_at < f.cutoff OR f.rework_visit_at <= f.cutoff
                OR (f.repeat_reported_at < f.cutoff
                    AND epoch_us(f.repeat_reported_at) - epoch_us(f.completed_at) <= pr.window_days * 86400000000))
               IS TRUE AS reworked,
       coalesce(f.completed, false) AND (f.first_visit_at <= f.cutoff) IS TRUE AS visited,
       CASE WHEN f.completed AND f.scores_then > 0 THEN f.score_sum_then END AS score_sum,
       CASE WHEN f.completed AND f.first_visit_at <= f.cutoff THEN f.scores_then END AS scores,
       f.labor_hours,
       f.charge,
       CAST(coalesce(mt.material_cost, 0) AS DECIMAL(12,2)) AS material_cost
FROM facts f
JOIN params pr ON pr.community_id = f.community_id
LEFT JOIN households h ON h.id = f.household_id
LEFT JOIN work_order_materials(repair_cutoff(as_of)) mt ON mt.work_order_id = f.work_order_id;

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
