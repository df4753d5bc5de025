"""The area check pages and the security pages under AppTest, on a small hand-built estate:
every area page renders; a failed inspection recorded on the page opens a rectification,
which is marked done and then refused when its own responsible person verifies it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from apptest import app_test
from saving import add

from app.checks.inspection import AREAS, PAGE_PREFIX
from app.save_rules.checks import SAME_PERSON


@pytest.fixture
def estate(db, actor, monkeypatch):
    """One community, two staff, a cleaning plan that is due, shifts, a visitor inside."""
    today = db.now().date()
    community = add(db, actor, "communities", name="阳光花园")
    department = add(db, actor, "departments", name="环境部")
    zhang = add(db, actor, "staff", name="张主管", department_id=department, community_id=community)
    li = add(db, actor, "staff", name="李经理", department_id=department, community_id=community)
    add(db, actor, "inspection_plans", community_id=community, area="清洁消杀", item="楼道保洁",
        frequency_days=7, method="抽查", responsible_id=zhang, starts_on=today - timedelta(days=10))
    monday = today - timedelta(days=today.weekday())
    add(db, actor, "shifts", community_id=community, shift_on=monday, shift="白班", post="监控中心", staff_id=li)
    add(db, actor, "visitors", community_id=community, name="王访客", visited_at=datetime.combine(today, datetime.min.time()),
        id_number="11010519491231002X", purpose="探亲访友")
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield {"url": url, "zhang": zhang, "li": li, "today": today}
    session._database.clear()


@pytest.mark.parametrize("slug", list(AREAS))
def test_every_area_page_renders(estate, slug):
    at = app_test("pages/checks.py", PAGE_PREFIX + slug).run()
    assert not at.exception, at.exception
    assert at.title[0].value == f"{AREAS[slug]}检查与整改"


def test_every_inspection_area_has_its_page_in_the_menu():
    from app.ui import nav

    urls = {p.url: p for p in nav.table()["pages"]}
    for slug, area in AREAS.items():
        entry = urls[PAGE_PREFIX + slug]
        assert (entry.file, entry.title) == ("checks.py", f"{area}检查")


def test_fail_fix_and_refused_verification_on_the_cleaning_page(estate):
    at = app_test("pages/checks.py", "checks-cleaning").run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["1", "1", "0", "0"]  # plans, due, open, overdue
    key = "checks-清洁消杀"
    at.radio(key=f"{key}-result").set_value("不合格")
    at.text_area(key=f"{key}-findings").input("3幢楼道有垃圾")
    at.selectbox(key=f"{key}-inspector").set_value(estate["li"])
    next(b for b in at.button if b.label == "保存检查记录").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success][:1] == ["已保存检查记录，已自动立项整改。"]
    assert [m.value for m in at.metric] == ["1", "0", "1", "0"]

    at.text_area(key=f"{key}-measures").input("已清理")
    next(b for b in at.button if b.label == "整改完成").click().run()
    assert not at.exception
    assert "已标记为已整改" in at.success[0].value

    at.selectbox(key=f"{key}-verifier").set_value(estate["zhang"])  # the responsible person
    next(b for b in at.button if b.label == "验证通过").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["未保存：" + SAME_PERSON]

    at.selectbox(key=f"{key}-verifier").set_value(estate["li"])
    next(b for b in at.button if b.label == "验证通过").click().run()
    assert not at.exception
    assert "已验证" in at.success[0].value


def test_security_pages_render(estate):
    at = app_test("pages/security_shifts.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "保安周排班"
    grid = at.dataframe[0].value
    monday = estate["today"] - timedelta(days=estate["today"].weekday())
    assert grid.loc[0, f"周一 {monday:%m-%d}"] == "白班·监控中心"
    # one on the Monday day shift: short of 2; all other 13 day × shift slots empty: one warning lists them
    assert len(at.warning) == 1 and "监控中心有 14 个班次人手不足" in at.warning[0].value

    at = app_test("pages/security_visitors.py", role="保安", user="测试保安").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "1"
    assert at.dataframe[0].value["id_number"].tolist() == ["110***********002X"]
    next(b for b in at.button if b.label == "登记离开").click().run()
    assert not at.exception
    assert at.metric[0].value == "0"
