"""Save rules of 公摊表计读数: a shared meter's reading is billed by a 公摊 fee item of its own
community, over a building of that community, and never goes down (the bill run then bills every
reading it is given)."""

from __future__ import annotations

from app.saving.changes import SaveContext, save_rule


@save_rule("shared_meter_readings")
def shared_meter_rules(ctx: SaveContext) -> None:
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            continue
        prev, curr = new.get("prev_reading"), new.get("curr_reading")
        if prev is not None and curr is not None and curr < prev:
            ctx.problem(i, c, "curr_reading", f"本期读数 {curr} 小于上期读数 {prev}：公摊表计读数不能倒退，请核对")
        item = ctx.cur.execute("SELECT community_id, method FROM fee_items WHERE id = ?",
                               [new.get("fee_item_id")]).fetchone()
        if item is not None and item[1] != "公摊":
            ctx.problem(i, c, "fee_item_id", "请选择计费方式为「公摊」的收费项目")
        elif item is not None and item[0] != new.get("community_id"):
            ctx.problem(i, c, "fee_item_id", "收费项目不属于这个小区")
        if new.get("building_id") is not None:
            building = ctx.cur.execute("SELECT community_id FROM buildings WHERE id = ?",
                                       [new["building_id"]]).fetchone()
            if building is not None and building[0] != new.get("community_id"):
                ctx.problem(i, c, "building_id", "楼栋不属于这个小区")
