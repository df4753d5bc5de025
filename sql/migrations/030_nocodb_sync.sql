-- NocoDB sync state (issue 11), written only by app/nocodb.py.
-- nocodb_tables: one row per register pushed to NocoDB (key = register name) and per intake
-- form (key = 'intake:work_orders' / 'intake:complaints'): where its table lives, its form,
-- and the watermark of the last pull (NocoDB's own clock: the newest CreatedAt/UpdatedAt seen).
CREATE TABLE IF NOT EXISTS nocodb_tables (
  sync_key VARCHAR PRIMARY KEY,
  nocodb_url VARCHAR NOT NULL,
  base_id VARCHAR NOT NULL,
  table_id VARCHAR NOT NULL,
  form_view_id VARCHAR,
  form_uuid VARCHAR,
  watermark VARCHAR,
  last_push_at TIMESTAMP,
  last_pull_at TIMESTAMP
);
-- nocodb_rows: the id mapping, one row per NocoDB record. synced_version is wuye's row_version
-- when the row was last pushed or pulled (a pull with a newer local version is a conflict);
-- synced_values the NocoDB cells then (JSON), to tell which cells were edited in NocoDB;
-- rejected the hash of cells a pull refused, so they are not tried again until edited.
CREATE TABLE IF NOT EXISTS nocodb_rows (
  sync_key VARCHAR NOT NULL,
  nocodb_id BIGINT NOT NULL,
  row_id BIGINT,
  synced_version INTEGER,
  synced_values VARCHAR,
  rejected VARCHAR,
  synced_at TIMESTAMP,
  PRIMARY KEY (sync_key, nocodb_id)
);
CREATE INDEX IF NOT EXISTS nocodb_rows_row ON nocodb_rows (sync_key, row_id);
