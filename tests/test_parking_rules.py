"""Temporary-parking charges as data (issue #19 item 9): 临时停车收费规则 per vehicle type and band.

The rule worked by hand: 20 free minutes, 5.00 the first hour, 2.00 each started hour after,
cap 30.00 per calendar day, night 22:00–07:00 at 1.00 an hour (an hour starting at night).
- 10:00–12:10 (130 min, 3 started hours, by day): 5 + 2 + 2 = 9.00;
- 20 minutes: 0; 21 minutes: 5.00 (charged from minute 0 once past the free minutes);
- 26 h, 07-01 08:00 → 07-02 10:00: 07-01 hours 08 (5.00), 09–21 (13 × 2.00), 22–23 (2 × 1.00) =
  33.00 → cap 30.00; 07-02 hours 00–06 (7 × 1.00) and 07–09 (3 × 2.00) = 13.00; total 43.00;
- 23:00 → 06:30 (8 started hours, all at night): 1.00 + 7 × 1.00 = 8.00;
- a 摩托车 under its own rule (60 free minutes, 1.00 an hour, cap 5.00): 10:00–12:10 = 3.00;
- no rule (the default): the parking.* settings, 30 free minutes, 2.00 an hour, 20.00 per 24 h:
  130 min → 3 × 2.00 = 6.00; the same numbers as a rule with 每24小时 give the same fees.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from saving import add

from app.estate import parking
from app.saving.changes import ValidationFailed

D = Decimal


@pytest.fixture
def lot(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    other = add(db, actor, "communities", name="翠湖苑")  # no rule: the settings
    add(db, actor, "parking_rules", community_id=c, name="临时停车（日夜）", free_minutes=20, first_hour="5.00",
        per_hour="2.00", daily_cap="30.00", cap_basis="每自然日", night_from=22, night_to=7,
        night_per_hour="1.00", valid_from="2026-01-01")
    add(db, actor, "parking_rules", community_id=c, name="摩托车", vehicle_type="摩托车", free_minutes=60,
        first_hour="1.00", per_hour="1.00", daily_cap="5.00", valid_from="2026-01-01")
    return {"community": c, "other": other}


def fee(db, community: int, entered: str, exited: str, vehicle_type: str | None = None) -> Decimal:
    return parking.temp_fee(db, community, datetime.fromisoformat(entered), datetime.fromisoformat(exited),
                            vehicle_type)[1]


EXAMPLES = [
    ("2026-07-01 10:00", "2026-07-01 12:10", None, D("9.00")),
    ("2026-07-01 10:00", "2026-07-01 10:20", None, D("0.00")),
    ("2026-07-01 10:00", "2026-07-01 10:21", None, D("5.00")),
    ("2026-07-01 08:00", "2026-07-02 10:00", None, D("43.00")),
    ("2026-07-01 23:00", "2026-07-02 06:30", None, D("8.00")),
    ("2026-07-01 10:00", "2026-07-01 12:10", "摩托车", D("3.00")),
    ("2026-07-01 10:00", "2026-07-01 12:10", "小型汽车", D("9.00")),  # no rule of its own: the general one
]


def test_the_worked_examples(db, lot):
    got = [fee(db, lot["community"], entered, exited, vtype) for entered, exited, vtype, _ in EXAMPLES]
    assert got == [expected for *_, expected in EXAMPLES]


def test_without_a_rule_the_settings_apply_and_the_exit_and_view_agree(db, actor, lot):
    assert fee(db, lot["other"], "2026-07-01 10:00", "2026-07-01 12:10") == D("6.00")
    assert fee(db, lot["other"], "2026-07-01 10:00", "2026-07-02 11:00") == D("22.00")  # 25 h: 20 + 2
    # the settings as a rule (每24小时) give the same fees
    add(db, actor, "parking_rules", community_id=lot["other"], name="默认", free_minutes=30, first_hour="2.00",
        per_hour="2.00", daily_cap="20.00", cap_basis="每24小时", valid_from="2026-01-01")
    assert fee(db, lot["other"], "2026-07-01 10:00", "2026-07-01 12:10") == D("6.00")
    assert fee(db, lot["other"], "2026-07-01 10:00", "2026-07-02 11:00") == D("22.00")
    # the exit charges what the view says, the rule named
    stay = parking.record_entry(db, actor, lot["community"], "粤B12345", datetime(2026, 7, 1, 8, 0))
    assert parking.record_exit(db, actor, stay, datetime(2026, 7, 2, 10, 0)) == D("43.00")
    assert db.rows("SELECT fee, fee_charged, difference, rule_name FROM parking_temp_fees_as_of(DATE '2026-07-31') "
                   "WHERE parking_event_id = ?", [stay]) == [(D("43.00"), D("43.00"), D("0.00"), "临时停车（日夜）")]


def test_a_rule_starts_on_its_date_and_bad_rules_are_refused(db, actor, lot):
    add(db, actor, "parking_rules", community_id=lot["community"], name="临时停车（涨价）", free_minutes=20,
        first_hour="6.00", per_hour="3.00", valid_from="2026-08-01")
    assert fee(db, lot["community"], "2026-07-31 10:00", "2026-07-31 12:10") == D("9.00")
    assert fee(db, lot["community"], "2026-08-01 10:00", "2026-08-01 12:10") == D("12.00")  # 6 + 3 + 3
    with pytest.raises(ValidationFailed, match="夜间开始、夜间结束和夜间每小时须同时填写"):
        add(db, actor, "parking_rules", community_id=lot["community"], name="x", free_minutes=0,
            first_hour="1.00", per_hour="1.00", night_from=22, valid_from="2026-01-01")
    with pytest.raises(ValidationFailed, match="失效日期不能早于生效日期"):
        add(db, actor, "parking_rules", community_id=lot["community"], name="y", free_minutes=0,
            first_hour="1.00", per_hour="1.00", valid_from="2026-02-01", valid_to="2026-01-01")
