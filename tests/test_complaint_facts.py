"""The facts and counts kept per complaint and group (app/service/complaint_facts.py): every write through the
save path keeps them equal to a recomputation, a holiday or a setting written later moves deadlines,
and the statistics at a past date take out what was recorded after it.

Expected figures are worked out by hand in comments; defaults: handled within 2 working days,
feedback within 1. Both backends (the `db` fixture).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from saving import add

from app.saving.changes import RowChange, apply_changes
from app.service import complaint_facts
from app.service import service_desk as desk

T = datetime.fromisoformat
STATS = "SELECT received, valid, handled, on_time, fed_back FROM complaint_stats_as_of(?) WHERE month = ? AND category = ?"
# the same figures from the per-complaint judgement the breakdowns use (no kept counts)
JUDGED = ("SELECT count(*), count(*) FILTER (WHERE valid), count(*) FILTER (WHERE handled), "
          "count(*) FILTER (WHERE on_time), count(*) FILTER (WHERE fed_back) "
          "FROM complaints_judged_as_of(?) WHERE month = ? AND category = ?")


def update(db, actor, register: str, row_id: int, **values) -> None:
    apply_changes(db, actor, register, [RowChange("update", row_id=row_id, values=values)])


@pytest.fixture
def place(db, actor) -> dict:
    communities = [add(db, actor, "communities", name=name) for name in ("阳光花园", "翠湖苑")]
    department = add(db, actor, "departments", name="客服部")
    staff = add(db, actor, "staff", name="张客服", department_id=department, community_id=communities[0])
    return {"communities": communities, "staff": staff}


def complaint(db, actor, place, received: str, *, handled: str | None = None, feedback: str | None = None,
              **values) -> int:
    values = {"community_id": place["communities"][0], "category": "噪音", "description": "楼上装修噪音",
              "received_at": T(received), "responsible_id": place["staff"], **values}
    cid = desk.register_complaint(db, actor, values)[0]
    if handled:
        desk.move_complaint(db, actor, cid, "已处理", T(handled), result="已协调")
    if feedback:
        desk.move_complaint(db, actor, cid, "已反馈", T(feedback))
    return cid


def stats(db, as_of, month: str, category: str = "噪音") -> tuple:
    got = db.rows(STATS, [as_of, month, category])
    judged = tuple(db.rows(JUDGED, [as_of, month, category])[0])
    assert (tuple(got[0]) if got else (0, 0, 0, 0, 0)) == judged  # kept counts = the judgement grouped
    return judged


def test_every_kind_of_write_keeps_facts_and_counts(db, actor, place):
    a = complaint(db, actor, place, "2026-09-14 09:00", handled="2026-09-15 10:00", feedback="2026-09-16 10:00")
    b = complaint(db, actor, place, "2026-09-21 09:00")
    c = complaint(db, actor, place, "2026-09-22 09:00", category="停车")
    assert complaint_facts.differences(db) == 0
    # Sept 噪音: a (handled on time, fed back) and b (open) -> 2 received, 2 valid, 1 handled, 1, 1
    assert stats(db, date(2026, 10, 31), "2026-09") == (2, 2, 1, 1, 1)
    # b moves to 停车: 噪音 keeps a alone, 停车 gets b and c
    update(db, actor, "complaints", b, category="停车")
    assert stats(db, date(2026, 10, 31), "2026-09") == (1, 1, 1, 1, 1)
    assert stats(db, date(2026, 10, 31), "2026-09", "停车") == (2, 2, 0, 0, 0)
    # c was received in October after all, in the other community
    update(db, actor, "complaints", c, received_at=T("2026-10-08 09:00"), community_id=place["communities"][1])
    assert stats(db, date(2026, 10, 31), "2026-09", "停车") == (1, 1, 0, 0, 0)
    assert db.rows("SELECT community_id, received FROM complaint_stats_as_of(?) WHERE month = '2026-10'",
                   [date(2026, 10, 31)]) == [(place["communities"][1], 1)]
    # a turns out to be only a consultation: received 1, valid 0, nothing handled counts
    update(db, actor, "complaints", a, is_valid=False)
    assert stats(db, date(2026, 10, 31), "2026-09") == (1, 0, 0, 0, 0)
    # one registered by mistake (nobody responsible yet, so still deletable) counts until deleted
    mistake = complaint(db, actor, place, "2026-09-25 09:00", category="绿化", responsible_id=None)
    assert stats(db, date(2026, 10, 31), "2026-09", "绿化") == (1, 1, 0, 0, 0)
    apply_changes(db, actor, "complaints", [RowChange("delete", row_id=mistake)])
    assert db.scalar("SELECT count(*) FROM complaint_facts WHERE complaint_id = ?", [mistake]) == 0
    assert db.rows(STATS, [date(2026, 10, 31), "2026-09", "绿化"]) == []
    assert complaint_facts.differences(db) == 0


def test_a_holiday_or_a_setting_written_later_moves_the_deadline(db, actor, place):
    # received Fri 09-04 16:00; 2 working days: Mon 09-07, Tue 09-08; handled Wed 09-09 -> late
    late = complaint(db, actor, place, "2026-09-04 16:00", handled="2026-09-09 10:00")
    assert desk.complaint_deadlines(db, late)[0] == date(2026, 9, 8)
    assert stats(db, date(2026, 9, 30), "2026-09") == (1, 1, 1, 0, 0)
    # Monday 09-07 declared a day off afterwards: Tue 09-08, Wed 09-09 -> on time
    holiday = add(db, actor, "holidays", on_date="2026-09-07", is_workday=False, name="临时停工")
    assert desk.complaint_deadlines(db, late)[0] == date(2026, 9, 9)
    assert stats(db, date(2026, 9, 30), "2026-09") == (1, 1, 1, 1, 0)
    apply_changes(db, actor, "holidays", [RowChange("delete", row_id=holiday)])
    assert stats(db, date(2026, 9, 30), "2026-09") == (1, 1, 1, 0, 0)
    # the office allows 3 working days: Mon 09-07, Tue 09-08, Wed 09-09 -> on time again
    setting = db.scalar("SELECT id FROM settings WHERE key = 'complaint.handle_workdays' AND community_id IS NULL")
    update(db, actor, "settings", setting, value="3")
    assert desk.complaint_deadlines(db, late)[0] == date(2026, 9, 9)
    assert stats(db, date(2026, 9, 30), "2026-09") == (1, 1, 1, 1, 0)
    assert complaint_facts.differences(db) == 0


def test_stats_at_past_dates_take_out_what_was_recorded_later(db, actor, place):
    # Mon 10-12 09:00 received; deadline Wed 10-14; handled Tue 10-13 15:00; fed back Wed 10-14 09:00
    complaint(db, actor, place, "2026-10-12 09:00", handled="2026-10-13 15:00", feedback="2026-10-14 09:00")
    # Thu 10-22 received; deadline Mon 10-26; handled Tue 10-27 (late); no feedback
    complaint(db, actor, place, "2026-10-22 09:00", handled="2026-10-27 11:00")
    # (received, valid, handled, on_time, fed_back) for October 噪音 as of …
    assert stats(db, date(2026, 10, 11), "2026-10") == (0, 0, 0, 0, 0)  # nothing received yet: no row
    assert stats(db, date(2026, 10, 12), "2026-10") == (1, 1, 0, 0, 0)
    assert stats(db, date(2026, 10, 13), "2026-10") == (1, 1, 1, 1, 0)
    assert stats(db, datetime(2026, 10, 14, 8, 0), "2026-10") == (1, 1, 1, 1, 0)  # a cut-off before the feedback
    assert stats(db, date(2026, 10, 14), "2026-10") == (1, 1, 1, 1, 1)
    assert stats(db, date(2026, 10, 26), "2026-10") == (2, 2, 1, 1, 1)  # the second not handled yet
    assert stats(db, date(2026, 10, 31), "2026-10") == (2, 2, 2, 1, 1)
    # the to-do as of 10-27 morning has nothing: the second is handled that day, feedback due 10-28
    assert db.scalar("SELECT count(*) FROM todo_service_as_of(?) WHERE ref_table = 'complaints'",
                     [date(2026, 10, 27)]) == 0
    # as of 10-29 its feedback (due 10-28) is a day overdue
    assert db.rows("SELECT due_on, days_overdue FROM todo_service_as_of(?) WHERE ref_table = 'complaints'",
                   [date(2026, 10, 29)]) == [(date(2026, 10, 28), 1)]
