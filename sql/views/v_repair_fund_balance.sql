-- v_repair_fund_balance: 维修资金余额
-- rule: one row per community: deposits = Σ repair_fund_entries of kind 首期缴存 and 续筹,
--       interest = Σ entries of kind 利息, entered on or before as_of; spent = Σ paid_amount of
--       repair_fund_applications 已支付 with paid_on ≤ as_of; balance = deposits + interest − spent.
--       Point in time: repair_fund_balance_as_of(as_of DATE); this view is it at current_date.
-- source: 《住宅专项维修资金管理办法》(建设部、财政部令第165号) 第二章、第三十条
-- parameters: none
-- 规则：每个小区一行：业主缴存（首期和续筹）合计、利息合计、已支付的使用支出合计，余额 = 缴存 + 利息 − 支出。
-- 参数：无
-- label community_id: 小区编号
-- label community: 小区
-- label deposits: 缴存合计
-- label interest: 利息合计
-- label spent: 使用支出合计
-- label balance: 余额
CREATE OR REPLACE MACRO repair_fund_balance_as_of(as_of) AS TABLE
WITH income AS (
    SELECT community_id,
           sum(amount) FILTER (WHERE kind IN ('首期缴存', '续筹')) AS deposits,
           sum(amount) FILTER (WHERE kind = '利息') AS interest
    FROM repair_fund_entries
    WHERE deleted_at IS NULL AND entry_on <= CAST(as_of AS DATE)
    GROUP BY community_id
),
spending AS (
    SELECT community_id, sum(coalesce(paid_amount, amount)) AS spent
    FROM repair_fund_applications
    WHERE deleted_at IS NULL AND status = '已支付' AND paid_on <= CAST(as_of AS DATE)
    GROUP BY community_id
)
SELECT c.id AS community_id,
       c.name AS community,
       CAST(coalesce(i.deposits, 0) AS DECIMAL(14,2)) AS deposits,
       CAST(coalesce(i.interest, 0) AS DECIMAL(14,2)) AS interest,
       CAST(coalesce(s.spent, 0) AS DECIMAL(14,2)) AS spent,
       CAST(coalesce(i.deposits, 0) + coalesce(i.interest, 0) - coalesce(s.spent, 0) AS DECIMAL(14,2)) AS balance
FROM communities c
LEFT JOIN income i ON i.community_id = c.id
LEFT JOIN spending s ON s.community_id = c.id
WHERE c.deleted_at IS NULL;

CREATE OR REPLACE VIEW v_repair_fund_balance AS
SELECT * FROM repair_fund_balance_as_of(current_date);
