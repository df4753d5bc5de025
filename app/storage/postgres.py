"""PostgreSQL backend specifics: the attach, native DDL and SQL, and which errors to retry.

DuckDB stays the query engine: each process attaches the PostgreSQL database through
DuckDB's postgres extension as `pg` and keeps rule views and macros in its own memory
catalog; plain table names resolve to `pg.public` through the search path, so the same
SQL runs on both backends. Schema changes run in native PostgreSQL SQL (the extension
refuses sequences and most ALTERs), through `postgres_execute`. Measured behaviour of the
extension (1.5.5) is in docs/POSTGRES.md.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb

from app.registers.model import Field, Register, q

ALIAS = "pg"
# A second attach for migrations: READ COMMITTED, so that after waiting for the migration
# lock a statement sees what another process committed meanwhile. Never used for saves:
# through DuckDB an UPDATE computes new values client-side, and only REPEATABLE READ (the
# extension's default) turns a concurrent update of the same row into an error instead of
# a lost update (measured).
ADMIN_ALIAS = "pg_admin"
# Plain table names find the PostgreSQL tables; CREATE VIEW/MACRO/TABLE without a catalog
# lands in memory (under `pg` a view would be created in PostgreSQL from the raw text).
SEARCH_PATH = "memory.main," + ALIAS + ".public"
MIGRATION_LOCK = 7_726_578  # pg_advisory_xact_lock key: one migrating process at a time

RETRYABLE = (
    "could not serialize access",  # REPEATABLE READ: a concurrent update of the same row
    "deadlock detected",
    "_pkey",  # duplicate key on a primary key: two processes took the same new id
)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def hide_password(text: str, url: str) -> str:
    """A message (an error quoting the URL) with the URL's password masked."""
    password = urlsplit(url).password
    text = text.replace(url, redacted(url))
    return text.replace(password, "***") if password else text


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension from its pip package (no download is possible here)."""
    module = __import__(f"duckdb_extension_{name}")
    base = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = base / f"{name}.duckdb_extension"
    con.execute("INSTALL " + literal(str(path)))
    con.execute("LOAD " + q(name))


def attach(con: duckdb.DuckDBPyConnection, url: str, read_only: bool = False) -> None:
    """Attach the database as `pg` (and `pg_admin` for migrations) and point the search path at it."""
    load_extension(con, "postgres")
    target = literal(url)
    mode = ", READ_ONLY" if read_only else ""
    # ATTACH takes no parameters: the URL goes in as a quoted literal
    con.execute("ATTACH " + target + " AS " + ALIAS + " (TYPE postgres, SCHEMA 'public'" + mode + ")")
    if not read_only:
        con.execute(
            f"ATTACH {target} AS {ADMIN_ALIAS} "
            "(TYPE postgres, SCHEMA 'public', ISOLATION_LEVEL 'READ COMMITTED')"
        )
    prepare(con)


def prepare(cur: duckdb.DuckDBPyConnection) -> None:
    """Settings every connection (cursor) needs: plain table names resolve to PostgreSQL."""
    cur.execute("USE memory")
    cur.execute("SET search_path = " + literal(SEARCH_PATH))


def execute(cur: duckdb.DuckDBPyConnection, sql: str, alias: str = ALIAS) -> None:
    """Run native PostgreSQL SQL (inside the caller's DuckDB transaction, if any)."""
    cur.execute("CALL postgres_execute(" + literal(alias) + ", ?)", [sql])


def rows(cur: duckdb.DuckDBPyConnection, sql: str, alias: str = ALIAS) -> list[tuple]:
    """Run a native PostgreSQL SELECT; filter its result in DuckDB with parameters."""
    return cur.execute("SELECT * FROM postgres_query(" + literal(alias) + ", ?)", [sql]).fetchall()


def is_retryable(err: BaseException) -> bool:
    """A concurrency failure after which running the whole transaction again may succeed."""
    while err is not None:
        if isinstance(err, duckdb.Error) and any(text in str(err) for text in RETRYABLE):
            return True
        err = err.__cause__
    return False


# -- native DDL ---------------------------------------------------------------------------
def literal(value: Any) -> str:
    """A literal for native DDL and bookkeeping only (values in DML are always parameters)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def native_type(duckdb_type: str) -> str:
    """PostgreSQL type for a DuckDB column type of a register field."""
    t = duckdb_type.strip().upper()
    if m := re.fullmatch(r"(?:DECIMAL|NUMERIC)\s*\((\d+)\s*,\s*(\d+)\)", t):
        return f"numeric({m.group(1)},{m.group(2)})"
    if t in ("DECIMAL", "NUMERIC"):  # without precision it would arrive as DOUBLE
        return "numeric(18,3)"
    return {
        "VARCHAR": "text",
        "TEXT": "text",
        "BIGINT": "bigint",
        "INTEGER": "integer",
        "SMALLINT": "smallint",
        "DOUBLE": "double precision",
        "FLOAT": "real",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "TIMESTAMPTZ": "timestamptz",
        "TIME": "time",
        "UUID": "uuid",
        "JSON": "jsonb",
        "BLOB": "bytea",
    }.get(t, t.lower())


def column_sql(f: Field) -> str:
    sql = q(f.name) + " " + native_type(f.sql_type)
    if f.default is not None:
        sql += " DEFAULT " + literal(f.default)
    return sql


def create_table_sql(reg: Register) -> str:
    cols = ["id bigint PRIMARY KEY", *(column_sql(f) for f in reg.fields)]
    cols += [
        "created_at timestamp DEFAULT localtimestamp",
        "updated_at timestamp DEFAULT localtimestamp",
        "row_version integer DEFAULT 1",
        "deleted_at timestamp",
    ]
    return "CREATE TABLE " + q(reg.name) + " (\n  " + ",\n  ".join(cols) + "\n)"


def index_sql(reg: Register) -> dict[str, str]:
    """Indexes PostgreSQL needs (DuckDB does without), by name: the grid order, each reference."""
    on_table = q(reg.name)
    order = list(reg.order_columns)
    keys = ", ".join(q(c) + (" DESC NULLS LAST" if desc else "") for c, desc in reg.order_keys)
    # A mixed-direction order needs its own index; its name says which order, so a database made
    # before the definition changed gets the new index when it is next opened.
    name = reg.name + "_order_idx"
    if any(desc for _, desc in reg.order_keys):
        name = reg.name + "_order_" + hashlib.sha1(keys.encode()).hexdigest()[:8] + "_idx"
    out = {name: f"CREATE INDEX IF NOT EXISTS {q(name)} ON {on_table} ({keys})"}
    for f in reg.refs():
        if order[0] != f.name:
            name = reg.name + "_" + f.name + "_idx"
            out[name] = f"CREATE INDEX IF NOT EXISTS {q(name)} ON {on_table} ({q(f.name)})"
    return out | unique_index_sql(reg)


def unique_index_sql(reg: Register) -> dict[str, str]:
    """Unique indexes of a register whose definition says `unique_index = true` (both backends).

    Only for registers whose rows are never deleted (bills, receipts): the save path's check of
    `unique` skips soft-deleted rows, which a plain unique index (DuckDB has no partial ones)
    would not.
    """
    if not reg.extra.get("unique_index"):
        return {}
    out = {}
    for cols in reg.unique:
        name = reg.name + "_" + "_".join(cols) + "_key"
        out[name] = (f"CREATE UNIQUE INDEX IF NOT EXISTS {q(name)} ON {q(reg.name)} ("
                     + ", ".join(q(c) for c in cols) + ")")
    return out


POSTGRES_ONLY = "-- postgres: "  # a migration's line that only PostgreSQL runs (a key, an index)


def migration_sql(path: Path) -> str:
    """A migration as PostgreSQL runs it: one file for both backends, its `-- postgres: ` lines
    (comments to DuckDB) taken in, so a table's columns are written once."""
    return "\n".join(line.removeprefix(POSTGRES_ONLY) for line in path.read_text(encoding="utf-8").splitlines())


# Every table with an integer `id` gets a sequence `<table>_id_seq`, at least max(id)
# (found in pg_catalog: information_schema takes a second, and this runs at every start):
# new ids come from it, so concurrent writers (and the audit log every save appends to)
# do not collide on max(id) + 1, and no save scans a whole table for its maximum.
SYNC_SEQUENCES = """
DO $$
DECLARE
  r record;
  top bigint;
  seq text;
BEGIN
  FOR r IN
    SELECT c.relname::text AS table_name FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attname = 'id'
      AND NOT a.attisdropped AND a.atttypid IN ('bigint'::regtype, 'integer'::regtype)
  LOOP
    seq := quote_ident(r.table_name || '_id_seq');
    EXECUTE 'CREATE SEQUENCE IF NOT EXISTS ' || seq;
    EXECUTE format('SELECT coalesce(max(id), 0) FROM %I', r.table_name) INTO top;
    IF top > coalesce(pg_sequence_last_value(seq::regclass), 0) THEN
      PERFORM setval(seq::regclass, top);
    END IF;
  END LOOP;
END $$
"""

# Stored moments are office local time without zone; let PostgreSQL's own defaults
# (`DEFAULT localtimestamp`) agree. Needs ownership of the database, hence best effort.
SET_TIMEZONE = """
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), {tz});
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$
"""


def next_ids(cur: duckdb.DuckDBPyConnection, table: str, n: int) -> list[int]:
    """n new ids of a table from its sequence, never below ids already in the table.

    One round trip. A table made outside the migrations has no sequence yet (the next
    migration adds one): its ids are max(id) + 1, a collision then being retried.
    """
    if n <= 0:
        return []
    seq = literal(q(table + "_id_seq"))
    found = rows(
        cur,
        f"SELECT nextval(to_regclass({seq})) AS id, "
        f"(SELECT coalesce(max(id), 0) FROM {q(table)}) AS top "
        f"FROM generate_series(1, {int(n)})",
    )
    top = found[0][1]
    ids = [r[0] for r in found]
    if ids[0] is not None and ids[0] > top:
        return ids
    if ids[0] is not None:  # rows were written with ids beyond the sequence (kept on import)
        execute(cur, f"SELECT setval({seq}, {int(top) + n})")
    return list(range(top + 1, top + 1 + n))
