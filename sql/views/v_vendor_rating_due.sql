-- v_vendor_rating_due: 分包方到期评价
-- rule: vendors whose last rating on or before as_of (the latest of vendor_ratings.rated_on and
--       vendors.evaluated_on) is more than vendor.rating_months months old, or who were never
--       rated; due_on = last rating + vendor.rating_months months (never rated: the day the vendor
--       was entered); days_overdue = as_of − due_on.
--       Point in time: vendor_rating_due_as_of(as_of DATE); this view is it at current_date.
-- source: 一 8 工程管理制度（分包方的评选与定期评价）; ISO 9001 §8.4.1
-- parameters: vendor.rating_months [12]
-- 规则：上次评价已超过评价周期（或从未评价）的分包方，提醒重新评价；应评日期 = 上次评价日期 + 评价周期，从未评价的为登记日期。
-- 参数：分包方定期评价周期（默认 12 个月）
-- label vendor_id: 分包方编号
-- label name: 单位名称
-- label rating: 评价等级
-- label last_rated_on: 上次评价日期
-- label rating_months: 评价周期(月)
-- label due_on: 应评日期
-- label days_overdue: 逾期天数
CREATE OR REPLACE MACRO vendor_rating_due_as_of(as_of) AS TABLE
WITH last AS (
    SELECT v.id AS vendor_id,
           v.name,
           v.rating,
           CAST(v.created_at AS DATE) AS entered_on,
           nullif(greatest(coalesce(v.evaluated_on, DATE '1900-01-01'),
                           coalesce(max(r.rated_on), DATE '1900-01-01')), DATE '1900-01-01') AS last_rated_on
    FROM vendors v
    LEFT JOIN vendor_ratings r ON r.vendor_id = v.id AND r.deleted_at IS NULL
                               AND r.rated_on <= CAST(as_of AS DATE)
    WHERE v.deleted_at IS NULL
    GROUP BY v.id, v.name, v.rating, v.created_at, v.evaluated_on
),
due AS (
    SELECT *,
           CAST(coalesce(setting_int('vendor.rating_months', NULL), 12) AS INTEGER) AS rating_months
    FROM last
)
SELECT vendor_id,
       name,
       rating,
       last_rated_on,
       rating_months,
       CASE WHEN last_rated_on IS NULL THEN entered_on
            ELSE CAST(last_rated_on + to_months(rating_months) AS DATE) END AS due_on,
       CAST(as_of AS DATE) - CASE WHEN last_rated_on IS NULL THEN entered_on
                                  ELSE CAST(last_rated_on + to_months(rating_months) AS DATE) END AS days_overdue
FROM due
WHERE (last_rated_on IS NULL AND entered_on <= CAST(as_of AS DATE))
   OR CAST(last_rated_on + to_months(rating_months) AS DATE) < CAST(as_of AS DATE);

CREATE OR REPLACE VIEW v_vendor_rating_due AS
SELECT * FROM vendor_rating_due_as_of(current_date);
