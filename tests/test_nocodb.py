"""NocoDB sync and intake against a real NocoDB 0.301.3 (scripts/nocodb.sh installs it).

The server is started once per session on 127.0.0.1 and a free port (or reused from
WUYE_TEST_NOCODB_URL + WUYE_TEST_NOCODB_TOKEN). Without it these tests skip, except under CI
(or WUYE_REQUIRE_NOCODB), where they fail: CI must test the sync for real. Each test works in
a NocoDB base of its own.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from saving import add

from app.saving.changes import RowChange, apply_changes
from app.sync import nocodb
from app.sync.nocodb_server import LocalNocoDB, NocoDBUnavailable, installed

pytestmark = pytest.mark.nocodb


@pytest.fixture(scope="session")
def nocodb_server():
    """(url, api token) of a running NocoDB."""
    url, token = os.environ.get("WUYE_TEST_NOCODB_URL"), os.environ.get("WUYE_TEST_NOCODB_TOKEN")
    if url and token:
        yield url, token
        return
    required = os.environ.get("CI") or os.environ.get("WUYE_REQUIRE_NOCODB")
    if not installed() and not required:
        pytest.skip("NocoDB not installed (run scripts/nocodb.sh install)")
    server = LocalNocoDB()
    try:
        server.start()
    except NocoDBUnavailable as err:
        if required:
            pytest.fail(f"{err}: CI must test the NocoDB sync")
        pytest.skip(str(err))
    try:
        yield server.url, server.token()
    finally:
        server.stop()


@pytest.fixture
def link(nocodb_server) -> nocodb.Link:
    url, token = nocodb_server
    return nocodb.Link(url, token, base="t" + uuid.uuid4().hex[:10])


@pytest.fixture
def estate(db, actor) -> dict:
    community = add(db, actor, "communities", name="阳光花园")
    home = add(db, actor, "households", community_id=community, code="3-2-1201", area="89.50",
               usage="住宅", status="已入住", handover_date=date(2020, 6, 30))
    shop = add(db, actor, "households", community_id=community, code="S-01", area="120.25",
               usage="商铺", status="空置")
    owner = add(db, actor, "owners", household_id=home, name="张三", phone="13812345678", role="业主",
                is_primary=True, move_in_date=date(2020, 7, 15))
    return {"community": community, "home": home, "shop": shop, "owner": owner}


def records(link: nocodb.Link, db, key: str) -> dict[int, dict]:
    """NocoDB's rows of a synced table, by wuye 编号."""
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = ?", [key])
    return {r["编号"]: r for r in link.records(table)}


def patch(link: nocodb.Link, db, key: str, rows: list[dict]) -> None:
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = ?", [key])
    link.call("PATCH", f"api/v2/tables/{table}/records", rows)


def test_push_makes_typed_chinese_columns_and_pull_gives_the_same_rows(db, actor, estate, link):
    report = nocodb.push(db, actor, link, "households")
    assert report.pushed_new == 2
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'households'")
    types = {c["title"]: c["uidt"] for c in link.call("GET", f"api/v2/meta/tables/{table}")["columns"]}
    assert types["房号"] == "SingleLineText"
    assert types["建筑面积(㎡)"] == "Decimal"
    assert types["用途"] == "SingleSelect"
    assert types["交房日期"] == "Date"
    assert types["小区"] == "SingleLineText"  # a ref travels as its label
    rows = records(link, db, "households")
    home = rows[estate["home"]]
    assert (home["小区"], home["房号"], home["用途"], home["交房日期"]) == ("阳光花园", "3-2-1201", "住宅", "2020-06-30")
    assert float(home["建筑面积(㎡)"]) == 89.5 and "版本" not in home
    assert float(rows[estate["shop"]]["建筑面积(㎡)"]) == 120.25

    before = db.rows("SELECT id, code, area, row_version FROM households ORDER BY id")
    again = nocodb.pull(db, actor, link, "households")
    assert (again.inserted, again.updated, again.refused, again.conflicts) == ([], [], [], [])
    assert db.rows("SELECT id, code, area, row_version FROM households ORDER BY id") == before
    # and the other way round: a second push sends nothing new
    assert nocodb.push(db, actor, link, "households").pushed_new == 0


def test_personal_data_is_masked_in_nocodb(db, actor, estate, link):
    nocodb.push(db, actor, link, "owners")
    owner = records(link, db, "owners")[estate["owner"]]
    assert owner["手机号"] == "138****5678"
    assert owner["房屋"] == "阳光花园/3-2-1201"
    # the masked cell is not sent back: pulling leaves the real number alone
    nocodb.pull(db, actor, link, "owners")
    assert db.scalar("SELECT phone FROM owners WHERE id = ?", [estate["owner"]]) == "13812345678"


def test_an_edit_in_nocodb_arrives_through_the_save_path_with_an_audit_row(db, actor, estate, link):
    nocodb.push(db, actor, link, "owners")
    nid = records(link, db, "owners")[estate["owner"]]["Id"]
    patch(link, db, "owners", [{"Id": nid, "姓名": "张叁", "迁出日期": "2026-11-20"}])
    report = nocodb.pull(db, actor, link, "owners")
    assert report.updated == [estate["owner"]] and not report.refused
    assert db.rows("SELECT name, moved_out_on, phone, row_version FROM owners WHERE id = ?", [estate["owner"]]) == [
        ("张叁", date(2026, 11, 20), "13812345678", 2)]
    audit = db.rows("SELECT source, action, old_values, new_values FROM audit_log WHERE register = 'owners' "
                    "AND row_id = ? ORDER BY id", [estate["owner"]])
    assert audit[-1][:2] == ("NocoDB", "修改")
    assert json.loads(audit[-1][2]) == {"name": "张三", "moved_out_on": None}
    assert json.loads(audit[-1][3]) == {"name": "张叁", "moved_out_on": "2026-11-20"}
    # the next pull sees the write-back as nothing new
    assert nocodb.pull(db, actor, link, "owners").updated == []


def test_a_row_added_in_nocodb_gets_its_number(db, actor, estate, link):
    nocodb.push(db, actor, link, "households")
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'households'")
    link.call("POST", f"api/v2/tables/{table}/records",
              [{"小区": "阳光花园", "房号": "3-2-1202", "建筑面积(㎡)": 90.1, "用途": "住宅", "状态": "空置"}])
    report = nocodb.pull(db, actor, link, "households")
    assert len(report.inserted) == 1
    new_id = report.inserted[0]
    assert db.rows("SELECT community_id, code, area FROM households WHERE id = ?", [new_id]) == [
        (estate["community"], "3-2-1202", Decimal("90.10"))]
    assert records(link, db, "households")[new_id]["房号"] == "3-2-1202"
    assert db.scalar("SELECT source FROM audit_log WHERE register = 'households' AND row_id = ?", [new_id]) == "NocoDB"


def test_an_invalid_edit_is_refused_and_reported_in_nocodb(db, actor, estate, link):
    nocodb.push(db, actor, link, "households")
    nid = records(link, db, "households")[estate["home"]]["Id"]
    patch(link, db, "households", [{"Id": nid, "建筑面积(㎡)": -5, "备注": "面积填错"}])
    report = nocodb.pull(db, actor, link, "households")
    assert report.updated == [] and [i.row_id for i in report.refused] == [estate["home"]]
    assert "建筑面积" in report.refused[0].message
    assert db.rows("SELECT area, note, row_version FROM households WHERE id = ?", [estate["home"]]) == [
        (Decimal("89.50"), None, 1)]
    shown = records(link, db, "households")[estate["home"]]
    assert shown["同步错误"].startswith("校验未通过") and "建筑面积" in shown["同步错误"]
    # reported once: the unchanged bad row is not tried again
    assert nocodb.pull(db, actor, link, "households").refused == []
    # fixed in NocoDB: applied, the error cleared
    patch(link, db, "households", [{"Id": nid, "建筑面积(㎡)": 89.75}])
    fixed = nocodb.pull(db, actor, link, "households")
    assert fixed.updated == [estate["home"]]
    assert db.rows("SELECT area, note FROM households WHERE id = ?", [estate["home"]]) == [
        (Decimal("89.75"), "面积填错")]
    assert not records(link, db, "households")[estate["home"]]["同步错误"]


def test_a_conflicting_local_edit_is_reported_not_overwritten(db, actor, estate, link):
    nocodb.push(db, actor, link, "households")
    nid = records(link, db, "households")[estate["home"]]["Id"]
    apply_changes(db, actor, "households", [RowChange("update", estate["home"], {"status": "出租"}, 1)])
    patch(link, db, "households", [{"Id": nid, "状态": "装修中"}])
    report = nocodb.pull(db, actor, link, "households")
    assert [i.row_id for i in report.conflicts] == [estate["home"]] and report.updated == []
    assert db.scalar("SELECT status FROM households WHERE id = ?", [estate["home"]]) == "出租"
    assert records(link, db, "households")[estate["home"]]["同步错误"].startswith("数据冲突")
    # wuye stays the record: the next push shows its value and clears the report
    nocodb.push(db, actor, link, "households")
    shown = records(link, db, "households")[estate["home"]]
    assert (shown["状态"], shown["同步错误"]) == ("出租", None)


def test_a_form_submission_becomes_a_numbered_work_order_with_a_running_clock(db, actor, estate, link):
    from app.service import service_desk

    forms = nocodb.publish_forms(db, actor, link)
    assert set(forms) == {"work_orders", "complaints"} and "/nc/form/" in forms["work_orders"]
    uuid_ = db.scalar("SELECT form_uuid FROM nocodb_tables WHERE sync_key = 'intake:work_orders'")
    submitted = requests.post(  # what the public form does in a resident's browser
        f"{link.url}/api/v1/db/public/shared-view/{uuid_}/rows",
        files={"data": (None, json.dumps({"小区": "阳光花园", "房号": "3-2-1201", "报修位置": "厨房",
                                          "类别": "管道", "报修内容": "厨房下水管漏水",
                                          "报修人": "张三", "联系电话": "13812345678"}))},
        timeout=30)
    assert submitted.status_code == 200, submitted.text
    report = nocodb.pull_intake(db, actor, link, "work_orders")
    assert len(report.created) == 1 and not report.refused
    order_id, number = report.created[0]
    today = db.now().strftime("%Y%m%d")
    assert number == f"BX-{today}-001"
    row = db.rows("SELECT community_id, household_id, channel, status, category, reporter_phone, reported_at "
                  "FROM work_orders WHERE id = ?", [order_id])[0]
    assert row[:6] == (estate["community"], estate["home"], "网络", "待派工", "管道", "13812345678")
    assert abs((db.now() - row[6]).total_seconds()) < 120  # the clock starts at submission
    board = service_desk.duty_board(db, at=db.now() + timedelta(minutes=1))
    mine = board[board["order_no"] == number].iloc[0]
    assert mine["clock"] == "到场" and 0 < mine["minutes_left"] <= 24 * 60  # 一般: 24 h to arrive
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'intake:work_orders'")
    assert [r["报修单号"] for r in link.records(table)] == [number]
    assert nocodb.pull_intake(db, actor, link, "work_orders").created == []  # once only


def test_a_complaint_form_submission_and_a_refused_one(db, actor, estate, link):
    nocodb.publish_forms(db, actor, link)
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'intake:complaints'")
    link.call("POST", f"api/v2/tables/{table}/records", [
        {"小区": "阳光花园", "类别": "噪音", "投诉内容": "夜间施工噪音", "联系电话": "13912345678"},
        {"小区": "阳光花园", "类别": "噪音", "联系电话": "13912345678"},  # no content: refused
    ])
    report = nocodb.pull_intake(db, actor, link, "complaints")
    assert [n for _, n in report.created] == [f"TS-{db.now():%Y%m%d}-001"] and len(report.refused) == 1
    assert db.scalar("SELECT channel FROM complaints WHERE id = ?", [report.created[0][0]]) == "网络"
    shown = {r["Id"]: r for r in link.records(table)}
    assert "投诉内容" in shown[report.refused[0].nocodb_id]["同步错误"]


def test_settings_and_attachments_never_sync(db, actor, link):
    with pytest.raises(nocodb.NocoDBError):
        nocodb.push(db, actor, link, "settings")


def test_scheduled_pull_applies_submissions(db, actor, estate, link):
    nocodb.publish_forms(db, actor, link)
    table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'intake:work_orders'")
    link.call("POST", f"api/v2/tables/{table}/records",
              [{"小区": "阳光花园", "类别": "水电", "报修内容": "楼道灯不亮", "联系电话": "13812345678"}])
    lines = nocodb.pull_everything(db, nocodb.job_actor(), link)
    assert any("新受理 1 件" in line for line in lines)
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'work_orders' AND source = 'NocoDB' "
                     "AND actor = 'NocoDB 同步'") == 1


def test_cli_push_forms_and_pull(tmp_path, nocodb_server, capsys, monkeypatch):
    from app.access.permissions import Actor
    from app.cli import main
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    path = str(tmp_path / "cli.duckdb")
    database = open_database(path)
    clerk = Actor("测试", source="任务")
    ensure_defaults(database, clerk)
    community = add(database, clerk, "communities", name="阳光花园")
    add(database, clerk, "households", community_id=community, code="3-2-1201", area="89.50",
        usage="住宅", status="已入住")
    database.close()
    url, token = nocodb_server
    monkeypatch.setenv("WUYE_NOCODB_URL", url)
    monkeypatch.setenv("WUYE_NOCODB_TOKEN", token)
    monkeypatch.setenv("WUYE_NOCODB_BASE", "cli" + uuid.uuid4().hex[:8])
    assert main(["--db", path, "nocodb", "push", "households"]) == 0
    assert "推送 新增 1 行" in capsys.readouterr().out
    assert main(["--db", path, "nocodb", "forms"]) == 0
    assert "住户报修：" + url in capsys.readouterr().out
    assert main(["--db", path, "nocodb", "pull", "households"]) == 0
    assert "没有改动" in capsys.readouterr().out
    monkeypatch.delenv("WUYE_NOCODB_TOKEN")
    assert main(["--db", path, "nocodb", "pull", "households"]) == 2
    assert "WUYE_NOCODB_TOKEN" in capsys.readouterr().err


def test_page_publishes_forms_and_pushes(db, actor, backend, estate, link, monkeypatch):
    if backend != "duckdb":
        pytest.skip("the page is shown once")
    from apptest import app_test

    from app.ui import session

    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    monkeypatch.setenv("WUYE_NOCODB_URL", link.url)
    monkeypatch.setenv("WUYE_NOCODB_TOKEN", link.token)
    monkeypatch.setenv("WUYE_NOCODB_BASE", link.base)
    monkeypatch.setenv("WUYE_NOCODB_SCHEDULE", "0")
    session._database.clear()
    try:
        at = app_test("pages/nocodb.py").run()
        assert not at.exception
        at.button(key="nocodb-forms").click().run()
        assert "/nc/form/" in " ".join(m.value for m in at.markdown)
        at.selectbox(key="nocodb-register").set_value("households").run()
        at.button(key="nocodb-push").click().run()
        assert not at.exception
        assert "推送 新增 2 行" in at.success[0].value
        assert [r["台账/表单"] for r in at.dataframe[0].value.to_dict("records")] == [
            "房屋档案", "住户投诉表单", "住户报修表单"]
    finally:
        session._database.clear()


def test_field_staff_move_an_order_in_nocodb_and_the_workflow_holds(db, actor, estate, link):
    from app.service import service_desk

    department = add(db, actor, "departments", name="工程部")
    add(db, actor, "staff", name="李工", department_id=department, community_id=estate["community"])
    order_id, number = service_desk.register_repair(db, actor, {
        "community_id": estate["community"], "category": "水电", "description": "楼道灯不亮",
        "reported_at": datetime(2026, 11, 20, 9, 0)})
    second_id, _ = service_desk.register_repair(db, actor, {
        "community_id": estate["community"], "category": "门窗", "description": "单元门闭门器坏"})
    nocodb.push(db, actor, link, "work_orders")
    rows = records(link, db, "work_orders")
    assert rows[order_id]["报修时间"] == "2026-11-20 01:00:00+00:00"  # office time (UTC+8) as a moment
    patch(link, db, "work_orders", [
        {"Id": rows[order_id]["Id"], "状态": "已派工", "维修人员": "李工"},  # allowed: dispatch
        {"Id": rows[second_id]["Id"], "状态": "已完成"},  # skips the flow: refused
    ])
    report = nocodb.pull(db, actor, link, "work_orders")
    assert report.updated == [order_id] and [i.row_id for i in report.refused] == [second_id]
    status, assignee, dispatched = db.rows(
        "SELECT status, assignee_id, dispatched_at FROM work_orders WHERE id = ?", [order_id])[0]
    assert (status, assignee is not None, dispatched is not None) == ("已派工", True, True)
    shown = records(link, db, "work_orders")
    assert shown[order_id]["派工时间"]  # stamped by the workflow rule, written back
    assert shown[order_id]["报修单号"] == number
    assert db.scalar("SELECT status FROM work_orders WHERE id = ?", [second_id]) == "待派工"
    assert "状态" in shown[second_id]["同步错误"]
