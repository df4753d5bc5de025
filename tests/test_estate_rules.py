"""Decoration, parking, vacant units and emergencies: rule views and save rules on hand-built data.

Every expected figure is worked out by hand in a comment; macros are called with explicit as_of
dates. Defaults (REGULATIONS.md): parking free 30 min, 2.00 元/h, cap 20.00 元 per 24 h; lease
warning 15 days; vacant check every 30 days; fire drill every 365 days.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.estate import decoration, parking
from app.estate import occupancy as estate
from app.saving.changes import RowChange, ValidationFailed, apply_changes

AS_OF = date(2026, 11, 25)


def one(db, sql: str, params=()) -> dict:
    res = db.cursor().execute(sql, list(params))
    names = [c[0] for c in res.description]
    return dict(zip(names, res.fetchone()))


@pytest.fixture
def estate_ids(db, actor) -> dict[str, int]:
    cid = add(db, actor, "communities", name="阳光花园", handover_date="2025-01-01")
    dept = add(db, actor, "departments", name="客服部")
    return {
        "community": cid,
        "clerk": add(db, actor, "staff", name="王客服", department_id=dept, community_id=cid),
        "engineer": add(db, actor, "staff", name="李工", department_id=dept, community_id=cid),
        "home": add(db, actor, "households", community_id=cid, code="3-2-1201", area="98.50", status="已入住"),
        "other": add(db, actor, "households", community_id=cid, code="3-2-1202", area="98.50", status="出租"),
    }


COMPLETE_DOCS = {"doc_ownership": True, "doc_identity": True, "doc_plan": True,
                 "doc_contractor_license": True, "agreement_signed": True}


def approved_decoration(db, actor, ids, household="home", **values) -> int:
    did = decoration.apply(db, actor, {"household_id": ids[household], "applicant": "张三",
                                       "contractor": "杭州美家装饰", "applied_on": date(2026, 9, 1),
                                       "planned_start_on": date(2026, 9, 10), "planned_end_on": date(2026, 11, 10),
                                       "deposit_required": "3000.00", **COMPLETE_DOCS, **values})
    decoration.approve(db, actor, did, ids["clerk"], date(2026, 9, 3))
    return did


# -- decoration save rules --------------------------------------------------------------------
def test_approval_with_missing_documents_is_refused(db, actor, estate_ids):
    # a tenant applies with a contractor: ownership, identity, plan, licence, owner's consent and the
    # agreement are needed; only ownership and identity are ticked
    did = decoration.apply(db, actor, {"household_id": estate_ids["other"], "applicant": "李租户",
                                       "applicant_role": "租户", "contractor": "杭州美家装饰",
                                       "doc_ownership": True, "doc_identity": True,
                                       "applied_on": date(2026, 9, 1)})
    with pytest.raises(ValidationFailed) as err:
        decoration.approve(db, actor, did, estate_ids["clerk"], date(2026, 9, 3))
    assert "缺装修方案、施工单位资质证书、业主书面同意（租户申请）、装修管理服务协议" in str(err.value)
    assert db.scalar("SELECT status FROM decorations WHERE id = ?", [did]) == "申请"
    # ticking the rest makes the same approval pass
    decoration.update_checklist(db, actor, did, {"doc_plan": True, "doc_contractor_license": True,
                                                 "doc_owner_consent": True, "agreement_signed": True})
    decoration.approve(db, actor, did, estate_ids["clerk"], date(2026, 9, 3))
    assert db.rows("SELECT status, approved_on FROM decorations WHERE id = ?", [did]) == [
        ("已批准", date(2026, 9, 3))]


def test_self_build_by_an_owner_needs_no_contractor_licence(db, actor, estate_ids):
    did = decoration.apply(db, actor, {"household_id": estate_ids["home"], "applicant": "张三",
                                       "doc_ownership": True, "doc_identity": True, "doc_plan": True,
                                       "agreement_signed": True, "applied_on": date(2026, 9, 1)})
    assert decoration.missing_documents(one(db, "SELECT * FROM decorations WHERE id = ?", [did])) == []
    decoration.approve(db, actor, did, estate_ids["clerk"], date(2026, 9, 2))


def test_structural_change_needs_the_design(db, actor, estate_ids):
    with pytest.raises(ValidationFailed, match="缺结构变动设计方案"):
        approved_decoration(db, actor, estate_ids, structural_change=True)


def test_second_active_decoration_of_a_household_is_refused(db, actor, estate_ids):
    approved_decoration(db, actor, estate_ids)
    with pytest.raises(ValidationFailed, match="已有一项未完成的装修"):
        decoration.apply(db, actor, {"household_id": estate_ids["home"], "applicant": "张三"})
    # another household may apply at the same time
    decoration.apply(db, actor, {"household_id": estate_ids["other"], "applicant": "李四"})


def test_a_household_may_decorate_again_after_the_deposit_is_refunded(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    decoration.accept(db, actor, did, estate_ids["engineer"], date(2026, 11, 5))
    decoration.refund_deposit(db, actor, did, date(2026, 11, 6))  # nothing was received
    assert db.scalar("SELECT status FROM decorations WHERE id = ?", [did]) == "已退保证金"
    decoration.apply(db, actor, {"household_id": estate_ids["home"], "applicant": "张三"})


def test_status_does_not_go_back_except_from_acceptance_to_works(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    decoration.move(db, actor, did, "施工中")
    with pytest.raises(ValidationFailed, match="不能从“施工中”退回“申请”"):
        decoration.move(db, actor, did, "申请")
    decoration.move(db, actor, did, "待验收")
    decoration.move(db, actor, did, "施工中")  # acceptance failed: back to work


def test_works_make_the_household_under_decoration_until_acceptance(db, actor, estate_ids):
    def status(key):
        return db.scalar("SELECT status FROM households WHERE id = ?", [estate_ids[key]])

    let = approved_decoration(db, actor, estate_ids, household="other")  # 出租 before the works
    assert status("other") == "出租"  # approval alone changes nothing
    decoration.move(db, actor, let, "施工中")
    assert status("other") == "装修中"
    decoration.move(db, actor, let, "待验收")
    decoration.move(db, actor, let, "施工中")  # acceptance failed: still under works
    assert status("other") == "装修中"
    decoration.move(db, actor, let, "待验收")
    decoration.accept(db, actor, let, estate_ids["engineer"], date(2026, 11, 12))
    assert status("other") == "出租"  # what it was when the works started
    assert db.rows("SELECT old_values, new_values, note FROM audit_log WHERE register = 'households' "
                   "AND row_id = ? AND action = '修改' ORDER BY id", [estate_ids["other"]]) == [
        ('{"status": "出租"}', '{"status": "装修中"}', "装修开工自动更新"),
        ('{"status": "装修中"}', '{"status": "出租"}', "装修验收自动更新"),
    ]

    # set to 装修中 by hand (no audit row of a start): back to 已入住 if someone moved in, else 空置
    home = estate_ids["home"]
    apply_changes(db, actor, "households", [RowChange("update", row_id=home, values={"status": "装修中"})])
    own = approved_decoration(db, actor, estate_ids)
    decoration.move(db, actor, own, "施工中")
    decoration.accept(db, actor, own, estate_ids["engineer"], date(2026, 11, 12))
    assert status("home") == "空置"  # 3-2-1201 has no move-in date


def test_acceptance_and_refund_wait_for_open_violations(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    check = decoration.record_check(db, actor, did, date(2026, 10, 8), violation_kind="违规时间施工",
                                    penalty="200.00", deadline=date(2026, 10, 9))
    with pytest.raises(ValidationFailed, match="尚有 1 项违规未整改，整改后才能验收"):
        decoration.accept(db, actor, did, estate_ids["engineer"], date(2026, 11, 5))
    decoration.mark_rectified(db, actor, check, date(2026, 10, 9))
    decoration.accept(db, actor, did, estate_ids["engineer"], date(2026, 11, 5))


def test_a_violation_is_spelled_out_and_penalties_need_one(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    cid = decoration.record_check(db, actor, did, date(2026, 10, 1), violation_kind="垃圾乱堆", penalty="50")
    cid2 = decoration.record_check(db, actor, did, date(2026, 10, 2), violation="楼道堆放水泥")
    assert db.rows("SELECT violation_kind, violation, penalty FROM decoration_checks WHERE id IN (?, ?) ORDER BY id",
                   [cid, cid2]) == [("垃圾乱堆", "垃圾乱堆", Decimal("50.00")), ("其他", "楼道堆放水泥", Decimal("0.00"))]
    with pytest.raises(ValidationFailed, match="罚款须对应违规情况"):
        decoration.record_check(db, actor, did, date(2026, 10, 3), penalty="100")


def test_worker_passes_are_numbered_and_need_an_approved_decoration(db, actor, estate_ids):
    pending = decoration.apply(db, actor, {"household_id": estate_ids["other"], "applicant": "李四"})
    with pytest.raises(ValidationFailed, match="只有已批准的装修才能办理出入证"):
        decoration.issue_pass(db, actor, pending, "赵师傅", date(2026, 11, 30))
    did = approved_decoration(db, actor, estate_ids)
    assert decoration.issue_pass(db, actor, did, "赵师傅", date(2026, 11, 30),
                                 issued_on=date(2026, 9, 5)) == f"ZX-{did}-01"
    assert decoration.issue_pass(db, actor, did, "钱师傅", date(2026, 11, 20),
                                 issued_on=date(2026, 9, 5)) == f"ZX-{did}-02"
    passes = decoration.workers(db, did, as_of=date(2026, 11, 25))
    assert list(zip(passes["name"], passes["pass_valid"])) == [("赵师傅", True), ("钱师傅", False)]


def test_expired_passes_not_handed_back_are_in_the_todo_list(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    decoration.issue_pass(db, actor, did, "赵师傅", date(2026, 11, 30), issued_on=date(2026, 9, 5))  # valid
    decoration.issue_pass(db, actor, did, "钱师傅", date(2026, 11, 25), issued_on=date(2026, 9, 5))  # valid today
    late = decoration.issue_pass(db, actor, did, "孙师傅", date(2026, 11, 20), issued_on=date(2026, 9, 5))
    back = decoration.issue_pass(db, actor, did, "李师傅", date(2026, 11, 10), issued_on=date(2026, 9, 5),
                                 returned_on=date(2026, 11, 10))
    assert back == f"ZX-{did}-04"

    def listed():
        return db.rows("SELECT item, due_on, days_overdue, severity FROM todo_estate_as_of(?) "
                       "WHERE ref_table = 'decoration_workers'", [AS_OF])
    # approved, not started: 中; valid until 11-20, as_of 11-25 -> 5 days
    assert listed() == [(f"装修出入证过期未交回：3-2-1201 孙师傅（{late}），已逾期 5 天", date(2026, 11, 20), 5, "中")]
    decoration.move(db, actor, did, "施工中")
    assert [r[3] for r in listed()] == ["高"]  # works going on: someone may enter on it
    wid = db.scalar("SELECT id FROM decoration_workers WHERE pass_no = ?", [late])
    apply_changes(db, actor, "decoration_workers", [RowChange("update", row_id=wid,
                                                              values={"returned_on": date(2026, 11, 24)})])
    assert listed() == []


# -- v_decoration_deposit -----------------------------------------------------------------------
def test_deposit_refund_is_received_less_penalties(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    decoration.receive_deposit(db, actor, did, on=date(2026, 9, 3))  # 3000.00 required
    c1 = decoration.record_check(db, actor, did, date(2026, 9, 20), violation_kind="违规时间施工", penalty="200.00")
    c2 = decoration.record_check(db, actor, did, date(2026, 10, 15), violation_kind="垃圾乱堆", penalty="150.50")
    decoration.record_check(db, actor, did, date(2026, 10, 20))  # a clean check
    decoration.mark_rectified(db, actor, c1, date(2026, 9, 21))
    # as of 10-31: received 3000.00, penalties 200.00 + 150.50 = 350.50, one open violation (c2):
    # not accepted yet -> refundable 0; planned end 11-10 not passed -> not overdue
    state = decoration.deposit_state(db, did, date(2026, 10, 31))
    assert (state["received"], state["penalties"], state["open_violations"], state["refundable"],
            state["works_overdue"]) == (Decimal("3000.00"), Decimal("350.50"), 1, Decimal("0.00"), False)
    # as of 11-12: planned end 11-10 < as_of and not accepted -> overdue
    assert decoration.deposit_state(db, did, date(2026, 11, 12))["works_overdue"] is True
    decoration.mark_rectified(db, actor, c2, date(2026, 10, 16))
    decoration.accept(db, actor, did, estate_ids["engineer"], date(2026, 11, 14))
    # as of 11-20: accepted, no open violation, still held -> 3000.00 − 350.50 = 2649.50
    state = decoration.deposit_state(db, did, date(2026, 11, 20))
    assert (state["open_violations"], state["refundable"], state["works_overdue"]) == (0, Decimal("2649.50"), False)
    paid = decoration.refund_deposit(db, actor, did, date(2026, 11, 21), estate_ids["clerk"])
    assert paid == Decimal("2649.50")
    assert db.rows("SELECT deducted, refunded_on FROM deposits WHERE decoration_id = ?", [did]) == [
        (Decimal("350.50"), date(2026, 11, 21))]
    assert db.scalar("SELECT status FROM decorations WHERE id = ?", [did]) == "已退保证金"
    state = decoration.deposit_state(db, did, date(2026, 11, 25))
    assert (state["refunded_on"], state["refunded"], state["refundable"]) == (
        date(2026, 11, 21), Decimal("2649.50"), Decimal("0.00"))


def test_a_violation_found_after_acceptance_blocks_the_refund(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    decoration.receive_deposit(db, actor, did, "2000.00", on=date(2026, 9, 3))
    decoration.accept(db, actor, did, estate_ids["engineer"], date(2026, 11, 5))
    decoration.record_check(db, actor, did, date(2026, 11, 8), violation="空调外机违规打孔", penalty="500.00")
    # accepted but an open violation: refundable 0 (not 2000.00 − 500.00)
    state = decoration.deposit_state(db, did, date(2026, 11, 10))
    assert (state["open_violations"], state["penalties"], state["refundable"]) == (1, Decimal("500.00"), Decimal("0.00"))
    with pytest.raises(ValidationFailed, match="尚有 1 项违规未整改，不能退还保证金"):
        decoration.refund_deposit(db, actor, did, date(2026, 11, 10))


def test_penalties_above_the_deposit_refund_nothing(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    decoration.receive_deposit(db, actor, did, "500.00", on=date(2026, 9, 3))
    decoration.record_check(db, actor, did, date(2026, 9, 20), violation_kind="拆改承重结构", penalty="800.00",
                            rectified_on=date(2026, 9, 30))
    decoration.accept(db, actor, did, estate_ids["engineer"], date(2026, 11, 5))
    # 500.00 − 800.00 < 0 -> refundable 0; the refund deducts the whole 500.00
    assert decoration.deposit_state(db, did, date(2026, 11, 6))["refundable"] == Decimal("0.00")
    assert decoration.refund_deposit(db, actor, did, date(2026, 11, 6)) == Decimal("0.00")
    assert db.scalar("SELECT deducted FROM deposits WHERE decoration_id = ?", [did]) == Decimal("500.00")


def test_decoration_todo_items(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)  # planned end 2026-11-10
    check = decoration.record_check(db, actor, did, date(2026, 11, 20), violation_kind="消防隐患",
                                    violation="楼道堆放易燃板材", penalty="100.00", deadline=date(2026, 11, 22))
    # works: planned end 11-10 < 11-25, not accepted -> 15 days, 中
    assert db.rows("SELECT ref_table, ref_id, due_on, days_overdue, severity FROM todo_as_of(?) "
                   "WHERE ref_table = 'decorations'", [AS_OF]) == [("decorations", did, date(2026, 11, 10), 15, "中")]
    # the violation (deadline 11-22, 3 days past) is on the list once: through the rectification it
    # opened when one was opened, else as the decoration check itself (高)
    about_violation = db.rows(
        "SELECT ref_table, due_on, days_overdue FROM todo_as_of(?) WHERE ref_table = 'decoration_checks' "
        "OR (ref_table = 'rectifications' AND ref_id IN (SELECT id FROM rectifications "
        "WHERE source_table = 'decoration_checks' AND source_id = ?))", [AS_OF, check])
    assert [r[1:] for r in about_violation] == [(date(2026, 11, 22), 3)]
    if about_violation[0][0] == "decoration_checks":
        assert db.scalar("SELECT item FROM todo_estate_as_of(?) WHERE ref_id = ?", [AS_OF, check]) == (
            "装修违规未整改：3-2-1201 楼道堆放易燃板材（罚款 100.00 元），已逾期 3 天")


def test_a_violation_without_a_rectification_is_listed_itself(db, actor, estate_ids):
    did = approved_decoration(db, actor, estate_ids)
    check = decoration.record_check(db, actor, did, date(2026, 11, 20), violation_kind="消防隐患",
                                    violation="楼道堆放易燃板材", penalty="100.00", deadline=date(2026, 11, 22))
    apply_changes(db, actor, "rectifications", [
        RowChange("delete", rid) for rid, in db.rows(
            "SELECT id FROM rectifications WHERE source_table = 'decoration_checks' AND source_id = ?", [check])])
    # deadline 11-22 < 11-25 -> 3 days overdue, 高
    assert db.rows("SELECT ref_id, due_on, days_overdue, severity, item FROM todo_estate_as_of(?) "
                   "WHERE ref_table = 'decoration_checks'", [AS_OF]) == [
        (check, date(2026, 11, 22), 3, "高", "装修违规未整改：3-2-1201 楼道堆放易燃板材（罚款 100.00 元），已逾期 3 天")]


# -- parking ------------------------------------------------------------------------------------
def stay(db, actor, cid, plate, entered: datetime, exited: datetime) -> int:
    return add(db, actor, "parking_events", community_id=cid, plate=plate, entered_at=entered, exited_at=exited)


def fees(db, as_of=AS_OF) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in db.rows(
        "SELECT plate, minutes, full_days, fee FROM parking_temp_fees_as_of(?)", [as_of])}


def test_temporary_parking_fees(db, actor, estate_ids):
    cid = estate_ids["community"]
    t0 = datetime(2026, 11, 20, 9, 0, 0)
    stay(db, actor, cid, "浙A10030", t0, datetime(2026, 11, 20, 9, 30, 0))       # exactly 30 min
    stay(db, actor, cid, "浙A10031", t0, datetime(2026, 11, 20, 9, 30, 1))       # 30 min 1 s -> 31 min
    stay(db, actor, cid, "浙A10120", t0, datetime(2026, 11, 20, 11, 0, 0))      # 120 min
    stay(db, actor, cid, "浙A20000", t0, datetime(2026, 11, 20, 20, 0, 0))      # 11 h
    stay(db, actor, cid, "浙A24000", t0, datetime(2026, 11, 21, 9, 0, 0))       # exactly 24 h
    stay(db, actor, cid, "浙A25000", t0, datetime(2026, 11, 21, 10, 0, 0))      # 25 h
    stay(db, actor, cid, "浙A50000", t0, datetime(2026, 11, 22, 11, 10, 0))     # 50 h 10 min
    got = fees(db)
    assert got["浙A10030"] == (30, 0, Decimal("0.00"))       # 30 <= 30 free minutes
    assert got["浙A10031"] == (31, 0, Decimal("2.00"))       # ceil(31/60) = 1 h × 2.00
    assert got["浙A10120"] == (120, 0, Decimal("4.00"))      # 2 h × 2.00
    assert got["浙A20000"] == (660, 0, Decimal("20.00"))     # 11 h × 2.00 = 22.00, capped at 20.00
    assert got["浙A24000"] == (1440, 1, Decimal("20.00"))    # one full day 20.00, rest 0
    assert got["浙A25000"] == (1500, 1, Decimal("22.00"))    # 20.00 + ceil(60/60) × 2.00
    # 3010 min = 2 days (2880) + 130 min: 2 × 20.00 + ceil(130/60) = 3 h × 2.00 = 46.00
    assert got["浙A50000"] == (3010, 2, Decimal("46.00"))


def test_owner_vehicles_are_not_charged_and_settings_change_the_fee(db, actor, estate_ids):
    cid = estate_ids["community"]
    add(db, actor, "parking_spaces", community_id=cid, space_no="B1-001", kind="产权",
        household_id=estate_ids["home"], plate="浙a 88888")
    owner = stay(db, actor, cid, "浙A88888", datetime(2026, 11, 20, 8, 0), datetime(2026, 11, 20, 18, 0))
    assert db.rows("SELECT is_temporary, parking_space_id IS NOT NULL FROM parking_events WHERE id = ?",
                   [owner]) == [(False, True)]
    assert "浙A88888" not in fees(db)
    # a community-specific rate: 3.00 per hour -> 120 min costs 6.00
    add(db, actor, "settings", key="parking.hourly_rate", value="3.00", community_id=cid)
    stay(db, actor, cid, "浙B12345", datetime(2026, 11, 20, 8, 0), datetime(2026, 11, 20, 10, 0))
    assert fees(db)["浙B12345"] == (120, 0, Decimal("6.00"))


def test_exit_charges_the_view_fee_and_a_plate_cannot_enter_twice(db, actor, estate_ids):
    cid = estate_ids["community"]
    eid = parking.record_entry(db, actor, cid, "浙c 12345", datetime(2026, 11, 24, 8, 0))
    with pytest.raises(ValidationFailed, match="已于 11-24 08:00 入场，尚未出场"):
        parking.record_entry(db, actor, cid, "浙C12345", datetime(2026, 11, 24, 9, 0))
    assert parking.find_open_stay(db, cid, "浙C 12345") == eid
    now = parking.parked_now(db, cid, datetime(2026, 11, 24, 10, 15))
    # 2 h 15 min = 135 min -> ceil(135/60) = 3 h × 2.00 = 6.00
    assert list(zip(now["plate"], now["minutes"], now["fee_now"])) == [("浙C12345", 135, Decimal("6.00"))]
    assert parking.record_exit(db, actor, eid, datetime(2026, 11, 24, 10, 15), "微信") == Decimal("6.00")
    assert fees(db)["浙C12345"] == (135, 0, Decimal("6.00"))
    assert db.scalar("SELECT difference FROM parking_temp_fees_as_of(?) WHERE parking_event_id = ?",
                     [AS_OF, eid]) == Decimal("0.00")
    assert parking.temp_fee(db, cid, datetime(2026, 11, 24, 8, 0), datetime(2026, 11, 24, 8, 30)) == (
        30, Decimal("0.00"))


def test_occupancy_counts_spaces_and_vehicles_inside(db, actor, estate_ids):
    cid = estate_ids["community"]
    add(db, actor, "parking_spaces", community_id=cid, space_no="B1-001", kind="产权",
        household_id=estate_ids["home"], plate="浙A88888")
    add(db, actor, "parking_spaces", community_id=cid, space_no="B1-002", kind="租赁",
        household_id=estate_ids["other"], plate="浙A66666", monthly_fee="300.00", lease_end_on="2026-12-31")
    add(db, actor, "parking_spaces", community_id=cid, space_no="B1-003", kind="租赁")
    for n in range(4):
        add(db, actor, "parking_spaces", community_id=cid, space_no=f"T-{n}", kind="临时")
    stay(db, actor, cid, "浙B00001", datetime(2026, 11, 25, 8, 0), datetime(2026, 11, 25, 9, 0))  # 2.00
    add(db, actor, "parking_events", community_id=cid, plate="浙B00002", entered_at=datetime(2026, 11, 25, 10, 0))
    add(db, actor, "parking_events", community_id=cid, plate="浙A88888", entered_at=datetime(2026, 11, 24, 19, 0))
    occ = one(db, "SELECT * FROM parking_occupancy_as_of(?)", [AS_OF])
    # 7 spaces: 1 产权, 2 租赁 (1 leased to 12-31), 4 临时; inside at day end: 浙B00002 (temp) and
    # 浙A88888 (owner) -> parked 2, temporary 1, occupancy 1/4; one temporary stay ended today: 2.00
    assert {k: occ[k] for k in ("spaces", "owned", "leasable", "leased", "vacant_for_lease", "temp_spaces",
                                "parked", "parked_temporary", "temp_stays", "temp_fees")} == {
        "spaces": 7, "owned": 1, "leasable": 2, "leased": 1, "vacant_for_lease": 1, "temp_spaces": 4,
        "parked": 2, "parked_temporary": 1, "temp_stays": 1, "temp_fees": Decimal("2.00")}
    assert occ["temp_occupancy"] == pytest.approx(0.25)


def test_expiring_parking_leases(db, actor, estate_ids):
    cid = estate_ids["community"]
    h = estate_ids["home"]
    for no, end in (("L1", "2026-12-10"), ("L2", "2026-12-11"), ("L3", "2026-11-20")):
        add(db, actor, "parking_spaces", community_id=cid, space_no=no, kind="租赁", household_id=h,
            monthly_fee="300.00", lease_end_on=end)
    with pytest.raises(ValidationFailed, match="租赁车位须填写租期结束日期"):
        add(db, actor, "parking_spaces", community_id=cid, space_no="L4", kind="租赁", household_id=h)
    # 11-25 + 15 = 12-10: L1 (15 days left) and L3 (5 days past) are listed, L2 (16 days) is not
    rows = db.rows("SELECT space_no, days_left FROM parking_lease_expiring_as_of(?) ORDER BY space_no", [AS_OF])
    assert rows == [("L1", 15), ("L3", -5)]
    todo = db.rows("SELECT due_on, days_overdue, severity FROM todo_estate_as_of(?) "
                   "WHERE ref_table = 'parking_spaces' ORDER BY due_on", [AS_OF])
    assert todo == [(date(2026, 11, 20), 5, "中"), (date(2026, 12, 10), -15, "低")]


# -- vacant units, keys, move-in ------------------------------------------------------------------
def test_vacant_check_due(db, actor, estate_ids):
    cid = estate_ids["community"]
    a = add(db, actor, "households", community_id=cid, code="5-1-101", area="80", status="空置",
            handover_date="2026-10-26")
    b = add(db, actor, "households", community_id=cid, code="5-1-102", area="80", status="空置",
            handover_date="2026-01-01")
    c = add(db, actor, "households", community_id=cid, code="5-1-103", area="80", status="空置")
    estate.record_vacant_check(db, actor, b, date(2026, 10, 20), result="异常", findings="卫生间渗水")
    estate.record_vacant_check(db, actor, b, date(2026, 11, 30))  # after as_of: not counted
    rows = {r[0]: r[1:] for r in db.rows(
        "SELECT household_id, last_checked_on, next_due, due, days_overdue FROM vacant_check_due_as_of(?)",
        [AS_OF])}
    # a: handover 10-26 + 30 = 11-25 = as_of -> due today; b: checked 10-20 + 30 = 11-19 -> 6 days
    # overdue; c: never checked, no handover date -> due; occupied households are not listed
    assert rows == {a: (None, date(2026, 11, 25), True, 0), b: (date(2026, 10, 20), date(2026, 11, 19), True, 6),
                    c: (None, None, True, None)}
    todo = {r[0]: r[1:] for r in db.rows(
        "SELECT ref_id, due_on, severity FROM todo_estate_as_of(?) WHERE ref_table = 'households'", [AS_OF])}
    assert todo == {a: (date(2026, 11, 25), "低"), b: (date(2026, 11, 19), "中"), c: (AS_OF, "中")}


def test_key_loans(db, actor, estate_ids):
    cid = estate_ids["community"]
    h = add(db, actor, "households", community_id=cid, code="5-1-101", area="80", status="空置")
    loan = estate.lend_key(db, actor, h, "中介小刘", datetime(2026, 11, 23, 10, 0), key_no="K-17", purpose="看房")
    with pytest.raises(ValidationFailed, match="这把钥匙已借给 中介小刘，尚未归还"):
        estate.lend_key(db, actor, h, "维修工", datetime(2026, 11, 24, 10, 0), key_no="K-17")
    # lent 11-23, not returned on 11-25 -> 2 days, 中
    assert db.rows("SELECT ref_id, days_overdue, severity FROM todo_estate_as_of(?) WHERE ref_table = 'keys'",
                   [AS_OF]) == [(loan, 2, "中")]
    estate.return_key(db, actor, loan, datetime(2026, 11, 23, 16, 0))
    estate.lend_key(db, actor, h, "维修工", datetime(2026, 11, 25, 9, 0), key_no="K-17")
    assert db.rows("SELECT ref_id FROM todo_estate_as_of(?) WHERE ref_table = 'keys'", [AS_OF]) == []


def test_move_in_completes_only_with_every_item_and_fills_the_household(db, actor, estate_ids):
    cid = estate_ids["community"]
    h = add(db, actor, "households", community_id=cid, code="5-1-101", area="80", status="空置")
    mid = estate.start_move_in(db, actor, h, date(2026, 11, 20), docs_checked=True, agreement_signed=True)
    with pytest.raises(ValidationFailed, match="尚未完成：已抄水电气表底数、钥匙已交付、首期费用已缴"):
        estate.complete_move_in(db, actor, mid, date(2026, 11, 21))
    estate.complete_move_in(db, actor, mid, date(2026, 11, 21), meters_recorded=True, keys_handed_over=True,
                            keys_count=4, first_fees_paid=True, first_fee_amount="1182.00")
    assert db.rows("SELECT status, move_in_date FROM households WHERE id = ?", [h]) == [("已入住", date(2026, 11, 21))]
    assert db.scalar("SELECT note FROM audit_log WHERE register = 'households' AND row_id = ? "
                     "ORDER BY id DESC LIMIT 1", [h]) == "入住手续办结自动更新"


# -- emergencies -------------------------------------------------------------------------------
def test_drill_overdue(db, actor, estate_ids):
    cid = estate_ids["community"]  # handover 2025-01-01
    other = add(db, actor, "communities", name="翠湖苑", handover_date="2026-06-01")
    third = add(db, actor, "communities", name="新苑")
    add(db, actor, "drills", community_id=cid, held_on="2025-11-20", kind="消防")
    add(db, actor, "drills", community_id=cid, held_on="2026-05-10", kind="应急")  # does not reset the clock
    rows = {r[0]: r[1:] for r in db.rows(
        "SELECT community_id, last_held_on, next_due, due, overdue, days_overdue FROM drill_due_as_of(?)", [AS_OF])}
    # 阳光花园: 2025-11-20 + 365 = 2026-11-20 < 11-25 -> overdue 5 days; 翠湖苑: never, handover
    # 2026-06-01 + 365 = 2027-06-01 -> not due; 新苑: never, no handover -> due
    assert rows == {cid: (date(2025, 11, 20), date(2026, 11, 20), True, True, 5),
                    other: (None, date(2027, 6, 1), False, False, -188),
                    third: (None, None, True, True, None)}
    todo = {r[0]: r[1:] for r in db.rows(
        "SELECT community_id, due_on, days_overdue, severity FROM todo_estate_as_of(?) WHERE ref_table = 'drills'",
        [AS_OF])}
    assert todo == {cid: (date(2026, 11, 20), 5, "高"), third: (AS_OF, 0, "高")}
    # a drill held on 11-24 clears it
    add(db, actor, "drills", community_id=cid, held_on="2026-11-24", kind="消防")
    assert db.scalar("SELECT due FROM drill_due_as_of(?) WHERE community_id = ?", [AS_OF, cid]) is False


def test_emergency_plans_and_incidents_in_the_todo_list(db, actor, estate_ids):
    cid = estate_ids["community"]
    plan = add(db, actor, "emergency_plans", community_id=cid, kind="水管爆裂", title="水管爆裂应急预案",
               approved_on="2025-11-25", review_due_on="2026-11-25")
    add(db, actor, "emergency_plans", community_id=cid, kind="停电", title="停电应急预案",
        review_due_on="2026-11-26")
    open_incident = add(db, actor, "incidents", community_id=cid, kind="水管爆裂", plan_id=plan,
                        occurred_at=datetime(2026, 11, 24, 22, 10), location="3幢地下室",
                        responded_at=datetime(2026, 11, 24, 22, 25))
    add(db, actor, "incidents", community_id=cid, kind="停电", occurred_at=datetime(2026, 11, 1, 9, 0),
        responded_at=datetime(2026, 11, 1, 9, 10), resolved_at=datetime(2026, 11, 1, 11, 0),
        owners_notified_at=datetime(2026, 11, 1, 9, 20))
    with pytest.raises(ValidationFailed, match="不能早于发生时间"):
        add(db, actor, "incidents", community_id=cid, kind="停电", occurred_at=datetime(2026, 11, 2, 9, 0),
            responded_at=datetime(2026, 11, 2, 8, 0))
    rows = db.rows("SELECT ref_table, ref_id, days_overdue, severity, item FROM todo_estate_as_of(?) "
                   "WHERE ref_table IN ('emergency_plans', 'incidents') ORDER BY ref_table", [AS_OF])
    # the plan due for review today (the other tomorrow: not yet); the unresolved incident since 11-24
    assert rows == [
        ("emergency_plans", plan, 0, "中", "应急预案《水管爆裂应急预案》到期复审，今天到期"),
        ("incidents", open_incident, 1, "高", "突发事件未处置完毕：水管爆裂（3幢地下室），尚未通知业主，已逾期 1 天"),
    ]
