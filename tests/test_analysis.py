"""The chart builder (aggregates worked out by hand), exports, saved queries and the analysis page."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import altair as alt
import openpyxl
import pandas as pd
import pytest
from apptest import app_test
from streamlit.testing.v1 import AppTest

from app.access.permissions import Actor, PermissionDenied
from app.analysis import builder as analysis
from app.analysis import sql_console
from app.analysis.builder import ChartError, ChartSpec, Filter, Source
from app.analysis.sql_console import ReadOnlyViolation
from app.saving.changes import RowChange, apply_changes

ROOT = Path(__file__).resolve().parents[1]
HOUSEHOLDS = Source("table", "households", "房屋档案")
REPAIRER = Actor("李师傅", role="维修")
SUNNY_ONLY = Actor("赵管家", role="客服", communities=(1,))


def insert(db, actor, register, rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


def build_estate(db, actor) -> None:
    """阳光花园 (1): buildings 1 and 2, four flats; 翠湖苑 (2): building 1, one flat."""
    insert(db, actor, "communities", [{"name": "阳光花园"}, {"name": "翠湖苑"}])
    insert(db, actor, "buildings", [{"community_id": 1, "code": "1"}, {"community_id": 1, "code": "2"},
                                    {"community_id": 2, "code": "1"}])
    insert(db, actor, "households", [
        {"community_id": 1, "building_id": 1, "code": "1-101", "area": "89.50", "status": "已入住",
         "move_in_date": "2024-01-15"},
        {"community_id": 1, "building_id": 1, "code": "1-102", "area": "100.00", "status": "空置"},
        {"community_id": 1, "building_id": 1, "code": "1-201", "area": "89.50", "status": "已入住",
         "move_in_date": "2024-01-20"},
        {"community_id": 1, "building_id": 2, "code": "2-101", "area": "120.25", "status": "出租",
         "move_in_date": "2024-03-02"},
        {"community_id": 2, "building_id": 3, "code": "1-101", "area": "75.00", "status": "已入住",
         "move_in_date": "2024-03-10"},
    ])
    insert(db, actor, "owners", [
        {"household_id": 1, "name": "张三", "phone": "13812345678"},
        {"household_id": 5, "name": "王五", "phone": "13987654321"},
    ])


@pytest.fixture
def estate(db, actor):
    build_estate(db, actor)
    sql_console.clear_sandboxes()
    yield db
    sql_console.clear_sandboxes()


def rows(chart: analysis.ChartResult) -> list[tuple]:
    return [tuple(None if not isinstance(v, str) and pd.isna(v) else v for v in r)
            for r in chart.table.itertuples(index=False, name=None)]


# -- the chart builder: aggregates worked out by hand ------------------------------------------
def test_sum_of_area_per_building_coloured_by_status(estate, actor):
    chart = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("building_id", "sum", "area", "status"))
    # 阳光花园/1: 已入住 89.50 + 89.50, 空置 100.00; 阳光花园/2: 出租 120.25; 翠湖苑/1: 已入住 75.00
    assert rows(chart) == [
        ("翠湖苑/1", "已入住", Decimal("75.00")),
        ("阳光花园/1", "已入住", Decimal("179.00")),
        ("阳光花园/1", "空置", Decimal("100.00")),
        ("阳光花园/2", "出租", Decimal("120.25")),
    ]
    assert list(chart.table.columns) == ["楼栋", "状态", "合计 建筑面积(㎡)"]


def test_count_with_a_filter(estate, actor):
    spec = ChartSpec("community_id", "count", filters=(Filter("status", "=", "已入住"),))
    assert rows(analysis.build_chart(estate, actor, HOUSEHOLDS, spec)) == [("翠湖苑", 1), ("阳光花园", 2)]


def test_average_is_rounded_to_two_places(estate, actor):
    chart = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("community_id", "avg", "area"))
    # 阳光花园 (89.50 + 100.00 + 89.50 + 120.25) / 4 = 99.8125
    assert rows(chart) == [("翠湖苑", 75.0), ("阳光花园", 99.81)]


def test_max_and_min_per_status(estate, actor):
    biggest = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("status", "max", "area"))
    assert rows(biggest) == [("出租", Decimal("120.25")), ("已入住", Decimal("89.50")), ("空置", Decimal("100.00"))]
    smallest = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("status", "min", "area"))
    assert rows(smallest)[1] == ("已入住", Decimal("75.00"))


def test_dates_grouped_by_month_with_empty_last(estate, actor):
    chart = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("move_in_date", time_unit="month"))
    assert rows(chart) == [("2024-01", 2), ("2024-03", 2), (None, 1)]
    assert chart.table.columns[0] == "入住日期（按月）"


def test_a_date_filter_value_is_typed_from_chinese_writing(estate, actor):
    spec = ChartSpec("community_id", filters=(Filter("move_in_date", ">=", "2024年3月1日"),))
    assert rows(analysis.build_chart(estate, actor, HOUSEHOLDS, spec)) == [("翠湖苑", 1), ("阳光花园", 1)]


def test_contains_filter(estate, actor):
    spec = ChartSpec("building_id", filters=(Filter("code", "contains", "20"),))
    assert rows(analysis.build_chart(estate, actor, HOUSEHOLDS, spec)) == [("阳光花园/1", 1)]


def test_a_filter_value_is_a_parameter_not_sql(estate, actor):
    spec = ChartSpec("status", filters=(Filter("status", "=", "已入住' OR '1'='1"),))
    assert rows(analysis.build_chart(estate, actor, HOUSEHOLDS, spec)) == []


def test_a_community_scoped_actor_charts_only_their_community(estate):
    chart = analysis.build_chart(estate, SUNNY_ONLY, HOUSEHOLDS, ChartSpec("community_id"))
    assert rows(chart) == [("阳光花园", 4)]


def test_a_rule_view_shows_community_names(estate, actor):
    source = Source("view", "v_community_overview", "小区概况")
    chart = analysis.build_chart(estate, actor, source, ChartSpec("community_id", "sum", "households"))
    assert rows(chart) == [("翠湖苑", 1), ("阳光花园", 4)]


def test_the_current_query_as_a_source(estate, actor):
    source = Source("sql", "SELECT status AS 状态, area FROM households WHERE area > 80")
    chart = analysis.build_chart(estate, actor, source, ChartSpec("状态", "sum", "area", mark="arc"))
    assert rows(chart) == [("出租", Decimal("120.25")), ("已入住", Decimal("179.00")), ("空置", Decimal("100.00"))]
    assert chart.chart.to_dict()["mark"]["type"] == "arc"


@pytest.mark.parametrize("spec, words", [
    (ChartSpec('status" FROM households; --'), "不是这个数据来源的列"),
    (ChartSpec("status", "sum", "code"), "不是数值列"),
    (ChartSpec("status", "sum"), "需要选择一个度量列"),
    (ChartSpec("status", "median", "area"), "不支持的汇总方式"),
    (ChartSpec("status", time_unit="month"), "不是日期列"),
    (ChartSpec("status", filters=(Filter("move_in_date", ">", "去年"),)), "不是有效的日期"),
    (ChartSpec("status", filters=(Filter("area", "; DROP", "1"),)), "不支持的筛选条件"),
    (ChartSpec("status", filters=(Filter("area", ">", ""),)), "请填写"),
    (ChartSpec("status", mark="pie3d"), "不支持的图表类型"),
])
def test_a_chart_that_cannot_be_built_is_explained(estate, actor, spec, words):
    with pytest.raises(ChartError, match=words):
        analysis.build_chart(estate, actor, HOUSEHOLDS, spec)


def test_too_many_groups_are_refused(estate, actor):
    source = Source("sql", "SELECT range AS n FROM range(2000)")
    with pytest.raises(ChartError, match="分组超过"):
        analysis.build_chart(estate, actor, source, ChartSpec("n"))


def test_the_chart_is_altair_with_chinese_titles(estate, actor):
    chart = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("building_id", "sum", "area", "status"))
    assert isinstance(chart.chart, alt.Chart)
    spec = chart.chart.to_dict()
    assert spec["encoding"]["x"]["title"] == "楼栋"
    assert spec["encoding"]["color"]["title"] == "状态"
    assert json.loads(analysis.chart_json(chart))["$schema"].startswith("https://vega.github.io/schema/vega-lite")
    assert "vega" in analysis.chart_html(chart)


def test_chart_spec_round_trips_through_json():
    spec = ChartSpec("楼栋", "sum", "户数", "状态", (Filter("状态", "!=", "空置"),), None, "line")
    assert ChartSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ChartError):
        ChartSpec.from_json("{not json")


def test_columns_of_a_register_source_have_labels_and_types(estate, actor):
    columns = {c.name: c for c in analysis.source_columns(estate, actor, HOUSEHOLDS)}
    assert columns["area"].label == "建筑面积(㎡)" and columns["area"].is_numeric
    assert columns["move_in_date"].is_temporal
    assert columns["building_id"].type == "VARCHAR"  # a reference comes as its label


# -- exports -------------------------------------------------------------------------------------
def read_xlsx(data: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_chart_table_exports_to_excel_and_is_audited(estate, actor):
    chart = analysis.build_chart(estate, actor, HOUSEHOLDS, ChartSpec("building_id", "sum", "area", "status"))
    sheet = read_xlsx(analysis.chart_table_xlsx(estate, actor, chart))
    assert sheet[0] == ("楼栋", "状态", "合计 建筑面积(㎡)")
    assert sheet[2] == ("阳光花园/1", "已入住", 179)
    assert estate.scalar("SELECT count(*) FROM audit_log WHERE register = 'sql_console' AND action = '导出'") == 1


def test_console_result_exports_masked_for_a_repairer(estate):
    sql = "SELECT name, phone, area FROM owners o JOIN households h ON h.id = o.household_id ORDER BY o.id"
    result = analysis.run_query(estate, REPAIRER, sql)
    sheet = read_xlsx(analysis.result_xlsx(estate, REPAIRER, result, sql))
    assert sheet == [("name", "phone", "area"), ("张三", "138****5678", 89.5), ("王五", "139****4321", 75)]
    note = estate.scalar("SELECT note FROM audit_log WHERE register = 'sql_console'")
    assert "导出 2 行" in note and "FROM owners" in note


# -- saved queries ---------------------------------------------------------------------------------
def test_shipped_queries_are_added_once(estate, actor):
    assert analysis.ensure_saved_queries(estate, actor) == len(analysis.SHIPPED)
    assert analysis.ensure_saved_queries(estate, actor) == 0
    names = [s.name for s in analysis.saved_queries(estate, actor)]
    assert set(names) == {s["name"] for s in analysis.SHIPPED}
    for s in analysis.saved_queries(estate, actor):
        analysis.delete_saved_query(estate, Actor(analysis.SHIPPED_OWNER), s.id)
    assert analysis.saved_queries(estate, actor) == []  # deleted ones do not come back


def test_every_shipped_query_runs_and_charts(estate, actor):
    for saved in analysis.saved_queries(estate, actor):
        result = analysis.run_saved_query(estate, actor, saved.id)
        assert result.columns, saved.name
        chart = analysis.build_chart(estate, actor, Source("saved", str(saved.id), saved.name), saved.chart)
        assert isinstance(chart.chart, alt.Chart)
    by_name = {s.name: s for s in analysis.saved_queries(estate, actor)}
    statuses = analysis.run_saved_query(estate, actor, by_name["各楼栋房屋状态"].id)
    assert statuses.rows() == [
        ("翠湖苑", "翠湖苑 1", "已入住", 1),
        ("阳光花园", "阳光花园 1", "已入住", 2),
        ("阳光花园", "阳光花园 1", "空置", 1),
        ("阳光花园", "阳光花园 2", "出租", 1),
    ]
    people = analysis.run_saved_query(estate, actor, by_name["各小区业主与住户人数"].id)
    assert people.rows() == [("翠湖苑", "业主", 1), ("阳光花园", "业主", 1)]
    repairs = analysis.run_saved_query(estate, actor, by_name["各楼栋每月报修量"].id)
    assert repairs.columns == ["月份", "楼栋", "报修单数"] and repairs.rows() == []


def test_shipped_queries_find_rows_in_the_demo_data(copy_demo, actor):
    from app.storage.db import open_database

    db = open_database(str(copy_demo("analysis")))
    try:
        for saved in analysis.saved_queries(db, actor):
            assert analysis.run_saved_query(db, actor, saved.id).row_count > 0, saved.name
    finally:
        sql_console.clear_sandboxes()
        db.close()


def test_private_queries_are_the_owners_own(estate):
    owner, other = Actor("王会计", "经理"), Actor("李师傅", "维修")
    private = analysis.save_query(estate, owner, "我的查询", "SELECT count(*) AS n FROM households")
    shared = analysis.save_query(estate, owner, "公用查询", "SELECT phone FROM owners ORDER BY id", shared=True)
    seen_by_other = {s.name for s in analysis.saved_queries(estate, other)}
    assert "公用查询" in seen_by_other and "我的查询" not in seen_by_other
    with pytest.raises(KeyError):
        analysis.run_saved_query(estate, other, private)
    with pytest.raises(PermissionDenied):
        analysis.delete_saved_query(estate, other, shared)
    # a shared query runs with the runner's rights: masked for a repairer
    assert analysis.run_saved_query(estate, other, shared).rows()[0] == ("138****5678",)
    analysis.save_query(estate, owner, "公用查询", "SELECT name FROM owners", shared=True, query_id=shared)
    assert analysis.get_saved_query(estate, other, shared).sql == "SELECT name FROM owners"
    analysis.delete_saved_query(estate, owner, private)
    assert "我的查询" not in {s.name for s in analysis.saved_queries(estate, owner)}


def test_saving_anything_but_a_select_is_refused(estate, actor):
    with pytest.raises(ReadOnlyViolation):
        analysis.save_query(estate, actor, "坏查询", "DELETE FROM households")
    assert estate.scalar("SELECT count(*) FROM saved_queries WHERE name = '坏查询'") == 0


def test_a_chart_setting_is_kept_with_the_query(estate, actor):
    query_id = analysis.save_query(estate, actor, "面积", "SELECT status AS 状态, area FROM households")
    analysis.save_chart(estate, actor, query_id, ChartSpec("状态", "sum", "area"))
    saved = analysis.get_saved_query(estate, actor, query_id)
    chart = analysis.build_chart(estate, actor, Source("saved", str(query_id), saved.name), saved.chart)
    assert rows(chart)[0] == ("出租", Decimal("120.25"))


# -- the page ----------------------------------------------------------------------------------------
@pytest.fixture
def app_db(db, backend, actor, monkeypatch):
    if backend != "duckdb":  # the console's sandbox is tested on both backends above
        pytest.skip("page tests run once")
    build_estate(db, actor)
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    sql_console.clear_sandboxes()
    yield url
    session._database.clear()
    sql_console.clear_sandboxes()


def page() -> AppTest:
    return app_test("pages/analysis.py").run()


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="analysis-sql").set_value(sql)
    return at.button(key="analysis-run").click().run()


def households_count(url: str) -> int:
    from app.ui import session

    return session._database(url).scalar("SELECT count(*) FROM households")


def saved_id(url: str, name: str) -> int:
    from app.ui import session

    return session._database(url).scalar("SELECT id FROM saved_queries WHERE name = ?", [name])


def test_page_runs_a_query_with_paging(app_db):
    at = page()
    assert not at.exception
    assert at.title[0].value == "查询与图表"
    at = run_sql(at, "SELECT range AS n FROM range(250)")
    assert not at.exception and not at.error
    shown = at.dataframe[-1].value
    assert len(shown) == 100 and shown["n"].iloc[0] == 0
    assert any("共 250 行" in c.value for c in at.caption)
    at.session_state["analysis-result-page"] = 3
    at.run()
    assert at.dataframe[-1].value["n"].tolist() == list(range(200, 250))


def test_page_refuses_a_write_and_nothing_changes(app_db):
    at = run_sql(page(), "DELETE FROM households")
    assert "DELETE" in at.error[0].value
    assert households_count(app_db) == 5


def test_page_charts_the_current_query(app_db):
    at = run_sql(page(), "SELECT status AS 状态, area FROM households")
    at = at.button(key="analysis-chart").click().run()
    assert not at.exception and not at.error
    assert at.session_state["analysis-tab"] == "图表"
    assert at.dataframe[-1].value.iloc[0].tolist() == ["出租", 1]  # count per 状态 by default
    assert len(at.get("vega_lite_chart")) == 1


def test_page_saves_a_query_and_runs_it_from_the_list(app_db):
    at = run_sql(page(), "SELECT code FROM households ORDER BY id")
    at.text_input(key="analysis-save-name").set_value("房号清单")
    at.checkbox(key="analysis-save-shared").check()
    at = at.button(key="FormSubmitter:analysis-save-保存").click().run()
    assert "已保存「房号清单」" in at.success[0].value
    at.session_state["analysis-tab"] = "常用查询"
    at.run()
    names = at.dataframe[0].value["名称"].tolist()
    assert "房号清单" in names and "本月到期的灭火器" in names
    at.selectbox(key="saved-pick").set_value(saved_id(app_db, "房号清单")).run()
    at = at.button(key="saved-run").click().run()
    assert not at.exception and not at.error
    assert at.dataframe[-1].value["code"].tolist()[:2] == ["1-101", "1-102"]


def test_page_opens_a_saved_chart(app_db):
    at = page()
    at.session_state["analysis-tab"] = "常用查询"
    at.run()
    at.selectbox(key="saved-pick").set_value(saved_id(app_db, "各楼栋房屋状态")).run()
    at = at.button(key="saved-chart").click().run()
    assert not at.exception and not at.error
    assert at.session_state["analysis-tab"] == "图表"
    assert list(at.dataframe[-1].value.columns) == ["楼栋", "状态", "合计 户数"]
