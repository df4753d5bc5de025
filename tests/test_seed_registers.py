"""The registers that complete the seed (issue 23): non-conformities opening rectifications,
vehicles tied to their household, the 代收代缴 balance, trainings extended by plan and person.
Hand-built data on both backends; expected values worked out in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from saving import add

from app import registers
from app.saving.changes import RowChange, ValidationFailed, apply_changes


def rows(db, sql: str, params=()) -> list[dict]:
    res = db.cursor().execute(sql, list(params))
    names = [c[0] for c in res.description]
    return [dict(zip(names, r)) for r in res.fetchall()]


@pytest.fixture
def ids(db, actor) -> dict[str, int]:
    cid = add(db, actor, "communities", name="阳光花园")
    dept = add(db, actor, "departments", name="客服部")
    home = add(db, actor, "households", community_id=cid, code="3-2-1201", area="98.50", status="已入住")
    other = add(db, actor, "households", community_id=cid, code="3-2-1202", area="98.50", status="已入住")
    return {
        "community": cid, "home": home, "other": other,
        "clerk": add(db, actor, "staff", name="王客服", department_id=dept, community_id=cid),
        "owner": add(db, actor, "owners", household_id=home, name="张伟", role="业主"),
        "neighbour": add(db, actor, "owners", household_id=other, name="李娜", role="业主"),
    }


def test_new_registers_sit_in_the_menu_areas(db):
    areas = {r.name: r.area for regs in registers.by_area().values() for r in regs}
    assert areas["vehicles"] == "装修与停车" and areas["repair_fund_applications"] == "收费管理"
    assert areas["audit_findings"] == areas["internal_audits"] == "检查与整改"
    assert areas["training_records"] == areas["training_plans"] == "人员与组织"


# -- 内审 / 管理评审 → 整改 --------------------------------------------------------------------------
def test_a_nonconformity_opens_a_rectification_and_an_observation_does_not(db, actor, ids):
    audit = add(db, actor, "internal_audits", kind="内部审核", planned_on=date(2026, 5, 10), scope="客服部")
    major = add(db, actor, "audit_findings", audit_id=audit, community_id=ids["community"], clause="7.5.3",
                area="客服", description="回访记录缺失", severity="一般不符合", responsible_id=ids["clerk"],
                found_on=date(2026, 5, 10))
    add(db, actor, "audit_findings", audit_id=audit, community_id=ids["community"], description="标识不清",
        severity="观察项", found_on=date(2026, 5, 10))
    opened = rows(db, "SELECT source, source_table, source_id, area, issue, responsible_id, opened_on, deadline, "
                      "status FROM rectifications WHERE deleted_at IS NULL")
    # no deadline given: found 05-10 + rectification.deadline_days (7) = 05-17
    assert opened == [{"source": "内审", "source_table": "audit_findings", "source_id": major, "area": "客服",
                       "issue": "一般不符合，条款 7.5.3：回访记录缺失", "responsible_id": ids["clerk"],
                       "opened_on": date(2026, 5, 10), "deadline": date(2026, 5, 17), "status": "待整改"}]
    # saving the finding again does not open a second one
    apply_changes(db, actor, "audit_findings", [RowChange("update", major, {"description": "回访记录缺失 2 份"})])
    assert db.scalar("SELECT count(*) FROM rectifications") == 1


def test_an_observation_raised_to_a_nonconformity_opens_one(db, actor, ids):
    audit = add(db, actor, "internal_audits", kind="管理评审", planned_on=date(2026, 7, 1), scope="满意度")
    fid = add(db, actor, "audit_findings", audit_id=audit, community_id=ids["community"], description="满意度下降",
              severity="观察项", found_on=date(2026, 7, 1), deadline=date(2026, 8, 1))
    assert db.scalar("SELECT count(*) FROM rectifications") == 0
    apply_changes(db, actor, "audit_findings", [RowChange("update", fid, {"severity": "严重不符合"})])
    assert rows(db, "SELECT deadline, source_id FROM rectifications") == [{"deadline": date(2026, 8, 1),
                                                                           "source_id": fid}]


# -- vehicles ----------------------------------------------------------------------------------------
def test_a_vehicle_owner_must_live_in_its_household(db, actor, ids):
    add(db, actor, "vehicles", community_id=ids["community"], plate="浙AB1234", household_id=ids["home"],
        owner_id=ids["owner"])
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "vehicles", community_id=ids["community"], plate="浙AC5678", household_id=ids["home"],
            owner_id=ids["neighbour"])
    assert "车主不是该房屋的业主或住户" in str(err.value)


@pytest.mark.parametrize("plate, ok", [("浙AB1234", True), ("浙AD12345", True), ("AB1234", False), ("浙A1234", False)])
def test_a_plate_is_checked(db, actor, ids, plate, ok):
    if ok:
        add(db, actor, "vehicles", community_id=ids["community"], plate=plate, household_id=ids["home"])
    else:
        with pytest.raises(ValidationFailed) as err:
            add(db, actor, "vehicles", community_id=ids["community"], plate=plate, household_id=ids["home"])
        assert "车牌号写作" in str(err.value)


def test_a_plate_is_registered_once(db, actor, ids):
    add(db, actor, "vehicles", community_id=ids["community"], plate="浙AB1234", household_id=ids["home"])
    with pytest.raises(ValidationFailed):
        add(db, actor, "vehicles", community_id=ids["community"], plate="浙AB1234", household_id=ids["other"])


# -- 代收代缴 ------------------------------------------------------------------------------------------
def test_agency_balance_is_collected_minus_passed_on(db, actor, ids):
    cid = ids["community"]
    for hid, amount, on in ((ids["home"], "45.30", date(2026, 8, 5)), (ids["other"], "60.20", date(2026, 8, 5)),
                            (ids["home"], "50.00", date(2026, 9, 5))):
        add(db, actor, "agency_collections", community_id=cid, moved_on=on, direction="代收", kind="水费",
            payee="杭州水务集团", household_id=hid, amount=amount)
    add(db, actor, "agency_collections", community_id=cid, moved_on=date(2026, 8, 25), direction="转交",
        kind="水费", payee="杭州水务集团", amount="105.50")
    add(db, actor, "agency_collections", community_id=cid, moved_on=date(2026, 9, 6), direction="代收",
        kind="燃气费", payee="杭州天然气", amount="88.00")
    got = rows(db, "SELECT kind, collected, passed_on, balance, last_passed_on "
                   "FROM agency_collection_balance_as_of(DATE '2026-09-30') ORDER BY kind")
    # 水费: 45.30 + 60.20 + 50.00 = 155.50 collected, 105.50 passed on -> 50.00 held
    assert got == [
        {"kind": "水费", "collected": Decimal("155.50"), "passed_on": Decimal("105.50"), "balance": Decimal("50.00"),
         "last_passed_on": date(2026, 8, 25)},
        {"kind": "燃气费", "collected": Decimal("88.00"), "passed_on": Decimal("0.00"), "balance": Decimal("88.00"),
         "last_passed_on": None},
    ]
    # on 08-20 only August's two collections, nothing passed on: 105.50 held
    assert rows(db, "SELECT balance FROM agency_collection_balance_as_of(DATE '2026-08-20')") == [
        {"balance": Decimal("105.50")}]


def test_agency_amount_must_be_positive(db, actor, ids):
    with pytest.raises(ValidationFailed):
        add(db, actor, "agency_collections", community_id=ids["community"], moved_on=date(2026, 9, 1),
            direction="代收", kind="水费", payee="杭州水务集团", amount="0.00")


# -- training plan and records -----------------------------------------------------------------------
def test_a_person_is_recorded_once_per_training(db, actor, ids):
    plan = add(db, actor, "training_plans", year=2026, month=3, title="消防培训", kind="消防安全")
    training = add(db, actor, "trainings", title="消防培训", kind="消防安全", held_on=date(2026, 3, 20), plan_id=plan)
    add(db, actor, "training_records", training_id=training, staff_id=ids["clerk"], hours="2", score=86)
    with pytest.raises(ValidationFailed):
        add(db, actor, "training_records", training_id=training, staff_id=ids["clerk"], score=90)
    with pytest.raises(ValidationFailed):
        add(db, actor, "training_plans", year=2026, month=13, title="x", kind="其他")
