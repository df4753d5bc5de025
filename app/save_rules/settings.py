"""Register-specific rules checked inside the save transaction (see `changes.save_rule`)."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal, InvalidOperation

from app.saving.changes import SaveContext, save_rule


@save_rule("settings")
def setting_value_has_its_type(ctx: SaveContext) -> None:
    """A parameter's value must parse as its declared type, or every rule view would fail."""
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            if new.get("community_id") is None:
                ctx.problem(i, c, None, "全局参数不能删除，可修改取值")
            continue
        value, kind = new.get("value"), new.get("value_type")
        if value is None:
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if kind == "整数" and (number is None or number != number.to_integral_value()):
            ctx.problem(i, c, "value", "应为整数")
        elif kind == "小数" and (number is None or not number.is_finite()):
            ctx.problem(i, c, "value", "应为数字")
        elif new.get("key") == "office.timezone" and value not in zoneinfo.available_timezones():
            ctx.problem(i, c, "value", "不是有效的时区名，例如 Asia/Shanghai")
