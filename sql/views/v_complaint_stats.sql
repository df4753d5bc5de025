-- v_complaint_stats: 投诉统计
-- rule: one row per community × month (of received_at) × category. received; valid (有效投诉);
--       handled = valid and handled; on_time = handled by the deadline (v_complaint_sla);
--       timely_rate 及时率 = on_time / handled; handling_rate 处理率 = handled / valid;
--       fed_back = handled with feedback; feedback_rate = fed_back / handled.
--       Rates are fractions, NULL when the denominator is 0.
--       The per-complaint judgement is the macro complaints_judged_as_of(as_of), so the same figures
--       can be grouped by responsible person or month alone (app/service_desk.complaint_breakdown).
--       Point in time: complaint_stats_as_of(as_of DATE); this view is it at current_date.
--       complaint_stats_as_of gives the same figures as grouping complaints_judged_as_of, from the
--       counts the save path keeps per group with everything recorded (complaint_counts,
--       app/complaint_facts.py) less the part of complaints with something recorded after the cut-off.
-- source: 三(六) 业主投诉 (及时率、处理率)
-- parameters: those of v_complaint_sla
-- 规则：按小区、月份和类别统计投诉：收到数、有效数、已处理数、按期处理数；及时率 = 按期 ÷ 已处理，处理率 = 已处理 ÷ 有效，反馈率 = 已反馈 ÷ 已处理。分母为 0 时比率为空。
-- 参数：同「投诉时效」
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
WITH cut AS (
    SELECT complaint_cutoff(as_of) AS cutoff
),
later AS (  -- complaints with something recorded after the cut-off: what they counted then, less now
    SELECT community_id,
           month,
           category,
           count(*) FILTER (WHERE t.received) - count(*) FILTER (WHERE a.received) AS received,
           count(*) FILTER (WHERE t.valid) - count(*) FILTER (WHERE a.valid) AS valid,
           count(*) FILTER (WHERE t.handled) - count(*) FILTER (WHERE a.handled) AS handled,
           count(*) FILTER (WHERE t.on_time) - count(*) FILTER (WHERE a.on_time) AS on_time,
           count(*) FILTER (WHERE t.fed_back) - count(*) FILTER (WHERE a.fed_back) AS fed_back
    FROM (SELECT f.community_id,
                 f.month,
                 f.category,
                 complaint_counted(f.is_valid, f.received_at, f.handled_at, f.feedback_at, f.deadline, cut.cutoff)
                     AS t,  -- then
                 complaint_counted(f.is_valid, f.received_at, f.handled_at, f.feedback_at, f.deadline,
                                   TIMESTAMP 'infinity') AS a  -- as kept: all recorded
          FROM complaint_facts f, cut
          WHERE f.last_at >= cut.cutoff)
    GROUP BY community_id, month, category
),
counted AS (
    SELECT k.community_id,
           k.month,
           k.category,
           k.received + coalesce(l.received, 0) AS received,
           k.valid + coalesce(l.valid, 0) AS valid,
           k.handled + coalesce(l.handled, 0) AS handled,
           k.on_time + coalesce(l.on_time, 0) AS on_time,
           k.fed_back + coalesce(l.fed_back, 0) AS fed_back
    FROM complaint_counts k
    LEFT JOIN later l
           ON l.community_id = k.community_id AND l.month = k.month AND l.category IS NOT DISTINCT FROM k.category
)
SELECT community_id,
       month,
       category,
       received,
       valid,
       handled,
       on_time,
       CAST(on_time AS DOUBLE) / nullif(handled, 0) AS timely_rate,
       CAST(handled AS DOUBLE) / nullif(valid, 0) AS handling_rate,
       fed_back,
       CAST(fed_back AS DOUBLE) / nullif(handled, 0) AS feedback_rate
FROM counted
WHERE received > 0;

CREATE OR REPLACE VIEW v_complaint_stats AS
SELECT * FROM complaint_stats_as_of(current_date);
