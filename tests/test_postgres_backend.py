"""The PostgreSQL backend: native schema, ids, transactions, views in memory, migrate-to."""

import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from app import registers
from app.admin.migrate_to import MigrationRefused, checksum_sql, migrate_to
from app.saving.changes import RowChange, apply_changes
from app.storage import postgres
from app.storage.db import ROOT, DatabaseUnavailable, StatementFailedInTransaction, open_database


@pytest.fixture
def pg_url(pg_cluster):
    url = pg_cluster.fresh_database()
    yield url
    pg_cluster.dropdb(url.rsplit("/", 1)[1])


@pytest.fixture
def pg_db(pg_url):
    db = open_database(pg_url)
    yield db
    db.close()


@pytest.fixture
def empty_pg_url(pg_cluster):
    """A database with nothing in it (not even migrations)."""
    name = f"empty_{id(object())}"
    url = pg_cluster.createdb(name)
    yield url
    pg_cluster.dropdb(name)


def native(db, sql):
    return postgres.rows(db.cursor(), sql)


def add(db, actor, register, *rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


def test_register_tables_get_native_types_sequences_and_indexes(pg_db):
    types = dict(native(pg_db, "SELECT column_name, format_type(atttypid, atttypmod) FROM "
                               "information_schema.columns c JOIN pg_attribute a ON a.attrelid = "
                               "'households'::regclass AND a.attname = c.column_name "
                               "WHERE c.table_name = 'households'"))
    assert types["id"] == "bigint"
    assert types["area"] == "numeric(10,2)"
    assert types["code"] == "text"
    assert types["handover_date"] == "date"
    assert types["created_at"] == "timestamp without time zone"
    assert types["row_version"] == "integer"
    sequences = {r[0] for r in native(pg_db, "SELECT sequencename FROM pg_sequences")}
    assert {"households_id_seq", "audit_log_id_seq", "settings_id_seq"} <= sequences
    indexes = {r[0] for r in native(pg_db, "SELECT indexname FROM pg_indexes WHERE tablename = 'households'")}
    assert "households_order_idx" in indexes


def test_money_stays_decimal_and_dates_stay_dates(pg_db, actor):
    (community,) = add(pg_db, actor, "communities", {"name": "阳光花园"})
    (hh,) = add(pg_db, actor, "households", {"community_id": community, "code": "1-1-101",
                                             "area": "89.5", "handover_date": "2020-05-01"})
    area, handed, usage = pg_db.rows("SELECT area, handover_date, usage FROM households WHERE id = ?", [hh])[0]
    assert (area, handed) == (Decimal("89.50"), date(2020, 5, 1))
    assert usage == "住宅"  # the field's default, not NULL
    frame = pg_db.query("SELECT area FROM households")
    assert frame["area"].iloc[0] == Decimal("89.50")


def test_migrating_again_changes_nothing(pg_db):
    versions = {r[0] for r in native(pg_db, "SELECT version FROM schema_migrations")}
    assert {"001_audit_log", "register:households"} <= versions
    assert pg_db.migrate() == []


def test_a_new_field_in_a_definition_adds_its_column_on_postgres(pg_url, tmp_path, monkeypatch, actor):
    defs = tmp_path / "defs"
    shutil.copytree(registers.DEFINITIONS, defs)
    text = (defs / "departments.toml").read_text(encoding="utf-8")
    (defs / "departments.toml").write_text(
        text + '\n[[fields]]\nname = "budget"\nlabel = "预算"\ntype = "money"\n', encoding="utf-8")
    monkeypatch.setattr(registers, "DEFINITIONS", defs)
    registers.catalog.cache_clear()
    try:
        db = open_database(pg_url)
        assert "budget" in db.columns_of("departments")
        add(db, actor, "departments", {"name": "工程部", "budget": "1200.5"})
        assert db.rows("SELECT name, budget FROM departments") == [("工程部", Decimal("1200.50"))]
        db.close()
    finally:
        registers.catalog.cache_clear()


def test_rule_views_live_in_memory_not_in_postgres(pg_db, actor):
    add(pg_db, actor, "communities", {"name": "阳光花园"})
    assert pg_db.rows("SELECT community, households FROM v_community_overview") == [("阳光花园", 0)]
    assert native(pg_db, "SELECT count(*) AS n FROM information_schema.views WHERE table_schema = 'public'") == [(0,)]
    assert pg_db.columns_of("v_community_overview")[:2] == ["community_id", "community"]


def test_a_cursor_of_a_cursor_finds_the_tables_too(pg_db):
    child = pg_db.cursor().cursor()
    assert child.execute("SELECT count(*) FROM settings").fetchone()[0] > 0


def test_new_ids_come_from_the_sequence_and_pass_explicit_ids(pg_db, actor):
    (first,) = add(pg_db, actor, "departments", {"name": "工程部"})
    apply_changes(pg_db, actor, "departments", [RowChange("insert", values={"id": 500, "name": "客服部"})])
    (after,) = add(pg_db, actor, "departments", {"name": "保安部"})
    assert first == 1 and after == 501
    audit_ids = [r[0] for r in pg_db.rows("SELECT id FROM audit_log ORDER BY id")]
    assert len(audit_ids) == len(set(audit_ids))


def test_a_swallowed_error_in_a_transaction_is_not_a_silent_commit(db, actor):
    """On PostgreSQL a COMMIT after a failed statement reports success yet writes nothing."""
    with pytest.raises(StatementFailedInTransaction), db.transaction() as cur:
        cur.execute("INSERT INTO departments (id, name) VALUES (90, '工程部')")
        try:
            cur.execute("INSERT INTO departments (id, name) VALUES (90, '重复')")
        except duckdb.Error:
            pass
    assert db.rows("SELECT name FROM departments WHERE id = 90") == []


def test_an_unreachable_server_is_said_plainly_without_the_password():
    with pytest.raises(DatabaseUnavailable) as err:
        open_database("postgresql://wuye:secret@127.0.0.1:1/wuye")
    assert "无法连接 PostgreSQL" in str(err.value)
    assert "secret" not in str(err.value) and "wuye:***@127.0.0.1:1" in str(err.value)


def test_read_only_mode_refuses_writes_even_through_postgres_execute(pg_url):
    db = open_database(pg_url, read_only=True)
    try:
        assert db.scalar("SELECT count(*) FROM v_community_overview") == 0  # views still there
        with pytest.raises(duckdb.Error, match="read-only"):
            db.rows("SELECT * FROM postgres_execute('pg', 'CREATE TABLE x (a int)')")
    finally:
        db.close()


# -- migrate-to -------------------------------------------------------------------------
@pytest.fixture
def office_file(tmp_path, actor):
    """A DuckDB office file with a little of everything, and an audit trail."""
    from app.settings import ensure_defaults

    path = tmp_path / "office.duckdb"
    db = open_database(str(path))
    ensure_defaults(db, actor)
    (sun,) = add(db, actor, "communities", {"name": "阳光花园"})
    ids = add(db, actor, "households",
              {"community_id": sun, "code": "1-1-101", "area": "89.50", "status": "已入住"},
              {"community_id": sun, "code": "1-1-102", "area": "120.25", "note": "含'引号'与,逗号"})
    add(db, actor, "owners", {"household_id": ids[0], "name": "张三", "phone": "13812345678"})
    apply_changes(db, actor, "households", [RowChange("delete", ids[1], version=1)])
    db.close()
    return path


def test_migrate_to_copies_every_table_and_verifies_each(office_file, empty_pg_url, actor):
    reports = migrate_to(str(office_file), empty_pg_url)
    by_table = {r.table: r for r in reports}
    assert all(r.ok for r in reports)
    assert by_table["households"].target_rows == 2 and by_table["owners"].target_rows == 1
    assert by_table["audit_log"].source_rows == by_table["audit_log"].target_rows > 40
    assert "schema_migrations" not in by_table
    db = open_database(empty_pg_url)
    try:
        # ids continue after the copied ones; deleted rows stay deleted; text is intact
        (new,) = add(db, actor, "households", {"community_id": 1, "code": "1-1-103", "area": "60"})
        assert new == 3
        assert db.rows("SELECT note, deleted_at IS NOT NULL FROM households WHERE id = 2") == [
            ("含'引号'与,逗号", True)]
        assert db.rows("SELECT community, households FROM v_community_overview") == [("阳光花园", 2)]
    finally:
        db.close()


def test_migrate_to_refuses_a_target_with_data_unless_replacing(office_file, empty_pg_url):
    migrate_to(str(office_file), empty_pg_url)
    with pytest.raises(MigrationRefused, match="--replace"):
        migrate_to(str(office_file), empty_pg_url)
    assert all(r.ok for r in migrate_to(str(office_file), empty_pg_url, replace=True))


def test_checksum_notices_a_single_changed_cent(office_file, empty_pg_url):
    migrate_to(str(office_file), empty_pg_url)
    db = open_database(empty_pg_url)
    try:
        cols = db.columns_of("households")
        before = db.rows(checksum_sql("households", cols, "pg.public"))
        postgres.execute(db.cursor(), "UPDATE households SET area = area + 0.01 WHERE id = 1")
        after = db.rows(checksum_sql("households", cols, "pg.public"))
        assert before[0][0] == after[0][0] and before[0][1] != after[0][1]
    finally:
        db.close()


def test_migrate_to_command_prints_a_report_per_table(office_file, empty_pg_url):
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "--db", str(office_file), "migrate-to", empty_pg_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "households" in done.stdout and "一致" in done.stdout
    assert done.stdout.strip().endswith("全部一致。")


def test_migrate_to_refuses_a_source_held_by_a_running_app(office_file, empty_pg_url):
    from app.storage.db import DatabaseBusy

    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(office_file)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseBusy, match="wuye serve"):
            migrate_to(str(office_file), empty_pg_url)
    finally:
        holder.kill()
        holder.wait()
