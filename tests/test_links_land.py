"""Links that land: every to-do and search link opens the page that works on its row, with the row selected.

A household in arrears opens 收银台, another household item 一户一档, a work order (or a 回访 of one)
the service desk, any other row its register with the record panel above the grid. The estate is
built relative to today, because v_todo is the to-do list at current_date.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from apptest import app_test
from saving import add

from app import registers
from app.access.permissions import ADMIN, Actor
from app.analysis.search import global_search, search_hits
from app.analysis.todo import todo_list
from app.estate.household_file import find_households
from app.saving.changes import RowChange, apply_changes
from app.service import service_desk as desk
from app.settings import ensure_defaults
from app.storage.db import open_database
from app.ui import nav

ROOT = Path(__file__).resolve().parents[1]


def build_estate(db, actor) -> dict:
    """One 小区 with one item of each kind of link, dated from today."""
    now = db.now().replace(second=0)
    today = now.date()
    c = add(db, actor, "communities", name="阳光花园")
    staff = add(db, actor, "staff", name="李工", community_id=c,
                department_id=add(db, actor, "departments", name="工程部"))
    owing = add(db, actor, "households", community_id=c, code="3-1201", area="100.00", status="已入住",
                handover_date="2020-05-01")
    other = add(db, actor, "households", community_id=c, code="13-3-1201", area="80.00", status="已入住",
                handover_date="2020-05-01")
    vacant = add(db, actor, "households", community_id=c, code="5-1-101", area="90.00", status="空置")
    item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="3.0000",
               cycle="月", status="已审批", effective_from="2020-01-01")
    due = today - timedelta(days=120)  # over fee.arrears_todo_days (90): a 收费管理 to-do
    add(db, actor, "bills", household_id=owing, fee_item_id=item, period=due.strftime("%Y-%m"),
        amount="300.00", due_date=due)
    # 紧急, reported two hours ago, nobody there: past its 30 minutes
    urgent, urgent_no = desk.register_repair(db, actor, {
        "community_id": c, "household_id": owing, "category": "管道", "description": "漏水", "urgency": "紧急",
        "reported_at": now - timedelta(hours=2)})
    # done last week and visited with 1 point, no rework yet: the visit's to-do opens this order
    visited, _ = desk.register_repair(db, actor, {
        "community_id": c, "household_id": other, "category": "水电", "description": "跳闸", "urgency": "一般",
        "reported_at": now - timedelta(days=8)})
    desk.dispatch(db, actor, visited, staff, now - timedelta(days=8))
    desk.arrive(db, actor, visited, now - timedelta(days=8) + timedelta(hours=1))
    desk.complete(db, actor, visited, now - timedelta(days=8) + timedelta(hours=3))
    visit = desk.record_visit(db, actor, visited, 1, now - timedelta(days=6))
    contract = add(db, actor, "contracts", contract_no="HT-2026-007", community_id=c, title="电梯维保",
                   kind="分包", counterparty="迅达电梯", start_on=today - timedelta(days=355),
                   end_on=today + timedelta(days=10), amount="36000.00", status="履行中")
    return {"community": c, "owing": owing, "other": other, "vacant": vacant, "urgent": urgent,
            "urgent_no": urgent_no, "visited": visited, "visit": visit, "contract": contract}


def todo_ref_tables() -> set[str]:
    """Every register a v_todo part names (its ref_table values are quoted register names)."""
    names = set(registers.catalog())
    return {name for f in (ROOT / "sql" / "views").glob("v_todo*.sql")
            for name in re.findall(r"'([a-z_]+)'", f.read_text()) if name in names}


def test_every_ref_table_of_v_todo_links_to_a_page_of_the_navigation_table():
    tables = todo_ref_tables()
    assert {"households", "work_orders", "work_order_visits", "contracts", "fire_equipment", "drills"} <= tables
    pages = {e.url: e for e in nav.entries(ADMIN)}
    areas = set(registers.by_area())
    for table in tables:
        for area in (None, *areas):
            assert nav.record_url(table, area) in pages, (table, area)
    assert nav.href("households", 7, "收费管理") == "/cashier?id=7"
    assert nav.href("households", 7, "小区与房屋") == "/household?id=7"
    assert nav.href("work_orders", 3, "维修与投诉") == "/service_desk?id=3"
    assert nav.href("contracts", 5, "合同与工程") == "/contracts?id=5"
    assert nav.href("drills", None, "设备与消防") == "/drills"  # no drill yet: the register, to add one
    assert (pages["cashier"].file, pages["household"].file, pages["service_desk"].file, pages["contracts"].file) \
        == ("cashier.py", "household.py", "service_desk.py", "register.py")


def test_todo_items_link_to_the_page_that_works_on_them(db, actor):
    e = build_estate(db, actor)
    todo = todo_list(db, actor)
    links = {(t, i): link for t, i, link in zip(todo["ref_table"], todo["ref_id"], todo["link"])}
    assert links[("households", e["owing"])] == f"/cashier?id={e['owing']}"  # arrears: 收银台
    assert links[("households", e["vacant"])] == f"/household?id={e['vacant']}"  # vacant check: 一户一档
    assert links[("work_orders", e["urgent"])] == f"/service_desk?id={e['urgent']}"
    assert links[("work_order_visits", e["visit"])] == f"/service_desk?id={e['visited']}"  # the visit's order
    assert links[("contracts", e["contract"])] == f"/contracts?id={e['contract']}"


def test_household_search_puts_the_exact_match_first(db, actor):
    e = build_estate(db, actor)
    # by code alone 13-3-1201 sorts before 3-1201; the exact code comes first, then codes starting with it
    assert list(find_households(db, actor, "3-1201")) == [e["owing"], e["other"]]
    assert list(find_households(db, actor, "3-12")) == [e["owing"], e["other"]]
    assert list(find_households(db, actor, "-3-12")) == [e["other"]]


def test_global_search_finds_numbers_and_says_when_there_are_more(db, actor):
    e = build_estate(db, actor)
    add(db, actor, "complaints", complaint_no="TS-2026-0042", community_id=e["community"], household_id=e["owing"],
        received_at=datetime(2026, 3, 1, 9, 0), channel="电话", category="噪音", description="楼上装修")
    receipt = apply_changes(db, actor, "receipts", [RowChange("insert", values={
        "receipt_no": "SJ-2026-000123", "community_id": e["community"], "household_id": e["owing"],
        "paid_at": datetime(2026, 3, 2, 10, 0), "total": "300.00", "method": "微信"})]).inserted[0]
    hits = {(h.register, h.row_id) for h in global_search(db, actor, e["urgent_no"])}
    assert ("work_orders", e["urgent"]) in hits
    assert [(h.register, h.snippet) for h in global_search(db, actor, "TS-2026-0042")] == [
        ("complaints", "噪音 待处理")]
    [found] = global_search(db, actor, "SJ-2026-000123")
    assert (found.register, found.row_id, found.snippet) == ("receipts", receipt, "2026-03-02 300.00 元 微信")
    assert [h.row_id for h in global_search(db, actor, "ht-2026-007")] == [e["contract"]]
    # three households hold "1": shown two, and told there are more; asked for three, no more
    shown, more = search_hits(db, actor, "1", limit=2)
    assert len(shown) == 2 and more
    every = global_search(db, actor, "1", limit=100)
    shown, more = search_hits(db, actor, "1", limit=len(every))
    assert len(shown) == len(every) and not more
    outsider = Actor("外人", role="客服", communities=(e["community"] + 1,))
    assert global_search(db, outsider, e["urgent_no"]) == []  # another 小区's order stays unseen


# -- opening the links under AppTest -----------------------------------------------------------
@pytest.fixture(scope="module")
def estate_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("links") / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    e = build_estate(db, actor)
    e["links"] = list(todo_list(db, actor)["link"])
    apply_changes(db, actor, "households", [  # one more 8-1-… than the sidebar shows
        RowChange("insert", values={"community_id": e["community"], "code": f"8-1-{n:03d}", "area": "90.00",
                                    "status": "已入住"}) for n in range(101, 114)])
    db.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("WUYE_DB", str(path))
    from app.ui import session

    session._database.clear()
    yield e
    session._database.clear()
    mp.undo()


def open_link(link: str, **kwargs):
    """The page a link names, run under AppTest with its query: (AppTest, row id)."""
    parsed = urlparse(link)
    url, row = parsed.path.strip("/"), int(parse_qs(parsed.query)["id"][0])
    entry = {e.url: e for e in nav.entries(ADMIN)}[url]
    at = app_test("pages/" + entry.file, url if entry.file == "register.py" else None,
                  query={"id": str(row)}, **kwargs).run()
    assert not at.exception, at.exception
    return at, row


def test_every_todo_link_opens_its_page_with_the_row_selected(estate_file):
    e = estate_file
    opened = set()
    for link in sorted(set(e["links"])):
        if "?id=" not in link:
            continue
        at, row = open_link(link)
        page = link.split("?")[0]
        if page == "/cashier":
            assert at.selectbox(key="cashier-household").value == row
            assert at.metric[0].label == "欠费(元)" and at.metric[0].value == "300.00"
        elif page == "/household":
            assert at.selectbox(key="household-picked").value == row
            assert at.subheader[0].value == "阳光花园 5-1-101"
        elif page == "/service_desk":
            assert at.selectbox(key="desk-order").value == row
            assert at.subheader[0].value.startswith("报修单 BX-")
        elif page == "/service_complaints":
            assert at.selectbox(key="complaint-pick").value == row
        else:  # a register: the record panel first, above the grid
            assert at.subheader[0].value == "链接打开的记录"
            details = at.dataframe[0].value
            assert dict(zip(details["字段"], details["内容"]))["编号"] == str(row)
        opened.add(page)
    assert opened >= {"/cashier", "/household", "/service_desk", "/contracts"}


def test_a_complaint_link_opens_the_complaint_desk_with_it_selected(estate_file):
    from app.storage.db import database_url
    from app.ui import session

    db = session._database(database_url())
    complaint = add(db, Actor("测试"), "complaints", complaint_no="TS-2026-0099", community_id=estate_file["community"],
                    received_at=datetime(2026, 3, 1, 9, 0), channel="电话", category="噪音", description="夜间施工")
    link = nav.href("complaints", complaint)
    assert link == f"/service_complaints?id={complaint}"
    at, row = open_link(link)
    assert at.selectbox(key="complaint-pick").value == complaint
    assert at.selectbox(key="complaint-community").value == estate_file["community"]


def test_household_page_search_switches_the_household(estate_file):
    e = estate_file
    at, _ = open_link(f"/household?id={e['vacant']}")
    at.text_input(key="household-search").input("3-1201").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="household-picked").value == e["owing"]  # the exact match, not 13-3-1201
    assert at.subheader[0].value == "阳光花园 3-1201"
    assert at.query_params["id"] in (str(e["owing"]), [str(e["owing"])])  # the address follows
    at.text_input(key="household-search").input("13-3").run()
    assert at.selectbox(key="household-picked").value == e["other"]


def test_a_link_outside_the_users_communities_says_so(estate_file):
    e = estate_file
    at = app_test("pages/service_desk.py", query={"id": "999999"}).run()
    assert not at.exception, at.exception
    assert "没有编号为 999999 的报修单" in at.warning[0].value
    assert at.selectbox(key="desk-order").value is None
    at = app_test("pages/cashier.py", query={"id": "999999"}).run()
    assert "没有编号为 999999 的房屋" in at.warning[0].value
    assert e["owing"]


def test_search_hits_in_the_sidebar_open_the_page_that_works_on_them(estate_file):
    e = estate_file
    at = app_test("app/streamlit_app.py").run()
    at.sidebar.text_input(key="global-search").input(e["urgent_no"]).run()
    assert not at.exception, at.exception
    hits = [link.proto for link in at.get("page_link") if link.proto.query_string]
    assert [(h.page, h.query_string, h.label) for h in hits] == [
        ("service_desk", f"id={e['urgent']}", f"报修单：{e['urgent_no']}")]
    at.sidebar.text_input(key="global-search").input("3-1201").run()
    hits = [link.proto for link in at.get("page_link") if link.proto.query_string]
    assert [(h.page, h.query_string) for h in hits] == [  # 一户一档, the exact 房号 first
        ("household", f"id={e['owing']}"), ("household", f"id={e['other']}")]
    assert not any("还有更多结果" in c.value for c in at.sidebar.caption)
    at.sidebar.text_input(key="global-search").input("8-1-").run()  # thirteen houses
    assert len([link for link in at.get("page_link") if link.proto.query_string]) == 12
    assert any(c.value.startswith("只显示前 12 条，还有更多结果") for c in at.sidebar.caption)
