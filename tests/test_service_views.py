"""Rule views of 维修与投诉 on hand-built cases; every expected value is worked out in a comment.

Defaults (REGULATIONS.md): 紧急 30 min, 一般 1440 min, 预约 appointment + 15 min; completion 72 h
(4320 min) excluding pauses; rework window 30 days; complaints handled within 2 working days,
fed back within 1; hotspot = 3 valid complaints in 30 days. Macros get explicit as_of values.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from saving import add

from app.service import service_desk as desk


@pytest.fixture
def community(db, actor) -> int:
    return add(db, actor, "communities", name="阳光花园")


@pytest.fixture
def staff(db, actor, community) -> int:
    department = add(db, actor, "departments", name="工程部")
    return add(db, actor, "staff", name="李工", department_id=department, community_id=community)


def house(db, actor, community, code: str) -> int:
    return add(db, actor, "households", community_id=community, code=code, area="90.00")


def repair(db, actor, community, staff, reported: str, *, household=None, category="管道",
           urgency="一般", arrived: str | None = None, completed: str | None = None, **values) -> int:
    oid = desk.register_repair(db, actor, {
        "community_id": community, "household_id": household, "category": category,
        "description": "报修", "urgency": urgency, "reported_at": datetime.fromisoformat(reported), **values})[0]
    if arrived:
        desk.dispatch(db, actor, oid, staff, datetime.fromisoformat(reported))
        desk.arrive(db, actor, oid, datetime.fromisoformat(arrived))
    if completed:
        desk.complete(db, actor, oid, datetime.fromisoformat(completed))
    return oid


def sla(db, as_of) -> dict[int, dict]:
    df = db.query("SELECT * FROM work_order_sla_as_of(?)", [as_of])
    return {r["work_order_id"]: r for r in df.to_dict("records")}


def test_arrival_exactly_at_the_limit_is_on_time(db, actor, community, staff):
    # 紧急 09:00 + 30 min = 09:30: arriving 09:30 is on time, 09:31 is late
    at_limit = repair(db, actor, community, staff, "2026-03-02 09:00", urgency="紧急", arrived="2026-03-02 09:30")
    late = repair(db, actor, community, staff, "2026-03-02 09:00", urgency="紧急", arrived="2026-03-02 09:31")
    # 预约 at 03-03 14:00: deadline 14:00 + 15 = 14:15 (no minute limit); arriving 14:15 is on time
    booked = repair(db, actor, community, staff, "2026-03-02 09:00", urgency="预约",
                    appointment_at="2026-03-03 14:00", arrived="2026-03-03 14:15")
    # 一般 never dispatched: deadline 03-02 09:00 + 1440 min = 03-03 09:00; as of 03-04 it is overdue
    waiting = repair(db, actor, community, staff, "2026-03-02 09:00")
    got = sla(db, date(2026, 3, 4))
    assert (got[at_limit]["arrival_limit_minutes"], got[at_limit]["on_time"]) == (30, True)
    assert got[late]["on_time"] is False or got[late]["on_time"] == False  # noqa: E712
    assert got[booked]["arrival_deadline"] == datetime(2026, 3, 3, 14, 15)
    assert got[booked]["on_time"] == True  # noqa: E712
    assert got[booked]["arrival_limit_minutes"] is None or str(got[booked]["arrival_limit_minutes"]) in ("nan", "<NA>")
    assert got[waiting]["arrival_deadline"] == datetime(2026, 3, 3, 9, 0)
    assert str(got[waiting]["on_time"]) in ("None", "<NA>", "nan")  # NULL while not arrived
    assert got[waiting]["arrival_overdue"] == True  # noqa: E712
    # as of the timestamp 03-03 09:00 exactly, the deadline is not yet passed
    assert sla(db, datetime(2026, 3, 3, 9, 0))[waiting]["arrival_overdue"] == False  # noqa: E712


def test_paused_minutes_are_not_counted_in_completion(db, actor, community, staff):
    oid = repair(db, actor, community, staff, "2026-03-02 08:00", arrived="2026-03-02 09:00")
    desk.pause(db, actor, oid, "等待配件", datetime(2026, 3, 2, 10, 0))
    desk.resume(db, actor, oid, datetime(2026, 3, 3, 10, 0))  # paused 24 h = 1440 min
    desk.complete(db, actor, oid, datetime(2026, 3, 5, 9, 0))
    row = sla(db, date(2026, 3, 31))[oid]
    # 03-02 08:00 -> 03-05 09:00 = 73 h = 4380 min; minus 1440 paused = 2940 <= 4320: on time
    assert (row["paused_minutes"], row["completion_minutes"], row["completed_on_time"]) == (1440, 2940, True)
    # without the pause 4380 > 4320 would be late; the deadline moves with it: 08:00 + 72 h + 24 h
    assert row["completion_deadline"] == datetime(2026, 3, 6, 8, 0)
    # while still paused (as of 03-02 22:00) the open pause runs to the cut-off: 12 h = 720 min
    desk_row = sla(db, datetime(2026, 3, 2, 22, 0))[oid]
    assert desk_row["paused_minutes"] == 720


def test_rework_inside_and_outside_the_window_and_repair_stats(db, actor, community, staff):
    h1, h2 = house(db, actor, community, "1-1-101"), house(db, actor, community, "1-1-102")
    # h1: completed 03-02 10:00, reported again 04-01 10:00 = exactly 30 days later: inside the window
    o1 = repair(db, actor, community, staff, "2026-03-02 09:00", household=h1,
                arrived="2026-03-02 09:30", completed="2026-03-02 10:00")
    o2 = repair(db, actor, community, staff, "2026-04-01 10:00", household=h1)
    # h2: completed 03-02 10:00, reported again 04-01 10:01: 30 days and a minute, outside
    o5 = repair(db, actor, community, staff, "2026-03-01 09:00", household=h2,
                arrived="2026-03-02 09:01", completed="2026-03-02 10:00")
    o6 = repair(db, actor, community, staff, "2026-04-01 10:01", household=h2, completed=None)
    desk.record_visit(db, actor, o1, 4, datetime(2026, 3, 3, 9, 0))
    desk.record_visit(db, actor, o5, 2, datetime(2026, 3, 4, 9, 0))
    got = sla(db, date(2026, 4, 30))
    assert [got[o]["is_rework"] for o in (o1, o2, o5, o6)] == [False, True, False, False]

    stats = db.query("SELECT * FROM repair_stats_as_of(?) ORDER BY month", [date(2026, 4, 30)])
    march, april = stats.to_dict("records")
    # March: o1 (arrived 09:30 <= 09:00+24h) and o5 (arrived 03-02 09:01 > 03-01 09:00 + 24 h: late)
    assert (march["orders"], march["arrived"], march["on_time"], march["timely_rate"]) == (2, 2, 1, 0.5)
    # reworked: o1 (h1 reported again inside the window) -> 1 / 2 completed
    assert (march["completed"], march["reworked"], march["rework_rate"]) == (2, 1, 0.5)
    # both visited -> 2 / 2; mean score (4 + 2) / 2 = 3.0
    assert (march["visited"], march["visit_rate"], march["satisfaction"]) == (2, 1.0, 3.0)
    # April: nothing arrived or completed: every rate has denominator 0 -> NULL
    assert (april["orders"], april["arrived"], april["completed"]) == (2, 0, 0)
    assert all(str(april[k]) in ("None", "nan", "<NA>")
               for k in ("timely_rate", "rework_rate", "visit_rate", "satisfaction"))

    # a linked rework order (rework_of) counts for o5 whatever the window, from when it exists
    o7, _ = desk.reopen_as_rework(db, actor, o5, "仍漏水", datetime(2026, 6, 15, 9, 0))
    assert sla(db, date(2026, 6, 30))[o7]["is_rework"] == True  # noqa: E712
    march_later = db.query("SELECT reworked, rework_rate FROM repair_stats_as_of(?) WHERE month = '2026-03'",
                           [date(2026, 6, 30)]).iloc[0]
    assert (march_later["reworked"], march_later["rework_rate"]) == (2, 1.0)
    march_before = db.query("SELECT reworked FROM repair_stats_as_of(?) WHERE month = '2026-03'",
                            [date(2026, 4, 30)]).iloc[0]
    assert march_before["reworked"] == 1


# -- complaints -----------------------------------------------------------------------------
@pytest.fixture
def national_day(db, actor) -> None:
    """2026-10-01..07 off (国庆节); Saturday 2026-10-10 is a 调休 working day."""
    for day in range(1, 8):
        add(db, actor, "holidays", on_date=f"2026-10-0{day}", is_workday=False, name="国庆节")
    add(db, actor, "holidays", on_date="2026-10-10", is_workday=True, name="国庆调休")


def complaint(db, actor, community, staff, received: str, *, handled: str | None = None,
              feedback: str | None = None, **values) -> int:
    values = {"community_id": community, "category": "噪音", "description": "噪音扰民",
              "received_at": datetime.fromisoformat(received), **values}
    if values.get("is_valid", True):
        values["responsible_id"] = staff
    cid = desk.register_complaint(db, actor, values)[0]
    if handled:
        desk.move_complaint(db, actor, cid, "已处理", datetime.fromisoformat(handled), result="已处理")
    if feedback:
        desk.move_complaint(db, actor, cid, "已反馈", datetime.fromisoformat(feedback))
    return cid


def test_complaint_deadlines_across_weekend_holiday_and_makeup_workday(db, actor, community, staff, national_day):
    # Fri 09-04 + 2 working days: Mon 09-07 (1), Tue 09-08 (2); handled 09-08 23:00 -> on time
    c1 = complaint(db, actor, community, staff, "2026-09-04 16:00", handled="2026-09-08 23:00",
                   feedback="2026-09-09 10:00")
    # Wed 09-30 + 2: 10-01..07 off -> Thu 10-08 (1), Fri 10-09 (2); handled 10-09 10:00 -> on time;
    # feedback deadline 10-09 + 1 = Sat 10-10 (调休 working day); fed back 10-12 -> late
    c2 = complaint(db, actor, community, staff, "2026-09-30 15:00", handled="2026-10-09 10:00",
                   feedback="2026-10-12 09:00")
    # Fri 10-09 + 2: Sat 10-10 (调休, 1), Mon 10-12 (2); handled 10-13 -> late, no feedback:
    # feedback deadline 10-13 + 1 = 10-14
    c5 = complaint(db, actor, community, staff, "2026-10-09 11:00", handled="2026-10-13 09:00")
    # a given deadline wins: 09-25; never handled
    c4 = complaint(db, actor, community, staff, "2026-09-20 09:00", deadline="2026-09-25")
    c3 = complaint(db, actor, community, staff, "2026-09-15 09:00", is_valid=False)  # consultation
    c6 = complaint(db, actor, community, staff, "2026-10-20 09:00", is_valid=False, category="收费")
    got = {r["complaint_id"]: r for r in
           db.query("SELECT * FROM complaint_sla_as_of(?)", [date(2026, 10, 31)]).to_dict("records")}
    assert (got[c1]["deadline"], got[c1]["on_time"], got[c1]["feedback_deadline"], got[c1]["feedback_on_time"]) == (
        date(2026, 9, 8), True, date(2026, 9, 9), True)
    assert (got[c2]["deadline"], got[c2]["on_time"], got[c2]["feedback_deadline"], got[c2]["feedback_on_time"]) == (
        date(2026, 10, 9), True, date(2026, 10, 10), False)
    assert (got[c5]["deadline"], got[c5]["on_time"], got[c5]["feedback_deadline"]) == (
        date(2026, 10, 12), False, date(2026, 10, 14))
    assert (got[c4]["deadline"], got[c4]["overdue"]) == (date(2026, 9, 25), True)
    # the macro agrees with the view's calendar
    assert db.scalar("SELECT workdays_after(TIMESTAMP '2026-10-09 11:00', 2)") == date(2026, 10, 12)

    stats = {(r["month"], r["category"]): r for r in
             db.query("SELECT * FROM complaint_stats_as_of(?)", [date(2026, 10, 31)]).to_dict("records")}
    sep = stats[("2026-09", "噪音")]
    # Sept 噪音: c1, c2, c4 valid + c3 consultation -> received 4, valid 3, handled 2 (c1, c2), both on time;
    # 及时率 2/2 = 1.0, 处理率 2/3, feedback 2/2 = 1.0 (c2's late feedback is still a feedback)
    assert (sep["received"], sep["valid"], sep["handled"], sep["on_time"]) == (4, 3, 2, 2)
    assert (sep["timely_rate"], sep["handling_rate"], sep["feedback_rate"]) == (1.0, 2 / 3, 1.0)
    octo = stats[("2026-10", "噪音")]
    # Oct 噪音: c5 handled late, no feedback -> 0/1, 1/1, 0/1
    assert (octo["timely_rate"], octo["handling_rate"], octo["feedback_rate"]) == (0.0, 1.0, 0.0)
    fee = stats[("2026-10", "收费")]
    # only a consultation: valid 0, handled 0 -> all three rates NULL
    assert (fee["received"], fee["valid"]) == (1, 0)
    assert all(str(fee[k]) in ("None", "nan", "<NA>") for k in ("timely_rate", "handling_rate", "feedback_rate"))

    todo = db.query("SELECT ref_id, severity, due_on, days_overdue FROM todo_service_as_of(?) "
                    "WHERE ref_table = 'complaints' ORDER BY due_on", [date(2026, 10, 31)])
    # c4: deadline 09-25, 36 days overdue (6 in Sept + 30 in Oct), 高; c5: feedback due 10-14, 17 days, 中
    assert [tuple(r) for r in todo.itertuples(index=False)] == [
        (c4, "高", date(2026, 9, 25), 36), (c5, "中", date(2026, 10, 14), 17)]
    assert {c3, c6}.isdisjoint(todo["ref_id"])


def test_hotspot_needs_three_valid_complaints_in_30_days(db, actor, community, staff):
    for day in ("2026-10-01", "2026-10-05", "2026-10-20", "2026-10-31"):
        complaint(db, actor, community, staff, day + " 09:00", category="安全", location="5幢电梯")
    complaint(db, actor, community, staff, "2026-10-21 09:00", category="安全", location="5幢电梯", is_valid=False)

    def count(as_of):
        df = db.query("SELECT complaints FROM complaint_hotspots_as_of(?)", [as_of])
        return df["complaints"].tolist()

    # as of 10-31 the window is 10-02..10-31: 10-05, 10-20, 10-31 -> 3 (10-01 outside, consultation not counted)
    assert count(date(2026, 10, 31)) == [3]
    # as of 11-05 the window is 10-07..11-05: 10-20, 10-31 -> 2, not a hotspot
    assert count(date(2026, 11, 5)) == []
    flagged = db.query("SELECT item, severity FROM todo_service_as_of(?) WHERE item LIKE '投诉热点%'",
                       [date(2026, 10, 31)])
    # a hotspot is flagged in the to-do list until an open rectification covers it (the third
    # complaint opens one by itself where the inspection/rectification rules are installed)
    covered = db.scalar("SELECT has_rectification FROM complaint_hotspots_as_of(?)", [date(2026, 10, 31)])
    assert flagged["severity"].tolist() == ([] if covered else ["中"])


def test_overdue_orders_join_the_todo_list(db, actor, community, staff):
    urgent = repair(db, actor, community, staff, "2026-03-02 09:00", urgency="紧急", category="电梯")
    slow = repair(db, actor, community, staff, "2026-03-01 09:00", arrived="2026-03-01 10:00")
    todo = db.query("SELECT ref_id, severity, due_on, days_overdue FROM todo_service_as_of(?) "
                    "WHERE ref_table = 'work_orders' ORDER BY ref_id", [date(2026, 3, 5)])
    # urgent: not arrived, deadline 03-02 09:30 -> 高, 3 days; slow: arrived, 03-01 09:00 + 72 h = 03-04 -> 中, 1 day
    assert [tuple(r) for r in todo.itertuples(index=False)] == [
        (urgent, "高", date(2026, 3, 2), 3), (slow, "中", date(2026, 3, 4), 1)]
    assert list(db.query("SELECT * FROM v_todo_service").columns) == list(db.query("SELECT * FROM v_todo").columns)
