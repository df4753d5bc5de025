"""Running the office's installation: backups, moving to PostgreSQL, designing registers."""
