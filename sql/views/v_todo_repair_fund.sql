-- v_todo_repair_fund: 维修资金待办
-- rule: in v_todo's columns (to be unioned into it): applications of repair_fund_applications
--       applied on or before as_of and still 待表决 (due_on = vote_due_on, else applied_on;
--       中 once past, else 低), and applications 已审批 but not paid (due_on = approved_on, 低;
--       中 once fund.payment_warn_days [30] have passed). days_overdue = as_of − due_on.
--       Point in time: todo_repair_fund_as_of(as_of DATE); this view is it at current_date.
-- source: 《民法典》第二百七十八条; 《住宅专项维修资金管理办法》第二十二条、第二十四条
-- parameters: fund.payment_warn_days [30]
-- 规则：维修资金方面的待办：待业主表决的使用申请（过了表决截止日为“中”，否则为“低”），已审批但尚未支付的申请（审批后超过提醒天数为“中”）。
-- 参数：审批后待支付提醒天数（默认 30 天）
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_repair_fund_as_of(as_of) AS TABLE
WITH items AS (
    SELECT community_id,
           '收费管理' AS area,
           '维修资金申请 ' || application_no || ' ' || project || ' 待业主表决' AS what,
           'repair_fund_applications' AS ref_table,
           id AS ref_id,
           coalesce(vote_due_on, applied_on) AS due_on,
           CASE WHEN coalesce(vote_due_on, applied_on) < CAST(as_of AS DATE) THEN '中' ELSE '低' END AS severity
    FROM repair_fund_applications
    WHERE deleted_at IS NULL AND status = '待表决' AND applied_on <= CAST(as_of AS DATE)

    UNION ALL
    SELECT community_id,
           '收费管理',
           '维修资金申请 ' || application_no || ' ' || project || ' 已审批，待支付',
           'repair_fund_applications',
           id,
           approved_on,
           CASE WHEN CAST(as_of AS DATE) - approved_on
                     > coalesce(setting_int('fund.payment_warn_days', community_id), 30) THEN '中'
                ELSE '低' END
    FROM repair_fund_applications
    WHERE deleted_at IS NULL AND status = '已审批' AND approved_on <= CAST(as_of AS DATE)
)
SELECT unnest(todo_row(as_of, items)) FROM items;

CREATE OR REPLACE VIEW v_todo_repair_fund AS
SELECT * FROM todo_repair_fund_as_of(current_date);
