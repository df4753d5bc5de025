"""The demo's decoration, parking, vacant-unit and emergency data has the rhythms the office expects."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.storage.db import open_database

DEMO_TODAY = date(2026, 9, 30)


@pytest.fixture(scope="module")
def demo(demo_file):
    db = open_database(str(demo_file), read_only=True)
    yield db
    db.close()


def test_temporary_parking_every_day_and_charged_by_the_rule(demo):
    days = {r[0] for r in demo.rows(
        "SELECT DISTINCT CAST(entered_at AS DATE) FROM parking_events WHERE is_temporary")}
    assert {DEMO_TODAY - timedelta(days=n) for n in range(60)} <= days
    # every exit was charged exactly what v_parking_temp_fees says; some free, some over a day
    assert demo.scalar("SELECT count(*) FROM parking_temp_fees_as_of(?) WHERE difference <> 0", [DEMO_TODAY]) == 0
    assert demo.scalar("SELECT count(*) FROM parking_temp_fees_as_of(?) WHERE fee = 0", [DEMO_TODAY]) > 100
    assert demo.scalar("SELECT count(*) FROM parking_temp_fees_as_of(?) WHERE full_days >= 1", [DEMO_TODAY]) > 0


def test_decorations_in_every_stage_with_violations_and_refunds(demo):
    statuses = {r[0] for r in demo.rows("SELECT DISTINCT status FROM decorations")}
    assert {"申请", "已批准", "施工中", "已退保证金"} <= statuses
    assert demo.scalar("SELECT count(*) FROM decoration_checks WHERE violation IS NOT NULL AND penalty > 0") > 0
    # refunded decorations got back what they paid less their penalties
    assert demo.scalar(
        "SELECT count(*) FROM decoration_deposit_as_of(?) WHERE status = '已退保证金' "
        "AND refunded <> greatest(received - penalties, 0)", [DEMO_TODAY]) == 0
    assert demo.scalar("SELECT count(*) FROM decoration_deposit_as_of(?) WHERE status = '已退保证金'",
                       [DEMO_TODAY]) >= 4


def test_leases_vacant_checks_drills_and_incidents_feed_the_todo_list(demo):
    areas = {r[0] for r in demo.rows("SELECT DISTINCT ref_table FROM todo_estate_as_of(?)", [DEMO_TODAY])}
    assert {"parking_spaces", "households", "emergency_plans", "keys"} <= areas
    assert demo.scalar("SELECT count(*) FROM vacant_check_due_as_of(?) WHERE NOT due", [DEMO_TODAY]) > 0
    assert demo.scalar("SELECT count(*) FROM incidents") >= 2
    assert demo.scalar("SELECT count(*) FROM move_ins WHERE completed_on IS NULL") >= 1
