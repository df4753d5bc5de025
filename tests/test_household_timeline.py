"""一户一档's whole story (issue 23 item 5): one household with one event of each kind — every
register that refers to it (directly, or through a decoration), and the audit log's changes to the
household and its owner — on both backends; filters by kind; late fee and credit in the header."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from saving import add

from app.access.permissions import Actor
from app.estate import household_file
from app.saving.changes import RowChange, apply_changes

AS_OF = date(2026, 9, 30)


@pytest.fixture
def story(db, actor) -> dict[str, int]:
    cid = add(db, actor, "communities", name="阳光花园")
    home = add(db, actor, "households", community_id=cid, code="3-2-1201", area="98.50", status="已入住",
               handover_date=date(2020, 5, 1))
    owner = add(db, actor, "owners", household_id=home, name="张伟", role="业主", phone="13812345678")
    space = add(db, actor, "parking_spaces", community_id=cid, space_no="B-018", kind="租赁", household_id=home,
                plate="浙AB1234", lease_start_on=date(2026, 1, 1),
                lease_end_on=date(2026, 12, 31))
    decoration = add(db, actor, "decorations", household_id=home, applicant="张伟", applicant_role="业主",
                     applied_on=date(2026, 3, 2), status="申请")
    ids = {
        "community": cid, "home": home, "owner": owner,
        "arrears_actions": add(db, actor, "arrears_actions", household_id=home, step="电话提醒",
                               acted_on=date(2026, 8, 3)),
        "decorations": decoration,
        "decoration_checks": add(db, actor, "decoration_checks", decoration_id=decoration,
                                 checked_on=date(2026, 3, 20)),
        "vacant_checks": add(db, actor, "vacant_checks", household_id=home, checked_on=date(2020, 6, 1),
                             result="正常"),
        "keys": add(db, actor, "keys", household_id=home, holder="李师傅", borrowed_at=datetime(2026, 4, 8, 9, 30)),
        "move_ins": add(db, actor, "move_ins", household_id=home, started_on=date(2020, 5, 6)),
        "parking_spaces": space,
        "vehicles": add(db, actor, "vehicles", community_id=cid, plate="浙AB1234", household_id=home,
                        owner_id=owner, parking_space_id=space, registered_on=date(2026, 1, 2)),
        "meter_readings": add(db, actor, "meter_readings", household_id=home, meter="水", period="2026-08",
                              prev_reading="120", curr_reading="131", read_on=date(2026, 8, 28)),
        "visitors": add(db, actor, "visitors", community_id=cid, household_id=home, name="王五",
                        purpose="探亲访友", visited_at=datetime(2026, 9, 12, 15, 0)),
        "household_credits": add(db, actor, "household_credits", household_id=home, amount="500.00",
                                 credited_at=datetime(2026, 9, 1, 10, 0)),
        "repair_fund_entries": add(db, actor, "repair_fund_entries", community_id=cid, household_id=home,
                                   entry_on=date(2020, 5, 1), kind="首期缴存", amount="7880.00"),
    }
    # changes to the household and to its owner, from the audit log
    apply_changes(db, actor, "households", [RowChange("update", home, {"area": "99.20"})])
    apply_changes(db, actor, "owners", [RowChange("update", owner, {"phone": "13987654321"})])
    return ids


KINDS = {  # register -> the kind (its label) the timeline gives it
    "arrears_actions": "催缴记录", "decorations": "装修登记", "decoration_checks": "装修巡查",
    "vacant_checks": "空置房检查", "keys": "钥匙借用", "move_ins": "入住手续", "parking_spaces": "车位",
    "vehicles": "车辆登记", "meter_readings": "抄表", "visitors": "访客登记", "household_credits": "预存款",
    "repair_fund_entries": "维修资金收入",
}


def test_the_timeline_has_one_event_of_each_kind(db, actor, story):
    from app import registers

    kinds = {name: registers.get(name).label for name in KINDS}  # the labels as defined
    today = db.now().date()  # the audit log's changes were made today
    frame = household_file.load(db, actor, story["home"], as_of=today).timeline
    for register, row_id in story.items():
        if register in kinds:
            mine = frame[(frame["ref_table"] == register) & (frame["ref_id"] == row_id)]
            assert len(mine) == 1, register
            assert mine["register"].iloc[0] == kinds[register]
    vehicle = frame[frame["ref_table"] == "vehicles"].iloc[0]
    assert vehicle["what"] == "车辆登记：车牌号 浙AB1234，车型 小型汽车，状态 在用"
    assert vehicle["happened_at"] == datetime(2026, 1, 2) and vehicle["area"] == "装修与停车"
    check = frame[frame["ref_table"] == "decoration_checks"].iloc[0]
    assert check["happened_at"] == datetime(2026, 3, 20)  # found through the decoration
    changes = frame[frame["register"] == "修改记录"]
    assert sorted(changes["what"].str.split("（").str[0]) == [
        "修改业主/住户 张伟：手机号 13812345678 → 13987654321", "修改房屋：建筑面积(㎡) 98.50 → 99.20"]
    # newest first
    assert list(frame["happened_at"]) == sorted(frame["happened_at"], reverse=True)
    # the view's own events are still there: 交房 2020-05-01
    assert ((frame["what"] == "交房") & (frame["happened_at"] == datetime(2020, 5, 1))).sum() == 1


def test_changes_are_masked_for_a_role_without_personal_data(db, actor, story):
    frame = household_file.load(db, Actor("李师傅", role="维修"), story["home"], as_of=db.now().date()).timeline
    owner = frame[(frame["register"] == "修改记录") & (frame["ref_table"] == "owners")]["what"].iloc[0]
    assert "138****5678 → 139****4321" in owner and "13987654321" not in owner


def test_events_after_as_of_are_left_out(db, actor, story):
    frame = household_file.load(db, actor, story["home"], as_of=date(2026, 3, 31)).timeline
    assert "visitors" not in set(frame["ref_table"]) and "decoration_checks" in set(frame["ref_table"])
    assert "修改记录" not in set(frame["register"])  # the changes were made after that day


def test_kinds_filter_and_header_money(db, actor, story):
    file = household_file.load(db, actor, story["home"], as_of=AS_OF)
    kinds = household_file.timeline_kinds(file.timeline)
    assert {"车辆登记", "装修巡查", "房屋档案"} <= set(kinds) and kinds == sorted(kinds)
    assert file.balance["credit"] == Decimal("500.00") and file.balance["late_fee"] == Decimal("0.00")


def test_late_fee_in_the_header(db, actor, story):
    # 300.00 due 2026-09-10, unpaid: 20 days after it (09-11..09-30) at 0.0005 a day = 300 × 20 × 0.0005 = 3.00
    fee = add(db, actor, "fee_items", community_id=story["community"], name="物业费", method="固定",
              unit_price="300.0000", status="已审批", effective_from="2026-01-01")
    add(db, actor, "bills", household_id=story["home"], fee_item_id=fee, period="2026-09", amount="300.00",
        due_date=date(2026, 9, 10))
    b = household_file.load(db, actor, story["home"], as_of=AS_OF).balance
    assert (b["overdue"], b["late_fee"], b["days_overdue"]) == (Decimal("300.00"), Decimal("3.00"), 20)
