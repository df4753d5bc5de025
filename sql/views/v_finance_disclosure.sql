-- v_finance_disclosure: 收支公示
-- rule: income and spending by category for the owners' notice board: one row per community ×
--       year × span × direction × category, over finance_entries dated up to as_of. Spans: quarters
--       'Q1'..'Q4' and half-years 'H1' (Jan–Jun), 'H2' (Jul–Dec); span_start / span_end their
--       first and last day; amount = Σ amount; entries = count. complete = the span has ended by
--       as_of (a notice is posted for complete spans). Spans without entries are left out.
--       Point in time: finance_disclosure_as_of(as_of DATE); this view is it at current_date.
-- source: 一 5 财务制度; 物业服务收费管理办法第13条 (酬金制至少每年公布; 公共收益每半年)
-- parameters: none
-- 规则：供业主公示的收支明细：按小区、年度、季度（Q1–Q4）和半年（H1、H2）、收入或支出、科目汇总金额和笔数；期间结束后才算完整，可以公示。没有收支的期间不列出。
-- 参数：无
-- label community_id: 小区编号
-- label year: 年度
-- label span: 期间
-- label span_start: 起始日
-- label span_end: 截止日
-- label direction: 收支
-- label category: 类别
-- label entries: 笔数
-- label amount: 金额(元)
-- label complete: 期间已结束
CREATE OR REPLACE MACRO finance_disclosure_as_of(as_of) AS TABLE
WITH entries AS (
    SELECT community_id, entry_date, direction, category, amount,
           year(entry_date) AS year,
           quarter(entry_date) AS q,
           CASE WHEN month(entry_date) <= 6 THEN 1 ELSE 2 END AS h
    FROM finance_entries
    WHERE deleted_at IS NULL AND entry_date <= as_of
),
spans AS (
    SELECT community_id, year, 'Q' || q AS span,
           make_date(year, 3 * q - 2, 1) AS span_start,
           last_day(make_date(year, 3 * q, 1)) AS span_end,
           direction, category, amount
    FROM entries
    UNION ALL
    SELECT community_id, year, 'H' || h,
           make_date(year, 6 * h - 5, 1),
           last_day(make_date(year, 6 * h, 1)),
           direction, category, amount
    FROM entries
)
SELECT community_id,
       CAST(year AS BIGINT) AS year,
       span,
       span_start,
       span_end,
       direction,
       category,
       count(*) AS entries,
       sum(amount) AS amount,
       any_value(span_end < as_of) AS complete
FROM spans
GROUP BY community_id, year, span, span_start, span_end, direction, category;

CREATE OR REPLACE VIEW v_finance_disclosure AS
SELECT * FROM finance_disclosure_as_of(current_date);
