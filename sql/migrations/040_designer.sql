-- Registers, fields and calculated columns defined by the office itself (issue 12), written only
-- by app/designer.py. One row per register: kind 'register' holds a whole register definition
-- (a custom register), kind 'extension' the changes to a built-in one (fields added or changed,
-- `retired` fields, `calculated` columns); `definition` is TOML text in the format of
-- app/registers/definitions/*.toml, loaded by app/registers/custom.py when the database opens.
CREATE TABLE IF NOT EXISTS custom_definitions (
  name VARCHAR PRIMARY KEY,
  kind VARCHAR NOT NULL,
  definition VARCHAR NOT NULL,
  updated_at TIMESTAMP,
  updated_by VARCHAR
);
-- Saved views of a register's grid (app/saved_views.py): filters, sort and visible columns as
-- JSON (`spec`); personal (owner only) or shared; is_default: the view the register opens on
-- (a personal default wins over a shared one).
CREATE TABLE IF NOT EXISTS saved_views (
  id BIGINT PRIMARY KEY,
  register VARCHAR NOT NULL,
  name VARCHAR NOT NULL,
  owner VARCHAR NOT NULL,
  shared BOOLEAN NOT NULL DEFAULT FALSE,
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  spec VARCHAR NOT NULL,
  created_at TIMESTAMP,
  updated_at TIMESTAMP
);
