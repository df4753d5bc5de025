"""检查与整改 on hand-built data, on both backends: v_inspection_due, v_rectification_overdue,
v_todo_checks, the rectification workflow (verified by someone else), and every save that opens
a rectification: a failed inspection, a bad repair visit, a complaint hotspot, a failed fire
check and a decoration violation.

Default parameters: rectification.deadline_days 7, repair.visit_bad_score 2,
complaint.hotspot_count 3 within complaint.hotspot_days 30. Expected values worked out by hand
in the comments; macros are called with explicit as_of dates.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from saving import add

from app.access.permissions import Actor
from app.save_rules.checks import SAME_PERSON
from app.saving.changes import RowChange, SaveRejected, apply_changes


def update(db, actor, register: str, row_id: int, **values) -> None:
    apply_changes(db, actor, register, [RowChange("update", row_id, values)])


@pytest.fixture
def site(db, actor):
    """A community, two staff (张主管 responsible, 李经理 verifier) and a weekly cleaning plan."""
    community = add(db, actor, "communities", name="阳光花园")
    department = add(db, actor, "departments", name="环境部")
    zhang = add(db, actor, "staff", name="张主管", department_id=department, community_id=community)
    li = add(db, actor, "staff", name="李经理", department_id=department, community_id=community)
    plan = add(db, actor, "inspection_plans", community_id=community, area="清洁消杀", item="楼道保洁",
               frequency_days=7, method="抽查", responsible_id=zhang, starts_on=date(2026, 11, 1))
    return {"community": community, "zhang": zhang, "li": li, "plan": plan}


def due(db, as_of: str) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in db.rows(
        "SELECT plan_id, inspections, last_inspected_on, last_result, next_due, days_overdue, due, overdue "
        "FROM inspection_due_as_of(CAST(? AS DATE))", [as_of])}


def rectifications(db) -> list[tuple]:
    return db.rows("SELECT source, source_table, source_id, community_id, area, issue, responsible_id, "
                   "opened_on, deadline, status FROM rectifications ORDER BY id")


# -- v_inspection_due ------------------------------------------------------------------------
def test_plan_never_inspected_is_due_frequency_days_after_it_starts(db, site):
    plan = site["plan"]
    # starts 11-01 + 7 days -> next_due 11-08
    assert due(db, "2026-11-07")[plan] == (0, None, None, date(2026, 11, 8), -1, False, False)
    assert due(db, "2026-11-08")[plan] == (0, None, None, date(2026, 11, 8), 0, True, False)  # due today
    assert due(db, "2026-11-09")[plan] == (0, None, None, date(2026, 11, 8), 1, True, True)


def test_next_due_counts_from_the_latest_inspection_up_to_as_of(db, actor, site):
    plan = site["plan"]
    add(db, actor, "inspections", plan_id=plan, inspected_at=datetime(2026, 11, 5, 9), result="合格")
    add(db, actor, "inspections", plan_id=plan, inspected_at=datetime(2026, 11, 12, 16), result="不合格",
        findings="3幢楼道有垃圾")
    # as of 11-10 only the 11-05 check counts: 11-05 + 7 = 11-12, two days to go
    assert due(db, "2026-11-10")[plan] == (1, date(2026, 11, 5), "合格", date(2026, 11, 12), -2, False, False)
    # as of 11-20: 11-12 + 7 = 11-19, one day overdue; a failed check is still a check
    assert due(db, "2026-11-20")[plan] == (2, date(2026, 11, 12), "不合格", date(2026, 11, 19), 1, True, True)


def test_inactive_plan_is_not_listed(db, actor, site):
    update(db, actor, "inspection_plans", site["plan"], is_active=False)
    assert due(db, "2026-12-31") == {}


# -- failed inspection and the rectification workflow ----------------------------------------
def test_failed_inspection_opens_rectification_for_the_plans_responsible_person(db, actor, site):
    inspection = add(db, actor, "inspections", plan_id=site["plan"], inspected_at=datetime(2026, 11, 9, 10),
                     inspector_id=site["li"], result="不合格", findings="3幢楼道有垃圾", location="3幢")
    # deadline: 11-09 + 7 days = 11-16
    assert rectifications(db) == [
        ("检查", "inspections", inspection, site["community"], "清洁消杀",
         "清洁消杀检查不合格（楼道保洁）：3幢楼道有垃圾", site["zhang"], date(2026, 11, 9), date(2026, 11, 16),
         "待整改")
    ]
    audit = db.rows("SELECT note FROM audit_log WHERE register = 'rectifications'")
    assert audit == [("由检查记录自动立项整改",)]
    # editing the inspection again does not open a second one
    update(db, actor, "inspections", inspection, findings="3幢楼道有垃圾、扶手积尘")
    assert len(rectifications(db)) == 1


def test_passed_inspection_opens_nothing_and_failed_needs_findings(db, actor, site):
    add(db, actor, "inspections", plan_id=site["plan"], inspected_at=datetime(2026, 11, 9, 10), result="合格")
    assert rectifications(db) == []
    with pytest.raises(SaveRejected, match="不合格须写明发现的问题"):
        add(db, actor, "inspections", plan_id=site["plan"], inspected_at=datetime(2026, 11, 9, 10), result="不合格")


def test_inspection_may_name_its_own_rectifier_and_deadline(db, actor, site):
    add(db, actor, "inspections", plan_id=site["plan"], inspected_at=datetime(2026, 11, 9, 10), result="不合格",
        findings="垃圾房积水", rectify_by_id=site["li"], rectify_deadline=date(2026, 11, 10))
    assert [(r[6], r[8]) for r in rectifications(db)] == [(site["li"], date(2026, 11, 10))]


def test_verification_by_the_responsible_person_is_refused(db, actor, site):
    add(db, actor, "inspections", plan_id=site["plan"], inspected_at=datetime(2026, 11, 9, 10), result="不合格",
        findings="3幢楼道有垃圾")
    rid = db.scalar("SELECT id FROM rectifications")
    with pytest.raises(SaveRejected, match="只能改为：已整改"):
        update(db, actor, "rectifications", rid, status="已验证", verified_by_id=site["li"])
    update(db, actor, "rectifications", rid, status="已整改", measures="已清理",
           done_at=datetime(2026, 11, 10, 15))
    with pytest.raises(SaveRejected) as refused:
        update(db, actor, "rectifications", rid, status="已验证", verified_by_id=site["zhang"])
    assert SAME_PERSON in str(refused.value)
    assert db.scalar("SELECT status FROM rectifications") == "已整改"
    # filling in another verifier moves it to 已验证 and stamps the moment
    update(db, actor, "rectifications", rid, verified_by_id=site["li"], verified_at=datetime(2026, 11, 11, 9))
    assert db.rows("SELECT status, verified_by_id, verified_at FROM rectifications") == [
        ("已验证", site["li"], datetime(2026, 11, 11, 9))]


def test_failed_verification_sends_it_back_and_clears_done(db, actor, site):
    rid = add(db, actor, "rectifications", source="内审", community_id=site["community"], issue="记录不全",
              responsible_id=site["zhang"], opened_on=date(2026, 11, 1), deadline=date(2026, 11, 8))
    update(db, actor, "rectifications", rid, status="已整改", done_at=datetime(2026, 11, 5, 10))
    update(db, actor, "rectifications", rid, status="待整改", verify_note="复查仍有缺项")
    assert db.rows("SELECT status, done_at FROM rectifications") == [("待整改", None)]


# -- v_rectification_overdue and v_todo_checks -------------------------------------------------
def overdue(db, as_of: str) -> dict[int, int]:
    return dict(db.rows("SELECT rectification_id, days_overdue FROM rectification_overdue_as_of(CAST(? AS DATE))",
                        [as_of]))


def test_rectification_due_today_is_not_overdue_and_done_ones_drop_out(db, actor, site):
    rid = add(db, actor, "rectifications", source="内审", community_id=site["community"], issue="记录不全",
              responsible_id=site["zhang"], opened_on=date(2026, 11, 10), deadline=date(2026, 11, 20))
    assert overdue(db, "2026-11-09") == {}  # not opened yet
    assert overdue(db, "2026-11-20") == {}  # due today
    assert overdue(db, "2026-11-21") == {rid: 1}
    update(db, actor, "rectifications", rid, status="已整改", done_at=datetime(2026, 11, 22, 10))
    assert overdue(db, "2026-11-21") == {rid: 1}  # done only the next day
    assert overdue(db, "2026-11-22") == {}


def todo(db, as_of: str) -> list[tuple]:
    return db.rows("SELECT ref_table, ref_id, due_on, days_overdue, severity, item FROM todo_checks_as_of(CAST(? AS DATE)) "
                   "ORDER BY ref_table, ref_id, due_on", [as_of])


def test_todo_follows_a_failed_check_through_fix_and_verification(db, actor, site):
    plan = site["plan"]
    # as of 11-09 the plan (started 11-01, every 7 days) is a day overdue: 中
    assert todo(db, "2026-11-09") == [
        ("inspection_plans", plan, date(2026, 11, 8), 1, "中",
         "检查计划 清洁消杀·楼道保洁（每 7 天，抽查）从未检查，到期检查，已逾期 1 天")]
    add(db, actor, "inspections", plan_id=plan, inspected_at=datetime(2026, 11, 9, 10), result="不合格",
        findings="3幢楼道有垃圾")
    rid = db.scalar("SELECT id FROM rectifications")
    issue = "整改（检查）清洁消杀检查不合格（楼道保洁）：3幢楼道有垃圾"
    # the plan is next due 11-16; the rectification (deadline 11-16) has 7 days to go: 低
    assert todo(db, "2026-11-09") == [("rectifications", rid, date(2026, 11, 16), -7, "低", issue + "，限 11-16 前整改")]
    # on 11-16 both are due today; on 11-18 the rectification is 2 days overdue: 高
    assert [r[4] for r in todo(db, "2026-11-16")] == ["低", "中"]
    assert todo(db, "2026-11-18")[1] == ("rectifications", rid, date(2026, 11, 16), 2, "高", issue + "，逾期未整改 2 天")
    update(db, actor, "rectifications", rid, status="已整改", done_at=datetime(2026, 11, 17, 10))
    assert todo(db, "2026-11-18")[1] == ("rectifications", rid, date(2026, 11, 17), 1, "低", issue + "，已整改待验证")
    update(db, actor, "rectifications", rid, verified_by_id=site["li"], verified_at=datetime(2026, 11, 18, 9))
    assert [r[0] for r in todo(db, "2026-11-18")] == ["inspection_plans"]
    # and v_todo carries the same rows
    assert db.scalar("SELECT count(*) FROM todo_as_of(DATE '2026-11-18') WHERE area = '检查与整改'") == 1


# -- the other sources -----------------------------------------------------------------------
def test_failed_fire_check_opens_rectification_for_the_checker(db, actor, site):
    equipment = add(db, actor, "fire_equipment", equip_no="XF-01", community_id=site["community"],
                    type="干粉灭火器", location="地下车库B区", produced_on=date(2024, 1, 1))
    add(db, actor, "fire_checks", fire_equipment_id=equipment, checked_on=date(2026, 11, 20), kind="月检",
        result="合格", checked_by_id=site["li"])
    assert rectifications(db) == []
    check = add(db, actor, "fire_checks", fire_equipment_id=equipment, checked_on=date(2026, 11, 21), kind="月检",
                result="不合格", findings="压力表指针在红区", checked_by_id=site["li"])
    assert rectifications(db) == [
        ("消防检查", "fire_checks", check, site["community"], "消防",
         "消防器材 XF-01 干粉灭火器月检不合格：压力表指针在红区", site["li"], date(2026, 11, 21),
         date(2026, 11, 28), "待整改")]


def completed_order(db, actor, site) -> int:
    order = add(db, actor, "work_orders", community_id=site["community"], location="5幢电梯", category="电梯",
                description="电梯异响", channel="电话", urgency="一般", reported_at=datetime(2026, 11, 1, 9),
                status="已派工", assignee_id=site["zhang"])
    update(db, actor, "work_orders", order, status="处理中", status_changed_at=datetime(2026, 11, 1, 10))
    update(db, actor, "work_orders", order, status="已完成", status_changed_at=datetime(2026, 11, 1, 12))
    return order


def test_bad_repair_visit_opens_rectification_for_the_repairer(db, actor, site):
    order = completed_order(db, actor, site)
    number = db.scalar("SELECT order_no FROM work_orders WHERE id = ?", [order])
    add(db, actor, "work_order_visits", work_order_id=order, visited_at=datetime(2026, 11, 2, 10), satisfaction=3)
    assert rectifications(db) == []  # 3 > repair.visit_bad_score 2
    visit = add(db, actor, "work_order_visits", work_order_id=order, visited_at=datetime(2026, 11, 3, 10),
                satisfaction=2, comment="仍有异响")
    assert rectifications(db) == [
        ("回访", "work_order_visits", visit, site["community"], "维修",
         f"报修单 {number}（电梯）回访不满意（2 分）：仍有异响", site["zhang"], date(2026, 11, 3),
         date(2026, 11, 10), "待整改")]


def test_visit_asking_for_rework_opens_rectification_whatever_the_score(db, actor, site):
    order = completed_order(db, actor, site)
    desk = Actor("客服甲", role="客服")  # no rights on 检查与整改: the rectification follows the visit anyway
    add(db, desk, "work_order_visits", work_order_id=order, visited_at=datetime(2026, 11, 2, 10), satisfaction=4,
        needs_rework=True)
    assert [r[5].split("回访")[1] for r in rectifications(db)] == ["要求返修"]


def complaint(db, actor, site, day: int, location: str = "北门") -> int:
    return add(db, actor, "complaints", community_id=site["community"], location=location,
               received_at=datetime(2026, 11, day, 10), category="环境卫生", description="垃圾清运不及时",
               responsible_id=site["zhang"])


def hotspots(db, as_of: str) -> list[tuple]:
    return db.rows("SELECT location, complaints, has_rectification, needs_rectification "
                   "FROM complaint_hotspots_as_of(CAST(? AS DATE))", [as_of])


def test_third_complaint_at_a_spot_opens_one_rectification_and_the_hotspot_has_it(db, actor, site):
    complaint(db, actor, site, 1)
    complaint(db, actor, site, 5)
    complaint(db, actor, site, 6, "南门")  # another spot
    assert rectifications(db) == []
    third = complaint(db, actor, site, 10)
    assert rectifications(db) == [
        ("投诉", "complaints", third, site["community"], "清洁消杀",
         "投诉热点：北门 环境卫生 近 30 天多次投诉（垃圾清运不及时）", site["zhang"], date(2026, 11, 10),
         date(2026, 11, 17), "待整改")]
    complaint(db, actor, site, 12)  # a fourth: the spot already has an open rectification
    assert len(rectifications(db)) == 1
    assert hotspots(db, "2026-11-12") == [("北门", 4, True, False)]
    assert hotspots(db, "2026-11-10") == [("北门", 3, True, False)]
    # verified on 11-20: from then on the hotspot (still 4 complaints within 30 days) needs one again
    rid = db.scalar("SELECT id FROM rectifications")
    update(db, actor, "rectifications", rid, status="已整改", done_at=datetime(2026, 11, 18, 9))
    update(db, actor, "rectifications", rid, verified_by_id=site["li"], verified_at=datetime(2026, 11, 20, 9))
    assert hotspots(db, "2026-11-19") == [("北门", 4, True, False)]
    assert hotspots(db, "2026-11-20") == [("北门", 4, False, True)]


def test_complaints_outside_the_window_do_not_make_a_hotspot(db, actor, site):
    complaint(db, actor, site, 1)
    complaint(db, actor, site, 2)
    # 12-02 − 30 days = 11-02: the 11-01 complaint is outside (received date must be > 11-02)
    add(db, actor, "complaints", community_id=site["community"], location="北门",
        received_at=datetime(2026, 12, 2, 10), category="环境卫生", description="又没清运")
    assert rectifications(db) == []


def test_decoration_violation_opens_rectification(db, actor, site):
    household = add(db, actor, "households", community_id=site["community"], code="1-1-101", area="89.50",
                    status="装修中")
    # A new application (status 申请) needs the household and the applicant; the documents and
    # the approver are checked from 已批准 on (save_rules/estate.py): it must be accepted.
    decoration = add(db, actor, "decorations", household_id=household, applicant="王业主",
                     applied_on=date(2026, 11, 1), planned_start_on=date(2026, 11, 5),
                     planned_end_on=date(2026, 12, 31))
    check = add(db, actor, "decoration_checks", decoration_id=decoration, checked_on=date(2026, 11, 20),
                inspector_id=site["li"], violation_kind="垃圾乱堆", violation="装修垃圾堆在楼道",
                deadline=date(2026, 11, 22))
    rows = rectifications(db)
    assert [(r[0], r[1], r[2], r[4], r[6], r[8]) for r in rows] == [
        ("装修巡查", "decoration_checks", check, "装修", site["li"], date(2026, 11, 22))]
    assert rows[0][5].endswith("：垃圾乱堆；装修垃圾堆在楼道")
