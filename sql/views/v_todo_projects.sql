-- v_todo_projects: 工程与分包方待办
-- rule: in v_todo's columns (to be unioned into it): projects past their planned end and not
--       accepted (v_project_overdue; 高 when more than 30 days over, else 中; due_on =
--       planned_end_on), and vendors due for re-rating (v_vendor_rating_due; 低; company-wide,
--       no community). days_overdue = as_of − due_on.
--       Point in time: todo_projects_as_of(as_of DATE); this view is it at current_date.
-- source: 一 8 工程管理制度（工程验收制度、分包方定期评价）
-- parameters: vendor.rating_months [12]
-- 规则：工程与分包方方面的待办：计划完工日期已过仍未验收的工程（逾期超过 30 天为“高”，否则为“中”）；超过评价周期未重新评价的分包方（“低”）。
-- 参数：分包方定期评价周期（默认 12 个月）
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_projects_as_of(as_of) AS TABLE
WITH items AS (
    SELECT community_id,
           '合同与工程' AS area,
           '工程「' || name || '」计划完工已过仍未验收（进度 ' || coalesce(progress, 0) || '%）' AS what,
           'projects' AS ref_table,
           project_id AS ref_id,
           planned_end_on AS due_on,
           CASE WHEN days_overdue > 30 THEN '高' ELSE '中' END AS severity
    FROM project_overdue_as_of(as_of)

    UNION ALL
    SELECT CAST(NULL AS BIGINT),
           '合同与工程',
           '分包方「' || name || '」'
               || CASE WHEN last_rated_on IS NULL THEN '从未评价'
                       ELSE '上次评价 ' || strftime(last_rated_on, '%Y-%m-%d') END
               || '，应重新评价',
           'vendors',
           vendor_id,
           due_on,
           '低'
    FROM vendor_rating_due_as_of(as_of)
)
SELECT unnest(todo_row(as_of, items)) FROM items;

CREATE OR REPLACE VIEW v_todo_projects AS
SELECT * FROM todo_projects_as_of(current_date);
