"""Saved views (issue 12) through the service layer on both backends, and the 台账设计 page and a
register page opening on its default view under AppTest."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from app import registers
from app.access.permissions import Actor, PermissionDenied
from app.admin import designer
from app.analysis import saved_views
from app.exchange.excel import export_register
from app.reading.queries import fetch_page
from app.saving.changes import RowChange, apply_changes

CLERK = Actor("小张", "客服")


def make_register(db, actor) -> list[int]:
    designer.create_register(db, actor, {
        "name": "visits", "label": "便民服务", "area": "调查与文化",
        "fields": [{"name": "what", "label": "事项", "type": "text", "required": True},
                   {"name": "kind", "label": "类别", "type": "enum", "values": ["维修", "代办", "咨询"]},
                   {"name": "on_day", "label": "日期", "type": "date"},
                   {"name": "minutes", "label": "用时", "type": "integer"}],
    })
    designer.set_calculated(db, actor, "visits", "hours", "小时", "四舍五入(用时 / 60, 1)")
    saved = apply_changes(db, actor, "visits", [
        RowChange("insert", values={"what": "换灯泡", "kind": "维修", "on_day": "2026-11-01", "minutes": 30}),
        RowChange("insert", values={"what": "代收快递", "kind": "代办", "on_day": "2026-11-02", "minutes": 5}),
        RowChange("insert", values={"what": "修水龙头", "kind": "维修", "on_day": "2026-11-20", "minutes": 90}),
        RowChange("insert", values={"what": "问电费", "kind": "咨询", "on_day": "2026-10-30", "minutes": 10}),
    ])
    return saved.inserted


def test_saved_views_filter_sort_columns_export_chart(db, actor, tmp_path):
    ids = make_register(db, actor)
    repair = saved_views.SavedView(
        None, "visits", "11月维修", "", filters={"kind": ["维修"], "on_day": (date(2026, 11, 1), date(2026, 11, 30))},
        sort="minutes", descending=True, columns=["what", "hours", "on_day"])
    saved_views.save_view(db, CLERK, repair)
    # a shared view is for administrators; the clerk keeps personal ones
    with pytest.raises(PermissionDenied):
        saved_views.save_view(db, CLERK, saved_views.SavedView(None, "visits", "全部", "", shared=True))
    saved_views.save_view(db, actor, saved_views.SavedView(None, "visits", "全部", "", shared=True, is_default=True,
                                                           sort="on_day"))
    # the clerk sees their own and the shared one; another user only the shared one
    assert [v.title for v in saved_views.views_for(db, CLERK, "visits")] == ["11月维修（个人）", "全部（共享）·默认"]
    assert [v.name for v in saved_views.views_for(db, Actor("小王", "客服"), "visits")] == ["全部"]
    assert saved_views.default_view(db, CLERK, "visits").name == "全部"
    saved_views.save_view(db, CLERK, saved_views.SavedView(
        None, "visits", "11月维修", "", is_default=True, filters=repair.filters, sort="minutes",
        descending=True, columns=repair.columns))  # the same name: replaced, now the clerk's default
    mine = saved_views.default_view(db, CLERK, "visits")
    assert mine.name == "11月维修" and mine.filters["on_day"] == (date(2026, 11, 1), date(2026, 11, 30))
    assert len(saved_views.views_for(db, CLERK, "visits")) == 2
    # the view's rows: 维修 in November, longest first
    reg = registers.get("visits")
    frame, total = fetch_page(db, CLERK, reg, mine.request())
    assert total == 2 and list(frame["what"]) == ["修水龙头", "换灯泡"]
    assert [float(h) for h in frame["hours"]] == [1.5, 0.5]
    # exported with its columns in its order (编号 first)
    out = tmp_path / "view.xlsx"
    assert export_register(db, CLERK, "visits", out, mine.request()) == 2
    sheet = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert sheet[0] == ("编号", "事项", "小时", "日期")
    assert sheet[1][1:3] == ("修水龙头", 1.5)
    note = db.scalar("SELECT note FROM audit_log WHERE register = 'visits' AND action = '导出'")
    assert "类别" in note
    # charted: the shared view's rows by 类别, with the 用时 total
    chart = saved_views.chart_data(db, CLERK, "visits", saved_views.default_view(db, actor, "visits").request(),
                                   "kind", "minutes")
    assert dict(zip(chart["分组"], chart["合计"])) == {"维修": 120.0, "代办": 5.0, "咨询": 10.0}
    assert dict(zip(chart["分组"], chart["行数"])) == {"维修": 2, "代办": 1, "咨询": 1}
    # audited, and deleted by its owner only
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'saved_views'") == 3
    with pytest.raises(PermissionDenied):
        saved_views.delete_view(db, Actor("小王", "客服"), saved_views.default_view(db, actor, "visits").id)
    saved_views.delete_view(db, CLERK, mine.id)
    assert [v.name for v in saved_views.views_for(db, CLERK, "visits")] == ["全部"]
    assert ids


# -- pages ---------------------------------------------------------------------------------------
@pytest.fixture
def page_db(db, actor, backend, monkeypatch):
    if backend != "duckdb":
        pytest.skip("the page tests run once")
    make_register(db, actor)
    saved_views.save_view(db, actor, saved_views.SavedView(
        None, "visits", "维修", "", shared=True, is_default=True, filters={"kind": ["维修"]},
        columns=["what", "minutes", "hours"]))
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def test_register_page_opens_on_its_default_view(page_db):
    from apptest import app_test

    at = app_test("pages/register.py", current="visits").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="grid-visits-view").value is not None
    assert at.multiselect(key="grid-visits-filter-kind").value == ["维修"]
    assert at.multiselect(key="grid-visits-columns").value == ["what", "minutes", "hours"]
    assert "共 2 行" in " ".join(c.value for c in at.caption)


def test_designer_page_creates_a_register_and_adds_a_field(page_db):
    from apptest import app_test

    at = app_test("pages/designer.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "台账设计"
    # a new field on the custom register, through the page
    at.selectbox(key="fields-register").set_value("visits").run()
    at.text_input(key="add-name").input("place")
    at.text_input(key="add-label").input("地点")
    at.button(key="add-go").click().run()
    assert not at.exception, at.exception
    assert "新增列「地点」" in at.success[0].value
    assert registers.get("visits").field("place").label == "地点"
    # a broken calculated column is refused with the reason
    at.selectbox(key="calc-register").set_value("visits").run()
    at.text_input(key="calc-name").input("bad")
    at.text_input(key="calc-label").input("坏")
    at.text_input(key="calc-expression").input("年(事项)")
    at.button(key="calc-go").click().run()
    assert "参数应为 日期" in at.error[0].value
    # refused change: the rows are listed
    at.selectbox(key="edit-field").set_value("kind").run()
    at.text_input(key="edit-values-visits-kind").set_value("代办、咨询").run()
    at.button(key="edit-go").click().run()
    assert "仍有 2 行在用" in at.error[0].value
    refused = [d.value for d in at.dataframe if "记录" in d.value]
    assert sorted(refused[0]["记录"]) == ["修水龙头", "换灯泡"]


def test_designer_page_refuses_other_roles(page_db):
    from apptest import app_test

    at = app_test("pages/designer.py", role="客服", user="客服小张").run()
    assert not at.exception, at.exception
    assert "只有管理员" in at.warning[0].value


def test_workbook_bytes_export(db, actor):
    make_register(db, actor)
    buffer = io.BytesIO()
    assert export_register(db, actor, "visits", buffer) == 4
    header = next(openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows(values_only=True))
    assert header == ("编号", "事项", "类别", "日期", "用时", "小时")
