-- Rule parameters from the settings table (REGULATIONS.md). A row for a community
-- overrides the row for all communities (community_id NULL) there.
CREATE OR REPLACE MACRO setting_text(k, cid) AS (
  SELECT value FROM settings
  WHERE key = k AND deleted_at IS NULL AND (community_id = cid OR community_id IS NULL)
  ORDER BY community_id NULLS LAST
  LIMIT 1
);
CREATE OR REPLACE MACRO setting_int(k, cid) AS (CAST(setting_text(k, cid) AS BIGINT));
CREATE OR REPLACE MACRO setting_num(k, cid) AS (CAST(setting_text(k, cid) AS DOUBLE));
CREATE OR REPLACE MACRO setting_money(k, cid) AS (CAST(setting_text(k, cid) AS DECIMAL(12,2)));
