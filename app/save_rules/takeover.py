"""Save rules of 承接查验 (taking over a new estate or building): a defect opens a rectification,
and the take-over cannot be accepted while any of its defects is not rectified and verified."""

from __future__ import annotations

from app.checks.rectifications import Opening, default_deadline, ensure_ids, open_rectifications
from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list

# Defect kind -> the inspection area of its rectification.
AREA_OF_KIND = {"给排水": "设备", "电气": "设备", "电梯": "设备", "智能化": "设备", "消防": "消防", "绿化": "绿化"}
ACCEPTED = "已接管"


def _live(ctx: SaveContext):
    return [(i, c, new, old) for i, c, new, old in ctx.rows if c.action != "delete"]


def open_defects(cur, takeover_ids: list[int]) -> dict[int, int]:
    """takeover id -> how many of its defects have no verified rectification yet."""
    if not takeover_ids:
        return {}
    placeholders, params = in_list(sorted(set(takeover_ids)))
    return dict(cur.execute(
        "SELECT d.takeover_id, count(*) FROM takeover_defects d "
        "WHERE d.deleted_at IS NULL AND d.takeover_id IN " + placeholders + " AND NOT EXISTS ("
        "SELECT 1 FROM rectifications r WHERE r.deleted_at IS NULL AND r.source_table = 'takeover_defects' "
        "AND r.source_id = d.id AND r.status = '已验证') GROUP BY d.takeover_id", params).fetchall())


@save_rule("takeovers")
def acceptance_needs_every_defect_closed(ctx: SaveContext) -> None:
    """已接管 needs the acceptance record (who, 同意接管, date) and no open defect; the building is in the 小区."""
    rows = _live(ctx)
    buildings = {new["building_id"] for _, _, new, _ in rows if isinstance(new.get("building_id"), int)}
    community_of = {}
    if buildings:
        placeholders, params = in_list(sorted(buildings))
        community_of = dict(ctx.cur.execute(
            "SELECT id, community_id FROM buildings WHERE id IN " + placeholders, params).fetchall())
    for i, c, new, _ in rows:
        if community_of.get(new.get("building_id")) not in (None, new.get("community_id")):
            ctx.problem(i, c, "building_id", "楼栋不在所选小区")
    accepting = [(i, c, new) for i, c, new, _ in rows if new.get("status") == ACCEPTED]
    for i, c, new in accepting:
        missing = [label for col, label in (("accepted_by_id", "验收人"), ("accepted_on", "验收日期"))
                   if new.get(col) is None]
        if missing:
            ctx.problem(i, c, "status", "验收接管须填写" + "、".join(missing))
        if new.get("result") != "同意接管":
            ctx.problem(i, c, "result", "验收结论为“同意接管”才能改为已接管")
    if ctx.history:
        return
    still_open = open_defects(ctx.cur, [c.row_id for _, c, _ in accepting if c.row_id is not None])
    for i, c, _ in accepting:
        if still_open.get(c.row_id):
            ctx.problem(i, c, "status", f"还有 {still_open[c.row_id]} 项查验问题未整改验证，不能验收接管")


@save_rule("takeover_defects")
def defect_opens_rectification(ctx: SaveContext) -> None:
    """Every new defect opens a rectification (source 承接查验) with the defect's deadline."""
    rows = [(i, c, new) for i, c, new, _ in _live(ctx) if isinstance(new.get("takeover_id"), int)]
    if not rows:
        return
    placeholders, params = in_list(sorted({new["takeover_id"] for _, _, new in rows}))
    takeovers = {r[0]: r[1:] for r in ctx.cur.execute(
        "SELECT id, community_id, status FROM takeovers WHERE deleted_at IS NULL AND id IN " + placeholders,
        params).fetchall()}
    items = {new["item_id"] for _, _, new in rows if isinstance(new.get("item_id"), int)}
    item_of = {}
    if items:
        placeholders, params = in_list(sorted(items))
        item_of = dict(ctx.cur.execute(
            "SELECT id, takeover_id FROM takeover_items WHERE id IN " + placeholders, params).fetchall())
    for i, c, new in rows:
        if item_of.get(new.get("item_id")) not in (None, new["takeover_id"]):
            ctx.problem(i, c, "item_id", "查验项目不属于这次承接查验")
    inserted = [(c, new) for _, c, new in rows if c.action == "insert" and new["takeover_id"] in takeovers]
    if ctx.problems or not inserted:
        return
    ensure_ids(ctx)
    openings = []
    for c, new in inserted:
        community_id = takeovers[new["takeover_id"]][0]
        openings.append(Opening(
            "takeover_defects", c.row_id, community_id,
            f"承接查验问题（责任单位：{new['responsible_party'].strip()}）：{new['description'].strip()}",
            new.get("deadline") or default_deadline(ctx, community_id, new["found_on"]),
            new.get("follow_up_id"), AREA_OF_KIND.get(new.get("kind"), "其他"), new.get("location"),
            new["found_on"],
        ))
    open_rectifications(ctx, openings)
