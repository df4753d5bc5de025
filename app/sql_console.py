"""Read-only SQL for the console and `wuye sql`: one SELECT statement, nothing else."""

from __future__ import annotations

import duckdb

from app.db import Database

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class ReadOnlyViolation(ValueError):
    pass


def check_read_only(db: Database, sql: str) -> None:
    try:
        statements = db.cursor().extract_statements(sql)
    except duckdb.ParserException as err:
        raise ReadOnlyViolation(f"SQL 语法错误：{err}") from None
    if len(statements) != 1:
        raise ReadOnlyViolation("一次只能执行一条查询语句")
    if statements[0].type not in ALLOWED:
        raise ReadOnlyViolation("只允许查询（SELECT），不能修改数据；修改请在台账中进行")


def run_read_only(db: Database, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple]]:
    check_read_only(db, sql)
    try:
        res = db.cursor().execute(sql)
        rows = res.fetchmany(limit) if limit else res.fetchall()
    except duckdb.Error as err:
        raise ReadOnlyViolation(f"查询失败：{str(err).splitlines()[0]}") from None
    return [d[0] for d in res.description], rows
