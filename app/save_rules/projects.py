"""Save rules of projects and vendors (issue 23 item 4): progress records move the project's
progress, a failed check or acceptance opens a rectification, a passed 竣工验收 needs every
rectification of the project verified and records the project as accepted; a vendor rating
becomes the vendor's current rating."""

from __future__ import annotations

from app.checks.rectifications import Opening, default_deadline, ensure_ids, open_rectifications
from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list, q


def _live(ctx: SaveContext):
    return [(i, c, new, old) for i, c, new, old in ctx.rows if c.action != "delete"]


def _ids(ctx: SaveContext, column: str) -> list[int]:
    found = {new.get(column) for _, _, new, _ in ctx.rows} | {old.get(column) for _, _, _, old in ctx.rows if old}
    return sorted(v for v in found if isinstance(v, int))


def _set(ctx: SaveContext, table: str, row_id: int, values: dict, note: str) -> None:
    """Write derived columns of another register's row, audited under this change set."""
    ctx.update(table, {row_id: values}, note, check_right=False)


def open_project_rectifications(cur, project_ids: list[int]) -> dict[int, int]:
    """project id -> rectifications opened by its checks that are not yet verified."""
    if not project_ids:
        return {}
    placeholders, params = in_list(project_ids)
    return dict(cur.execute(
        "SELECT k.project_id, count(*) FROM rectifications r JOIN project_checks k ON k.id = r.source_id "
        "WHERE r.deleted_at IS NULL AND r.source_table = 'project_checks' AND r.status <> '已验证' "
        "AND k.project_id IN " + placeholders + " GROUP BY k.project_id", params).fetchall())


def _dated(ctx: SaveContext, table: str, parent: str, parent_id: int, day: str, value: str) -> list[tuple]:
    """(day, id, value) of the parent's live records as they will be after this save (a new row
    sorts after a stored one of the same day); max() of them is the latest."""
    mine = {c.row_id for _, c, _, _ in ctx.rows if c.row_id is not None}
    stored = ctx.cur.execute(
        "SELECT id, " + q(day) + ", " + q(value) + " FROM " + q(table) + " WHERE deleted_at IS NULL AND "
        + q(parent) + " = ?", [parent_id]).fetchall()
    return [(on, rid, v) for rid, on, v in stored if rid not in mine] + [
        (new[day], c.row_id or 1 << 62, new[value]) for _, c, new, _ in _live(ctx) if new.get(parent) == parent_id]


@save_rule("project_progress")
def progress_follows_the_latest_record(ctx: SaveContext) -> None:
    if ctx.problems or ctx.history:
        return
    for project in _ids(ctx, "project_id"):
        records = _dated(ctx, "project_progress", "project_id", project, "reported_on", "progress")
        if records:
            _set(ctx, "projects", project, {"progress": max(records)[2]}, "按最新进度记录自动更新")


@save_rule("project_checks")
def checks_open_rectifications_and_accept(ctx: SaveContext) -> None:
    rows = _live(ctx)
    for i, c, new, _ in rows:
        if new.get("result") == "不合格" and not (new.get("defects") or "").strip():
            ctx.problem(i, c, "defects", "结论为不合格时须写明存在问题")
    placeholders, params = in_list(_ids(ctx, "project_id") or [-1])
    projects = {r[0]: r[1:] for r in ctx.cur.execute(
        "SELECT id, community_id, name, started_on FROM projects WHERE id IN " + placeholders, params).fetchall()}
    for i, c, new, _ in rows:
        started = projects.get(new.get("project_id"), (None, None, None))[2]
        if started and new.get("checked_on") and new["checked_on"] < started:
            ctx.problem(i, c, "checked_on", f"检查日期早于开工日期 {started:%Y-%m-%d}")
    if ctx.problems or ctx.history:
        return
    passing = [(i, c, new) for i, c, new, _ in rows if new.get("kind") == "竣工验收" and new.get("result") == "合格"]
    still_open = open_project_rectifications(ctx.cur, sorted({new["project_id"] for _, _, new in passing}))
    for i, c, new in passing:
        if still_open.get(new["project_id"]):
            ctx.problem(i, c, "result", f"工程还有 {still_open[new['project_id']]} 项整改未验证，不能验收合格")
    if ctx.problems:
        return
    failing = [(c, new) for _, c, new, old in rows if new.get("result") == "不合格"
               and (c.action == "insert" or (old or {}).get("result") != "不合格")]
    if failing:
        ensure_ids(ctx)
        openings = []
        for c, new in failing:
            community, name, _ = projects[new["project_id"]]
            openings.append(Opening(
                "project_checks", c.row_id, community, f"{new['kind']}不合格（{name}）：{new['defects'].strip()}",
                new.get("deadline") or default_deadline(ctx, community, new["checked_on"]),
                new.get("responsible_id"), "维修", None, new["checked_on"]))
        open_rectifications(ctx, openings)
    for _, _, new in passing:
        _set(ctx, "projects", new["project_id"], {"accepted_on": new["checked_on"], "progress": 100},
             "竣工验收合格自动填写")


@save_rule("vendor_ratings")
def rating_becomes_the_vendors(ctx: SaveContext) -> None:
    if ctx.problems or ctx.history:
        return
    for vendor in _ids(ctx, "vendor_id"):
        ratings = _dated(ctx, "vendor_ratings", "vendor_id", vendor, "rated_on", "rating")
        current = ctx.cur.execute("SELECT evaluated_on FROM vendors WHERE id = ?", [vendor]).fetchone()
        if ratings and (current is None or current[0] is None or max(ratings)[0] >= current[0]):
            on, _, rating = max(ratings)  # an older rating entered late leaves the current one
            _set(ctx, "vendors", vendor, {"rating": rating, "evaluated_on": on}, "按最新评价自动更新")
