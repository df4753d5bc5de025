-- v_todo_service: 维修与投诉待办
-- rule: what is overdue or flagged in 维修与投诉, in v_todo's columns (to be unioned into it):
--       work orders not arrived past their arrival deadline (高 for 紧急, else 中), arrived but not
--       completed past the completion deadline (中); valid complaints not handled with deadline < as_of
--       (高) or due today (低); handled complaints without feedback past feedback_deadline (中);
--       complaint hotspots without an open rectification (中); visits scoring <= 2 or asking for
--       rework, on an order no rework order refers to (中). due_on: the deadline's date (hotspot:
--       latest complaint; visit: visit date); days_overdue = as_of − due_on.
--       Point in time: todo_service_as_of(as_of DATE); this view is it at current_date.
-- source: 三(十二) 维修服务; 三(六) 业主投诉
-- parameters: those of v_work_order_sla, v_complaint_sla, v_complaint_hotspots
-- 规则：维修与投诉方面的待办：超过到场时限仍未到场的报修（紧急为高）、超过完成时限仍未完成的报修；超过处理期限的投诉（当天到期为低）；超过反馈期限未反馈的投诉；没有整改单的投诉热点；回访 2 分及以下或要求返修却没有返修单的报修。
-- 参数：同「报修单时效」「投诉时效」「投诉热点」
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_service_as_of(as_of) AS TABLE
-- Each SLA is computed once, for the open orders and complaints only, then read twice.
WITH late_orders AS MATERIALIZED (
    SELECT * FROM work_order_sla_as_of(CAST(as_of AS DATE), open_only := true)
    WHERE arrival_overdue OR completion_overdue
),
late_complaints AS MATERIALIZED (
    SELECT * FROM complaint_sla_as_of(CAST(as_of AS DATE), open_only := true)  -- valid, not 已关闭
    WHERE (handled_at IS NULL AND deadline <= CAST(as_of AS DATE)) OR feedback_overdue
),
items AS (
    SELECT community_id,
           '报修单 ' || order_no || '（' || urgency || '，' || category || '）超时未到场，应于 '
               || strftime(arrival_deadline, '%m-%d %H:%M') || ' 前到场' AS item,
           'work_orders' AS ref_table,
           work_order_id AS ref_id,
           CAST(arrival_deadline AS DATE) AS due_on,
           CASE WHEN urgency = '紧急' THEN '高' ELSE '中' END AS severity
    FROM late_orders
    WHERE arrival_overdue

    UNION ALL
    SELECT community_id,
           '报修单 ' || order_no || '（' || category || '）超时未完成，应于 '
               || strftime(completion_deadline, '%m-%d %H:%M') || ' 前完成',
           'work_orders',
           work_order_id,
           CAST(completion_deadline AS DATE),
           '中'
    FROM late_orders
    WHERE completion_overdue AND arrived_at IS NOT NULL

    UNION ALL
    SELECT community_id,
           '投诉 ' || complaint_no || '（' || category || '）'
               || CASE WHEN overdue THEN '逾期未处理' ELSE '今天到期' END,
           'complaints',
           complaint_id,
           deadline,
           CASE WHEN overdue THEN '高' ELSE '低' END
    FROM late_complaints
    WHERE handled_at IS NULL AND deadline <= CAST(as_of AS DATE)

    UNION ALL
    SELECT community_id,
           '投诉 ' || complaint_no || '（' || category || '）已处理，逾期未反馈业主',
           'complaints',
           complaint_id,
           feedback_deadline,
           '中'
    FROM late_complaints
    WHERE feedback_overdue

    UNION ALL
    SELECT community_id,
           '投诉热点：' || location || ' ' || category || ' 近期 ' || complaints || ' 次投诉，需责任到人、限期整改',
           'complaints',
           latest_complaint_id,
           CAST(latest_received_at AS DATE),
           '中'
    FROM complaint_hotspots_as_of(CAST(as_of AS DATE))
    WHERE needs_rectification

    UNION ALL
    SELECT w.community_id,
           '报修单 ' || w.order_no || ' 回访'
               || CASE WHEN coalesce(v.needs_rework, false) THEN '要求返修' ELSE '不满意（' || v.satisfaction || ' 分）' END
               || '，尚未安排返修',
           'work_order_visits',
           v.id,
           CAST(v.visited_at AS DATE),
           '中'
    FROM work_order_visits v
    JOIN work_order_facts w ON w.work_order_id = v.work_order_id  -- linked_at: its first rework order
    WHERE v.deleted_at IS NULL
      AND CAST(v.visited_at AS DATE) <= CAST(as_of AS DATE)
      AND (v.satisfaction <= 2 OR coalesce(v.needs_rework, false))
      AND (w.linked_at IS NULL OR CAST(w.linked_at AS DATE) > CAST(as_of AS DATE))
)
SELECT community_id,
       '维修与投诉' AS area,
       item || CASE WHEN CAST(as_of AS DATE) - due_on > 0
                    THEN '，已逾期 ' || (CAST(as_of AS DATE) - due_on) || ' 天'
                    ELSE '' END AS item,
       ref_table,
       ref_id,
       due_on,
       CAST(as_of AS DATE) - due_on AS days_overdue,
       severity
FROM items;

CREATE OR REPLACE VIEW v_todo_service AS
SELECT * FROM todo_service_as_of(current_date);
