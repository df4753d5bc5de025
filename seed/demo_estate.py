"""Demo 装修、停车、入住与空房、应急 up to the demo's today (`as_of`).

Rhythms: temporary parking every day (deliveries under the free half hour, visitors for a few
hours, a few overnight, rarely more than a day), leased spaces with some leases ending soon,
decorations in every stage with a few violations and penalties, monthly checks of vacant units
(some late), key loans, emergency plans with one overdue review, a handful of incidents.
Every row goes through the save path, a few change sets per register (fast).
"""

from __future__ import annotations

import random
import string
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

SEED = 20260707
PARKING_DAYS = 60
PROVINCE = ("浙A", "浙A", "浙A", "浙A", "浙B", "浙C", "浙D", "沪A", "苏E", "皖A")
CONTRACTORS = ("杭州美家装饰工程有限公司", "浙江欧雅建筑装饰有限公司", "杭州宜居装饰设计有限公司",
               "杭州匠心家装工程有限公司", None)
CONTENT = ("厨卫翻新、地面铺装", "全屋墙面涂刷、更换地板", "阳台封闭、厨房橱柜更换", "卫生间防水重做、更换洁具",
           "整体翻新（水电改造、吊顶、地面、墙面）")
VIOLATIONS = (("违规时间施工", "中午12:00-14:00电钻施工，邻居投诉", Decimal("200.00")),
              ("垃圾乱堆", "装修垃圾堆放在楼道超过24小时", Decimal("100.00")),
              ("无证人员施工", "发现2名施工人员未办理出入证", Decimal("100.00")),
              ("消防隐患", "楼道内堆放油漆、稀释剂等易燃物", Decimal("300.00")),
              ("拆改承重结构", "擅自拆除阳台与卧室间承重墙体", Decimal("1000.00")))
WORKERS = ("赵建国", "钱永强", "孙德胜", "李卫东", "周海波", "吴志刚", "郑立新", "王长江", "冯国庆", "陈小兵")
TRADES = ("水电", "泥瓦", "木工", "油漆", "杂工")
PLANS = (("火灾", "火灾事故应急预案"), ("水管爆裂", "给排水管道爆裂应急预案"), ("停电", "突发停电应急预案"),
         ("电梯困人", "电梯困人应急救援预案"), ("燃气", "燃气泄漏应急预案"), ("其他", "台风暴雨防汛应急预案"))


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(rng.choice(string.digits + letters) for _ in range(4))
    return rng.choice(PROVINCE) + rng.choice(letters) + tail


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day) + timedelta(hours=hour, minutes=minute)


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    counts: dict[str, int] = {}
    staff = db.rows("SELECT s.id, s.community_id, coalesce(d.name, '') FROM staff s LEFT JOIN departments d "
                    "ON d.id = s.department_id WHERE s.deleted_at IS NULL AND s.status = '在职' ORDER BY s.id")
    for cid, in db.rows("SELECT id FROM communities WHERE deleted_at IS NULL ORDER BY id"):
        mine = [s for s in staff if s[1] == cid] or staff
        if not mine:
            continue
        by_dept = {}
        for sid, _, dept in mine:
            by_dept.setdefault(dept, []).append(sid)
        everyone = [s[0] for s in mine]
        people = {k: by_dept.get(k) or everyone for k in ("客服部", "工程部", "保安部")}
        homes = db.rows("SELECT id, code, status, usage, handover_date, move_in_date FROM households "
                        "WHERE community_id = ? AND deleted_at IS NULL ORDER BY id", [cid])
        if not homes:
            continue
        for part in (_parking(db, actor, rng, cid, homes, people, as_of),
                     _decorations(db, actor, rng, homes, people, as_of),
                     _units(db, actor, rng, homes, people, as_of), _emergencies(db, actor, rng, cid, people, as_of)):
            for register, n in part.items():
                counts[register] = counts.get(register, 0) + n
    return counts


# -- parking --------------------------------------------------------------------------------------
def _parking(db, actor, rng, cid, homes, people, as_of) -> dict[str, int]:
    lived_in = [h for h in homes if h[2] in ("已入住", "出租") and h[3] == "住宅"]
    spaces, plates = [], set()
    for n in range(1, 21):
        hid = rng.choice(lived_in)[0] if lived_in else None
        plate = _plate(rng)
        plates.add(plate)
        spaces.append({"community_id": cid, "space_no": f"B1-{n:03d}", "kind": "产权", "zone": "地下B1",
                       "household_id": hid, "plate": plate if hid else None, "monthly_fee": Decimal("60.00")})
    for n in range(1, 31):
        row = {"community_id": cid, "space_no": f"B2-{n:03d}", "kind": "租赁", "zone": "地下B2",
               "monthly_fee": Decimal(rng.choice(("300.00", "350.00", "400.00")))}
        if n <= 26 and lived_in:
            # most leases run for months yet; a few end within the to-do's warning days
            end = as_of + timedelta(days=rng.choices((-3, 12, 40, 75, 95, 120, 180, 200, 270, 330),
                                                     (1, 2, 8, 8, 8, 8, 8, 8, 8, 8))[0])
            plate = _plate(rng)
            plates.add(plate)
            row |= {"household_id": rng.choice(lived_in)[0], "plate": plate,
                    "lease_start_on": end - timedelta(days=365) + timedelta(days=1), "lease_end_on": end}
        spaces.append(row)
    for n in range(1, 16):
        spaces.append({"community_id": cid, "space_no": f"L-{n:03d}", "kind": "临时", "zone": "地面访客区"})
    _insert(db, actor, "parking_spaces", spaces)

    guards = people["保安部"]
    events = []
    day = as_of - timedelta(days=PARKING_DAYS - 1)
    while day <= as_of:
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(10, 16) + 6 * weekend):
            start = _at(day, rng.choices(range(7, 22), weights=[3, 5, 6, 6, 5, 4, 5, 6, 6, 5, 5, 4, 3, 2, 1])[0],
                        rng.randrange(60))
            minutes = rng.choices(
                (rng.randint(5, 30), rng.randint(31, 240), rng.randint(241, 720), rng.randint(721, 1440),
                 rng.randint(1441, 3000)), weights=(40, 38, 12, 8, 2))[0]
            end = start + timedelta(minutes=minutes, seconds=rng.randrange(60))
            if end.date() > as_of:
                continue
            events.append({"community_id": cid, "plate": _plate(rng), "entered_at": start, "exited_at": end,
                           "is_temporary": True, "operator_id": rng.choice(guards)})
        day += timedelta(days=1)
    for hour in (9, 14, 16):  # still inside at the demo's today
        events.append({"community_id": cid, "plate": _plate(rng), "entered_at": _at(as_of, hour, rng.randrange(60)),
                       "is_temporary": True, "operator_id": rng.choice(guards)})
    # the exits were charged what the rule says (the SQL formula, so it stays in one place)
    left = [e for e in events if e.get("exited_at")]
    fees = [r[0] for r in db.rows(
        "SELECT parking_temp_fee(parking_stay_minutes(t.e, t.x), ?) FROM "
        "(SELECT unnest(?) AS e, unnest(?) AS x, generate_subscripts(?, 1) AS n) t ORDER BY t.n",
        [cid, [e["entered_at"] for e in left], [e["exited_at"] for e in left], [e["entered_at"] for e in left]])]
    for e, fee in zip(left, fees):
        e["fee_charged"] = fee
        e["payment_method"] = rng.choice(("微信", "微信", "支付宝", "现金")) if fee > 0 else "免费放行"
    _insert(db, actor, "parking_events", events)
    return {"parking_spaces": len(spaces), "parking_events": len(events)}


# -- decoration -----------------------------------------------------------------------------------
def _decorations(db, actor, rng, homes, people, as_of) -> dict[str, int]:
    clerks, engineers = people["客服部"], people["工程部"]
    active = [h for h in homes if h[2] == "装修中"][:8]
    done = [h for h in homes if h[2] == "已入住" and h[3] == "住宅"]
    done = rng.sample(done, min(6, len(done)))
    stages = ("申请", "已批准", "施工中", "施工中", "施工中", "待验收", "已验收", "施工中")
    rows, plans = [], []
    late = 0
    for n, h in enumerate(active + done):
        closed = n >= len(active)
        status = "已验收" if closed else stages[n % len(stages)]
        applied = as_of - timedelta(days=rng.randint(200, 300) if closed else rng.randint(3, 100))
        if status == "申请":
            applied = as_of - timedelta(days=2)
        start = applied + timedelta(days=rng.randint(5, 10))
        end = start + timedelta(days=rng.choice((30, 45, 60, 90)))
        if not closed and end < as_of:  # works running late: one per community, the others extended
            late += 1
            if late > 1:
                end = as_of + timedelta(days=rng.randint(5, 30))
        contractor = rng.choice(CONTRACTORS)
        tenant = rng.random() < 0.15
        row = {"household_id": h[0], "applicant": rng.choice(("张", "王", "李", "陈", "刘")) + rng.choice(("先生", "女士")),
               "applicant_role": "租户" if tenant else "业主", "contractor": contractor,
               "content": rng.choice(CONTENT), "applied_on": applied, "planned_start_on": start,
               "planned_end_on": end, "deposit_required": Decimal(rng.choice(("2000.00", "3000.00", "5000.00"))),
               "doc_ownership": True, "doc_identity": True, "doc_plan": status != "申请",
               "doc_contractor_license": contractor is not None, "doc_owner_consent": tenant,
               "agreement_signed": status != "申请", "status": status}
        if status != "申请":
            row |= {"approved_on": applied + timedelta(days=2), "approved_by_id": rng.choice(clerks)}
        if status == "已验收":
            accepted = min(end + timedelta(days=rng.randint(0, 7)), as_of - timedelta(days=1))
            row |= {"accepted_on": accepted, "accepted_by_id": rng.choice(engineers),
                    "acceptance_note": "水电、防水、墙地面验收合格，公共部位无损坏"}
        rows.append(row)
        plans.append((closed, status, start, end))
    ids = _insert(db, actor, "decorations", rows)

    workers, checks, deposits = [], [], []
    overran = 0  # works past their planned end: the office renewed the passes of all but the first
    for did, row, (closed, status, start, end) in zip(ids, rows, plans):
        if status == "申请":
            continue
        deposits.append({"household_id": row["household_id"], "decoration_id": did, "kind": "装修保证金",
                         "amount": row["deposit_required"], "received_on": row["approved_on"]})
        valid_until = end + timedelta(days=7)
        if not closed and valid_until < as_of:
            overran += 1
            if overran > 1:
                valid_until = as_of + timedelta(days=14)
        for name in rng.sample(WORKERS, rng.randint(2, 4)):
            workers.append({"decoration_id": did, "name": name, "trade": rng.choice(TRADES),
                            "issued_on": row["approved_on"], "valid_until": valid_until,
                            "returned_on": row.get("accepted_on")})
        if status == "已批准":
            continue
        day = start + timedelta(days=rng.randint(1, 6))
        last = min(row.get("accepted_on") or as_of, as_of)
        while day <= last:
            check = {"decoration_id": did, "checked_on": day, "inspector_id": rng.choice(engineers)}
            if rng.random() < 0.18:
                kind, text, penalty = rng.choices(VIOLATIONS, weights=(5, 5, 3, 2, 1))[0]
                deadline = day + timedelta(days=3)
                check |= {"violation_kind": kind, "violation": text, "penalty": penalty, "deadline": deadline}
                if closed or status == "已验收" or deadline + timedelta(days=2) < as_of or rng.random() < 0.5:
                    check["rectified_on"] = day + timedelta(days=rng.randint(1, 3))
            checks.append(check)
            day += timedelta(days=rng.choice((5, 7, 7, 10)))
    _insert(db, actor, "decoration_workers", workers)
    _insert(db, actor, "decoration_checks", checks)
    deposit_ids = _insert(db, actor, "deposits", deposits)
    # accepted a while ago: refunded (less penalties), which closes the decoration as 已退保证金
    refunds = []
    for dep_id, dep in zip(deposit_ids, deposits):
        row = rows[ids.index(dep["decoration_id"])]
        if row["status"] == "已验收" and row["accepted_on"] <= as_of - timedelta(days=10):
            version = db.scalar("SELECT row_version FROM deposits WHERE id = ?", [dep_id])
            refunds.append(RowChange("update", dep_id, {"refunded_on": row["accepted_on"] + timedelta(days=7),
                                                        "refunded_by_id": rng.choice(clerks)}, version))
    if refunds:
        apply_changes(db, actor, "deposits", refunds)
    return {"decorations": len(rows), "decoration_workers": len(workers), "decoration_checks": len(checks),
            "deposits": len(deposits)}


# -- move-in, vacant units, keys ------------------------------------------------------------------
def _units(db, actor, rng, homes, people, as_of) -> dict[str, int]:
    clerks, engineers = people["客服部"], people["工程部"]
    recent = sorted((h for h in homes if h[5] is not None and h[5] <= as_of), key=lambda h: (h[5], h[0]))[-20:]
    move_ins = []
    for hid, _, _, _, _, moved in recent:
        started = moved - timedelta(days=rng.randint(0, 3))
        move_ins.append({"household_id": hid, "started_on": started, "docs_checked": True, "agreement_signed": True,
                         "meters_recorded": True, "keys_handed_over": True, "keys_count": rng.choice((3, 4, 5)),
                         "first_fees_paid": True, "first_fee_amount": Decimal(rng.randint(800, 2400)),
                         "handled_by_id": rng.choice(clerks), "completed_on": moved})
    vacant = [h for h in homes if h[2] == "空置"]
    if vacant:  # one under way at the demo's today: keys not yet handed over
        move_ins.append({"household_id": vacant[-1][0], "started_on": as_of - timedelta(days=1),
                         "docs_checked": True, "agreement_signed": True, "handled_by_id": rng.choice(clerks)})
    _insert(db, actor, "move_ins", move_ins)

    checks = []
    for hid, *_ in vacant:
        day = as_of - timedelta(days=180) + timedelta(days=rng.randint(0, 20))
        late = rng.random() < 0.04  # a unit that has been missed lately
        while day <= as_of - (timedelta(days=45) if late else timedelta(days=0)):
            trouble = rng.random() < 0.08
            checks.append({"household_id": hid, "checked_on": day, "inspector_id": rng.choice(engineers),
                           "result": "异常" if trouble else "正常",
                           "findings": rng.choice(("卫生间地漏返味，已加水封", "窗户未关，雨水进入", "厨房水管轻微渗水"))
                           if trouble else "门窗完好，水电气总阀关闭，无渗漏",
                           "actions": "已处理并通知业主" if trouble else None})
            day += timedelta(days=rng.randint(26, 31))
    _insert(db, actor, "vacant_checks", checks)

    loans = []
    for n, (hid, code, *_) in enumerate(rng.sample(vacant, min(8, len(vacant)))):
        out = _at(as_of - timedelta(days=rng.randint(1, 90)), rng.randint(9, 16), rng.randrange(60))
        returned = out + timedelta(hours=rng.randint(1, 5)) if n else None  # the first is still out
        loans.append({"household_id": hid, "key_no": f"K-{code}", "holder": rng.choice(("链家中介 小刘", "我爱我家 小王",
                                                                                         "业主亲属 陈女士", "维修工 老周")),
                      "purpose": rng.choice(("看房", "维修", "业主委托开窗通风")), "borrowed_at": out,
                      "lent_by_id": rng.choice(clerks), "returned_at": returned})
    _insert(db, actor, "keys", loans)
    return {"move_ins": len(move_ins), "vacant_checks": len(checks), "keys": len(loans)}


# -- emergencies ----------------------------------------------------------------------------------
def _emergencies(db, actor, rng, cid, people, as_of) -> dict[str, int]:
    guards, engineers = people["保安部"], people["工程部"]
    plans = []
    for n, (kind, title) in enumerate(PLANS):
        # reviewed within the last year (due within the next), but one review is overdue
        issued = as_of - timedelta(days=30 * rng.randint(1, 11) + rng.randint(1, 28))
        review = issued + timedelta(days=365) if n != 2 else as_of - timedelta(days=12)
        plans.append({"community_id": cid, "kind": kind, "title": title, "version": f"V{rng.randint(1, 3)}.0",
                      "approved_on": min(issued, review), "review_due_on": review,
                      "responsible_id": rng.choice(guards + engineers),
                      "summary": "报警与响应、现场处置、通知业主、善后与总结"})
    plan_ids = _insert(db, actor, "emergency_plans", plans)
    by_kind = {p["kind"]: pid for p, pid in zip(plans, plan_ids)}
    incidents = []
    for kind, where, what, loss in (
        ("水管爆裂", "地下车库B1消防管道", "管道接头爆裂，车库积水约5cm", "2辆车轮胎浸水，无人员伤亡"),
        ("停电", "小区全部楼栋", "供电局线路检修外突发跳闸", "无"),
        ("电梯困人", "电梯轿厢", "电梯停在两层之间，困2人", "无人员受伤"),
    ):
        occurred = _at(as_of - timedelta(days=rng.randint(10, 300)), rng.randint(7, 22), rng.randrange(60))
        responded = occurred + timedelta(minutes=rng.randint(5, 25))
        incidents.append({"community_id": cid, "kind": kind, "plan_id": by_kind.get(kind), "occurred_at": occurred,
                          "location": where, "description": what, "handler_id": rng.choice(guards + engineers),
                          "responded_at": responded, "resolved_at": responded + timedelta(minutes=rng.randint(30, 240)),
                          "owners_notified_at": occurred + timedelta(minutes=rng.randint(10, 40)),
                          "actions": "启动预案，关闭阀门/切换电源/通知维保单位，现场警戒，处置后回访受影响业主",
                          "losses": loss})
    _insert(db, actor, "incidents", incidents)
    return {"emergency_plans": len(plans), "incidents": len(incidents)}
