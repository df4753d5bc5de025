"""More formulas (issue 19, item 7): 附加费, 套内面积 as the basis, and formula fees written in the
safe expression language, compiled to SQL so the bill run stays set-based.

Worked by hand (money half-up once, on the final amount):
- 按面积 with 附加费 5.00: 89.37 × 2.35 = 210.0195, + 5.00 = 215.0195 → 215.02.
- 套内面积 72.15 × 2.35 = 169.5525 → 169.55 (the 建筑面积 89.37 is not used).
- 电梯费 by floor, 如果(楼层 <= 2, 0, 如果(楼层 <= 11, 建筑面积 × 0.30, 建筑面积 × 0.45)) on 89.37 m²:
  floor 1 → 0 (no bill); floor 5 → 26.811 → 26.81; floor 12 → 40.2165 → 40.22.
- 阶梯水费, 如果(用量 <= 10, 用量 × 单价, 10 × 单价 + (用量 − 10) × 单价 × 1.5) at 3.20 + 附加费 2.00:
  14 t → 32.00 + 4 × 4.80 = 51.20 + 2.00 = 53.20; 8 t → 25.60 + 2.00 = 27.60.
- A formula that fails (÷ 0, a variable left blank) or gives a negative amount stops the dry run
  and the run, naming the household and the formula; HC小区 bills such a household 0.00 silently.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from saving import add

from app.fees import billing
from app.saving.changes import RowChange, ValidationFailed, apply_changes

D = Decimal
TIERED_LIFT = "如果(楼层 <= 2, 0, 如果(楼层 <= 11, 建筑面积 × 0.30, 建筑面积 × 0.45))"
TIERED_WATER = "如果(用量 <= 10, 用量 * 单价, 10 * 单价 + (用量 - 10) * 单价 * 1.5)"


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")

    def home(code, **values):
        return add(db, actor, "households", community_id=c, code=code, area="89.37", status="已入住",
                   handover_date="2020-05-09", **values)

    return {"community": c, "low": home("1-1-101", floor=1, inner_area="72.15"),
            "mid": home("1-1-501", floor=5, inner_area="72.15"),
            "high": home("1-1-1201", floor=12, inner_area="72.15")}


def item(db, actor, estate, name, **values) -> int:
    values = {"method": "按面积", "unit_price": "2.35", "status": "已审批", "effective_from": "2026-01-01",
              **values}
    return add(db, actor, "fee_items", community_id=estate["community"], name=name, **values)


def amounts(db, period: str = "2026-03") -> dict[tuple[int, int], Decimal]:
    return {(h, f): a for h, f, a in db.rows(
        "SELECT household_id, fee_item_id, amount FROM bills WHERE period = ?", [period])}


def test_surcharge_on_area_and_formula_and_inner_area_basis(db, actor, estate):
    area = item(db, actor, estate, "物业费", surcharge="5.00")
    formula = item(db, actor, estate, "物业费（公式）", method="公式", formula="建筑面积 × 单价", surcharge="5.00")
    inner = item(db, actor, estate, "物业费（套内）", area_basis="套内面积")
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    got = amounts(db)
    for h in ("low", "mid", "high"):
        assert got[estate[h], area] == D("215.02")
        assert got[estate[h], formula] == D("215.02")
        assert got[estate[h], inner] == D("169.55")
    assert db.scalar("SELECT quantity FROM bills WHERE fee_item_id = ? LIMIT 1", [inner]) == D("72.150")


def test_tiered_formula_by_floor(db, actor, estate):
    lift = item(db, actor, estate, "电梯费", method="公式", formula=TIERED_LIFT)
    preview = billing.preview_bill_run(db, estate["community"], "2026-03")
    assert preview.total == D("67.03")  # 26.81 + 40.22; floor 1 gives 0: no bill
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    assert amounts(db) == {(estate["mid"], lift): D("26.81"), (estate["high"], lift): D("40.22")}


def test_metered_formula_uses_the_period_usage_plus_surcharge(db, actor, estate):
    water = item(db, actor, estate, "水费", method="公式", formula=TIERED_WATER, unit_price="3.20", meter="水",
                 surcharge="2.00")
    for h, prev, curr in (("mid", "100", "114"), ("high", "50", "58")):
        add(db, actor, "meter_readings", household_id=estate[h], meter="水", period="2026-03",
            prev_reading=prev, curr_reading=curr)
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    assert amounts(db) == {(estate["mid"], water): D("53.20"), (estate["high"], water): D("27.60")}


def test_a_formula_fee_is_pro_rated_like_an_area_fee(db, actor, estate):
    late = add(db, actor, "households", community_id=estate["community"], code="2-1-101", area="89.37",
               floor=1, status="已入住", handover_date="2026-03-17")
    fee = item(db, actor, estate, "物业费", method="公式", formula="建筑面积 * 单价")
    billing.generate_bills(db, actor, estate["community"], "2026-03")
    assert amounts(db)[late, fee] == D("101.62")  # 210.0195 × 15 / 31 = 101.6223


def test_failing_formulas_stop_the_dry_run_and_the_run_naming_each_household(db, actor, estate):
    add(db, actor, "households", community_id=estate["community"], code="2-1-101", area="60.00",
        status="已入住", handover_date="2020-05-09")  # no 套内面积, no 楼层
    item(db, actor, estate, "物业费")
    item(db, actor, estate, "公式甲", method="公式", formula="建筑面积 / 绝对值(楼层 - 5)")  # floor 5: ÷ 0
    # a blank 楼层 must not fall through both 如果() into the top tier (89.37 × 0.45 = 40.22)
    item(db, actor, estate, "电梯费", method="公式", formula=TIERED_LIFT)
    item(db, actor, estate, "有默认值", method="公式", formula="空则(楼层, 1) * 10")  # blanks handled: 10.00
    item(db, actor, estate, "公式乙", method="公式", formula="建筑面积 * 单价 - 200")  # 60 × 2.35 − 200 = −59
    item(db, actor, estate, "公式丙", method="公式", formula="套内面积 * 单价")
    item(db, actor, estate, "物业费（套内）", area_basis="套内面积")
    stop = "，出账已停止（不按 0 元出账）"
    expected = [
        "2026-03 房屋 1-1-501「公式甲」：计费公式「建筑面积 / 绝对值(楼层 - 5)」计算失败：除数为零" + stop,
        "2026-03 房屋 2-1-101「公式甲」：计费公式「建筑面积 / 绝对值(楼层 - 5)」楼层 未填写" + stop,
        f"2026-03 房屋 2-1-101「电梯费」：计费公式「{TIERED_LIFT}」楼层 未填写" + stop,
        "2026-03 房屋 2-1-101「公式乙」：计费公式「建筑面积 * 单价 - 200」结果为负数（-59.00 元）" + stop,
        "2026-03 房屋 2-1-101「公式丙」：计费公式「套内面积 * 单价」套内面积 未填写" + stop,
        "2026-03 房屋 2-1-101「物业费（套内）」：按套内面积计费，但房屋档案没有填写套内面积，出账已停止",
    ]
    for attempt in (lambda: billing.preview_bill_run(db, estate["community"], "2026-03"),
                    lambda: billing.generate_bills(db, actor, estate["community"], "2026-03")):
        with pytest.raises(billing.BillRunStopped) as stopped:
            attempt()
        assert sorted(str(p) for p in stopped.value.problems) == sorted(expected)
    # HC小区 would bill those households 0.00 and go on; wuye bills nothing until they are put right
    assert db.scalar("SELECT count(*) FROM bills") == 0


def test_a_bad_formula_is_refused_when_saved_and_an_approved_one_is_frozen(db, actor, estate):
    for values, message in [
        ({"formula": "面积 * 单价"}, "没有名为「面积」的变量（可用的变量：建筑面积、套内面积、楼层、用量、单价）"),
        ({"formula": "建筑面积 > 10"}, "计费公式应得出金额（数值），而不是是否"),
        ({}, "计费方式为公式时须填写计费公式"),
        ({"formula": "用量 * 单价"}, "计费公式用到了用量，须选择表计（水、电、燃气）"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            item(db, actor, estate, "公式费", method="公式", **values)
        assert any(message in p.message for p in refused.value.problems), refused.value.problems
    assert db.scalar("SELECT count(*) FROM fee_items") == 0
    fee = item(db, actor, estate, "电梯费", method="公式", formula=TIERED_LIFT)
    with pytest.raises(ValidationFailed, match="已审批的收费标准不能修改"):
        apply_changes(db, actor, "fee_items", [RowChange("update", fee, {"formula": "建筑面积 * 0.5"})])
    assert db.scalar("SELECT formula FROM fee_items WHERE id = ?", [fee]) == TIERED_LIFT


def test_the_cli_dry_run_stops_with_the_reason(tmp_path, actor, capsys):
    from app import cli
    from app.storage.db import open_database

    path = tmp_path / "office.duckdb"
    db = open_database(str(path))
    c = add(db, actor, "communities", name="阳光花园")
    add(db, actor, "households", community_id=c, code="1-1-101", area="89.37", status="已入住")  # no 楼层
    add(db, actor, "fee_items", community_id=c, name="电梯费", method="公式", formula=TIERED_LIFT,
        unit_price="0", status="已审批", effective_from="2026-01-01")
    db.close()
    assert cli.main(["--db", str(path), "bills", "generate", "--period", "2026-03", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"阳光花园（{c}）2026-03 出账已停止" in err
    assert f"2026-03 房屋 1-1-101「电梯费」：计费公式「{TIERED_LIFT}」楼层 未填写，出账已停止" in err
