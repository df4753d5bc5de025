"""The service-desk pages under AppTest: intake to 回访 on the desk, the duty board, complaints, statistics."""

from __future__ import annotations

from datetime import datetime

import pytest
from apptest import app_test
from saving import add

from app.access.permissions import Actor
from app.settings import ensure_defaults
from app.storage.db import open_database


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """A small estate in a DuckDB file the pages open through WUYE_DB."""
    path = tmp_path_factory.mktemp("service-pages") / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="工程部")
    worker = add(db, actor, "staff", name="李工", department_id=dept, community_id=sun)
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50")
    valve = add(db, actor, "stock_items", community_id=sun, code="WZ-001", name="角阀 DN15", unit="个")
    add(db, actor, "stock_movements", stock_item_id=valve, moved_at=datetime(2026, 1, 5, 8, 0), direction="入库",
        qty="10", unit_price="12")
    db.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("WUYE_DB", str(path))
    from app.ui import session

    session._database.clear()
    yield {"path": path, "sun": sun, "worker": worker, "home": home, "valve": valve}
    session._database.clear()
    mp.undo()


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_desk_takes_an_order_from_intake_to_visit(estate):
    at = app_test("pages/service_desk.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="intake-household").set_value(estate["home"])
    at.selectbox(key="intake-urgency").set_value("紧急")
    at.text_area(key="intake-description").input("厨房角阀漏水")
    at.button[0].click().run()  # the form's 登记报修
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("已登记，报修单号 BX-")
    assert metrics(at)["状态"] == "待派工"
    assert metrics(at)["到场/完成时限"].startswith("剩 ")  # 紧急: 30 minutes to arrive

    at.selectbox(key="step-assignee").set_value(estate["worker"])
    at.button(key="step-dispatch").click().run()
    assert metrics(at)["状态"] == "已派工" and metrics(at)["维修人员"] == "李工"
    # only the allowed next step is offered: no 完成 before arrival
    assert [b.key for b in at.button if b.key and b.key.startswith("step-")] == ["step-arrive"]
    at.button(key="step-arrive").click().run()
    assert metrics(at)["状态"] == "处理中"
    at.number_input(key="material-qty").set_value(2.0)
    at.button[-1].click()  # 领料出库 (the form's submit; the last button before the downloads)
    at.run()
    assert not at.exception, at.exception
    assert "已出库" in at.success[0].value

    at.text_area(key="step-report").input("更换角阀")
    at.checkbox(key="step-confirmed").check()
    at.button(key="step-complete").click().run()
    assert metrics(at)["状态"] == "已完成"
    at.radio(key="step-score").set_value(4)
    at.button(key="step-visit").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["状态"] == "已回访"
    report = next(df.value for df in at.dataframe if "项目" in df.value)
    lines = dict(zip(report["项目"], report["内容"]))
    # 2 × 12.0000 = 24.00
    assert (lines["维修报告"], lines["材料费(元)"], lines["业主确认"]) == ("更换角阀", "24.00", "是")


def test_duty_board_and_statistics_render(estate):
    board = app_test("pages/duty_board.py").run()
    assert not board.exception, board.exception
    assert board.title[0].value == "24小时值班看板"
    stats = app_test("pages/service_report.py").run()
    assert not stats.exception, stats.exception
    assert "本月报修单" in metrics(stats)


def test_complaint_is_registered_handled_and_fed_back(estate):
    at = app_test("pages/service_complaints.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="complaint-category").set_value("噪音")
    at.text_input(key="complaint-location").input("3幢")
    at.selectbox(key="complaint-responsible").set_value(estate["worker"])
    at.text_area(key="complaint-description").input("夜间装修噪音")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("已登记，投诉编号 TS-") and "处理时限" in at.success[0].value
    assert metrics(at)["状态"] == "处理中"
    at.text_area(key="complaint-step-result").input("已劝导施工方")
    at.button(key="complaint-step-handled").click().run()
    assert metrics(at)["状态"] == "已处理"
    at.radio(key="complaint-step-satisfied").set_value("不满意")
    at.button(key="complaint-step-feedback").click().run()
    assert metrics(at)["状态"] == "已反馈"
    assert any("须责任到人、限期整改" in w.value for w in at.warning)
