"""Demo data for 收费管理: 12 months of fee standards, bills, receipts and payments.

Runs after the core demo and reads households and staff from the database. Bills come from the
real bill run (`app.billing.generate_bills`); receipts carry their numbers the way migrated
history does (one per household and day paid, numbered per community and year in time order),
and their payments are written through the save path in bulk. Patterns: most households pay
on time, some late, a few pay every few months, a few stop paying (long-term arrears); some
waivers, one refund, one voided receipt, vacant units at a reduced ratio, water meters for shops.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app import billing
from app.changes import RowChange, apply_changes
from app.db import Database
from app.permissions import Actor

SEED = 20260505
AS_OF = date(2026, 9, 30)
PERIODS = [f"{y}-{m:02d}" for y, m in
           [((2025 * 12 + 9 + k) // 12, (9 + k) % 12 + 1) for k in range(12)]]  # 2025-10 … 2026-09
HABITS = (("准时", "拖延", "攒着交", "长期欠费"), (72, 17, 6, 5))
RESIDENTIAL_PRICE = {"阳光花园": "1.2000", "翠湖苑": "2.3000"}


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _fee_items(c: int, name: str, approver: int | None) -> list[dict]:
    base = {"community_id": c, "status": "已审批", "approved_by_id": approver,
            "approved_on": date(2024, 6, 20), "effective_from": date(2024, 7, 1)}
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


def _readings(rng: random.Random, shops: list[int]) -> list[dict]:
    rows = []
    for h in shops:
        reading = Decimal(rng.randrange(100, 900))
        for period in PERIODS:
            used = Decimal(rng.randrange(30, 400)) / 10
            y, m = map(int, period.split("-"))
            rows.append({"household_id": h, "meter": "水", "period": period, "prev_reading": reading,
                         "curr_reading": reading + used, "read_on": date(y, m, 20)})
            reading += used
    return rows


def _pay_day(rng: random.Random, habit: str, due: date, k: int) -> date | None:
    if habit == "准时":
        return due - timedelta(days=rng.randrange(0, 20))
    if habit == "拖延":
        return due + timedelta(days=rng.randrange(5, 75))
    if habit == "攒着交":  # pays three months at once
        return due + timedelta(days=(2 - k % 3) * 30 + rng.randrange(1, 10))
    return None


def seed(db: Database, actor: Actor) -> dict[str, int]:
    rng = random.Random(SEED)
    actor = actor.via("演示数据")
    counts: dict[str, int] = defaultdict(int)
    communities = db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id")
    for c, name in communities:
        staff = [r[0] for r in db.rows(
            "SELECT id FROM staff WHERE deleted_at IS NULL AND (community_id = ? OR community_id IS NULL) "
            "ORDER BY id", [c])]
        approver = staff[0] if staff else None
        cashier = staff[1] if len(staff) > 1 else approver
        counts["fee_items"] += len(_insert(db, actor, "fee_items", _fee_items(c, name, approver)))
        shops = [r[0] for r in db.rows(
            "SELECT id FROM households WHERE community_id = ? AND usage = '商铺' AND deleted_at IS NULL "
            "ORDER BY id", [c])]
        counts["meter_readings"] += len(_insert(db, actor, "meter_readings", _readings(rng, shops)))
        for period in PERIODS:
            counts["bills"] += billing.generate_bills(db, actor, c, period)

        households = [r[0] for r in db.rows(
            "SELECT id FROM households WHERE community_id = ? AND deleted_at IS NULL ORDER BY id", [c])]
        habit = {h: rng.choices(*HABITS)[0] for h in households}
        stops = {h: rng.randrange(0, 9) for h in households if habit[h] == "长期欠费"}
        bills = db.rows(
            "SELECT b.id, b.household_id, b.period, b.amount, b.due_date FROM bills b "
            "JOIN households h ON h.id = b.household_id WHERE h.community_id = ? ORDER BY b.id", [c])
        # (household, day) -> [(bill, amount)]
        paying: dict[tuple[int, date], list[tuple[int, Decimal]]] = defaultdict(list)
        for bill_id, h, period, amount, due in bills:
            k = PERIODS.index(period)
            if habit[h] == "长期欠费" and k >= stops[h]:
                continue
            day = _pay_day(rng, habit[h] if habit[h] != "长期欠费" else "拖延", due, k)
            if day is None or day > AS_OF:
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
        unpaid = [b for b in bills if b[4] < AS_OF and b[0] not in paid_ids]
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
    return dict(counts)
