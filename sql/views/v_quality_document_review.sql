-- v_quality_document_review: 质量体系文件评审
-- rule: one row per quality document with status 有效. days_left = review_due_on − as_of;
--       state: 逾期未评审 (review_due_on < as_of), 待评审 (review_due_on ≤ as_of +
--       quality.review_warn_days), else 正常.
--       Point in time: quality_document_review_as_of(as_of DATE); this view is it at current_date.
-- source: 四 ISO9001 质量体系（文件控制：定期评审）；GB/T 19001-2016 §7.5
-- parameters: quality.review_warn_days [30]
-- 规则：每份有效的质量体系文件一行：剩余天数 = 评审到期日 − 当天；状态：逾期未评审（已过评审到期日）、待评审（在提醒天数内到期）、正常。
-- 参数：质量体系文件评审提前提醒天数（默认 30 天）
-- label quality_document_id: 文件编号(内部)
-- label community_id: 小区编号
-- label doc_no: 文件编号
-- label title: 文件名称
-- label level: 层次
-- label version: 版本
-- label reviewed_on: 上次评审
-- label review_due_on: 下次评审
-- label days_left: 剩余天数
-- label state: 状态
CREATE OR REPLACE MACRO quality_document_review_as_of(as_of) AS TABLE
SELECT d.id AS quality_document_id,
       d.community_id,
       d.doc_no,
       d.title,
       d.level,
       d.version,
       d.reviewed_on,
       d.review_due_on,
       d.review_due_on - CAST(as_of AS DATE) AS days_left,
       CASE WHEN d.review_due_on < CAST(as_of AS DATE) THEN '逾期未评审'
            WHEN d.review_due_on <= CAST(as_of AS DATE)
                 + CAST(coalesce(setting_int('quality.review_warn_days', d.community_id), 30) AS INTEGER)
                 THEN '待评审'
            ELSE '正常' END AS state
FROM quality_documents d
WHERE d.deleted_at IS NULL AND d.status = '有效';

CREATE OR REPLACE VIEW v_quality_document_review AS
SELECT * FROM quality_document_review_as_of(current_date);
