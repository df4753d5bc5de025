"""Console errors are explained in Chinese, with DuckDB's own message kept for below it.

Every query here really fails in the console's sandbox (on both backends: the sandbox is filled
from either); the expected sentences are written out by hand from the failing query.
"""

from __future__ import annotations

import pytest

from app.analysis import sql_console
from app.analysis.sql_console import ConsoleError, QueryFailed, ReadOnlyViolation, run_query
from app.saving.changes import RowChange, apply_changes


@pytest.fixture
def estate(db, actor):
    apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})])
    apply_changes(db, actor, "buildings", [RowChange("insert", values={"community_id": 1, "code": "1"})])
    apply_changes(db, actor, "households", [RowChange("insert", values={
        "community_id": 1, "building_id": 1, "code": "1-1-101", "area": "89.50", "status": "已入住"})])
    sql_console.clear_sandboxes()
    yield db
    sql_console.clear_sandboxes()


# (query, exception, Chinese words expected, words of DuckDB's message kept in `detail`)
CASES = [
    ("SELECT nme FROM households", QueryFailed, "找不到列 nme（相近的列：", 'Referenced column "nme"'),
    ("SELECT h.nme FROM households h", QueryFailed, "表 h 没有列 nme", "does not have a column"),
    ("SELECT x.code FROM households h", QueryFailed, "找不到表名或别名 x（查询中的表：h）", "Referenced table"),
    ("SELECT * FROM househols", QueryFailed, "没有名为 househols 的表或视图", "does not exist"),
    ("SELECT * FROM househols", QueryFailed, "您是不是要写 households？", "Did you mean"),
    ("SELECT nosuchfn(1)", QueryFailed, "没有函数 nosuchfn", "Scalar Function"),
    ("SELEC * FROM households", ReadOnlyViolation, "SQL 语法错误，位置在「SELEC」附近", "syntax error"),
    ("SELECT * FROM households WHERE", ReadOnlyViolation, "语句不完整", "end of input"),
    ("SELECT status, count(*) FROM households", QueryFailed,
     "列 status 既不在 GROUP BY 中，也不在汇总函数", "GROUP BY"),
    ("SELECT id FROM households a JOIN households b USING (code) JOIN buildings c ON c.id = a.building_id",
     QueryFailed, "列名 id 不明确：不止一张表有这一列，请写成 ", "Ambiguous"),
    ("SELECT sum(code) FROM households", QueryFailed, "函数 sum 不能用于这些参数（文字）", "No function matches"),
    ("SELECT * FROM households ORDER BY 99", QueryFailed, "ORDER BY 的列序号超出范围：应在 1 到 ", "ORDER term"),
    ("SELECT CAST(code AS INTEGER) FROM households", QueryFailed,
     "不能把「1-1-101」转换成整数（列 code）", "Could not convert string"),
    ("SELECT 'abc'::INTEGER", QueryFailed, "不能把「abc」转换成整数", "Could not convert"),
    ("SELECT DATE '2026-13-01'", QueryFailed, "日期「2026-13-01」无效：请写成 年-月-日", "out of range"),
    ("SELECT * FROM households WHERE created_at > 'yesterday-ish'", QueryFailed,
     "时间「yesterday-ish」无效：请写成 年-月-日 时:分:秒", "timestamp field format"),
    ("SELECT 100000::TINYINT", QueryFailed, "数值 100000 超出整数类型（INT8）的范围", "out of range"),
    ("SELECT 2147483647::INTEGER + 1", QueryFailed, "计算结果超出数值范围（溢出）", "Overflow"),
    ("SELECT (SELECT id FROM households UNION ALL SELECT 2)", QueryFailed,
     "子查询返回了多行", "More than one row"),
    ("SELECT strptime('someday', '%Y-%m-%d')", QueryFailed, "「someday」不符合格式 %Y-%m-%d", "Could not parse"),
]


@pytest.mark.parametrize("sql, error, words, original", CASES, ids=[c[0][:45] for c in CASES])
def test_a_failing_query_is_explained_in_chinese_with_the_original_kept(estate, actor, sql, error, words,
                                                                        original):
    with pytest.raises(error) as caught:
        run_query(estate, actor, sql)
    message = str(caught.value)
    assert words in message
    assert "Error" not in message and "LINE" not in message  # no English from DuckDB in the sentence
    assert original in caught.value.detail
    assert "\t" not in caught.value.detail and "LINE 2" not in caught.value.detail


def test_ambiguous_column_names_the_choices(estate, actor):
    with pytest.raises(QueryFailed) as caught:
        run_query(estate, actor, "SELECT id FROM households a JOIN buildings b ON a.building_id = b.id")
    assert str(caught.value) == "列名 id 不明确：不止一张表有这一列，请写成 a.id 或 b.id。"


def test_a_timeout_is_explained(estate, actor):
    with pytest.raises(QueryFailed) as caught:
        run_query(estate, actor, "SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000) b",
                  time_limit=0.3)
    assert str(caught.value) == "查询超过 0.3 秒，已停止。请加筛选条件或缩小范围后再试。"


def test_an_unknown_kind_falls_back_to_a_chinese_sentence_with_the_original(estate, actor):
    with pytest.raises(QueryFailed) as caught:
        run_query(estate, actor, "SELECT regexp_matches('a', '(')")
    assert str(caught.value) == "查询失败，原因见下方的原始信息。"
    assert "missing )" in caught.value.detail


def test_refusals_carry_no_detail(estate, actor):
    with pytest.raises(ConsoleError) as caught:
        run_query(estate, actor, "DELETE FROM households")
    assert caught.value.detail == ""


@pytest.fixture
def app_db(db, backend, actor, estate, monkeypatch):
    if backend != "duckdb":  # the sandbox's messages are tested on both backends above
        pytest.skip("page tests run once")
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def test_the_console_page_shows_the_explanation_and_the_original_in_small_text(app_db):
    from apptest import app_test

    at = app_test("pages/analysis.py").run()
    at.text_area(key="analysis-sql").set_value("SELECT nme FROM households")
    at = at.button(key="analysis-run").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("找不到列 nme")
    plain = [c.value.replace("\\", "").replace("\u200b", "") for c in at.caption]  # md()'s escapes
    assert any(text.startswith('原始信息：Binder Error: Referenced column "nme"') for text in plain)
