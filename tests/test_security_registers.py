"""保安 registers on hand-built data, on both backends: v_patrol_coverage and missed patrols in
v_todo_checks, v_visitors_inside (masked ID numbers), recording retention, the weekly shift grid,
control-room staffing and the save rules of shifts, patrols, visitors and monitor logs.

Defaults: security.patrols_per_day.公共区域 6, .楼内 2, security.patrol_lookback_days 7,
security.recording_days 30, security.control_room_staff 2.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.access.permissions import Actor
from app.estate.security import control_room_gaps, sign_out, visitors_inside, week_grid, week_shifts
from app.reading.views import read_view
from app.saving.changes import RowChange, SaveRejected, apply_changes


def add_many(db, actor, register: str, rows: list[dict]) -> list[int]:
    return apply_changes(db, actor, register, [RowChange("insert", values=v) for v in rows]).inserted


def add(db, actor, register: str, **values) -> int:
    return add_many(db, actor, register, [values])[0]


@pytest.fixture
def site(db, actor):
    community = add(db, actor, "communities", name="翠湖苑")
    department = add(db, actor, "departments", name="保安部")
    guards = add_many(db, actor, "staff", [
        {"name": name, "department_id": department, "community_id": community} for name in ("赵保安", "钱保安", "孙监控")])
    return {"community": community, "guards": guards}


# -- patrols ---------------------------------------------------------------------------------
def test_patrol_coverage_counts_each_day_from_the_first_patrol(db, actor, site):
    cid, guard = site["community"], site["guards"][0]
    rows = [{"community_id": cid, "guard_id": guard, "scope": "公共区域", "started_at": datetime(2026, 11, 20, 9)}]
    rows += [{"community_id": cid, "guard_id": guard, "scope": "公共区域", "started_at": datetime(2026, 11, 21, h)}
             for h in (1, 5, 9, 13, 17, 21)]
    ids = add_many(db, actor, "patrols", rows)
    coverage = db.rows("SELECT patrol_day, patrols, required, missed, complete, last_patrol_id "
                       "FROM patrol_coverage_as_of(DATE '2026-11-23') ORDER BY patrol_day")
    assert coverage == [
        (date(2026, 11, 20), 1, 6, 5, True, ids[0]),
        (date(2026, 11, 21), 6, 6, 0, True, ids[6]),
        (date(2026, 11, 22), 0, 6, 6, True, ids[6]),  # none: the latest patrol so far is referred to
        (date(2026, 11, 23), 0, 6, 6, False, ids[6]),  # today is not over
    ]
    todo = db.rows("SELECT due_on, days_overdue, severity, item FROM todo_checks_as_of(DATE '2026-11-23') "
                   "WHERE ref_table = 'patrols' ORDER BY due_on")
    assert todo == [
        (date(2026, 11, 20), 3, "低", "保安巡视（公共区域）11-20 巡视 1 次，应 6 次，少巡 5 次"),
        (date(2026, 11, 22), 1, "中", "保安巡视（公共区域）11-22 巡视 0 次，应 6 次，少巡 6 次"),
    ]
    # the look-back window: as of 11-28 only days from 11-21 on count (11-28 − 7)
    assert [r[0] for r in db.rows("SELECT due_on FROM todo_checks_as_of(DATE '2026-11-28') "
                                  "WHERE ref_table = 'patrols' ORDER BY due_on")] == [
        date(2026, 11, d) for d in (22, 23, 24, 25, 26, 27)]


def test_patrol_ending_before_it_starts_is_refused(db, actor, site):
    with pytest.raises(SaveRejected, match="结束时间不能早于开始时间"):
        add(db, actor, "patrols", community_id=site["community"], guard_id=site["guards"][0], scope="楼内",
            started_at=datetime(2026, 11, 20, 9), ended_at=datetime(2026, 11, 20, 8))


# -- visitors --------------------------------------------------------------------------------
def visitor(db, actor, site, name, at, left=None):
    return add(db, actor, "visitors", community_id=site["community"], name=name, visited_at=at, left_at=left,
               id_number="11010519491231002X", phone="13812345678", purpose="探亲访友")


def test_visitors_inside_at_the_end_of_a_day(db, actor, site):
    visitor(db, actor, site, "甲", datetime(2026, 11, 20, 10), datetime(2026, 11, 20, 11))
    b = visitor(db, actor, site, "乙", datetime(2026, 11, 20, 20), datetime(2026, 11, 21, 9))
    c = visitor(db, actor, site, "丙", datetime(2026, 11, 21, 10))

    def inside(as_of):
        return db.rows("SELECT visitor_id, days_inside, overnight FROM visitors_inside_as_of(CAST(? AS DATE)) "
                       "ORDER BY visitor_id", [as_of])

    assert inside("2026-11-20") == [(b, 0, False)]  # 甲 left the same day; 乙 left the next morning
    assert inside("2026-11-21") == [(c, 0, False)]
    assert inside("2026-11-22") == [(c, 1, True)]  # still in since yesterday: in the to-do list
    assert db.rows("SELECT ref_id, severity FROM todo_checks_as_of(DATE '2026-11-22') "
                   "WHERE ref_table = 'visitors'") == [(c, "低")]


def test_visitor_id_numbers_are_masked_for_guards_and_sign_out_ends_the_visit(db, actor, site):
    vid = visitor(db, actor, site, "丙", db.now().replace(hour=0, minute=5))
    guard = Actor("赵保安", role="保安")
    assert read_view(db, guard, "v_visitors_inside")["id_number"].tolist() == ["110***********002X"]
    assert visitors_inside(db, actor, site["community"])["id_number"].tolist() == ["11010519491231002X"]
    sign_out(db, guard, vid)
    assert visitors_inside(db, actor, site["community"]).empty
    with pytest.raises(SaveRejected, match="离开时间不能早于来访时间"):
        apply_changes(db, actor, "visitors", [RowChange("update", vid, {"left_at": datetime(2020, 1, 1)})])


# -- monitor logs ----------------------------------------------------------------------------
def test_latest_monitor_log_with_short_recording_is_a_todo(db, actor, site):
    cid, (a, b, _) = site["community"], site["guards"]
    add_many(db, actor, "monitor_logs", [
        {"community_id": cid, "logged_at": datetime(2026, 11, 20, 19), "shift": "白班", "operator_id": a,
         "second_operator_id": b, "cameras_total": 64, "recording_from": date(2026, 10, 20)},  # 31 days
        {"community_id": cid, "logged_at": datetime(2026, 11, 21, 7), "shift": "夜班", "operator_id": a,
         "second_operator_id": b, "cameras_total": 64, "recording_from": date(2026, 10, 23)},  # 29 days
    ])
    assert db.rows("SELECT due_on, item FROM todo_checks_as_of(DATE '2026-11-20') WHERE ref_table = 'monitor_logs'") == []
    assert db.rows("SELECT due_on, severity, item FROM todo_checks_as_of(DATE '2026-11-21') "
                   "WHERE ref_table = 'monitor_logs'") == [(date(2026, 11, 21), "中", "监控录像仅保存 29 天，少于 30 天")]
    with pytest.raises(SaveRejected, match="离线数不能大于摄像机总数"):
        add(db, actor, "monitor_logs", community_id=cid, logged_at=datetime(2026, 11, 21, 19), operator_id=a,
            cameras_total=10, cameras_offline=11)
    with pytest.raises(SaveRejected, match="同班值班人不能与值班人相同"):
        add(db, actor, "monitor_logs", community_id=cid, logged_at=datetime(2026, 11, 21, 19), operator_id=a,
            second_operator_id=a)


# -- shifts ----------------------------------------------------------------------------------
def test_week_grid_and_control_room_staffing(db, actor, site):
    cid, (zhao, qian, sun) = site["community"], site["guards"]
    monday = date(2026, 11, 23)
    add_many(db, actor, "shifts", [
        {"community_id": cid, "shift_on": monday, "shift": "白班", "post": "监控中心", "staff_id": sun},
        {"community_id": cid, "shift_on": monday, "shift": "白班", "post": "监控中心", "staff_id": qian},
        {"community_id": cid, "shift_on": monday, "shift": "夜班", "post": "监控中心", "staff_id": zhao},
        {"community_id": cid, "shift_on": date(2026, 11, 24), "shift": "休息", "post": "门岗", "staff_id": zhao},
        {"community_id": cid, "shift_on": date(2026, 11, 30), "shift": "白班", "post": "门岗", "staff_id": zhao},
    ])
    shifts = week_shifts(db, actor, cid, monday)
    assert len(shifts) == 4  # 11-30 is the next week
    grid = week_grid(shifts, monday)
    assert list(grid.columns)[:3] == ["保安员", "周一 11-23", "周二 11-24"]
    assert grid.set_index("保安员").loc["赵保安", ["周一 11-23", "周二 11-24", "周三 11-25"]].tolist() == [
        "夜班·监控中心", "休息", ""]  # a day off keeps no post
    gaps = control_room_gaps(db, shifts, cid, monday)
    # Monday: day shift has 2 (enough), night shift 1; the other six days have nobody: 1 + 12 gaps
    assert len(gaps) == 13
    assert str(gaps[0]) == "11-23（周一）夜班监控中心仅 1 人，每班不少于 2 人"


def test_shift_rules(db, actor, site):
    cid, zhao = site["community"], site["guards"][0]
    with pytest.raises(SaveRejected, match="当班须选择岗位"):
        add(db, actor, "shifts", community_id=cid, shift_on=date(2026, 11, 23), shift="白班", staff_id=zhao)
    add(db, actor, "shifts", community_id=cid, shift_on=date(2026, 11, 23), shift="白班", post="门岗", staff_id=zhao)
    with pytest.raises(SaveRejected, match="须唯一"):
        add(db, actor, "shifts", community_id=cid, shift_on=date(2026, 11, 23), shift="白班", post="巡逻",
            staff_id=zhao)
