"""The read-only SQL console: only one SELECT runs, in a sandbox of permitted, masked copies."""

from __future__ import annotations

import duckdb
import pytest

from app.access.permissions import Actor, mask_value
from app.analysis import sql_console
from app.analysis.sql_console import QueryFailed, ReadOnlyViolation, run_query
from app.saving.changes import RowChange, apply_changes

REPAIRER_IN_SUNNY = Actor("李师傅", role="维修", communities=(1,))
REPAIRER = Actor("李师傅", role="维修")
ID_SUNNY = "11010519491231002X"
ID_LAKE = "110101199003071233"


def insert(db, actor, register, rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def estate(db, actor):
    """Two communities: 阳光花园 (id 1) with two flats and owners, 翠湖苑 (id 2) with one."""
    insert(db, actor, "communities", [{"name": "阳光花园"}, {"name": "翠湖苑"}])
    insert(db, actor, "buildings", [{"community_id": 1, "code": "1"}, {"community_id": 2, "code": "1"}])
    insert(db, actor, "households", [
        {"community_id": 1, "building_id": 1, "code": "1-1-101", "area": "89.50", "status": "已入住"},
        {"community_id": 1, "building_id": 1, "code": "1-1-102", "area": "100.00", "status": "空置"},
        {"community_id": 2, "building_id": 2, "code": "1-1-101", "area": "75.00", "status": "已入住"},
    ])
    insert(db, actor, "owners", [
        {"household_id": 1, "name": "张三", "phone": "13812345678", "id_number": ID_SUNNY},
        {"household_id": 3, "name": "王五", "phone": "13987654321", "id_number": ID_LAKE},
    ])
    sql_console.clear_sandboxes()
    yield db
    sql_console.clear_sandboxes()


def fingerprint(db) -> tuple:
    """What a hostile statement must not change: tables, their rows, the audit trail, settings."""
    tables = db.rows(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1"
    )
    return (
        tables,
        db.rows("SELECT id, status, area FROM households ORDER BY id"),
        db.rows("SELECT id, name, phone FROM owners ORDER BY id"),
        db.scalar("SELECT count(*) FROM audit_log"),
        db.rows("SELECT key, value FROM settings ORDER BY key, community_id"),
    )


# Each is refused before it runs (ReadOnlyViolation) or fails inside the sandbox (QueryFailed).
HOSTILE = [
    ("COPY households TO '{tmp}/out.csv'", ReadOnlyViolation, "COPY"),
    ("COPY (SELECT * FROM owners) TO '{tmp}/owners.parquet' (FORMAT parquet)", ReadOnlyViolation, "COPY"),
    ("COPY households FROM '{tmp}/in.csv'", ReadOnlyViolation, "COPY"),
    ("EXPORT DATABASE '{tmp}/dump'", ReadOnlyViolation, "EXPORT"),
    ("ATTACH '{tmp}/other.duckdb' AS other", ReadOnlyViolation, "ATTACH"),
    ("DETACH memory", ReadOnlyViolation, "DETACH"),
    ("SELECT * FROM read_csv('/etc/passwd')", QueryFailed, "不能访问文件"),
    ("SELECT * FROM read_text('/etc/passwd')", QueryFailed, "不能访问文件"),
    ("SELECT * FROM read_blob('/etc/passwd')", QueryFailed, "不能访问文件"),
    ("SELECT * FROM '/etc/passwd'", QueryFailed, "没有名为 /etc/passwd 的表"),
    ("SELECT * FROM glob('/etc/*')", QueryFailed, "不能访问文件"),
    ("SELECT * FROM read_parquet('{tmp}/x.parquet')", QueryFailed, "不能访问文件"),
    ("INSTALL httpfs", ReadOnlyViolation, "INSTALL"),
    ("LOAD postgres", ReadOnlyViolation, "LOAD"),
    ("SET enable_external_access = true", ReadOnlyViolation, "SET"),
    ("RESET lock_configuration", ReadOnlyViolation, "SET"),
    ("SET VARIABLE secret = 1", ReadOnlyViolation, "SET"),
    ("USE system", ReadOnlyViolation, "SET"),
    ("PRAGMA database_list", ReadOnlyViolation, "PRAGMA"),
    ("/* hidden */ PRAGMA show_tables", ReadOnlyViolation, "PRAGMA"),
    ("PRAGMA memory_limit = '100GB'", ReadOnlyViolation, "SET"),
    ("CREATE TABLE stolen AS SELECT * FROM owners", ReadOnlyViolation, "CREATE"),
    ("CREATE OR REPLACE VIEW households AS SELECT 1 AS id", ReadOnlyViolation, "CREATE"),
    ("CREATE MACRO leak() AS 1", ReadOnlyViolation, "CREATE"),
    ("DROP TABLE households", ReadOnlyViolation, "DROP"),
    ("ALTER TABLE households ADD COLUMN x INTEGER", ReadOnlyViolation, "ALTER"),
    ("UPDATE households SET status = '空置'", ReadOnlyViolation, "UPDATE"),
    ("INSERT INTO households (id, community_id, code) VALUES (99, 1, 'x')", ReadOnlyViolation, "INSERT"),
    ("DELETE FROM owners", ReadOnlyViolation, "DELETE"),
    ("TRUNCATE owners", ReadOnlyViolation, "DELETE"),
    ("MERGE INTO households h USING households s ON h.id = s.id WHEN MATCHED THEN DELETE",
     ReadOnlyViolation, "MERGE"),
    ("CALL pragma_version()", ReadOnlyViolation, "CALL"),
    ("CHECKPOINT", ReadOnlyViolation, "CALL"),
    ("VACUUM", ReadOnlyViolation, "VACUUM"),
    ("BEGIN TRANSACTION", ReadOnlyViolation, "事务"),
    ("PREPARE p AS SELECT 1", ReadOnlyViolation, "PREPARE"),
    ("EXPLAIN ANALYZE DELETE FROM owners", ReadOnlyViolation, "EXPLAIN"),
    ("SELECT 1; DROP TABLE households", ReadOnlyViolation, "一条"),
    ("SELECT 1; SELECT 2", ReadOnlyViolation, "一条"),
    ("SELECT * FROM audit_log", QueryFailed, "audit_log"),
    ("SELECT * FROM schema_migrations", QueryFailed, "schema_migrations"),
    ("SELECT * FROM saved_queries", QueryFailed, "saved_queries"),
    ("SELECT * FROM query('SELECT * FROM audit_log')", QueryFailed, "audit_log"),
    ("SELECT * FROM pg.public.owners", QueryFailed, "没有名为 pg 的数据库"),
    ("SELECT * FROM postgres_query('pg', 'SELECT * FROM owners')", QueryFailed, "查询失败"),
    ("SELECT * FROM read_xlsx('{tmp}/x.xlsx')", QueryFailed, "查询失败"),
    ("SELECT getenv('HOME')", QueryFailed, "没有函数 getenv"),
    ("SELECT * FROM duckdb_secrets()", QueryFailed, "不能访问文件"),
    ("SELECT * FROM range(1000000000) a, range(1000000000) b", QueryFailed, "内存"),
    ("SELEC * FROM households", ReadOnlyViolation, "语法错误"),
    ("", ReadOnlyViolation, "请输入"),
]


@pytest.mark.parametrize("statement, error, words", HOSTILE, ids=[h[0][:40] or "empty" for h in HOSTILE])
def test_hostile_statement_is_refused_with_no_effect(estate, actor, tmp_path, statement, error, words):
    target = tmp_path / "target"
    target.mkdir()
    before = fingerprint(estate)
    with pytest.raises(error) as caught:
        run_query(estate, actor, statement.format(tmp=target))
    assert words in str(caught.value)
    assert "Error" not in str(caught.value).split("：")[0]  # a Chinese message first
    assert fingerprint(estate) == before
    assert list(target.iterdir()) == []


def test_hostile_statements_number_at_least_twenty():
    assert len(HOSTILE) >= 20


def test_sandbox_has_external_access_off_and_configuration_locked(estate, actor):
    result = run_query(estate, actor, "SELECT current_setting('enable_external_access') AS ext, "
                                      "current_setting('lock_configuration') AS locked")
    assert result.rows() == [(False, True)]


def test_a_query_that_runs_too_long_is_stopped(estate, actor):
    with pytest.raises(QueryFailed, match="超过 0.5 秒"):
        run_query(estate, actor, "SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000) b",
                  time_limit=0.5)
    assert run_query(estate, actor, "SELECT count(*) FROM households").rows() == [(3,)]


def test_rows_beyond_the_row_limit_are_cut_and_said(estate, actor):
    result = run_query(estate, actor, "SELECT * FROM range(1000) a, range(1000) b", row_limit=5000)
    assert result.row_count == 5000 and result.truncated
    small = run_query(estate, actor, "SELECT * FROM households ORDER BY id DESC", row_limit=5000)
    assert small.row_count == 3 and not small.truncated
    assert [r[0] for r in small.rows()] == [3, 2, 1]  # the query's order survives the limit


def test_phones_and_id_numbers_are_masked_for_a_repairer(estate):
    result = run_query(estate, REPAIRER, "SELECT name, phone, id_number FROM owners ORDER BY id")
    assert result.rows() == [
        ("张三", "138****5678", "110***********002X"),
        ("王五", "139****4321", "110***********1233"),
    ]
    # a query cannot get around the mask: the sandbox never held the full numbers
    found = run_query(estate, REPAIRER, "SELECT count(*) FROM owners WHERE phone = '13812345678'")
    assert found.rows() == [(0,)]


def test_an_office_manager_sees_phones_in_full(estate, actor):
    result = run_query(estate, actor, "SELECT phone FROM owners ORDER BY id")
    assert result.rows() == [("13812345678",), ("13987654321",)]


@pytest.mark.parametrize("value", ["", "1", "123456", "1234567", "12345678", "13812345678",
                                   "11010519491231002X", "ab中文cdefgh"])
@pytest.mark.parametrize("kind", ["phone", "id_number"])
def test_masking_in_sql_matches_mask_value(kind, value):
    sql = "SELECT " + sql_console.mask_sql(kind, "$1")
    assert duckdb.connect().execute(sql, [value]).fetchone()[0] == mask_value(kind, value)


def test_a_community_scoped_actor_sees_only_their_community(estate):
    assert run_query(estate, REPAIRER_IN_SUNNY, "SELECT code FROM households ORDER BY id").rows() == [
        ("1-1-101",), ("1-1-102",)]
    assert run_query(estate, REPAIRER_IN_SUNNY, "SELECT name FROM owners").rows() == [("张三",)]
    assert run_query(estate, REPAIRER_IN_SUNNY, "SELECT name FROM communities").rows() == [("阳光花园",)]
    assert run_query(estate, REPAIRER_IN_SUNNY, "SELECT count(*) FROM buildings").rows() == [(1,)]
    overview = run_query(estate, REPAIRER_IN_SUNNY, "SELECT community_id FROM v_community_overview")
    assert overview.rows() == [(1,)]
    assert run_query(estate, REPAIRER, "SELECT count(*) FROM households").rows() == [(3,)]


def test_deleted_rows_are_not_in_the_sandbox(estate, actor):
    apply_changes(estate, actor, "owners", [RowChange("delete", 2)])
    assert run_query(estate, actor, "SELECT name FROM owners").rows() == [("张三",)]


def test_rule_views_are_tables_named_like_the_views(estate, actor):
    result = run_query(estate, actor, "SELECT community_id, households FROM v_community_overview ORDER BY 1")
    assert result.rows() == [(1, 2), (2, 1)]
    assert result.tables == ["v_community_overview"]  # only what the query names is copied


def test_the_sandbox_is_kept_until_an_audited_write(estate, actor):
    first = sql_console.sandbox_for(estate, actor, ["households"])
    assert sql_console.sandbox_for(estate, actor, ["owners"]) is first
    assert set(first.tables) == {"households", "owners"}
    insert(estate, actor, "households", [{"community_id": 2, "code": "1-1-102", "area": "60.00", "status": "空置"}])
    assert sql_console.sandbox_for(estate, actor, ["households"]) is not first
    assert run_query(estate, actor, "SELECT count(*) FROM households").rows() == [(4,)]


def test_sandboxes_are_not_shared_between_actors(estate, actor):
    assert sql_console.sandbox_for(estate, actor) is not sql_console.sandbox_for(estate, REPAIRER)


def test_console_tables_list_registers_and_views_with_labels(estate, actor):
    tables = {t.name: t for t in sql_console.console_tables(estate, actor)}
    assert tables["households"].label == "房屋档案" and tables["households"].kind == "台账"
    assert ("status", "状态") in tables["households"].columns
    assert tables["v_stock_balance"].kind == "视图"
    assert "audit_log" not in tables and "saved_queries" not in tables


def test_typed_values_come_back_as_python_values(estate, actor):
    from datetime import date
    from decimal import Decimal

    result = run_query(estate, actor, "SELECT area, DATE '2024-03-05' AS d FROM households WHERE id = 1")
    assert result.rows() == [(Decimal("89.50"), date(2024, 3, 5))]
    assert result.types == ["DECIMAL(10,2)", "DATE"]


def test_read_only_for_the_command_line_returns_columns_and_rows(estate):
    columns, rows = sql_console.run_read_only(estate, "SELECT code FROM households ORDER BY id LIMIT 1")
    assert (columns, rows) == (["code"], [("1-1-101",)])
    with pytest.raises(ReadOnlyViolation):
        sql_console.run_read_only(estate, "SELECT * FROM audit_log")
