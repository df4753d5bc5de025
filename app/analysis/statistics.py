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

import altair as alt
import pandas as pd

from app.access.permissions import Actor, require
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
    if actor.communities is not None:
        placeholders, values = in_list(list(actor.communities))
        sql += " AND community_id IN " + placeholders
        params += values
    if community_id is not None:
        sql += " AND community_id = ?"
        params.append(community_id)
    return db.query(sql + " ORDER BY community_id, level DESC, building", params)


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
def staff_chart(frame: pd.DataFrame, dimension: str) -> alt.Chart:
    data = frame[frame["dimension"] == dimension]
    data = data.groupby("grp", as_index=False)[["staff", "managers"]].sum()
    data = data.assign(others=data["staff"] - data["managers"]).melt(
        id_vars=["grp"], value_vars=["managers", "others"], var_name="kind", value_name="people")
    data["kind"] = data["kind"].map({"managers": "管理人员", "others": "其他员工"})
    return (alt.Chart(data).mark_bar()
            .encode(x=alt.X("grp:N", title=dimension, sort="-y"), y=alt.Y("people:Q", title="人数"),
                    color=alt.Color("kind:N", title="", sort=["管理人员", "其他员工"]),
                    tooltip=[alt.Tooltip("grp:N", title=dimension), alt.Tooltip("kind:N", title="类别"),
                             alt.Tooltip("people:Q", title="人数")])
            .properties(title=f"员工构成（按{dimension}）", height=260))


def population_chart(frame: pd.DataFrame) -> alt.Chart:
    homes = frame.melt(id_vars=["community"], value_vars=["occupied", "rented", "vacant", "decorating"],
                       var_name="status", value_name="count")
    homes["status"] = homes["status"].map({"occupied": "自住", "rented": "出租", "vacant": "空置",
                                           "decorating": "装修中"})
    return (alt.Chart(homes).mark_bar()
            .encode(x=alt.X("community:N", title="小区"), y=alt.Y("count:Q", title="户数", stack="zero"),
                    color=alt.Color("status:N", title="房屋状态", sort=["自住", "出租", "空置", "装修中"]),
                    tooltip=[alt.Tooltip("community:N", title="小区"), alt.Tooltip("status:N", title="状态"),
                             alt.Tooltip("count:Q", title="户数")])
            .properties(title="房屋使用状况", height=260))


def complaint_rate_chart(frame: pd.DataFrame) -> alt.Chart:
    data = frame[frame["level"] == "楼栋"].assign(rate=lambda f: f["complaint_rate"].astype(float))
    return (alt.Chart(data).mark_bar()
            .encode(x=alt.X("building:N", title="楼栋", sort=list(data["building"])),
                    y=alt.Y("rate:Q", title="投诉率（次/户）"),
                    tooltip=[alt.Tooltip("building:N", title="楼栋"),
                             alt.Tooltip("complaints:Q", title="投诉次数"),
                             alt.Tooltip("households:Q", title="户数"),
                             alt.Tooltip("rate:Q", title="投诉率", format=".3f")])
            .properties(title="投诉率（按楼栋）", height=260))
