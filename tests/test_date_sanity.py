"""Date sanity declared in the registers' definitions (issue #20, finding 11), enforced by the save
path on both backends: a date that cannot lie ahead (`not_future`), a date that cannot precede
another of the same row (`not_before`); and a record's details open without a traceback."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from apptest import app_test
from saving import add

from app import registers
from app.registers.model import DefinitionError, register_from_dict
from app.saving.changes import RowChange, ValidationFailed, apply_changes


def refused(db, actor, register: str, change: RowChange) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, register, [change])
    return [f"{p.column}：{p.message}" for p in err.value.problems]


@pytest.fixture
def community(db, actor) -> int:
    return add(db, actor, "communities", name="阳光花园")


def extinguisher(**values) -> dict:
    return {"equip_no": "MH-01", "type": "干粉灭火器", "location": "1号楼大堂", **values}


def test_production_date_in_the_future_is_refused(db, actor, community):
    tomorrow = db.now().date() + timedelta(days=1)
    problems = refused(db, actor, "fire_equipment",
                       RowChange("insert", values=extinguisher(community_id=community, produced_on=tomorrow)))
    assert problems == ["出厂日期：出厂日期不能晚于今天"]
    # today itself is fine
    add(db, actor, "fire_equipment", **extinguisher(community_id=community, produced_on=db.now().date()))


def test_check_before_production_is_refused_and_named(db, actor, community):
    problems = refused(db, actor, "fire_equipment", RowChange("insert", values=extinguisher(
        community_id=community, produced_on="2024-05-10", last_checked_on="2024-05-09",
        last_serviced_on="2024-05-10")))
    assert problems == ["最近检查：最近检查不能早于出厂日期"]  # the same day is not "before"
    fid = add(db, actor, "fire_equipment", **extinguisher(community_id=community, produced_on="2024-05-10",
                                                          last_checked_on="2025-06-01"))
    # moving the production date after the last check breaks the order too, named on the check
    problems = refused(db, actor, "fire_equipment", RowChange("update", row_id=fid,
                                                              values={"produced_on": "2025-07-01"}))
    assert problems == ["最近检查：最近检查不能早于出厂日期"]
    apply_changes(db, actor, "fire_equipment", [RowChange("update", row_id=fid, values={"produced_on": "2025-06-01"})])
    assert db.scalar("SELECT produced_on FROM fire_equipment WHERE id = ?", [fid]) == date(2025, 6, 1)


def test_an_end_before_its_start_is_refused(db, actor, community):
    problems = refused(db, actor, "contracts", RowChange("insert", values={
        "contract_no": "HT-1", "community_id": community, "title": "电梯维保", "kind": "分包",
        "counterparty": "某电梯公司", "start_on": "2026-01-01", "end_on": "2025-12-31", "status": "履行中"}))
    assert "结束日期：结束日期不能早于开始日期" in problems, problems


def test_a_stored_row_with_an_old_bad_date_can_still_be_edited_elsewhere(db, actor, community):
    """Rules hold for the dates being written: rows stored before a rule stay editable."""
    fid = add(db, actor, "fire_equipment", **extinguisher(community_id=community, produced_on="2024-05-10"))
    ahead = db.now().date() + timedelta(days=400)
    with db.transaction() as cur:  # as an old import left it
        cur.execute("UPDATE fire_equipment SET produced_on = ? WHERE id = ?", [ahead, fid])
    apply_changes(db, actor, "fire_equipment", [RowChange("update", row_id=fid, values={"location": "2号楼大堂"})])
    assert db.scalar("SELECT location FROM fire_equipment WHERE id = ?", [fid]) == "2号楼大堂"


def test_every_declared_rule_names_a_date_field():
    for reg in registers.catalog().values():
        for f in reg.fields:
            if f.not_future or f.not_before:
                assert f.type in ("date", "timestamp"), (reg.name, f.name)
            if f.not_before:
                assert reg.field(f.not_before).type in ("date", "timestamp"), (reg.name, f.name)
    fire = registers.get("fire_equipment")
    assert fire.field("produced_on").not_future and fire.field("last_checked_on").not_before == "produced_on"
    base = {"name": "x", "label": "X", "area": "Y"}
    with pytest.raises(DefinitionError, match="not_before"):
        register_from_dict({**base, "fields": [{"name": "a", "label": "A", "type": "date", "not_before": "b"},
                                               {"name": "b", "label": "B", "type": "text"}]})
    with pytest.raises(DefinitionError, match="dates"):
        register_from_dict({**base, "fields": [{"name": "a", "label": "A", "type": "text", "not_future": True}]})


def test_opening_a_records_details_logs_no_traceback(db, actor, community, monkeypatch, caplog):
    """The details tab showed the id (int) among texts in one column: Arrow refused it and
    Streamlit logged an ArrowInvalid traceback each time a record was opened."""
    fid = add(db, actor, "fire_equipment", **extinguisher(community_id=community, produced_on="2024-05-10"))
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    try:
        caplog.set_level(logging.DEBUG)
        at = app_test("pages/register.py", "fire_equipment", query={"id": str(fid)}).run()
        assert not at.exception, at.exception
        details = next(d.value for d in at.dataframe if "字段" in d.value.columns)
        assert dict(zip(details["字段"], details["内容"]))["器材编号"] == "MH-01"
        logged = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
        assert "ArrowInvalid" not in logged and "Traceback" not in logged
        assert not any(r.exc_info for r in caplog.records), logged
    finally:
        session._database.clear()
