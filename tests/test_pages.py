"""Every page renders without an exception (AppTest), and the grid's Save goes through the save path."""

from pathlib import Path

import pytest
from apptest import app_test
from streamlit.testing.v1 import AppTest

from app import registers
from app.saving.changes import RowChange, apply_changes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_db(db, actor, monkeypatch):
    """A small estate in a DuckDB file the pages open through WUYE_DB."""
    apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})])
    apply_changes(db, actor, "households", [
        RowChange("insert", values={"community_id": 1, "code": f"1-1-{n}01", "area": "89.50", "status": "已入住"})
        for n in range(1, 8)
    ])
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield url
    session._database.clear()


def page(path: str, current: str | None = None) -> AppTest:
    return app_test(path, current).run()


def test_home_page_through_the_router(app_db):
    at = page("app/streamlit_app.py")
    assert not at.exception
    assert at.title[0].value == "物业台账"
    shown = {m.label: m.value for m in at.metric}
    assert (shown["楼栋"], shown["户数"]) == ("0", "7")  # the 小区 overview under the dashboard


# Every page renders on DuckDB. On PostgreSQL the pages share one grid and one area layout, so a
# sample covers its read path (masked personal data, references, decimals, timestamps, enums,
# a to-do list) without paying a fresh database for each of the 85 pages.
POSTGRES_SAMPLE = {"owners", "households", "bills", "work_orders", "fire_equipment", "收费管理", "维修与投诉"}


@pytest.fixture
def pg_sample(request, backend):
    """Skip before any database is made (it comes first among the test's fixtures)."""
    params = request.node.callspec.params
    if backend != "duckdb" and params.get("name", params.get("area")) not in POSTGRES_SAMPLE:
        pytest.skip("rendered on DuckDB; PostgreSQL renders a sample")


@pytest.mark.parametrize("name", sorted(registers.catalog()))
def test_every_register_page_renders(pg_sample, app_db, name):
    at = page("pages/register.py", name)
    assert not at.exception, at.exception
    assert at.title[0].value == registers.get(name).label


@pytest.mark.parametrize("area", list(registers.by_area()))
def test_every_area_page_renders(pg_sample, app_db, area):
    at = page("pages/area.py", registers.area_slug(area))
    assert not at.exception, at.exception
    assert at.title[0].value == area


def test_settings_page_lists_parameters_with_their_source(app_db):
    at = page("pages/settings.py")
    assert not at.exception
    keys = set(next(d.value for d in at.dataframe if "key" in d.value.columns)["key"])
    assert keys == {"fee.late_fee_rate_per_day", "fee.grace_days", "fee.due_day", "fee.arrears_todo_days",
                    "fee.late_fee_collect", "fee.prorate", "fee.late_fee_cap_ratio", "fee.late_fee_order"}


def save_edits(at: AppTest, grid_key: str, diff: dict) -> AppTest:
    editor = at.session_state[f"{grid_key}-current-editor"]
    at.session_state[editor] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **diff}
    return at.button(key=f"{grid_key}-save").click().run()


def test_grid_save_writes_and_audits(app_db):
    at = page("pages/register.py", "households")
    at = save_edits(at, "grid-households", {"edited_rows": {0: {"area": 95.25, "note": "东边套"}}})
    assert not at.exception
    assert "已保存：修改 1 行" in at.success[0].value
    from app.storage.db import open_database
    from app.ui import session

    session._database.clear()  # release the file
    db = open_database(app_db)
    assert db.rows("SELECT area, note FROM households WHERE code = '1-1-101'")[0] == (
        __import__("decimal").Decimal("95.25"), "东边套")
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register='households' AND action='修改'") == 1
    db.close()


def test_grid_invalid_edit_shows_errors_and_writes_nothing(app_db):
    at = page("pages/register.py", "households")
    at = save_edits(at, "grid-households", {
        "edited_rows": {1: {"code": "1/1/201"}},
        "added_rows": [{"community_id": "阳光花园", "code": "9-9-901", "area": -1}],
    })
    assert not at.exception
    assert "校验未通过" in at.error[0].value
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert list(problems["行"]) == ["第 2 行（编号 2）", "新增第 1 行"]
    assert list(problems["列"]) == ["房号", "建筑面积(㎡)"]
    from app.storage.db import open_database
    from app.ui import session

    session._database.clear()
    db = open_database(app_db)
    assert db.scalar("SELECT count(*) FROM households") == 7
    assert db.scalar("SELECT code FROM households WHERE id = 2") == "1-1-201"
    db.close()


def test_record_panel_shows_fields_and_history(app_db):
    at = app_test("pages/register.py", "households", query={"id": "3"}).run()
    assert not at.exception
    details = next(d.value for d in at.dataframe if "字段" in d.value.columns)
    shown = dict(zip(details["字段"], details["内容"]))
    assert shown["房号"] == "1-1-301" and shown["小区"] == "阳光花园" and shown["建筑面积(㎡)"] == "89.50"
    changes = next(d.value for d in at.dataframe if "内容" in d.value.columns and "操作" in d.value.columns)
    assert list(changes["操作"]) == ["新增"]
    assert "房号 1-1-301" in changes["内容"][0]


def test_global_search_links_to_the_row(app_db):
    at = page("app/streamlit_app.py")
    at.sidebar.text_input(key="global-search").input("1-1-301").run()
    assert not at.exception
    links = [p for p in at.sidebar.get("page_link")]
    assert any("阳光花园/1-1-301" in p.proto.label for p in links)


def test_attachments_are_listed_on_the_record(app_db):
    from app.access.permissions import cli_actor
    from app.saving.attachments import save_attachment
    from app.storage.db import open_database
    from app.ui import session

    session._database.clear()
    db = open_database(app_db)
    save_attachment(db, cli_actor(), "households", 2, "门口.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    db.close()
    at = app_test("pages/register.py", "households", query={"id": "2"}).run()
    assert not at.exception
    assert any("门口.png" in m.value for m in at.markdown)


def test_rule_views_page_shows_rule_source_and_rows(app_db):
    at = page("pages/rules.py")
    assert not at.exception
    at.selectbox(key="rule-view").select("v_community_overview").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "二 小区基本概况" in text
    rows = next(d.value for d in at.dataframe)
    assert list(rows["户数"]) == [7]


def test_every_rule_view_renders(app_db):
    from app.reading.views import view_names

    at = page("pages/rules.py")
    for name in view_names():
        at.selectbox(key="rule-view").select(name).run()
        assert not at.exception, name
