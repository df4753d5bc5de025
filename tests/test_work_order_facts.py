"""The facts kept per work order (app/service/work_order_facts.py): every write through the save path keeps
them equal to a recomputation, and the repair statistics judge them at any date and setting.

Expected figures are worked out by hand in comments; defaults: 一般 1440 min, completion 72 h,
rework window 30 days. Both backends (the `db` fixture).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from saving import add

from app.saving.changes import RowChange, apply_changes
from app.service import service_desk as desk
from app.service import work_order_facts

T = datetime.fromisoformat


@pytest.fixture
def place(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    department = add(db, actor, "departments", name="工程部")
    staff = add(db, actor, "staff", name="李工", department_id=department, community_id=c)
    homes = [add(db, actor, "households", community_id=c, code=f"1-1-10{n}", area="90.00") for n in (1, 2)]
    return {"community": c, "staff": staff, "homes": homes}


def order(db, actor, place, reported: str, home: int, category: str = "管道", arrived: str | None = None,
          completed: str | None = None) -> int:
    oid = desk.register_repair(db, actor, {"community_id": place["community"], "household_id": home,
                                           "category": category, "description": "报修", "urgency": "一般",
                                           "reported_at": T(reported)})[0]
    if arrived:
        desk.dispatch(db, actor, oid, place["staff"], T(reported))
        desk.arrive(db, actor, oid, T(arrived))
    if completed:
        desk.complete(db, actor, oid, T(completed))
    return oid


def set_value(db, actor, key: str, value) -> None:
    row_id = db.scalar("SELECT id FROM settings WHERE key = ? AND community_id IS NULL", [key])
    apply_changes(db, actor, "settings", [RowChange("update", row_id=row_id, values={"value": str(value)})])


def facts(db, oid: int) -> dict:
    return db.query("SELECT * FROM work_order_facts WHERE work_order_id = ?", [oid]).iloc[0].to_dict()


def stats(db, as_of) -> tuple:
    return tuple(db.rows("SELECT orders, completed, completed_on_time, reworked, visited, satisfaction "
                         "FROM repair_stats_as_of(?)", [as_of])[0])


def test_every_kind_of_write_keeps_the_facts(db, actor, place):
    home = place["homes"][0]
    first = order(db, actor, place, "2026-03-02 09:00", home, arrived="2026-03-02 10:00",
                  completed="2026-03-03 09:00")
    # a pause of 2 h before completion: 24 h − 2 h = 1320 minutes of work
    desk.pause(db, actor, (second := order(db, actor, place, "2026-03-10 09:00", home,
                                           arrived="2026-03-10 10:00")), "等配件", T("2026-03-10 11:00"))
    desk.resume(db, actor, second, T("2026-03-10 13:00"))
    desk.complete(db, actor, second, T("2026-03-11 09:00"))
    assert facts(db, second)["completion_minutes"] == 1320
    # the second order is the first's repeat, and the first is the second's previous completion
    assert facts(db, first)["repeat_reported_at"] == T("2026-03-10 09:00")
    assert facts(db, second)["previous_completed_at"] == T("2026-03-03 09:00")
    desk.record_visit(db, actor, first, 2, T("2026-03-04 10:00"), needs_rework=True)
    assert facts(db, first)["rework_visit_at"] == T("2026-03-04 10:00")
    rework = desk.reopen_as_rework(db, actor, first, "又漏水", T("2026-03-05 08:00"))[0]
    assert facts(db, first)["linked_at"] == T("2026-03-05 08:00")
    assert work_order_facts.differences(db) == 0
    # the rework order moved to the other household: the first order's next report is now 03-10's
    apply_changes(db, actor, "work_orders", [RowChange("update", row_id=rework,
                                                       values={"household_id": place["homes"][1]})])
    assert facts(db, first)["repeat_reported_at"] == T("2026-03-10 09:00")
    # an order registered by mistake on 03-06 becomes the first's next report, until it is deleted
    mistake = order(db, actor, place, "2026-03-06 08:00", home)
    assert facts(db, first)["repeat_reported_at"] == T("2026-03-06 08:00")
    apply_changes(db, actor, "work_orders", [RowChange("delete", row_id=mistake)])
    assert db.scalar("SELECT count(*) FROM work_order_facts WHERE work_order_id = ?", [mistake]) == 0
    assert facts(db, first)["repeat_reported_at"] == T("2026-03-10 09:00")
    assert work_order_facts.differences(db) == 0


def test_stats_at_a_past_date_and_after_a_setting_changes(db, actor, place):
    home = place["homes"][0]
    a = order(db, actor, place, "2026-03-02 09:00", home, arrived="2026-03-02 10:00", completed="2026-03-04 12:00")
    desk.record_visit(db, actor, a, 4, T("2026-03-05 10:00"))
    # reported again 03-20 (16 days after completion: inside the 30-day window), completed 03-21
    b = order(db, actor, place, "2026-03-20 09:00", home, arrived="2026-03-20 10:00", completed="2026-03-21 09:00")
    desk.record_visit(db, actor, b, 2, T("2026-04-02 10:00"))
    # 03-31: 2 orders, both completed; a took 51 h (on time), b 24 h; a reworked (repeat 03-20);
    # visits by then: only a's (score 4) → visited 1, satisfaction 4.0
    assert stats(db, date(2026, 3, 31)) == (2, 2, 2, 1, 1, 4.0)
    # 03-10: only a reported (and completed); its repeat comes later; visited, score 4
    assert stats(db, date(2026, 3, 10)) == (1, 1, 1, 0, 1, 4.0)
    # 04-30: b's visit counts too → (4 + 2) / 2 = 3.0
    assert stats(db, date(2026, 4, 30)) == (2, 2, 2, 1, 2, 3.0)
    # a stricter completion limit, 48 h: a (51 h) is now late, b (24 h) still on time
    set_value(db, actor, "repair.complete_hours", 48)
    assert stats(db, date(2026, 4, 30))[2] == 1
    # a narrower rework window, 10 days: a's repeat 16 days after completion no longer counts
    set_value(db, actor, "repair.rework_window_days", 10)
    assert stats(db, date(2026, 4, 30))[3] == 0
