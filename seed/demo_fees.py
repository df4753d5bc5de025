"""Demo data for 收费管理: 24 months of fee standards, bills, receipts and payments.

Runs after the core demo and reads households and staff from the database. Bills come from the
real bill run (`app.fees.billing.generate_bills`); receipts carry their numbers the way migrated
history does (one per household and day paid, numbered per community and year in time order),
and their payments are written through the save path in bulk. Patterns: most households pay
on time, some late, a few pay every few months, a few stop paying (long-term arrears); some
waivers, one refund, one voided receipt, vacant units at a reduced ratio, water meters for shops.
Then the year's budget and monthly income and spending (finance_entries: 物业费收入 is the month's
receipts), 催缴 steps for the long overdue households (through fee_documents, with the arrears of
the day) and the cashier's day closes of the last days with receipts (one short of cash, explained).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.access.permissions import Actor
from app.fees import billing, fee_documents
from app.fees import cashier as cashier_desk
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

SEED = 20260505
MONTHS = 24  # of bills, ending with the month of as_of
# How households pay: most on time, some a few weeks late, a few every three months, about one
# in 170 stopped paying months ago (an office's usual arrears, not a crisis).
HABITS = (("准时", "拖延", "攒着交", "长期欠费"), (93.85, 3.4, 2.4, 0.35))
RESIDENTIAL_PRICE = {"阳光花园": "1.2000", "翠湖苑": "2.3000"}
# monthly spending per household (元) by category, for the budget and the entries
SPENDING = {"人工": 38, "能耗": 9, "维修": 6, "保洁": 7, "绿化": 4, "保安": 12, "办公": 2}


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def periods_until(as_of: date, months: int = MONTHS) -> list[str]:
    """The `months` bill periods ending with as_of's month, oldest first ('2024-10' … '2026-09')."""
    last = as_of.year * 12 + as_of.month - 1
    return [f"{k // 12}-{k % 12 + 1:02d}" for k in range(last - months + 1, last + 1)]


def _fee_items(c: int, name: str, approver: int | None, first_period: str) -> list[dict]:
    # approved a quarter before the first billed month
    y, m = map(int, first_period.split("-"))
    effective = date(y - (m <= 3), (m - 4) % 12 + 1, 1)
    base = {"community_id": c, "status": "已审批", "approved_by_id": approver,
            "approved_on": effective - timedelta(days=11), "effective_from": effective}
    return [
        {**base, "name": "物业费（住宅）", "method": "按面积", "unit_price": RESIDENTIAL_PRICE.get(name, "1.8"),
         "cycle": "月", "usage_scope": "住宅", "vacant_ratio": "0.7"},
        {**base, "name": "物业费（商铺）", "method": "按面积", "unit_price": "3.5000", "cycle": "月",
         "usage_scope": "商铺"},
        {**base, "name": "车库管理费", "method": "固定", "unit_price": "30.0000", "cycle": "季",
         "usage_scope": "车库"},
        {**base, "name": "水费（商铺）", "method": "按用量", "unit_price": "3.2000", "cycle": "月",
         "usage_scope": "商铺", "meter": "水"},
        {**base, "name": "电梯费", "method": "按面积", "unit_price": "0.3000", "cycle": "月",
         "usage_scope": "住宅", "status": "已申报", "approved_by_id": None, "approved_on": None},
    ]


def _rules(db: Database, c: int, approver: int | None, as_of: date) -> dict[str, list[dict]]:
    """Discount rules (two approved, one draft) and temporary-parking rules: the settings as the
    default row (the same fees as before), motorcycles cheaper, and a day/night rule from next month."""
    home_fee = db.scalar("SELECT id FROM fee_items WHERE community_id = ? AND name = '物业费（住宅）'", [c])
    start = date(as_of.year - 1, 1, 1)
    approved = {"community_id": c, "status": "已审批", "approved_by_id": approver,
                "approved_on": start - timedelta(days=5), "valid_from": start}
    next_month = (as_of.replace(day=1) + timedelta(days=32)).replace(day=1)
    parking = {"community_id": c, "valid_from": start}
    return {
        "fee_discounts": [
            {**approved, "name": "预缴一年赠一个月", "fee_item_id": home_fee, "kind": "预缴满N月赠M月",
             "min_months": 12, "free_months": 1, "only_without_arrears": True},
            {**approved, "name": "预缴半年九八折", "kind": "预缴满N月折扣", "min_months": 6, "percent_off": "2"},
            {"community_id": c, "status": "草稿", "valid_from": as_of.replace(day=1), "name": "空置房六折",
             "fee_item_id": home_fee, "kind": "空置房比例", "vacant_ratio": "0.6",
             "note": "待物业服务中心审批"},
        ],
        "parking_rules": [
            {**parking, "name": "临时停车（原规则）", "free_minutes": 30, "first_hour": "2.00", "per_hour": "2.00",
             "daily_cap": "20.00", "cap_basis": "每24小时", "valid_to": next_month - timedelta(days=1)},
            {**parking, "name": "摩托车", "vehicle_type": "摩托车", "free_minutes": 60, "first_hour": "1.00",
             "per_hour": "1.00", "daily_cap": "5.00"},
            {**parking, "name": "临时停车（日夜）", "free_minutes": 20, "first_hour": "5.00", "per_hour": "2.00",
             "daily_cap": "30.00", "night_from": 22, "night_to": 7, "night_per_hour": "1.00",
             "valid_from": next_month},
        ],
    }


def _readings(rng: random.Random, shops: list[int], periods: list[str]) -> list[dict]:
    rows = []
    for h in shops:
        reading = Decimal(rng.randrange(100, 900))
        for period in periods:
            used = Decimal(rng.randrange(30, 400)) / 10
            y, m = map(int, period.split("-"))
            rows.append({"household_id": h, "meter": "水", "period": period, "prev_reading": reading,
                         "curr_reading": reading + used, "read_on": date(y, m, 20)})
            reading += used
    return rows


def _pay_day(rng: random.Random, habit: str, due: date, k: int) -> date | None:
    if habit == "准时":  # from the first of the month (bills are issued then) to the due day
        return due - timedelta(days=rng.randrange(0, 25))
    if habit == "拖延":
        return due + timedelta(days=rng.randrange(5, 45))
    if habit == "攒着交":  # pays three months at once
        return due + timedelta(days=(2 - k % 3) * 30 + rng.randrange(1, 10))
    return None


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    periods = periods_until(as_of)
    actor = actor.via("演示数据")
    counts: dict[str, int] = defaultdict(int)
    communities = db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id")
    for c, name in communities:
        staff = [r[0] for r in db.rows(
            "SELECT id FROM staff WHERE deleted_at IS NULL AND (community_id = ? OR community_id IS NULL) "
            "ORDER BY id", [c])]
        approver = staff[0] if staff else None
        cashier = staff[1] if len(staff) > 1 else approver
        counts["fee_items"] += len(_insert(db, actor, "fee_items", _fee_items(c, name, approver, periods[0])))
        for register, rows in _rules(db, c, approver, as_of).items():
            counts[register] += len(_insert(db, actor, register, rows))
        shops = [r[0] for r in db.rows(
            "SELECT id FROM households WHERE community_id = ? AND usage = '商铺' AND deleted_at IS NULL "
            "ORDER BY id", [c])]
        counts["meter_readings"] += len(_insert(db, actor, "meter_readings", _readings(rng, shops, periods)))
        for period in periods:
            counts["bills"] += billing.generate_bills(db, actor, c, period)

        households = [r[0] for r in db.rows(
            "SELECT id FROM households WHERE community_id = ? AND deleted_at IS NULL ORDER BY id", [c])]
        habit = {h: rng.choices(*HABITS)[0] for h in households}
        # long-term arrears: paid for a while, then stopped (4 to 14 months owed)
        stops = {h: rng.randrange(MONTHS - 14, MONTHS - 3) for h in households if habit[h] == "长期欠费"}
        bills = db.rows(
            "SELECT b.id, b.household_id, b.period, b.amount, b.due_date FROM bills b "
            "JOIN households h ON h.id = b.household_id WHERE h.community_id = ? ORDER BY b.id", [c])
        # (household, day) -> [(bill, amount)]
        paying: dict[tuple[int, date], list[tuple[int, Decimal]]] = defaultdict(list)
        for bill_id, h, period, amount, due in bills:
            k = periods.index(period)
            if habit[h] == "长期欠费" and k >= stops[h]:
                continue
            day = _pay_day(rng, habit[h] if habit[h] != "长期欠费" else "拖延", due, k)
            if day is None or day > as_of:
                continue
            paying[h, day].append((bill_id, amount))
        receipts, allocations = [], []
        number: dict[int, int] = defaultdict(int)
        methods = ("微信", "微信", "支付宝", "现金", "银行转账")
        for (h, day), lines in sorted(paying.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            number[day.year] += 1
            at = datetime.combine(day, time(9 + rng.randrange(0, 9), rng.randrange(0, 60)))
            receipts.append({"receipt_no": f"{day.year}-{number[day.year]:06d}", "community_id": c,
                             "household_id": h, "paid_at": at, "total": sum(a for _, a in lines),
                             "method": rng.choice(methods), "cashier_id": cashier})
            allocations.append([(b, a, at) for b, a in lines])
        ids = _insert(db, actor, "receipts", receipts)
        counts["receipts"] += len(ids)
        payments = [{"bill_id": b, "receipt_id": r, "paid_at": at, "amount": a}
                    for r, lines in zip(ids, allocations) for b, a, at in lines]
        counts["payments"] += len(_insert(db, actor, "payments", payments))

        # waivers for a few owners in hardship, a refund of an overpaid water bill, a voided receipt
        adjustments = []
        paid_ids = {p["bill_id"] for p in payments}
        unpaid = [b for b in bills if b[4] < as_of and b[0] not in paid_ids]
        for bill_id, _, _, amount, due in rng.sample(unpaid, min(8, len(unpaid))):
            adjustments.append({"bill_id": bill_id, "kind": "减免", "amount": (amount / 2).quantize(Decimal("0.01")),
                                "reason": "困难家庭减免（经理批准）", "approved_by_id": approver,
                                "adjusted_at": datetime.combine(due + timedelta(days=3), time(10))})
        if payments:
            p = payments[len(payments) // 2]
            adjustments.append({"bill_id": p["bill_id"], "kind": "退款", "amount": Decimal("10.00"),
                                "reason": "多收退回", "approved_by_id": approver,
                                "adjusted_at": p["paid_at"] + timedelta(days=5)})
        counts["bill_adjustments"] += len(_insert(db, actor, "bill_adjustments", adjustments))
        if ids:
            billing.void_receipt(db, actor, ids[len(ids) // 3], "收款信息录错，已作废")
        _finance(db, actor, random.Random(SEED + c), c, len(households), counts, as_of, periods)
        _arrears_steps(db, actor, c, approver, counts, as_of)
        if cashier:
            _day_closes(db, actor, c, cashier, counts)
    return dict(counts)


def _finance(db: Database, actor: Actor, rng: random.Random, c: int, households: int,
             counts: dict[str, int], as_of: date, periods: list[str]) -> None:
    """This year's budget (approved by the owners' committee last December, fees from this
    year's receipts so far) and the monthly entries of every period."""
    income = dict(db.rows(
        "SELECT strftime(paid_at, '%Y-%m'), sum(total) FROM receipts WHERE community_id = ? "
        "AND deleted_at IS NULL AND NOT coalesce(voided, false) GROUP BY 1", [c]))
    so_far = as_of.month
    budget_fees = sum(income.get(p, 0) for p in periods[-so_far:]) / so_far * 12
    year, approved = as_of.year, date(as_of.year - 1, 12, 20)
    budgets = [{"community_id": c, "year": year, "category": "物业费收入",
                "amount": money_of(budget_fees * Decimal("1.08")), "approved_on": approved,
                "note": "按应收测算"},
               {"community_id": c, "year": year, "category": "公共收益", "amount": money_of(48000),
                "approved_on": approved}]
    budgets += [{"community_id": c, "year": year, "category": cat,
                 "amount": money_of(per * households * 12), "approved_on": approved}
                for cat, per in SPENDING.items()]
    counts["budgets"] += len(_insert(db, actor, "budgets", budgets))
    entries = []
    for period in periods:
        y, m = map(int, period.split("-"))
        end = date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)
        if period in income:
            entries.append({"community_id": c, "entry_date": end, "direction": "收入", "category": "物业费收入",
                            "amount": money_of(income[period]), "voucher_no": f"记-{period}-01",
                            "note": "当月收据汇总"})
        entries.append({"community_id": c, "entry_date": end, "direction": "收入", "category": "公共收益",
                        "amount": money_of(rng.randrange(2500, 5500)), "voucher_no": f"记-{period}-02",
                        "note": "广告位、场地租金"})
        for n, (cat, per) in enumerate(SPENDING.items(), start=3):
            swing = Decimal(rng.randrange(85, 125)) / 100 if cat in ("维修", "能耗") else Decimal(1)
            entries.append({"community_id": c, "entry_date": end - timedelta(days=2), "direction": "支出",
                            "category": cat, "amount": money_of(per * households * swing),
                            "voucher_no": f"记-{period}-{n:02d}"})
    counts["finance_entries"] += len(_insert(db, actor, "finance_entries", entries))


def _arrears_steps(db: Database, actor: Actor, c: int, handler: int | None, counts: dict[str, int],
                   as_of: date) -> None:
    """催缴: a notice to everyone two months overdue about three months ago, a written demand with
    a deadline two weeks ahead three weeks ago to those five months overdue, and the owners'
    committee for the longest one ten days ago."""
    def overdue(day: date, days: int) -> list[int]:
        return [r[0] for r in db.rows(
            "SELECT household_id FROM arrears_as_of(CAST(? AS DATE)) WHERE community_id = ? "
            "AND days_overdue >= ? ORDER BY days_overdue DESC, household_id", [day, c, days])]
    notice, demand = as_of - timedelta(days=86), as_of - timedelta(days=22)
    steps = [("催缴通知书", notice, overdue(notice, 60), None),
             ("书面催告", demand, overdue(demand, 150), as_of + timedelta(days=15))]
    steps.append(("业委会督促", as_of - timedelta(days=10), steps[1][2][:1], None))
    for step, day, households, deadline in steps:
        counts["arrears_actions"] += len(fee_documents.record_arrears_actions(
            db, actor, households, step, day, handler_id=handler, deadline=deadline))


def _day_closes(db: Database, actor: Actor, c: int, cashier_id: int, counts: dict[str, int]) -> None:
    """日结 of the cashier's last five days with receipts (not closed yet: a cashier of the whole
    group closes a day once); the first one is 20 元 short."""
    days = [r[0] for r in db.rows(
        "SELECT DISTINCT CAST(paid_at AS DATE) AS day FROM receipts WHERE community_id = ? AND cashier_id = ? "
        "AND deleted_at IS NULL AND NOT coalesce(voided, false) AND CAST(paid_at AS DATE) NOT IN "
        "(SELECT closing_on FROM cash_closings WHERE cashier_id = ? AND deleted_at IS NULL) "
        "ORDER BY day DESC LIMIT 5", [c, cashier_id, cashier_id])]
    for n, day in enumerate(sorted(days)):
        cash = cashier_desk.day_close_preview(db, c, cashier_id, day)["cash_total"]
        short = Decimal("20.00") if n == 0 and cash >= 20 else Decimal(0)
        cashier_desk.close_day(db, actor, c, cashier_id, day, cash - short,
                          note="清点少 20 元，收款员已签字说明" if short else None)
        counts["cash_closings"] += 1


def money_of(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
