"""The parking desk and the decoration desk under AppTest."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from apptest import app_test
from saving import add

from app.access.permissions import Actor
from app.settings import ensure_defaults
from app.storage.db import open_database


@pytest.fixture
def estate(tmp_path, monkeypatch):
    """A small estate in a DuckDB file the pages open through WUYE_DB: a new one for each test,
    so no test sees another's entries, exits or approvals (they pass alone and in any order)."""
    path = tmp_path / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="客服部")
    clerk = add(db, actor, "staff", name="王客服", department_id=dept, community_id=sun)
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50", status="已入住")
    for n in range(4):
        add(db, actor, "parking_spaces", community_id=sun, space_no=f"T-{n}", kind="临时")
    # entered 125 minutes ago: 3 hours started -> 3 × 2.00 = 6.00 if it leaves now (and for 55 more minutes)
    car = add(db, actor, "parking_events", community_id=sun, plate="浙B77777",
              entered_at=db.now() - timedelta(minutes=125))
    deco = add(db, actor, "decorations", household_id=home, applicant="张三", contractor="杭州美家装饰",
               applied_on=db.now().date(), doc_ownership=True, doc_identity=True, deposit_required="3000")
    db.close()
    monkeypatch.setenv("WUYE_DB", str(path))
    from app.ui import session

    session._database.clear()
    yield {"path": path, "sun": sun, "clerk": clerk, "home": home, "car": car, "deco": deco}
    session._database.clear()  # the next test opens its own file


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def scalar(estate, sql: str, params=()):
    from app.ui import session

    return session._database(str(estate["path"])).scalar(sql, list(params))


def test_parking_desk_shows_occupancy_and_charges_the_exit(estate):
    at = app_test("pages/parking.py").run()
    assert not at.exception, at.exception
    shown = metrics(at)
    # 4 temporary spaces, one temporary car inside -> 25.0 %
    assert (shown["车位总数"], shown["场内车辆"], shown["临时车位占用"]) == ("4", "1", "25.0%")
    # the exit tab (the calculator's tab shows a metric of the same name, for its own times)
    leave = at.tabs[2]
    assert leave.label == "出场收费"
    assert [m.value for m in leave.metric if m.label == "应收(元)"] == ["6.00"]  # the car preselected
    at.selectbox(key="parking-exit-method").set_value("微信")
    at.button(key="parking-exit").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "浙B77777 已出场，收费 6.00 元"
    assert scalar(estate, "SELECT fee_charged FROM parking_events WHERE id = ?", [estate["car"]]) == Decimal("6.00")
    assert scalar(estate, "SELECT payment_method FROM parking_events WHERE id = ?", [estate["car"]]) == "微信"


def test_parking_desk_registers_an_entry_once(estate):
    at = app_test("pages/parking.py").run()
    at.text_input[0].input("浙c 55555")
    button(at, "登记入场").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("已登记入场：浙C 55555")
    at.text_input[0].input("浙C55555")
    button(at, "登记入场").click().run()
    assert "尚未出场" in at.error[0].value


def test_parking_fee_calculator(estate):
    at = app_test("pages/parking.py").run()
    today = date(2026, 11, 20)
    at.date_input(key="calc-in-day").set_value(today)
    at.time_input(key="calc-in-time").set_value(time(9, 0))
    at.date_input(key="calc-out-day").set_value(today + timedelta(days=1))
    at.time_input(key="calc-out-time").set_value(time(10, 0))
    at.run()
    assert not at.exception, at.exception
    # 25 h: one full day 20.00 + 1 h × 2.00
    assert [m.value for m in at.metric if m.label == "应收(元)"][-1] == "22.00"


def test_decoration_desk_refuses_approval_until_the_checklist_is_complete(estate):
    did = estate["deco"]
    at = app_test("pages/decoration.py").run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "3-2-1201：申请"
    assert "尚缺：装修方案、施工单位资质证书、装修管理服务协议" in at.warning[0].value
    button(at, "批准").click().run()
    assert "申报材料不全，不能批准：缺装修方案、施工单位资质证书、装修管理服务协议" in at.error[0].value
    for col in ("doc_plan", "doc_contractor_license", "agreement_signed"):
        at.checkbox(key=f"check-{did}-{col}").check()
    button(at, "保存材料清单").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "已保存材料清单"
    button(at, "批准").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "已批准"
    assert at.subheader[0].value == "3-2-1201：已批准"
    assert scalar(estate, "SELECT approved_by_id FROM decorations WHERE id = ?", [did]) == estate["clerk"]
    # deposit, start, a patrol with a violation, then the violation shows on the board
    button(at, "收取保证金").click().run()
    assert metrics(at)["已收(元)"] == "3,000.00"
    button(at, "开工").click().run()
    assert at.subheader[0].value == "3-2-1201：施工中"
    form_kind = next(s for s in at.selectbox if s.label == "违规类别（没有违规留空）")
    form_kind.set_value("违规时间施工")
    next(n for n in at.number_input if n.label == "罚款(元)").set_value(200.0)
    button(at, "登记巡查").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["罚款(元)"] == "200.00"
