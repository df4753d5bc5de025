"""维修与投诉 workflows: allowed transitions, stamps, numbering, visits — via the service and the grid."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from saving import add

from app.saving.changes import RowChange, ValidationFailed, apply_changes
from app.service import service_desk as desk


@pytest.fixture
def community(db, actor) -> int:
    return add(db, actor, "communities", name="阳光花园")


@pytest.fixture
def household(db, actor, community) -> int:
    return add(db, actor, "households", community_id=community, code="3-2-1201", area="89.50")


@pytest.fixture
def staff(db, actor, community) -> int:
    department = add(db, actor, "departments", name="工程部")
    return add(db, actor, "staff", name="李工", department_id=department, community_id=community)


def order(db, order_id: int) -> dict:
    res = db.cursor().execute("SELECT * FROM work_orders WHERE id = ?", [order_id])
    return dict(zip([d[0] for d in res.description], res.fetchone()))


def grid_update(db, actor, register: str, row_id: int, **values) -> None:
    """What the generic grid does: an update of the cells the user typed."""
    version = db.scalar("SELECT row_version FROM " + register + " WHERE id = ?", [row_id])
    apply_changes(db, actor, register, [RowChange("update", row_id, values, version)])


def intake(db, actor, community, household, **values) -> int:
    base = {"community_id": community, "household_id": household, "category": "管道",
            "description": "厨房下水管漏水", "urgency": "一般", "reported_at": datetime(2026, 3, 2, 9, 0)}
    return desk.register_repair(db, actor, {**base, **values})[0]


def test_intake_gives_an_order_number_at_once_numbered_per_day(db, actor, community, household):
    first = desk.register_repair(db, actor, {"community_id": community, "category": "水电",
                                             "description": "楼道灯不亮", "reported_at": datetime(2026, 3, 2, 8, 5)})
    second = desk.register_repair(db, actor, {"community_id": community, "category": "门窗",
                                              "description": "单元门闭门器坏", "reported_at": datetime(2026, 3, 2, 17, 40)})
    other_day = desk.register_repair(db, actor, {"community_id": community, "category": "其他",
                                                 "description": "信箱锁坏", "reported_at": datetime(2026, 3, 3, 8, 0)})
    assert [first[1], second[1], other_day[1]] == ["BX-20260302-001", "BX-20260302-002", "BX-20260303-001"]
    assert order(db, first[0])["status"] == "待派工"


def test_full_repair_path_stamps_every_transition(db, actor, community, household, staff):
    oid = intake(db, actor, community, household)
    desk.dispatch(db, actor, oid, staff, datetime(2026, 3, 2, 9, 10))
    desk.arrive(db, actor, oid, datetime(2026, 3, 2, 10, 0))
    desk.pause(db, actor, oid, "等待配件", datetime(2026, 3, 2, 10, 30))
    desk.resume(db, actor, oid, datetime(2026, 3, 3, 9, 0))
    desk.complete(db, actor, oid, datetime(2026, 3, 3, 11, 0), report="更换下水管三通", labor_hours="2.5")
    desk.record_visit(db, actor, oid, 5, datetime(2026, 3, 4, 15, 0), staff_id=staff)
    desk.close_order(db, actor, oid, datetime(2026, 3, 5, 9, 0))
    row = order(db, oid)
    assert (row["status"], row["assignee_id"]) == ("已关闭", staff)
    assert (row["dispatched_at"], row["arrived_at"], row["completed_at"], row["closed_at"]) == (
        datetime(2026, 3, 2, 9, 10), datetime(2026, 3, 2, 10, 0),
        datetime(2026, 3, 3, 11, 0), datetime(2026, 3, 5, 9, 0))
    # pausing opened a pause row, resuming closed it
    assert db.rows("SELECT paused_at, resumed_at, reason FROM work_order_pauses WHERE work_order_id = ?", [oid]) == [
        (datetime(2026, 3, 2, 10, 30), datetime(2026, 3, 3, 9, 0), "等待配件")]
    # the side effects are audited in the same change sets
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'work_order_pauses'") == 2


def test_visit_moves_a_completed_order_to_visited(db, actor, community, household, staff):
    oid = intake(db, actor, community, household, assignee_id=staff)  # 已派工 at intake
    assert order(db, oid)["status"] == "已派工"
    assert order(db, oid)["dispatched_at"] == datetime(2026, 3, 2, 9, 0)  # intake moment
    desk.arrive(db, actor, oid, datetime(2026, 3, 2, 9, 30))
    desk.complete(db, actor, oid, datetime(2026, 3, 2, 11, 0))
    desk.record_visit(db, actor, oid, 4, datetime(2026, 3, 3, 10, 0))
    assert order(db, oid)["status"] == "已回访"


@pytest.mark.parametrize("path", ["service", "grid"])
def test_forbidden_moves_are_refused_with_a_message(db, actor, community, household, staff, path):
    oid = intake(db, actor, community, household)

    def move(status, **values):
        if path == "service":
            desk.move_order(db, actor, oid, status, datetime(2026, 3, 2, 12, 0), **values)
        else:
            grid_update(db, actor, "work_orders", oid, status=status, **values)

    with pytest.raises(ValidationFailed, match="状态不能从“待派工”改为“已完成”，只能改为：已派工"):
        move("已完成")
    with pytest.raises(ValidationFailed, match="派工须指定维修人员"):
        move("已派工")
    move("已派工", assignee_id=staff)
    move("处理中")
    with pytest.raises(ValidationFailed, match="只能改为：暂停、已完成"):
        move("已关闭")
    move("已完成")
    with pytest.raises(ValidationFailed, match="尚无回访记录"):
        move("已回访")
    with pytest.raises(ValidationFailed, match="如需返修，请新开报修单"):
        move("处理中")
    assert order(db, oid)["status"] == "已完成"


def test_a_new_order_cannot_start_finished_and_grid_cannot_skip_steps(db, actor, community, household, staff):
    with pytest.raises(ValidationFailed, match="不能直接登记为“已完成”"):
        add(db, actor, "work_orders", community_id=community, category="水电", description="x",
            reported_at="2026-03-02 09:00", status="已完成", assignee_id=staff)
    with pytest.raises(ValidationFailed, match="预约报修须填写预约时间"):
        intake(db, actor, community, household, urgency="预约")


def test_moments_cannot_go_backwards(db, actor, community, household, staff):
    oid = intake(db, actor, community, household)
    with pytest.raises(ValidationFailed, match="派工时间 2026-03-02 08:00 早于报修时间"):
        desk.dispatch(db, actor, oid, staff, datetime(2026, 3, 2, 8, 0))


def test_rework_is_a_new_order_linked_to_a_finished_one(db, actor, community, household, staff):
    oid = intake(db, actor, community, household, assignee_id=staff)
    with pytest.raises(ValidationFailed, match="尚未完成（已派工），不能开返修单"):
        desk.reopen_as_rework(db, actor, oid, "又漏了", datetime(2026, 3, 5, 9, 0))
    desk.arrive(db, actor, oid, datetime(2026, 3, 2, 9, 20))
    desk.complete(db, actor, oid, datetime(2026, 3, 2, 10, 0))
    new_id, number = desk.reopen_as_rework(db, actor, oid, "又漏了", datetime(2026, 3, 5, 9, 0))
    assert number == "BX-20260305-001"
    assert (order(db, new_id)["rework_of"], order(db, new_id)["status"]) == (oid, "待派工")


def test_visit_score_is_1_to_5_and_only_after_completion(db, actor, community, household, staff):
    oid = intake(db, actor, community, household, assignee_id=staff)
    with pytest.raises(ValidationFailed, match="尚未完成（已派工），不能回访"):
        desk.record_visit(db, actor, oid, 5, datetime(2026, 3, 3, 10, 0))
    desk.arrive(db, actor, oid, datetime(2026, 3, 2, 9, 20))
    desk.complete(db, actor, oid, datetime(2026, 3, 2, 10, 0))
    for bad in (0, 6):
        with pytest.raises(ValidationFailed, match="满意度"):
            desk.record_visit(db, actor, oid, bad, datetime(2026, 3, 3, 10, 0))
    with pytest.raises(ValidationFailed, match="回访时间早于完成时间"):
        desk.record_visit(db, actor, oid, 3, datetime(2026, 3, 2, 9, 0))


def test_duty_board_lists_open_orders_nearest_breach_first(db, actor, community, household, staff):
    normal = intake(db, actor, community, household, reported_at=datetime(2026, 3, 2, 8, 0))
    urgent = intake(db, actor, community, household, urgency="紧急", category="电梯",
                    description="电梯困人", reported_at=datetime(2026, 3, 2, 9, 50))
    done = intake(db, actor, community, household, assignee_id=staff)
    desk.arrive(db, actor, done, datetime(2026, 3, 2, 9, 20))
    desk.complete(db, actor, done, datetime(2026, 3, 2, 9, 40))
    board = desk.duty_board(db, community, at=datetime(2026, 3, 2, 10, 0))
    # urgent: 09:50 + 30 min = 10:20, 20 minutes left; normal: 08:00 + 1440 min = 03-03 08:00, 1320 left
    assert board["work_order_id"].tolist() == [urgent, normal]
    assert board["minutes_left"].tolist() == [20, 1320]
    assert board["clock"].tolist() == ["到场", "到场"]


# -- complaints -----------------------------------------------------------------------------
def complaint(db, actor, community, **values) -> int:
    base = {"community_id": community, "category": "噪音", "description": "楼上装修噪音",
            "received_at": datetime(2026, 7, 6, 10, 0), "location": "3幢"}
    return desk.register_complaint(db, actor, {**base, **values})[0]


def test_complaint_flow_stamps_and_refuses_skips(db, actor, community, staff):
    cid = complaint(db, actor, community)
    row = db.rows("SELECT complaint_no, status FROM complaints WHERE id = ?", [cid])[0]
    assert row == ("TS-20260706-001", "待处理")
    with pytest.raises(ValidationFailed, match="只能改为：处理中、已关闭"):
        desk.move_complaint(db, actor, cid, "已处理", datetime(2026, 7, 7, 9, 0), result="已协调")
    with pytest.raises(ValidationFailed, match="有效投诉须处理并反馈后才能关闭"):
        grid_update(db, actor, "complaints", cid, status="已关闭")
    with pytest.raises(ValidationFailed, match="受理后须指定责任人"):
        desk.move_complaint(db, actor, cid, "处理中")
    desk.move_complaint(db, actor, cid, "处理中", datetime(2026, 7, 6, 11, 0), responsible_id=staff)
    with pytest.raises(ValidationFailed, match="须填写处理结果"):
        desk.move_complaint(db, actor, cid, "已处理", datetime(2026, 7, 7, 9, 0))
    desk.move_complaint(db, actor, cid, "已处理", datetime(2026, 7, 7, 9, 0), result="已约谈装修户，限定作业时间")
    desk.move_complaint(db, actor, cid, "已反馈", datetime(2026, 7, 7, 16, 0), owner_satisfied=True)
    desk.move_complaint(db, actor, cid, "已关闭", datetime(2026, 7, 8, 9, 0))
    assert db.rows("SELECT status, handled_at, feedback_at, closed_at FROM complaints WHERE id = ?", [cid]) == [
        ("已关闭", datetime(2026, 7, 7, 9, 0), datetime(2026, 7, 7, 16, 0), datetime(2026, 7, 8, 9, 0))]


def test_a_consultation_may_be_closed_directly(db, actor, community):
    cid = complaint(db, actor, community, is_valid=False, category="其他", description="咨询物业费标准")
    grid_update(db, actor, "complaints", cid, status="已关闭")
    assert db.scalar("SELECT status FROM complaints WHERE id = ?", [cid]) == "已关闭"


def test_workdays_after_macro(db, actor):
    # 2026-10-01..10-07 off (国庆), Saturday 2026-10-10 a 调休 working day
    for day in range(1, 8):
        add(db, actor, "holidays", on_date=f"2026-10-0{day}", is_workday=False, name="国庆节")
    add(db, actor, "holidays", on_date="2026-10-10", is_workday=True, name="国庆调休")
    got = db.rows(
        "SELECT workdays_after(DATE '2026-09-30', 2), workdays_after(TIMESTAMP '2026-10-09 18:00', 1), "
        "workdays_after(DATE '2026-10-16', 1), workdays_after(DATE '2026-10-16', 0)"
    )[0]
    # 09-30 (Wed) +2: 10-01..07 off -> 10-08 (1st), 10-09 (2nd)
    # 10-09 (Fri) +1: Saturday 10-10 is a 调休 working day -> 10-10
    # 10-16 (Fri) +1: weekend -> Monday 10-19; n = 0 -> the day itself
    assert got == (date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 19), date(2026, 10, 16))
