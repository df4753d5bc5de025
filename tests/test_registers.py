"""Register definitions and what is derived from them: tables, migrations, labels."""

import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app import registers
from app.registers.model import DefinitionError, register_from_dict
from app.saving.changes import RowChange, apply_changes
from app.storage.db import create_table_sql, open_database

CONTRACT = {
    "communities": ["name"],
    "buildings": ["community_id", "code", "floors", "units", "has_elevator"],
    "households": ["community_id", "building_id", "code", "area", "usage", "status", "handover_date",
                   "move_in_date"],
    "owners": ["household_id", "name", "phone", "id_number", "role", "is_primary", "move_in_date",
               "moved_out_on"],
    "departments": ["name", "duties"],
    "staff": ["department_id", "name", "position", "phone", "education", "hired_on", "status"],
    "settings": ["key", "value", "description", "source", "community_id"],
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_columns_exist(db, name):
    columns = db.columns_of(name)
    for col in ["id", *CONTRACT[name], "created_at", "updated_at", "row_version", "deleted_at"]:
        assert col in columns, f"{name}.{col}"


def test_plain_sql_insert_naming_only_contract_columns_works(db):
    db.cursor().execute("INSERT INTO communities (id, name) VALUES (77, '手工小区')")
    row = db.rows("SELECT row_version, deleted_at, created_at IS NOT NULL FROM communities WHERE id = 77")
    assert row == [(1, None, True)]


def test_money_and_area_columns_are_decimal(db):
    types = dict(db.rows("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'households'"))
    assert types["area"] == "DECIMAL(10,2)"
    assert types["handover_date"] == "DATE"
    assert "DECIMAL(12,2)" not in create_table_sql(registers.get("owners"))


def test_every_reference_points_at_a_register():
    for reg in registers.catalog().values():
        for f in reg.refs():
            assert f.ref in registers.catalog(), f"{reg.name}.{f.name}"


def test_every_label_is_chinese_and_unique_within_its_register():
    for reg in registers.catalog().values():
        labels = [f.label for f in reg.fields]
        assert len(labels) == len(set(labels)), reg.name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reg.label), reg.name


def test_a_bad_definition_is_refused_with_its_reason():
    with pytest.raises(DefinitionError, match="unknown type"):
        register_from_dict({"name": "x", "label": "X", "area": "系统",
                            "fields": [{"name": "a", "label": "A", "type": "float"}]})
    with pytest.raises(DefinitionError, match="an enum needs values"):
        register_from_dict({"name": "x", "label": "X", "area": "系统",
                            "fields": [{"name": "a", "label": "A", "type": "enum"}]})
    with pytest.raises(DefinitionError, match="lower-case"):
        register_from_dict({"name": "x", "label": "X", "area": "系统",
                            "fields": [{"name": "Drop Table", "label": "A", "type": "text"}]})
    with pytest.raises(DefinitionError, match="reserved"):
        register_from_dict({"name": "x", "label": "X", "area": "系统",
                            "fields": [{"name": "row_version", "label": "A", "type": "text"}]})


def test_migrations_are_recorded_and_not_repeated(db):
    versions = [r[0] for r in db.rows("SELECT version FROM schema_migrations ORDER BY version")]
    assert "001_audit_log" in versions and "register:households" in versions
    assert db.migrate() == []


def test_a_new_field_in_a_definition_adds_its_column(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    db = open_database(str(path))
    apply_changes(db, __import__("app.access.permissions").permissions.cli_actor(), "departments",
                  [RowChange("insert", values={"name": "工程部"})])
    db.close()
    defs = tmp_path / "defs"
    shutil.copytree(registers.DEFINITIONS, defs)
    text = (defs / "departments.toml").read_text(encoding="utf-8")
    (defs / "departments.toml").write_text(
        text + '\n[[fields]]\nname = "head_count"\nlabel = "编制人数"\ntype = "integer"\n', encoding="utf-8")
    monkeypatch.setattr(registers, "DEFINITIONS", defs)
    registers.catalog.cache_clear()
    try:
        db = open_database(str(path))
        assert "head_count" in db.columns_of("departments")
        assert db.rows("SELECT name, head_count FROM departments") == [("工程部", None)]
        assert "register:departments.head_count" in [r[0] for r in db.rows("SELECT version FROM schema_migrations")]
        db.close()
    finally:
        registers.catalog.cache_clear()


def test_the_office_date_follows_the_timezone_setting(db, actor):
    row = db.rows("SELECT id, row_version FROM settings WHERE key = 'office.timezone'")[0]
    apply_changes(db, actor, "settings", [RowChange("update", row[0], {"value": "Pacific/Kiritimati"}, version=row[1])])
    url = db.url
    db.close()
    db = open_database(url)
    expected = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()  # UTC+14: a day ahead of UTC mostly
    assert db.scalar("SELECT current_date") == expected
    assert db.now().date() == expected
    db.close()


def test_labels_expand_references(db, actor):
    from app.reading.queries import labels_for

    apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})])
    apply_changes(db, actor, "households", [RowChange("insert", values={"community_id": 1, "code": "3-2-1201", "area": 88})])
    assert labels_for(db, registers.get("households"), [1]) == {1: "阳光花园/3-2-1201"}
