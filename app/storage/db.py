"""Storage: the one place that opens the database, migrates it and runs SQL.

Reads run on a cursor per thread; writes go through one serialized writer, each in a
transaction. Nothing else opens connections. Two backends behind one class: a DuckDB file
(the default), or a PostgreSQL database attached through DuckDB's postgres extension
(`app.storage.postgres`), where DuckDB still runs every query and rule view.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import threading
import time
import weakref
import zoneinfo
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from app import registers
from app.registers.model import Register, q  # q: the one identifier quoting (re-exported)
from app.storage import postgres
from app.storage.postgres import load_extension  # noqa: F401  (re-exported: the excel extension too)

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql"
DEFAULT_DB = "data/wuye.duckdb"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# A DuckDB file's commits first land in `<file>.wal`; a checkpoint writes them into the file
# itself. At most this long after a commit they are checkpointed (when no other transaction is
# under way), and always when the process ends normally (SIGTERM, Ctrl+C), so a copy of the
# file alone, made after a normal stop, holds every save.
CHECKPOINT_SECONDS = 60.0


# The office's own register definitions (app/registers/custom.py), merged into the catalog.
CUSTOM_DEFINITIONS = "SELECT name, kind, definition FROM custom_definitions ORDER BY name"


class DatabaseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


class DatabaseUnavailable(DatabaseBusy):
    """The PostgreSQL server cannot be reached (a DatabaseBusy, so callers say it plainly)."""


# DuckDB files open for writing in this process: their logs are written into the files when the
# process ends normally (atexit), or when the web server shuts down (app/server.py), since a
# server stopped by SIGTERM re-raises the signal after its shutdown and atexit never runs.
_open_files: weakref.WeakSet = weakref.WeakSet()


def checkpoint_open_files() -> None:
    """The end of the process: every open DuckDB file's log into the file (bounded in time)."""
    for database in list(_open_files):
        database._checkpoint_at_exit()


atexit.register(checkpoint_open_files)


class StorageFailed(RuntimeError):
    """The disk is full (or a file size limit reached): the transaction was rolled back whole."""


# How DuckDB and the OS say a write did not fit (ENOSPC, EFBIG).
_STORAGE_FULL = re.compile(r"No space left|File too large|Could not write file|disk (is )?full", re.I)


def _storage_message(err: Exception) -> str:
    return ("保存失败：磁盘空间不足（或文件超过系统允许的大小），这次的修改没有保存，数据库保持修改前的状态。"
            f"请清理磁盘空间后重新保存。（{str(err).splitlines()[0]}）")


class StatementFailedInTransaction(RuntimeError):
    """A statement failed inside a transaction and its caller went on: all was rolled back."""


@functools.cache
def _timezones() -> frozenset[str]:
    """The zone names this machine knows (a walk over the zone files: once per process)."""
    return frozenset(zoneinfo.available_timezones())


def database_url(cli_value: str | None = None) -> str:
    return cli_value or os.environ.get("WUYE_DB") or DEFAULT_DB


def _busy_message(path: str, err: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(err))
    holder = f"（进程号 {pid.group(1)}）" if pid else ""
    return (
        f"数据库文件 {path} 正被另一个程序{holder}占用，通常是正在运行的 `wuye serve`。"
        "DuckDB 文件同一时间只能由一个程序打开：请先停止该程序再运行此命令，"
        "或在浏览器里的应用中完成操作；多人同时使用请改用 PostgreSQL（--db postgresql://…）。"
    )


def _unreachable_message(url: str, err: Exception) -> str:
    text = postgres.hide_password(str(err).strip(), url)
    first = text.splitlines()[0] if text else type(err).__name__
    return (
        f"无法连接 PostgreSQL 数据库 {postgres.redacted(url)}：{first}。"
        "请确认数据库服务已启动、地址、端口、用户名和密码正确，且该数据库已创建（createdb）。"
    )


class Database:
    """One database: a DuckDB file (or :memory:), or a PostgreSQL URL attached as `pg`."""

    def __init__(self, url: str = DEFAULT_DB, read_only: bool = False):
        self.url = url
        self.read_only = read_only
        self.is_postgres = postgres.is_postgres_url(url)
        self.backend = "postgres" if self.is_postgres else "duckdb"
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._native: list = []  # psycopg connections of query_page, closed with the database
        self.migrated: list[str] = []  # migrations this process applied to it (Database.migrate)
        if not self.is_postgres and url != ":memory:":
            _opened(url)
        if self.is_postgres:
            self._con = duckdb.connect(":memory:")
            try:
                postgres.attach(self._con, url, read_only=read_only)
            except duckdb.Error as err:
                self._con.close()
                raise DatabaseUnavailable(_unreachable_message(url, err)) from None
        else:
            if url != ":memory:":
                Path(url).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._con = duckdb.connect(url, read_only=read_only)
            except duckdb.IOException as err:
                if "lock" in str(err).lower():
                    raise DatabaseBusy(_busy_message(url, err)) from None
                raise
        self._checkpointed = time.monotonic()
        self._closed = False
        self._cursors: weakref.WeakSet = weakref.WeakSet()  # every thread's cursor, for the exit
        if not self.is_postgres and not read_only and url != ":memory:":
            _open_files.add(self)
        self.timezone = DEFAULT_TIMEZONE
        self._apply_timezone()

    def __repr__(self) -> str:
        return f"Database({postgres.redacted(self.url)!r})"

    # -- connections -------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            if self.is_postgres:
                postgres.prepare(cur)
                cur = _PreparedCursor(cur, self)
            cur.execute("SET TimeZone = " + sql_literal(self.timezone))
            self._local.cur = cur
            self._cursors.add(cur)
        return cur

    def checkpoint(self, force: bool = False) -> bool:
        """Write a DuckDB file's log into the file (no-op on PostgreSQL); False if it could not
        be done now (another transaction under way), unless `force`."""
        if self.is_postgres or self.read_only or self.url == ":memory:" or self._closed:
            return False
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error:
            if not force:
                return False
            self._con.execute("FORCE CHECKPOINT")  # ends transactions still open: at exit only
        self._checkpointed = time.monotonic()
        return True

    def _checkpoint_at_exit(self) -> None:
        """At a normal end of the process (Streamlit stops on SIGTERM and SIGINT, then exits):
        the log into the file. A cursor left by a page's thread with a result not read to the
        end holds a transaction, which makes CHECKPOINT fail and FORCE CHECKPOINT wait forever
        (measured): each cursor's transaction is ended first. Connections are not closed (with
        other threads' cursors alive DuckDB then aborts the process at teardown, measured), and
        the checkpoint gets a bounded time, so a stop never hangs on it."""
        for cur in list(self._cursors):
            try:
                cur.execute("ROLLBACK")  # ends a pending result's transaction too
            except duckdb.Error:
                pass  # no transaction was open
        worker = threading.Thread(target=self._flush_log, name="wuye-exit-checkpoint", daemon=True)
        worker.start()
        worker.join(timeout=30)

    def _flush_log(self, force: bool = True) -> None:
        # a save under way may hold the writer: wait for it a little, then go on regardless
        locked = self._write_lock.acquire(timeout=10)
        try:
            self.checkpoint(force=force)
        except duckdb.Error:
            pass  # the log stays; DuckDB replays it when the file is next opened
        finally:
            if locked:
                self._write_lock.release()

    def close(self) -> None:
        """Close for good; a DuckDB file is checkpointed first, so the file alone holds everything."""
        if self._closed:
            return
        # Not forced: another thread's cursor may still hold a transaction (a page run's unread
        # result), and FORCE CHECKPOINT then waits forever; the log is replayed at the next open.
        self._flush_log(force=False)
        self._closed = True
        for conn in self._native:
            conn.close()
        if self.is_postgres:
            for alias in (postgres.ALIAS, postgres.ADMIN_ALIAS):
                try:  # ends the extension's pooled PostgreSQL sessions now
                    self._con.execute("DETACH DATABASE IF EXISTS " + alias)
                except duckdb.Error:
                    pass
        self._con.close()

    def is_retryable(self, err: BaseException) -> bool:
        """A concurrency failure (PostgreSQL only) after which the whole save may run again."""
        return self.is_postgres and postgres.is_retryable(err)

    def _apply_timezone(self) -> None:
        tz = DEFAULT_TIMEZONE
        if self.table_exists("settings"):
            row = self._con.execute(
                "SELECT value FROM settings WHERE key = 'office.timezone' "
                "AND community_id IS NULL AND deleted_at IS NULL"
            ).fetchone()
            if row and row[0] in _timezones():
                tz = row[0]
        self.timezone = tz
        self._con.execute("SET TimeZone = " + sql_literal(tz))
        self._local = threading.local()

    def now(self) -> datetime:
        """The office's local time, without zone (moments are stored that way)."""
        return datetime.now(zoneinfo.ZoneInfo(self.timezone)).replace(tzinfo=None, microsecond=0)

    # -- reading -----------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query; DECIMAL stays Decimal and DATE stays date (via Arrow, not .df())."""
        rel = self.cursor().execute(sql, params or [])
        return rel.arrow().read_all().to_pandas()

    def query_page(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """A plain SELECT over register tables, as fast as the backend allows.

        On PostgreSQL it runs on the server itself (psycopg): DuckDB's scanner does not push
        ORDER BY/LIMIT down, so a sorted first page of a big table would copy the table.
        The SQL must be valid in both dialects (identifiers, ILIKE, concat_ws, CAST, LIMIT).
        """
        if not self.is_postgres:
            return self.query(sql, params)
        conn = getattr(self._local, "native", None)
        if conn is None or conn.closed:
            import psycopg

            conn = self._local.native = psycopg.connect(self.url, autocommit=True)
            self._native.append(conn)
        with conn.cursor() as cur:
            cur.execute(sql.replace("%", "%%").replace("?", "%s"), list(params or []))
            names = [d.name for d in cur.description]
            return pd.DataFrame.from_records(cur.fetchall(), columns=names)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.cursor().execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.cursor().execute(sql, params or []).fetchone()
        return row[0] if row else None

    def table_exists(self, name: str) -> bool:
        if self.is_postgres and name in {t for t, _ in self.pg_columns()}:
            return True  # asked natively: DuckDB caches the attached schema
        return bool(
            self._con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
                "AND database_name = current_database()",
                [name],
            ).fetchone()[0]
        )

    def columns_of(self, name: str) -> list[str]:
        """Columns of a table or a view (on PostgreSQL: tables there, views in memory)."""
        if self.is_postgres:
            found = [c for t, c in self.pg_columns() if t == name]
            if found:
                return found
        return [
            r[0]
            for r in self._con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = 'main' AND database_name = current_database() ORDER BY column_index",
                [name],
            ).fetchall()
        ]

    def pg_columns(self, cur: duckdb.DuckDBPyConnection | None = None,
                   alias: str = postgres.ALIAS) -> list[tuple[str, str]]:
        """(table, column) of every table in PostgreSQL's public schema, in column order."""
        # The catalog itself: information_schema's views take a second per query here, this
        # takes milliseconds, and the database is opened by every command, page run and test.
        return postgres.rows(
            cur or self.cursor(),
            "SELECT c.relname::text, a.attname::text FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
            alias,
        )

    # -- writing -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction at a time; any error rolls everything back.

        After a failed statement an attached PostgreSQL transaction is void, yet a later
        COMMIT reports success; so a caller that catches such an error and goes on gets an
        exception at the end rather than a silent rollback.
        """
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            guarded = _GuardedCursor(cur)
            try:
                yield guarded  # type: ignore[misc]
                if guarded.failure is not None:
                    raise StatementFailedInTransaction(
                        f"事务中有语句失败，整个事务已回滚：{guarded.failure}"
                    ) from guarded.failure
                cur.execute("COMMIT")
                if guarded.changed_rows:
                    _changed(self.url)
            except BaseException as err:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # a failed COMMIT has already ended the transaction
                if isinstance(err, duckdb.Error) and _STORAGE_FULL.search(str(err)):
                    raise StorageFailed(_storage_message(err)) from err
                raise
            if time.monotonic() - self._checkpointed > CHECKPOINT_SECONDS:
                self.checkpoint()  # committed already: a checkpoint not possible now is tried later

    def allocate_ids(self, cur: duckdb.DuckDBPyConnection, table: str, n: int) -> list[int]:
        """The next n free ids of a table, inside the caller's transaction."""
        if self.is_postgres:
            return postgres.next_ids(cur, table, n)
        top = cur.execute("SELECT coalesce(max(id), 0) FROM " + q(table)).fetchone()[0]
        return list(range(top + 1, top + 1 + n))

    def sync_sequences(self) -> None:
        """Move PostgreSQL id sequences past ids written explicitly (a bulk copy); DuckDB: no-op."""
        if self.is_postgres:
            with self._write_lock:
                postgres.execute(self.cursor(), postgres.SYNC_SEQUENCES)

    # -- schema ------------------------------------------------------------------------
    def migrate(self, views: bool = True) -> list[str]:
        """Apply migrations, create or extend register tables, (re)create rule views."""
        if self.is_postgres:
            applied = self._migrate_postgres()
        else:
            applied = self._migrate_duckdb()
        self.migrated += applied  # a derived table created now is filled by its opener (app.saving.derived)
        self.create_functions()  # the SQL functions the derived tables and the views use
        self._apply_timezone()
        if views:
            self._create_rule_views(applied)
        return applied

    def _migrate_duckdb(self) -> list[str]:
        applied: list[str] = []
        with self.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version VARCHAR PRIMARY KEY, applied_at TIMESTAMP, checksum VARCHAR)"
            )
            done = {r[0] for r in cur.execute("SELECT version FROM schema_migrations").fetchall()}
            for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
                if path.stem in done:
                    continue
                cur.execute(path.read_text(encoding="utf-8"))
                self._record(cur, path.stem, path.read_bytes())
                applied.append(path.stem)
            registers.load_custom(cur.execute(CUSTOM_DEFINITIONS).fetchall())  # issue 12
            columns: dict[str, set[str]] = {}
            for table, column in cur.execute(  # all at once: a catalog query per table adds seconds
                "SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t "
                "USING (database_name, schema_name, table_name) "
                "WHERE c.schema_name = 'main' AND c.database_name = current_database()"
            ).fetchall():
                columns.setdefault(table, set()).add(column)
            new_columns: list[tuple[str, str]] = []
            for reg in registers.creation_order():
                applied += self._sync_table(cur, reg, done, columns.get(reg.name), new_columns)
        # A column per transaction: DuckDB refuses to commit a transaction that altered one table
        # twice ("another transaction has altered this table"), so a release adding two fields
        # to a register could not open an existing file.
        for version, ddl in new_columns:
            with self.transaction() as cur:
                cur.execute(ddl)
                self._record(cur, version, ddl.encode())
            applied.append(version)
        with self.transaction() as cur:  # after the columns they may name
            for reg in registers.creation_order():
                for sql in postgres.unique_index_sql(reg).values():
                    cur.execute(sql)
        return applied

    def _record(self, cur: duckdb.DuckDBPyConnection, version: str, content: bytes) -> None:
        cur.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            [version, self.now(), hashlib.sha256(content).hexdigest()],
        )

    def _sync_table(self, cur, reg: Register, done: set[str], have: set[str] | None,
                    new_columns: list[tuple[str, str]]) -> list[str]:
        """Create the register's table, or list the fields its table lacks (`have`: its columns)
        in `new_columns` as (version, DDL) for the caller to add."""
        version = f"register:{reg.name}"
        if have is None:
            cur.execute(create_table_sql(reg))
            if version not in done:
                self._record(cur, version, create_table_sql(reg).encode())
            return [version]
        new_columns += [(f"{version}.{f.name}", "ALTER TABLE " + q(reg.name) + " ADD COLUMN " + column_sql(f))
                        for f in reg.fields if f.name not in have]
        return []

    def _migrate_postgres(self) -> list[str]:
        """The same steps in native PostgreSQL SQL: one process at a time, all or nothing."""
        applied: list[str] = []
        admin = postgres.ADMIN_ALIAS

        def run(sql: str) -> None:
            postgres.execute(cur, sql, admin)

        def record(version: str, content: bytes) -> None:
            # Bookkeeping of our own names and hashes: literals, as in DDL.
            values = (version, self.now().isoformat(sep=" "), hashlib.sha256(content).hexdigest())
            run(
                "INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ("
                + ", ".join(postgres.literal(v) for v in values) + ")"
            )

        with self._write_lock:
            cur = self._con.cursor()
            postgres.prepare(cur)
            cur.execute("BEGIN TRANSACTION")
            try:
                run(f"SELECT pg_advisory_xact_lock({postgres.MIGRATION_LOCK})")
                run(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version text PRIMARY KEY, applied_at timestamp, checksum text)"
                )
                done = {r[0] for r in postgres.rows(cur, "SELECT version FROM schema_migrations", admin)}
                for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
                    if path.stem in done:
                        continue
                    sql = postgres.migration_sql(path)
                    run(sql)
                    record(path.stem, sql.encode())
                    applied.append(path.stem)
                registers.load_custom(postgres.rows(cur, CUSTOM_DEFINITIONS, admin))  # issue 12
                columns = self.pg_columns(cur, admin)
                indexes = {r[0] for r in postgres.rows(
                    cur, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'", admin)}
                upkeep: list[str] = []
                tables = {t for t, _ in columns}
                for reg in registers.creation_order():
                    version = f"register:{reg.name}"
                    if reg.name not in tables:
                        ddl = postgres.create_table_sql(reg)
                        run(ddl)
                        if version not in done:
                            record(version, ddl.encode())
                        applied.append(version)
                    else:
                        have = {c for t, c in columns if t == reg.name}
                        for f in reg.fields:
                            if f.name not in have:
                                ddl = "ALTER TABLE " + q(reg.name) + " ADD COLUMN " + postgres.column_sql(f)
                                run(ddl)
                                record(f"{version}.{f.name}", ddl.encode())
                                applied.append(f"{version}.{f.name}")
                    # only missing ones: CREATE INDEX locks out writers even when it exists
                    upkeep += [sql for name, sql in postgres.index_sql(reg).items() if name not in indexes]
                upkeep += [
                    postgres.SYNC_SEQUENCES,
                    postgres.SET_TIMEZONE.format(tz=postgres.literal(self._office_timezone(cur))),
                ]
                run(";\n".join(upkeep))  # idempotent; one round trip
                cur.execute("COMMIT")
            except BaseException:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise
            finally:
                cur.execute("CALL pg_clear_cache()")  # DuckDB caches the attached schema
                cur.close()
        return applied

    def load_custom(self) -> None:
        """Merge this database's own definitions into the catalog (done by `migrate` too)."""
        if self.table_exists("custom_definitions"):
            registers.load_custom(self.rows(CUSTOM_DEFINITIONS))

    def _office_timezone(self, cur: duckdb.DuckDBPyConnection) -> str:
        try:
            found = postgres.rows(
                cur,
                "SELECT value FROM settings WHERE key = 'office.timezone' "
                "AND community_id IS NULL AND deleted_at IS NULL",
                postgres.ADMIN_ALIAS,
            )
        except duckdb.Error:  # no settings table yet
            return DEFAULT_TIMEZONE
        tz = found[0][0] if found else None
        return tz if tz in _timezones() else DEFAULT_TIMEZONE

    def create_functions(self) -> None:
        """The SQL functions (sql/functions) the derived tables and the rule views use."""
        cur = self.cursor()
        for path in sorted((SQL_DIR / "functions").glob("*.sql")):
            cur.execute(path.read_text(encoding="utf-8"))

    def create_views(self) -> None:
        """Functions first, then every rule view; a view that needs another comes after it.

        On PostgreSQL they live in this process's DuckDB memory catalog, over the attached
        tables (the search path finds them), so the same SQL runs on both backends.
        """
        self.create_functions()
        self._create_rule_views()

    def _create_rule_views(self, applied: list[str] | None = None) -> None:
        """Every rule view; in a DuckDB file, only when they or the tables changed since the last
        time (the file keeps them, and creating a hundred views takes seconds at every start)."""
        cur = self.cursor()
        pending = sorted((SQL_DIR / "views").glob("*.sql"))
        kept = not self.is_postgres and not applied and applied is not None
        content = b"".join(p.name.encode() + p.read_bytes() for p in pending)
        checksum = hashlib.sha256(content).hexdigest()
        if kept and cur.execute("SELECT count(*) FROM schema_migrations WHERE version = ? AND checksum = ?",
                                [VIEWS_VERSION, checksum]).fetchone()[0]:
            return
        pending = _VIEW_ORDER.get(checksum, pending)  # learnt once per process: no failed attempts
        created: list[Path] = []
        while pending:
            failed, last_error = [], None
            for path in pending:
                try:
                    cur.execute(path.read_text(encoding="utf-8"))
                    created.append(path)
                except (duckdb.CatalogException, duckdb.BinderException) as err:
                    # not there yet, or still the older definition of a database made before
                    failed.append(path)
                    last_error = err
            if len(failed) == len(pending):
                raise RuntimeError(f"rule views cannot be created: {last_error}")
            pending = failed
        _VIEW_ORDER[checksum] = created
        if applied is not None and not self.is_postgres:
            with self.transaction() as tx:
                tx.execute("DELETE FROM schema_migrations WHERE version = ?", [VIEWS_VERSION])
                self._record(tx, VIEWS_VERSION, content)


# The order in which the rule views were created (each after the views it reads), per checksum
# of their files: on PostgreSQL they are made at every open, in this process's memory.
_VIEW_ORDER: dict[str, list[Path]] = {}
VIEWS_VERSION = "rule_views"  # schema_migrations row: the checksum of the rule views a DuckDB file holds


class _PreparedCursor:
    """A PostgreSQL-mode cursor whose own cursors get the search path and time zone too.

    Settings are per DuckDB connection; code that opens a cursor of its own (a streaming
    export) would otherwise not find the attached tables by their plain names.
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection, db: Database):
        self._cur = cur
        self._db = db

    def cursor(self) -> _PreparedCursor:
        child = self._cur.cursor()
        postgres.prepare(child)
        child.execute("SET TimeZone = " + sql_literal(self._db.timezone))
        return _PreparedCursor(child, self._db)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class _GuardedCursor:
    """A transaction's cursor that remembers a failed statement (see `Database.transaction`)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection):
        self._cur = cur
        self.failure: BaseException | None = None
        self.changed_rows = False  # set by the audit writer: register rows were written

    def execute(self, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        try:
            return self._cur.execute(*args, **kwargs)
        except duckdb.Error as err:
            self.failure = self.failure or err
            raise

    def executemany(self, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        try:
            return self._cur.executemany(*args, **kwargs)
        except duckdb.Error as err:
            self.failure = self.failure or err
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def column_sql(f: registers.Field) -> str:
    sql = q(f.name) + " " + f.sql_type
    if f.default is not None:
        sql += " DEFAULT " + sql_literal(f.default)
    return sql


def sql_literal(value: Any) -> str:
    """A literal for DDL defaults only (values in DML are always parameters)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def create_table_sql(reg: Register) -> str:
    cols = ["id BIGINT PRIMARY KEY", *(column_sql(f) for f in reg.fields)]
    cols += [
        "created_at TIMESTAMP DEFAULT localtimestamp",
        "updated_at TIMESTAMP DEFAULT localtimestamp",
        "row_version INTEGER DEFAULT 1",
        "deleted_at TIMESTAMP",
    ]
    return "CREATE TABLE " + q(reg.name) + " (\n  " + ",\n  ".join(cols) + "\n)"


# -- the data's version, for caches of figures ----------------------------------------------
# A DuckDB file is held by one process at a time, and every change of register rows passes the
# audit writer inside a transaction: so (opens of the file in this process, committed
# transactions that changed rows) names the data's version. A write by another process needs the
# file released and opened again, which counts as an open. Sessions' own bookkeeping is no change.
_versions: dict[str, list[int]] = {}
_versions_lock = threading.Lock()


def _opened(url: str) -> None:
    with _versions_lock:
        _versions.setdefault(os.path.abspath(url), [0, 0])[0] += 1


def _changed(url: str) -> None:
    with _versions_lock:
        _versions.setdefault(os.path.abspath(url), [0, 0])[1] += 1


def data_version(db: Database) -> tuple | None:
    """What changes with every committed change of rows in a DuckDB file; None where another
    process may write meanwhile (PostgreSQL) or nothing names the data (`:memory:`)."""
    if db.is_postgres or db.url == ":memory:":
        return None
    path = os.path.abspath(db.url)
    with _versions_lock:
        return (path, *_versions.get(path, (0, 0)))


def open_database(url: str | None = None, migrate: bool = True, read_only: bool = False) -> Database:
    """The database at a DuckDB path or a postgresql:// URL (default: --db, WUYE_DB, data/)."""
    url = database_url(url)
    db = Database(url, read_only=read_only)
    if migrate and not read_only:
        db.migrate()
    else:
        db.load_custom()
    if not (migrate and not read_only) and db.is_postgres and db.table_exists("schema_migrations"):
        # Rule views live in each process's memory catalog: make them without migrating too
        # (a read-only console). A database not migrated yet (an empty one before `wuye init`)
        # has none: its functions and views need tables that are not there yet.
        try:
            db.create_views()
        except (RuntimeError, duckdb.Error):
            pass
    return db


def in_list(values) -> tuple[str, list]:
    """`(?, ?, …)` and its parameters for `col IN …`.

    Spelled out rather than `IN (SELECT unnest(?))`, because DuckDB passes only this form
    down to an attached PostgreSQL (otherwise it copies the whole table to filter it).
    """
    values = list(values)
    if not values:
        return "(NULL)", []
    return "(" + ", ".join("?" * len(values)) + ")", values


def rows_in(cur, sql: str, values: list) -> list[tuple]:
    """Rows of `sql` ending in `… IN `, for these values (none: no rows, no query)."""
    if not values:
        return []
    placeholders, params = in_list(values)
    return cur.execute(sql + placeholders, params).fetchall()


def column_in(cur, sql: str, values: list) -> list:
    """The first column of `rows_in`."""
    return [r[0] for r in rows_in(cur, sql, values)]
