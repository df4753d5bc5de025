"""The read-only SQL console: one SELECT, run in a sandbox that holds only what the actor may see.

Each query gets its own in-memory DuckDB (the sandbox). Into it go copies of the register
tables the query names (live rows only, scoped to the actor's communities, personal columns
masked for roles without the right) and the results of the rule views it names, as tables
with the views' names. Then external access is switched off and the configuration locked,
so even a statement that slipped past the statement check could reach no file, extension,
setting or raw table. The raw database is never queried with the user's text.

Statements other than a single SELECT are refused before anything runs; a timer interrupts
a query after the time limit, and at most `row_limit` rows and `byte_limit` bytes come back:
the result is fetched in batches and fetching stops at the limit, so a query producing
gigabytes never reaches this process's memory as a whole.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa

from app import registers
from app.access.permissions import (
    SQL_CONSOLE,
    Actor,
    can,
    cli_actor,
    mask_sql,
    require,
    sees_personal_data,
)
from app.access.scope import row_filter_sql
from app.analysis import console_errors
from app.reading import views
from app.registers.model import SYSTEM_LABELS, Register
from app.storage import postgres
from app.storage.db import Database, q, sql_literal

ROW_LIMIT = 10_000
BYTE_LIMIT_SETTING = "office.console_result_mb"
BYTE_LIMIT_MB = 50  # when the setting is missing
BYTE_LIMIT = BYTE_LIMIT_MB * 1024 * 1024
BATCH_ROWS = 256  # rows fetched at a time: the byte limit is checked after each batch
TIME_LIMIT = 10.0  # seconds
CLI_TIME_LIMIT = 600.0
MEMORY_LIMIT = "2GB"
RESULT_ALIAS = "_result"

# Why a statement type is refused, in the user's words.
REFUSALS: dict[duckdb.StatementType, str] = {
    duckdb.StatementType.COPY: "不能读写文件（COPY）；导出结果请用「导出 Excel」",
    duckdb.StatementType.COPY_DATABASE: "不能复制数据库（COPY FROM DATABASE）",
    duckdb.StatementType.EXPORT: "不能导出数据库（EXPORT DATABASE）；导出结果请用「导出 Excel」",
    duckdb.StatementType.ATTACH: "不能挂接其他数据库（ATTACH）",
    duckdb.StatementType.DETACH: "不能卸下数据库（DETACH）",
    duckdb.StatementType.LOAD: "不能安装或加载扩展（INSTALL/LOAD）",
    duckdb.StatementType.EXTENSION: "不能安装或更新扩展",
    duckdb.StatementType.SET: "不能修改设置（SET/RESET/USE）",
    duckdb.StatementType.VARIABLE_SET: "不能修改设置（SET VARIABLE）",
    duckdb.StatementType.PRAGMA: "不能执行 PRAGMA",
    duckdb.StatementType.CREATE: "不能建表、建视图或建函数（CREATE）",
    duckdb.StatementType.CREATE_FUNC: "不能建函数（CREATE MACRO/FUNCTION）",
    duckdb.StatementType.DROP: "不能删除表或视图（DROP）",
    duckdb.StatementType.ALTER: "不能修改表结构（ALTER）",
    duckdb.StatementType.INSERT: "只读查询：不能新增数据（INSERT）；请在台账页面录入",
    duckdb.StatementType.UPDATE: "只读查询：不能修改数据（UPDATE）；请在台账页面修改",
    duckdb.StatementType.DELETE: "只读查询：不能删除数据（DELETE）；请在台账页面删除",
    duckdb.StatementType.MERGE_INTO: "只读查询：不能修改数据（MERGE）",
    duckdb.StatementType.CALL: "不能调用过程（CALL）",
    duckdb.StatementType.TRANSACTION: "不能控制事务（BEGIN/COMMIT/ROLLBACK）",
    duckdb.StatementType.VACUUM: "不能整理数据库（VACUUM/CHECKPOINT）",
    duckdb.StatementType.ANALYZE: "不能执行 ANALYZE",
    duckdb.StatementType.PREPARE: "不能预编译语句（PREPARE）",
    duckdb.StatementType.EXECUTE: "不能执行预编译语句（EXECUTE）",
    duckdb.StatementType.EXPLAIN: "不支持 EXPLAIN；只允许查询（SELECT）",
}
ONLY_SELECT = "只允许一条查询语句（SELECT）"
# Words that start a statement DuckDB parses as a SELECT but that we do not allow.
REFUSED_FIRST_WORDS = {"PRAGMA": "不能执行 PRAGMA"}
_LEADING_COMMENTS = re.compile(r"\s*(?:--[^\n]*(?:\n|$)\s*|/\*.*?\*/\s*)*", re.DOTALL)


# Shown in the empty query box of the console.
EXAMPLE_QUERY = "SELECT status, count(*) AS 户数 FROM households GROUP BY status"


class ConsoleError(ValueError):
    """str() is the Chinese message; `detail` is DuckDB's original message, when there was one."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class ReadOnlyViolation(ConsoleError):
    """A statement the console does not run. Nothing ran."""


class QueryFailed(ConsoleError):
    """A permitted query that failed (error, time or memory limit)."""


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]  # DuckDB type of each column, e.g. DECIMAL(12,2)
    arrow: pa.Table
    truncated: bool  # more rows than the row or byte limit: only the first ones are here
    seconds: float
    tables: list[str] = field(default_factory=list)  # sandbox tables the query used
    notice: str = ""  # why the result was cut short, for the user

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as pandas; Decimal and date values kept."""
        return self.arrow.to_pandas()

    @property
    def row_count(self) -> int:
        return self.arrow.num_rows

    def page(self, number: int, size: int) -> pd.DataFrame:
        """One page (1-based) of the rows as pandas."""
        return self.arrow.slice((max(number, 1) - 1) * size, size).to_pandas()

    def rows(self) -> list[tuple]:
        """The rows as tuples of plain Python values (None for NULL)."""
        return list(zip(*(col.to_pylist() for col in self.arrow.columns))) if self.arrow.num_columns else []


@dataclass(frozen=True)
class ConsoleTable:
    """A table the console offers: a register (台账) or a rule view's result (视图)."""

    name: str
    label: str
    kind: str  # 台账 or 视图
    columns: tuple[tuple[str, str], ...]  # (column, Chinese label)


# -- the statement check -----------------------------------------------------------------
def check_read_only(sql: str) -> str:
    """The text of the one SELECT in `sql` (no trailing semicolon); ReadOnlyViolation otherwise."""
    if not sql or not sql.strip():
        raise ReadOnlyViolation("请输入一条查询语句（SELECT）")
    try:
        statements = duckdb.connect(":memory:").extract_statements(sql)
    except duckdb.Error as err:
        raise ReadOnlyViolation(console_errors.explain(err), console_errors.original(err)) from None
    if len(statements) != 1:
        raise ReadOnlyViolation("一次只能执行一条查询语句" if statements else "请输入一条查询语句（SELECT）")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise ReadOnlyViolation(REFUSALS.get(statement.type, ONLY_SELECT))
    text = statement.query.strip().rstrip(";").rstrip()
    # DuckDB hands back PRAGMA x rewritten as a SELECT: look at what the user wrote.
    first = _LEADING_COMMENTS.sub("", sql, count=1).split(None, 1)
    if first and first[0].upper() in REFUSED_FIRST_WORDS:
        raise ReadOnlyViolation(REFUSED_FIRST_WORDS[first[0].upper()])
    return text


def tables_named(sql: str) -> set[str] | None:
    """Lower-case names of the tables a query mentions; None when they cannot be told."""
    try:
        return {name.lower() for name in duckdb.get_table_names(sql)}
    except duckdb.Error:
        return None


# -- what an actor may query -------------------------------------------------------------
# Registers the console leaves out: saved queries have owners (private ones are not shared).
NOT_IN_CONSOLE = {"saved_queries"}


def console_registers(actor: Actor) -> list[Register]:
    """The registers whose rows the actor may see (audit_log and bookkeeping are not registers)."""
    return [reg for reg in registers.catalog().values()
            if reg.name not in NOT_IN_CONSOLE and can(actor, reg.name, "view")]


def console_views(actor: Actor) -> list[str]:
    return [name for name in views.view_names() if can(actor, name, "view")]


def console_tables(db: Database, actor: Actor) -> list[ConsoleTable]:
    """Everything the console can query, with Chinese labels: registers first, then views."""
    found = []
    for reg in sorted(console_registers(actor), key=lambda r: r.name):
        columns = tuple((c, reg.label_of(c)) for c in reg.columns)
        found.append(ConsoleTable(reg.name, reg.label, "台账", columns))
    for name in console_views(actor):
        info = views.view_info(name)
        columns = tuple((c, info.label_of(c)) for c in db.columns_of(name))
        found.append(ConsoleTable(name, info.title, "视图", columns))
    return found


def register_select(reg: Register, actor: Actor) -> tuple[str, list]:
    """The live rows of a register the actor may see, personal columns masked."""
    hide = not sees_personal_data(actor)
    select = []
    for col in reg.columns:
        if col not in SYSTEM_LABELS and hide and reg.field(col).is_personal:
            select.append(mask_sql(reg.field(col).type, "t." + q(col)) + " AS " + q(col))
        else:
            select.append("t." + q(col))
    scope, params = row_filter_sql(reg, "t", actor)
    sql = "SELECT " + ", ".join(select) + " FROM " + q(reg.name) + " t WHERE t.deleted_at IS NULL" + scope
    return sql, params


def view_select(db: Database, actor: Actor, name: str) -> tuple[str, list]:
    """A rule view's rows the actor may see, personal columns masked."""
    sql, params = views.view_query(db, actor, name)
    if sees_personal_data(actor):
        return sql, params
    personal = views.personal_columns()
    columns = db.columns_of(name)
    select = [mask_sql(personal[c], "v." + q(c)) + " AS " + q(c) if c in personal else "v." + q(c)
              for c in columns]
    return "SELECT " + ", ".join(select) + " FROM (" + sql + ") v", params


# -- the sandbox -------------------------------------------------------------------------
class Sandbox:
    """An in-memory DuckDB holding copies of permitted, masked data; no files, no settings.

    Locked from the start: our own code still adds tables (from Arrow objects registered on
    its connection), while user queries run on cursors of their own.
    """

    def __init__(self, db: Database, actor: Actor):
        self.db = db
        self.actor = actor
        self.tables: list[str] = []
        self.load_seconds = 0.0
        self._lock = threading.Lock()
        self.con = duckdb.connect(":memory:", config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        })
        for setting in (
            "SET TimeZone = " + sql_literal(db.timezone),
            "SET enable_progress_bar = false",
            "SET memory_limit = '" + MEMORY_LIMIT + "'",
            "SET max_temp_directory_size = '0KiB'",  # no spilling to disk either
            "SET enable_external_access = false",
            "SET lock_configuration = true",
        ):
            self.con.execute(setting)

    def ensure(self, names: Iterable[str] | None) -> list[str]:
        """Load the permitted tables among `names` (None: all) not loaded yet; the ones loaded now."""
        wanted = None if names is None else {n.lower() for n in names}
        with self._lock:
            have = set(self.tables)
            sources: list[tuple[str, str, list]] = []
            for reg in console_registers(self.actor):
                if reg.name in have or (wanted is not None and reg.name not in wanted):
                    continue
                sources.append((reg.name, *register_select(reg, self.actor)))
            for name in console_views(self.actor):
                if name in have or (wanted is not None and name not in wanted):
                    continue
                sources.append((name, *view_select(self.db, self.actor, name)))
            if not sources:
                return []
            started = time.perf_counter()
            loaded = self._copy_in(sources)
            self.load_seconds += time.perf_counter() - started
            self.tables += loaded
            return loaded

    def _copy_in(self, sources: list[tuple[str, str, list]]) -> list[str]:
        reader = self.db.cursor().cursor()  # a cursor of its own, like a streaming export
        loaded = []
        try:
            reader.execute("SET TimeZone = " + sql_literal(self.db.timezone))
            reader.execute("SET enable_progress_bar = false")  # not on the server's terminal
            for name, sql, params in sources:
                try:
                    batches = reader.execute(sql, params).arrow()
                except (duckdb.CatalogException, duckdb.BinderException):
                    continue  # a table, view or column of a database not migrated yet
                self.con.register("_incoming", batches)
                try:
                    self.con.execute("CREATE TABLE " + q(name) + " AS SELECT * FROM _incoming")
                finally:
                    self.con.unregister("_incoming")
                loaded.append(name)
        finally:
            reader.close()
        return loaded

    def run(self, sql: str, params: list | None = None, row_limit: int | None = ROW_LIMIT,
            time_limit: float | None = TIME_LIMIT, byte_limit: int | None = BYTE_LIMIT) -> QueryResult:
        """Run one checked SELECT (wrapped with the row limit) under the time and byte limits."""
        wrapped = sql
        run_params = list(params or [])
        if row_limit is not None:
            wrapped = "SELECT * FROM (\n" + sql + "\n) AS " + RESULT_ALIAS + " LIMIT ?"
            run_params.append(row_limit + 1)
        cur = self.con.cursor()
        timer = threading.Timer(time_limit, cur.interrupt) if time_limit else None
        started = time.perf_counter()
        try:
            if timer:
                timer.start()
            result = cur.execute(wrapped, run_params)
            types = [str(d[1]) for d in result.description]
            table, over_bytes = _fetch(result.to_arrow_reader(BATCH_ROWS), byte_limit)
        except (duckdb.Error, pa.ArrowException, OSError) as err:  # Arrow's: raised while streaming
            raise QueryFailed(console_errors.explain(err, time_limit, self.offered()),
                              console_errors.original(err)) from None
        finally:
            if timer:
                timer.cancel()
            cur.close()  # stops the query when fetching stopped early
        seconds = time.perf_counter() - started
        notice = ""
        if over_bytes:
            if table.num_rows == 0:
                raise QueryFailed(f"查询结果的第一行就超过 {_mb(byte_limit)} 上限，已停止。"
                                  "请少选几列或截短长文本后再试。")
            notice = (f"结果超过 {_mb(byte_limit)}，只保留前 {table.num_rows:,} 行；"
                      "请少选几列或加筛选条件缩小范围。")
        elif row_limit is not None and table.num_rows > row_limit:
            table = table.slice(0, row_limit)
            notice = f"结果超过 {row_limit:,} 行，只保留前 {row_limit:,} 行；请加筛选条件缩小范围。"
        return QueryResult(list(table.column_names), types, table, bool(notice), seconds, list(self.tables),
                           notice)

    def offered(self) -> list[str]:
        """The names of every table the actor may query (loaded or not)."""
        return [reg.name for reg in console_registers(self.actor)] + console_views(self.actor)

    def close(self) -> None:
        self.con.close()


def _fetch(reader: pa.RecordBatchReader, byte_limit: int | None) -> tuple[pa.Table, bool]:
    """The rows, batch by batch, until the byte limit; (table, whether it was reached).

    The batch crossing the limit is cut to the rows that still fit; nothing after it is fetched.
    """
    batches: list[pa.RecordBatch] = []
    size = 0
    for batch in reader:
        if byte_limit is not None and size + batch.nbytes > byte_limit:
            fits = _rows_within(batch, byte_limit - size)
            if fits:
                batches.append(batch.slice(0, fits))
            return pa.Table.from_batches(batches, reader.schema), True
        size += batch.nbytes
        batches.append(batch)
    return pa.Table.from_batches(batches, reader.schema), False


def _rows_within(batch: pa.RecordBatch, budget: int) -> int:
    """How many leading rows of the batch take at most `budget` bytes (a binary search)."""
    lo, hi = 0, batch.num_rows
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if batch.slice(0, mid).nbytes <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _mb(byte_limit: int | None) -> str:
    return f"{(byte_limit or 0) / 1024 / 1024:g} MB"


def byte_limit_of(db: Database) -> int:
    """The console's result size limit in bytes, from the setting (50 MB when unset or invalid)."""
    try:
        text = db.scalar("SELECT value FROM settings WHERE key = ? AND community_id IS NULL "
                         "AND deleted_at IS NULL", [BYTE_LIMIT_SETTING])
        mb = float(text) if text not in (None, "") else BYTE_LIMIT_MB
    except (duckdb.Error, ValueError, TypeError):
        mb = BYTE_LIMIT_MB
    return int(mb * 1024 * 1024) if mb > 0 else BYTE_LIMIT


def data_version(db: Database) -> tuple:
    """Changes with every audited write (the save path audits each) and with the date."""
    sql = "SELECT max(id) FROM audit_log"
    try:
        if db.is_postgres:
            top = postgres.rows(db.cursor(), sql)[0][0]  # natively: DuckDB would scan the log
        else:
            top = db.scalar(sql)
    except duckdb.Error:  # not migrated yet
        top = None
    return top, db.now().date(), db.timezone


_CACHE_SIZE = 4
_cache: OrderedDict[tuple, tuple[tuple, Sandbox]] = OrderedDict()
_cache_lock = threading.Lock()


def sandbox_for(db: Database, actor: Actor, names: Iterable[str] | None = None) -> Sandbox:
    """The actor's sandbox for the current data, with `names` loaded (None: every table).

    Kept per database and actor while no audited write happened and the day is the same,
    so a second query over a large register does not copy it again.
    """
    key = (id(db), db.url, actor.user, actor.role, actor.communities, actor.grants, actor.personal_data)
    version = data_version(db)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == version:
            box = cached[1]
            _cache.move_to_end(key)
        else:
            box = Sandbox(db, actor)
            _cache[key] = (version, box)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)  # closed when its last query ends
    box.ensure(names)
    return box


def clear_sandboxes() -> None:
    with _cache_lock:
        _cache.clear()


# -- public API --------------------------------------------------------------------------
def run_query(db: Database, actor: Actor, sql: str, row_limit: int | None = ROW_LIMIT,
              time_limit: float | None = TIME_LIMIT, byte_limit: int | None | str = "setting") -> QueryResult:
    """Check `sql` is one SELECT, then run it in the actor's sandbox (with the tables it names).

    `byte_limit`: the result size limit in bytes; by default the office's setting, None: none.
    """
    require(actor, SQL_CONSOLE, "view", "查询控制台")
    text = check_read_only(sql)
    limit = byte_limit_of(db) if byte_limit == "setting" else byte_limit
    box = sandbox_for(db, actor, tables_named(text))
    return box.run(text, row_limit=row_limit, time_limit=time_limit, byte_limit=limit)


def run_read_only(db: Database, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple]]:
    """For `wuye sql`: the command-line user's console (管理员); ReadOnlyViolation on any failure."""
    try:
        # the command line asks for the rows it wants: no row or size limit unless given
        result = run_query(db, cli_actor(), sql, row_limit=limit, time_limit=CLI_TIME_LIMIT, byte_limit=None)
    except QueryFailed as err:
        raise ReadOnlyViolation(str(err), err.detail) from None
    return result.columns, result.rows()
