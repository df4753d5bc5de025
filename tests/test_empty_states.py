"""An empty register says what to do next, by what the signed-in user may do (AppTest)."""

from __future__ import annotations

import pytest
from apptest import app_test

from app.saving.changes import RowChange, apply_changes


@pytest.fixture
def office(db, actor, monkeypatch):
    """One 小区 and one contract; no vendors yet."""
    apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})])
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def infos(at) -> list[str]:
    return [i.value for i in at.info]


def test_an_empty_register_says_how_to_add_and_import(office, backend):
    if backend != "duckdb":
        pytest.skip("the page test runs once")
    at = app_test("pages/register.py", "vendors").run()
    assert not at.exception
    assert "「分包方」还没有记录。可以在下方表格最后一行直接填写，然后点「保存」，或在「Excel 导入」页从 Excel 台账导入。" \
        in infos(at)


def test_a_search_without_hits_says_so_not_that_the_register_is_empty(office, backend):
    if backend != "duckdb":
        pytest.skip("the page test runs once")
    at = app_test("pages/register.py", "communities").run()
    assert not any("还没有记录" in i for i in infos(at))  # 阳光花园 is there
    at.text_input(key="grid-communities-search").set_value("翠湖").run()
    assert "没有符合搜索或筛选条件的记录。可换个关键词，或清除筛选。" in infos(at)


def test_a_role_that_may_only_read_is_not_told_to_add(office, backend):
    if backend != "duckdb":
        pytest.skip("the page test runs once")
    at = app_test("pages/register.py", "vendors", role="业委会", user="业委会委员").run()
    assert not at.exception
    assert "「分包方」还没有记录。" in infos(at)
