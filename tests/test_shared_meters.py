"""Shared meters (公摊, issue 19 item 8): a meter of no one household (楼栋总表) whose usage for a
period is split over the households of its scope by area, equally or by their own usage; each
bill says 公摊 and the basis; the shares sum exactly to the shared amount, the rounding remainder
going to the largest share (ties: the first 房号).

Worked by hand (cents; a share is half-up of total × weight / Σ weights):
- 按面积: 100 kWh × 0.60 = 60.00 over 80, 90, 100 m² (Σ 270): 6000 × 80/270 = 1777.78 → 17.78;
  × 90/270 = 20.00; × 100/270 = 2222.22 → 22.22; Σ 60.00, remainder 0.00 (to 1-1-103, the largest).
- 平均: 100 kWh × 0.55 = 55.00 over 3: 18.333 → 18.33 each, Σ 54.99, remainder 0.01 → all equal, so
  the first 房号 1-1-101 takes it: 18.34 / 18.33 / 18.33.
- 按用量: 60.00 over own usages 20, 20, 30 kWh (Σ 70): 6000 × 20/70 = 1714.29 → 17.14 (twice);
  × 30/70 = 2571.43 → 25.71; Σ 59.99, remainder 0.01 → the largest share: 25.72.
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
    one = add(db, actor, "buildings", community_id=c, code="1")
    two = add(db, actor, "buildings", community_id=c, code="2")

    def home(code, area, building=one):
        return add(db, actor, "households", community_id=c, building_id=building, code=code, area=area,
                   status="已入住", handover_date="2020-05-09")

    return {"community": c, "one": one, "two": two, "a": home("1-1-101", "80.00"), "b": home("1-1-102", "90.00"),
            "c": home("1-1-103", "100.00"), "other": home("2-1-101", "120.00", two)}


def shared_item(db, actor, estate, name="公摊电费", price="0.60") -> int:
    return add(db, actor, "fee_items", community_id=estate["community"], name=name, method="公摊", meter="电",
               unit_price=price, status="已审批", effective_from="2026-01-01")


def reading(db, actor, estate, fee, basis, name="1栋电总表", prev="1000", curr="1100", building="one") -> int:
    return add(db, actor, "shared_meter_readings", community_id=estate["community"],
               building_id=estate[building] if building else None, name=name, fee_item_id=fee, basis=basis,
               period="2026-03", prev_reading=prev, curr_reading=curr)


def bills(db, fee) -> dict[int, tuple[Decimal, str]]:
    return {h: (a, n) for h, a, n in db.rows(
        "SELECT household_id, amount, note FROM bills WHERE fee_item_id = ? AND period = '2026-03'", [fee])}


def test_split_by_area_the_worked_example(db, actor, estate):
    fee = shared_item(db, actor, estate)
    reading(db, actor, estate, fee, "按面积")
    preview = billing.preview_bill_run(db, estate["community"], "2026-03")
    assert preview.total == D("60.00")
    found = preview.changes[preview.changes["kind"] == "公摊"]
    assert found[["building", "code", "detail"]].values.tolist() == [[
        "1", "1-1-103", "1栋电总表：用量 100 × 单价 0.6 = 60.00 元，按面积分摊给 3 户，尾差 0.00 元计入 1-1-103"
                        "（分摊金额最多的一户，相同时取房号最前的一户）"]]
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    got = bills(db, fee)
    head = "公摊 1栋电总表：用量 100 × 单价 0.6 = 60.00 元，按建筑面积 "
    assert got == {
        estate["a"]: (D("17.78"), head + "80.00/270.00 ㎡，本户 17.78 元"),
        estate["b"]: (D("20.00"), head + "90.00/270.00 ㎡，本户 20.00 元"),
        estate["c"]: (D("22.22"), head + "100.00/270.00 ㎡，本户 22.22 元"),
    }  # building 2 is outside the meter's scope
    assert sum(a for a, _ in got.values()) == D("60.00")
    assert db.scalar("SELECT quantity FROM bills WHERE household_id = ? AND fee_item_id = ?",
                     [estate["a"], fee]) == D("29.630")  # 100 × 80/270 kWh


def test_split_equally_the_remainder_goes_to_the_first_code(db, actor, estate):
    fee = shared_item(db, actor, estate, "照明公摊", "0.55")
    reading(db, actor, estate, fee, "平均", name="1栋公共照明")
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    got = bills(db, fee)
    head = "公摊 1栋公共照明：用量 100 × 单价 0.55 = 55.00 元，平均分摊给 3 户，本户 "
    assert got == {estate["a"]: (D("18.34"), head + "18.34 元（含尾差 0.01 元）"),
                   estate["b"]: (D("18.33"), head + "18.33 元"), estate["c"]: (D("18.33"), head + "18.33 元")}


def test_split_by_own_usage_the_remainder_goes_to_the_largest_share(db, actor, estate):
    fee = shared_item(db, actor, estate)
    for h, used in (("a", "20"), ("b", "20"), ("c", "30")):
        add(db, actor, "meter_readings", household_id=estate[h], meter="电", period="2026-03",
            prev_reading="500", curr_reading=str(500 + int(used)))
    reading(db, actor, estate, fee, "按用量", building=None)  # the whole community: 2-1-101 used nothing
    preview = billing.preview_bill_run(db, estate["community"], "2026-03")
    detail = preview.changes[preview.changes["kind"] == "公摊"]["detail"].tolist()
    assert detail == ["1栋电总表：用量 100 × 单价 0.6 = 60.00 元，按用量分摊给 4 户，尾差 0.01 元计入 1-1-103"
                      "（分摊金额最多的一户，相同时取房号最前的一户）"]
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    got = {h: a for h, (a, _) in bills(db, fee).items()}
    assert got == {estate["a"]: D("17.14"), estate["b"]: D("17.14"), estate["c"]: D("25.72")}
    assert bills(db, fee)[estate["c"]][1] == ("公摊 1栋电总表：用量 100 × 单价 0.6 = 60.00 元，按本户用量 30/70，"
                                             "本户 25.72 元（含尾差 0.01 元）")


def test_a_meter_that_cannot_be_split_stops_the_run(db, actor, estate):
    fee = shared_item(db, actor, estate)
    reading(db, actor, estate, fee, "按用量")  # no household of building 1 has an 电 reading
    with pytest.raises(billing.BillRunStopped) as stopped:
        billing.preview_bill_run(db, estate["community"], "2026-03")
    assert [str(p) for p in stopped.value.problems] == [
        "2026-03 公摊「公摊电费」：公摊表计「1栋电总表」按用量分摊，但范围内各户本期用量合计为 0，无法分摊，出账已停止"]
    assert db.scalar("SELECT count(*) FROM bills") == 0


def test_bad_shared_readings_are_refused(db, actor, estate):
    fee = shared_item(db, actor, estate)
    plain = add(db, actor, "fee_items", community_id=estate["community"], name="物业费", method="按面积",
                unit_price="2.35", status="已审批", effective_from="2026-01-01")
    with pytest.raises(ValidationFailed, match="本期读数 1000.000 小于上期读数 1100.000"):
        reading(db, actor, estate, fee, "按面积", prev="1100", curr="1000")
    with pytest.raises(ValidationFailed, match="请选择计费方式为「公摊」的收费项目"):
        reading(db, actor, estate, plain, "按面积")
    with pytest.raises(ValidationFailed, match="公摊计费须选择表计"):
        add(db, actor, "fee_items", community_id=estate["community"], name="公摊水费", method="公摊",
            unit_price="3.20", status="草稿", effective_from="2026-01-01")
    assert db.scalar("SELECT count(*) FROM shared_meter_readings") == 0
