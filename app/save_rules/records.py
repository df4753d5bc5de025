"""Save rules of the registers that complete the seed (issue 23): 不符合项 open rectifications, and a
vehicle's owner lives in its household."""

from __future__ import annotations

from app.checks.rectifications import Opening, default_deadline, ensure_ids, open_rectifications
from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list

RECTIFIED_SEVERITIES = ("严重不符合", "一般不符合")


def _live(ctx: SaveContext):
    return [(i, c, new, old) for i, c, new, old in ctx.rows if c.action != "delete"]


def _changed(c, new: dict, old: dict | None, *columns: str) -> bool:
    if c.action == "insert":
        return True
    return any(col in c.values and new.get(col) != (old or {}).get(col) for col in columns)


# -- 内审与管理评审 ---------------------------------------------------------------------------
@save_rule("audit_findings")
def finding_opens_rectification(ctx: SaveContext) -> None:
    """A 严重 or 一般 non-conformity opens a rectification (source 内审), as a failed inspection does."""
    opening = [(c, new) for _, c, new, old in _live(ctx)
               if new.get("severity") in RECTIFIED_SEVERITIES and _changed(c, new, old, "severity")
               and isinstance(new.get("community_id"), int)]
    if ctx.problems or not opening:
        return
    ensure_ids(ctx)
    openings = []
    for c, new in opening:
        on = new.get("found_on") or ctx.db.now().date()
        clause = f"，条款 {new['clause']}" if new.get("clause") else ""
        openings.append(Opening(
            "audit_findings", c.row_id, new["community_id"],
            f"{new['severity']}{clause}：{new['description'].strip()}",
            new.get("deadline") or default_deadline(ctx, new["community_id"], on),
            new.get("responsible_id"), new.get("area") or "其他", None, on,
        ))
    open_rectifications(ctx, openings)


# -- 车辆登记 ---------------------------------------------------------------------------------
@save_rule("vehicles")
def vehicle_owner_lives_there(ctx: SaveContext) -> None:
    """The owner is a person of the vehicle's household, and the household is in its 小区."""
    rows = [(i, c, new) for i, c, new, _ in _live(ctx) if isinstance(new.get("household_id"), int)]
    if not rows:
        return
    placeholders, params = in_list(sorted({new["household_id"] for _, _, new in rows}))
    community_of = dict(ctx.cur.execute(
        "SELECT id, community_id FROM households WHERE id IN " + placeholders, params).fetchall())
    owners = {new["owner_id"] for _, _, new in rows if isinstance(new.get("owner_id"), int)}
    home_of = {}
    if owners:
        placeholders, params = in_list(sorted(owners))
        home_of = dict(ctx.cur.execute(
            "SELECT id, household_id FROM owners WHERE id IN " + placeholders, params).fetchall())
    for i, c, new in rows:
        if community_of.get(new["household_id"]) not in (None, new.get("community_id")):
            ctx.problem(i, c, "household_id", "房屋不在所选小区")
        owner = new.get("owner_id")
        if isinstance(owner, int) and home_of.get(owner) not in (None, new["household_id"]):
            ctx.problem(i, c, "owner_id", "车主不是该房屋的业主或住户")
