"""Projects and vendors (issue 23 item 4): progress records, checks and acceptance with
rectifications, the overdue-project rule and the vendor re-rating reminder in the to-do, and the
vendor file. Hand-built rows on both backends; expected values worked out in the comments."""

from __future__ import annotations

from datetime import date

import pytest
from saving import add

from app.estate import vendor_file
from app.saving.changes import RowChange, ValidationFailed, apply_changes


def problems(err) -> str:
    return "\n".join(str(p) for p in err.value.problems)


@pytest.fixture
def site(db, actor) -> dict[str, int]:
    cid = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="工程部")
    vendor = add(db, actor, "vendors", name="杭州宏达建筑工程有限公司", rating="良好", evaluated_on=date(2025, 5, 1))
    contract = add(db, actor, "contracts", contract_no="HT-2026-G01", community_id=cid, title="外墙翻新工程施工合同",
                   kind="分包", counterparty="杭州宏达建筑工程有限公司", vendor_id=vendor, start_on=date(2026, 3, 1),
                   end_on=date(2026, 8, 31), amount="186000.00", status="履行中")
    return {
        "community": cid, "vendor": vendor, "contract": contract,
        "engineer": add(db, actor, "staff", name="陈工", department_id=dept, community_id=cid),
        "manager": add(db, actor, "staff", name="周主任", department_id=dept, community_id=cid),
        "project": add(db, actor, "projects", community_id=cid, name="外墙翻新", vendor_id=vendor,
                       contract_id=contract, budget="186000.00", started_on=date(2026, 3, 1),
                       planned_end_on=date(2026, 5, 31)),
    }


def test_the_project_progress_is_its_latest_record(db, actor, site):
    for on, pct in ((date(2026, 4, 1), 30), (date(2026, 5, 1), 60)):
        add(db, actor, "project_progress", project_id=site["project"], reported_on=on, progress=pct)
    assert db.scalar("SELECT progress FROM projects") == 60
    # a record of an earlier day entered late does not move it back
    add(db, actor, "project_progress", project_id=site["project"], reported_on=date(2026, 3, 15), progress=20)
    assert db.scalar("SELECT progress FROM projects") == 60


def test_a_failed_check_opens_a_rectification_and_acceptance_waits_for_it(db, actor, site):
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "project_checks", project_id=site["project"], kind="质量检查", checked_on=date(2026, 4, 10),
            checker_id=site["engineer"], result="不合格")
    assert "结论为不合格时须写明存在问题" in problems(err)
    check = add(db, actor, "project_checks", project_id=site["project"], kind="质量检查",
                checked_on=date(2026, 4, 10), checker_id=site["engineer"], result="不合格",
                defects="脚手架连墙件缺失", responsible_id=site["engineer"])
    opened = db.rows("SELECT id, source, source_table, source_id, area, issue, deadline, status FROM rectifications")
    # no deadline given: 04-10 + 7 days = 04-17
    assert opened == [(opened[0][0], "工程验收", "project_checks", check, "维修", "质量检查不合格（外墙翻新）：脚手架连墙件缺失",
                       date(2026, 4, 17), "待整改")]
    accept = {"project_id": site["project"], "kind": "竣工验收", "checked_on": date(2026, 6, 20),
              "checker_id": site["manager"], "result": "合格"}
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "project_checks", **accept)
    assert "工程还有 1 项整改未验证，不能验收合格" in problems(err)
    apply_changes(db, actor, "rectifications", [RowChange("update", opened[0][0], {"status": "已整改"})])
    apply_changes(db, actor, "rectifications", [RowChange("update", opened[0][0], {
        "status": "已验证", "verified_by_id": site["manager"]})])
    add(db, actor, "project_checks", **accept)
    assert db.rows("SELECT accepted_on, progress FROM projects") == [(date(2026, 6, 20), 100)]


def test_an_overdue_project_is_in_the_todo_until_accepted(db, actor, site):
    def todo(day):
        return db.rows("SELECT item, days_overdue, severity FROM todo_as_of(CAST(? AS DATE)) "
                       "WHERE ref_table = 'projects'", [day])

    assert todo(date(2026, 5, 31)) == []  # its planned end is today: not yet overdue
    # 06-10 − 05-31 = 10 days: 中; 07-01 − 05-31 = 31 days: 高
    assert todo(date(2026, 6, 10)) == [("工程「外墙翻新」计划完工已过仍未验收（进度 0%），已逾期 10 天", 10, "中")]
    assert todo(date(2026, 7, 1))[0][1:] == (31, "高")
    add(db, actor, "project_checks", project_id=site["project"], kind="竣工验收", checked_on=date(2026, 6, 20),
        checker_id=site["manager"], result="合格")
    assert todo(date(2026, 6, 25)) == []
    assert todo(date(2026, 6, 15))[0][1] == 15  # accepted later than that day: still overdue then


def test_a_vendor_is_due_for_rating_after_the_set_months(db, actor, site):
    def due(day):
        return db.rows("SELECT item, due_on, severity FROM todo_as_of(CAST(? AS DATE)) WHERE ref_table = 'vendors'",
                       [day])

    # rated 2025-05-01, every 12 months: due 2026-05-01, in the to-do from the day after
    assert due(date(2026, 5, 1)) == []
    assert due(date(2026, 5, 2)) == [("分包方「杭州宏达建筑工程有限公司」上次评价 2025-05-01，应重新评价，已逾期 1 天",
                                      date(2026, 5, 1), "低")]
    add(db, actor, "vendor_ratings", vendor_id=site["vendor"], rated_on=date(2026, 4, 20), rating="优秀", score=92,
        rater_id=site["manager"])
    assert db.rows("SELECT rating, evaluated_on FROM vendors") == [("优秀", date(2026, 4, 20))]
    # an older rating entered late does not replace it
    add(db, actor, "vendor_ratings", vendor_id=site["vendor"], rated_on=date(2024, 5, 1), rating="合格")
    assert db.rows("SELECT rating, evaluated_on FROM vendors") == [("优秀", date(2026, 4, 20))]
    assert due(date(2026, 5, 2)) == []
    assert due(date(2027, 4, 21))[0][1] == date(2027, 4, 20)


def test_the_vendor_file_shows_its_contracts_projects_and_ratings(db, actor, site):
    add(db, actor, "vendor_ratings", vendor_id=site["vendor"], rated_on=date(2026, 4, 20), rating="优秀", score=92,
        rater_id=site["manager"], basis="质量、工期")
    f = vendor_file.vendor_file(db, actor, site["vendor"], as_of=date(2026, 6, 10))
    assert f.vendor["name"] == "杭州宏达建筑工程有限公司" and f.due_on == date(2027, 4, 20)
    assert list(f.ratings["rating"]) == ["优秀"] and list(f.ratings["rater"]) == ["周主任"]
    assert list(f.contracts["contract_no"]) == ["HT-2026-G01"]
    assert f.projects[["name", "contract_no", "state"]].values.tolist() == [["外墙翻新", "HT-2026-G01", "逾期未验收"]]


def test_the_vendor_file_page_renders(tmp_path, monkeypatch):
    """分包方档案 under AppTest on one DuckDB file: the vendor's rating, contract and project."""
    from apptest import app_test

    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from app.ui import session

    path = tmp_path / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    cid = add(db, actor, "communities", name="阳光花园")
    vendor = add(db, actor, "vendors", name="杭州宏达建筑工程有限公司", rating="良好", evaluated_on=date(2026, 5, 1))
    add(db, actor, "contracts", contract_no="HT-2026-G01", community_id=cid, title="外墙翻新工程施工合同", kind="分包",
        counterparty="杭州宏达建筑工程有限公司", vendor_id=vendor, start_on=date(2026, 3, 1), end_on=date(2026, 8, 31),
        amount="186000.00", status="履行中")
    add(db, actor, "projects", community_id=cid, name="外墙翻新", vendor_id=vendor, started_on=date(2026, 3, 1),
        planned_end_on=date(2026, 5, 31))
    db.close()
    monkeypatch.setenv("WUYE_DB", str(path))
    session._database.clear()
    try:
        at = app_test("pages/vendor_file.py").run()
        assert not at.exception, at.exception
        metrics = {m.label: m.value for m in at.metric}
        # rated 2026-05-01, every 12 months: next due 2027-05-01
        assert metrics == {"评价等级": "良好", "上次评价": "2026-05-01", "下次应评": "2027-05-01", "合同 / 工程": "1 / 1"}
        assert [list(df.value.iloc[:, 0]) for df in at.dataframe] == [["HT-2026-G01"], ["阳光花园"]]
    finally:
        session._database.clear()
