-- v_arrears: 欠费
-- rule: one row per household with outstanding > 0 on bills with due_date < as_of (a bill due
--       today is not yet overdue). outstanding = Σ over those bills (v_bill_balance at as_of);
--       oldest_due_date; days_overdue = as_of − oldest_due_date.
--       Late fee of one bill: for each day D with due_date + fee.grace_days < D ≤ as_of, the bill's
--       outstanding counting only payments, refunds and adjustments dated before D (never below 0),
--       × fee.late_fee_rate_per_day; summed, rounded half-up to 0.01 per bill. The sum is taken
--       over stretches of days with the same balance (balance × days × rate), which is the same sum
--       as day by day. A late fee posted as its own bill (fee item of method 滞纳金, bills.late_fee_of
--       = the principal, made by the cashier when the principal is settled) is taken off the
--       principal's accrued late fee and is owed like any bill; a late-fee bill accrues nothing.
--       outstanding = Σ principal bills only; late_fee = Σ (accrued − posted, not below 0) − Σ
--       滞纳金减免 of the principal bills (not below 0) + Σ outstanding of overdue late-fee bills;
--       total_due = outstanding + late_fee.
--       Cap: with fee.late_fee_cap_ratio r > 0 a bill's late fee is at most round(r × (amount − 减免
--       − 折扣), 2) (r = 1: not above the principal); 0 = no cap.
--       A 减免 or 折扣 may carry counts_from (default: its own date): it lowers the balance from the
--       day after that date. Example: 减免 50.00 on 210.02 due 06-25, as_of 07-10, rate 0.0005:
--       counts_from 06-25 → 160.02 × 15 days = 1.20; counts_from 07-01 → 210.02 × 6 + 160.02 × 9
--       = 1.35; no counts_from, made 07-10 → 210.02 × 15 = 1.58.
--       Per bill: bill_late_fees_of(as_of, household) gives each overdue bill's accrued late fee,
--       what was posted for it, and open_late_fee = accrued − posted − 滞纳金减免 (not below 0).
--       Example: 300.00 due 2026-06-30, paid 100.00 on 2026-07-10, as_of 2026-07-20:
--       07-01..07-10 at 300 (1.50) + 07-11..07-20 at 200 (1.00) → late_fee 2.50, days_overdue 20.
--       Point in time: arrears_as_of(as_of DATE); this view is it at current_date.
--       One household: arrears_of(as_of, household_id) (the cashier); NULL: every household.
-- source: 三(二) 收费管理 (催缴); 小区物业管理处工作流程「收费管理」
-- parameters: fee.late_fee_rate_per_day [0.0005], fee.grace_days [0], fee.late_fee_cap_ratio [0]
-- 规则：每户一行：应缴日期早于当天、仍有欠款的账单合计为欠费金额；最早应缴日期和逾期天数随之给出。滞纳金按天计：过了宽限天数后，每天按当时的欠款 × 滞纳金日费率累计，每张账单四舍五入到分，再扣除滞纳金减免；设了滞纳金上限比例时，每张账单的滞纳金不超过应收净额 × 该比例；减免、折扣可指定滞纳金计算起始日（追溯），从该日次日起按减免后的欠款计；应缴合计 = 欠费 + 滞纳金。例：6 月 30 日到期 300.00 元，7 月 10 日缴 100.00 元，截至 7 月 20 日滞纳金 2.50 元、逾期 20 天。
-- 参数：滞纳金日费率（默认 0.0005，即万分之五）、宽限天数（默认 0 天）
-- label household_id: 房屋编号(内部)
-- label community_id: 小区编号
-- label household_code: 房号
-- label bills: 欠费账单数
-- label outstanding: 欠费(元)
-- label oldest_due_date: 最早到期日
-- label days_overdue: 逾期天数
-- label late_fee: 滞纳金(元)
-- label total_due: 合计应缴(元)
CREATE OR REPLACE MACRO bill_late_fees_of(as_of, household) AS TABLE
-- Set-based: one pass over the bills' totals at as_of (bill_totals_of); a bill with no payment, refund or reduction counted
-- (almost every overdue bill) accrues on its whole amount, amount × days × rate, with no join to
-- payments; only the few bills with such moves are looked up in payments and adjustments.
-- Day counts are INTEGER in the products: a BIGINT makes DuckDB multiply DECIMALs at 128 bits.
WITH params AS (
    SELECT id AS community_id,
           CAST(coalesce(setting_num('fee.late_fee_rate_per_day', id), 0.0005) AS DECIMAL(10,6)) AS rate,
           coalesce(setting_int('fee.grace_days', id), 0) AS grace_days,
           CAST(coalesce(setting_num('fee.late_fee_cap_ratio', id), 0) AS DECIMAL(10,6)) AS cap
    FROM communities
),
overdue AS (
    SELECT t.bill_id,
           t.community_id,
           t.household_id,
           t.amount,
           t.due_date,
           (t.amount - t.reduced) - (t.paid - t.refunded) AS outstanding,
           t.amount - t.reduced AS due_net,
           pr.cap,
           t.late_fee_waived,
           t.paid <> 0 OR t.reduced <> 0 OR t.refunded <> 0 AS moved,
           t.due_date + CAST(pr.grace_days AS INTEGER) + 1 AS accrues_from,
           pr.rate,
           t.fee_item_id IN (SELECT id FROM fee_items WHERE method = '滞纳金') AS is_late_fee
    FROM bill_totals_of(as_of, household) t
    JOIN params pr ON pr.community_id = t.community_id
    WHERE t.due_date < as_of AND (t.amount - t.reduced) - (t.paid - t.refunded) > 0
),
posted AS (
    -- late fees already made bills of their own (up to as_of), per principal bill
    SELECT late_fee_of AS bill_id, sum(amount) AS posted
    FROM bills
    WHERE late_fee_of IS NOT NULL AND deleted_at IS NULL AND due_date <= as_of
      AND (household IS NULL OR household_id = household)
    GROUP BY late_fee_of
),
moved AS (
    SELECT bill_id, amount, accrues_from, rate FROM overdue
    WHERE moved AND accrues_from <= as_of AND NOT is_late_fee
),
moves AS (
    -- what changes a bill's outstanding, counted from the day after its date
    -- (a 减免 or 折扣 backdated by counts_from counts from the day after that date instead; one
    -- made on as_of itself counts only through such a date)
    SELECT a.bill_id,
           CAST(CASE WHEN a.kind = '退款' THEN a.adjusted_at
                     ELSE coalesce(a.counts_from, a.adjusted_at) END AS DATE) + 1 AS from_day,
           CASE WHEN a.kind = '退款' THEN a.amount ELSE -a.amount END AS delta
    FROM bill_adjustments a
    JOIN moved o ON o.bill_id = a.bill_id
    WHERE a.deleted_at IS NULL AND a.kind IN ('减免', '折扣', '退款') AND a.adjusted_at < as_of + 1
    UNION ALL
    SELECT p.bill_id,
           CAST(p.paid_at AS DATE) + 1,
           -p.amount
    FROM payments p
    JOIN moved o ON o.bill_id = p.bill_id
    LEFT JOIN receipts r ON r.id = p.receipt_id
    WHERE p.deleted_at IS NULL
      AND p.paid_at < as_of
      AND NOT (coalesce(r.voided, false) AND coalesce(r.voided_at, p.paid_at) < as_of + 1)
),
steps AS (
    SELECT bill_id, accrues_from AS from_day, amount AS delta
    FROM moved
    UNION ALL
    SELECT m.bill_id, greatest(m.from_day, o.accrues_from), m.delta
    FROM moves m
    JOIN moved o ON o.bill_id = m.bill_id
),
stretches AS (
    SELECT bill_id,
           sum(delta) OVER (PARTITION BY bill_id ORDER BY from_day
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance,
           lead(from_day, 1, as_of + 1) OVER (PARTITION BY bill_id ORDER BY from_day) - from_day AS days
    FROM (SELECT bill_id, from_day, sum(delta) AS delta FROM steps GROUP BY bill_id, from_day)
),
moved_late_fee AS (
    SELECT s.bill_id,
           round(sum(greatest(s.balance, 0) * CAST(s.days AS INTEGER) * o.rate), 2) AS late_fee
    FROM stretches s
    JOIN moved o ON o.bill_id = s.bill_id
    GROUP BY s.bill_id
),
bill_late_fee AS (
    SELECT o.bill_id,
           o.household_id,
           o.community_id,
           o.outstanding,
           o.due_date,
           o.is_late_fee,
           o.late_fee_waived,
           CASE WHEN o.is_late_fee THEN 0
                WHEN o.cap > 0 THEN least(u.late_fee, round(o.due_net * o.cap, 2))
                ELSE u.late_fee END AS late_fee
    FROM overdue o
    JOIN (
        -- uncapped
        SELECT o.bill_id,
               CASE WHEN NOT o.moved
                    THEN round(o.amount * CAST(greatest(as_of - o.accrues_from + 1, 0) AS INTEGER) * o.rate, 2)
                    ELSE coalesce(f.late_fee, 0) END AS late_fee
        FROM overdue o
        LEFT JOIN moved_late_fee f ON f.bill_id = o.bill_id
    ) u ON u.bill_id = o.bill_id
)
SELECT b.bill_id,
       b.household_id,
       b.community_id,
       b.outstanding,
       b.due_date,
       b.is_late_fee,
       b.late_fee,
       coalesce(p.posted, 0) AS posted,
       b.late_fee_waived,
       greatest(b.late_fee - coalesce(p.posted, 0) - b.late_fee_waived, 0) AS open_late_fee
FROM bill_late_fee b
LEFT JOIN posted p ON p.bill_id = b.bill_id;

CREATE OR REPLACE MACRO arrears_of(as_of, household) AS TABLE
WITH per_household AS (
    SELECT household_id,
           community_id,
           count(*) AS bills,
           coalesce(sum(outstanding) FILTER (WHERE NOT is_late_fee), 0) AS outstanding,
           min(due_date) AS oldest_due_date,
           greatest(sum(greatest(late_fee - posted, 0)) - sum(late_fee_waived), 0)
             + coalesce(sum(outstanding) FILTER (WHERE is_late_fee), 0) AS late_fee
    FROM bill_late_fees_of(as_of, household)
    GROUP BY household_id, community_id
)
SELECT a.household_id,
       a.community_id,
       h.code AS household_code,
       a.bills,
       a.outstanding,
       a.oldest_due_date,
       as_of - a.oldest_due_date AS days_overdue,
       a.late_fee,
       a.outstanding + a.late_fee AS total_due
FROM per_household a
JOIN households h ON h.id = a.household_id;

CREATE OR REPLACE MACRO arrears_as_of(as_of) AS TABLE
SELECT * FROM arrears_of(as_of, NULL);

CREATE OR REPLACE VIEW v_arrears AS
SELECT * FROM arrears_as_of(current_date);
