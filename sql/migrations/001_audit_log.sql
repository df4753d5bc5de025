-- The audit trail: one row per changed register row (and one per export).
-- Written only by the save path (app/changes.py) and the export service, never edited.
CREATE TABLE audit_log (
  id BIGINT PRIMARY KEY,
  change_id VARCHAR NOT NULL,      -- one change set (a grid save, an import) shares it
  changed_at TIMESTAMP NOT NULL,   -- office local time
  actor VARCHAR NOT NULL,          -- user name
  actor_role VARCHAR,
  source VARCHAR,                  -- 网格 / 导入 / 命令行 / 同步 / 任务
  register VARCHAR NOT NULL,
  row_id BIGINT,
  action VARCHAR NOT NULL,         -- 新增 / 修改 / 删除 / 导出
  old_values VARCHAR,              -- JSON of the row before (NULL for 新增)
  new_values VARCHAR,              -- JSON of the row after (NULL for 删除 only when nothing changed)
  note VARCHAR
);
