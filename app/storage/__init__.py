"""Storage: the one place that opens the database (DuckDB or PostgreSQL), migrates it and runs SQL."""
