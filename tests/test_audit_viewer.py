"""The audit viewer: per register and row, who/when/old → new; revert a change or a whole save."""

from __future__ import annotations

import pytest

from app.access.permissions import Actor, PermissionDenied
from app.saving import audit
from app.saving.changes import ConflictError, RowChange, SaveRejected, apply_changes

CLERK = Actor("王会计", "管理员")
OTHER = Actor("赵经理", "经理")


def save(db, actor, register, changes):
    return apply_changes(db, actor, register, changes)


@pytest.fixture
def estate(db):
    (sunny,) = save(db, CLERK, "communities", [RowChange("insert", values={"name": "阳光花园"})]).inserted
    flats = save(db, CLERK, "households", [
        RowChange("insert", values={"community_id": sunny, "code": "1-1-101", "area": "89.50", "status": "空置"}),
        RowChange("insert", values={"community_id": sunny, "code": "1-1-102", "area": "75.00", "status": "空置"}),
    ]).inserted
    return {"sunny": sunny, "flats": flats}


def area_of(db, row_id):
    return str(db.scalar("SELECT area FROM households WHERE id = ?", [row_id]))


def test_history_of_a_row_shows_who_when_and_old_to_new_per_field(db, estate):
    flat = estate["flats"][0]
    save(db, OTHER, "households", [RowChange("update", flat, {"area": "90.25", "status": "已入住"})])
    newest = audit.entries(db, CLERK, "households", flat)[0]
    assert (newest.actor, newest.role, newest.action, newest.row_id) == ("赵经理", "经理", "修改", flat)
    assert {(f.label, f.old, f.new) for f in newest.fields} == {
        ("建筑面积(㎡)", "89.50", "90.25"), ("状态", "空置", "已入住")}
    frame = audit.entries_frame([newest])
    assert sorted(frame["字段"]) == ["建筑面积(㎡)", "状态"]


def test_revert_one_change_goes_through_the_save_path_and_is_audited(db, estate):
    flat = estate["flats"][0]
    save(db, OTHER, "households", [RowChange("update", flat, {"area": "90.25"})])
    entry = audit.entries(db, CLERK, "households", flat)[0]
    result = audit.revert_entry(db, CLERK, entry.id)
    assert result.updated == [flat]
    assert area_of(db, flat) == "89.50"
    newest = audit.entries(db, CLERK, "households", flat)[0]
    assert (newest.source, newest.actor, newest.action) == ("撤销", "王会计", "修改")
    assert [(f.old, f.new) for f in newest.fields] == [("90.25", "89.50")]


def test_revert_a_whole_save(db, estate):
    a, b = estate["flats"]
    saved = save(db, OTHER, "households", [RowChange("update", a, {"area": "91.00"}),
                                            RowChange("delete", b)])
    results = audit.revert_change_set(db, CLERK, saved.change_id)
    assert (results[0].updated, results[0].restored) == ([a], [b])
    assert area_of(db, a) == "89.50"
    assert db.scalar("SELECT deleted_at FROM households WHERE id = ?", [b]) is None


def test_revert_of_an_insert_deletes_the_row(db, estate):
    added = save(db, CLERK, "households", [RowChange("insert", values={
        "community_id": estate["sunny"], "code": "1-1-103", "area": "60.00"})])
    audit.revert_change_set(db, CLERK, added.change_id)
    assert db.scalar("SELECT deleted_at IS NOT NULL FROM households WHERE code = '1-1-103'")


def test_a_revert_that_breaks_a_rule_is_refused_with_the_reason(db, estate):
    a, _ = estate["flats"]
    deleted = save(db, CLERK, "households", [RowChange("delete", a)])
    # meanwhile a new flat takes the deleted flat's number: restoring it would duplicate 1-1-101
    save(db, CLERK, "households", [RowChange("insert", values={
        "community_id": estate["sunny"], "code": "1-1-101", "area": "88.00"})])
    with pytest.raises(SaveRejected, match="已存在"):
        audit.revert_change_set(db, CLERK, deleted.change_id)
    assert db.scalar("SELECT deleted_at IS NOT NULL FROM households WHERE id = ?", [a])


def test_a_revert_of_a_change_made_stale_by_a_later_one_is_refused(db, estate):
    flat = estate["flats"][0]
    first = save(db, OTHER, "households", [RowChange("update", flat, {"area": "90.00"})])
    save(db, CLERK, "households", [RowChange("update", flat, {"area": "95.00"})])
    with pytest.raises(ConflictError, match="此后又被 王会计"):
        audit.revert_change_set(db, OTHER, first.change_id)
    assert area_of(db, flat) == "95.00"


def test_a_user_without_the_right_cannot_revert(db, estate):
    flat = estate["flats"][0]
    saved = save(db, CLERK, "households", [RowChange("update", flat, {"area": "90.00"})])
    with pytest.raises(PermissionDenied):
        audit.revert_change_set(db, Actor("李师傅", "维修"), saved.change_id)
    assert area_of(db, flat) == "90.00"


def test_personal_data_is_masked_in_the_history(db, estate):
    save(db, CLERK, "owners", [RowChange("insert", values={
        "household_id": estate["flats"][0], "name": "张三", "phone": "13812345678"})])
    entry = audit.entries(db, Actor("李师傅", "维修"), "owners")[0]
    assert ("手机号", "138****5678") in {(f.label, f.new) for f in entry.fields}


def test_audit_page_lists_changes_and_reverts_one(estate_file):
    from apptest import app_test

    at = app_test("pages/audit.py", query={"register": "households"}).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "修改记录"
    assert "90.25" in set(at.dataframe[0].value["新值"])
    at.button(key="audit-revert-one").click().run()
    assert not at.exception, at.exception
    assert "已撤销" in at.success[0].value


@pytest.fixture
def estate_file(db, estate, backend, monkeypatch):
    if backend != "duckdb":
        pytest.skip("the page test runs once")
    save(db, OTHER, "households", [RowChange("update", estate["flats"][0], {"area": "90.25"})])
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()
