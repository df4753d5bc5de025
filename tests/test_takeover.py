"""承接查验 (issue 23 item 2): a defect found at take-over opens a rectification through the
check-and-fix loop, and the take-over cannot be accepted until every defect is verified.
Hand-built rows on both backends; expected values worked out in the comments."""

from __future__ import annotations

from datetime import date

import pytest
from saving import add

from app.saving.changes import RowChange, ValidationFailed, apply_changes


def rows(db, sql: str, params=()) -> list[dict]:
    res = db.cursor().execute(sql, list(params))
    names = [c[0] for c in res.description]
    return [dict(zip(names, r)) for r in res.fetchall()]


@pytest.fixture
def estate(db, actor) -> dict[str, int]:
    cid = add(db, actor, "communities", name="滨江新苑")
    other = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="工程部")
    return {
        "community": cid,
        "building": add(db, actor, "buildings", community_id=cid, code="5", floors=18, units=2),
        "elsewhere": add(db, actor, "buildings", community_id=other, code="1", floors=6, units=1),
        "engineer": add(db, actor, "staff", name="陈工", department_id=dept, community_id=cid),
        "manager": add(db, actor, "staff", name="周主任", department_id=dept, community_id=cid),
    }


def _takeover(db, actor, estate) -> int:
    return add(db, actor, "takeovers", community_id=estate["community"], building_id=estate["building"],
               developer="滨江房地产开发有限公司", started_on=date(2026, 3, 2))


def _accept(db, actor, takeover: int, estate) -> None:
    apply_changes(db, actor, "takeovers", [RowChange("update", takeover, {
        "status": "已接管", "result": "同意接管", "accepted_by_id": estate["manager"],
        "accepted_on": date(2026, 3, 20)})])


def test_a_defect_opens_a_rectification_and_blocks_acceptance_until_verified(db, actor, estate):
    takeover = _takeover(db, actor, estate)
    item = add(db, actor, "takeover_items", takeover_id=takeover, category="给排水设备", item="二次供水水箱",
               result="不合格", checked_on=date(2026, 3, 3))
    defect = add(db, actor, "takeover_defects", takeover_id=takeover, item_id=item, location="5 幢地下泵房",
                 kind="给排水", description="水箱人孔盖无锁", responsible_party="滨江房地产开发有限公司",
                 found_on=date(2026, 3, 3), follow_up_id=estate["engineer"])
    opened = rows(db, "SELECT id, source, source_table, source_id, community_id, area, location, issue, "
                      "responsible_id, opened_on, deadline, status FROM rectifications WHERE deleted_at IS NULL")
    # no deadline given: found 03-03 + rectification.deadline_days (7) = 03-10; 给排水 is a 设备 matter
    assert opened == [{"id": opened[0]["id"], "source": "承接查验", "source_table": "takeover_defects",
                       "source_id": defect, "community_id": estate["community"], "area": "设备",
                       "location": "5 幢地下泵房",
                       "issue": "承接查验问题（责任单位：滨江房地产开发有限公司）：水箱人孔盖无锁",
                       "responsible_id": estate["engineer"], "opened_on": date(2026, 3, 3),
                       "deadline": date(2026, 3, 10), "status": "待整改"}]
    rect = opened[0]["id"]
    # saving the defect again opens no second one
    apply_changes(db, actor, "takeover_defects", [RowChange("update", defect, {"description": "水箱人孔盖无锁具"})])
    assert db.scalar("SELECT count(*) FROM rectifications") == 1

    with pytest.raises(ValidationFailed) as err:
        _accept(db, actor, takeover, estate)
    assert "还有 1 项查验问题未整改验证，不能验收接管" in str(err.value)
    # rectified but not yet verified: still open
    apply_changes(db, actor, "rectifications", [RowChange("update", rect, {"status": "已整改",
                                                                          "measures": "加装挂锁"})])
    with pytest.raises(ValidationFailed):
        _accept(db, actor, takeover, estate)
    apply_changes(db, actor, "rectifications", [RowChange("update", rect, {
        "status": "已验证", "verified_by_id": estate["manager"]})])
    _accept(db, actor, takeover, estate)
    assert rows(db, "SELECT status, result FROM takeovers") == [{"status": "已接管", "result": "同意接管"}]


def test_acceptance_needs_its_record_and_the_building_in_the_estate(db, actor, estate):
    takeover = _takeover(db, actor, estate)  # no defects at all
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, "takeovers", [RowChange("update", takeover, {"status": "已接管"})])
    assert "验收接管须填写验收人、验收日期" in str(err.value)
    assert "验收结论为“同意接管”才能改为已接管" in str(err.value)
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "takeovers", community_id=estate["community"], building_id=estate["elsewhere"],
            developer="某开发商", started_on=date(2026, 3, 2))
    assert "楼栋不在所选小区" in str(err.value)
    _accept(db, actor, takeover, estate)
    assert db.scalar("SELECT status FROM takeovers WHERE id = ?", [takeover]) == "已接管"


def test_documents_received_point_at_their_archive(db, actor, estate):
    takeover = _takeover(db, actor, estate)
    archive = add(db, actor, "archives", archive_no="GC-2026-001", community_id=estate["community"],
                  category="工程图纸", title="5 幢竣工图纸（建筑、结构、水电）")
    add(db, actor, "takeover_documents", takeover_id=takeover, kind="竣工图纸", title="5 幢竣工图",
        copies=3, received_on=date(2026, 3, 2), archive_id=archive)
    assert rows(db, "SELECT a.archive_no, d.copies FROM takeover_documents d JOIN archives a "
                    "ON a.id = d.archive_id") == [{"archive_no": "GC-2026-001", "copies": 3}]


def test_a_defect_item_must_belong_to_its_takeover(db, actor, estate):
    first, second = _takeover(db, actor, estate), _takeover(db, actor, estate)
    item = add(db, actor, "takeover_items", takeover_id=first, category="电梯设备", item="1 号电梯")
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "takeover_defects", takeover_id=second, item_id=item, location="电梯厅", kind="电梯",
            description="轿厢划伤", responsible_party="某电梯公司", found_on=date(2026, 3, 4))
    assert "查验项目不属于这次承接查验" in str(err.value)
    assert db.scalar("SELECT count(*) FROM rectifications") == 0
