-- v_repair_fund_disclosure: 维修资金收支公示
-- rule: the fund's ledger per community for the owners' notice board: incomes grouped by month
--       and kind (首期缴存, 续筹, 利息 from repair_fund_entries), and each payment of an 已支付
--       application on its paid_on (project and payee); balance = running total of income −
--       expense in the order (date, income before expense, item).
-- source: 《住宅专项维修资金管理办法》第三十一条 (每年至少一次公布维修资金收支); 《民法典》第二百八十一条
-- parameters: none
-- 规则：每个小区的维修资金收支明细，供公示：收入按月份和类别（首期缴存、续筹、利息）合计一行，每笔使用支出一行（项目和收款单位），并给出逐行结余。
-- 参数：无
-- label community_id: 小区编号
-- label entry_on: 日期
-- label item: 摘要
-- label income: 收入
-- label expense: 支出
-- label balance: 结余
CREATE OR REPLACE VIEW v_repair_fund_disclosure AS
WITH lines AS (
    SELECT community_id,
           max(entry_on) AS entry_on,
           strftime(entry_on, '%Y-%m') || ' ' || kind || '（' || count(*) || ' 笔）' AS item,
           sum(amount) AS income,
           CAST(0 AS DECIMAL(12,2)) AS expense,
           0 AS rank
    FROM repair_fund_entries
    WHERE deleted_at IS NULL
    GROUP BY community_id, strftime(entry_on, '%Y-%m'), kind
    UNION ALL
    SELECT community_id,
           paid_on,
           '支付 ' || application_no || ' ' || project || coalesce('（' || payee || '）', ''),
           CAST(0 AS DECIMAL(12,2)),
           coalesce(paid_amount, amount),
           1
    FROM repair_fund_applications
    WHERE deleted_at IS NULL AND status = '已支付' AND paid_on IS NOT NULL
)
SELECT community_id,
       entry_on,
       item,
       CAST(income AS DECIMAL(14,2)) AS income,
       CAST(expense AS DECIMAL(14,2)) AS expense,
       CAST(sum(income - expense) OVER (PARTITION BY community_id ORDER BY entry_on, rank, item
                                        ROWS UNBOUNDED PRECEDING) AS DECIMAL(14,2)) AS balance
FROM lines;
