"""Save rules of 检查与整改: the rectification workflow and everything that opens a rectification.

A rectification moves 待整改 → 已整改 → 已验证 (a failed verification sends it back to 待整改),
and is verified by someone other than the person responsible for it. A failed inspection, a bad
repair visit, a complaint that makes its spot a hotspot, a failed fire check and a decoration
violation each open one (app/checks/rectifications.py) in the same transaction. Security registers:
a patrol ends after it starts, a visitor leaves after arriving, a shift has a post unless off.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app import registers
from app.checks.rectifications import (
    Opening,
    deadline_days,
    default_deadline,
    ensure_ids,
    open_rectifications,
)
from app.reading.queries import label_sql
from app.saving.changes import RowChange, SaveContext, save_rule
from app.storage.db import in_list

RECTIFICATION_FLOW: dict[str, tuple[str, ...]] = {
    "待整改": ("已整改",),
    "已整改": ("已验证", "待整改"),  # back to 待整改: the verification failed
    "已验证": (),
}
SAME_PERSON = "验证人不能是整改责任人本人，须由其他人验证"
# complaint category -> the inspection area its rectification belongs to
COMPLAINT_AREA = {"环境卫生": "清洁消杀", "安全": "保安", "停车": "保安", "绿化": "绿化", "维修": "维修",
                  "噪音": "保安", "服务态度": "客服", "收费": "客服"}
BAD_VISIT_SETTING = "repair.visit_bad_score"


def _live(ctx: SaveContext):
    return [(i, c, new, old) for i, c, new, old in ctx.rows if c.action != "delete"]


def _set(c: RowChange, new: dict, column: str, value) -> None:
    new[column] = value
    c.values[column] = value


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _changed(c: RowChange, new: dict, old: dict | None, *columns: str) -> bool:
    """Inserted, or an update that changes one of the columns."""
    if c.action == "insert":
        return True
    return any(col in c.values and new.get(col) != (old or {}).get(col) for col in columns)


# -- rectifications --------------------------------------------------------------------------
@save_rule("rectifications")
def rectification_flow(ctx: SaveContext) -> None:
    """待整改 → 已整改 → 已验证, stamped; verified by someone other than the responsible person."""
    now = ctx.db.now()
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            if old and old.get("status") != "待整改":
                ctx.problem(i, c, "status", "已整改或已验证的整改单不能删除")
            continue
        before = old.get("status") if old else None
        if c.action == "update" and "status" not in c.values:  # filling a column moves the status
            if before == "已整改" and c.values.get("verified_by_id") is not None:
                _set(c, new, "status", "已验证")
            elif before == "待整改" and c.values.get("done_at") is not None:
                _set(c, new, "status", "已整改")
        after = new.get("status")
        if c.action == "update" and after != before and after not in RECTIFICATION_FLOW.get(before or "", ()):
            options = "、".join(RECTIFICATION_FLOW.get(before or "", ())) or "无（已验证完毕）"
            ctx.problem(i, c, "status", f"状态不能从“{before}”改为“{after}”，只能改为：{options}")
            continue
        if c.action == "insert" and new.get("opened_on") is None and not ctx.history:
            _set(c, new, "opened_on", now.date())
        moved = (c.action == "insert" and not ctx.history) or after != before
        if moved and after in ("已整改", "已验证") and new.get("done_at") is None:
            _set(c, new, "done_at", now)
        if moved and after == "已验证" and new.get("verified_at") is None:
            _set(c, new, "verified_at", now)
        if moved and after == "待整改" and c.action == "update":  # verification failed: not done yet
            _set(c, new, "done_at", None)
            _set(c, new, "verified_at", None)
        opened, deadline = new.get("opened_on"), new.get("deadline")
        if opened and deadline and deadline < opened and not ctx.history:  # opened late, by a rule
            ctx.problem(i, c, "deadline", f"整改期限早于立项日期 {opened:%Y-%m-%d}")
        if after in ("已整改", "已验证") and new.get("responsible_id") is None:
            ctx.problem(i, c, "responsible_id", "整改须指定责任人")
        if after == "已验证":
            verifier = new.get("verified_by_id")
            if verifier is None:
                ctx.problem(i, c, "verified_by_id", "验证须填写验证人")
            elif verifier == new.get("responsible_id"):
                ctx.problem(i, c, "verified_by_id", SAME_PERSON)
            done, verified = new.get("done_at"), new.get("verified_at")
            if done and verified and verified < done:
                ctx.problem(i, c, "verified_at", f"验证时间早于整改完成时间 {done:%Y-%m-%d %H:%M}")


# -- inspections -----------------------------------------------------------------------------
@save_rule("inspections")
def failed_inspection_opens_rectification(ctx: SaveContext) -> None:
    """不合格 needs its findings, and opens a rectification (plan's responsible person by default)."""
    failing = []
    for i, c, new, old in _live(ctx):
        if new.get("result") != "不合格":
            continue
        if not (new.get("findings") or "").strip():
            ctx.problem(i, c, "findings", "不合格须写明发现的问题，作为整改内容")
            continue
        if _changed(c, new, old, "result") and isinstance(new.get("plan_id"), int):
            failing.append((c, new))
    if ctx.problems or not failing:
        return
    placeholders, params = in_list(sorted({new["plan_id"] for _, new in failing}))
    plans = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT id, community_id, area, item, responsible_id FROM inspection_plans WHERE id IN " + placeholders,
            params,
        ).fetchall()
    }
    ensure_ids(ctx)
    openings = []
    for c, new in failing:
        community, area, item, responsible = plans[new["plan_id"]]
        on = _day(new.get("inspected_at")) or ctx.db.now().date()
        openings.append(Opening(
            "inspections", c.row_id, community,
            f"{area}检查不合格（{item}）：{new['findings'].strip()}",
            new.get("rectify_deadline") or default_deadline(ctx, community, on),
            new.get("rectify_by_id") or responsible, area, new.get("location"), on,
        ))
    open_rectifications(ctx, openings)


# -- repair visits ---------------------------------------------------------------------------
@save_rule("work_order_visits")
def bad_visit_opens_rectification(ctx: SaveContext) -> None:
    """A visit scoring repair.visit_bad_score [2] or less, or asking for rework, opens a rectification."""
    bad = []
    for _, c, new, old in _live(ctx):
        if not isinstance(new.get("work_order_id"), int) or not isinstance(new.get("satisfaction"), int):
            continue
        if _changed(c, new, old, "satisfaction", "needs_rework"):
            bad.append((c, new))
    if ctx.problems or not bad:
        return
    placeholders, params = in_list(sorted({new["work_order_id"] for _, new in bad}))
    orders = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT id, community_id, order_no, category, location, assignee_id, "
            "setting_int(?, community_id) FROM work_orders WHERE id IN " + placeholders,
            [BAD_VISIT_SETTING, *params],
        ).fetchall()
    }
    flagged = []
    for c, new in bad:
        if new["work_order_id"] not in orders:
            continue
        community, number, category, location, assignee, threshold = orders[new["work_order_id"]]
        if new["satisfaction"] <= (threshold if threshold is not None else 2) or new.get("needs_rework"):
            flagged.append((c, new, community, number, category, location, assignee))
    if not flagged:
        return
    ensure_ids(ctx)
    openings = []
    for c, new, community, number, category, location, assignee in flagged:
        on = _day(new.get("visited_at")) or ctx.db.now().date()
        why = "要求返修" if new.get("needs_rework") else f"不满意（{new['satisfaction']} 分）"
        comment = (new.get("comment") or "").strip()
        openings.append(Opening(
            "work_order_visits", c.row_id, community,
            f"报修单 {number}（{category}）回访{why}" + (f"：{comment}" if comment else ""),
            default_deadline(ctx, community, on), assignee, "维修", location, on,
        ))
    open_rectifications(ctx, openings)


# -- complaint hotspots ----------------------------------------------------------------------
@save_rule("complaints")
def hotspot_opens_rectification(ctx: SaveContext) -> None:
    """A valid complaint that brings its spot to complaint.hotspot_count [3] within
    complaint.hotspot_days [30] opens a rectification, unless one is open for that spot."""
    candidates = [
        (c, new) for _, c, new, old in _live(ctx)
        if new.get("is_valid") is not False and (new.get("location") or "").strip()
        and isinstance(new.get("community_id"), int) and isinstance(new.get("received_at"), datetime)
        and _changed(c, new, old, "location", "category", "is_valid", "received_at")
    ]
    if ctx.problems or not candidates:
        return
    touched = [c.row_id for _, c, _, _ in ctx.rows if c.row_id is not None]
    in_set = [new for _, c, new, _ in _live(ctx) if new.get("is_valid") is not False]
    spots_done: set[tuple] = set()
    openings: list[tuple[RowChange, dict]] = []
    for c, new in candidates:
        community, category, location = new["community_id"], new.get("category"), new["location"].strip()
        spot = (community, category, location)
        if spot in spots_done:
            continue
        day = new["received_at"].date()
        min_count, days = ctx.cur.execute(
            "SELECT setting_int('complaint.hotspot_count', ?), setting_int('complaint.hotspot_days', ?)",
            [community, community],
        ).fetchone()
        since = day - timedelta(days=int(days or 30))
        placeholders, params = in_list(touched or [-1])
        stored = ctx.cur.execute(
            "SELECT count(*) FROM complaints WHERE deleted_at IS NULL AND coalesce(is_valid, true) "
            "AND community_id = ? AND category = ? AND trim(location) = ? "
            "AND CAST(received_at AS DATE) > ? AND CAST(received_at AS DATE) <= ? AND id NOT IN " + placeholders,
            [community, category, location, since, day, *params],
        ).fetchone()[0]
        here = sum(
            1 for other in in_set
            if (other.get("community_id"), other.get("category"), (other.get("location") or "").strip()) == spot
            and isinstance(other.get("received_at"), datetime) and since < other["received_at"].date() <= day
        )
        if stored + here < int(min_count or 3):
            continue
        spots_done.add(spot)
        if not open_for_spot(ctx, community, category, location):
            openings.append((c, new))
    if not openings:
        return
    ensure_ids(ctx)
    open_rectifications(ctx, [
        Opening(
            "complaints", c.row_id, new["community_id"],
            f"投诉热点：{new['location'].strip()} {new.get('category')} 近 "
            f"{_hotspot_days(ctx, new['community_id'])} 天多次投诉（{(new.get('description') or '').strip()[:40]}）",
            default_deadline(ctx, new["community_id"], new["received_at"].date()),
            new.get("responsible_id"), COMPLAINT_AREA.get(new.get("category"), "其他"),
            new["location"].strip(), new["received_at"].date(),
        )
        for c, new in openings
    ])


def _hotspot_days(ctx: SaveContext, community: int) -> int:
    return int(ctx.cur.execute("SELECT setting_int('complaint.hotspot_days', ?)", [community]).fetchone()[0] or 30)


def open_for_spot(ctx: SaveContext, community: int, category: str, location: str) -> bool:
    """Whether a not yet verified rectification was opened from a complaint at this spot."""
    return bool(ctx.cur.execute(
        "SELECT count(*) FROM rectifications r JOIN complaints c ON c.id = r.source_id "
        "WHERE r.deleted_at IS NULL AND r.source = '投诉' AND r.status <> '已验证' "
        "AND c.community_id = ? AND c.category = ? AND trim(c.location) = ?",
        [community, category, location],
    ).fetchone()[0])


# -- fire checks -----------------------------------------------------------------------------
@save_rule("fire_checks")
def failed_fire_check_opens_rectification(ctx: SaveContext) -> None:
    """A fire check with result 不合格 opens a rectification for the checker to follow up."""
    failing = [
        (c, new) for _, c, new, old in _live(ctx)
        if new.get("result") == "不合格" and isinstance(new.get("fire_equipment_id"), int)
        and _changed(c, new, old, "result")
    ]
    if ctx.problems or not failing:
        return
    placeholders, params = in_list(sorted({new["fire_equipment_id"] for _, new in failing}))
    equipment = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT id, community_id, equip_no, type, location FROM fire_equipment WHERE id IN " + placeholders,
            params,
        ).fetchall()
    }
    ensure_ids(ctx)
    openings = []
    for c, new in failing:
        community, equip_no, type_, location = equipment[new["fire_equipment_id"]]
        on = new.get("checked_on") or ctx.db.now().date()
        findings = (new.get("findings") or "").strip()
        openings.append(Opening(
            "fire_checks", c.row_id, community,
            f"消防器材 {equip_no} {type_}{new.get('kind') or ''}不合格" + (f"：{findings}" if findings else ""),
            default_deadline(ctx, community, on), new.get("checked_by_id"), "消防", location, on,
        ))
    open_rectifications(ctx, openings)


# -- decoration violations -------------------------------------------------------------------
@save_rule("decoration_checks")
def decoration_violation_opens_rectification(ctx: SaveContext) -> None:
    """A decoration check with a violation not yet rectified opens a rectification (装修巡查)."""
    found = [
        (c, new) for _, c, new, old in _live(ctx)
        if ((new.get("violation") or "").strip() or new.get("violation_kind"))
        and new.get("rectified_on") is None and isinstance(new.get("decoration_id"), int)
        and _changed(c, new, old, "violation", "violation_kind")
    ]
    if ctx.problems or not found:
        return
    placeholders, params = in_list(sorted({new["decoration_id"] for _, new in found}))
    decorations = {
        r[0]: r[1:]
        for r in ctx.cur.execute(
            "SELECT d.id, h.community_id, " + label_sql(registers.get("households"), "h")
            + " FROM decorations d JOIN households h ON h.id = d.household_id WHERE d.id IN " + placeholders,
            params,
        ).fetchall()
    }
    ensure_ids(ctx)
    openings = []
    for c, new in found:
        if new["decoration_id"] not in decorations:
            continue
        community, household = decorations[new["decoration_id"]]
        on = new.get("checked_on") or ctx.db.now().date()
        what = "；".join(x for x in (new.get("violation_kind"), (new.get("violation") or "").strip()) if x)
        openings.append(Opening(
            "decoration_checks", c.row_id, community, f"装修违规（{household}）：{what}",
            new.get("deadline") or on + timedelta(days=deadline_days(ctx, community)),
            new.get("inspector_id"), "装修", household, on,
        ))
    open_rectifications(ctx, openings)


# -- security --------------------------------------------------------------------------------
@save_rule("patrols")
def patrol_ends_after_it_starts(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        start, end = new.get("started_at"), new.get("ended_at")
        if start and end and end < start:
            ctx.problem(i, c, "ended_at", "结束时间不能早于开始时间")


@save_rule("visitors")
def visitor_leaves_after_arriving(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        start, end = new.get("visited_at"), new.get("left_at")
        if start and end and end < start:
            ctx.problem(i, c, "left_at", "离开时间不能早于来访时间")


@save_rule("shifts")
def shift_has_a_post(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        if new.get("shift") != "休息" and not new.get("post"):
            ctx.problem(i, c, "post", "当班须选择岗位")
        if new.get("shift") == "休息" and new.get("post"):
            _set(c, new, "post", None)


@save_rule("monitor_logs")
def monitor_log_counts(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        total, offline = new.get("cameras_total"), new.get("cameras_offline")
        if total is not None and offline is not None and offline > total:
            ctx.problem(i, c, "cameras_offline", f"离线数不能大于摄像机总数 {total}")
        if new.get("second_operator_id") is not None and new.get("second_operator_id") == new.get("operator_id"):
            ctx.problem(i, c, "second_operator_id", "同班值班人不能与值班人相同")
        first = new.get("recording_from")
        if first and isinstance(new.get("logged_at"), datetime) and first > new["logged_at"].date():
            ctx.problem(i, c, "recording_from", "录像最早日期不能晚于记录时间")
