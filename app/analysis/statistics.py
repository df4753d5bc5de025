"""The statistics the seed asks for: staff composition, population and owners per 小区, 投诉率 per
household and building over a chosen period, and survey sampling (draw and record a sample).

Figures come from the rule views (`v_staff_composition`, `v_population_composition`,
`v_complaint_rate` / `complaint_rate_between`, `v_survey_sampling`); this module scopes them to
the actor, draws samples through the save path and builds the charts. No Streamlit here.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from app.access.permissions import Actor, require
from app.access.scope import community_sql
from app.reading import views
from app.saving.changes import Problem, RowChange, ValidationFailed, apply_changes
from app.storage.db import Database, in_list


def _scoped(frame: pd.DataFrame, community_id: int | None) -> pd.DataFrame:
    if community_id is None or frame.empty:
        return frame.reset_index(drop=True)
    return frame[frame["community_id"] == community_id].reset_index(drop=True)


# -- staff and population ----------------------------------------------------------------------
def staff_composition(db: Database, actor: Actor, community_id: int | None = None,
                      dimension: str | None = None) -> pd.DataFrame:
    """Staff in post by 部门 and by 学历 (v_staff_composition), for one community or all."""
    frame = _scoped(views.read_view(db, actor, "v_staff_composition"), community_id)
    if dimension is not None:
        frame = frame[frame["dimension"] == dimension].reset_index(drop=True)
    return frame.sort_values(["dimension", "staff", "grp"], ascending=[True, False, True], ignore_index=True)


def staff_totals(frame: pd.DataFrame) -> dict[str, Any]:
    """Staff in post, managers and their share, from the 部门 rows of staff_composition."""
    by_department = frame[frame["dimension"] == "部门"]
    staff, managers = int(by_department["staff"].sum()), int(by_department["managers"].sum())
    return {"staff": staff, "managers": managers, "manager_share": managers / staff if staff else None}


def population_composition(db: Database, actor: Actor, community_id: int | None = None) -> pd.DataFrame:
    return _scoped(views.read_view(db, actor, "v_population_composition"), community_id)


# -- 投诉率 ---------------------------------------------------------------------------------------
def complaint_rate(db: Database, actor: Actor, date_from: date, date_to: date,
                   community_id: int | None = None) -> pd.DataFrame:
    """投诉率 per community and per building for complaints received date_from..date_to."""
    require(actor, "v_complaint_rate", "view", views.view_info("v_complaint_rate").title)
    if date_to < date_from:
        raise ValidationFailed([Problem("统计期间", "", "结束日期不能早于开始日期")])
    sql = ("SELECT * FROM complaint_rate_between(CAST(? AS DATE), CAST(? AS DATE)) WHERE TRUE")
    params: list[Any] = [date_from, date_to]
    where, scoped = community_sql(actor, community_id)
    return db.query(sql + where + " ORDER BY community_id, level DESC, building", [*params, *scoped])


# -- survey sampling ---------------------------------------------------------------------------
def _draw_order(survey_id: int, household_id: int) -> str:
    """A fixed shuffle per survey: the same survey always draws the same homes."""
    return hashlib.sha256(f"wuye-survey:{survey_id}:{household_id}".encode()).hexdigest()


def sample_size(households: int, ratio: Decimal) -> int:
    """Homes drawn from a building: the ratio rounded up, so every building is represented."""
    return min(households, math.ceil(Decimal(households) * ratio))


def draw_sample(db: Database, actor: Actor, survey_id: int, ratio: Decimal | float | str = 1,
                building_ids: list[int] | None = None, on: date | None = None) -> list[int]:
    """Draw the homes to survey: `ratio` of each building (all buildings, or only `building_ids`),
    in a fixed order seeded by the survey; recorded in survey_samples. A survey is drawn once."""
    ratio = Decimal(str(ratio))
    if not Decimal(0) < ratio <= 1:
        raise ValidationFailed([Problem("抽样", "抽样比例", "抽样比例应大于 0% 且不超过 100%")])
    survey = db.rows("SELECT community_id FROM surveys WHERE id = ? AND deleted_at IS NULL", [survey_id])
    if not survey:
        raise KeyError(f"没有编号为 {survey_id} 的调查")
    drawn = db.scalar("SELECT count(*) FROM survey_samples WHERE survey_id = ? AND deleted_at IS NULL", [survey_id])
    if drawn:
        raise ValidationFailed([Problem("抽样", "", f"该调查已抽样（{drawn} 户），抽样名单记录在「调查抽样」台账，不再重抽")])
    homes = db.rows("SELECT id, building_id FROM households WHERE community_id = ? AND deleted_at IS NULL",
                    [survey[0][0]])
    by_building: dict[int | None, list[int]] = {}
    for home, building in homes:
        if building_ids is None or building in building_ids:
            by_building.setdefault(building, []).append(home)
    chosen: list[int] = []
    for members in by_building.values():
        members.sort(key=lambda h: _draw_order(survey_id, h))
        chosen += members[:sample_size(len(members), ratio)]
    if not chosen:
        raise ValidationFailed([Problem("抽样", "", "所选范围内没有房屋")])
    scope = "全部楼栋"
    if building_ids is not None:
        placeholders, values = in_list(building_ids)
        codes = db.rows("SELECT code FROM buildings WHERE id IN " + placeholders + " ORDER BY code", values)
        scope = "范围：" + "、".join(code for (code,) in codes)
    method = f"按楼栋 {float(ratio * 100):g}%，{scope}"
    on = on or db.now().date()
    changes = [RowChange("insert", values={"survey_id": survey_id, "household_id": h, "drawn_on": on,
                                           "method": method}) for h in sorted(chosen)]
    apply_changes(db, actor.via("抽样"), "survey_samples", changes)
    return sorted(chosen)


def sample_households(db: Database, survey_id: int) -> pd.DataFrame:
    """The drawn homes with their building, primary owner and whether a form came back."""
    return db.query(
        "SELECT h.id AS household_id, coalesce(b.code, '') AS building, h.code, "
        "(SELECT string_agg(o.name, '、' ORDER BY o.is_primary DESC, o.id) FROM owners o "
        " WHERE o.household_id = h.id AND o.deleted_at IS NULL AND o.role = '业主' AND o.moved_out_on IS NULL) AS owners, "
        "EXISTS (SELECT 1 FROM survey_responses r WHERE r.survey_id = x.survey_id AND r.household_id = h.id "
        "        AND r.deleted_at IS NULL) AS returned, x.drawn_on, x.method "
        "FROM survey_samples x JOIN households h ON h.id = x.household_id "
        "LEFT JOIN buildings b ON b.id = h.building_id "
        "WHERE x.survey_id = ? AND x.deleted_at IS NULL ORDER BY building, h.code", [survey_id])


def survey_sampling(db: Database, actor: Actor, survey_id: int) -> pd.DataFrame:
    frame = views.read_view(db, actor, "v_survey_sampling")
    return frame[frame["survey_id"] == survey_id].sort_values("building", ignore_index=True)


# -- charts --------------------------------------------------------------------------------------
