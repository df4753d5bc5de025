"""Storage: the one place that opens the database, migrates it and runs SQL.

Reads run on a cursor per thread; writes go through one serialized writer, each in a
transaction. Nothing else opens connections.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import zoneinfo
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pandas as pd

from app import registers
from app.registers.model import Register

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"
DEFAULT_DB = "data/wuye.duckdb"
DEFAULT_TIMEZONE = "Asia/Shanghai"


class DatabaseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


def q(identifier: str) -> str:
    """Quote an identifier that comes from a register definition or a view name."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
        raise ValueError(f"not an identifier: {identifier!r}")
    return '"' + identifier + '"'


def database_url(cli_value: str | None = None) -> str:
    return cli_value or os.environ.get("WUYE_DB") or DEFAULT_DB


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension from its pip package (no download is possible here)."""
    module = __import__(f"duckdb_extension_{name}")
    base = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = base / f"{name}.duckdb_extension"
    con.execute("INSTALL '" + str(path).replace("'", "''") + "'")
    con.execute("LOAD " + q(name))


def _busy_message(path: str, err: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(err))
    holder = f"（进程号 {pid.group(1)}）" if pid else ""
    return (
        f"数据库文件 {path} 正被另一个程序{holder}占用，通常是正在运行的 `wuye serve`。"
        "DuckDB 文件同一时间只能由一个程序打开：请先停止该程序再运行此命令，"
        "或在浏览器里的应用中完成操作；多人同时使用请改用 PostgreSQL（--db postgresql://…）。"
    )


class Database:
    """One DuckDB database (a file or :memory:)."""

    def __init__(self, url: str = DEFAULT_DB, read_only: bool = False):
        self.url = url
        self.read_only = read_only
        self._write_lock = threading.RLock()
        self._local = threading.local()
        if url != ":memory:":
            Path(url).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(url, read_only=read_only)
        except duckdb.IOException as err:
            if "lock" in str(err).lower():
                raise DatabaseBusy(_busy_message(url, err)) from None
            raise
        self.timezone = DEFAULT_TIMEZONE
        self._apply_timezone()

    # -- connections -------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self._con.cursor()
            cur.execute("SET TimeZone = '" + self.timezone + "'")
        return cur

    def close(self) -> None:
        self._con.close()

    def _apply_timezone(self) -> None:
        tz = DEFAULT_TIMEZONE
        if self.table_exists("settings"):
            row = self._con.execute(
                "SELECT value FROM settings WHERE key = 'office.timezone' "
                "AND community_id IS NULL AND deleted_at IS NULL"
            ).fetchone()
            if row and row[0] in zoneinfo.available_timezones():
                tz = row[0]
        self.timezone = tz
        self._con.execute("SET TimeZone = '" + tz + "'")
        self._local = threading.local()

    def now(self) -> datetime:
        """The office's local time, without zone (moments are stored that way)."""
        return datetime.now(zoneinfo.ZoneInfo(self.timezone)).replace(tzinfo=None, microsecond=0)

    # -- reading -----------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query; DECIMAL stays Decimal and DATE stays date (via Arrow, not .df())."""
        rel = self.cursor().execute(sql, params or [])
        return rel.arrow().read_all().to_pandas()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.cursor().execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.cursor().execute(sql, params or []).fetchone()
        return row[0] if row else None

    def table_exists(self, name: str) -> bool:
        return bool(
            self._con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
                [name],
            ).fetchone()[0]
        )

    def columns_of(self, name: str) -> list[str]:
        return [
            r[0]
            for r in self._con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = 'main' ORDER BY column_index",
                [name],
            ).fetchall()
        ]

    # -- writing -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction at a time; any error rolls everything back."""
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def allocate_ids(self, cur: duckdb.DuckDBPyConnection, table: str, n: int) -> list[int]:
        """The next n free ids of a table, inside the caller's transaction."""
        top = cur.execute("SELECT coalesce(max(id), 0) FROM " + q(table)).fetchone()[0]
        return list(range(top + 1, top + 1 + n))

    # -- schema ------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply migrations, create or extend register tables, (re)create rule views."""
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
            for reg in registers.creation_order():
                applied += self._sync_table(cur, reg, done)
        self._apply_timezone()
        self.create_views()
        return applied

    def _record(self, cur: duckdb.DuckDBPyConnection, version: str, content: bytes) -> None:
        cur.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            [version, self.now(), hashlib.sha256(content).hexdigest()],
        )

    def _sync_table(self, cur, reg: Register, done: set[str]) -> list[str]:
        version = f"register:{reg.name}"
        if not self.table_exists(reg.name):
            cur.execute(create_table_sql(reg))
            if version not in done:
                self._record(cur, version, create_table_sql(reg).encode())
            return [version]
        have = set(self.columns_of(reg.name))
        added = []
        for f in reg.fields:
            if f.name not in have:
                ddl = "ALTER TABLE " + q(reg.name) + " ADD COLUMN " + column_sql(f)
                cur.execute(ddl)
                self._record(cur, f"{version}.{f.name}", ddl.encode())
                added.append(f"{version}.{f.name}")
        return added

    def create_views(self) -> None:
        """Functions first, then every rule view; a view that needs another comes after it."""
        cur = self.cursor()
        for path in sorted((SQL_DIR / "functions").glob("*.sql")):
            cur.execute(path.read_text(encoding="utf-8"))
        pending = sorted((SQL_DIR / "views").glob("*.sql"))
        while pending:
            failed, last_error = [], None
            for path in pending:
                try:
                    cur.execute(path.read_text(encoding="utf-8"))
                except duckdb.CatalogException as err:
                    failed.append(path)
                    last_error = err
            if len(failed) == len(pending):
                raise RuntimeError(f"rule views cannot be created: {last_error}")
            pending = failed


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


def open_database(url: str | None = None, migrate: bool = True, read_only: bool = False) -> Database:
    url = database_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        raise NotImplementedError("PostgreSQL 后端尚未接入")
    db = Database(url, read_only=read_only)
    if migrate and not read_only:
        db.migrate()
    return db
