"""Save rules of 装修与停车, move-in, vacant units and emergencies, for every entry path.

- decorations: documents complete before approval (建设部令第110号), one active decoration per
  household, the workflow only moves forward (except 待验收 -> 施工中), no acceptance or refund
  while a violation is open; works starting make the household 装修中 and acceptance gives its
  status back (side effects, audited).
- deposits: a 装修保证金 belongs to a decoration of the same household; refunding it deducts the
  decoration's penalties, and once all its deposits are refunded the decoration becomes
  已退保证金 (side effect in the same transaction, audited).
- decoration_checks: a violation is spelled out (kind and text); penalties and deadlines only
  with a violation.
- parking: plates normalised; one open stay per plate; temporary or not from the space register.
- move_ins: completed only with every item done; completing fills the household's move-in date.
- keys, incidents, emergency plans: times in order, one open loan per key.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from app import registers
from app.estate.decoration import ACTIVE, STATUSES, is_violation, missing_documents
from app.estate.occupancy import MOVE_IN_ITEMS
from app.estate.parking import normal_plate
from app.save_rules.workflow import refused
from app.saving.changes import RowChange, SaveContext, save_rule
from app.storage.db import in_list


def _live(ctx: SaveContext):
    return [(i, c, new, old) for i, c, new, old in ctx.rows if c.action != "delete"]


def _set(c: RowChange, new: dict, column: str, value) -> None:
    new[column] = value
    c.values[column] = value


def _touched_ids(ctx: SaveContext) -> list[int]:
    return [c.row_id for _, c, _, _ in ctx.rows if c.action != "insert" and c.row_id is not None] or [-1]


def _open_violations(ctx: SaveContext, decoration_ids: list[int]) -> dict[int, int]:
    if not decoration_ids:
        return {}
    placeholders, params = in_list(decoration_ids)
    return dict(ctx.cur.execute(
        "SELECT decoration_id, count(*) FROM decoration_checks WHERE deleted_at IS NULL "
        "AND violation IS NOT NULL AND rectified_on IS NULL AND decoration_id IN " + placeholders
        + " GROUP BY decoration_id", params,
    ).fetchall())


# -- decorations ------------------------------------------------------------------------------
@save_rule("decorations")
def decoration_workflow(ctx: SaveContext) -> None:
    today = ctx.db.now().date()
    rank = {s: n for n, s in enumerate(STATUSES)}
    reaching_acceptance: list[tuple[int, RowChange, int]] = []
    reaching_refund: list[tuple[int, RowChange, int]] = []
    for i, c, new, old in _live(ctx):
        before = old.get("status") if old else None
        after = new.get("status")
        if after not in rank:
            continue
        moved = c.action == "insert" or after != before
        if refused(ctx, i, c):  # the moves are the definition's [workflow]
            continue
        start, end = new.get("planned_start_on"), new.get("planned_end_on")
        if start and end and end < start:
            ctx.problem(i, c, "planned_end_on", "计划完工日期不能早于计划开工日期")
        if rank[after] >= rank["已批准"]:
            missing = missing_documents(new)
            if missing and (moved or any(k in c.values for k in ("applicant_role", "contractor", "structural_change"))
                            or any(k.startswith("doc_") or k == "agreement_signed" for k in c.values)):
                ctx.problem(i, c, "status", "申报材料不全，不能批准：缺" + "、".join(missing))
                continue
            if new.get("approved_by_id") is None:
                ctx.problem(i, c, "approved_by_id", "批准须填写审批人")
            if new.get("approved_on") is None:
                _set(c, new, "approved_on", today)
            applied = new.get("applied_on")
            if applied and new["approved_on"] < applied:
                ctx.problem(i, c, "approved_on", f"批准日期早于申请日期 {applied:%Y-%m-%d}")
        if rank[after] >= rank["已验收"]:
            if new.get("accepted_on") is None:
                _set(c, new, "accepted_on", today)
            if new.get("approved_on") and new["accepted_on"] < new["approved_on"]:
                ctx.problem(i, c, "accepted_on", f"验收日期早于批准日期 {new['approved_on']:%Y-%m-%d}")
            if moved and (before is None or rank[before] < rank["已验收"]) and c.row_id is not None:
                reaching_acceptance.append((i, c, c.row_id))
        if after == "已退保证金" and moved and c.row_id is not None:
            reaching_refund.append((i, c, c.row_id))
    _one_active_per_household(ctx)
    ids = sorted({d for _, _, d in reaching_acceptance + reaching_refund})
    open_ = _open_violations(ctx, ids)
    for i, c, did in reaching_acceptance:
        if open_.get(did):
            ctx.problem(i, c, "status", f"尚有 {open_[did]} 项违规未整改，整改后才能验收")
    refund_ids = [d for _, _, d in reaching_refund]
    if refund_ids:
        placeholders, params = in_list(refund_ids)
        unrefunded = dict(ctx.cur.execute(
            "SELECT decoration_id, count(*) FROM deposits WHERE deleted_at IS NULL AND refunded_on IS NULL "
            "AND kind = '装修保证金' AND decoration_id IN " + placeholders + " GROUP BY decoration_id", params,
        ).fetchall())
        for i, c, did in reaching_refund:
            if open_.get(did) and not any(x[2] == did for x in reaching_acceptance):
                ctx.problem(i, c, "status", f"尚有 {open_[did]} 项违规未整改，不能退还保证金")
            elif unrefunded.get(did):
                ctx.problem(i, c, "status",
                            "保证金尚未退还：请在装修办理页面办理退还（或在押金与保证金台账填写退还日期）")


WORKS_STARTED, WORKS_ACCEPTED = "装修开工自动更新", "装修验收自动更新"  # audit notes of the side effects


@save_rule("decorations")
def household_under_works(ctx: SaveContext) -> None:
    """Works starting (施工中) mark the household 装修中; acceptance (已验收) gives it back the status
    it had when the works started (from that side effect's audit row; else 已入住 if someone moved
    in, 空置 if not). Audited side effects in the same transaction; not for history imports."""
    if ctx.problems or ctx.history:
        return
    starting, ending = set(), set()
    for _, _, new, old in _live(ctx):
        before, after = (old or {}).get("status"), new.get("status")
        if after == "施工中" and before not in ("施工中", "待验收"):
            starting.add(new["household_id"])
        elif after == "已验收" and before in ("施工中", "待验收"):
            ending.add(new["household_id"])
    if not starting and not ending:
        return
    placeholders, params = in_list(sorted(starting | ending))
    current = {r[0]: r[1:] for r in ctx.cur.execute(
        "SELECT id, status, move_in_date FROM households WHERE id IN " + placeholders, params).fetchall()}
    moves = {h: "装修中" for h in starting if current.get(h, (None,))[0] != "装修中"}
    moves |= {h: _status_before_works(ctx, h) or ("已入住" if current[h][1] else "空置")
              for h in ending if current.get(h, (None,))[0] == "装修中"}
    if not moves:
        return
    by_note: dict[str, dict[int, dict]] = defaultdict(dict)
    for h, status in moves.items():
        by_note[WORKS_STARTED if status == "装修中" else WORKS_ACCEPTED][h] = {"status": status}
    for note, values in by_note.items():
        ctx.update("households", values, note)


def _status_before_works(ctx: SaveContext, household_id: int) -> str | None:
    found = ctx.cur.execute(
        "SELECT old_values FROM audit_log WHERE register = 'households' AND row_id = ? AND note = ? "
        "ORDER BY id DESC LIMIT 1", [household_id, WORKS_STARTED]).fetchone()
    status = json.loads(found[0]).get("status") if found and found[0] else None
    return status if status in registers.get("households").field("status").values else None


def _one_active_per_household(ctx: SaveContext) -> None:
    active = [(i, c, new) for i, c, new, _ in _live(ctx)
              if new.get("status") in ACTIVE and isinstance(new.get("household_id"), int)]
    if not active:
        return
    households = sorted({new["household_id"] for _, _, new in active})
    placeholders, params = in_list(households)
    others = defaultdict(list)
    touched = _touched_ids(ctx)
    for hid, did, status, code in ctx.cur.execute(
        "SELECT d.household_id, d.id, d.status, h.code FROM decorations d JOIN households h ON h.id = d.household_id "
        "WHERE d.deleted_at IS NULL AND d.status IN " + in_list(ACTIVE)[0] + " AND d.household_id IN " + placeholders
        + " AND d.id NOT IN " + in_list(touched)[0],
        [*ACTIVE, *params, *touched],
    ).fetchall():
        others[hid].append((did, status, code))
    seen: dict[int, int] = {}
    for i, c, new in active:
        hid = new["household_id"]
        if others.get(hid):
            did, status, code = others[hid][0]
            ctx.problem(i, c, "household_id",
                        f"房屋 {code} 已有一项未完成的装修（编号 {did}，{status}），每户同时只能有一项装修")
        elif hid in seen:
            ctx.problem(i, c, "household_id", "本次提交中同一房屋有两项未完成的装修")
        seen[hid] = i


# -- deposits -----------------------------------------------------------------------------------
@save_rule("deposits")
def decoration_deposit_refund(ctx: SaveContext) -> None:
    """A 装修保证金 names its decoration; refunding it deducts penalties and closes the decoration."""
    rows = _live(ctx)
    for i, c, new, _ in rows:
        amount, deducted = new.get("amount"), new.get("deducted") or Decimal(0)
        if isinstance(amount, Decimal) and deducted > amount:
            ctx.problem(i, c, "deducted", "扣除金额不能大于收取金额")
        received, refunded = new.get("received_on"), new.get("refunded_on")
        if received and refunded and refunded < received:
            ctx.problem(i, c, "refunded_on", "退还日期不能早于收取日期")
        if new.get("kind") == "装修保证金" and new.get("decoration_id") is None:
            ctx.problem(i, c, "decoration_id", "装修保证金须选择装修登记")
    ids = sorted({new["decoration_id"] for _, _, new, _ in rows if isinstance(new.get("decoration_id"), int)})
    if not ids:
        return
    placeholders, params = in_list(ids)
    decorations = {r[0]: r[1:] for r in ctx.cur.execute(
        "SELECT id, household_id, status, row_version FROM decorations WHERE id IN " + placeholders, params
    ).fetchall()}
    penalties = dict(ctx.cur.execute(
        "SELECT decoration_id, sum(penalty) FROM decoration_checks WHERE deleted_at IS NULL "
        "AND decoration_id IN " + placeholders + " GROUP BY decoration_id", params,
    ).fetchall())
    touched = _touched_ids(ctx)
    already = dict(ctx.cur.execute(
        "SELECT decoration_id, sum(deducted) FROM deposits WHERE deleted_at IS NULL AND refunded_on IS NOT NULL "
        "AND decoration_id IN " + placeholders + " AND id NOT IN " + in_list(touched)[0]
        + " GROUP BY decoration_id", [*params, *touched],
    ).fetchall())
    open_ = _open_violations(ctx, ids)
    refunding: set[int] = set()
    for i, c, new, old in rows:
        did = new.get("decoration_id")
        if did not in decorations:
            continue
        household, status, _ = decorations[did]
        if new.get("household_id") != household:
            ctx.problem(i, c, "decoration_id", "装修登记不属于这户房屋")
            continue
        newly_refunded = new.get("refunded_on") is not None and (old is None or old.get("refunded_on") is None)
        if not newly_refunded or new.get("kind") != "装修保证金":
            continue
        if status not in ("已验收", "已退保证金"):
            ctx.problem(i, c, "refunded_on", f"装修尚未验收（{status}），不能退还保证金")
            continue
        if open_.get(did):
            ctx.problem(i, c, "refunded_on", f"尚有 {open_[did]} 项违规未整改，不能退还保证金")
            continue
        # Penalties not yet deducted on an earlier refund come off this deposit.
        owed = max(Decimal(penalties.get(did) or 0) - Decimal(already.get(did) or 0), Decimal(0))
        least = min(owed, new.get("amount") or Decimal(0))
        if (new.get("deducted") or Decimal(0)) < least:
            _set(c, new, "deducted", least)
        already[did] = Decimal(already.get(did) or 0) + new["deducted"]
        refunding.add(did)
    if ctx.problems or not refunding:
        return
    _close_refunded_decorations(ctx, sorted(refunding), decorations)


def _close_refunded_decorations(ctx: SaveContext, ids: list[int], decorations: dict) -> None:
    placeholders, params = in_list(ids)
    touched = _touched_ids(ctx)
    still_open = {r[0] for r in ctx.cur.execute(
        "SELECT DISTINCT decoration_id FROM deposits WHERE deleted_at IS NULL AND refunded_on IS NULL "
        "AND kind = '装修保证金' AND decoration_id IN " + placeholders + " AND id NOT IN " + in_list(touched)[0],
        [*params, *touched],
    ).fetchall()}
    still_open |= {new["decoration_id"] for _, _, new, _ in _live(ctx)
                   if new.get("kind") == "装修保证金" and new.get("refunded_on") is None}
    closing = [d for d in ids if d not in still_open and decorations[d][1] == "已验收"]
    if not closing:
        return
    ctx.update("decorations", {d: {"status": "已退保证金"} for d in closing}, "保证金退还后自动更新",
               where="status = ?", params=["已验收"])


# -- decoration checks and workers --------------------------------------------------------------
@save_rule("decoration_checks")
def violation_is_spelled_out(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        text = (new.get("violation") or "").strip() or None
        if text != new.get("violation"):
            _set(c, new, "violation", text)
        if is_violation(new):
            if new.get("violation_kind") is None:
                _set(c, new, "violation_kind", "其他")
            if new.get("violation") is None:
                _set(c, new, "violation", new["violation_kind"])
        else:
            if (new.get("penalty") or 0) > 0:
                ctx.problem(i, c, "penalty", "罚款须对应违规情况，请填写违规类别或违规情况")
            for col in ("deadline", "rectified_on"):
                if new.get(col) is not None:
                    ctx.problem(i, c, col, "没有违规，不需要整改")
        checked = new.get("checked_on")
        for col in ("deadline", "rectified_on"):
            if checked and new.get(col) and new[col] < checked:
                ctx.problem(i, c, col, f"不能早于巡查日期 {checked:%Y-%m-%d}")


@save_rule("decoration_workers")
def worker_pass(ctx: SaveContext) -> None:
    rows = _live(ctx)
    ids = sorted({new["decoration_id"] for _, _, new, _ in rows if isinstance(new.get("decoration_id"), int)})
    if not ids:
        return
    placeholders, params = in_list(ids)
    status = dict(ctx.cur.execute("SELECT id, status FROM decorations WHERE id IN " + placeholders, params).fetchall())
    numbers = defaultdict(int)
    for did, n in ctx.cur.execute(
        "SELECT decoration_id, count(*) FROM decoration_workers WHERE decoration_id IN " + placeholders
        + " GROUP BY decoration_id", params,
    ).fetchall():
        numbers[did] = n
    for i, c, new, _ in rows:
        did = new.get("decoration_id")
        if did not in status:
            continue
        if c.action == "insert" and status[did] == "申请":
            ctx.problem(i, c, "decoration_id", "装修尚未批准，只有已批准的装修才能办理出入证")
        issued, until = new.get("issued_on"), new.get("valid_until")
        if issued and until and until < issued:
            ctx.problem(i, c, "valid_until", "有效期不能早于发证日期")
        if not (new.get("pass_no") or "").strip():
            numbers[did] += 1
            _set(c, new, "pass_no", f"ZX-{did}-{numbers[did]:02d}")


# -- parking ------------------------------------------------------------------------------------
@save_rule("parking_spaces")
def parking_space_lease(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        plate = normal_plate(new.get("plate"))
        if plate != new.get("plate"):
            _set(c, new, "plate", plate)
        start, end = new.get("lease_start_on"), new.get("lease_end_on")
        if start and end and end < start:
            ctx.problem(i, c, "lease_end_on", "租期结束不能早于租期开始")
        if new.get("kind") == "租赁" and new.get("household_id") is not None and end is None:
            ctx.problem(i, c, "lease_end_on", "租赁车位须填写租期结束日期")
        if new.get("kind") == "临时" and (new.get("household_id") is not None or plate):
            ctx.problem(i, c, "kind", "临时车位不登记固定房屋和车牌；租给业主的请改为“租赁”")


@save_rule("parking_events")
def parking_stay(ctx: SaveContext) -> None:
    rows = _live(ctx)
    for i, c, new, _ in rows:
        plate = normal_plate(new.get("plate"))
        if plate != new.get("plate"):
            _set(c, new, "plate", plate)
        entered, exited = new.get("entered_at"), new.get("exited_at")
        if isinstance(entered, datetime) and isinstance(exited, datetime) and exited < entered:
            ctx.problem(i, c, "exited_at", "出场时间不能早于入场时间")
    keyed = [(i, c, new) for i, c, new, _ in rows
             if isinstance(new.get("community_id"), int) and new.get("plate")]
    if not keyed:
        return
    plates = sorted({new["plate"] for _, _, new in keyed})
    placeholders, params = in_list(plates)
    spaces = {(r[0], r[1]): r[2] for r in ctx.cur.execute(
        "SELECT community_id, plate, min(id) FROM parking_spaces WHERE deleted_at IS NULL AND kind <> '临时' "
        "AND plate IN " + placeholders + " GROUP BY community_id, plate", params,
    ).fetchall()}
    touched = _touched_ids(ctx)
    open_stays = {(r[0], r[1]): r[2] for r in ctx.cur.execute(
        "SELECT community_id, plate, min(entered_at) FROM parking_events WHERE deleted_at IS NULL "
        "AND exited_at IS NULL AND plate IN " + placeholders + " AND id NOT IN " + in_list(touched)[0]
        + " GROUP BY community_id, plate", [*params, *touched],
    ).fetchall()}
    for i, c, new in keyed:
        key = (new["community_id"], new["plate"])
        if new.get("is_temporary") is None:
            _set(c, new, "is_temporary", key not in spaces)
        if new.get("parking_space_id") is None and key in spaces:
            _set(c, new, "parking_space_id", spaces[key])
        if new.get("exited_at") is None:
            if key in open_stays:
                ctx.problem(i, c, "plate", f"车辆 {new['plate']} 已于 {open_stays[key]:%m-%d %H:%M} 入场，尚未出场")
            open_stays[key] = new.get("entered_at")


# -- move-in, vacant units, keys ----------------------------------------------------------------
@save_rule("move_ins")
def move_in_completion(ctx: SaveContext) -> None:
    completing = []
    for i, c, new, old in _live(ctx):
        done = new.get("completed_on")
        if done is None:
            continue
        missing = [ctx.register.label_of(col) for col in MOVE_IN_ITEMS if not new.get(col)]
        if missing:
            ctx.problem(i, c, "completed_on", "尚未完成：" + "、".join(missing))
            continue
        if new.get("started_on") and done < new["started_on"]:
            ctx.problem(i, c, "completed_on", "办结日期不能早于开始办理日期")
            continue
        if old is None or old.get("completed_on") is None:
            completing.append((new["household_id"], done))
    if ctx.problems or not completing:
        return
    ids = sorted({h for h, _ in completing})
    placeholders, params = in_list(ids)
    current = {r[0]: r[1:] for r in ctx.cur.execute(
        "SELECT id, status, move_in_date FROM households WHERE id IN " + placeholders, params).fetchall()}
    changes: dict[int, dict] = {}
    for hid, done in completing:
        status, moved_in = current.get(hid, (None, None))
        change = {}
        if moved_in is None:
            change["move_in_date"] = done
        if status == "空置":
            change["status"] = "已入住"
        if change:
            changes[hid] = change
    ctx.update("households", changes, "入住手续办结自动更新")


@save_rule("keys")
def one_open_loan_per_key(ctx: SaveContext) -> None:
    rows = _live(ctx)
    for i, c, new, _ in rows:
        out, back = new.get("borrowed_at"), new.get("returned_at")
        if isinstance(out, datetime) and isinstance(back, datetime) and back < out:
            ctx.problem(i, c, "returned_at", "归还时间不能早于借出时间")
    lending = [(i, c, new) for i, c, new, _ in rows
               if new.get("returned_at") is None and isinstance(new.get("household_id"), int)]
    if not lending:
        return
    placeholders, params = in_list(sorted({new["household_id"] for _, _, new in lending}))
    touched = _touched_ids(ctx)
    out = {(r[0], r[1]): r[2] for r in ctx.cur.execute(
        "SELECT household_id, coalesce(key_no, ''), max(holder) FROM keys WHERE deleted_at IS NULL "
        "AND returned_at IS NULL AND household_id IN " + placeholders + " AND id NOT IN " + in_list(touched)[0]
        + " GROUP BY household_id, coalesce(key_no, '')", [*params, *touched],
    ).fetchall()}
    for i, c, new in lending:
        key = (new["household_id"], new.get("key_no") or "")
        if key in out:
            ctx.problem(i, c, "holder", f"这把钥匙已借给 {out[key]}，尚未归还")
        out[key] = new.get("holder")


# -- emergencies --------------------------------------------------------------------------------
@save_rule("incidents")
def incident_clock(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        occurred = new.get("occurred_at")
        if not isinstance(occurred, datetime):
            continue
        for col in ("responded_at", "resolved_at", "owners_notified_at"):
            value = new.get(col)
            if isinstance(value, datetime) and value < occurred:
                ctx.problem(i, c, col, f"不能早于发生时间 {occurred:%Y-%m-%d %H:%M}")
        responded, resolved = new.get("responded_at"), new.get("resolved_at")
        if isinstance(responded, datetime) and isinstance(resolved, datetime) and resolved < responded:
            ctx.problem(i, c, "resolved_at", f"不能早于响应时间 {responded:%Y-%m-%d %H:%M}")


@save_rule("emergency_plans")
def plan_review_after_issue(ctx: SaveContext) -> None:
    for i, c, new, _ in _live(ctx):
        issued, review = new.get("approved_on"), new.get("review_due_on")
        if isinstance(issued, date) and isinstance(review, date) and review < issued:
            ctx.problem(i, c, "review_due_on", "复审日期不能早于发布日期")
