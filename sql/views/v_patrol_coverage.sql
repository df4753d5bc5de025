-- v_patrol_coverage: 保安巡视频次
-- rule: one row per community × scope (公共区域/楼内) × day, from the day of the first patrol of
--       that scope up to as_of: patrols = patrols started that day; required =
--       security.patrols_per_day.<scope>; missed = required − patrols when positive, else 0;
--       complete = the day is before as_of (as_of itself is still running); last_patrol_id = the
--       latest patrol of that scope started on or before that day.
--       Point in time: patrol_coverage_as_of(as_of DATE); this view is it at current_date.
-- source: 三(四) 保安管理 3 巡视频次及其记录 1) 公共区域巡视 2) 楼内巡视
-- parameters: security.patrols_per_day.公共区域 [6], security.patrols_per_day.楼内 [2]
-- 规则：按小区、巡视范围（公共区域/楼内）和日期统计巡视次数：应巡视次数按每天标准；缺少次数 = 应巡视 − 实际（不小于 0）；当天尚未结束的不算完整的一天。
-- 参数：每天巡视次数标准：公共区域（默认 6 次）、楼内（默认 2 次）
-- label community_id: 小区编号
-- label scope: 巡视范围
-- label patrol_day: 日期
-- label patrols: 巡视次数
-- label required: 应巡视次数
-- label missed: 少巡次数
-- label complete: 已过完
-- label last_patrol_id: 最近巡视
CREATE OR REPLACE MACRO patrol_coverage_as_of(as_of) AS TABLE
WITH done AS (
    SELECT community_id,
           scope,
           CAST(started_at AS DATE) AS patrol_day,
           count(*) AS patrols,
           max(id) AS last_id
    FROM patrols
    WHERE deleted_at IS NULL
      AND CAST(started_at AS DATE) <= CAST(as_of AS DATE)
    GROUP BY ALL
),
scopes AS (
    SELECT community_id,
           scope,
           min(patrol_day) AS first_day,
           CAST(setting_int('security.patrols_per_day.' || scope, community_id) AS INTEGER) AS required
    FROM done
    GROUP BY community_id, scope
),
days AS (
    SELECT community_id,
           scope,
           required,
           CAST(unnest(generate_series(CAST(first_day AS TIMESTAMP), CAST(CAST(as_of AS DATE) AS TIMESTAMP),
                                       INTERVAL 1 DAY)) AS DATE) AS patrol_day
    FROM scopes
)
SELECT d.community_id,
       d.scope,
       d.patrol_day,
       coalesce(p.patrols, 0) AS patrols,
       coalesce(d.required, 0) AS required,
       greatest(coalesce(d.required, 0) - coalesce(p.patrols, 0), 0) AS missed,
       d.patrol_day < CAST(as_of AS DATE) AS complete,
       max(p.last_id) OVER (PARTITION BY d.community_id, d.scope ORDER BY d.patrol_day
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_patrol_id
FROM days d
LEFT JOIN done p ON p.community_id = d.community_id AND p.scope = d.scope AND p.patrol_day = d.patrol_day;

CREATE OR REPLACE VIEW v_patrol_coverage AS
SELECT * FROM patrol_coverage_as_of(current_date);
