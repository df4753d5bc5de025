"""The home page reads this month: ¥ figures against last month, the to-do by area, per role's rights;
every month on the charts' axes; a forced password change ends on the home page with a message."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from apptest import app_test
from test_links_land import add, build_estate
from test_reports import estate  # noqa: F401  (fixture)

from app import registers
from app.access.permissions import Actor, cli_actor
from app.accounts import auth
from app.analysis import dashboard
from app.service import service_desk as desk
from app.settings import ensure_defaults
from app.storage.db import open_database
from app.ui import session


def test_money_of_a_month_beside_last_month(db, actor, estate):  # noqa: F811
    # test_reports' estate: three 300.00 bills of 2026-09 due 09-15; 300.00 and 100.00 paid
    now = dashboard.money(db, actor, "2026-09", today=date(2026, 11, 25))
    assert (now.as_of, now.billed, now.collected, now.arrears) == (
        date(2026, 9, 30), Decimal("900.00"), Decimal("400.00"), Decimal("500.00"))
    before = dashboard.money(db, actor, dashboard.previous_month("2026-09"), today=date(2026, 11, 25))
    assert (before.month, before.as_of, before.billed, before.collected, before.arrears) == (
        "2026-08", date(2026, 8, 31), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    # the running month is taken at today: on 09-16 only 1-1-101's 300.00 has come in
    assert dashboard.money(db, actor, "2026-09", today=date(2026, 9, 16)).collected == Decimal("300.00")
    assert dashboard.yuan(Decimal("1234567.5")) == "¥1,234,567.50"
    assert dashboard.yuan_change(now.arrears - before.arrears) == "+¥500.00"
    assert dashboard.yuan_change(Decimal("-12.3")) == "-¥12.30"
    assert dashboard.previous_month("2026-01") == "2025-12"


def test_monthly_repairs_show_every_month_with_zero_for_none(db, actor):
    c = add(db, actor, "communities", name="阳光花园")
    for reported in ("2026-01-05 09:00", "2026-01-20 10:00", "2026-03-02 08:00"):
        desk.register_repair(db, actor, {"community_id": c, "category": "管道", "description": "漏水",
                                         "urgency": "一般", "reported_at": datetime.fromisoformat(reported)})
    series = dashboard.repairs_by_month(db, actor, "2026-03", today=date(2026, 4, 10), count=4)
    assert list(series["month"]) == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert list(series["orders"]) == [0, 2, 0, 1]  # December and February had none: 0, not left out
    assert dashboard.month_range("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]


def test_work_areas_follow_the_roles_register_rights():
    every = set(registers.by_area()) - {"系统"}
    assert dashboard.work_areas(Actor("钱", role="财务")) == {"收费管理", "合同与工程", "采购与库存"}
    assert dashboard.work_areas(Actor("李", role="维修")) == {"维修与投诉", "设备与消防", "检查与整改", "采购与库存"}
    assert dashboard.work_areas(Actor("经理", role="经理")) == every
    assert dashboard.work_areas(Actor("业委会", role="业委会")) == every  # changes nothing: oversees all
    # rights, not names: a 保安 granted to edit bills works in 收费管理 too
    from app.access.permissions import default_grants

    granted = Actor("周", role="保安", grants=default_grants("保安") | {("bills", "edit")})
    assert "收费管理" in dashboard.work_areas(granted) and "收费管理" not in dashboard.work_areas(Actor("周", role="保安"))


# -- the page ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("home") / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    e = build_estate(db, actor)
    e["month"] = db.now().strftime("%Y-%m")
    db.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("WUYE_DB", str(path))
    session._database.clear()
    yield e
    session._database.clear()
    mp.undo()


def home(role: str, user: str, month: str):
    at = app_test("pages/home.py", role=role, user=user).run()
    assert not at.exception, at.exception
    at.selectbox(key="home-month").set_value(month).run()
    assert not at.exception, at.exception
    return at, {m.label: m for m in at.metric}, {x.label for x in at.expander}


def chart_specs(at) -> list[dict]:
    """Each chart's Vega-Lite spec, with `rows`: how many rows of data it was sent."""
    import pyarrow as pa

    out = []
    for chart in at.get("vega_lite_chart"):
        tables = [d.data.data for d in chart.proto.datasets] or [chart.proto.data.data]
        rows = sum(pa.ipc.open_stream(t).read_all().num_rows for t in tables if t)
        out.append({**json.loads(chart.proto.spec), "rows": rows})
    return out


def test_a_cashier_sees_money_against_last_month_and_the_arrears_to_do(home_file):
    at, metrics, expanders = home("财务", "钱会计", home_file["month"])
    # this month: no bills yet (the one bill is 120 days old), 300.00 overdue now and at last month's end
    assert (metrics["应收"].value, metrics["实收"].value, metrics["欠费"].value) == ("¥0.00", "¥0.00", "¥300.00")
    assert metrics["欠费"].delta == "+¥0.00 较上月"
    assert "超时报修" not in metrics
    assert expanders == {"收费管理：1 项", "合同与工程：1 项"}
    # the arrears item opens 收银台 on that household
    links = [frame.value["link"].tolist() for frame in at.dataframe if "link" in frame.value]
    assert [f"/cashier?id={home_file['owing']}"] in links


def test_a_dispatcher_sees_repairs_and_no_money(home_file):
    at, metrics, expanders = home("维修", "李师傅", home_file["month"])
    assert "应收" not in metrics and "欠费" not in metrics
    assert metrics["超时报修"].value == "1"  # the 紧急 order nobody reached
    assert "维修与投诉：2 项，紧急 1 项" in expanders  # that order (高) and the 1-point visit (中)
    assert not any(label.startswith("收费管理") for label in expanders)


def test_the_manager_sees_everything_and_charts_keep_their_size(home_file):
    at, metrics, expanders = home("经理", "赵经理", home_file["month"])
    assert {"应收", "实收", "欠费", "超时报修", "今日待办"} <= set(metrics)
    assert {"收费管理：1 项", "合同与工程：1 项", "维修与投诉：2 项，紧急 1 项"} <= expanders
    specs = chart_specs(at)
    assert len(specs) == 4  # 收费率, 每月报修, 待办事项, 房屋状态
    for spec in specs:  # a height in px on every chart: none left to fit-y with a discrete height
        assert isinstance(spec["height"], int) and spec["height"] >= 96, spec.get("title")
    titles = {spec["title"] if isinstance(spec["title"], str) else spec["title"]["text"]: spec for spec in specs}
    repairs = titles["每月报修（近 12 个月）"]
    assert repairs["rows"] == 12  # every month, 0 for those without orders
    assert repairs["encoding"]["x"]["axis"]["labelAngle"] == -45  # twelve labels, none over another
    todo_chart = titles["待办事项"]
    assert todo_chart["encoding"]["y"]["axis"]["labelOverlap"] is False  # every area labelled


def test_a_forced_password_change_ends_on_the_home_page_with_a_message(home_file):
    from app.storage.db import database_url

    db = session._database(database_url())
    auth.add_user(db, cli_actor(), "sun", "first-pass-2026", "客服", must_change_password=True)
    token = auth.sign_in(db, "sun", "first-pass-2026").token
    at = app_test("app/streamlit_app.py", signed_in=False)
    at.session_state[session.TOKEN] = token
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "修改密码"
    at.text_input(key="password-old").input("first-pass-2026")
    at.text_input(key="password-new").input("harbour-light-2027")
    at.text_input(key="password-again").input("harbour-light-2027")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "物业台账"  # the home page
    assert "密码已修改，其他设备上的登录已退出。" in [s.value for s in at.success]
    assert auth.sign_in(db, "sun", "harbour-light-2027").must_change_password is False

