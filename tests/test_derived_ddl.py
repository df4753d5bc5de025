"""Each derived table is written once (sql/migrations) for both backends: the same columns with the
same types on DuckDB and PostgreSQL; PostgreSQL adds its keys and indexes from the same file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from app.storage import postgres
from app.storage.db import SQL_DIR

MIGRATIONS = ("050_bill_totals", "060_work_order_facts", "070_complaint_facts", "080_login_attempts")
# PostgreSQL's own lines of those files (hand-listed): a key makes a refresh a look-up there.
POSTGRES_INDEXES = {
    "bill_totals": {"bill_totals_pkey", "bill_totals_household"},
    "work_order_facts": {"work_order_facts_pkey"},
    "complaint_facts": {"complaint_facts_pkey", "complaint_facts_group"},
    "complaint_counts": {"complaint_counts_group"},
    "login_attempts": {"login_attempts_pkey", "login_attempts_name", "login_attempts_client"},
}


def _declared() -> dict[str, list[tuple[str, str]]]:
    """Columns and DuckDB types of the tables as the files declare them, run on a blank DuckDB."""
    con = duckdb.connect()
    for name in MIGRATIONS:
        con.execute((SQL_DIR / "migrations" / f"{name}.sql").read_text(encoding="utf-8"))
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE NOT internal "
            "ORDER BY table_name, column_index"
    ).fetchall():
        out.setdefault(table, []).append((column, type_))
    return out


def test_a_derived_table_has_the_same_columns_and_types_on_both_backends(db):
    declared = _declared()
    assert set(declared) == set(POSTGRES_INDEXES)
    assert ("completion_minutes", "DOUBLE") in declared["work_order_facts"]
    assert ("reduced", "DECIMAL(14,2)") in declared["bill_totals"]
    catalog = "pg" if db.is_postgres else db.scalar("SELECT current_database()")
    for table, columns in declared.items():
        found = db.rows("SELECT column_name, data_type FROM duckdb_columns() "
                        "WHERE database_name = ? AND table_name = ? ORDER BY column_index", [catalog, table])
        assert found == columns, table
    if db.is_postgres:
        indexes = postgres.rows(db.cursor(), "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'")
        for table, wanted in POSTGRES_INDEXES.items():
            assert wanted <= {i for t, i in indexes if t == table}, table


def test_postgres_runs_the_same_file_with_its_own_lines_taken_in(tmp_path: Path):
    path = tmp_path / "090_x.sql"
    path.write_text("CREATE TABLE x (\n  id BIGINT NOT NULL -- key\n);\n"
                    "-- postgres: ALTER TABLE x ADD PRIMARY KEY (id);\n", encoding="utf-8")
    assert postgres.migration_sql(path) == ("CREATE TABLE x (\n  id BIGINT NOT NULL -- key\n);\n"
                                           "ALTER TABLE x ADD PRIMARY KEY (id);")
    duckdb.connect().execute(path.read_text(encoding="utf-8"))  # to DuckDB that line is a comment

