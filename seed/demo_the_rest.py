"""Demo rows of the registers that complete the seed (issue 23): 清洁消杀, 绿化, 垃圾清运, 消防宣传标识,
the maintenance duty roster, the training plan and each person's training, internal audits and
management reviews with their non-conformities, 公众管理制度, 代收代缴, authority contacts, 业委会
elections and vehicles — up to the demo's today (`as_of`). Named to run after demo_surveys (the
trainings and 业委会 members it extends) and before demo_zz_rectifications.

Every date is placed relative to `as_of`, every choice drawn from one seeded generator. The
non-conformities are older than ten days, so the rectifications they open are closed by
demo_zz_rectifications and leave nothing in the to-do list; nothing else here is due.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database
from seed.demo_checks import Crew, load_crews

SEED = 20261123

DISINFECTION = [  # (kind, location, agent, dosage, unit, every n days)
    ("灭鼠", "垃圾房及地下车库", "溴敌隆毒饵", "1.5", "千克", 30),
    ("灭蟑", "各幢楼道及配电间", "氟虫腈胶饵", "0.2", "千克", 30),
    ("灭蚊蝇", "绿化带及雨水井", "高效氯氰菊酯", "2.0", "升", 14),
    ("消毒", "电梯轿厢、门把手及公共座椅", "含氯消毒液", "5.0", "升", 7),
]
GREENING = [  # (kind, location, plant, quantity, unit, budget)
    ("修剪", "中心花园", "香樟、桂花", "60", "株", "3000.00"),
    ("补种", "{b}幢东侧草坪", "马尼拉草皮", "120", "平方米", "3600.00"),
    ("更换", "南门入口花坛", "时令草花", "400", "盆", "2400.00"),
    ("新增", "儿童游乐区周边", "红叶石楠", "80", "株", "4800.00"),
]
GARBAGE = [("其他垃圾", "桶", 24, 36), ("厨余垃圾", "桶", 10, 18), ("可回收物", "吨", 1, 2)]
SIGNS = [("南门消防宣传栏", "消防宣传栏", "冬季防火、电动自行车充电安全"),
         ("{b}幢一层大堂", "安全出口标识", None), ("{b}幢楼梯间", "疏散指示标识", None),
         ("地下车库入口", "消防通道禁止占用", None), ("{b}幢电梯厅", "禁止吸烟", None),
         ("{b}幢消火栓箱", "消火栓使用说明", None)]
RULES = [("业委会章程", "业主委员会章程", "业主大会表决通过"), ("管理规约", "管理规约", "业主大会表决通过"),
         ("装修管理规定", "房屋装饰装修管理规定", "管理处发布"), ("停车管理规定", "车辆停放管理规定", "管理处发布"),
         ("治安管理规定", "小区治安管理规定", "管理处发布"), ("绿化管理规定", "绿化养护与爱绿护绿规定", "管理处发布")]
AUTHORITIES = [  # (kind, name by community, contact, phone)
    ("街道办事处", ("米市巷街道办事处", "文新街道办事处"), "综治办", ("0571-85801234", "0571-88901234")),
    ("社区居委会", ("莫干山社区居民委员会", "翠苑社区居民委员会"), "居委会主任", ("0571-85802345", "0571-88902345")),
    ("派出所", ("米市巷派出所", "文新派出所"), "社区民警", ("0571-85803456", "0571-88903456")),
    ("消防救援站", ("拱墅区消防救援大队米市巷站", "西湖区消防救援大队文新站"), "值班室",
     ("0571-85804567", "0571-88904567")),
    ("供电", ("国网杭州供电公司拱墅营业厅", "国网杭州供电公司西湖营业厅"), "客户经理", ("95598", "95598")),
]
FINDINGS = [  # (kind, clause, area, description, severity)
    ("内部审核", "7.5.3", "客服", "投诉回访记录未按规定保存，抽查 10 份缺 2 份", "一般不符合"),
    ("内部审核", "8.5.1", "设备", "二次供水水箱清洗记录缺少水质检测报告", "一般不符合"),
    ("内部审核", "7.2", "保安", "新入职保安员岗前培训考核记录不全", "观察项"),
    ("管理评审", "9.1.2", "客服", "上半年业主满意度低于目标值，未制定改进措施", "一般不符合"),
]


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _staff(crew: Crew, *posts: str) -> int | None:
    return crew.first(*posts, "管理处主任")


def environment(rng: random.Random, crews: list[Crew], as_of: date) -> dict[str, list[dict]]:
    """Eight weeks of disinfection and garbage removal, a year's greening plan and its work."""
    logs, plans, garbage = [], [], []
    for crew in crews:
        cleaner = _staff(crew, "保洁员", "环境主管")
        for kind, location, agent, dosage, unit, every in DISINFECTION:
            day = as_of - timedelta(days=56 - rng.randrange(every))
            while day <= as_of:
                logs.append({"community_id": crew.community_id, "done_on": day, "kind": kind, "location": location,
                             "agent": agent, "dosage": Decimal(dosage), "unit": unit, "staff_id": cleaner})
                day += timedelta(days=every)
        for n, (kind, location, plant, qty, unit, budget) in enumerate(GREENING):
            plans.append({"community_id": crew.community_id, "year": as_of.year, "kind": kind,
                          "location": location.format(b=rng.choice(crew.buildings)), "plant": plant,
                          "quantity": Decimal(qty), "unit": unit, "budget": Decimal(budget),
                          "planned_on": date(as_of.year, 3 + n * 2, 28), "responsible_id": _staff(crew, "环境主管")})
        for day in range(0, 14):
            on = as_of - timedelta(days=day)
            for kind, unit, low, high in GARBAGE:
                if unit == "吨" and on.weekday() != 2:
                    continue  # recyclables go once a week
                qty = Decimal(rng.randint(low, high)) if unit == "桶" else Decimal(rng.randint(8, 20)) / 10
                garbage.append({"community_id": crew.community_id, "removed_on": on, "kind": kind,
                                "quantity": qty, "unit": unit, "vehicle_plate": "浙A" + "D" + f"{rng.randrange(10000, 99999)}",
                                "staff_id": cleaner})
    return {"cleaning_logs": logs, "greening_plans": plans, "garbage_removals": garbage}


def greening_works(plans: list[tuple[int, dict]], crews: list[Crew], as_of: date) -> list[dict]:
    """The plans already due are done: one work record each, on the planned day."""
    gardener = {c.community_id: _staff(c, "绿化工", "环境主管") for c in crews}
    return [{"community_id": p["community_id"], "plan_id": pid, "done_on": p["planned_on"], "kind": p["kind"],
             "location": p["location"], "plant": p["plant"], "quantity": p["quantity"], "unit": p["unit"],
             "staff_id": gardener[p["community_id"]]}
            for pid, p in plans if p["planned_on"] <= as_of]


def fire_signs(rng: random.Random, crews: list[Crew], as_of: date) -> list[dict]:
    rows = []
    for crew in crews:
        for n, (location, kind, content) in enumerate(SIGNS):
            rows.append({"community_id": crew.community_id, "location": location.format(b=rng.choice(crew.buildings)),
                         "kind": kind, "content": content, "installed_on": as_of - timedelta(days=900 + 30 * n),
                         "checked_on": as_of - timedelta(days=rng.randrange(5, 30)),
                         "condition": "已更换" if n == 2 else "完好"})
    return rows


def duty_roster(crews: list[Crew], as_of: date) -> list[dict]:
    """Two weeks around today: the 小区's repairmen take the day and the night in turn."""
    rows = []
    for crew in crews:
        team = [s for post in ("电工", "水暖工", "维修工", "弱电工") for s in crew.by_post.get(post, [])]
        if not team:
            continue
        for d in range(-7, 7):
            on = as_of + timedelta(days=d)
            day, night = team[d % len(team)], team[(d + 1) % len(team)]
            rows.append({"community_id": crew.community_id, "duty_on": on, "shift": "白班", "staff_id": day})
            if night != day:
                rows.append({"community_id": crew.community_id, "duty_on": on, "shift": "夜班", "staff_id": night})
    return rows


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    crews = load_crews(db)
    if not crews:
        return {}
    counts: dict[str, int] = {}

    def put(register: str, rows: list[dict]) -> list[int]:
        ids = _insert(db, actor, register, rows)
        counts[register] = counts.get(register, 0) + len(ids)
        return ids

    env = environment(rng, crews, as_of)
    put("cleaning_logs", env["cleaning_logs"])
    plan_ids = put("greening_plans", env["greening_plans"])
    put("greening_works", greening_works(list(zip(plan_ids, env["greening_plans"])), crews, as_of))
    put("garbage_removals", env["garbage_removals"])
    put("fire_signs", fire_signs(rng, crews, as_of))
    put("maintenance_duty", duty_roster(crews, as_of))
    seed_training(db, actor, rng, as_of, put)
    seed_audits(db, actor, crews, as_of, put)
    seed_estate_records(db, actor, rng, crews, as_of, put)
    return counts


def seed_training(db: Database, actor: Actor, rng: random.Random, as_of: date, put) -> None:
    """This year's plan from the trainings already held (each linked to its plan), one more to come,
    and who attended each training with their marks."""
    held = db.rows("SELECT id, title, kind, held_on, hours, department_id, participants FROM trainings "
                   "WHERE deleted_at IS NULL ORDER BY held_on, id")
    plans = [{"year": on.year, "month": on.month, "title": title, "kind": kind, "department_id": dept,
              "hours": hours, "status": "已完成" if on <= as_of else "计划"}
             for _, title, kind, on, hours, dept, _ in held]
    nxt = as_of + timedelta(days=40)
    plans.append({"year": nxt.year, "month": nxt.month, "title": "冬季消防安全与燃气使用", "kind": "消防安全",
                  "hours": Decimal(2), "status": "计划"})
    plan_ids = put("training_plans", plans)
    apply_changes(db, actor, "trainings", [RowChange("update", tid, {"plan_id": pid})
                                           for (tid, *_), pid in zip(held, plan_ids)])
    records = []
    for tid, _, _, on, hours, dept, participants in held:
        if on > as_of:
            continue
        people = [r[0] for r in db.rows(
            "SELECT id FROM staff WHERE deleted_at IS NULL AND status = '在职' AND hired_on <= ? "
            "AND (department_id = ? OR ? IS NULL) ORDER BY id", [on, dept, dept])]
        for sid in rng.sample(people, min(len(people), participants or 0, 12)):
            score = rng.randint(55, 98)
            records.append({"training_id": tid, "staff_id": sid, "hours": hours, "score": score,
                            "result": "合格" if score >= 60 else "不合格"})
    put("training_records", records)


def seed_audits(db: Database, actor: Actor, crews: list[Crew], as_of: date, put) -> None:
    """Last spring's internal audit and last summer's management review, each with findings;
    next spring's audit is planned."""
    leader = crews[0].first("管理处主任")
    audit_on, review_on = as_of - timedelta(days=160), as_of - timedelta(days=75)
    audits = [
        {"kind": "内部审核", "planned_on": audit_on, "held_on": audit_on, "scope": "客服部、工程部、保安部；7.2、7.5、8.5",
         "leader_id": leader, "members": "综合部、财务部内审员各 1 名", "conclusion": "体系运行基本有效，开具不符合项 2 项、观察项 1 项",
         "report_no": f"NS-{audit_on.year}-01", "status": "已完成"},
        {"kind": "管理评审", "planned_on": review_on, "held_on": review_on, "scope": "质量方针与目标、顾客满意、内审结果",
         "leader_id": leader, "members": "总经理、各部门负责人", "conclusion": "质量目标基本达成，客户满意度需改进",
         "report_no": f"PS-{review_on.year}-01", "status": "已完成"},
        {"kind": "内部审核", "planned_on": as_of + timedelta(days=150), "scope": "全部部门；ISO 9001 全部条款",
         "leader_id": leader, "status": "计划"},
    ]
    ids = put("internal_audits", audits)
    findings = []
    for n, (kind, clause, area, text, severity) in enumerate(FINDINGS):
        crew = crews[n % len(crews)]
        on = audit_on if kind == "内部审核" else review_on
        findings.append({"audit_id": ids[0] if kind == "内部审核" else ids[1], "community_id": crew.community_id,
                         "clause": clause, "area": area, "description": text, "severity": severity,
                         "responsible_id": crew.first("客服主管" if area == "客服" else "工程主管" if area == "设备"
                                                      else "保安队长"),
                         "found_on": on, "deadline": on + timedelta(days=30)})
    put("audit_findings", findings)


def seed_estate_records(db: Database, actor: Actor, rng: random.Random, crews: list[Crew], as_of: date,
                        put) -> None:
    rules = []
    for n, (kind, title, approved) in enumerate(RULES):
        first = date(2016 + n % 3, 3 + n, 1)
        rules.append({"kind": kind, "title": title, "version": "A/0", "published_on": first, "effective_on": first,
                      "approved_by": approved, "status": "已废止" if n < 2 else "现行"})
        if n < 2:  # the charter and the covenant were revised by the owners' general meeting
            again = date(as_of.year - 1, 6, 18)
            rules.append({"kind": kind, "title": title, "version": "B/0", "published_on": again,
                          "effective_on": again + timedelta(days=15), "approved_by": approved, "status": "现行",
                          "summary": "按《民法典》第二百七十八条修订表决规则"})
    put("public_rules", rules)
    contacts = [{"community_id": crew.community_id, "kind": kind, "organization": names[i % 2], "contact": who,
                 "phone": phones[i % 2]}
                for i, crew in enumerate(crews) for kind, names, who, phones in AUTHORITIES]
    put("authority_contacts", contacts)

    agency = []
    for crew in crews:
        homes = crew.households[:40]
        for month in range(3, 0, -1):
            first = (as_of.replace(day=1) - timedelta(days=28 * month)).replace(day=5)
            total = Decimal(0)
            for hid in rng.sample(homes, min(8, len(homes))):
                amount = Decimal(rng.randrange(3000, 12000)) / 100
                total += amount
                agency.append({"community_id": crew.community_id, "moved_on": first, "direction": "代收",
                               "kind": "水费", "payee": "杭州水务集团", "household_id": hid, "amount": amount})
            if month > 1:  # the last month's money is still held
                agency.append({"community_id": crew.community_id, "moved_on": first + timedelta(days=20),
                               "direction": "转交", "kind": "水费", "payee": "杭州水务集团", "amount": total,
                               "voucher_no": f"ZJ-{first:%Y%m}-{crew.community_id}"})
    put("agency_collections", agency)

    elections, members_of = [], []
    for crew in crews:
        members = db.rows("SELECT id, term_start, term_end FROM committee_members WHERE community_id = ? "
                          "AND deleted_at IS NULL ORDER BY id", [crew.community_id])
        if not members or members[0][1] is None:
            continue
        start, end = members[0][1], members[0][2]
        owners = db.scalar("SELECT count(*) FROM households WHERE community_id = ? AND deleted_at IS NULL",
                           [crew.community_id])
        area = db.scalar("SELECT coalesce(sum(area), 0) FROM households WHERE community_id = ? AND deleted_at IS NULL",
                         [crew.community_id])
        earlier = start.replace(year=start.year - 5)
        for term, (s, e) in enumerate(((earlier, start - timedelta(days=1)), (start, end)), start=1):
            elections.append({"community_id": crew.community_id, "term_no": term, "elected_on": s - timedelta(days=20),
                              "voted_area": (Decimal(area) * Decimal("0.71")).quantize(Decimal("0.01")),
                              "voted_owners": owners * 7 // 10, "term_start": s, "term_end": e,
                              "filed_on": s + timedelta(days=10)})
        members_of.append([m[0] for m in members])
    ids = put("committee_elections", elections)
    current = ids[1::2]
    apply_changes(db, actor, "committee_members", [RowChange("update", mid, {"election_id": eid})
                                                   for eid, mids in zip(current, members_of) for mid in mids])

    vehicles = []
    for sid, cid, hid, plate, start in db.rows(
            "SELECT s.id, s.community_id, s.household_id, s.plate, s.lease_start_on FROM parking_spaces s "
            "WHERE s.deleted_at IS NULL AND s.household_id IS NOT NULL AND s.plate IS NOT NULL ORDER BY s.id"):
        owner = db.scalar("SELECT min(id) FROM owners WHERE household_id = ? AND deleted_at IS NULL "
                          "AND moved_out_on IS NULL", [hid])
        vehicles.append({"community_id": cid, "plate": plate, "household_id": hid, "owner_id": owner,
                         "parking_space_id": sid, "kind": rng.choices(["小型汽车", "新能源汽车"], [3, 1])[0],
                         "registered_on": min(start, as_of) if start else None})
    put("vehicles", vehicles)
