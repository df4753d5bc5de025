"""Workflows are data: a `[workflow]` in a register's definition is enforced by the one generic rule
(app/save_rules/workflow.py), for a register the office defines itself as for a built-in one."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import registers
from app.access.permissions import Actor
from app.admin import designer
from app.registers.model import DefinitionError, register_from_dict
from app.saving.changes import RowChange, ValidationFailed, apply_changes
from app.service import service_desk

PERMITS = {
    "name": "hot_work_permits", "label": "动火申请", "area": "设备与消防",
    "fields": [
        {"name": "title", "label": "动火事项", "type": "text", "required": True},
        {"name": "status", "label": "状态", "type": "enum", "values": ["申请", "已批准", "已完成"],
         "required": True, "default": "申请"},
        {"name": "changed_at", "label": "状态变更时间", "type": "timestamp"},
        {"name": "approved_at", "label": "批准时间", "type": "timestamp"},
        {"name": "finished_on", "label": "完工日期", "type": "date"},
    ],
    "workflow": {
        "column": "status", "entry": ["申请"], "moment": "changed_at",
        "moves": [
            {"from": "申请", "to": "已批准", "roles": ["经理"], "stamps": ["approved_at"]},
            {"from": "已批准", "to": "已完成", "stamps": ["finished_on"]},
        ],
    },
}


def _refused(db, actor, changes, message: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, "hot_work_permits", changes)
    assert [p.message for p in err.value.problems] == [message]


def test_a_register_with_a_workflow_needs_only_its_definition(db, actor):
    designer.create_register(db, actor, PERMITS)
    manager, fitter = Actor("李经理", role="经理"), Actor("维修小张", role="维修")

    _refused(db, actor, [RowChange("insert", values={"title": "配电房焊接", "status": "已完成"})],
             "新动火申请的状态只能是“申请”，不能直接登记为“已完成”")
    pid = apply_changes(db, fitter, "hot_work_permits",
                        [RowChange("insert", values={"title": "配电房焊接"})]).inserted[0]
    _refused(db, manager, [RowChange("update", pid, {"status": "已完成"}, version=1)],
             "状态不能从“申请”改为“已完成”，只能改为：已批准")
    _refused(db, fitter, [RowChange("update", pid, {"status": "已批准"}, version=1)],
             "只有经理可以把状态从“申请”改为“已批准”")

    # the move stamps its columns with the moment the change gives (补录), a date column with its day
    apply_changes(db, manager, "hot_work_permits",
                  [RowChange("update", pid, {"status": "已批准", "changed_at": datetime(2026, 3, 5, 9, 30)},
                             version=1)])
    apply_changes(db, fitter, "hot_work_permits",
                  [RowChange("update", pid, {"status": "已完成", "changed_at": datetime(2026, 3, 6, 17, 0)},
                             version=2)])
    assert db.rows("SELECT status, approved_at, finished_on FROM hot_work_permits") == [
        ("已完成", datetime(2026, 3, 5, 9, 30), datetime(2026, 3, 6).date())]
    _refused(db, manager, [RowChange("update", pid, {"status": "申请"}, version=3)],
             "状态不能从“已完成”改为“申请”，只能改为：无（已是最后一步）")


def test_the_desk_offers_the_moves_of_the_definitions():
    assert service_desk.next_steps("处理中") == ("暂停", "已完成")
    assert service_desk.next_steps("已关闭") == ()
    assert service_desk.complaint_next_steps("待处理") == ("处理中", "已关闭")
    assert registers.get("rectifications").workflow.next("已整改") == ("已验证", "待整改")


@pytest.mark.parametrize(("workflow", "fault"), [
    ({"moves": []}, "needs moves"),
    ({"moves": [{"from": "申请", "to": "已撤销"}]}, "'已撤销' is not a value of status"),
    ({"moves": [{"from": "申请", "to": "已批准", "stamps": ["title"]}]}, "stamp 'title'"),
    ({"moves": [{"from": "申请", "to": "已批准", "when_filled": "nobody"}]}, "when_filled 'nobody'"),
    ({"moves": [{"from": "申请", "to": "已批准"}, {"from": "申请", "to": "已批准"}]}, "declared twice"),
    ({"column": "title", "moves": [{"from": "a", "to": "b"}]}, "not an enum field"),
    ({"moves": [{"from": "申请", "to": "已批准", "by": "经理"}]}, "each move is"),
])
def test_a_workflow_that_cannot_work_is_refused_with_the_definition(workflow, fault):
    with pytest.raises(DefinitionError, match=fault):
        register_from_dict({**PERMITS, "workflow": workflow})
