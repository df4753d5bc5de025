-- v_complaint_stats: 投诉统计
-- rule: one row per community × month (of received_at) × category. received; valid (有效投诉);
--       handled = valid and handled; on_time = handled by the deadline (v_complaint_sla);
--       timely_rate 及时率 = on_time / handled; handling_rate 处理率 = handled / valid;
--       fed_back = handled with feedback; feedback_rate = fed_back / handled.
--       Rates are fractions, NULL when the denominator is 0.
--       The per-complaint judgement is the macro complaints_judged_as_of(as_of), so the same figures
--       can be grouped by responsible person or month alone (app/service_desk.complaint_breakdown).
--       Point in time: complaint_stats_as_of(as_of DATE); this view is it at current_date.
-- source: 三(六) 业主投诉 (及时率、处理率)
-- parameters: those of v_complaint_sla
-- label community_id: 小区编号
-- label month: 月份
-- label category: 类别
-- label received: 受理数
-- label valid: 有效投诉
-- label handled: 已处理
-- label on_time: 按时处理
-- label timely_rate: 及时率
-- label handling_rate: 处理率
-- label fed_back: 已反馈
-- label feedback_rate: 反馈率
CREATE OR REPLACE MACRO complaints_judged_as_of(as_of) AS TABLE
SELECT complaint_id,
       community_id,
       month,
       category,
       responsible_id,
       location,
       coalesce(is_valid, true) AS valid,
       coalesce(is_valid, true) AND handled_at IS NOT NULL AS handled,
       coalesce(is_valid, true) AND coalesce(on_time, false) AS on_time,
       coalesce(is_valid, true) AND handled_at IS NOT NULL AND feedback_at IS NOT NULL AS fed_back
FROM complaint_sla_as_of(as_of);

CREATE OR REPLACE MACRO complaint_stats_as_of(as_of) AS TABLE
SELECT community_id,
       month,
       category,
       count(*) AS received,
       count(*) FILTER (WHERE valid) AS valid,
       count(*) FILTER (WHERE handled) AS handled,
       count(*) FILTER (WHERE on_time) AS on_time,
       CAST(count(*) FILTER (WHERE on_time) AS DOUBLE) / nullif(count(*) FILTER (WHERE handled), 0)
           AS timely_rate,
       CAST(count(*) FILTER (WHERE handled) AS DOUBLE) / nullif(count(*) FILTER (WHERE valid), 0)
           AS handling_rate,
       count(*) FILTER (WHERE fed_back) AS fed_back,
       CAST(count(*) FILTER (WHERE fed_back) AS DOUBLE) / nullif(count(*) FILTER (WHERE handled), 0)
           AS feedback_rate
FROM complaints_judged_as_of(as_of)
GROUP BY community_id, month, category;

CREATE OR REPLACE VIEW v_complaint_stats AS
SELECT * FROM complaint_stats_as_of(current_date);
