-- Sign-in attempts (issue 20), written by app/login_throttle.py only. Failures drive the throttle
-- by user name and by client (growing delays instead of a lock-out) and are listed for
-- administrators; a success records the client a user signed in from (their own PC is then not
-- held back by failures from elsewhere). A success or `wuye user unlock` clears a name's failures.
CREATE TABLE IF NOT EXISTS login_attempts (
  id BIGINT PRIMARY KEY,
  attempted_at TIMESTAMP NOT NULL,
  name VARCHAR NOT NULL,          -- the user name as typed, trimmed and lower-cased (unknown names too)
  user_id BIGINT,                 -- NULL: no such user
  client VARCHAR NOT NULL,        -- the client's address as the app sees it ('' from the command line)
  ok BOOLEAN NOT NULL,            -- TRUE: signed in
  cleared_at TIMESTAMP            -- a failure no longer counted: the user signed in, or was unlocked
);
-- One definition for both backends: lines starting `-- postgres: ` are PostgreSQL's own
-- (app/postgres.py migration_sql), indexes, so the throttle is a look-up there.
-- postgres: CREATE INDEX IF NOT EXISTS login_attempts_name ON login_attempts (name, attempted_at);
-- postgres: CREATE INDEX IF NOT EXISTS login_attempts_client ON login_attempts (client, attempted_at);
