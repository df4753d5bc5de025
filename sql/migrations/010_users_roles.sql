-- Users, their sessions, roles and the role × register × action matrix (issue 10).
-- Written by app/auth.py and app/permissions.py only; passwords are argon2 hashes, session
-- tokens are stored as their SHA-256 (the token itself lives only in the user's cookie).
CREATE TABLE users (
  id BIGINT PRIMARY KEY,
  name VARCHAR NOT NULL UNIQUE,         -- the login name
  role VARCHAR NOT NULL,                -- a name in roles
  communities VARCHAR,                  -- community ids, comma-separated; NULL: every community
  password_hash VARCHAR NOT NULL,       -- argon2id
  must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TIMESTAMP,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMP NOT NULL,
  password_changed_at TIMESTAMP,
  last_login_at TIMESTAMP
);

CREATE TABLE user_sessions (
  id BIGINT PRIMARY KEY,
  token_hash VARCHAR NOT NULL UNIQUE,
  user_id BIGINT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  last_seen_at TIMESTAMP NOT NULL,
  ended_at TIMESTAMP                    -- log-out, expiry, password change or a disabled user
);

CREATE TABLE roles (
  name VARCHAR PRIMARY KEY,
  description VARCHAR,
  personal_data BOOLEAN NOT NULL,       -- sees phones and ID numbers in full
  read_only BOOLEAN NOT NULL,
  position INTEGER
);

CREATE TABLE role_permissions (
  role VARCHAR NOT NULL,
  register VARCHAR NOT NULL,            -- a register, or rule_views / sql_console
  action VARCHAR NOT NULL,              -- view / add / edit / delete / export / import
  allowed BOOLEAN NOT NULL,
  PRIMARY KEY (role, register, action)
);
