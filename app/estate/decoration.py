"""Decoration (装修) at the front desk: application checklist, approval, passes, checks, acceptance, refund.

Plain services over the save path, so the rules in `app/save_rules/estate.py` (documents
complete before approval, one active decoration per household, refund less penalties) hold
here exactly as in the grid and the importer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database, q

# The workflow, in order. 待验收 -> 施工中 is the one step back (acceptance failed, rework).
STATUSES = ("申请", "已批准", "施工中", "待验收", "已验收", "已退保证金")
ACTIVE = ("申请", "已批准", "施工中", "待验收")  # one of these per household at a time
STEP_BACK = {("待验收", "施工中")}


@dataclass(frozen=True)
class ChecklistItem:
    column: str
    label: str
    needed: bool  # required for this application
    done: bool


def checklist(row: dict[str, Any]) -> list[ChecklistItem]:
    """The documents 建设部令第110号 (第九条、第十六条) asks for, for this application."""
    tenant = row.get("applicant_role") == "租户"
    contractor = bool((row.get("contractor") or "").strip())
    structural = bool(row.get("structural_change"))
    items = [
        ("doc_ownership", "房屋所有权证明", True),
        ("doc_identity", "申请人身份证件", True),
        ("doc_plan", "装修方案", True),
        ("doc_contractor_license", "施工单位资质证书", contractor),
        ("doc_owner_consent", "业主书面同意（租户申请）", tenant),
        ("doc_structural_design", "结构变动设计方案", structural),
        ("agreement_signed", "装修管理服务协议", True),
    ]
    return [ChecklistItem(col, label, needed, bool(row.get(col))) for col, label, needed in items]


def missing_documents(row: dict[str, Any]) -> list[str]:
    """Labels of the required items not yet ticked; empty when the application may be approved."""
    return [item.label for item in checklist(row) if item.needed and not item.done]


def is_violation(row: dict[str, Any]) -> bool:
    return bool((row.get("violation") or "").strip()) or row.get("violation_kind") is not None


# -- reading ----------------------------------------------------------------------------------
def decoration(db: Database, decoration_id: int) -> dict[str, Any]:
    res = db.cursor().execute(
        "SELECT d.*, h.code AS household_code, h.community_id FROM decorations d "
        "JOIN households h ON h.id = d.household_id WHERE d.id = ? AND d.deleted_at IS NULL",
        [decoration_id],
    )
    names = [c[0] for c in res.description]
    got = res.fetchone()
    if got is None:
        raise KeyError(f"装修登记 {decoration_id} 不存在")
    return dict(zip(names, got))


def board(db: Database, community_id: int | None = None, include_closed: bool = False) -> pd.DataFrame:
    """Decorations with their deposit figures (v_decoration_deposit), newest application first."""
    sql = (
        "SELECT d.id AS decoration_id, v.community_id, h.code AS household, d.applicant, d.contractor, "
        "d.status, d.applied_on, d.planned_start_on, d.planned_end_on, v.received, v.penalties, "
        "v.open_violations, v.refundable, v.works_overdue "
        "FROM decorations d JOIN households h ON h.id = d.household_id "
        "JOIN v_decoration_deposit v ON v.decoration_id = d.id WHERE d.deleted_at IS NULL"
    )
    params: list[Any] = []
    if community_id is not None:
        sql += " AND v.community_id = ?"
        params.append(community_id)
    if not include_closed:
        sql += " AND d.status <> '已退保证金'"
    return db.query(sql + " ORDER BY d.applied_on DESC, d.id DESC", params)


def deposit_state(db: Database, decoration_id: int, as_of: date | None = None) -> dict[str, Any]:
    """The decoration's row of v_decoration_deposit (as of a date when given)."""
    res = db.cursor().execute(
        "SELECT * FROM decoration_deposit_as_of(CAST(? AS DATE)) WHERE decoration_id = ?",
        [as_of or db.now().date(), decoration_id],
    )
    names = [c[0] for c in res.description]
    got = res.fetchone()
    return dict(zip(names, got)) if got else {}


def workers(db: Database, decoration_id: int, as_of: date | None = None) -> pd.DataFrame:
    """Workers and their passes; `pass_valid` is false once valid_until has passed or the pass is back."""
    return db.query(
        "SELECT id AS worker_id, name, trade, pass_no, issued_on, valid_until, returned_on, "
        "valid_until >= CAST(? AS DATE) AND returned_on IS NULL AS pass_valid "
        "FROM decoration_workers WHERE decoration_id = ? AND deleted_at IS NULL ORDER BY id",
        [as_of or db.now().date(), decoration_id],
    )


def checks(db: Database, decoration_id: int) -> pd.DataFrame:
    return db.query(
        "SELECT c.id AS check_id, c.checked_on, s.name AS inspector, c.violation_kind, c.violation, "
        "c.penalty, c.deadline, c.rectified_on, c.violation IS NOT NULL AND c.rectified_on IS NULL AS open "
        "FROM decoration_checks c LEFT JOIN staff s ON s.id = c.inspector_id "
        "WHERE c.decoration_id = ? AND c.deleted_at IS NULL ORDER BY c.checked_on, c.id",
        [decoration_id],
    )


# -- actions ----------------------------------------------------------------------------------
def _update(db: Database, actor: Actor, register: str, row_id: int, values: dict[str, Any]) -> None:
    version = db.scalar("SELECT row_version FROM " + q(register) + " WHERE id = ?", [row_id])
    apply_changes(db, actor, register, [RowChange("update", row_id, values, version)])


def apply(db: Database, actor: Actor, values: dict[str, Any]) -> int:
    """Register an application (状态 申请); refused while the household has another active one."""
    values = {"applied_on": db.now().date(), **values, "status": "申请"}
    return apply_changes(db, actor, "decorations", [RowChange("insert", values=values)]).inserted[0]


def update_checklist(db: Database, actor: Actor, decoration_id: int, ticks: dict[str, bool]) -> None:
    allowed = {item.column for item in checklist({})} | {"structural_change"}
    _update(db, actor, "decorations", decoration_id, {k: bool(v) for k, v in ticks.items() if k in allowed})


def approve(db: Database, actor: Actor, decoration_id: int, approved_by_id: int,
            on: date | None = None, **values: Any) -> None:
    """申请 -> 已批准; refused while a required document is missing."""
    _update(db, actor, "decorations", decoration_id,
            {**values, "status": "已批准", "approved_by_id": approved_by_id, "approved_on": on or db.now().date()})


def move(db: Database, actor: Actor, decoration_id: int, status: str, **values: Any) -> None:
    """Any other step of the workflow (施工中, 待验收, back to 施工中)."""
    _update(db, actor, "decorations", decoration_id, {**values, "status": status})


def accept(db: Database, actor: Actor, decoration_id: int, accepted_by_id: int,
           on: date | None = None, note: str | None = None) -> None:
    """Final acceptance (已验收); refused while a violation is not rectified."""
    values: dict[str, Any] = {"status": "已验收", "accepted_by_id": accepted_by_id,
                              "accepted_on": on or db.now().date()}
    if note:
        values["acceptance_note"] = note
    _update(db, actor, "decorations", decoration_id, values)


def receive_deposit(db: Database, actor: Actor, decoration_id: int, amount: Decimal | str | None = None,
                    on: date | None = None) -> int:
    """The 装修保证金 received (default: the amount the decoration requires)."""
    d = decoration(db, decoration_id)
    values = {"household_id": d["household_id"], "decoration_id": decoration_id, "kind": "装修保证金",
              "amount": amount if amount is not None else d["deposit_required"],
              "received_on": on or db.now().date()}
    return apply_changes(db, actor, "deposits", [RowChange("insert", values=values)]).inserted[0]


def refund_deposit(db: Database, actor: Actor, decoration_id: int, on: date | None = None,
                   refunded_by_id: int | None = None) -> Decimal:
    """Refund the deposit less penalties; the decoration becomes 已退保证金 in the same save.

    Returns the amount paid back (received − penalties, not below 0).
    """
    rows = db.rows(
        "SELECT id, row_version, amount FROM deposits WHERE decoration_id = ? AND kind = '装修保证金' "
        "AND refunded_on IS NULL AND deleted_at IS NULL ORDER BY id",
        [decoration_id],
    )
    on = on or db.now().date()
    if not rows:  # nothing was received: close the decoration directly
        move(db, actor, decoration_id, "已退保证金")
        return Decimal("0.00")
    changes = [RowChange("update", rid, {"refunded_on": on, "refunded_by_id": refunded_by_id}, version)
               for rid, version, _ in rows]
    apply_changes(db, actor, "deposits", changes)
    placeholders = ", ".join("?" for _ in rows)
    paid = db.scalar(
        "SELECT sum(amount - coalesce(deducted, 0)) FROM deposits WHERE id IN (" + placeholders + ")",
        [r[0] for r in rows],
    )
    return Decimal(paid).quantize(Decimal("0.01"))


def issue_pass(db: Database, actor: Actor, decoration_id: int, name: str, valid_until: date,
               **values: Any) -> str:
    """A worker's pass (出入证); returns its number."""
    row = {"decoration_id": decoration_id, "name": name, "valid_until": valid_until,
           "issued_on": db.now().date(), **values}
    wid = apply_changes(db, actor, "decoration_workers", [RowChange("insert", values=row)]).inserted[0]
    return db.scalar("SELECT pass_no FROM decoration_workers WHERE id = ?", [wid])


def record_check(db: Database, actor: Actor, decoration_id: int, checked_on: date | None = None,
                 **values: Any) -> int:
    """A patrol of the works; with `violation`/`violation_kind`, `penalty`, `deadline` when one is found."""
    row = {"decoration_id": decoration_id, "checked_on": checked_on or db.now().date(), **values}
    return apply_changes(db, actor, "decoration_checks", [RowChange("insert", values=row)]).inserted[0]


def mark_rectified(db: Database, actor: Actor, check_id: int, on: date | None = None) -> None:
    _update(db, actor, "decoration_checks", check_id, {"rectified_on": on or db.now().date()})
