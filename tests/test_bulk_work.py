"""Bulk work (issue 23 item 8): batch dispatch of work orders (all or nothing), the 催缴 list with
owners and masked phones, one-click 催缴通知书 for ticked households (one action each + one document),
and batch printing of a day's receipts. Hand-built rows on both backends."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from saving import add

from app.access.permissions import Actor
from app.fees import billing, dunning, printing
from app.saving.changes import ValidationFailed
from app.service import service_desk as desk

D = Decimal


# -- batch dispatch ------------------------------------------------------------------------------
@pytest.fixture
def desk_estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="工程部")
    worker = add(db, actor, "staff", name="李工", department_id=dept, community_id=c)
    other = add(db, actor, "staff", name="王工", department_id=dept, community_id=c)
    orders = [desk.register_repair(db, actor, {"community_id": c, "category": "水电", "description": f"灯不亮 {i}",
                                               "urgency": "一般", "reported_at": datetime(2026, 3, 2, 8, i)})
              for i in range(3)]
    return {"community": c, "worker": worker, "other": other, "orders": orders}


def statuses(db, ids) -> list[tuple]:
    return [tuple(db.rows("SELECT status, assignee_id FROM work_orders WHERE id = ?", [i])[0]) for i in ids]


def test_batch_dispatch_with_one_order_refused_moves_none(db, actor, desk_estate):
    (a, _), (b, b_no), (c, _) = desk_estate["orders"]
    desk.dispatch(db, actor, b, desk_estate["other"], datetime(2026, 3, 2, 9))
    desk.arrive(db, actor, b, datetime(2026, 3, 2, 9, 20))  # b is 处理中: it may not go back to 已派工
    with pytest.raises(ValidationFailed) as err:
        desk.dispatch_many(db, actor, [a, b, c], desk_estate["worker"], datetime(2026, 3, 2, 10))
    assert f"报修单 {b_no}" in str(err.value) and len(err.value.problems) == 1
    assert statuses(db, [a, b, c]) == [("待派工", None), ("处理中", desk_estate["other"]), ("待派工", None)]


def test_batch_dispatch_moves_every_order_through_the_workflow_and_says_so(db, actor, desk_estate):
    (a, a_no), (b, b_no), (c, c_no) = desk_estate["orders"]
    at = datetime(2026, 3, 2, 10)
    summary = desk.dispatch_many(db, actor, [a, b, c], desk_estate["worker"], at)
    assert summary == f"已将 3 张报修单派工给 李工：{a_no}、{b_no}、{c_no}"
    assert statuses(db, [a, b, c]) == [("已派工", desk_estate["worker"])] * 3
    # The workflow stamped each dispatch, and each move is audited as a batch dispatch.
    assert db.scalar("SELECT count(*) FROM work_orders WHERE dispatched_at = ?", [at]) == 3
    assert db.rows("SELECT count(*), count(DISTINCT change_id) FROM audit_log WHERE register = 'work_orders' "
                   "AND action = '修改' AND source = '批量派工'") == [(3, 1)]


# -- 催缴 -----------------------------------------------------------------------------------------
@pytest.fixture
def fee_estate(db, actor) -> dict:
    """Three homes at 物业费 2.00/㎡ (100, 80, 50 ㎡), billed for 2026-05 (due 05-25); 1-102 pays."""
    c = add(db, actor, "communities", name="阳光花园", service_phone="0571-88886666")
    b = add(db, actor, "buildings", community_id=c, code="1")
    homes = [add(db, actor, "households", community_id=c, building_id=b, code=code, area=area, status="已入住")
             for code, area in (("1-101", "100.00"), ("1-102", "80.00"), ("1-103", "50.00"))]
    for home, name, phone in zip(homes, ("张三", "李四", "王五"), ("13800001111", "13800002222", "13800003333")):
        add(db, actor, "owners", household_id=home, name=name, phone=phone, role="业主")
    add(db, actor, "owners", household_id=homes[0], name="张小三", role="家属", phone="13900000000")
    add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
        status="已审批", effective_from="2026-01-01")
    billing.generate_bills(db, actor, c, "2026-05")
    billing.take_payment(db, actor, homes[1], "160.00", "现金", paid_at=datetime(2026, 5, 20, 9))
    return {"community": c, "homes": homes}


def test_the_arrears_list_names_owners_and_masks_phones_for_roles_without_the_right(db, actor, fee_estate):
    c = fee_estate["community"]
    as_of = date(2026, 6, 30)
    manager = dunning.arrears_contacts(db, Actor("经理甲", "经理"), c, as_of)
    # 1-101 owes 200.00 and 1-103 owes 100.00 since 05-25 (36 days); 1-102 paid. The family member is no owner.
    assert list(zip(manager["household_code"], manager["owners"], manager["phones"], manager["outstanding"])) == [
        ("1-101", "张三", "13800001111", D("200.00")), ("1-103", "王五", "13800003333", D("100.00"))]
    finance = dunning.arrears_contacts(db, Actor("财务乙", "财务"), c, as_of)
    assert list(finance["phones"]) == ["138****1111", "138****3333"]


def test_one_click_notices_record_one_action_per_household_and_print_one_document(db, actor, fee_estate):
    c, (h1, h2, h3) = fee_estate["community"], fee_estate["homes"]
    as_of = date(2026, 6, 30)
    with pytest.raises(ValidationFailed, match="房屋 1-102.*没有逾期欠费"):
        dunning.send_notices(db, actor, c, [h1, h2, h3], "2026-06", as_of)  # 1-102 has paid: nothing recorded
    assert db.scalar("SELECT count(*) FROM arrears_actions") == 0
    batch = dunning.send_notices(db, actor, c, [h1, h3], "2026-06", as_of)
    actions = db.rows("SELECT household_id, step, acted_on, outstanding FROM arrears_actions ORDER BY household_id")
    assert [tuple(a) for a in actions] == [(h1, "催缴通知书", as_of, D("200.00")), (h3, "催缴通知书", as_of, D("100.00"))]
    assert len(batch.action_ids) == 2
    assert batch.html.count("<section class='page'>") == 2 and batch.html.count("物业费催缴通知书") == 2
    sheet = openpyxl.load_workbook(io.BytesIO(batch.workbook)).active
    assert len(sheet.row_breaks.brk) == 1  # two A4 pages
    last = dunning.arrears_contacts(db, actor, c, as_of)
    assert list(last["last_step"]) == ["催缴通知书", "催缴通知书"]


def test_a_days_receipts_print_as_one_document(db, actor, fee_estate):
    c, (h1, _, h3) = fee_estate["community"], fee_estate["homes"]
    billing.take_payment(db, actor, h1, "200.00", "微信", paid_at=datetime(2026, 6, 30, 9))
    billing.take_payment(db, actor, h3, "100.00", "现金", paid_at=datetime(2026, 6, 30, 15))
    ids = printing.receipt_ids(db, actor, c, date(2026, 6, 30), date(2026, 6, 30))
    assert len(ids) == 2  # the 1-102 receipt of 05-20 is another day
    page = printing.receipts_html(db, actor, ids)
    assert page.count("<section class='page'>") == 2
    assert "人民币贰佰元整" in page and "人民币壹佰元整" in page


# -- the pages ---------------------------------------------------------------------------------
@pytest.fixture
def office(tmp_path, monkeypatch):
    """A DuckDB file the pages open through WUYE_DB: (database, actor, open again); close it before a run."""
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from app.ui import session

    path = tmp_path / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    monkeypatch.setenv("WUYE_DB", str(path))
    session._database.clear()
    yield db, actor, lambda: open_database(str(path))
    session._database.clear()


def test_the_service_desk_dispatches_ticked_orders_in_one_go(office):
    from apptest import app_test

    db, actor, reopen = office
    c = add(db, actor, "communities", name="阳光花园")
    worker = add(db, actor, "staff", name="李工", department_id=add(db, actor, "departments", name="工程部"),
                 community_id=c)
    ids = [desk.register_repair(db, actor, {"community_id": c, "category": "水电", "description": f"灯不亮 {i}",
                                            "urgency": "一般", "reported_at": datetime(2026, 3, 2, 8, i)})[0]
           for i in range(2)]
    db.close()
    at = app_test("pages/service_desk.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="batch-orders").set_value(ids)
    at.selectbox(key="batch-assignee").set_value(worker)
    at.button(key="FormSubmitter:desk-batch-批量派工").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("已将 2 张报修单派工给 李工") for s in at.success), [s.value for s in at.success]
    db = reopen()
    assert db.scalar("SELECT count(*) FROM work_orders WHERE status = '已派工' AND assignee_id = ?", [worker]) == 2
    db.close()


def test_the_fees_page_sends_notices_to_the_ticked_households(office):
    from apptest import app_test

    db, actor, reopen = office
    c = add(db, actor, "communities", name="阳光花园")
    homes = [add(db, actor, "households", community_id=c, code=code, area="100.00", status="已入住")
             for code in ("1-101", "1-102")]
    for home, name in zip(homes, ("张三", "李四")):
        add(db, actor, "owners", household_id=home, name=name, phone="13800001111", role="业主")
    add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
        status="已审批", effective_from="2026-01-01")
    billing.generate_bills(db, actor, c, "2026-05")  # due 2026-05-25: overdue on any later day
    db.close()
    at = app_test("pages/fees.py", role="财务", user="测试财务").run()
    assert not at.exception, at.exception
    listed = at.dataframe[0].value
    assert list(listed["owners"]) == ["张三", "李四"] and set(listed["phones"]) == {"138****1111"}
    at.multiselect(key="fees-dunning-homes").set_value(homes)
    at.button(key="FormSubmitter:fees-dunning-batch-生成催缴通知书并记录").click().run()
    assert not at.exception, at.exception
    assert "已为 2 户记录催缴通知书。" in [s.value for s in at.success]
    db = reopen()
    assert db.scalar("SELECT count(*) FROM arrears_actions WHERE step = '催缴通知书'") == 2
    db.close()
