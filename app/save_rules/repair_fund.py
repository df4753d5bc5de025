"""Save rules of the 专项维修资金: the owners' vote meets Civil Code Art. 278 before an application is
approved or paid (sql/functions/votes.sql decides, the same as v_repair_fund_vote), and a payment
stays within what the fund holds on its day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.saving.changes import SaveContext, save_rule


def _live(ctx: SaveContext):
    return [(i, c, new, old) for i, c, new, old in ctx.rows if c.action != "delete"]


# -- 专项维修资金 -----------------------------------------------------------------------------
VOTED_STATES = ("表决通过", "已审批", "已支付")
PARTICIPATION, USE, RAISE = "fund.vote_participation", "fund.vote_use", "fund.vote_raise"


def _n(value) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def vote_problem(ctx: SaveContext, new: dict) -> str | None:
    """Why the vote entered on an application does not meet Civil Code Art. 278, or None."""
    cid = new.get("community_id")
    scope_area, scope_owners = _n(new.get("scope_area")), _n(new.get("scope_owners"))
    voted_area, voted_owners = _n(new.get("voted_area")), _n(new.get("voted_owners"))
    agreed_area, agreed_owners = _n(new.get("agreed_area")), _n(new.get("agreed_owners"))
    matter = new.get("matter") or "使用维修资金"
    quorum, agreed, part, use, rise = ctx.cur.execute(
        "SELECT fund_vote_quorum(?, ?, ?, ?, ?), fund_vote_agreed(?, ?, ?, ?, ?, ?), "
        "coalesce(setting_text(?, ?), '2/3'), coalesce(setting_text(?, ?), '1/2'), "
        "coalesce(setting_text(?, ?), '3/4')",
        [voted_area, voted_owners, scope_area, scope_owners, cid,
         matter, agreed_area, agreed_owners, voted_area, voted_owners, cid,
         PARTICIPATION, cid, USE, cid, RAISE, cid]).fetchone()
    if not quorum:
        return (f"参与表决的业主不足：专有面积 {voted_area}㎡/{scope_area}㎡、人数 {voted_owners}/{scope_owners}，"
                f"两项都须达到 {part} 以上（《民法典》第二百七十八条）")
    if voted_owners == 0 or not agreed:
        need = f"都须超过 {use}" if matter == "使用维修资金" else f"都须达到 {rise} 以上"
        return (f"同意的业主不足：{matter}须经参与表决的专有面积和人数{need}，现为面积 "
                f"{agreed_area}㎡/{voted_area}㎡、人数 {agreed_owners}/{voted_owners}（《民法典》第二百七十八条）")
    return None


@save_rule("repair_fund_applications")
def fund_vote_approval_and_payment(ctx: SaveContext) -> None:
    """Counts that add up; 表决通过/已审批/已支付 only after a vote that passes; paid within the balance."""
    paying = []
    for i, c, new, old in _live(ctx):
        for part, whole, label in (("agreed_area", "voted_area", "同意面积不能大于参与表决面积"),
                                   ("voted_area", "scope_area", "参与表决面积不能大于涉及专有面积"),
                                   ("agreed_owners", "voted_owners", "同意人数不能大于参与表决人数"),
                                   ("voted_owners", "scope_owners", "参与表决人数不能大于涉及业主人数")):
            if new.get(part) is not None and new.get(whole) is not None and _n(new[part]) > _n(new[whole]):
                ctx.problem(i, c, part, label)
        status = new.get("status")
        if status in VOTED_STATES:
            problem = vote_problem(ctx, new)
            if problem:
                ctx.problem(i, c, "status", f"不能改为“{status}”：{problem}")
                continue
        if status in ("已审批", "已支付") and not new.get("approved_on"):
            ctx.problem(i, c, "approved_on", f"状态为“{status}”须填写审批日期")
        if status == "已支付":
            if not new.get("paid_on"):
                ctx.problem(i, c, "paid_on", "已支付须填写支付日期")
            if new.get("paid_amount") is None:
                new["paid_amount"] = c.values["paid_amount"] = new.get("amount")
            if _n(new.get("paid_amount")) > _n(new.get("amount")):
                ctx.problem(i, c, "paid_amount", "支付金额不能超过申请金额")
            if (old or {}).get("status") != "已支付":
                paying.append((i, c, new))
    if ctx.problems or not paying:
        return
    # what the fund holds on each payment's day, before it; several payments of one save add up
    spent: dict[int, Decimal] = {}
    for i, c, new in sorted(paying, key=lambda p: (p[2]["paid_on"], p[0])):
        cid, on = new["community_id"], new["paid_on"]
        row = ctx.cur.execute("SELECT balance FROM repair_fund_balance_as_of(CAST(? AS DATE)) WHERE community_id = ?",
                              [on if isinstance(on, date) else None, cid]).fetchone()
        held = (_n(row[0]) if row else Decimal(0)) - spent.get(cid, Decimal(0))
        if _n(new["paid_amount"]) > held:
            ctx.problem(i, c, "paid_amount", f"维修资金余额不足：{on} 余额 {held} 元，不能支付 {new['paid_amount']} 元")
        spent[cid] = spent.get(cid, Decimal(0)) + _n(new["paid_amount"])
