"""Save rules of 临时停车收费规则: a night band is all three of its fields, dates in order."""

from __future__ import annotations

from app.saving.changes import SaveContext, save_rule

NIGHT = ("night_from", "night_to", "night_per_hour")


@save_rule("parking_rules")
def parking_rule_rules(ctx: SaveContext) -> None:
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            continue
        given = [new.get(col) is not None for col in NIGHT]
        if any(given) and not all(given):
            ctx.problem(i, c, NIGHT[given.index(False)], "夜间开始、夜间结束和夜间每小时须同时填写（或都不填）")
        elif all(given) and new["night_from"] == new["night_to"]:
            ctx.problem(i, c, "night_to", "夜间结束不能与夜间开始相同")
        start, end = new.get("valid_from"), new.get("valid_to")
        if start and end and end < start:
            ctx.problem(i, c, "valid_to", "失效日期不能早于生效日期")
