-- v_todo_quality: 质量体系、业委会与调查待办
-- rule: in v_todo's columns (to be unioned into it): quality documents due for review
--       (v_quality_document_review: 逾期未评审 中, 待评审 低; company-wide documents have no
--       community); 业委会沟通 follow-ups not done with follow_up_due_on ≤ as_of +
--       committee.follow_up_warn_days (中 once past, else 低); 预防与纠正措施 of surveys not done
--       with due_on < as_of (中). days_overdue = as_of − due_on.
--       Point in time: todo_quality_as_of(as_of DATE); this view is it at current_date.
-- source: 四 ISO9001 质量体系; 六、业主沟通和会议; 三(七) 业主意见调查（纠正措施）
-- parameters: quality.review_warn_days [30], committee.follow_up_warn_days [7]
-- 规则：质量体系、业委会与调查方面的待办：待评审或逾期未评审的质量体系文件；即将到期或已过期的业委会沟通跟进事项；已过期未完成的调查预防与纠正措施。
-- 参数：质量体系文件评审提前提醒天数（默认 30 天）、业委会跟进提前提醒天数（默认 7 天）
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_quality_as_of(as_of) AS TABLE
WITH items AS (
    SELECT community_id,
           '档案与公文' AS area,
           '质量体系文件 ' || doc_no || '《' || title || '》' || version
               || CASE WHEN state = '逾期未评审' THEN ' 逾期未评审' ELSE ' 即将到期评审' END AS what,
           'quality_documents' AS ref_table,
           quality_document_id AS ref_id,
           review_due_on AS due_on,
           CASE WHEN state = '逾期未评审' THEN '中' ELSE '低' END AS severity
    FROM quality_document_review_as_of(as_of)
    WHERE state <> '正常'

    UNION ALL
    SELECT m.community_id,
           '调查与文化',
           '业委会沟通（' || strftime(m.held_on, '%Y-%m-%d') || ' ' || m.topic || '）跟进事项：'
               || coalesce(m.follow_up, ''),
           'committee_meetings',
           m.id,
           m.follow_up_due_on,
           CASE WHEN m.follow_up_due_on < CAST(as_of AS DATE) THEN '中' ELSE '低' END
    FROM committee_meetings m
    WHERE m.deleted_at IS NULL AND m.follow_up_due_on IS NOT NULL
      AND (m.follow_up_done_on IS NULL OR m.follow_up_done_on > CAST(as_of AS DATE))
      AND m.held_on <= CAST(as_of AS DATE)
      AND m.follow_up_due_on <= CAST(as_of AS DATE)
          + CAST(coalesce(setting_int('committee.follow_up_warn_days', m.community_id), 7) AS INTEGER)

    UNION ALL
    SELECT s.community_id,
           '调查与文化',
           '调查「' || s.title || '」的' || coalesce(ms.kind, '措施') || '：' || ms.measure || ' 未完成',
           'survey_measures',
           ms.id,
           ms.due_on,
           '中'
    FROM survey_measures ms
    JOIN surveys s ON s.id = ms.survey_id AND s.deleted_at IS NULL
    WHERE ms.deleted_at IS NULL AND ms.due_on < CAST(as_of AS DATE)
      AND (ms.done_on IS NULL OR ms.done_on > CAST(as_of AS DATE))
)
SELECT unnest(todo_row(as_of, items)) FROM items;

CREATE OR REPLACE VIEW v_todo_quality AS
SELECT * FROM todo_quality_as_of(current_date);
