"""Meters: a reading below the last is refused at entry unless it is a rollover (翻表: usage =
maximum + 1 − previous + current; 9990 → 0015 on a 4-digit meter = 9999 + 1 − 9990 + 15 = 25) or a
replacement (换表: the old meter's final and the new meter's start reading both kept; usage = old
final − previous + current − new start). The bill run never skips a reading silently: a reading it
cannot bill is listed in the dry run, in the real run's output and in the to-do list.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from saving import add

from app.fees import billing
from app.saving.changes import RowChange, ValidationFailed, apply_changes

D = Decimal


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    h = add(db, actor, "households", community_id=c, code="1-1-101", area="80", status="已入住")
    water = add(db, actor, "fee_items", community_id=c, name="水费", method="按用量", unit_price="3.2",
                meter="水", status="已审批", effective_from="2026-01-01")
    return {"community": c, "household": h, "water": water}


def reading(db, actor, estate, period="2026-07", **values) -> int:
    return add(db, actor, "meter_readings", household_id=estate["household"], meter="水", period=period,
               **values)


def water_bill(db, estate, period="2026-07"):
    return db.rows("SELECT quantity, amount FROM bills WHERE household_id = ? AND fee_item_id = ? "
                   "AND period = ?", [estate["household"], estate["water"], period])


def test_a_reading_below_the_last_is_refused_at_entry(db, actor, estate):
    with pytest.raises(ValidationFailed, match="本期读数 15 小于上期读数 9990"):
        reading(db, actor, estate, prev_reading="9990", curr_reading="15")
    assert db.scalar("SELECT count(*) FROM meter_readings") == 0


def test_the_rollover_worked_example(db, actor, estate):
    rid = reading(db, actor, estate, prev_reading="9990", curr_reading="15", reading_kind="翻表", digits=4)
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 1
    # 9999 + 1 − 9990 + 15 = 25 t × 3.20 = 80.00
    assert water_bill(db, estate) == [(D("25.000"), D("80.00"))]
    assert db.rows("SELECT prev_reading, curr_reading FROM meter_readings WHERE id = ?", [rid]) == [
        (D("9990.000"), D("15.000"))]


def test_a_rollover_by_maximum_and_digits_known_from_an_earlier_reading(db, actor, estate):
    reading(db, actor, estate, period="2026-06", prev_reading="99000", curr_reading="99980", digits=5)
    # digits not given: the meter's earlier reading says 5 → maximum 99999; 99999 + 1 − 99980 + 7 = 27
    rid = reading(db, actor, estate, prev_reading="99980", curr_reading="7", reading_kind="翻表")
    assert db.scalar("SELECT digits FROM meter_readings WHERE id = ?", [rid]) == 5
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    assert water_bill(db, estate) == [(D("27.000"), D("86.40"))]
    other = add(db, actor, "households", community_id=estate["community"], code="1-1-102", area="80")
    add(db, actor, "meter_readings", household_id=other, meter="水", period="2026-07", prev_reading="950",
        curr_reading="20", reading_kind="翻表", max_reading="999")  # 999 + 1 − 950 + 20 = 70
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    assert db.scalar("SELECT quantity FROM bills WHERE household_id = ?", [other]) == D("70.000")


@pytest.mark.parametrize(("values", "message"), [
    ({"reading_kind": "翻表"}, "翻表须填写表盘位数或最大读数"),
    ({"reading_kind": "翻表", "digits": 3}, "读数不能超过表的最大读数 999"),
    ({"reading_kind": "换表"}, "换表须填写旧表止码和新表起码"),
    ({"reading_kind": "换表", "old_final_reading": "9980", "new_start_reading": "0"},
     "旧表止码 9980 不能小于上期读数 9990"),
    ({"reading_kind": "换表", "old_final_reading": "9995", "new_start_reading": "20"},
     "本期读数 15 不能小于新表起码 20"),
])
def test_a_rollover_or_replacement_without_what_it_needs_is_refused(db, actor, estate, values, message):
    with pytest.raises(ValidationFailed, match=message):
        reading(db, actor, estate, prev_reading="9990", curr_reading="15", **values)
    assert db.scalar("SELECT count(*) FROM meter_readings") == 0


def test_a_rollover_that_did_not_go_down_is_refused(db, actor, estate):
    with pytest.raises(ValidationFailed, match="本期读数不小于上期读数，不是翻表"):
        reading(db, actor, estate, prev_reading="100", curr_reading="120", reading_kind="翻表", digits=4)


def test_a_replacement_keeps_both_readings(db, actor, estate):
    rid = reading(db, actor, estate, prev_reading="9990", curr_reading="15", reading_kind="换表",
                  old_final_reading="9995", new_start_reading="3")
    assert db.rows("SELECT prev_reading, old_final_reading, new_start_reading, curr_reading FROM meter_readings "
                   "WHERE id = ?", [rid]) == [(D("9990.000"), D("9995.000"), D("3.000"), D("15.000"))]
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    # old meter 9995 − 9990 = 5, new meter 15 − 3 = 12 → 17 × 3.20 = 54.40
    assert water_bill(db, estate) == [(D("17.000"), D("54.40"))]


def test_a_reading_the_run_cannot_bill_is_listed_everywhere(db, actor, estate):
    rid = reading(db, actor, estate, prev_reading="9990", curr_reading="9995")
    with db.transaction() as cur:  # as an import from before the rule left it
        cur.execute("UPDATE meter_readings SET curr_reading = 15 WHERE id = ?", [rid])
    detail = "水表本期读数 15.000 小于上期 9990.000，未标明翻表或换表，不出账"

    preview = billing.preview_bill_run(db, estate["community"], "2026-07")
    found = preview.changes[preview.changes["kind"] == "读数不能出账"]
    assert list(zip(found["code"], found["detail"])) == [("1-1-101", detail)]

    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 0
    left = billing.unbillable_readings(db, estate["community"], "2026-07")
    assert list(zip(left["code"], left["meter"], left["detail"])) == [("1-1-101", "水", detail)]

    todo = db.rows("SELECT area, item, ref_table, ref_id, severity FROM todo_fees_as_of(DATE '2026-07-31') "
                   "WHERE ref_table = 'meter_readings'")
    assert todo == [("收费管理", "房屋 1-1-101 2026-07 " + detail, "meter_readings", rid, "中")]

    # put right as a rollover: billed by the next run, gone from the lists
    apply_changes(db, actor, "meter_readings", [RowChange("update", row_id=rid, values={
        "reading_kind": "翻表", "digits": 4})])
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 1
    assert water_bill(db, estate) == [(D("25.000"), D("80.00"))]
    assert billing.unbillable_readings(db, estate["community"], "2026-07").empty
    assert db.rows("SELECT * FROM todo_fees_as_of(DATE '2026-07-31') WHERE ref_table = 'meter_readings'") == []
