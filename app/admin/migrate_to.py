"""`wuye migrate-to postgresql://…`: copy every table of a DuckDB file into PostgreSQL, verified.

The target is migrated first (the same schema, in native PostgreSQL DDL); then every table
is copied in one transaction through DuckDB (the source file attached read-only), id
sequences are moved past the copied ids, and each table's row count and checksum are
compared between source and target. A checksum is the md5 of the sorted md5s of the rows,
each row written as text column by column, so any changed value, row or type shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from app.saving import derived
from app.storage import postgres
from app.storage.db import Database, DatabaseBusy, open_database, q

SOURCE = "src"


class MigrationRefused(RuntimeError):
    """Nothing was copied; the message says why (in Chinese, for the user)."""


@dataclass
class TableReport:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


def checksum_sql(table: str, columns: list[str], catalog: str | None) -> str:
    """count(*) and an order-independent checksum of the given columns of one table.

    Without a catalog the plain table name is read (the one the app's queries see).
    """
    cells = ", ".join(
        "CASE WHEN " + q(c) + " IS NULL THEN 'N' ELSE 'V' || CAST(" + q(c) + " AS VARCHAR) END"
        for c in columns
    )
    return (
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), md5('')) FROM ("
        "SELECT md5(concat_ws(chr(31), " + cells + ")) AS h FROM " + (catalog + "." if catalog else "") + q(table) + ")"
    )


def _source_tables(cur: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in cur.execute(
        "SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t "
        "USING (database_name, schema_name, table_name) WHERE c.database_name = ? "
        "AND c.schema_name = 'main' ORDER BY c.table_name, c.column_index",
        [SOURCE],
    ).fetchall():
        found.setdefault(table, []).append(column)
    return {t: cols for t, cols in found.items() if t != "schema_migrations" and t not in derived.tables()}


def migrate_to(source: str, target_url: str, replace: bool = False) -> list[TableReport]:
    """Copy the DuckDB file `source` into the PostgreSQL database `target_url`; report per table."""
    if postgres.is_postgres_url(source):
        raise MigrationRefused("源数据库应为 DuckDB 文件（--db 路径），不能是 PostgreSQL 地址")
    if not postgres.is_postgres_url(target_url):
        raise MigrationRefused("目标应为 PostgreSQL 地址，例如 postgresql://用户@主机:5432/库名")
    if not Path(source).is_file():
        raise MigrationRefused(f"找不到源数据库文件 {source}")
    db = open_database(target_url)
    try:
        return _copy_and_verify(db, source, replace)
    finally:
        db.close()


def _copy_and_verify(db: Database, source: str, replace: bool) -> list[TableReport]:
    cur = db.cursor()
    try:
        cur.execute("ATTACH " + postgres.literal(str(Path(source).resolve())) + " AS " + SOURCE + " (READ_ONLY)")
    except duckdb.IOException as err:
        if "lock" in str(err).lower():
            raise DatabaseBusy(
                f"数据库文件 {source} 正被另一个程序（通常是 `wuye serve`）占用：请先停止它再迁移，"
                "以免迁移时还有人在改数据。"
            ) from None
        raise
    try:
        tables = _source_tables(cur)
        target: dict[str, list[str]] = {t: [] for t in tables}
        for t, c in db.pg_columns():  # one query: asked per table, a hundred tables take minutes
            if t in target:
                target[t].append(c)
        missing = [t for t, cols in target.items() if not cols]
        if missing:
            raise MigrationRefused(
                "目标库没有这些表：" + "、".join(missing) + "。源数据库可能来自更新的 wuye 版本，请先升级。"
            )
        for t, cols in tables.items():
            extra = [c for c in cols if c not in target[t]]
            if extra:
                raise MigrationRefused(f"目标表 {t} 缺少列：{'、'.join(extra)}")
        filled = {t: n for t in tables if (n := db.scalar("SELECT count(*) FROM " + q(t)))}
        if filled and not replace:
            raise MigrationRefused(
                "目标库已有数据（" + "，".join(f"{t} {n} 行" for t, n in filled.items())
                + "）。确认要用源文件覆盖时，加 --replace 重新运行。"
            )
        with db.transaction() as tx:
            if filled:
                postgres.execute(tx, "TRUNCATE " + ", ".join(q(t) for t in filled))
            for t, cols in tables.items():
                names = ", ".join(q(c) for c in cols)
                tx.execute("INSERT INTO " + postgres.ALIAS + ".public." + q(t) + " (" + names + ") "
                           "SELECT " + names + " FROM " + SOURCE + ".main." + q(t))
        db.sync_sequences()
        derived.rebuild(db)
        reports = []
        for t, cols in tables.items():
            src_rows, src_sum = cur.execute(checksum_sql(t, cols, SOURCE + ".main")).fetchone()
            dst_rows, dst_sum = cur.execute(checksum_sql(t, cols, postgres.ALIAS + ".public")).fetchone()
            reports.append(TableReport(t, src_rows, dst_rows, src_sum, dst_sum))
        return reports
    finally:
        cur.execute("DETACH " + SOURCE)


def report_text(reports: list[TableReport]) -> str:
    width = max([len(r.table) for r in reports] + [4])
    lines = [f"{'表':<{width - 1}}  {'源行数':>9}  {'目标行数':>8}  {'校验和（md5 前 12 位）':<22}  结果"]
    for r in reports:
        same = r.source_checksum == r.target_checksum
        digest = r.source_checksum[:12] + ("" if same else " ≠ " + r.target_checksum[:12])
        lines.append(f"{r.table:<{width}}  {r.source_rows:>12,}  {r.target_rows:>12,}  {digest:<28}  "
                     + ("一致" if r.ok else "不一致"))
    bad = [r.table for r in reports if not r.ok]
    total = sum(r.source_rows for r in reports)
    lines.append(
        f"共 {len(reports)} 张表、{total:,} 行："
        + ("全部一致。" if not bad else f"{len(bad)} 张表不一致（{'、'.join(bad)}），请检查后加 --replace 重新迁移。")
    )
    return "\n".join(lines)
