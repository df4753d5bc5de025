"""AppTests of the pages of issue 8: home dashboard, 一户一档, 意见调查, 业委会月度报告.

One small DuckDB estate per module (the survey estate of test_surveys plus the bills of
test_reports), opened by the pages through WUYE_DB.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from apptest import app_test

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import open_database
from app.surveys import survey as surveys


def add(db, actor, register, **values):
    return apply_changes(db, actor, register, [RowChange("insert", values=values)]).inserted[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from app.settings import ensure_defaults
    from app.ui import session

    path = tmp_path_factory.mktemp("pages8") / "wuye.duckdb"
    db = open_database(str(path))
    actor = Actor("测试", source="任务")
    ensure_defaults(db, actor)
    c = add(db, actor, "communities", name="阳光花园")
    homes = [add(db, actor, "households", community_id=c, code=f"1-1-10{n}", area="100.00", usage="住宅",
                 status="已入住") for n in range(1, 4)]
    add(db, actor, "owners", household_id=homes[0], name="王芳", phone="13812345678", role="业主")
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="3.0000",
               cycle="月", status="已审批", effective_from="2026-01-01")
    bill = add(db, actor, "bills", household_id=homes[0], fee_item_id=item, period="2026-09", amount="300.00",
               due_date="2026-09-15")
    add(db, actor, "payments", bill_id=bill, amount="100.00", paid_at="2026-09-20 10:00:00")
    sid = add(db, actor, "surveys", community_id=c, title="2026 年业主满意度调查", distributed=3,
              held_from=date(2026, 6, 1))
    for n, dim in enumerate(["保洁", "维修"], start=1):
        add(db, actor, "survey_questions", survey_id=sid, no=n, text=f"{dim}满意吗", dimension=dim, kind="评分")
    surveys.enter_forms(db, actor, sid, [{"问卷编号": "F1", "房号": "1-1-101", "第1题": 5, "第2题": 3}],
                        submitted_at=datetime(2026, 6, 3, 9, 0))
    db.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("WUYE_DB", str(path))
    session._database.clear()
    yield {"path": path, "homes": homes, "survey": sid}
    session._database.clear()
    mp.undo()


def test_home_dashboard_shows_kpis_charts_and_todo(site):
    at = app_test("pages/home.py").run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["收费率"] == "33.3%"
    assert shown["满意率"] == "50.0%"  # F1: 5 and 3 → one of two scores ≥ 4
    assert shown["户数"] == "3"


def test_household_page_masks_phones_for_a_role_without_the_right(site):
    at = app_test("pages/household.py", query={"id": str(site["homes"][0])}, role="维修", user="李师傅").run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "阳光花园 1-1-101"
    tables = [d.value for d in at.dataframe]
    owners = next(t for t in tables if "手机号" in t.columns)
    assert list(owners["手机号"]) == ["138****5678"]
    assert any("what" in t.columns and t["what"].str.contains("账单 2026-09").any() for t in tables)


def test_surveys_page_shows_figures_and_saves_typed_forms(site):
    at = app_test("pages/surveys.py").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["回收问卷"] == "1 份"
    key = f"survey-entry-{site['survey']}-0"  # the entry grid's key: survey, then a version counter
    at.session_state[key] = {"edited_rows": {}, "deleted_rows": [],
                             "added_rows": [{"问卷编号": "F2", "房号": "1-1-102", "第1题": "4", "第2题": "4"}]}
    at = at.button(key="survey-entry-save").click().run()
    assert not at.exception, at.exception
    assert "已保存 1 份问卷、2 个答案" in at.success[0].value
    assert {m.label: m.value for m in at.metric}["回收问卷"] == "2 份"


def test_reports_page_produces_the_workbook(site):
    at = app_test("pages/reports.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="report-period").set_value("2026-09")
    at = at.button(key="report-make").click().run()
    assert not at.exception, at.exception
    assert "已生成 2026-09 月度报告" in at.success[0].value
