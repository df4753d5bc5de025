-- v_survey_stats: 满意度调查统计
-- rule: one row per survey × dimension of its 评分 questions (dimensions with no question are absent).
--       responses = the survey's responses with at least one score in the dimension;
--       survey_responses = all the survey's responses (received by as_of); return_rate 回收率 =
--       survey_responses / distributed; scores = number of scores in the dimension; avg_score =
--       mean of those scores (1..5); satisfied = scores ≥ 4; satisfaction_rate 满意率 = satisfied /
--       scores; target = survey.target_satisfaction; meets_target = satisfaction_rate ≥ target.
--       Rates are fractions, NULL when the denominator is 0.
--       Point in time: survey_stats_as_of(as_of DATE) counts responses submitted by the end of as_of
--       (a response without a time counts from the survey's start); this view is it at current_date.
-- source: 三(七) 业主意见调查（统计分析、公布结果）
-- parameters: survey.target_satisfaction [0.80]
-- 规则：每份调查的每个评分维度一行：回收率 = 收回份数 ÷ 发放份数；平均分（1–5 分）；满意数 = 4 分及以上；满意率 = 满意数 ÷ 评分数；与目标满意率比较是否达标。分母为 0 时比率为空。
-- 参数：目标满意率（默认 80%）
-- label survey_id: 调查编号
-- label community_id: 小区编号
-- label title: 调查名称
-- label held_from: 开始日期
-- label dimension: 维度
-- label questions: 评分题数
-- label responses: 作答问卷数
-- label survey_responses: 回收问卷数
-- label distributed: 发放份数
-- label return_rate: 回收率
-- label scores: 评分数
-- label avg_score: 平均分
-- label satisfied: 满意(4-5分)
-- label satisfaction_rate: 满意率
-- label target: 满意率目标
-- label meets_target: 达标
CREATE OR REPLACE MACRO survey_stats_as_of(as_of) AS TABLE
WITH responses AS (
    SELECT r.id AS response_id, r.survey_id
    FROM survey_responses r
    JOIN surveys s ON s.id = r.survey_id AND s.deleted_at IS NULL
    WHERE r.deleted_at IS NULL
      AND coalesce(r.submitted_at, CAST(s.held_from AS TIMESTAMP)) < CAST(as_of AS DATE) + 1
),
per_survey AS (
    SELECT survey_id, count(*) AS survey_responses FROM responses GROUP BY survey_id
),
questions AS (
    SELECT survey_id, dimension, count(*) AS questions
    FROM survey_questions
    WHERE deleted_at IS NULL AND kind = '评分'
    GROUP BY survey_id, dimension
),
scores AS (
    SELECT r.survey_id, q.dimension, a.response_id, a.score
    FROM survey_answers a
    JOIN responses r ON r.response_id = a.response_id
    JOIN survey_questions q ON q.id = a.question_id AND q.deleted_at IS NULL AND q.kind = '评分'
    WHERE a.deleted_at IS NULL AND a.score IS NOT NULL
),
per_dimension AS (
    SELECT survey_id,
           dimension,
           count(DISTINCT response_id) AS responses,
           count(*) AS scores,
           avg(score) AS avg_score,
           count(*) FILTER (WHERE score >= 4) AS satisfied
    FROM scores
    GROUP BY survey_id, dimension
)
SELECT s.id AS survey_id,
       s.community_id,
       s.title,
       s.held_from,
       qn.dimension,
       qn.questions,
       coalesce(d.responses, 0) AS responses,
       coalesce(ps.survey_responses, 0) AS survey_responses,
       s.distributed,
       CAST(coalesce(ps.survey_responses, 0) AS DOUBLE) / nullif(s.distributed, 0) AS return_rate,
       coalesce(d.scores, 0) AS scores,
       CAST(d.avg_score AS DOUBLE) AS avg_score,
       coalesce(d.satisfied, 0) AS satisfied,
       CAST(d.satisfied AS DOUBLE) / nullif(d.scores, 0) AS satisfaction_rate,
       setting_num('survey.target_satisfaction', s.community_id) AS target,
       CAST(d.satisfied AS DOUBLE) / nullif(d.scores, 0)
           >= setting_num('survey.target_satisfaction', s.community_id) AS meets_target
FROM surveys s
JOIN questions qn ON qn.survey_id = s.id
LEFT JOIN per_dimension d ON d.survey_id = s.id AND d.dimension = qn.dimension
LEFT JOIN per_survey ps ON ps.survey_id = s.id
WHERE s.deleted_at IS NULL AND s.held_from <= CAST(as_of AS DATE);

CREATE OR REPLACE VIEW v_survey_stats AS
SELECT * FROM survey_stats_as_of(current_date);
