-- v_survey_sampling: 调查抽样
-- rule: one row per survey with a drawn sample × building (building_id NULL: homes without a
--       building). households = homes on file in the building; sampled = homes of the building in
--       survey_samples; sample_rate = sampled / households; returned = sampled homes with a returned
--       form (survey_responses of the survey naming the household); return_rate = returned / sampled.
-- source: 三(七)1 调查频率、比例、范围、内容
-- parameters: none (the ratio and scope are chosen when the sample is drawn)
-- 规则：每份已抽样的调查按楼栋一行：楼栋户数、抽中户数、抽样比例 = 抽中户数 ÷ 户数、抽中户中已收回问卷的户数及其回收率。
-- 参数：无（抽样比例和范围在抽样时选择）
-- label survey_id: 调查编号
-- label community_id: 小区编号
-- label title: 调查名称
-- label building_id: 楼栋
-- label building: 楼栋号
-- label households: 户数
-- label sampled: 抽中户数
-- label sample_rate: 抽样比例
-- label returned: 已收回
-- label return_rate: 抽样回收率
CREATE OR REPLACE VIEW v_survey_sampling AS
WITH drawn AS (
    SELECT x.survey_id, x.household_id, h.building_id
    FROM survey_samples x
    JOIN households h ON h.id = x.household_id
    WHERE x.deleted_at IS NULL
),
returned AS (
    SELECT DISTINCT survey_id, household_id
    FROM survey_responses WHERE deleted_at IS NULL AND household_id IS NOT NULL
),
per_building AS (
    SELECT d.survey_id, d.building_id, count(*) AS sampled, count(r.household_id) AS returned
    FROM drawn d
    LEFT JOIN returned r ON r.survey_id = d.survey_id AND r.household_id = d.household_id
    GROUP BY d.survey_id, d.building_id
),
homes AS (
    SELECT community_id, building_id, count(*) AS households
    FROM households WHERE deleted_at IS NULL GROUP BY community_id, building_id
)
SELECT s.id AS survey_id,
       s.community_id,
       s.title,
       p.building_id,
       coalesce(b.code, '（未分楼栋）') AS building,
       coalesce(h.households, 0) AS households,
       p.sampled,
       CAST(p.sampled AS DOUBLE) / nullif(h.households, 0) AS sample_rate,
       p.returned,
       CAST(p.returned AS DOUBLE) / nullif(p.sampled, 0) AS return_rate
FROM per_building p
JOIN surveys s ON s.id = p.survey_id AND s.deleted_at IS NULL
LEFT JOIN buildings b ON b.id = p.building_id
LEFT JOIN homes h ON h.community_id = s.community_id AND h.building_id IS NOT DISTINCT FROM p.building_id;
