-- v_complaint_rate: 投诉率
-- rule: valid complaints (is_valid not false) received from date_from to date_to (both days
--       included), one row per community (level 小区, building_id NULL: every complaint, public areas
--       too) and one per building (level 楼栋: complaints of its households). households = homes
--       on file; complaints = their count; complaining_households = households with at least one;
--       complaint_rate 投诉率 = complaints / households (per household); household_rate =
--       complaining_households / households. NULL when there are no households.
--       Any period: complaint_rate_between(date_from DATE, date_to DATE); this view is the
--       calendar year to current_date.
-- source: 三(六)4 投诉率的统计
-- parameters: none (the period is the macro's two dates)
-- 规则：统计期内收到的有效投诉，每个小区一行（含公共部位投诉）、每个楼栋一行（该楼栋房屋的投诉）：投诉率 = 投诉次数 ÷ 户数；投诉户比例 = 有投诉的户数 ÷ 户数；没有房屋时为空。本视图为本年初至今天，其他期间在「统计分析」页选择。
-- 参数：无（统计期间在页面上选择）
-- label community_id: 小区编号
-- label level: 范围
-- label building_id: 楼栋
-- label building: 楼栋号
-- label households: 户数
-- label complaints: 投诉次数
-- label complaining_households: 投诉户数
-- label complaint_rate: 投诉率(次/户)
-- label household_rate: 投诉户比例
CREATE OR REPLACE MACRO complaint_rate_between(date_from, date_to) AS TABLE
WITH picked AS (
    SELECT c.community_id, c.household_id, h.building_id
    FROM complaints c
    LEFT JOIN households h ON h.id = c.household_id
    WHERE c.deleted_at IS NULL
      AND coalesce(c.is_valid, true)
      AND c.received_at >= CAST(CAST(date_from AS DATE) AS TIMESTAMP)
      AND c.received_at < CAST(CAST(date_to AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
),
homes AS (
    SELECT community_id, building_id, count(*) AS households
    FROM households WHERE deleted_at IS NULL GROUP BY community_id, building_id
),
per_community AS (
    SELECT c.id AS community_id,
           '小区' AS level,
           CAST(NULL AS BIGINT) AS building_id,
           '全小区' AS building,
           (SELECT sum(households) FROM homes WHERE homes.community_id = c.id) AS households,
           (SELECT count(*) FROM picked WHERE picked.community_id = c.id) AS complaints,
           (SELECT count(DISTINCT household_id) FROM picked WHERE picked.community_id = c.id) AS complaining
    FROM communities c
    WHERE c.deleted_at IS NULL
),
per_building AS (
    SELECT b.community_id,
           '楼栋' AS level,
           b.id AS building_id,
           b.code AS building,
           (SELECT sum(households) FROM homes WHERE homes.building_id = b.id) AS households,
           (SELECT count(*) FROM picked WHERE picked.building_id = b.id) AS complaints,
           (SELECT count(DISTINCT household_id) FROM picked WHERE picked.building_id = b.id) AS complaining
    FROM buildings b
    WHERE b.deleted_at IS NULL
)
SELECT community_id,
       level,
       building_id,
       building,
       coalesce(households, 0) AS households,
       complaints,
       complaining AS complaining_households,
       CAST(complaints AS DOUBLE) / nullif(households, 0) AS complaint_rate,
       CAST(complaining AS DOUBLE) / nullif(households, 0) AS household_rate
FROM (SELECT * FROM per_community UNION ALL SELECT * FROM per_building) r;

CREATE OR REPLACE VIEW v_complaint_rate AS
SELECT * FROM complaint_rate_between(make_date(year(current_date), 1, 1), current_date);
