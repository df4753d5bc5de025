-- What the repair statistics need of each work order, kept by the save path
-- (app/work_order_facts.py) in the same transaction as the order, visit or pause that changes it,
-- never edited by hand: copies of the order's own fields and moments and the ones found elsewhere (the previous
-- and the next report of the same household and category, the first rework order, visits).
-- The rules (repair_orders_judged_as_of in sql/views/v_repair_stats.sql) compare these moments with
-- their cut-off and the settings of the day, so nothing here depends on a date or a setting.
-- Derived data: not in backups; rebuilt after a restore or a migration (`wuye derived rebuild`).
CREATE TABLE IF NOT EXISTS work_order_facts (
  work_order_id BIGINT NOT NULL,
  community_id BIGINT,
  order_no VARCHAR,
  status VARCHAR,
  rework_of BIGINT,
  household_id BIGINT,
  category VARCHAR,
  urgency VARCHAR,
  month VARCHAR,                    -- 'YYYY-MM' of reported_at
  reported_at TIMESTAMP,
  appointment_at TIMESTAMP,
  arrived_at TIMESTAMP,
  completed_at TIMESTAMP,
  assignee_id BIGINT,
  location VARCHAR,
  labor_hours DECIMAL(12,3),
  charge DECIMAL(12,2),
  completion_minutes DOUBLE PRECISION, -- completed_at − reported_at less the pauses before completion
  previous_completed_at TIMESTAMP,  -- same household and category, completed before this report
  repeat_reported_at TIMESTAMP,     -- same household and category, first reported after this completion
  linked_at TIMESTAMP,              -- first order whose rework_of is this one, reported
  visits INTEGER,
  score_sum INTEGER,
  scores INTEGER,
  first_visit_at TIMESTAMP,
  rework_visit_at TIMESTAMP,        -- first visit asking for rework
  last_visit_at TIMESTAMP
);
-- One definition for both backends: lines starting `-- postgres: ` are PostgreSQL's own
-- (app/postgres.py migration_sql), the key, so refreshing an order is a look-up there.
-- postgres: ALTER TABLE work_order_facts ADD PRIMARY KEY (work_order_id);
