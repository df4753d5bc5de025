-- What the complaint rules need, kept by the save path (app/complaint_facts.py) in the same
-- transaction as the write that changes it, never edited by hand.
-- complaint_facts: per complaint, copies of its fields and moments and its two deadlines in working
-- days (sql/views/v_complaint_sla.sql), which depend on the holidays calendar and the
-- complaint.*_workdays settings: a write of either refreshes every complaint.
-- complaint_counts: per community × month × category, v_complaint_stats's counts with everything
-- recorded; complaint_stats_as_of takes out what was recorded after its cut-off (last_at says which).
-- Derived data: not in backups; rebuilt after a restore or a migration (`wuye derived rebuild`).
CREATE TABLE IF NOT EXISTS complaint_facts (
  complaint_id BIGINT NOT NULL,
  community_id BIGINT,
  complaint_no VARCHAR,
  household_id BIGINT,
  location VARCHAR,
  category VARCHAR,
  is_valid BOOLEAN,
  status VARCHAR,
  responsible_id BIGINT,
  month VARCHAR,                    -- 'YYYY-MM' of received_at
  received_at TIMESTAMP,
  handled_at TIMESTAMP,
  feedback_at TIMESTAMP,
  deadline DATE,                    -- the given deadline, else complaint.handle_workdays after receipt
  feedback_deadline DATE,           -- complaint.feedback_workdays after handled_at
  last_at TIMESTAMP                 -- the latest of received_at, handled_at, feedback_at
);
CREATE TABLE IF NOT EXISTS complaint_counts (
  community_id BIGINT,
  month VARCHAR,
  category VARCHAR,
  received BIGINT,
  valid BIGINT,
  handled BIGINT,
  on_time BIGINT,
  fed_back BIGINT
);
-- One definition for both backends: lines starting `-- postgres: ` are PostgreSQL's own
-- (app/postgres.py migration_sql), keys and indexes, so refreshing a complaint or recounting a
-- group is a look-up there.
-- postgres: ALTER TABLE complaint_facts ADD PRIMARY KEY (complaint_id);
-- postgres: CREATE INDEX IF NOT EXISTS complaint_counts_group ON complaint_counts (community_id, month, category);
-- postgres: CREATE INDEX IF NOT EXISTS complaint_facts_group ON complaint_facts (community_id, month);
