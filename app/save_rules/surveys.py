"""Rules of the survey registers: a corrective measure opens its rectification (整改)."""

from __future__ import annotations

from app import registers
from app.checks.rectifications import Opening, default_deadline, ensure_ids, open_rectifications
from app.saving.changes import SaveContext, save_rule

# Survey dimension -> the rectification's inspection area.
AREA_OF_DIMENSION = {"保洁": "清洁消杀", "保安": "保安", "维修": "维修", "绿化": "绿化",
                     "客服": "客服", "收费": "客服", "整体": "其他"}


@save_rule("survey_measures")
def corrective_measure_opens_rectification(ctx: SaveContext) -> None:
    """A new 纠正措施 without a rectification gets one (responsible, deadline), linked back."""
    if "rectifications" not in registers.catalog():
        return
    new_rows = [(c, new) for _, c, new, _ in ctx.rows
                if c.action == "insert" and new.get("kind") == "纠正措施" and not new.get("rectification_id")
                and isinstance(new.get("survey_id"), int)]
    if not new_rows or ctx.problems:
        return
    ensure_ids(ctx)
    openings = []
    for c, new in new_rows:
        survey = ctx.cur.execute("SELECT community_id, title FROM surveys WHERE id = ?",
                                 [new["survey_id"]]).fetchone()
        if survey is None:
            continue
        cid, title = survey
        today = ctx.db.now().date()
        openings.append((new, Opening(
            source_table="survey_measures", source_id=c.row_id, community_id=cid,
            issue=f"调查「{title}」：{new.get('issue')}；措施：{new.get('measure')}",
            deadline=new.get("due_on") or default_deadline(ctx, cid, today),
            responsible_id=new.get("responsible_id"),
            area=AREA_OF_DIMENSION.get(new.get("dimension") or "", "其他"), opened_on=today)))
    ids = open_rectifications(ctx, [o for _, o in openings])
    for (new, _), rid in zip(openings, ids):
        new["rectification_id"] = rid
