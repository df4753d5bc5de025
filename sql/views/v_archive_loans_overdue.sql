-- v_archive_loans_overdue: 档案借阅逾期
-- rule: loans not returned by as_of (returned_on empty or after as_of) with due_on < as_of;
--       days_overdue = as_of − due_on. A loan due today is not yet overdue.
--       Point in time: archive_loans_overdue_as_of(as_of DATE); this view is it at current_date.
-- source: 一 3 档案管理 3) 档案借阅制度
-- parameters: none (due_on is set on each loan)
-- 规则：截至当天仍未归还、且应还日期已过的档案借阅；逾期天数 = 当天 − 应还日期。当天到期的还不算逾期。
-- 参数：无（应还日期在每条借阅记录上填写）
-- label archive_loan_id: 借阅编号
-- label archive_id: 档案编号(内部)
-- label community_id: 小区编号
-- label archive_no: 档案号
-- label title: 题名
-- label confidentiality: 密级
-- label borrower: 借阅人
-- label approved_by_id: 审批人
-- label borrowed_on: 借出日期
-- label due_on: 应还日期
-- label days_overdue: 逾期天数
CREATE OR REPLACE MACRO archive_loans_overdue_as_of(as_of) AS TABLE
SELECT l.id AS archive_loan_id,
       l.archive_id,
       a.community_id,
       a.archive_no,
       a.title,
       a.confidentiality,
       l.borrower,
       l.approved_by_id,
       l.borrowed_on,
       l.due_on,
       as_of - l.due_on AS days_overdue
FROM archive_loans l
JOIN archives a ON a.id = l.archive_id
WHERE l.deleted_at IS NULL
  AND a.deleted_at IS NULL
  AND (l.returned_on IS NULL OR l.returned_on > as_of)
  AND l.borrowed_on <= as_of
  AND l.due_on < as_of;

CREATE OR REPLACE VIEW v_archive_loans_overdue AS
SELECT * FROM archive_loans_overdue_as_of(current_date);
