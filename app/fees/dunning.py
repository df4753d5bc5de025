"""催缴 in bulk: the arrears list with the owners' names and phones, and one-click 催缴通知书 for the
households ticked on it — one arrears_actions record each through the save path, and one document
(an HTML print view and the Excel workbook) with a page per household. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from app.access.permissions import Actor, PermissionDenied, mask_value, require, sees_personal_data
from app.fees import fee_documents, printing
from app.saving.changes import Problem, ValidationFailed
from app.storage.db import Database, in_list

NOTICE_STEP = "催缴通知书"


def _in_scope(actor: Actor, community_id: int) -> None:
    if actor.communities is not None and community_id not in actor.communities:
        raise PermissionDenied("该小区不在您负责的范围内")


def arrears_contacts(db: Database, actor: Actor, community_id: int, as_of: date, min_days: int = 0) -> pd.DataFrame:
    """The 催缴 list (fee_documents.arrears_list) with each household's owners and their phones;
    phones masked for roles that may not see personal data."""
    require(actor, "arrears_actions", "view")
    require(actor, "owners", "view")
    _in_scope(actor, community_id)
    listed = fee_documents.arrears_list(db, community_id, as_of, min_days)
    if listed.empty:
        return listed.assign(owners=pd.Series(dtype=object), phones=pd.Series(dtype=object))
    placeholders, ids = in_list([int(h) for h in listed["household_id"]])
    people = db.rows(
        "SELECT household_id, name, phone FROM owners WHERE household_id IN " + placeholders
        + " AND deleted_at IS NULL AND moved_out_on IS NULL AND coalesce(role, '业主') = '业主' "
        "ORDER BY household_id, is_primary DESC, id", ids)
    shown = sees_personal_data(actor)
    names: dict[int, list[str]] = {}
    phones: dict[int, list[str]] = {}
    for household, name, phone in people:
        names.setdefault(household, []).append(name)
        if phone:
            phones.setdefault(household, []).append(phone if shown else mask_value("phone", phone))
    listed.insert(3, "owners", ["、".join(names.get(h, [])) for h in listed["household_id"]])
    listed.insert(4, "phones", ["、".join(phones.get(h, [])) for h in listed["household_id"]])
    return listed


@dataclass
class NoticeBatch:
    action_ids: list[int]  # one arrears_actions row per household
    html: str  # the print view, a page per household
    workbook: bytes  # the same notices in Excel


def send_notices(db: Database, actor: Actor, community_id: int, household_ids: list[int], period: str,
                 as_of: date, handler_id: int | None = None) -> NoticeBatch:
    """催缴通知书 for the ticked households: every one must owe something overdue on as_of; all are
    recorded as a 催缴通知书 step in one change set (or none), then printed as one document."""
    _in_scope(actor, community_id)
    if not household_ids:
        raise ValidationFailed([Problem("催缴", "", "请先勾选要发催缴通知书的房屋")])
    placeholders, ids = in_list(household_ids)
    owing = {h for (h,) in db.rows(
        "SELECT household_id FROM arrears_as_of(CAST(? AS DATE)) WHERE community_id = ? AND household_id IN "
        + placeholders, [as_of, community_id, *ids])}
    codes = dict(db.rows("SELECT id, code FROM households WHERE id IN " + placeholders, ids))
    problems = [Problem(f"房屋 {codes.get(h, h)}", "", "没有逾期欠费（或不在本小区），不发催缴通知书")
                for h in household_ids if h not in owing]
    if problems:
        raise ValidationFailed(problems)
    actions = fee_documents.record_arrears_actions(db, actor, household_ids, NOTICE_STEP, as_of, handler_id)
    page = printing.notices_html(db, actor, community_id, household_ids, period, as_of, dunning=True)
    book, _ = fee_documents.notices_workbook(db, community_id, period, as_of, arrears_days=0,
                                             household_ids=household_ids)
    return NoticeBatch(actions, page, book)
