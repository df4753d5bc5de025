"""Save rules of 收费管理: approved fee standards, closed periods, adjustments, the cashier.

Inserting a receipt without a number is the cashier's act: the rule gives it the next number
of its community and year (no gaps: taken inside the save transaction) and allocates the money
to the household's open bills, oldest due first, writing the payments and any overpayment as
credit in the same transaction. A receipt given with its number (history being imported) is
kept as it is. Receipts are never deleted, only voided with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from app.fees import prepayment
from app.fees.cashier import day_totals
from app.registers.expressions import ExpressionError, compile_fee_formula
from app.saving.changes import SaveContext, save_rule
from app.storage.db import in_list

ZERO = Decimal("0.00")
FROZEN_WHEN_APPROVED = ("method", "unit_price", "cycle", "usage_scope", "meter", "vacant_ratio",
                        "prorate", "effective_from", "community_id", "surcharge", "area_basis", "formula")
STATUS_ORDER = {"草稿": 0, "已申报": 1, "已审批": 2}
RECEIPT_EDITABLE = {"voided", "void_reason", "note"}


def _month(moment: date | datetime | None) -> str | None:
    return moment.strftime("%Y-%m") if moment is not None else None


def _closed(ctx: SaveContext, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (community_id, period) pairs are closed (结账)."""
    pairs = {p for p in pairs if p[0] is not None and p[1] is not None}
    if not pairs:
        return set()
    communities = sorted({c for c, _ in pairs})
    placeholders, params = in_list(communities)
    found = ctx.cur.execute(
        "SELECT community_id, period FROM period_closes WHERE deleted_at IS NULL "
        "AND community_id IN " + placeholders, params,
    ).fetchall()
    return {(c, p) for c, p in found} & pairs


def _bill_communities(ctx: SaveContext, bill_ids: set[int]) -> dict[int, tuple[int, int]]:
    """bill id -> (community id, household id)."""
    if not bill_ids:
        return {}
    placeholders, params = in_list(sorted(bill_ids))
    return {
        b: (c, h)
        for b, c, h in ctx.cur.execute(
            "SELECT b.id, h.community_id, b.household_id FROM bills b "
            "JOIN households h ON h.id = b.household_id WHERE b.id IN " + placeholders, params,
        ).fetchall()
    }


# -- fee standards ----------------------------------------------------------------------
def _approval(ctx: SaveContext, i: int, c, new: dict, old: dict, frozen: list[str], what: str,
              instead: str) -> None:
    """草稿 → 已申报 → 已审批, one step at a time; an approved row never goes back and its `frozen`
    changed columns are refused (a change of terms is a new row, so what was charged stays explained)."""
    before, after = old.get("status"), new.get("status")
    if before == "已审批":
        if after != "已审批":
            ctx.problem(i, c, "status", f"已审批的{what}不能退回，请新增一条{what}")
        if frozen:
            ctx.problem(i, c, frozen[0], f"已审批的{what}不能修改；{instead}")
    elif STATUS_ORDER.get(after, 0) > STATUS_ORDER.get(before, 0) + 1:
        ctx.problem(i, c, "status", f"须先申报才能审批（当前为{before}）")


@save_rule("fee_items")
def fee_item_rules(ctx: SaveContext) -> None:
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            continue
        if new.get("method") == "按用量" and not new.get("meter"):
            ctx.problem(i, c, "meter", "按用量计费须选择表计（水、电、燃气）")
        _check_formula(ctx, i, c, new)
        start, end = new.get("effective_from"), new.get("effective_to")
        if start and end and end < start:
            ctx.problem(i, c, "effective_to", "失效日期不能早于生效日期")
        if old is None:
            continue
        frozen = [col for col in FROZEN_WHEN_APPROVED if col in c.values and new.get(col) != old.get(col)]
        _approval(ctx, i, c, new, old, frozen, "收费标准", "调价请填写失效日期并新增一条收费标准")


@save_rule("fee_discounts")
def fee_discount_rules(ctx: SaveContext) -> None:
    """Discount rules are approved like fee standards, and each kind names what it gives."""
    needs = {"预缴满N月折扣": ("min_months", "percent_off"), "预缴满N月赠M月": ("min_months", "free_months"),
             "空置房比例": ("vacant_ratio",), "固定减免": ("fixed_amount",)}
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            continue
        labels = {f.name: f.label for f in ctx.register.fields}
        for col in needs.get(new.get("kind"), ()):
            if new.get(col) is None:
                ctx.problem(i, c, col, f"{new['kind']}须填写{labels[col]}")
        if new.get("kind") == "预缴满N月赠M月" and new.get("min_months") and new.get("free_months") \
                and new["free_months"] >= new["min_months"]:
            ctx.problem(i, c, "free_months", "赠送月数须少于预缴月数")
        start, end = new.get("valid_from"), new.get("valid_to")
        if start and end and end < start:
            ctx.problem(i, c, "valid_to", "失效日期不能早于生效日期")
        if new.get("status") == "已审批" and new.get("approved_by_id") is None:
            ctx.problem(i, c, "approved_by_id", "审批优惠规则须填写审批人")
        item = new.get("fee_item_id")
        if isinstance(item, int):
            found = ctx.cur.execute("SELECT community_id FROM fee_items WHERE id = ?", [item]).fetchone()
            if found and found[0] != new.get("community_id"):
                ctx.problem(i, c, "fee_item_id", "收费项目不属于该小区")
        if old is None:
            continue
        frozen = [col for col in c.values if col not in ("valid_to", "note") and new.get(col) != old.get(col)]
        _approval(ctx, i, c, new, old, frozen, "优惠规则", "停用请填写失效日期并新增一条规则")


def _check_formula(ctx: SaveContext, i: int, c, new: dict) -> None:
    """A 公式 item's formula is checked when saved (the bill run then only meets failing rows)."""
    formula = new.get("formula")
    if new.get("method") == "公式" and not formula:
        ctx.problem(i, c, "formula", "计费方式为公式时须填写计费公式")
    if new.get("method") == "公摊" and not new.get("meter"):
        ctx.problem(i, c, "meter", "公摊计费须选择表计（水、电、燃气）")
    if not formula:
        return
    try:
        compiled = compile_fee_formula(formula)
    except ExpressionError as err:
        ctx.problem(i, c, "formula", f"计费公式「{formula}」不能使用：{err}")
        return
    if "used" in compiled.fields and not new.get("meter"):
        ctx.problem(i, c, "meter", "计费公式用到了用量，须选择表计（水、电、燃气）")


# Text-valued fee settings and the values the bill run and the cashier understand.
FEE_SETTING_CHOICES = {"fee.prorate": ("day", "none"), "fee.late_fee_order": ("by_bill", "principal_first")}


@save_rule("settings")
def fee_setting_values(ctx: SaveContext) -> None:
    for i, c, new, _ in ctx.rows:
        allowed = FEE_SETTING_CHOICES.get(new.get("key"))
        if c.action != "delete" and allowed and new.get("value") not in allowed:
            ctx.problem(i, c, "value", f"{new['key']} 只能取 {' 或 '.join(allowed)}")


# -- meter readings: rollover and replacement ----------------------------------------------
def _meter_max(new: dict) -> Decimal | None:
    if new.get("max_reading") is not None:
        return Decimal(new["max_reading"])
    if new.get("digits") is not None:
        return Decimal(10) ** int(new["digits"]) - 1
    return None


def _known_digits(ctx: SaveContext, new: dict) -> None:
    """A rollover without digits or maximum takes them from the meter's latest earlier reading."""
    found = ctx.cur.execute(
        "SELECT digits, max_reading FROM meter_readings WHERE household_id = ? AND meter = ? AND period < ? "
        "AND deleted_at IS NULL AND (digits IS NOT NULL OR max_reading IS NOT NULL) "
        "ORDER BY period DESC LIMIT 1", [new.get("household_id"), new.get("meter"), new.get("period")],
    ).fetchone()
    if found:
        new["digits"], new["max_reading"] = found


@save_rule("meter_readings")
def meter_reading_rules(ctx: SaveContext) -> None:
    """A reading below the last is refused unless marked 翻表 or 换表 with what that needs, so the
    bill run can bill every reading it is given (sql/functions/meters.sql computes the usage)."""
    for i, c, new, _ in ctx.rows:
        if c.action == "delete":
            continue
        prev, curr, kind = new.get("prev_reading"), new.get("curr_reading"), new.get("reading_kind") or "正常"
        if prev is None or curr is None:
            continue
        if kind == "正常" and curr < prev:
            ctx.problem(i, c, "curr_reading",
                        f"本期读数 {_plain(curr)} 小于上期读数 {_plain(prev)}：表计走满归零请选择读数类型「翻表」，"
                        "换了新表请选择「换表」并填写旧表止码和新表起码")
        elif kind == "翻表":
            if _meter_max(new) is None:
                _known_digits(ctx, new)
                for col in ("digits", "max_reading"):
                    if new.get(col) is not None:
                        c.values[col] = new[col]
            top = _meter_max(new)
            if top is None:
                ctx.problem(i, c, "digits", "翻表须填写表盘位数或最大读数")
            elif curr >= prev:
                ctx.problem(i, c, "reading_kind", "本期读数不小于上期读数，不是翻表")
            elif max(prev, curr) > top:
                ctx.problem(i, c, "prev_reading", f"读数不能超过表的最大读数 {_plain(top)}")
        elif kind == "换表":
            old_final, new_start = new.get("old_final_reading"), new.get("new_start_reading")
            if old_final is None or new_start is None:
                ctx.problem(i, c, "old_final_reading", "换表须填写旧表止码和新表起码")
            elif old_final < prev:
                ctx.problem(i, c, "old_final_reading",
                            f"旧表止码 {_plain(old_final)} 不能小于上期读数 {_plain(prev)}")
            elif curr < new_start:
                ctx.problem(i, c, "curr_reading",
                            f"本期读数 {_plain(curr)} 不能小于新表起码 {_plain(new_start)}")


def _plain(number) -> str:
    """A reading as written on the meter: 15, 9990.5 (no trailing zeros of DECIMAL(12,3))."""
    text = format(Decimal(number).normalize(), "f")
    return text


# -- bills, payments, adjustments: closed periods ---------------------------------------
@save_rule("bills")
def bills_in_open_periods(ctx: SaveContext) -> None:
    inserts = [(i, c, new) for i, c, new, _ in ctx.rows if c.action == "insert"]
    households = {new["household_id"] for _, _, new in inserts if isinstance(new.get("household_id"), int)}
    items = {new["fee_item_id"] for _, _, new in inserts if isinstance(new.get("fee_item_id"), int)}
    if not households:
        return
    placeholders, params = in_list(sorted(households))
    community_of = dict(ctx.cur.execute(
        "SELECT id, community_id FROM households WHERE id IN " + placeholders, params).fetchall())
    item_community = {}
    if items:
        placeholders, params = in_list(sorted(items))
        item_community = dict(ctx.cur.execute(
            "SELECT id, community_id FROM fee_items WHERE id IN " + placeholders, params).fetchall())
    closed = _closed(ctx, {(community_of.get(new.get("household_id")), new.get("period"))
                           for _, _, new in inserts})
    for i, c, new in inserts:
        community = community_of.get(new.get("household_id"))
        if (community, new.get("period")) in closed:
            ctx.problem(i, c, "period", f"账期 {new['period']} 已结账，不能再出账单")
        item = new.get("fee_item_id")
        if item in item_community and community is not None and item_community[item] != community:
            ctx.problem(i, c, "fee_item_id", "收费项目不属于该房屋所在小区")


def _dated_in_open_period(ctx: SaveContext, moment_col: str, what: str) -> None:
    inserts = [(i, c, new) for i, c, new, _ in ctx.rows if c.action == "insert"]
    bills = _bill_communities(ctx, {new["bill_id"] for _, _, new in inserts
                                    if isinstance(new.get("bill_id"), int)})
    closed = _closed(ctx, {(bills.get(new.get("bill_id"), (None,))[0], _month(new.get(moment_col)))
                           for _, _, new in inserts})
    for i, c, new in inserts:
        key = (bills.get(new.get("bill_id"), (None,))[0], _month(new.get(moment_col)))
        if key in closed:
            ctx.problem(i, c, moment_col, f"{key[1]} 已结账，不能再登记该月的{what}；请按当前日期登记")


@save_rule("payments")
def payments_in_open_periods(ctx: SaveContext) -> None:
    _dated_in_open_period(ctx, "paid_at", "收款")


@save_rule("bill_adjustments")
def adjustment_rules(ctx: SaveContext) -> None:
    _dated_in_open_period(ctx, "adjusted_at", "调整")
    inserts = [(i, c, new) for i, c, new, _ in ctx.rows if c.action == "insert"]
    ids = sorted({new["bill_id"] for _, _, new in inserts if isinstance(new.get("bill_id"), int)})
    if not ids:
        return
    placeholders, params = in_list(ids)
    balance = {
        r[0]: (r[1], r[2])
        for r in ctx.cur.execute(
            "SELECT bill_id, due_net, paid_net FROM bill_balance_as_of(DATE '9999-12-30') "
            "WHERE bill_id IN " + placeholders, params,
        ).fetchall()
    }
    late_fee_bills = {b for b, of in ctx.cur.execute(
        "SELECT id, late_fee_of FROM bills WHERE id IN " + placeholders, params).fetchall() if of is not None}
    posted_for = {r[0] for r in ctx.cur.execute(
        "SELECT late_fee_of FROM bills WHERE deleted_at IS NULL AND late_fee_of IN " + placeholders,
        params).fetchall()}
    taken: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for i, c, new in inserts:
        kind, amount, bill = new.get("kind"), new.get("amount"), new.get("bill_id")
        # a late fee posted as its own bill is money owed like any bill: reduced by 减免 on that bill
        if kind == "滞纳金减免" and bill in late_fee_bills:
            ctx.problem(i, c, "kind", "这是滞纳金账单，减免滞纳金请选择调整类型「减免」")
        elif kind == "滞纳金减免" and bill in posted_for:
            ctx.problem(i, c, "bill_id", "该账单的滞纳金已在收款时开成滞纳金账单，请对那张滞纳金账单做「减免」")
        if new.get("approved_by_id") is None:
            ctx.problem(i, c, "approved_by_id", "调整须填写审批人")
        _check_counts_from(ctx, i, c, new)
        if amount is None or bill not in balance:
            continue
        due_net, paid_net = balance[bill]
        if kind in ("减免", "折扣"):
            taken[bill, "due"] += amount
            if taken[bill, "due"] > due_net:
                ctx.problem(i, c, "amount", f"{kind}后应收不能为负（该账单应收净额 {due_net}）")
        elif kind == "退款":
            taken[bill, "paid"] += amount
            if taken[bill, "paid"] > paid_net:
                ctx.problem(i, c, "amount", f"退款不能超过已收金额 {paid_net}")


def _check_counts_from(ctx: SaveContext, i: int, c, new: dict) -> None:
    """A backdated reduction: only 减免 and 折扣 lower the balance the late fee is counted on,
    and only up to the day it is made (a later date would be a promise, not a reduction)."""
    counts_from, at = new.get("counts_from"), new.get("adjusted_at")
    if counts_from is None:
        return
    if new.get("kind") not in ("减免", "折扣"):
        ctx.problem(i, c, "counts_from", "只有减免、折扣可以指定滞纳金计算起始日")
    elif isinstance(at, datetime) and counts_from > at.date():
        ctx.problem(i, c, "counts_from", f"滞纳金计算起始日不能晚于调整日期 {at.date()}")


# -- receipts: numbering, allocation, voiding --------------------------------------------
@save_rule("receipts")
def receipt_rules(ctx: SaveContext) -> None:
    issuing = []
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            ctx.problem(i, c, None, "收据不能删除，只能作废（收据号仍占用）")
        elif c.action == "update":
            _check_void(ctx, i, c, new, old)
        else:
            if new.get("voided") and not ctx.history:
                ctx.problem(i, c, "voided", "新收据不能是作废状态")
            if not new.get("receipt_no"):
                issuing.append((i, c, new))
    if issuing and not ctx.problems:
        _issue(ctx, issuing)


def _check_void(ctx: SaveContext, i: int, c, new: dict, old: dict) -> None:
    changed = [col for col in c.values if new.get(col) != old.get(col)]
    for col in changed:
        if col not in RECEIPT_EDITABLE:
            ctx.problem(i, c, col, "收据开出后不能修改，如有差错请作废后重开")
            return
    if old.get("voided") and not new.get("voided"):
        ctx.problem(i, c, "voided", "作废的收据不能恢复")
    elif new.get("voided") and not old.get("voided"):
        if not (new.get("void_reason") or "").strip():
            ctx.problem(i, c, "void_reason", "作废须写明原因")
        month = _month(old.get("paid_at"))
        if _closed(ctx, {(old.get("community_id"), month)}):
            ctx.problem(i, c, "voided", f"{month} 已结账，该月的收据不能作废；请在当前账期做退款调整")
        now = ctx.db.now()
        new["voided_at"] = now
        c.values["voided_at"] = now  # written with the other changed columns


def _issue(ctx: SaveContext, issuing: list[tuple]) -> None:
    """Number each new receipt and allocate it (payments, credit), inside the transaction."""
    cur = ctx.cur
    households = sorted({new["household_id"] for _, _, new in issuing})
    placeholders, params = in_list(households)
    community_of = dict(cur.execute(
        "SELECT id, community_id FROM households WHERE id IN " + placeholders, params).fetchall())
    closed = _closed(ctx, {(new["community_id"], _month(new["paid_at"])) for _, _, new in issuing})
    day_closed = {
        (k, d) for k, d in cur.execute(
            "SELECT cashier_id, closing_on FROM cash_closings WHERE deleted_at IS NULL "
            "AND closing_on >= ? AND closing_on <= ?",
            [min(new["paid_at"] for _, _, new in issuing).date(),
             max(new["paid_at"] for _, _, new in issuing).date()],
        ).fetchall()
    }
    for i, c, new in issuing:
        if community_of.get(new["household_id"]) != new["community_id"]:
            ctx.problem(i, c, "household_id", "房屋不属于该小区")
        if (new.get("cashier_id"), new["paid_at"].date()) in day_closed:
            ctx.problem(i, c, "cashier_id", f"该收款人 {new['paid_at'].date()} 已日结，不能再开当日收据")
        if (new["community_id"], _month(new["paid_at"])) in closed:
            ctx.problem(i, c, "paid_at", f"{_month(new['paid_at'])} 已结账，不能再收该月日期的款")
    if ctx.problems:
        return
    if ctx.db.is_postgres:
        # Serialize numbering per community across processes: a concurrent issuer hits a
        # serialization failure on this row and the save path runs its save again.
        for community in sorted({new["community_id"] for _, _, new in issuing}):
            cur.execute("UPDATE communities SET name = name WHERE id = ?", [community])
    next_no: dict[tuple[int, int], int] = {}
    ids = ctx.db.allocate_ids(cur, "receipts", len(issuing))
    payments, credits, late_fees = [], [], []
    for receipt_id, (i, c, new) in zip(ids, issuing):
        key = (new["community_id"], new["paid_at"].year)
        if key not in next_no:
            next_no[key] = 1 + (cur.execute(
                "SELECT coalesce(max(TRY_CAST(substr(receipt_no, 6) AS BIGINT)), 0) FROM receipts "
                "WHERE community_id = ? AND receipt_no LIKE ?", [key[0], f"{key[1]}-%"],
            ).fetchone()[0])
        new["receipt_no"] = f"{key[1]}-{next_no[key]:06d}"
        next_no[key] += 1
        c.row_id = receipt_id
        if new.get("prepaid_from") or new.get("prepaid_to") or new.get("discount_id"):
            _prepaid_discount(ctx, i, c, receipt_id, new)
            if ctx.problems:
                return
        _allocate(ctx, i, c, receipt_id, new, payments, credits, late_fees)
    if ctx.problems:
        return
    ctx.insert("bills", late_fees, "收款时开出滞纳金账单")  # before the payments that settle them
    ctx.insert("payments", payments, "收据分配到账单")
    ctx.insert("household_credits", credits, "收据多缴转预存款 / 预存款抵扣")


def _prepaid_discount(ctx: SaveContext, i: int, c, receipt_id: int, receipt: dict) -> None:
    """A prepayment's receipt: check its rule and write the discount as 折扣 adjustments citing
    the rule and the receipt, before the money is allocated (so the receipt pays what is left)."""
    first, last = receipt.get("prepaid_from"), receipt.get("prepaid_to")
    try:
        months = prepayment.months_between(first, last)
    except (ValueError, AttributeError):
        ctx.problem(i, c, "prepaid_from", "预缴须写明起止账期（年-月，如 2026-08 至 2027-07）")
        return
    if months < 1:
        ctx.problem(i, c, "prepaid_to", "预缴截止账期不能早于起始账期")
        return
    if receipt.get("discount_id") is None:
        return
    household, at = receipt["household_id"], receipt["paid_at"]
    rule = prepayment.rule_of(ctx.cur, receipt["discount_id"])
    vacant = ctx.cur.execute("SELECT status FROM households WHERE id = ?", [household]).fetchone()[0] == "空置"
    why = prepayment.refusal(rule, receipt["community_id"], months, at.date(), vacant,
                             prepayment.overdue_before(ctx.cur, household, at.date(), first)) \
        or prepayment.discounted_before(ctx.cur, household, first, last)
    if why:
        ctx.problem(i, c, "discount_id", why)
        return
    bills = [prepayment.PrepaidBill(b, p, f, Decimal(a)) for b, p, f, a in ctx.cur.execute(
        "SELECT id, period, fee_item_id, amount FROM bills WHERE household_id = ? AND deleted_at IS NULL "
        "AND late_fee_of IS NULL AND period BETWEEN ? AND ?", [household, first, last]).fetchall()]
    given = prepayment.discount_for(rule, bills)
    if not given:
        ctx.problem(i, c, "discount_id", f"预缴的账单中没有优惠规则「{rule['name']}」适用的收费项目")
        return
    ctx.insert("bill_adjustments", [
        {"bill_id": b.key, "kind": "折扣", "amount": part, "adjusted_at": at,
         "approved_by_id": rule.get("approved_by_id"), "discount_id": rule["id"], "receipt_id": receipt_id,
         "reason": f"优惠规则「{rule['name']}」（{rule['kind']}），预缴 {first} 至 {last} 共 {months} 个月，"
                   f"收据 {receipt['receipt_no']}"}
        for b, part in given], "预缴优惠")


def _accrued_late_fees(ctx: SaveContext, household_id: int, on: date) -> dict[int, tuple[Decimal, int]]:
    """principal bill id -> (late fee accrued on `on` and not yet posted, days overdue)."""
    return {
        bill: (Decimal(fee), days)
        for bill, fee, days in ctx.cur.execute(
            "SELECT bill_id, open_late_fee, CAST(? AS DATE) - due_date FROM bill_late_fees_of(CAST(? AS DATE), "
            "CAST(? AS BIGINT)) WHERE NOT is_late_fee AND open_late_fee > 0", [on, on, household_id],
        ).fetchall()
    }


def _late_fee_bill(ctx: SaveContext, principal: int, amount: Decimal, days: int, at: datetime,
                   receipt_no: str, late_fees: list[dict]) -> int | None:
    """A bill of the principal's late fee, to be inserted with the receipt; returns its id.

    Its fee item is the community's 「<item>滞纳金」 (method 滞纳金, made on first use: one late
    fee per principal bill, so bills stay unique by household, fee item and period). None when the
    principal already has one (a voided receipt's late fee stays owed as it was).
    """
    cur = ctx.cur
    if cur.execute("SELECT count(*) FROM bills WHERE late_fee_of = ? AND deleted_at IS NULL",
                   [principal]).fetchone()[0]:
        return None
    household, period, community, item = cur.execute(
        "SELECT b.household_id, b.period, f.community_id, f.name FROM bills b "
        "JOIN fee_items f ON f.id = b.fee_item_id WHERE b.id = ?", [principal]).fetchone()
    name = item + "滞纳金"
    found = cur.execute(
        "SELECT id FROM fee_items WHERE community_id = ? AND name = ? AND method = '滞纳金' "
        "AND deleted_at IS NULL ORDER BY id LIMIT 1", [community, name]).fetchone()
    if found:
        fee_item = found[0]
    else:
        fee_item = ctx.db.allocate_ids(cur, "fee_items", 1)[0]
        ctx.insert("fee_items", [{
            "id": fee_item, "community_id": community, "name": name, "method": "滞纳金",
            "unit_price": ZERO, "cycle": "月", "status": "已审批", "effective_from": date(2000, 1, 1),
            "note": "收款时按应计滞纳金开出账单（不参加出账）"}], "滞纳金收费项目")
    # DuckDB's next id is max(id) + 1: skip past the late-fee bills not yet inserted
    bill = ctx.db.allocate_ids(cur, "bills", 1 + len(late_fees))[-1]
    late_fees.append({"id": bill, "household_id": household, "fee_item_id": fee_item, "period": period,
                      "quantity": Decimal(days), "amount": amount, "due_date": at.date(), "issued_at": at,
                      "late_fee_of": principal,
                      "note": f"{item} {period} 逾期 {days} 天，至 {at.date()} 应计滞纳金，收据 {receipt_no}"})
    return bill


def _open_bills(ctx: SaveContext, household_id: int) -> list[tuple[int, Decimal]]:
    """(bill id, outstanding) of a household's bills still owed, oldest due first."""
    bills = ctx.cur.execute(
        "SELECT id, amount FROM bills WHERE household_id = ? AND deleted_at IS NULL "
        "ORDER BY due_date, period, id", [household_id],
    ).fetchall()
    if not bills:
        return []
    placeholders, params = in_list([b for b, _ in bills])
    owed = {b: amount for b, amount in bills}
    for bill, change in ctx.cur.execute(
        "SELECT a.bill_id, sum(CASE WHEN a.kind = '退款' THEN a.amount ELSE -a.amount END) "
        "FROM bill_adjustments a WHERE a.deleted_at IS NULL AND a.kind <> '滞纳金减免' "
        "AND a.bill_id IN " + placeholders + " GROUP BY a.bill_id", params,
    ).fetchall():
        owed[bill] += change
    for bill, paid in ctx.cur.execute(
        "SELECT p.bill_id, sum(p.amount) FROM payments p LEFT JOIN receipts r ON r.id = p.receipt_id "
        "WHERE p.deleted_at IS NULL AND NOT coalesce(r.voided, false) AND p.bill_id IN " + placeholders
        + " GROUP BY p.bill_id", params,
    ).fetchall():
        owed[bill] -= paid
    return [(b, owed[b]) for b, _ in bills if owed[b] > 0]


def _credit(ctx: SaveContext, household_id: int) -> Decimal:
    value = ctx.cur.execute(
        "SELECT coalesce(sum(c.amount), 0) FROM household_credits c "
        "LEFT JOIN receipts r ON r.id = c.receipt_id AND c.amount > 0 "
        "WHERE c.deleted_at IS NULL AND c.household_id = ? AND NOT coalesce(r.voided, false)",
        [household_id],
    ).fetchone()[0]
    return Decimal(value)


def _allocate(ctx: SaveContext, i: int, c, receipt_id: int, receipt: dict,
              payments: list[dict], credits: list[dict], late_fees: list[dict]) -> None:
    """Oldest due first. Where the community collects late fees (fee.late_fee_collect = 1), a
    principal paid in full has its late fee accrued on the payment day posted as a bill of its
    own, paid from what is left (it stays owed if nothing is left: paying the principal never
    makes its late fee go away): right after its principal (fee.late_fee_order = by_bill) or
    after every principal this payment reaches (principal_first)."""
    household, total, at = receipt["household_id"], receipt["total"], receipt["paid_at"]
    open_bills = _open_bills(ctx, household)
    collects, order = ctx.cur.execute(
        "SELECT coalesce(setting_int('fee.late_fee_collect', ?), 0), "
        "coalesce(setting_text('fee.late_fee_order', ?), 'by_bill')",
        [receipt["community_id"], receipt["community_id"]]).fetchone()
    accrued = _accrued_late_fees(ctx, household, at.date()) if collects == 1 else {}
    from_credit = receipt.get("method") == "预存款"
    if from_credit:
        available = _credit(ctx, household)
        if total > available:
            ctx.problem(i, c, "total", f"预存款余额只有 {available}，不够抵扣 {total}")
            return
        owed = sum((o for _, o in open_bills), ZERO) + sum((f for f, _ in accrued.values()), ZERO)
        if total > owed:
            ctx.problem(i, c, "total", f"预存款抵扣不能超过欠费 {owed}")
            return
    left = total

    def pay(bill: int, part: Decimal) -> None:
        payments.append({"bill_id": bill, "receipt_id": receipt_id, "paid_at": at, "amount": part,
                         "note": f"收据 {receipt['receipt_no']}"})
        if from_credit:
            credits.append({"household_id": household, "amount": -part, "receipt_id": receipt_id,
                            "bill_id": bill, "credited_at": at,
                            "note": f"预存款抵扣，收据 {receipt['receipt_no']}"})

    posted = []  # (late-fee bill, amount) to pay: right after its principal, or after every principal
    for bill, owed in open_bills:
        if left <= 0:
            break
        part = min(left, owed)
        pay(bill, part)
        left -= part
        if part == owed and bill in accrued:
            fee, days = accrued[bill]
            late_bill = _late_fee_bill(ctx, bill, fee, days, at, receipt["receipt_no"], late_fees)
            if late_bill is not None:
                posted.append((late_bill, fee))
        if order != "principal_first":
            left = _pay_late_fees(posted, left, pay)
    left = _pay_late_fees(posted, left, pay)
    if left > 0:
        credits.append({"household_id": household, "amount": left, "receipt_id": receipt_id,
                        "bill_id": None, "credited_at": at,
                        "note": f"多缴转预存款，收据 {receipt['receipt_no']}"})


def _pay_late_fees(posted: list[tuple[int, Decimal]], left: Decimal, pay) -> Decimal:
    """Pay the posted late fees in turn from what is left; returns what is left after."""
    while posted and left > 0:
        bill, fee = posted.pop(0)
        part = min(left, fee)
        pay(bill, part)
        left -= part
    return left


# -- day close and period close -----------------------------------------------------------------
@save_rule("cash_closings")
def cash_closing_rules(ctx: SaveContext) -> None:
    """Totals come from the receipts, not from the form; a difference needs an explanation."""
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            continue
        if None in (new.get("community_id"), new.get("cashier_id"), new.get("closing_on")):
            continue
        if old is not None and any(new.get(k) != old.get(k)
                                   for k in ("community_id", "cashier_id", "closing_on")):
            ctx.problem(i, c, "closing_on", "日结的收款人和日期不能修改；如有错误请删除后重新日结")
            continue
        if new["closing_on"] > ctx.db.now().date():
            ctx.problem(i, c, "closing_on", "不能为以后的日期日结")
            continue
        totals = day_totals(ctx.cur, new["community_id"], new["cashier_id"], new["closing_on"])
        counted = new.get("counted_cash")
        difference = None if counted is None else counted - totals["cash_total"]
        computed = {**totals, "difference": difference}
        if old is None:
            computed["closed_at"] = new.get("closed_at") or ctx.db.now()
        for col, value in computed.items():
            if old is None or value != old.get(col):
                new[col] = value
                c.values[col] = value
        if difference and not (new.get("note") or "").strip():
            ctx.problem(i, c, "note", f"清点现金与现金收款相差 {difference} 元，须写明原因")


@save_rule("period_closes")
def period_close_rules(ctx: SaveContext) -> None:
    """A closed period stays closed: the row cannot be deleted or moved to another period."""
    current = ctx.db.now().strftime("%Y-%m")
    for i, c, new, old in ctx.rows:
        if c.action == "delete":
            ctx.problem(i, c, None, "结账后不能撤销；更正请在未结账的账期做调整")
        elif old is not None and any(new.get(k) != old.get(k) for k in ("community_id", "period")):
            ctx.problem(i, c, "period", "结账的小区和账期不能修改")
        elif old is None and new.get("period") and new["period"] > current:
            ctx.problem(i, c, "period", f"账期 {new['period']} 还没有开始，不能结账")
