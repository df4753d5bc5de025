"""A register the office defined itself syncs with NocoDB like a built-in one (issue 12)."""

from __future__ import annotations

import pytest
from test_nocodb import link, nocodb_server, records  # noqa: F401  (fixtures)

from app.admin import designer
from app.saving.changes import RowChange, apply_changes
from app.sync import nocodb

pytestmark = pytest.mark.nocodb


def test_custom_register_and_added_field_sync_with_nocodb(db, actor, link):  # noqa: F811
    designer.create_register(db, actor, {
        "name": "plant_keys", "label": "机房钥匙", "area": "设备与消防",
        "fields": [{"name": "key_no", "label": "钥匙编号", "type": "text", "required": True},
                   {"name": "room", "label": "机房", "type": "enum", "values": ["配电房", "水泵房"]},
                   {"name": "made_on", "label": "配制日期", "type": "date"}],
    })
    designer.add_field(db, actor, "plant_keys", {"name": "copies", "label": "份数", "type": "integer"})
    k1 = apply_changes(db, actor, "plant_keys", [RowChange("insert", values={
        "key_no": "K1", "room": "配电房", "made_on": "2020-03-01", "copies": 2})]).inserted[0]
    assert nocodb.push(db, actor, link, "plant_keys").pushed_new == 1
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'plant_keys'")
    types = {c["title"]: c["uidt"] for c in link.call("GET", f"api/v2/meta/tables/{table}")["columns"]}
    assert (types["钥匙编号"], types["机房"], types["配制日期"], types["份数"]) == (
        "SingleLineText", "SingleSelect", "Date", "Number")
    row = records(link, db, "plant_keys")[k1]
    assert (row["钥匙编号"], row["机房"], row["配制日期"], row["份数"]) == ("K1", "配电房", "2020-03-01", 2)
    # an edit in NocoDB comes back through the save path
    link.call("PATCH", f"api/v2/tables/{table}/records", [{"Id": row["Id"], "份数": 3}])
    report = nocodb.pull(db, actor, link, "plant_keys")
    assert report.updated == [k1]
    assert db.scalar("SELECT copies FROM plant_keys WHERE id = ?", [k1]) == 3
