"""The seed's statistics (issue 23 item 7): staff composition, population and owners per 小区, 投诉率
per household and building over a period, and a repeatable survey sample. Hand-built rows on both
backends; every expected figure is worked out in the comments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.access.permissions import Actor
from app.analysis import statistics
from app.saving.changes import ValidationFailed


@pytest.fixture
def estate(db, actor) -> dict:
    """阳光花园: building 1 with 4 homes, building 2 with 2 homes; a second community with 1 home."""
    cid = add(db, actor, "communities", name="阳光花园")
    other = add(db, actor, "communities", name="翠湖苑")
    b1 = add(db, actor, "buildings", community_id=cid, code="1栋")
    b2 = add(db, actor, "buildings", community_id=cid, code="2栋")
    statuses = ["已入住", "已入住", "出租", "空置"]
    homes1 = [add(db, actor, "households", community_id=cid, building_id=b1, code=f"1-{i + 1:02d}",
                  area="90.00", status=s) for i, s in enumerate(statuses)]
    homes2 = [add(db, actor, "households", community_id=cid, building_id=b2, code=f"2-{i + 1:02d}",
                  area="90.00", status=s) for i, s in enumerate(["已入住", "装修中"])]
    far = add(db, actor, "households", community_id=other, code="A-01", area="80.00", status="已入住")
    return {"community": cid, "other": other, "b1": b1, "b2": b2, "homes1": homes1, "homes2": homes2, "far": far}


def test_staff_composition_counts_departments_education_and_managers(db, actor, estate):
    cid = estate["community"]
    service = add(db, actor, "departments", name="客服部")
    repair = add(db, actor, "departments", name="工程部")
    for name, dept, edu, boss in [("甲", service, "本科", True), ("乙", service, "大专", False),
                                  ("丙", service, None, False), ("丁", repair, "本科", True),
                                  ("戊", repair, "中专", False)]:
        add(db, actor, "staff", community_id=cid, department_id=dept, name=name, education=edu, is_manager=boss)
    add(db, actor, "staff", community_id=cid, department_id=repair, name="已离职", education="本科",
        is_manager=True, status="离职")  # left: not counted
    frame = statistics.staff_composition(db, actor, cid)
    rows = {(r.dimension, r.grp): (r.staff, r.managers, round(r.staff_share, 4), r.manager_share)
            for r in frame.itertuples()}
    # 5 in post: 客服部 3 (1 manager), 工程部 2 (1 manager); 本科 2 (both managers), 大专 1, 中专 1, 未填 1.
    assert rows[("部门", "客服部")] == (3, 1, 0.6, pytest.approx(1 / 3))
    assert rows[("部门", "工程部")] == (2, 1, 0.4, 0.5)
    assert rows[("学历", "本科")] == (2, 2, 0.4, 1.0)
    assert rows[("学历", "未填")] == (1, 0, 0.2, 0.0)
    assert len(frame) == 2 + 4
    assert statistics.staff_totals(frame) == {"staff": 5, "managers": 2, "manager_share": 0.4}


def test_population_composition_counts_homes_people_and_owners_of_several_homes(db, actor, estate):
    h1, h2, h3, h4 = estate["homes1"]
    d1, _ = estate["homes2"]
    add(db, actor, "owners", household_id=h1, name="张伟", id_number="110101199001011237", role="业主")
    add(db, actor, "owners", household_id=h1, name="李娜", role="家属", phone="13800000001")
    add(db, actor, "owners", household_id=h3, name="张伟", id_number="110101199001011237", role="业主")  # 2nd home
    add(db, actor, "owners", household_id=h3, name="王租", role="租户", phone="13800000002")
    add(db, actor, "owners", household_id=h4, name="赵空", phone="13800000003", role="业主")  # vacant home
    add(db, actor, "owners", household_id=d1, name="钱一", phone="13800000004", role="业主")
    add(db, actor, "owners", household_id=h2, name="孙搬", phone="13800000005", role="业主",
        moved_out_on=date(2026, 1, 1))  # moved out: not counted
    row = statistics.population_composition(db, actor, estate["community"]).iloc[0].to_dict()
    # Homes: 已入住 h1, h2, d1 = 3; 出租 h3; 空置 h4; 装修中 d2.
    # Owners: 张伟 (two homes, one person), 赵空, 钱一 = 3; of them 张伟 holds 2 homes.
    # Residents: 张伟 in h1 (已入住) + 李娜 (家属) + 王租 (租户) + 钱一 (d1 已入住) = 4;
    # 张伟's rented h3 and 赵空's vacant h4 do not add residents. Per home: 4 / (3 + 1) = 1.0.
    assert {k: row[k] for k in ("households", "occupied", "rented", "vacant", "decorating", "owners",
                                "multi_home_owners", "family", "tenants", "residents")} == {
        "households": 6, "occupied": 3, "rented": 1, "vacant": 1, "decorating": 1, "owners": 3,
        "multi_home_owners": 1, "family": 1, "tenants": 1, "residents": 4}
    assert row["residents_per_home"] == 1.0


def test_complaint_rate_per_community_and_building_over_the_chosen_period(db, actor, estate):
    cid = estate["community"]
    h1, h2, _, _ = estate["homes1"]
    d1, _ = estate["homes2"]

    def complaint(home, at, valid=True):
        add(db, actor, "complaints", community_id=cid, household_id=home, received_at=at, channel="电话",
            category="噪音", description="楼上噪音", is_valid=valid)

    complaint(h1, datetime(2026, 3, 1, 9))
    complaint(h1, datetime(2026, 3, 31, 23, 59))  # last day of the period: counted
    complaint(h2, datetime(2026, 3, 15, 10))
    complaint(d1, datetime(2026, 3, 20, 10))
    complaint(None, datetime(2026, 3, 5, 8))  # a public area: the community only
    complaint(h2, datetime(2026, 3, 16, 10), valid=False)  # not valid: left out
    complaint(h1, datetime(2026, 4, 1, 0, 0))  # after the period
    frame = statistics.complaint_rate(db, actor, date(2026, 3, 1), date(2026, 3, 31), cid)
    got = {r.building: (r.households, r.complaints, r.complaining_households, r.complaint_rate, r.household_rate)
           for r in frame.itertuples()}
    # Community: 6 homes, 5 complaints (4 by 3 homes + 1 public) → 5/6 per home, 3/6 of homes complained.
    # 1栋: 4 homes, 3 complaints by 2 homes → 0.75, 0.5.  2栋: 2 homes, 1 by 1 home → 0.5, 0.5.
    assert got == {"全小区": (6, 5, 3, pytest.approx(5 / 6), 0.5), "1栋": (4, 3, 2, 0.75, 0.5),
                   "2栋": (2, 1, 1, 0.5, 0.5)}
    april = statistics.complaint_rate(db, actor, date(2026, 4, 1), date(2026, 4, 30), cid)
    assert april.set_index("building")["complaints"].to_dict() == {"全小区": 1, "1栋": 1, "2栋": 0}
    with pytest.raises(ValidationFailed, match="结束日期不能早于开始日期"):
        statistics.complaint_rate(db, actor, date(2026, 4, 30), date(2026, 4, 1))
    clerk = Actor("客服小王", "客服", communities=(estate["other"],))  # sees 翠湖苑 only
    assert set(statistics.complaint_rate(db, clerk, date(2026, 1, 1), date(2026, 12, 31))["community_id"]) == {
        estate["other"]}


def test_a_survey_sample_takes_the_ratio_of_each_building_and_is_drawn_once(db, actor, estate):
    cid = estate["community"]
    extra = [add(db, actor, "households", community_id=cid, building_id=estate["b1"], code=f"1-{i:02d}",
                 area="90.00", status="已入住") for i in range(5, 11)]  # 1栋 now has 10 homes
    survey = add(db, actor, "surveys", community_id=cid, title="2026 年满意度调查", distributed=10,
                 held_from=date(2026, 6, 1))
    drawn = statistics.draw_sample(db, actor, survey, Decimal("0.3"), on=date(2026, 6, 1))
    # 30 % of 1栋's 10 homes = 3; of 2栋's 2 homes = 0.6, rounded up to 1. Nothing from 翠湖苑.
    in_b1 = set(estate["homes1"]) | set(extra)
    assert len(drawn) == 4
    assert len(set(drawn) & in_b1) == 3 and len(set(drawn) & set(estate["homes2"])) == 1
    # The order is fixed by the survey's id, so the same draw picks the same homes.
    again = sorted(sorted(in_b1, key=lambda h: statistics._draw_order(survey, h))[:3]
                   + sorted(estate["homes2"], key=lambda h: statistics._draw_order(survey, h))[:1])
    assert drawn == again
    with pytest.raises(ValidationFailed, match="该调查已抽样（4 户）"):
        statistics.draw_sample(db, actor, survey, Decimal("0.3"))
    listed = statistics.sample_households(db, survey)
    assert sorted(listed["household_id"]) == drawn and set(listed["method"]) == {"按楼栋 30%，全部楼栋"}
    # One drawn home of 1栋 returns its form: 1 of 3 back there.
    add(db, actor, "survey_responses", survey_id=survey, form_no="001", household_id=sorted(set(drawn) & in_b1)[0])
    stats = statistics.survey_sampling(db, actor, survey).set_index("building")
    assert stats.loc["1栋", ["households", "sampled", "returned"]].tolist() == [10, 3, 1]
    assert stats.loc["1栋", "sample_rate"] == 0.3 and stats.loc["1栋", "return_rate"] == pytest.approx(1 / 3)
    assert stats.loc["2栋", ["households", "sampled", "returned"]].tolist() == [2, 1, 0]


def test_a_survey_sample_by_scope_draws_only_the_chosen_buildings(db, actor, estate):
    survey = add(db, actor, "surveys", community_id=estate["community"], title="2栋 维修满意度",
                 distributed=2, held_from=date(2026, 6, 1))
    drawn = statistics.draw_sample(db, actor, survey, 1, building_ids=[estate["b2"]])
    assert drawn == sorted(estate["homes2"])  # the whole of 2栋, nothing of 1栋
    assert set(statistics.sample_households(db, survey)["method"]) == {"按楼栋 100%，范围：2栋"}
    other = add(db, actor, "surveys", community_id=estate["community"], title="空", distributed=0,
                held_from=date(2026, 6, 1))
    with pytest.raises(ValidationFailed, match="抽样比例应大于 0%"):
        statistics.draw_sample(db, actor, other, 0)


# -- the page ------------------------------------------------------------------------------------
@pytest.fixture
def page_estate(tmp_path, monkeypatch):
    """A DuckDB file the page opens through WUYE_DB: two staff, two homes, one survey."""
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from app.ui import session

    path = tmp_path / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="客服部")
    add(db, actor, "staff", name="甲", department_id=dept, community_id=sun, education="本科", is_manager=True)
    add(db, actor, "staff", name="乙", department_id=dept, community_id=sun, education="大专")
    b1 = add(db, actor, "buildings", community_id=sun, code="1栋")
    for code in ("1-01", "1-02"):
        add(db, actor, "households", community_id=sun, building_id=b1, code=code, area="90.00", status="已入住")
    survey = add(db, actor, "surveys", community_id=sun, title="年度调查", distributed=1, held_from=date(2026, 6, 1))
    db.close()
    monkeypatch.setenv("WUYE_DB", str(path))
    session._database.clear()
    yield {"sun": sun, "survey": survey}
    session._database.clear()


def test_statistics_page_shows_the_managers_share_and_draws_a_sample(page_estate):
    from apptest import app_test

    at = app_test("pages/statistics.py")
    at.session_state["stats-community"] = page_estate["sun"]
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["在职员工"] == "2" and metrics["管理人员占比"] == "50.0%"  # 1 of 2
    at.selectbox(key="stats-survey").set_value(page_estate["survey"]).run()
    at.number_input[0].set_value(50)
    at.button[0].click().run()  # 抽样并记录: 50 % of 2 homes = 1
    assert not at.exception, at.exception
    assert "已抽取 1 户" in at.success[0].value
