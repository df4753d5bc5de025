"""Save rules of 档案与公文 (借阅制度, 通告) and of attachments (the scans and photos of any row)."""

from __future__ import annotations

from datetime import date

from app import registers
from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list, q

OPEN_END = date.max


@save_rule("archive_loans")
def archive_loan_rules(ctx: SaveContext) -> None:
    """Dates in order; 保密 needs an approver; one loan at a time per archive (returned before lent)."""
    rows = [(i, c, new) for i, c, new, _ in ctx.rows if c.action != "delete"]
    for i, c, new in rows:
        borrowed, due, returned = new.get("borrowed_on"), new.get("due_on"), new.get("returned_on")
        if borrowed and due and due < borrowed:
            ctx.problem(i, c, "due_on", "应还日期不能早于借出日期")
        if borrowed and returned and returned < borrowed:
            ctx.problem(i, c, "returned_on", "归还日期不能早于借出日期")
    archive_ids = sorted(
        {new["archive_id"] for _, _, new in rows if isinstance(new.get("archive_id"), int)}
    )
    if not archive_ids:
        return
    archives = {
        r[0]: (f"{r[1]} {r[2]}", r[3])
        for r in ctx.cur.execute(
            "SELECT id, archive_no, title, confidentiality FROM archives WHERE id IN "
            + in_list(archive_ids)[0],
            in_list(archive_ids)[1],
        ).fetchall()
    }
    for i, c, new in rows:
        if c.action == "update" and not {"archive_id", "approved_by_id"} & set(c.values):
            continue
        label, secrecy = archives.get(new.get("archive_id"), ("", None))
        if secrecy == "保密" and new.get("approved_by_id") is None:
            ctx.problem(i, c, "approved_by_id", f"「{label}」为保密档案，借阅须填写审批人")

    # Loans of one archive must not overlap; an unreturned loan lasts until it is returned.
    touched = [c.row_id for _, c, _, _ in ctx.rows if c.action != "insert" and c.row_id is not None]
    periods: dict[int, list[tuple[date, date, str, bool]]] = {}
    for archive_id, borrower, borrowed, returned in ctx.cur.execute(
        "SELECT archive_id, borrower, borrowed_on, returned_on FROM archive_loans "
        "WHERE deleted_at IS NULL AND archive_id IN " + in_list(archive_ids)[0]
        + " AND id NOT IN " + in_list(touched or [-1])[0] + " ORDER BY borrowed_on",
        [*in_list(archive_ids)[1], *in_list(touched or [-1])[1]],
    ).fetchall():
        periods.setdefault(archive_id, []).append(
            (borrowed, returned or OPEN_END, borrower, returned is None)
        )
    checked = []
    for i, c, new in rows:
        archive_id, borrowed = new.get("archive_id"), new.get("borrowed_on")
        if archive_id not in archives or borrowed is None:
            continue
        end = new.get("returned_on") or OPEN_END
        if c.action == "update" and not {"archive_id", "borrowed_on", "returned_on"} & set(
            c.values
        ):
            periods.setdefault(archive_id, []).append(
                (borrowed, end, new.get("borrower"), end == OPEN_END)
            )
        else:
            checked.append((i, c, new, archive_id, borrowed, end))
    for i, c, new, archive_id, borrowed, end in sorted(checked, key=lambda r: r[4]):
        label = archives[archive_id][0]
        clash = next(
            (p for p in periods.get(archive_id, []) if p[0] < end and borrowed < p[1]), None
        )
        if clash is None:
            periods.setdefault(archive_id, []).append(
                (borrowed, end, new.get("borrower"), end == OPEN_END)
            )
        elif clash[3]:
            ctx.problem(
                i,
                c,
                "archive_id",
                f"「{label}」已于 {clash[0]:%Y-%m-%d} 借给 {clash[2]}，尚未归还，归还后才能再借",
            )
        else:
            ctx.problem(
                i,
                c,
                "borrowed_on",
                f"「{label}」{clash[0]:%Y-%m-%d} 至 {clash[1]:%Y-%m-%d} 已借给 {clash[2]}，借阅时间不能重叠",
            )


@save_rule("notices")
def notice_expires_after_publication(ctx: SaveContext) -> None:
    for i, c, new, _ in ctx.rows:
        published, expires = new.get("published_at"), new.get("expires_at")
        if c.action != "delete" and published and expires and expires < published:
            ctx.problem(i, c, "expires_at", "截止时间不能早于发布时间")


@save_rule("attachments")
def attachment_belongs_to_a_live_row(ctx: SaveContext) -> None:
    """An attachment points at an existing, not deleted row of a register."""
    for i, c, new, _ in ctx.rows:
        if c.action != "insert":
            continue
        name, row_id = new.get("register"), new.get("row_id")
        if name is None or row_id is None:
            continue
        reg = registers.catalog().get(name)
        if reg is None or reg.name == "attachments":
            ctx.problem(i, c, "register", f"没有名为 {name} 的台账")
            continue
        found = ctx.cur.execute(
            "SELECT count(*) FROM " + q(reg.name) + " WHERE id = ? AND deleted_at IS NULL", [row_id]
        ).fetchone()[0]
        if not found:
            ctx.problem(i, c, "row_id", f"{reg.label}编号 {row_id} 不存在")
