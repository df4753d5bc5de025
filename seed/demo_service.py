"""Demo 维修与投诉: a year of work orders and complaints up to the demo's today (`as_of`, 17:00).

Rhythms: more leaks in winter, more noise complaints in summer, a recurring lift fault in one
building that becomes a complaint hotspot, a few reworks, the public holidays of the year.
Every order walks the real workflow through the save path, one change set per step.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

SEED = 20261212
DAYS = 365  # of orders and complaints, ending on as_of

# The State Council's arrangements as published: (date, is_workday, name)
OFFICIAL_HOLIDAYS = {
    2025: [(date(2025, 1, 1), False, "元旦"), (date(2025, 1, 26), True, "春节调休")]
    + [(date(2025, 1, 28) + timedelta(days=k), False, "春节") for k in range(8)]
    + [(date(2025, 2, 8), True, "春节调休")]
    + [(date(2025, 4, d), False, "清明节") for d in (4, 5, 6)]
    + [(date(2025, 4, 27), True, "劳动节调休")] + [(date(2025, 5, d), False, "劳动节") for d in range(1, 6)]
    + [(date(2025, 5, 31), False, "端午节"), (date(2025, 6, 1), False, "端午节"), (date(2025, 6, 2), False, "端午节")]
    + [(date(2025, 9, 28), True, "国庆调休"), (date(2025, 10, 11), True, "国庆调休")]
    + [(date(2025, 10, d), False, "国庆节、中秋节") for d in range(1, 9)],
    2026: [(date(2026, 1, d), False, "元旦") for d in (1, 2, 3)] + [(date(2026, 1, 4), True, "元旦调休")]
    + [(date(2026, 2, 15) + timedelta(days=k), False, "春节") for k in range(9)]
    + [(date(2026, 2, 14), True, "春节调休"), (date(2026, 2, 28), True, "春节调休")]
    + [(date(2026, 4, d), False, "清明节") for d in (4, 5, 6)]
    + [(date(2026, 5, d), False, "劳动节") for d in range(1, 6)] + [(date(2026, 5, 9), True, "劳动节调休")]
    + [(date(2026, 6, d), False, "端午节") for d in (19, 20, 21)]
    + [(date(2026, 9, d), False, "中秋节") for d in (25, 26, 27)]
    + [(date(2026, 10, d), False, "国庆节") for d in range(1, 8)],
}
# 春节, 端午节, 中秋节 follow the lunar calendar (new year's day, 5th of the 5th, 15th of the 8th)
LUNAR = {2024: ((2, 10), (6, 10), (9, 17)), 2027: ((2, 6), (6, 9), (9, 15)), 2028: ((1, 26), (5, 28), (10, 3)),
         2029: ((2, 13), (6, 16), (9, 22)), 2030: ((2, 3), (6, 5), (9, 12)), 2031: ((1, 23), (6, 24), (10, 1)),
         2032: ((2, 11), (6, 12), (9, 19)), 2033: ((1, 31), (6, 1), (9, 8)), 2034: ((2, 19), (6, 20), (9, 27)),
         2035: ((2, 8), (6, 10), (9, 16))}


def holidays_of(year: int) -> list[tuple[date, bool, str]]:
    """The public holidays of a year: as published where known, else the usual pattern
    (元旦 1 day, 春节 8, 清明 3, 劳动节 5, 端午 3, 中秋 3, 国庆 7; no make-up workdays)."""
    if year in OFFICIAL_HOLIDAYS:
        return OFFICIAL_HOLIDAYS[year]
    days = [(date(year, 1, 1), False, "元旦")]
    days += [(date(year, 4, d), False, "清明节") for d in (4, 5, 6)]
    days += [(date(year, 5, d), False, "劳动节") for d in range(1, 6)]
    days += [(date(year, 10, d), False, "国庆节") for d in range(1, 8)]
    if year in LUNAR:
        spring, dragon, moon = (date(year, m, d) for m, d in LUNAR[year])
        days += [(spring + timedelta(days=k), False, "春节") for k in range(-1, 7)]
        days += [(dragon + timedelta(days=k), False, "端午节") for k in range(3)]
        days += [(moon + timedelta(days=k), False, "中秋节") for k in range(3) if moon + timedelta(days=k) not in
                 {d for d, _, _ in days}]
    return sorted(days)


CATEGORIES = ("水电", "管道", "门窗", "电梯", "公共设施", "其他")
WHAT = {
    "水电": ("卫生间插座跳闸", "楼道灯不亮", "厨房照明短路", "电表箱空开老化"),
    "管道": ("厨房下水管漏水", "卫生间地漏堵塞", "水管冻裂渗水", "楼上渗水到天花板"),
    "门窗": ("单元门闭门器损坏", "窗户合页松动", "入户门锁芯卡滞"),
    "电梯": ("电梯运行异响", "电梯门反复开关", "电梯困人"),
    "公共设施": ("小区路灯不亮", "健身器材损坏", "雨水井盖松动", "监控摄像头离线"),
    "其他": ("信报箱锁损坏", "楼道墙面脱落"),
}
COMPLAINT_WHAT = {
    "噪音": ("楼上装修噪音", "广场舞音响太吵", "夜间空调外机噪音"), "环境卫生": ("垃圾清运不及时", "楼道未清扫"),
    "停车": ("车位被占用", "消防通道停车"), "服务态度": ("前台人员态度差",), "维修": ("报修后迟迟无人上门",),
    "收费": ("物业费标准有疑问",), "安全": ("单元门禁损坏陌生人进出",), "绿化": ("绿化带杂草丛生",),
    "其他": ("快递堆放楼道",),
}


def _when(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(7, 22), weights=[3, 8, 9, 8, 6, 5, 7, 8, 7, 6, 5, 4, 3, 2, 1])[0]
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60))


def _changes(db: Database, actor: Actor, register: str, rows: list[tuple[int | None, dict]]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values=v) if rid is None else RowChange("update", rid, v) for rid, v in rows]
    return apply_changes(db, actor, register, changes).inserted


def _walk_orders(db: Database, actor: Actor, rng: random.Random, plans: list[dict],
                 now: datetime) -> dict[str, int]:
    """Insert the planned orders and move each through the steps it reached by `now`."""
    ids = _changes(db, actor, "work_orders", [(None, p["row"]) for p in plans])
    for p, oid in zip(plans, ids):
        p["id"] = oid
    steps = [
        ("dispatch", lambda p: {"status": "已派工", "assignee_id": p["assignee"], "status_changed_at": p["dispatch"]}),
        ("arrive", lambda p: {"status": "处理中", "status_changed_at": p["arrive"]}),
        ("pause", lambda p: {"status": "暂停", "status_changed_at": p["pause"], "pause_reason": p["reason"]}),
        ("resume", lambda p: {"status": "处理中", "status_changed_at": p["resume"]}),
        ("complete", lambda p: {"status": "已完成", "status_changed_at": p["complete"], "report": p["report"],
                                "labor_hours": p["hours"], "charge": p["charge"], "owner_confirmed": True}),
    ]
    for key, values in steps:
        _changes(db, actor, "work_orders", [(p["id"], values(p)) for p in plans if p.get(key) and p[key] <= now])
        if key == "arrive":
            _issue_materials(db, actor, rng, [p for p in plans if p["arrive"] <= now])
    visits = [(None, {"work_order_id": p["id"], "visited_at": p["visit"], "satisfaction": p["score"],
                      "staff_id": p["visitor"], "needs_rework": p["score"] <= 2,
                      "comment": "满意" if p["score"] >= 4 else "仍有问题"})
              for p in plans if p.get("visit") and p["visit"] <= now]
    _changes(db, actor, "work_order_visits", visits)
    _changes(db, actor, "work_orders",
             [(p["id"], {"status": "已关闭", "status_changed_at": p["close"]})
              for p in plans if p.get("visit") and p["visit"] <= now and p["close"] <= now])
    return {"work_orders": len(ids), "work_order_visits": len(visits)}


STOCK_FOR = {"水电": "电料", "管道": "水暖", "门窗": "五金", "公共设施": "电料"}


def _issue_materials(db: Database, actor: Actor, rng: random.Random, plans: list[dict]) -> int:
    """Some arrived orders draw 1–3 of a fitting stock item, 10 minutes after arrival.

    Each issue is kept only if the item's balance stays >= 0 from then on (the save path would
    refuse it otherwise); the unit price is the item's average 入库 price by then, as the save path
    would fill it in, computed here from the same movements to keep seeding fast.
    """
    items: dict[tuple[int, str], list[int]] = {}
    for item_id, cid, category in db.rows("SELECT id, community_id, category FROM stock_items WHERE deleted_at IS NULL"):
        items.setdefault((cid, category), []).append(item_id)
    timeline: dict[int, list[tuple[datetime, Decimal, Decimal | None]]] = {}
    for item_id, moved_at, direction, qty, price in db.rows(
            "SELECT stock_item_id, moved_at, direction, qty, unit_price FROM stock_movements "
            "WHERE deleted_at IS NULL ORDER BY moved_at, id"):
        delta = {"入库": qty, "出库": -qty}.get(direction, qty)
        timeline.setdefault(item_id, []).append((moved_at, delta, price if direction == "入库" else None))
    issues = []
    for p in sorted(plans, key=lambda p: p["arrive"]):
        row = p["row"]
        choices = items.get((row["community_id"], STOCK_FOR.get(row["category"], "")))
        if not choices or rng.random() > 0.35:
            continue
        item = rng.choice(choices)
        qty = Decimal(rng.randint(1, 3))
        at = p["arrive"] + timedelta(minutes=10)
        moves = timeline.get(item, [])
        before = [m for m in moves if m[0] <= at]
        balance = sum((m[1] for m in before), Decimal(0)) - qty
        lowest = balance
        for m in moves[len(before):]:
            balance += m[1]
            lowest = min(lowest, balance)
        bought = [(m[1], m[2]) for m in before if m[2] is not None]
        if lowest < 0 or not bought:
            continue
        value = sum(q * price for q, price in bought)
        price = (value / sum(q for q, _ in bought)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        moves.insert(len(before), (at, -qty, None))
        issues.append((None, {"stock_item_id": item, "moved_at": at, "direction": "出库", "qty": qty,
                              "unit_price": price, "work_order_id": p["id"], "handler_id": p["assignee"],
                              "note": "维修领料"}))
    return len(_changes(db, actor, "stock_movements", issues))


def _plan_order(rng: random.Random, cid: int, household: int | None, location: str, category: str,
                reported: datetime, engineers: list[int], clerks: list[int], rework_of: int | None = None) -> dict:
    urgency = "紧急" if category == "电梯" and rng.random() < 0.5 else rng.choices(("紧急", "一般", "预约"), (1, 6, 2))[0]
    row = {"community_id": cid, "household_id": household, "location": location, "category": category,
           "description": rng.choice(WHAT[category]), "urgency": urgency, "reported_at": reported,
           "channel": rng.choices(("电话", "网络", "前台", "巡查"), (6, 3, 2, 1))[0], "rework_of": rework_of}
    if urgency == "预约":
        row["appointment_at"] = (reported + timedelta(days=rng.randint(1, 3))).replace(
            hour=rng.choice((9, 10, 14, 15)), minute=0)
    plan: dict = {"row": row, "assignee": rng.choice(engineers), "visitor": rng.choice(clerks)}
    plan["dispatch"] = reported + timedelta(minutes=rng.randint(2, 20))
    limit = {"紧急": 30, "一般": 1440}.get(urgency)
    if limit is None:  # 预约: at the appointment, a few minutes either way, sometimes late
        arrive = row["appointment_at"] + timedelta(minutes=rng.randint(-10, 12 if rng.random() < 0.9 else 60))
    else:
        late = rng.random() < 0.08
        arrive = reported + timedelta(minutes=rng.randint(limit + 5, limit * 2) if late
                                      else rng.randint(min(10, limit // 2), int(limit * 0.9)))
    plan["arrive"] = max(arrive, plan["dispatch"] + timedelta(minutes=1))
    work = timedelta(minutes=rng.randint(30, 240))
    if rng.random() < 0.12:
        plan["pause"] = plan["arrive"] + timedelta(minutes=20)
        plan["reason"] = rng.choice(("等待配件", "业主不在家", "需物业公司审批"))
        plan["resume"] = plan["pause"] + timedelta(hours=rng.randint(4, 60))
        plan["complete"] = plan["resume"] + work
    else:
        plan["complete"] = plan["arrive"] + (work if rng.random() < 0.93 else timedelta(hours=rng.randint(75, 100)))
    plan["report"] = f"{row['description']}：已检修处理"
    plan["hours"] = Decimal(rng.choice(("0.5", "1.0", "1.5", "2.0", "3.0")))
    plan["charge"] = Decimal(rng.choice(("0.00", "0.00", "0.00", "30.00", "50.00", "80.00")))
    if rng.random() < 0.85:
        plan["visit"] = plan["complete"] + timedelta(hours=rng.randint(20, 72))
        plan["score"] = rng.choices((5, 4, 3, 2, 1), (50, 30, 12, 6, 2))[0]
        plan["close"] = plan["visit"] + timedelta(hours=rng.randint(1, 48))
    return plan


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    start, now = as_of - timedelta(days=DAYS - 1), datetime.combine(as_of, time(17, 0))
    have = {r[0] for r in db.rows("SELECT on_date FROM holidays WHERE deleted_at IS NULL")}
    calendar = [h for year in range(start.year, as_of.year + 2) for h in holidays_of(year)]
    holidays = [(None, {"on_date": d, "is_workday": w, "name": n}) for d, w, n in calendar if d not in have]
    counts = {"holidays": len(_changes(db, actor, "holidays", holidays))}
    staff = db.rows("SELECT s.id, s.community_id, coalesce(d.name, '') FROM staff s LEFT JOIN departments d "
                    "ON d.id = s.department_id WHERE s.deleted_at IS NULL AND s.status = '在职' ORDER BY s.id")
    plans: list[dict] = []
    complaints: list[dict] = []
    for cid, in db.rows("SELECT id FROM communities WHERE deleted_at IS NULL ORDER BY id"):
        mine = [s for s in staff if s[1] == cid] or staff
        if not mine:
            continue
        engineers = [s[0] for s in mine if s[2].startswith("工程")] or [s[0] for s in mine]
        clerks = [s[0] for s in mine if s[2].startswith(("客服", "综合"))] or [s[0] for s in mine]
        homes = db.rows("SELECT h.id, coalesce(b.code, split_part(h.code, '-', 1)) FROM households h "
                        "LEFT JOIN buildings b ON b.id = h.building_id WHERE h.community_id = ? "
                        "AND h.deleted_at IS NULL AND h.usage = '住宅' ORDER BY h.id", [cid])
        if not homes:
            continue
        lift_building = "5"
        day = start
        while day <= as_of:
            winter = day.month in (12, 1, 2)
            for _ in range(rng.choices((0, 1, 2, 3), (3, 4, 2, 1 + winter))[0]):
                weights = (3, 4 + 4 * winter, 2, 1, 2, 1)
                category = rng.choices(CATEGORIES, weights)[0]
                hid, building = rng.choice(homes)
                public = category in ("电梯", "公共设施")
                location = f"{building}幢电梯" if category == "电梯" else ("小区公共区域" if public else None)
                plans.append(_plan_order(rng, cid, None if public else hid, location, category,
                                         _when(rng, day), engineers, clerks))
            if cid == 1 and day.weekday() == 2 and rng.random() < 0.5:  # the lift that keeps failing
                plans.append(_plan_order(rng, cid, None, f"{lift_building}幢电梯", "电梯", _when(rng, day),
                                         engineers, clerks))
            summer = day.month in (6, 7, 8)
            for _ in range(rng.choices((0, 1, 2), (6, 3 + 2 * summer, 1))[0]):
                cats = tuple(COMPLAINT_WHAT)
                category = rng.choices(cats, (2 + 6 * summer, 3, 2, 1, 1, 1, 1, 1, 1))[0]
                hid, building = rng.choice(homes)
                complaints.append(_plan_complaint(rng, cid, hid, f"{building}幢", category, _when(rng, day), clerks))
            if cid == 1 and day >= as_of - timedelta(days=25) and day.weekday() in (0, 3):
                complaints.append(_plan_complaint(rng, cid, None, f"{lift_building}幢电梯", "安全",
                                                  _when(rng, day), clerks, what="电梯频繁故障，多次困人"))
            day += timedelta(days=1)
    counts |= _walk_orders(db, actor, rng, plans, now)
    # reworks: a few visits asked for it, opened a few days later as linked orders
    again = [p for p in plans if p.get("visit") and p["score"] <= 2 and p["visit"] + timedelta(days=3) <= now]
    reworks = [_plan_order(rng, p["row"]["community_id"], p["row"]["household_id"], p["row"]["location"],
                           p["row"]["category"], p["visit"] + timedelta(days=rng.randint(1, 3)),
                           [p["assignee"]], [p["visitor"]], rework_of=p["id"]) for p in again]
    for rework in reworks:  # the rework fixed it: its visit asks for no other
        if "score" in rework:
            rework["score"] = max(rework["score"], 3)
    extra = _walk_orders(db, actor, rng, reworks, now)
    counts["work_orders"] += extra["work_orders"]
    counts["work_order_visits"] += extra["work_order_visits"]
    counts["complaints"] = _walk_complaints(db, actor, complaints, now)
    return counts


def _plan_complaint(rng: random.Random, cid: int, hid: int | None, location: str, category: str,
                    received: datetime, clerks: list[int], what: str | None = None) -> dict:
    valid = category != "收费" or rng.random() < 0.3
    row = {"community_id": cid, "household_id": hid, "location": location, "category": category,
           "description": what or rng.choice(COMPLAINT_WHAT[category]), "received_at": received,
           "channel": rng.choices(("电话", "网络", "前台", "信函", "上级转办"), (6, 3, 3, 1, 1))[0], "is_valid": valid}
    plan = {"row": row}
    if valid:
        row["responsible_id"], row["status"] = rng.choice(clerks), "处理中"
        plan["handled"] = received + timedelta(hours=rng.randint(2, 40) if rng.random() < 0.85 else rng.randint(80, 160))
        plan["feedback"] = plan["handled"] + timedelta(hours=rng.randint(1, 30))
        plan["satisfied"] = rng.random() < 0.85
        plan["close"] = plan["feedback"] + timedelta(hours=rng.randint(2, 48))
    else:
        plan["close"] = received + timedelta(hours=1)
    return plan


def _walk_complaints(db: Database, actor: Actor, plans: list[dict], now: datetime) -> int:
    ids = _changes(db, actor, "complaints", [(None, p["row"]) for p in plans])
    for p, cid in zip(plans, ids):
        p["id"] = cid
    _changes(db, actor, "complaints", [
        (p["id"], {"status": "已处理", "status_changed_at": p["handled"], "result": "已联系相关方处理完毕"})
        for p in plans if p.get("handled") and p["handled"] <= now])
    _changes(db, actor, "complaints", [
        (p["id"], {"status": "已反馈", "status_changed_at": p["feedback"], "owner_satisfied": p["satisfied"]})
        for p in plans if p.get("feedback") and p["feedback"] <= now])
    _changes(db, actor, "complaints", [
        (p["id"], {"status": "已关闭", "status_changed_at": p["close"]})
        for p in plans if p["close"] <= now and (not p.get("feedback") or p["feedback"] <= now)])
    return len(ids)
