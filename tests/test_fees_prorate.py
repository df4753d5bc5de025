"""Pro-rating (不足月按天折算): the first period of a household and a price change mid-period are
billed monthly amount × days / days in the month, rounded half-up once on the final product.

Worked example: 89.37 m² × 2.35 = 210.0195 a month; handover 2026-03-17 → 03-17..03-31 = 15 days;
210.0195 × 15 = 3150.2925, / 31 = 101.6223 → 101.62. A whole month is 210.0195 → 210.02.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from saving import add

from app.fees import billing
from app.saving.changes import ValidationFailed

D = Decimal


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    homes = {
        "handed": add(db, actor, "households", community_id=c, code="1-1-101", area="89.37", status="已入住",
                      handover_date="2026-03-17"),
        "moved": add(db, actor, "households", community_id=c, code="1-1-102", area="89.37", status="已入住",
                     move_in_date="2026-03-17"),
        "old": add(db, actor, "households", community_id=c, code="1-1-103", area="89.37", status="已入住",
                   handover_date="2020-05-09"),
    }
    return {"community": c, **homes}


def item(db, actor, estate, name="物业费", **values) -> int:
    values = {"method": "按面积", "unit_price": "2.35", "status": "已审批", "effective_from": "2026-01-01",
              **values}
    return add(db, actor, "fee_items", community_id=estate["community"], name=name, **values)


def amounts(db, period: str) -> dict[tuple[int, int], Decimal]:
    return {(h, f): a for h, f, a in db.rows(
        "SELECT household_id, fee_item_id, amount FROM bills WHERE period = ?", [period])}


def test_the_worked_example_handover_on_the_17th(db, actor, estate):
    fee = item(db, actor, estate)
    assert billing.generate_bills(db, actor, estate["community"], "2026-02") == 1  # only the old home
    assert billing.generate_bills(db, actor, estate["community"], "2026-03") == 3
    assert amounts(db, "2026-03") == {
        (estate["handed"], fee): D("101.62"),  # 15/31 of 210.0195
        (estate["moved"], fee): D("101.62"),  # no handover date: from 入住
        (estate["old"], fee): D("210.02"),
    }
    note = db.scalar("SELECT note FROM bills WHERE household_id = ? AND period = '2026-03'", [estate["handed"]])
    assert note == "按天折算：交房 2026-03-17 起，按 15/31 天计"
    note = db.scalar("SELECT note FROM bills WHERE household_id = ? AND period = '2026-03'", [estate["moved"]])
    assert note == "按天折算：入住 2026-03-17 起，按 15/31 天计"
    billing.generate_bills(db, actor, estate["community"], "2026-04")
    assert set(amounts(db, "2026-04").values()) == {D("210.02")}


def test_a_price_change_mid_month_is_split_by_day(db, actor, estate):
    old = item(db, actor, estate, effective_to="2026-03-15")
    new = item(db, actor, estate, unit_price="2.50", effective_from="2026-03-16")
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    got = amounts(db, "2026-03")
    # 1-1-103: 210.0195 × 15 / 31 = 101.6223 → 101.62; 89.37 × 2.50 = 223.425 × 16 / 31 = 115.3161 → 115.32
    assert got[estate["old"], old] == D("101.62")
    assert got[estate["old"], new] == D("115.32")
    # 1-1-101, handed over 03-17: nothing of the old price; the new one from 03-17, 15 days:
    # 223.425 × 15 / 31 = 108.1089 → 108.11
    assert (estate["handed"], old) not in got
    assert got[estate["handed"], new] == D("108.11")
    note = db.scalar("SELECT note FROM bills WHERE household_id = ? AND fee_item_id = ?", [estate["old"], new])
    assert note == "按天折算：收费标准 2026-03-16 起生效，按 16/31 天计"
    note = db.scalar("SELECT note FROM bills WHERE household_id = ? AND fee_item_id = ?", [estate["old"], old])
    assert note == "按天折算：收费标准 2026-03-15 止，按 15/31 天计"


def test_half_up_once_on_the_exact_product(db, actor, estate):
    # 10.01 × 15 / 30 = 5.005 exactly: half-up 5.01 (a float gives 5.00499… → 5.00)
    c = estate["community"]
    home = add(db, actor, "households", community_id=c, code="1-1-104", area="50", status="已入住",
               handover_date="2026-06-16")
    fee = item(db, actor, estate, name="垃圾清运费", method="固定", unit_price="10.01")
    billing.generate_bills(db, actor, c, "2026-06")
    assert amounts(db, "2026-06")[home, fee] == D("5.01")


def test_none_bills_whole_months_and_each_item_may_choose(db, actor, estate):
    c = estate["community"]
    add(db, actor, "settings", key="fee.prorate", value="none", value_type="文本", community_id=c)
    whole = item(db, actor, estate)
    by_day = item(db, actor, estate, name="电梯费", unit_price="0.30", prorate="按天")
    assert billing.generate_bills(db, actor, c, "2026-02") == 2  # not before the handover
    billing.generate_bills(db, actor, c, "2026-03")
    got = amounts(db, "2026-03")
    assert got[estate["handed"], whole] == D("210.02")
    # 89.37 × 0.30 = 26.811 × 15 / 31 = 12.9731 → 12.97
    assert got[estate["handed"], by_day] == D("12.97")
    assert got[estate["old"], by_day] == D("26.81")


def test_an_item_may_refuse_pro_rating_where_the_community_pro_rates(db, actor, estate):
    fee = item(db, actor, estate, prorate="不折算")
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    assert amounts(db, "2026-03")[estate["handed"], fee] == D("210.02")


def test_the_dry_run_names_the_pro_rated_households_and_why(db, actor, estate):
    item(db, actor, estate)
    preview = billing.preview_bill_run(db, estate["community"], "2026-03")
    assert preview.total == D("101.62") + D("101.62") + D("210.02")
    found = preview.changes[preview.changes["kind"] == "按天折算"]
    assert list(zip(found["code"], found["detail"])) == [
        ("1-1-101", "物业费：交房 2026-03-17 起，按 15/31 天计，101.62 元"),
        ("1-1-102", "物业费：入住 2026-03-17 起，按 15/31 天计，101.62 元"),
    ]


def test_a_quarter_is_pro_rated_over_its_days(db, actor, estate):
    # 季: billed in April for 04-01..06-30 (91 days); handover 05-20 of a new home → 42 days.
    # 89.37 × 2.35 × 3 = 630.0585 × 42 / 91 = 290.7962 → 290.80
    c = estate["community"]
    home = add(db, actor, "households", community_id=c, code="1-1-105", area="89.37", status="已入住",
               handover_date="2026-05-20")
    fee = item(db, actor, estate, cycle="季")
    billing.generate_bills(db, actor, c, "2026-04")
    assert amounts(db, "2026-04")[home, fee] == D("290.80")


def test_an_unknown_prorate_setting_is_refused(db, actor, estate):
    with pytest.raises(ValidationFailed, match="fee.prorate 只能取 day 或 none"):
        add(db, actor, "settings", key="fee.prorate", value="month", value_type="文本",
            community_id=estate["community"])
    assert db.scalar("SELECT count(*) FROM settings WHERE key = 'fee.prorate' AND community_id = ?",
                     [estate["community"]]) == 0
