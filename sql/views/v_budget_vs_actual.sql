-- v_budget_vs_actual: 预算执行
-- rule: one row per community × year × category that has a budget or an entry in
--       finance_entries (years up to as_of's year; entries dated up to as_of). budget = budgets.amount;
--       actual = Σ finance_entries.amount of that year, direction and category (a category is
--       budgeted as one direction; one used both ways gives two rows); variance = actual − budget;
--       used_rate = actual / budget (NULL without a budget or with a budget of 0);
--       year_elapsed = share of the year gone by at as_of (1 for past years), to read used_rate against.
--       Point in time: budget_vs_actual_as_of(as_of DATE); this view is it at current_date.
-- source: 一 5 财务制度 (年度预算，业委会审批); 小区物业管理处工作流程「收费管理」(预算 → … → 使用与报告)
-- parameters: none
-- 规则：按小区、年度和收支科目对比预算与实际：实际 = 当年该科目的收支合计；差额 = 实际 − 预算；执行率 = 实际 ÷ 预算（没有预算时为空）；时间进度 = 当年已过去的比例，用来对照执行率。
-- 参数：无
-- label community_id: 小区编号
-- label year: 年度
-- label direction: 收支
-- label category: 类别
-- label budget: 预算(元)
-- label actual: 实际(元)
-- label variance: 差额(元)
-- label used_rate: 执行率
-- label year_elapsed: 年度进度
CREATE OR REPLACE MACRO budget_vs_actual_as_of(as_of) AS TABLE
WITH actual AS (
    SELECT community_id,
           year(entry_date) AS year,
           direction,
           category,
           sum(amount) AS actual
    FROM finance_entries
    WHERE deleted_at IS NULL AND entry_date <= as_of
    GROUP BY community_id, year(entry_date), direction, category
),
budget AS (
    SELECT community_id, year, category, sum(amount) AS budget
    FROM budgets
    WHERE deleted_at IS NULL AND year <= year(as_of)
    GROUP BY community_id, year, category
)
SELECT coalesce(b.community_id, a.community_id) AS community_id,
       CAST(coalesce(b.year, a.year) AS BIGINT) AS year,
       a.direction,
       coalesce(b.category, a.category) AS category,
       b.budget,
       coalesce(a.actual, CAST(0 AS DECIMAL(12,2))) AS actual,
       coalesce(a.actual, 0) - coalesce(b.budget, 0) AS variance,
       CAST(coalesce(a.actual, 0) AS DOUBLE) / nullif(CAST(b.budget AS DOUBLE), 0) AS used_rate,
       CASE WHEN coalesce(b.year, a.year) < year(as_of) THEN 1.0
            ELSE CAST(dayofyear(as_of) AS DOUBLE)
                 / CAST(dayofyear(make_date(year(as_of), 12, 31)) AS DOUBLE) END AS year_elapsed
FROM budget b
FULL OUTER JOIN actual a
  ON a.community_id = b.community_id AND a.year = b.year AND a.category = b.category;

CREATE OR REPLACE VIEW v_budget_vs_actual AS
SELECT * FROM budget_vs_actual_as_of(current_date);
