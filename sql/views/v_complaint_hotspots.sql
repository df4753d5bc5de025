-- v_complaint_hotspots: 投诉热点
-- rule: community × category × location with at least complaint.hotspot_count valid complaints
--       received in the last complaint.hotspot_days days (as_of − days < received date <= as_of;
--       complaints without a location are not grouped). complaints = that count, first_received_at,
--       latest_received_at, latest_complaint_id, open_complaints (not yet handled). has_rectification: an open
--       rectification (opened on or before as_of, not verified by as_of) with a responsible person and a
--       deadline exists whose source is 投诉 and whose source complaint is at the same community ×
--       category × location (saving the complaint that makes a hotspot opens one: app/save_rules/checks.py);
--       needs_rectification = not has_rectification.
--       Point in time: complaint_hotspots_as_of(as_of DATE); this view is it at current_date.
-- source: 三(六) 业主投诉 (重复投诉 责任到人、限期整改、专人追踪)
-- parameters: complaint.hotspot_count [3], complaint.hotspot_days [30]
-- 规则：同一小区、同一类别、同一位置，在统计天数内收到的有效投诉达到次数标准即为投诉热点；给出投诉次数、首次和最近投诉时间、未处理数，以及是否已有整改单（没有则需要开整改单）。
-- 参数：热点投诉次数（默认 3 次）、热点统计天数（默认 30 天）
-- label community_id: 小区编号
-- label category: 类别
-- label location: 位置
-- label complaints: 投诉次数
-- label first_received_at: 最早受理
-- label latest_received_at: 最近受理
-- label latest_complaint_id: 最近一次投诉
-- label open_complaints: 未处理
-- label has_rectification: 已有整改
-- label needs_rectification: 需立项整改
CREATE OR REPLACE MACRO complaint_hotspots_as_of(as_of) AS TABLE
WITH params AS (  -- looked up once per community, not once per complaint
    SELECT id AS community_id,
           CAST(setting_int('complaint.hotspot_count', id) AS INTEGER) AS min_count,
           CAST(setting_int('complaint.hotspot_days', id) AS INTEGER) AS days
    FROM communities
),
recent AS (
    SELECT c.id,
           c.community_id,
           c.category,
           trim(c.location) AS location,
           c.received_at,
           c.handled_at IS NULL OR CAST(c.handled_at AS DATE) > CAST(as_of AS DATE) AS still_open,
           p.min_count,
           p.days
    FROM complaints c
    JOIN params p ON p.community_id = c.community_id
    WHERE c.deleted_at IS NULL
      AND coalesce(c.is_valid, true)
      AND nullif(trim(c.location), '') IS NOT NULL
      -- received by the end of as_of and within the longest window: bounds DuckDB can skip blocks by
      AND c.received_at < CAST(CAST(as_of AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
      AND c.received_at >= CAST(CAST(as_of AS DATE) AS TIMESTAMP) - to_days((SELECT max(days) FROM params))
),
grouped AS (
    SELECT community_id,
           category,
           location,
           count(*) AS complaints,
           min(received_at) AS first_received_at,
           max(received_at) AS latest_received_at,
           arg_max(id, (received_at, id)) AS latest_complaint_id,  -- same minute: the later number
           count(*) FILTER (WHERE still_open) AS open_complaints,
           any_value(min_count) AS min_count
    FROM recent
    WHERE CAST(received_at AS DATE) > CAST(as_of AS DATE) - days
    GROUP BY community_id, category, location
),
rectified AS (
    SELECT DISTINCT c.community_id, c.category, trim(c.location) AS location
    FROM rectifications r
    JOIN complaints c ON c.id = r.source_id
    WHERE r.deleted_at IS NULL
      AND r.source = '投诉'
      AND r.responsible_id IS NOT NULL
      AND r.deadline IS NOT NULL
      AND coalesce(r.opened_on, CAST(r.created_at AS DATE)) <= CAST(as_of AS DATE)
      AND (r.verified_at IS NULL OR CAST(r.verified_at AS DATE) > CAST(as_of AS DATE))
)
SELECT g.community_id,
       g.category,
       g.location,
       g.complaints,
       g.first_received_at,
       g.latest_received_at,
       g.latest_complaint_id,
       g.open_complaints,
       r.location IS NOT NULL AS has_rectification,
       r.location IS NULL AS needs_rectification
FROM grouped g
LEFT JOIN rectified r
       ON r.community_id = g.community_id AND r.category = g.category AND r.location = g.location
WHERE g.complaints >= g.min_count;

CREATE OR REPLACE VIEW v_complaint_hotspots AS
SELECT * FROM complaint_hotspots_as_of(current_date);
