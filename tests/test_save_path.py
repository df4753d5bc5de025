"""The one save path: validation of the whole set, all-or-nothing, conflicts, audit, soft delete."""

import json
from decimal import Decimal

import pytest

from app import registers
from app.reading.queries import PageRequest, fetch_page
from app.saving.changes import ConflictError, RowChange, ValidationFailed, apply_changes

VALID_ID = "11010519491231002X"


def add(db, actor, register, *rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def estate(db, actor):
    """Two communities, each with a household coded 1-1-101."""
    sun, lake = add(db, actor, "communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    h1, h2 = add(
        db, actor, "households",
        {"community_id": sun, "code": "1-1-101", "area": "89.50"},
        {"community_id": lake, "code": "1-1-101", "area": "120.00"},
    )
    return {"sun": sun, "lake": lake, "h1": h1, "h2": h2}


def table(db, name):
    return db.rows(f"SELECT * FROM {name} ORDER BY id")


def test_one_bad_row_among_a_thousand_writes_nothing(db, actor, estate):
    rows = [{"community_id": estate["sun"], "code": f"2-1-{n:04d}", "area": "88.00"} for n in range(1000)]
    rows[617]["area"] = "-3"
    before = table(db, "households")
    audit_before = db.scalar("SELECT count(*) FROM audit_log")
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "households", *rows)
    assert [(p.row, p.column) for p in err.value.problems] == [("新增第 618 行", "建筑面积(㎡)")]
    assert "不能小于 0.01" in err.value.problems[0].message
    assert table(db, "households") == before
    assert db.scalar("SELECT count(*) FROM audit_log") == audit_before


def test_a_thousand_good_rows_are_written_with_one_audit_row_each(db, actor, estate):
    rows = [{"community_id": estate["sun"], "code": f"2-1-{n:04d}", "area": "88.00"} for n in range(1000)]
    ids = add(db, actor, "households", *rows)
    assert len(ids) == 1000 and len(set(ids)) == 1000
    assert db.scalar("SELECT count(*) FROM audit_log WHERE register='households' AND action='新增'") == 1002


def test_household_code_is_unique_within_its_community_only(db, actor, estate):
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "households", {"community_id": estate["sun"], "code": "1-1-101", "area": "50"})
    assert "已存在" in err.value.problems[0].message
    # the same code in a third community is fine
    (other,) = add(db, actor, "communities", {"name": "金色家园"})
    add(db, actor, "households", {"community_id": other, "code": "1-1-101", "area": "50"})


def test_duplicate_within_one_change_set_is_reported(db, actor, estate):
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "households",
            {"community_id": estate["sun"], "code": "9-9-9", "area": "50"},
            {"community_id": estate["sun"], "code": "9-9-9", "area": "60"})
    assert err.value.problems[0].row == "新增第 2 行"


def test_personal_data_checks(db, actor, estate):
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "owners",
            {"household_id": estate["h1"], "name": "张三", "phone": "23812345678", "id_number": "110105194912310021"})
    messages = {p.column: p.message for p in err.value.problems}
    assert messages["手机号"] == "手机号应为以 1 开头的 11 位数字"
    assert messages["身份证号"].startswith("身份证号无效")
    add(db, actor, "owners", {"household_id": estate["h1"], "name": "张三", "phone": "13812345678", "id_number": VALID_ID})


def test_money_is_exact_decimal_in_the_table(db, actor, estate):
    with pytest.raises(ValidationFailed, match="最多 2 位小数"):
        apply_changes(db, actor, "households", [RowChange("update", estate["h1"], {"area": "89.555"}, version=1)])
    apply_changes(db, actor, "households", [RowChange("update", estate["h1"], {"area": 0.1 + 0.2 - 4e-17}, version=1)])
    assert db.scalar("SELECT area FROM households WHERE id = ?", [estate["h1"]]) == Decimal("0.30")
    assert db.scalar("SELECT typeof(area) FROM households LIMIT 1") == "DECIMAL(10,2)"


def test_reference_given_by_label_is_resolved_or_explained(db, actor, estate):
    (owner,) = add(db, actor, "owners", {"household_id": "阳光花园/1-1-101", "name": "李四"})
    assert db.scalar("SELECT household_id FROM owners WHERE id = ?", [owner]) == estate["h1"]
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "owners", {"household_id": "1-1-101", "name": "王五"})
    assert "对应多个房屋档案" in err.value.problems[0].message
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "owners", {"household_id": "8-8-808", "name": "王五"})
    assert err.value.problems[0].message == "找不到房屋档案「8-8-808」"


def test_unknown_reference_id_is_refused(db, actor, estate):
    with pytest.raises(ValidationFailed, match="编号 999 不存在"):
        add(db, actor, "owners", {"household_id": 999, "name": "王五"})


def test_update_conflict_is_detected_and_nothing_is_overwritten(db, actor, estate):
    h = estate["h1"]
    apply_changes(db, actor, "households", [RowChange("update", h, {"note": "第一位"}, version=1)])
    with pytest.raises(ConflictError) as err:
        apply_changes(db, actor, "households", [RowChange("update", h, {"note": "第二位"}, version=1)])
    assert "已被 王会计" in err.value.problems[0].message
    assert db.scalar("SELECT note FROM households WHERE id = ?", [h]) == "第一位"
    assert db.scalar("SELECT row_version FROM households WHERE id = ?", [h]) == 2


def test_conflict_in_one_row_rolls_back_the_others(db, actor, estate):
    apply_changes(db, actor, "households", [RowChange("update", estate["h2"], {"note": "x"}, version=1)])
    with pytest.raises(ConflictError):
        apply_changes(db, actor, "households", [
            RowChange("update", estate["h1"], {"note": "a"}, version=1),
            RowChange("update", estate["h2"], {"note": "b"}, version=1),
        ])
    assert db.scalar("SELECT note FROM households WHERE id = ?", [estate["h1"]]) is None


def test_many_updates_in_one_change_set_are_written_and_audited_in_order(db, actor, estate):
    # 25 rows change the note (written by one joined UPDATE), 5 the area too (row by row)
    ids = add(db, actor, "households",
              *({"community_id": estate["sun"], "code": f"3-1-{n:03d}", "area": "80.00"} for n in range(30)))
    changes = [RowChange("update", h, {"note": f"第{n}户"} if n % 6 else {"note": f"第{n}户", "area": "81.50"},
                         version=1) for n, h in enumerate(ids)]
    result = apply_changes(db, actor, "households", changes)
    assert result.updated == ids
    rows = db.rows("SELECT note, area, row_version FROM households WHERE id IN (SELECT unnest(?)) ORDER BY id",
                   [ids])
    assert rows == [(f"第{n}户", Decimal("81.50") if n % 6 == 0 else Decimal("80.00"), 2) for n in range(30)]
    audit = db.rows("SELECT row_id, new_values FROM audit_log WHERE change_id = ? ORDER BY id", [result.change_id])
    assert [r for r, _ in audit] == ids
    assert json.loads(audit[6][1]) == {"note": "第6户", "area": "81.50"}
    assert json.loads(audit[7][1]) == {"note": "第7户"}


def test_one_stale_row_among_many_updates_writes_none_of_them(db, actor, estate):
    ids = add(db, actor, "households",
              *({"community_id": estate["sun"], "code": f"4-1-{n:03d}", "area": "80.00"} for n in range(25)))
    apply_changes(db, actor, "households", [RowChange("update", ids[13], {"note": "先改"}, version=1)])
    with pytest.raises(ConflictError):
        apply_changes(db, actor, "households",
                      [RowChange("update", h, {"note": "批量"}, version=1) for h in ids])
    notes = db.rows("SELECT note FROM households WHERE id IN (SELECT unnest(?)) ORDER BY id", [ids])
    assert notes == [("先改",) if n == 13 else (None,) for n in range(25)]


def test_audit_row_holds_old_and_new_values(db, actor, estate):
    result = apply_changes(db, actor, "households",
                           [RowChange("update", estate["h1"], {"area": "90.25", "status": "已入住"}, version=1)])
    row = db.query("SELECT * FROM audit_log WHERE change_id = ?", [result.change_id]).iloc[0]
    assert (row["actor"], row["register"], row["row_id"], row["action"]) == ("王会计", "households", estate["h1"], "修改")
    assert json.loads(row["old_values"]) == {"area": "89.50", "status": "空置"}
    assert json.loads(row["new_values"]) == {"area": "90.25", "status": "已入住"}


def test_referenced_row_cannot_be_deleted_and_the_user_sees_by_whom(db, actor, estate):
    add(db, actor, "owners", {"household_id": estate["h1"], "name": "赵六"},
        {"household_id": estate["h1"], "name": "钱七"})
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, "households", [RowChange("delete", estate["h1"], version=1)])
    message = err.value.problems[0].message
    assert "业主与住户 2 行" in message and "赵六" in message and "钱七" in message
    assert db.scalar("SELECT deleted_at FROM households WHERE id = ?", [estate["h1"]]) is None


def test_delete_is_soft_and_hides_the_row(db, actor, estate):
    apply_changes(db, actor, "households", [RowChange("delete", estate["h2"], version=1)])
    assert db.scalar("SELECT deleted_at IS NOT NULL FROM households WHERE id = ?", [estate["h2"]])
    frame, total = fetch_page(db, actor, registers.get("households"), PageRequest())
    assert total == 1 and list(frame["id"]) == [estate["h1"]]
    old, new = db.rows("SELECT old_values, new_values FROM audit_log WHERE action = '删除'")[0]
    assert json.loads(old)["code"] == "1-1-101" and new is None
    # a deleted row's code may be used again
    add(db, actor, "households", {"community_id": estate["lake"], "code": "1-1-101", "area": "70"})


def test_editing_a_deleted_row_is_a_conflict(db, actor, estate):
    apply_changes(db, actor, "households", [RowChange("delete", estate["h2"], version=1)])
    with pytest.raises(ConflictError, match="已不存在"):
        apply_changes(db, actor, "households", [RowChange("update", estate["h2"], {"note": "x"}, version=2)])


def test_required_and_enum_checked(db, actor, estate):
    with pytest.raises(ValidationFailed) as err:
        add(db, actor, "households", {"community_id": estate["sun"], "code": "5-5-5", "area": "50", "usage": "别墅"},
            {"community_id": estate["sun"], "area": "50"})
    problems = [(p.row, p.column, p.message) for p in err.value.problems]
    assert ("新增第 1 行", "用途", "应为以下之一：住宅、商铺、车库、其他") in problems
    assert ("新增第 2 行", "房号", "必填") in problems


def test_supplied_ids_are_kept_and_collisions_refused(db, actor, estate):
    apply_changes(db, actor, "communities", [RowChange("insert", values={"id": 500, "name": "迁移小区"})])
    assert db.scalar("SELECT name FROM communities WHERE id = 500") == "迁移小区"
    with pytest.raises(ValidationFailed, match="编号已被占用"):
        apply_changes(db, actor, "communities", [RowChange("insert", values={"id": 500, "name": "重复"})])
    (next_id,) = add(db, actor, "communities", {"name": "新小区"})
    assert next_id == 501


def test_setting_value_must_match_its_type(db, actor):
    row = db.rows("SELECT id, row_version FROM settings WHERE key = 'fee.grace_days'")[0]
    with pytest.raises(ValidationFailed, match="应为整数"):
        apply_changes(db, actor, "settings", [RowChange("update", row[0], {"value": "三天"}, version=row[1])])
    with pytest.raises(ValidationFailed, match="全局参数不能删除"):
        apply_changes(db, actor, "settings", [RowChange("delete", row[0], version=row[1])])


def test_scope_limits_what_an_actor_may_write(db, actor, estate):
    from app.access.permissions import Actor

    limited = Actor("小李", "客服", communities=(estate["lake"],))
    with pytest.raises(ValidationFailed, match="不在您可管理的小区范围内"):
        add(db, limited, "households", {"community_id": estate["sun"], "code": "7-7-7", "area": "50"})
    frame, total = fetch_page(db, limited, registers.get("households"), PageRequest())
    assert total == 1 and frame.iloc[0]["community_id"] == estate["lake"]


def test_scope_reaches_rows_through_their_parent(db, actor, estate):
    from app.access.permissions import Actor

    limited = Actor("小李", "客服", communities=(estate["lake"],))
    with pytest.raises(ValidationFailed, match="不在您可管理的小区范围内"):
        add(db, limited, "owners", {"household_id": estate["h1"], "name": "越权"})
    add(db, limited, "owners", {"household_id": estate["h2"], "name": "本小区"})


def test_blank_cells_of_a_new_row_take_the_defaults(db, actor, estate):
    (h,) = add(db, actor, "households", {"community_id": estate["sun"], "code": "6-6-6", "area": "60",
                                          "usage": None, "status": ""})
    assert db.rows("SELECT usage, status FROM households WHERE id = ?", [h]) == [("住宅", "空置")]


def test_page_filter_sort_and_search(db, actor, estate):
    add(db, actor, "households",
        {"community_id": estate["sun"], "code": "1-2-301", "area": "120.00", "status": "出租"},
        {"community_id": estate["sun"], "code": "1-2-302", "area": "75.50", "status": "出租"})
    reg = registers.get("households")
    frame, total = fetch_page(db, actor, reg, PageRequest(filters={"status": ["出租"]}, sort="area",
                                                          descending=True))
    assert total == 2 and list(frame["code"]) == ["1-2-301", "1-2-302"]
    assert frame["area"][0] == Decimal("120.00")
    frame, total = fetch_page(db, actor, reg, PageRequest(search="翠湖"))  # matches the community label
    assert total == 1 and list(frame["code"]) == ["1-1-101"]
    frame, total = fetch_page(db, actor, reg, PageRequest(page=2, page_size=3))
    assert total == 4 and len(frame) == 1
