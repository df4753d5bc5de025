-- Running totals of every bill, kept by the save path (app/bill_totals.py) in the same
-- transaction as the payment, adjustment, void or bill that changes them, never edited by hand.
-- The fee rules (bill_totals_of in sql/views/v_bill_balance.sql) read the totals here and take
-- back out what is dated after their as_of day, so every figure still traces to ledger rows.
-- Derived data: not in backups; rebuilt after a restore or a migration (`wuye derived rebuild`; `wuye derived check` compares).
CREATE TABLE IF NOT EXISTS bill_totals (
  bill_id BIGINT NOT NULL,      -- the key in PostgreSQL only (below); DuckDB scans, and bulk rebuilds stay fast
  community_id BIGINT,
  household_id BIGINT,
  fee_item_id BIGINT,
  period VARCHAR,
  amount DECIMAL(12,2),
  due_date DATE,
  first_of_period BOOLEAN,       -- the household's first bill of the period (households counted without DISTINCT)
  reduced DECIMAL(14,2),         -- Σ 减免, 折扣 (14 digits: sums and differences stay 64-bit in DuckDB)
  refunded DECIMAL(14,2),        -- Σ 退款
  late_fee_waived DECIMAL(14,2), -- Σ 滞纳金减免
  paid DECIMAL(14,2),            -- Σ payments whose receipt is not voided
  last_paid_at TIMESTAMP
);
-- One definition for both backends: lines starting `-- postgres: ` are PostgreSQL's own
-- (app/postgres.py migration_sql), the key and a household index, so refreshing a bill is a look-up there.
-- postgres: ALTER TABLE bill_totals ADD PRIMARY KEY (bill_id);
-- postgres: CREATE INDEX IF NOT EXISTS bill_totals_household ON bill_totals (household_id);
