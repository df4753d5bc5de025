"""The one rule of every declared workflow (`[workflow]` in a register's definition).

For each saved row of a register with a workflow: filling a `when_filled` column makes its move;
a new row starts in an entry state; a status changes only along a declared move, by a role the
move allows; a move stamps its columns with its moment (the `moment` column when the change
gives it — a record entered after the fact —, a new row's `intake` moment, else now) and empties
its `clears`. A history import (records of the past) keeps its rows' states and stamps. It runs
before the register's own rules, which skip the rows it refused (`refused`).
"""

from __future__ import annotations

from datetime import datetime

from app.access.permissions import ADMIN
from app.registers.model import Workflow
from app.saving.changes import RowChange, SaveContext, save_rule


@save_rule("*")
def declared_workflow(ctx: SaveContext) -> None:
    flow = ctx.register.workflow
    if flow is None:
        return
    for i, c, new, old in ctx.rows:
        if c.action == "delete" or (c.action == "insert" and ctx.history):
            continue
        before = old.get(flow.column) if old and c.action != "insert" else None
        if c.action == "update" and flow.column not in c.values:
            _move_by_filling(flow, c, new, before)
        after = new.get(flow.column)
        if after not in ctx.register.field(flow.column).values:
            continue  # the field check reports it
        if c.action == "insert":
            if flow.entry and after not in flow.entry:
                starts = "或".join(f"“{s}”" for s in flow.entry)
                ctx.problem(i, c, flow.column, f"新{ctx.register.label}的{_label(ctx, flow)}只能是{starts}，"
                                               f"不能直接登记为“{after}”")
                continue
            moves = flow.into(after)
        elif after != before:
            move = flow.move(before, after)
            if move is None:
                ctx.problem(i, c, flow.column, refusal(ctx, flow, before, after))
                continue
            if move.roles and ctx.actor.role != ADMIN and ctx.actor.role not in move.roles:
                ctx.problem(i, c, flow.column, f"只有{'、'.join(move.roles)}可以把{_label(ctx, flow)}"
                                               f"从“{before}”改为“{after}”")
                continue
            moves = (move,)
        else:
            continue
        _stamp(ctx, flow, c, new, moves)


def refusal(ctx: SaveContext, flow: Workflow, before: str | None, after: str) -> str:
    """Why `before` -> `after` is refused, naming the moves that are allowed (Chinese)."""
    allowed = "、".join(flow.next(before)) or flow.last
    if flow.refusal:
        text = flow.refusal
        for key, value in (("{column}", _label(ctx, flow)), ("{from}", before or ""), ("{to}", after),
                           ("{allowed}", allowed)):
            text = text.replace(key, value)
        return text
    return (f"{_label(ctx, flow)}不能从“{before}”改为“{after}”，只能改为：{allowed}"
            + flow.hints.get(before or "", ""))


def refused(ctx: SaveContext, index: int, change: RowChange) -> bool:
    """Whether the workflow refused this row (a register's own rule then says no more of it)."""
    flow = ctx.register.workflow
    if flow is None:
        return False
    place, label = change.place(index), _label(ctx, flow)
    return any(p.row == place and p.column == label for p in ctx.problems)


def _label(ctx: SaveContext, flow: Workflow) -> str:
    return ctx.register.label_of(flow.column)


def _set(c: RowChange, new: dict, column: str, value) -> None:
    new[column] = value
    c.values[column] = value


def _move_by_filling(flow: Workflow, c: RowChange, new: dict, before: str | None) -> None:
    for m in flow.moves:
        if m.source == before and m.when_filled and c.values.get(m.when_filled) is not None:
            _set(c, new, flow.column, m.target)
            return


def _stamp(ctx: SaveContext, flow: Workflow, c: RowChange, new: dict, moves: tuple) -> None:
    at = c.values.get(flow.moment) and new.get(flow.moment) if flow.moment else None
    if not at and c.action == "insert" and flow.intake and isinstance(new.get(flow.intake), datetime):
        at = new[flow.intake]
    at = at or ctx.db.now()
    if flow.moment:
        _set(c, new, flow.moment, at)
    for m in moves:
        for column in m.clears if c.action == "update" else ():
            _set(c, new, column, None)
        for column in m.stamps:
            if new.get(column) is None:
                _set(c, new, column, at.date() if ctx.register.field(column).type == "date" else at)
