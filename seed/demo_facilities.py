"""Demo data for 设备与消防, 合同与工程, 档案与公文 and 采购与库存.

Runs after the core demo (communities, buildings, staff exist) and reads the ids it needs from
the database. Everything goes through the save path, so the save rules hold for the demo too
(fire checks move the equipment register forward, stock never goes negative, approved purchase
requests write their 入库 movements). Dates are set relative to the demo's today (`as_of`), so
that on that day every to-do area has something due: extinguishers to check, service and scrap, elevators
overdue, contracts expiring, store items below safety stock, drawings not returned.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

SEED = 20261125

# Default parameters (REGULATIONS.md); the demo plans its due dates with them.
CHECK_DAYS, CHECK_DAYS_HIGH_RISK = 30, 15
EXTINGUISHERS = {  # type: (first service, service every, scrap) in years
    "干粉灭火器": (5, 2, 10),
    "水基型灭火器": (3, 1, 6),
    "二氧化碳灭火器": (5, 2, 12),
    "洁净气体灭火器": (5, 2, 10),
}


@dataclass
class Site:
    """What the seeder needs to know about one 小区."""

    id: int
    name: str
    short: str
    taken_over: date
    buildings: list[dict] = field(default_factory=list)
    engineers: list[int] = field(default_factory=list)
    guards: list[int] = field(default_factory=list)
    clerks: list[int] = field(default_factory=list)
    managers: list[int] = field(default_factory=list)
    everyone: list[tuple[int, str]] = field(default_factory=list)


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [
        RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows
    ]
    return apply_changes(db, actor, register, changes).inserted


def _update(db: Database, actor: Actor, register: str, updates: list[tuple[int, dict]]) -> None:
    if updates:
        apply_changes(
            db, actor, register, [RowChange("update", row_id=i, values=v) for i, v in updates]
        )


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- reading what the core demo made --------------------------------------------------------
def load_sites(db: Database) -> list[Site]:
    sites = []
    for cid, name, handover in db.rows(
        "SELECT id, name, handover_date FROM communities WHERE deleted_at IS NULL ORDER BY id"
    ):
        sites.append(Site(cid, name, name[:1], handover or date(2016, 1, 1)))
    by_id = {s.id: s for s in sites}
    for bid, cid, code, floors, units, lift, built in db.rows(
        "SELECT id, community_id, code, floors, units, has_elevator, built_year FROM buildings "
        "WHERE deleted_at IS NULL ORDER BY id"
    ):
        if cid in by_id:
            by_id[cid].buildings.append(
                {
                    "id": bid,
                    "code": code,
                    "floors": floors or 6,
                    "units": units or 1,
                    "lift": bool(lift),
                    "built": built,
                }
            )
    staff = db.rows(
        "SELECT s.id, s.community_id, s.name, d.name, coalesce(s.position, '') FROM staff s "
        "LEFT JOIN departments d ON d.id = s.department_id "
        "WHERE s.deleted_at IS NULL AND s.status = '在职' ORDER BY s.id"
    )
    for site in sites:
        mine = [r for r in staff if r[1] == site.id] or [r for r in staff if r[1] is None] or staff
        site.everyone = [(r[0], r[2]) for r in mine]
        everyone = [r[0] for r in mine]
        site.engineers = [r[0] for r in mine if (r[3] or "").startswith("工程部")] or everyone
        site.guards = [r[0] for r in mine if (r[3] or "").startswith("保安部")] or everyone
        site.clerks = [r[0] for r in mine if (r[3] or "").startswith("综合部")] or everyone
        site.managers = [r[0] for r in mine if "主任" in r[4] or "主管" in r[4]] or everyone[:1]
        if not site.buildings:
            site.buildings = [
                {"id": None, "code": str(n), "floors": 6, "units": 2, "lift": n > 2, "built": 2010}
                for n in range(1, 5)
            ]
    return sites


# -- vendors ------------------------------------------------------------------------------
VENDORS = [
    ("杭州安达电梯工程有限公司", "电梯安装维修 A 级", "电梯维保"),
    ("浙江迅通电梯服务有限公司", "电梯安装维修 A 级", "电梯维保"),
    ("杭州清源二次供水设备清洗有限公司", "卫生许可证（二次供水清洗消毒）", "水箱清洗消毒"),
    ("杭州消安消防工程有限公司", "消防设施工程专业承包二级", "消防设施维保"),
    ("杭州洁美保洁服务有限公司", "保洁服务一级", "保洁"),
    ("杭州绿园园林工程有限公司", "城市园林绿化三级", "绿化养护"),
    ("浙江卫康有害生物防制有限公司", "有害生物防制 B 级", "消杀"),
    ("杭州电力设备安装有限公司", "承装（修、试）电力设施四级", "配电维保"),
    ("杭州海睿智能科技有限公司", "电子与智能化工程专业承包二级", "门禁监控维保"),
    ("杭州恒安防水工程有限公司", "防水防腐保温工程专业承包二级", "防水工程"),
    ("浙江宏建建设有限公司", "建筑工程施工总承包二级", "外墙、土建工程"),
    ("杭州德力水泵机电有限公司", "机电工程施工总承包三级", "水泵维修"),
    ("杭州汇通五金建材有限公司", "", "五金建材供应"),
    ("杭州卫士保安服务有限公司", "保安服务许可证", "秩序维护"),
    ("杭州明亮照明工程有限公司", "照明工程设计专项乙级", "照明"),
]


def seed_vendors(db: Database, actor: Actor, rng: random.Random, as_of: date) -> dict[str, int]:
    rows = []
    for name, qualification, scope in VENDORS:
        rows.append(
            {
                "name": name,
                "qualification": qualification or None,
                "service_scope": scope,
                "rating": rng.choices(("优秀", "良好", "合格", "不合格"), (3, 5, 3, 1))[0],
                "contact": rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(("经理", "工", "主管")),
                "phone": f"0571-8{rng.randint(1000000, 9999999)}",
                "evaluated_on": _day(rng, as_of - timedelta(days=359), as_of - timedelta(days=298)),
            }
        )
    ids = _insert(db, actor, "vendors", rows)
    return {scope: i for (_, _, scope), i in zip(VENDORS, ids)}


# -- assets and maintenance -----------------------------------------------------------------
def _due_offset(rng: random.Random, interval: int, warn: int = 3, often: float = 0.012) -> int:
    """Days from the demo's today to the next due date: mostly ahead; a share `often` due (half
    of those overdue): an office keeps up with most of its plan, a handful is due on any day."""
    r = rng.random()
    if r < often / 2:
        return -rng.randint(1, min(20, interval))
    if r < often:
        return rng.randint(0, warn)
    return rng.randint(min(warn + 1, interval), interval)


def plan_assets(rng: random.Random, site: Site, vendors: dict[str, int], as_of: date) -> list[dict]:
    assets = []

    def add(no, name, category, location, **more):
        assets.append(
            {
                "asset_no": no,
                "community_id": site.id,
                "name": name,
                "category": category,
                "location": location,
                **more,
            }
        )

    lift_makers = (
        ("奥的斯", "GeN2-MR"),
        ("迅达", "3300"),
        ("通力", "MonoSpace 500"),
        ("日立", "HGP"),
    )
    lifts = 0
    for b in site.buildings:
        built = date(b["built"] or site.taken_over.year - 1, 6, 30)
        if b["lift"]:
            per_unit = 2 if b["floors"] > 18 else 1
            for u in range(1, b["units"] + 1):
                for k in range(per_unit):
                    maker, model = rng.choice(lift_makers)
                    lifts += 1  # the first lift's certificate always comes due in the coming weeks
                    cert = as_of + timedelta(
                        days=rng.randint(7, 28) if lifts == 1
                        else rng.randint(-6, 30) if rng.random() < 0.06 else rng.randint(31, 360)
                    )
                    add(
                        f"DT-{b['code']}-{u}{'AB'[k] if per_unit > 1 else ''}",
                        f"{b['code']}号楼{u}单元{'客梯' if k == 0 else '消防电梯'}",
                        "电梯",
                        f"{b['code']}号楼{u}单元",
                        model=model,
                        manufacturer=maker,
                        install_date=built,
                        warranty_until=_years_after(built, 2),
                        vendor_id=vendors["电梯维保"],
                        inspection_valid_until=cert,
                    )
            add(
                f"PY-{b['code']}",
                f"{b['code']}号楼防排烟风机",
                "消防",
                f"{b['code']}号楼屋面",
                install_date=built,
                maintenance_interval_days=90,
                vendor_id=vendors["消防设施维保"],
            )
        add(
            f"MJ-{b['code']}",
            f"{b['code']}号楼单元门禁",
            "智能化",
            f"{b['code']}号楼各单元",
            install_date=built,
            vendor_id=vendors["门禁监控维保"],
        )
        add(
            f"JK-{b['code']}",
            f"{b['code']}号楼楼道监控",
            "智能化",
            f"{b['code']}号楼",
            install_date=built,
            vendor_id=vendors["门禁监控维保"],
        )
        add(
            f"DJ-{b['code']}",
            f"{b['code']}号楼可视对讲主机",
            "智能化",
            f"{b['code']}号楼各单元",
            install_date=built,
            vendor_id=vendors["门禁监控维保"],
        )
        add(
            f"YJ-{b['code']}",
            f"{b['code']}号楼应急照明配电箱",
            "消防",
            f"{b['code']}号楼一层电井",
            install_date=built,
            maintenance_interval_days=90,
            vendor_id=vendors["消防设施维保"],
        )
        add(
            f"PX-{b['code']}",
            f"{b['code']}号楼总配电箱",
            "配电",
            f"{b['code']}号楼一层电井",
            install_date=built,
            maintenance_interval_days=180,
            vendor_id=vendors["配电维保"],
        )
    since = site.taken_over
    for n in (1, 2):
        add(
            f"SX-{n}",
            f"{n}#生活水箱（不锈钢 {rng.choice((36, 48, 60))} m³）",
            "二次供水水箱",
            "地下水泵房",
            install_date=since,
            vendor_id=vendors["水箱清洗消毒"],
            manufacturer="杭州水箱厂",
        )
    for no, name, category, location, interval, vendor in (
        ("PD-1", "1#变压器 SCB11-800", "配电", "配电房", 180, "配电维保"),
        ("PD-2", "低压配电柜 GGD", "配电", "配电房", 90, "配电维保"),
        ("SB-1", "生活变频水泵 1#", "给排水", "地下水泵房", 30, "水泵维修"),
        ("SB-2", "生活变频水泵 2#", "给排水", "地下水泵房", 30, "水泵维修"),
        ("PS-1", "集水井潜污泵", "给排水", "地下车库集水井", 30, "水泵维修"),
        ("XFB-1", "消火栓泵", "消防", "消防泵房", 30, "消防设施维保"),
        ("PLB-1", "喷淋泵", "消防", "消防泵房", 30, "消防设施维保"),
        ("BJ-1", "火灾自动报警控制器", "消防", "消防控制室", 90, "消防设施维保"),
        ("NVR-1", "监控硬盘录像机", "智能化", "监控室", 90, "门禁监控维保"),
        ("DZ-1", "车辆道闸（东门）", "智能化", "东门", 90, "门禁监控维保"),
        ("DZ-2", "车辆道闸（南门）", "智能化", "南门", 90, "门禁监控维保"),
        ("RF-1", "人防防护密闭门", "人防", "地下车库人防区", 180, None),
        ("SB-9", "总水表 DN150", "计量", "小区东门水表井", None, None),
        ("DB-9", "总电表", "计量", "配电房", None, None),
    ):
        add(
            no,
            name,
            category,
            location,
            install_date=since,
            maintenance_interval_days=interval,
            vendor_id=vendors[vendor] if vendor else None,
        )
    for n in range(1, 13):
        add(f"LD-{n:02d}", f"庭院路灯 {n} 组", "其他", "小区道路", install_date=since)
    office = [
        ("台式电脑", "联想 启天 M437", 12),
        ("笔记本电脑", "联想 ThinkPad E14", 4),
        ("激光打印机", "惠普 M405d", 3),
        ("复印机", "理光 MP 2555", 1),
        ("投影仪", "爱普生 CB-X06", 1),
        ("对讲机", "摩托罗拉 GP328D+", 18),
        ("碎纸机", "得力 9903", 1),
        ("收据打印机", "爱宝 A-3288", 2),
    ]
    n = 0
    for name, model, count in office:
        for _ in range(count):
            n += 1
            bought = _day(rng, as_of - timedelta(days=3250), as_of - timedelta(days=148))
            scrapped = bought < as_of - timedelta(days=2520) and rng.random() < 0.5
            add(
                f"BG-{n:03d}",
                name,
                "办公设备",
                "物业服务中心",
                model=model,
                install_date=bought,
                warranty_until=_years_after(bought, 1),
                status="报废" if scrapped else "在用",
                scrapped_on=_day(rng, as_of - timedelta(days=693), as_of - timedelta(days=25))
                if scrapped else None,
            )
    return assets


def plan_maintenance(
    rng: random.Random, asset: dict, asset_id: int, staff: list[int], as_of: date
) -> list[dict]:
    """A year of maintenance at the asset's interval, the last one placed so some are due."""
    interval = asset.get("maintenance_interval_days") or {"电梯": 15, "二次供水水箱": 180}.get(
        asset["category"]
    )
    if not interval or asset.get("status", "在用") != "在用":
        return []
    last = as_of + timedelta(days=_due_offset(rng, interval) - interval)
    start = max(as_of - timedelta(days=365), asset["install_date"] or as_of - timedelta(days=365))
    records, day, n = [], last, 0
    while day >= start:
        if asset["category"] == "电梯":
            kind = "年度保养" if n % 24 == 12 else "季度保养" if n % 6 == 0 else "半月保养"
            content, cost = "按 TSG T5002 保养项目逐项检查、清洁、润滑、调整", None
        elif asset["category"] == "二次供水水箱":
            kind, content, cost = (
                "清洗消毒",
                "放空、清洗、消毒，水质送检合格",
                _money(rng.uniform(1500, 2200)),
            )
        else:
            kind, content, cost = "定期保养", "检查运行状态、紧固接线、清洁除尘", None
        records.append(
            {
                "asset_id": asset_id,
                "done_on": day,
                "kind": kind,
                "content": content,
                "cost": cost,
                "vendor_id": asset.get("vendor_id"),
                "handled_by_id": rng.choice(staff),
            }
        )
        n += 1
        day -= timedelta(days=interval + (rng.randint(-1, 1) if interval >= 15 else 0))
    if records and rng.random() < 0.15:  # an occasional repair between two services
        repair_day = records[-1]["done_on"] + timedelta(days=1)
        if repair_day < records[0]["done_on"]:
            records.append(
                {
                    "asset_id": asset_id,
                    "done_on": repair_day,
                    "kind": "故障维修",
                    "content": rng.choice(("更换门机皮带", "更换接触器", "处理异响", "更换浮球阀")),
                    "cost": _money(rng.uniform(200, 3000)),
                    "vendor_id": asset.get("vendor_id"),
                    "handled_by_id": rng.choice(staff),
                }
            )
    return records


def plan_assignments(
    rng: random.Random, asset: dict, asset_id: int, staff: list[int], as_of: date
) -> list[dict]:
    """Who received a piece of office equipment, one holder at a time; scrapped ones were returned."""
    if asset["category"] != "办公设备" or asset["name"] in ("复印机", "碎纸机", "投影仪"):
        return []
    out, day = [], asset["install_date"] + timedelta(days=rng.randint(1, 10))
    end = asset.get("scrapped_on") or as_of
    while day < end:
        back = day + timedelta(days=rng.randint(60, 900))
        if back >= end:  # the current holder, or the last one before scrapping
            out.append(
                {
                    "asset_id": asset_id,
                    "staff_id": rng.choice(staff),
                    "received_on": day,
                    "returned_on": end if asset.get("scrapped_on") else None,
                }
            )
            break
        out.append(
            {
                "asset_id": asset_id,
                "staff_id": rng.choice(staff),
                "received_on": day,
                "returned_on": back,
            }
        )
        day = back + timedelta(days=rng.randint(1, 30))
    return out


def seed_assets(db, actor, rng, sites, vendors, as_of) -> dict[str, int]:
    counts = {"assets": 0, "maintenance_records": 0, "asset_assignments": 0}
    for site in sites:
        assets = plan_assets(rng, site, vendors, as_of)
        ids = _insert(db, actor, "assets", assets)
        records, assignments = [], []
        for asset, asset_id in zip(assets, ids):
            records += plan_maintenance(rng, asset, asset_id, site.engineers, as_of)
            assignments += plan_assignments(rng, asset, asset_id, [i for i, _ in site.everyone], as_of)
        _insert(db, actor, "maintenance_records", records)
        _insert(db, actor, "asset_assignments", assignments)
        counts["assets"] += len(ids)
        counts["maintenance_records"] += len(records)
        counts["asset_assignments"] += len(assignments)
    return counts


# -- fire equipment ---------------------------------------------------------------------------
def plan_fire_equipment(rng: random.Random, site: Site, as_of: date) -> list[dict]:
    points: list[tuple[str, bool]] = []  # (location, high risk)
    for b in site.buildings:
        step = 3 if b["floors"] > 11 else 2
        for u in range(1, b["units"] + 1):
            for floor in range(1, b["floors"] + 1, step):
                points.append((f"{b['code']}号楼{u}单元{floor}层", False))
    points += [(f"地下室车库 {zone} 区", True) for zone in "ABCD"]
    points += [
        ("锅炉房", True),
        ("垃圾堆场", True),
        ("配电房", False),
        ("消防控制室", False),
        ("地下水泵房", False),
        ("物业服务中心", False),
        ("监控室", False),
    ]
    rng.shuffle(points)
    equipment, n = [], 0

    def add(type_, location, risky, quantity, produced, spec=None):
        nonlocal n
        n += 1
        status = rng.choices(("在用", "送修", "报废"), (96, 3, 1))[0]
        equipment.append(
            {
                "equip_no": f"XF-{n:04d}",
                "community_id": site.id,
                "type": type_,
                "location": location,
                "high_risk_location": risky,
                "quantity": quantity,
                "spec": spec,
                "produced_on": produced,
                "status": status,
            }
        )

    installed = site.taken_over
    for location, risky in points[:130]:
        roll = rng.random()
        if location in ("配电房", "消防控制室", "监控室"):
            type_ = rng.choice(("二氧化碳灭火器", "洁净气体灭火器"))
        else:
            type_ = "水基型灭火器" if roll < 0.12 else "干粉灭火器"
        _, _, scrap = EXTINGUISHERS[type_]
        age_days = rng.randint(30, scrap * 365 - 30)
        if rng.random() < 0.012:  # past its scrap age and still on the wall
            age_days = scrap * 365 + rng.randint(0, 400)
        spec = {
            "干粉灭火器": "MFZ/ABC4",
            "水基型灭火器": "MSZ/6",
            "二氧化碳灭火器": "MT/5",
            "洁净气体灭火器": "MJ/4",
        }[type_]
        add(type_, location, risky, 2, as_of - timedelta(days=age_days), spec)
    for location, risky in points[:120]:
        kind = rng.choices(
            ("消火栓", "烟感探测器", "应急照明", "疏散指示", "防火门"), (30, 20, 25, 20, 5)
        )[0]
        add(kind, location, risky, 1, installed - timedelta(days=rng.randint(30, 400)))
    return equipment


def plan_fire_checks(rng: random.Random, item: dict, item_id: int, staff: list[int], as_of: date) -> list[dict]:
    """A year of checks (and services, for extinguishers) with the latest placed so some are due."""
    if item["status"] == "报废":
        return []
    produced = item["produced_on"]
    every_days = CHECK_DAYS_HIGH_RISK if item["high_risk_location"] else CHECK_DAYS
    # hundreds of items: a smaller share due keeps the to-do list to a few of them
    last = as_of + timedelta(days=_due_offset(rng, every_days, warn=0, often=0.012) - every_days)
    checks, day, n = [], last, 0
    while day >= max(as_of - timedelta(days=365), produced):
        kind = "年检" if n == 8 else "月检"
        failed = rng.random() < 0.02
        checks.append(
            {
                "fire_equipment_id": item_id,
                "checked_on": day,
                "kind": kind,
                "result": "不合格" if failed else "合格",
                "findings": rng.choice(("压力表指针在红区", "喷管老化", "箱门损坏", "指示灯不亮"))
                if failed
                else None,
                "checked_by_id": rng.choice(staff),
            }
        )
        n += 1
        day -= timedelta(days=every_days + rng.randint(-2, 0))
    if item["type"] in EXTINGUISHERS:
        first, every, _ = EXTINGUISHERS[item["type"]]
        services, due = [], _years_after(produced, first)
        while due <= as_of:
            services.append(due)
            due = _years_after(due, every)
        if services and (as_of - services[-1]).days < 60 and rng.random() < 0.15:
            services.pop()  # the latest service is not done yet: 待维修
        for on in services:
            checks.append(
                {
                    "fire_equipment_id": item_id,
                    "checked_on": on,
                    "kind": "更换" if rng.random() < 0.05 else "维修",
                    "result": "合格",
                    "findings": "送维修单位检修、换药充装",
                    "checked_by_id": rng.choice(staff),
                }
            )
    return checks


def seed_fire(db, actor, rng, sites, as_of) -> dict[str, int]:
    counts = {"fire_equipment": 0, "fire_checks": 0, "drills": 0}
    for site in sites:
        equipment = plan_fire_equipment(rng, site, as_of)
        ids = _insert(db, actor, "fire_equipment", equipment)
        checks = []
        for item, item_id in zip(equipment, ids):
            checks += plan_fire_checks(rng, item, item_id, site.guards + site.engineers, as_of)
        _insert(db, actor, "fire_checks", checks)  # moves last_checked_on / last_serviced_on
        drills = []
        for year in (2024, 2025, 2026):
            for month, kind, topic in (
                (5, "应急", "电梯困人应急救援"),
                (11, "消防", "高层住宅火灾疏散与初期灭火"),
            ):
                held = date(year, month, rng.randint(5, 20))
                if held <= as_of:
                    drills.append(
                        {
                            "community_id": site.id,
                            "held_on": held,
                            "kind": kind,
                            "topic": topic,
                            "organizer_id": rng.choice(site.managers),
                            "participants": rng.randint(25, 80),
                            "evaluation": rng.choice(
                                (
                                    "组织有序，疏散用时符合预案要求",
                                    "部分住户未参与，需加强宣传",
                                    "消防水带连接较慢，需加强训练",
                                )
                            ),
                        }
                    )
        _insert(db, actor, "drills", drills)
        counts["fire_equipment"] += len(ids)
        counts["fire_checks"] += len(checks)
        counts["drills"] += len(drills)
    return counts


# -- contracts and projects -----------------------------------------------------------------
SUBCONTRACTS = [  # (vendor scope, title, yearly amount range)
    ("电梯维保", "电梯维护保养合同", (60000, 160000)),
    ("水箱清洗消毒", "二次供水水箱清洗消毒合同", (6000, 12000)),
    ("消防设施维保", "消防设施维护保养合同", (30000, 80000)),
    ("保洁", "公共区域保洁外包合同", (200000, 420000)),
    ("绿化养护", "绿化养护合同", (80000, 150000)),
    ("消杀", "四害消杀服务合同", (8000, 18000)),
    ("配电维保", "高低压配电设施维保合同", (20000, 45000)),
    ("门禁监控维保", "门禁及监控系统维保合同", (15000, 30000)),
]
SHOPS = ["便利店", "洗衣店", "快递驿站", "理发店", "药店", "早餐店", "水果店"]


def plan_contracts(rng: random.Random, site: Site, vendors: dict[str, int], as_of: date) -> list[dict]:
    contracts: list[dict] = []

    def add(kind, title, counterparty, start, end, status="履行中", **more):
        contracts.append(
            {
                "contract_no": f"HT-{start.year}-{len(contracts) + 1:03d}",
                "community_id": site.id,
                "title": title,
                "kind": kind,
                "counterparty": counterparty,
                "signed_on": start - timedelta(days=rng.randint(3, 20)),
                "start_on": start,
                "end_on": end,
                "status": status,
                "handler_id": rng.choice(site.managers),
                **more,
            }
        )

    service_end = date(as_of.year, 12, 31) if site.id % 2 == 0 else date(as_of.year + 1, 6, 30)
    add(
        "物业服务",
        f"{site.name}物业服务合同",
        f"{site.name}业主大会",
        site.taken_over,
        service_end,
        amount=_money(rng.uniform(2.5e6, 4.5e6)),
    )
    vendor_names = dict(zip([s for _, _, s in VENDORS], [n for n, _, _ in VENDORS]))
    for scope, title, (low, high) in SUBCONTRACTS:
        start = as_of - timedelta(days=rng.randint(20, 355))
        end = _years_after(start, 1) - timedelta(days=1)
        amount = _money(rng.uniform(low, high))
        add(
            "分包",
            f"{start.year - 1}年度{title}",
            vendor_names[scope],
            _years_after(start, -1),
            start - timedelta(days=1),
            status="已续签",
            vendor_id=vendors[scope],
            amount=amount,
        )
        add(
            "分包",
            f"{start.year}年度{title}",
            vendor_names[scope],
            start,
            end,
            vendor_id=vendors[scope],
            amount=amount,
        )
    for n, shop in enumerate(rng.sample(SHOPS, 5), start=1):
        start = date(as_of.year - 5 + rng.randint(0, 4), rng.choice((1, 4, 7, 10)), 1)
        end = _years_after(start, rng.choice((2, 3))) - timedelta(days=1)
        status = "履行中" if end >= as_of else rng.choice(("已到期", "已续签"))
        add(
            "租赁",
            f"经营用房 {n} 号（{shop}）租赁合同",
            f"{shop}经营者",
            start,
            end,
            status=status,
            monthly_rent=_money(rng.choice((2800, 3500, 4200, 5600, 6800))),
        )
    # due soon on the demo's today (the lease in one community), and one that ran past its end unnoticed
    due_soon = rng.randint(10, 40) if site.id % 2 else rng.randint(200, 300)
    add(
        "租赁",
        "经营用房 6 号（便民服务点）租赁合同",
        "便民服务点经营者",
        as_of - timedelta(days=693),
        as_of + timedelta(days=due_soon),
        monthly_rent=_money(3000),
    )
    add(
        "采购",
        "办公用品年度采购合同",
        "杭州文华办公用品有限公司",
        as_of - timedelta(days=389),
        as_of - timedelta(days=rng.randint(3, 15)),
        amount=_money(18000),
    )
    for title, scope in (
        ("年度五金水暖材料采购合同", "五金建材供应"),
        ("年度照明材料采购合同", "照明"),
    ):
        start = date(as_of.year, 1, 1)
        add(
            "采购",
            f"{as_of.year}{title}",
            vendor_names[scope],
            start,
            date(as_of.year, 12, 31),
            vendor_id=vendors[scope],
            amount=_money(rng.uniform(30000, 80000)),
        )
    return contracts


PROJECTS = [
    ("外墙渗漏维修", "外墙、土建工程"),
    ("屋面防水翻新", "防水工程"),
    ("地下车库照明节能改造", "照明"),
    ("监控系统高清化改造", "门禁监控维保"),
    ("生活水泵变频改造", "水泵维修"),
]


def seed_contracts(db, actor, rng, sites, vendors, as_of) -> dict[str, int]:
    counts = {"contracts": 0, "projects": 0}
    vendor_names = dict(zip([s for _, _, s in VENDORS], [n for n, _, _ in VENDORS]))
    for site in sites:
        contracts = plan_contracts(rng, site, vendors, as_of)
        projects = []
        for title, scope in rng.sample(PROJECTS, 3):
            started = as_of - timedelta(days=rng.randint(20, 300))
            planned = started + timedelta(days=rng.randint(30, 120))
            accepted = (
                planned + timedelta(days=rng.randint(-5, 10))
                if planned < as_of - timedelta(days=15)
                else None
            )
            budget = _money(rng.uniform(50000, 600000))
            contracts.append(
                {
                    "contract_no": f"HT-{started.year}-G{len(projects) + 1:02d}",
                    "community_id": site.id,
                    "title": f"{title}工程施工合同",
                    "kind": "分包",
                    "counterparty": vendor_names[scope],
                    "vendor_id": vendors[scope],
                    "signed_on": started - timedelta(days=7),
                    "start_on": started,
                    "end_on": planned + timedelta(days=90),
                    "amount": budget,
                    "status": "履行中"
                    if planned + timedelta(days=90) >= as_of
                    else "已到期",
                    "handler_id": rng.choice(site.managers),
                }
            )
            projects.append(
                {
                    "community_id": site.id,
                    "name": title,
                    "vendor_id": vendors[scope],
                    "budget": budget,
                    "started_on": started,
                    "planned_end_on": planned,
                    "progress": 100 if accepted else rng.randint(20, 90),
                    "accepted_on": accepted,
                    "manager_id": rng.choice(site.engineers),
                    "contract_no": contracts[-1]["contract_no"],
                }
            )
        ids = _insert(db, actor, "contracts", contracts)
        by_no = {c["contract_no"]: i for c, i in zip(contracts, ids)}
        for p in projects:
            p["contract_id"] = by_no[p.pop("contract_no")]
        _insert(db, actor, "projects", projects)
        counts["contracts"] += len(ids)
        counts["projects"] += len(projects)
    return counts


# -- archives, loans, documents, notices -----------------------------------------------------
ARCHIVE_PREFIX = {
    "工程图纸": "GC",
    "设备档案": "SB",
    "竣工验收": "JG",
    "审批文件": "SP",
    "业主资料": "YZ",
    "员工档案": "YG",
    "合同": "HT",
    "其他": "QT",
}
RETENTION = {
    "工程图纸": 0,
    "设备档案": 30,
    "竣工验收": 0,
    "审批文件": 0,
    "业主资料": 0,
    "员工档案": 30,
    "合同": 10,
    "其他": 10,
}
OUTSIDERS = [
    "区住建局 王科长",
    "特种设备检验所 陈工",
    "业委会 张主任",
    "街道城管科 刘科长",
    "设计院 周工",
    "消防救援大队 孙参谋",
]


def plan_archives(
    rng: random.Random, site: Site, contract_titles: list[str], equipment: list[str], as_of: date
) -> list[dict]:
    rows: list[tuple[str, str, str]] = []  # (category, title, confidentiality)
    for b in site.buildings:
        for part in ("建筑", "结构", "给排水", "电气", "暖通"):
            rows.append(("工程图纸", f"{b['code']}号楼{part}竣工图", "内部"))
        rows.append(("竣工验收", f"{b['code']}号楼分户验收记录", "内部"))
        rows += [("业主资料", f"{b['code']}号楼业主资料 第{n}册", "保密") for n in (1, 2)]
    for title in ("总平面图", "室外管网竣工图", "景观绿化竣工图", "弱电智能化竣工图"):
        rows.append(("工程图纸", title, "内部"))
    for title in (
        "竣工验收备案表",
        "消防验收意见书",
        "规划核实确认书",
        "人防工程验收备案",
        "节能专项验收",
        "电梯监督检验报告汇编",
        "二次供水卫生许可验收",
    ):
        rows.append(("竣工验收", title, "内部"))
    for title in (
        "建设工程规划许可证",
        "建筑工程施工许可证",
        "商品房预售许可证",
        "物业服务收费备案表",
        "物业服务企业备案",
        "消防安全重点单位告知书",
        "停车收费备案",
    ):
        rows.append(("审批文件", title, "公开" if "收费" in title else "内部"))
    rows += [
        ("设备档案", f"{name} 设备档案（合格证、说明书、维保记录）", "内部") for name in equipment
    ]
    rows += [("员工档案", f"员工档案 {name}", "保密") for _, name in site.everyone]
    rows += [("合同", title, "内部") for title in contract_titles]
    others = [
        "业委会会议纪要",
        "年度工作总结",
        "物业服务质量检查记录",
        "消防安全检查记录",
        "安全生产会议记录",
        "业主满意度调查汇总",
    ]
    for i in range(max(0, 200 - len(rows))):
        rows.append(
            (
                "其他",
                f"{2018 + i // len(others) % 9}年{others[i % len(others)]}（{i // 54 + 1}）",
                "内部" if i % 3 == 0 else "公开",
            )
        )
    out = []
    for n, (category, title, secrecy) in enumerate(rows, start=1):
        out.append(
            {
                "archive_no": f"{ARCHIVE_PREFIX[category]}-{n:04d}",
                "community_id": site.id,
                "category": category,
                "title": title,
                "confidentiality": secrecy,
                "shelf": f"档案室 {'ABCDEF'[n % 6]}-{n % 10 + 1:02d}-{n % 5 + 1}",
                "archived_on": _day(rng, site.taken_over, as_of - timedelta(days=25)),
                "retention_years": RETENTION[category],
                "pages": rng.randint(5, 300),
            }
        )
    return out


def plan_loans(rng: random.Random, site: Site, archives: list[dict], ids: list[int], as_of: date) -> list[dict]:
    """Returned loans over the last two years; some archives are out now, a few of them overdue."""
    loans = []
    borrowers = [name for _, name in site.everyone] + OUTSIDERS

    def lend(
        archive: dict, archive_id: int, borrowed: date, due: date, returned: date | None
    ) -> None:
        secret = archive["confidentiality"] == "保密"
        loans.append(
            {
                "archive_id": archive_id,
                "borrower": rng.choice(borrowers),
                "purpose": rng.choice(
                    ("维修查图", "设备年检", "业主纠纷核查", "审计", "工程改造设计")
                ),
                "approved_by_id": rng.choice(site.managers)
                if secret or rng.random() < 0.3
                else None,
                "borrowed_on": borrowed,
                "due_on": due,
                "returned_on": returned,
                "handler_id": rng.choice(site.clerks),
            }
        )

    for k, index in enumerate(rng.sample(range(len(ids)), min(70, len(ids)))):
        archive, archive_id = archives[index], ids[index]
        day = max(archive["archived_on"], as_of - timedelta(days=907)) + timedelta(days=rng.randint(0, 90))
        last_back = archive["archived_on"]
        while day < as_of - timedelta(days=70):
            due = day + timedelta(days=rng.choice((7, 14, 30)))
            late = rng.randint(9, 40) if rng.random() < 0.15 else rng.randint(-6, 0)
            back = max(day, due + timedelta(days=late))
            lend(archive, archive_id, day, due, back)
            last_back = back
            day = back + timedelta(days=rng.randint(60, 420))
        if k % 35 == 0:  # out and overdue on the demo's today
            borrowed = max(last_back, as_of - timedelta(days=rng.randint(20, 60)))
            lend(
                archive, archive_id, borrowed, borrowed + timedelta(days=rng.choice((7, 14))), None
            )
        elif k % 10 in (1, 2):  # out, not yet due
            borrowed = max(last_back, as_of - timedelta(days=rng.randint(0, 10)))
            lend(
                archive,
                archive_id,
                borrowed,
                as_of + timedelta(days=rng.randint(1, 20)),
                None,
            )
    return loans


DOCUMENTS_IN = [
    ("拱墅区住房和城市建设局", "关于开展物业服务质量专项检查的通知"),
    ("街道办事处", "关于做好冬季消防安全工作的通知"),
    ("消防救援大队", "关于开展高层住宅消防安全隐患排查的通知"),
    ("市场监督管理局", "关于电梯定期检验的告知书"),
    ("供水公司", "关于二次供水设施移交管理的函"),
    ("区物业管理协会", "关于组织物业项目经理培训的通知"),
]
DOCUMENTS_OUT = [
    "关于小区消防设施维保情况的报告",
    "关于申请维修资金用于屋面防水工程的请示",
    "关于业委会换届工作安排的函",
    "关于地下车库照明改造方案的报告",
    "年度物业服务工作总结",
]
NOTICES = [
    ("停水通知", "因二次供水水箱清洗消毒，{d} 9:00–17:00 停水，请提前储水。"),
    ("电梯维保通知", "{d} 电梯半月保养，保养期间请走楼梯或使用另一部电梯。"),
    ("消防演练通知", "{d} 上午 9:30 举行消防疏散演练，请各位业主积极参加。"),
    ("停电通知", "因配电设施检修，{d} 8:30–12:00 公共区域停电。"),
    ("冬季防火提示", "天干物燥，请勿在楼道堆放杂物，电动车严禁入户充电。"),
    ("物业费缴纳提醒", "请于 {d} 前缴纳本季度物业服务费，可在物业服务中心或线上缴纳。"),
]


def seed_archives(db, actor, rng, sites, as_of) -> dict[str, int]:
    counts = {"archives": 0, "archive_loans": 0, "documents": 0, "notices": 0}
    for site in sites:
        titles = [
            r[0]
            for r in db.rows(
                "SELECT title FROM contracts WHERE community_id = ? ORDER BY id", [site.id]
            )
        ]
        equipment = [
            r[0]
            for r in db.rows(
                "SELECT asset_no || ' ' || name FROM assets WHERE community_id = ? AND category IN "
                "('电梯', '二次供水水箱', '配电', '消防') ORDER BY id",
                [site.id],
            )
        ]
        archives = plan_archives(rng, site, titles, equipment, as_of)
        ids = _insert(db, actor, "archives", archives)
        loans = plan_loans(rng, site, archives, ids, as_of)
        _insert(db, actor, "archive_loans", loans)
        documents = []
        for n in range(40):
            dated = as_of - timedelta(days=rng.randint(0, 700))
            if n % 3:
                party, title = rng.choice(DOCUMENTS_IN)
                direction, doc_no = "收文", None
            else:
                party, title = (
                    rng.choice(("街道办事处", "业主委员会", "公司总部")),
                    rng.choice(DOCUMENTS_OUT),
                )
                direction, doc_no = "发文", f"{site.short}物〔{dated.year}〕{n + 1}号"
            documents.append(
                {
                    "community_id": site.id,
                    "doc_no": doc_no,
                    "direction": direction,
                    "title": title,
                    "party": party,
                    "dated": dated,
                    "handler_id": rng.choice(site.clerks),
                    "status": "已归档"
                    if dated < as_of - timedelta(days=60)
                    else rng.choice(("登记", "办理中", "已办结")),
                }
            )
        notices = []
        for _ in range(20):
            published = _at(
                as_of - timedelta(days=rng.randint(0, 365)), rng.randint(8, 17)
            )
            title, body = rng.choice(NOTICES)
            day = (published + timedelta(days=rng.randint(2, 6))).date()
            notices.append(
                {
                    "community_id": site.id,
                    "title": title,
                    "body": body.format(d=f"{day:%m月%d日}"),
                    "audience": rng.choice(
                        ("全体业主", f"{rng.choice(site.buildings)['code']}号楼住户")
                    ),
                    "published_at": published,
                    "expires_at": published + timedelta(days=rng.randint(3, 15)),
                    "publisher_id": rng.choice(site.clerks),
                }
            )
        _insert(db, actor, "documents", documents)
        _insert(db, actor, "notices", notices)
        counts["archives"] += len(ids)
        counts["archive_loans"] += len(loans)
        counts["documents"] += len(documents)
        counts["notices"] += len(notices)
    return counts


# -- stock --------------------------------------------------------------------------------------
STOCK = [  # (category, name, unit, price, safety, daily use probability, most per use)
    ("水暖", "阀门 DN15", "个", 18, 10, 0.06, 3),
    ("水暖", "阀门 DN20", "个", 24, 10, 0.06, 3),
    ("水暖", "阀门 DN25", "个", 32, 8, 0.05, 2),
    ("水暖", "阀门 DN32", "个", 45, 5, 0.03, 2),
    ("水暖", "水龙头", "个", 35, 10, 0.08, 2),
    ("水暖", "不锈钢编织软管 60cm", "根", 12, 20, 0.10, 4),
    ("水暖", "PPR 管 20mm", "米", 6.5, 50, 0.06, 12),
    ("水暖", "PPR 弯头 20mm", "个", 1.2, 50, 0.06, 8),
    ("水暖", "PPR 三通 20mm", "个", 1.5, 40, 0.05, 6),
    ("水暖", "生料带", "卷", 1, 30, 0.10, 3),
    ("水暖", "马桶进水阀", "套", 38, 6, 0.04, 1),
    ("水暖", "地漏", "个", 25, 6, 0.03, 2),
    ("电料", "LED 灯泡 9W", "个", 8, 40, 0.15, 6),
    ("电料", "LED 灯管 T8 1.2m", "根", 22, 30, 0.10, 4),
    ("电料", "声光控开关", "个", 15, 20, 0.08, 3),
    ("电料", "五孔插座", "个", 9, 20, 0.05, 3),
    ("电料", "BV 电线 2.5mm²", "米", 2.8, 100, 0.05, 20),
    ("电料", "空气开关 16A", "个", 28, 10, 0.04, 2),
    ("电料", "空气开关 32A", "个", 35, 8, 0.03, 2),
    ("电料", "漏电保护器 40A", "个", 68, 5, 0.02, 1),
    ("电料", "应急照明灯", "个", 55, 10, 0.04, 2),
    ("电料", "安全出口指示灯", "个", 45, 10, 0.03, 2),
    ("电料", "绝缘胶带", "卷", 3, 30, 0.08, 3),
    ("五金", "膨胀螺丝 M8", "个", 0.5, 200, 0.06, 20),
    ("五金", "螺栓 M8", "个", 0.4, 200, 0.05, 20),
    ("五金", "不锈钢合页", "副", 12, 20, 0.04, 4),
    ("五金", "单元门闭门器", "个", 85, 4, 0.03, 1),
    ("五金", "球形门锁", "把", 45, 6, 0.03, 1),
    ("五金", "玻璃胶", "支", 18, 12, 0.05, 2),
    ("五金", "PVC 管卡", "个", 0.8, 100, 0.04, 10),
    ("清洁用品", "垃圾袋 大号", "卷", 12, 40, 0.25, 6),
    ("清洁用品", "洗洁精 5L", "桶", 35, 6, 0.05, 1),
    ("清洁用品", "84 消毒液 5L", "桶", 28, 8, 0.08, 2),
    ("清洁用品", "拖把", "把", 25, 10, 0.04, 2),
    ("清洁用品", "扫把", "把", 15, 10, 0.04, 2),
    ("清洁用品", "玻璃清洁剂", "瓶", 12, 10, 0.05, 2),
    ("清洁用品", "橡胶手套", "副", 4, 30, 0.12, 5),
    ("办公用品", "A4 复印纸", "包", 26, 20, 0.12, 3),
    ("办公用品", "收据本", "本", 8, 10, 0.04, 2),
    ("办公用品", "硒鼓 CF228A", "个", 260, 2, 0.01, 1),
    ("办公用品", "签字笔", "盒", 18, 5, 0.04, 1),
    ("消防", "干粉灭火器 4kg", "具", 85, 10, 0.03, 2),
    ("消防", "灭火器箱", "个", 60, 4, 0.02, 1),
    ("消防", "消防水带 20m", "盘", 180, 3, 0.01, 1),
    ("消防", "防火门闭门器", "个", 120, 3, 0.02, 1),
    ("绿化", "复合肥", "袋", 95, 4, 0.02, 1),
    ("绿化", "草籽", "公斤", 40, 5, 0.02, 2),
    ("绿化", "园林剪", "把", 65, 3, 0.01, 1),
    ("安全", "警示带", "卷", 15, 10, 0.05, 2),
    ("安全", "反光锥", "个", 22, 10, 0.02, 2),
    ("工具", "钻头套装", "套", 48, 2, 0.01, 1),
    ("工具", "电工胶布", "卷", 3, 20, 0.06, 3),
    ("电梯", "电梯按钮", "个", 120, 4, 0.02, 1),
    ("电梯", "电梯照明灯", "个", 35, 6, 0.02, 2),
    ("给排水", "浮球阀 DN50", "个", 150, 2, 0.01, 1),
    ("给排水", "止回阀 DN80", "个", 320, 2, 0.01, 1),
    ("给排水", "雨水篦子", "个", 60, 6, 0.02, 2),
    ("土建", "水泥 42.5", "袋", 28, 10, 0.03, 3),
    ("土建", "黄沙", "袋", 8, 20, 0.03, 5),
    ("土建", "外墙涂料", "桶", 320, 2, 0.01, 1),
    ("土建", "防水涂料", "桶", 260, 3, 0.01, 1),
    ("门禁", "门禁卡", "张", 5, 100, 0.10, 10),
    ("门禁", "门禁电磁锁", "个", 180, 3, 0.01, 1),
    ("门禁", "门禁电源", "个", 95, 3, 0.01, 1),
    ("监控", "监控摄像机", "台", 380, 2, 0.01, 1),
    ("监控", "网线 超五类", "米", 1.5, 100, 0.03, 20),
    ("电料", "接线端子", "个", 0.3, 200, 0.05, 20),
    ("电料", "电缆扎带", "包", 6, 20, 0.05, 2),
    ("水暖", "水表 DN20", "个", 95, 5, 0.02, 1),
    ("水暖", "管道疏通剂", "瓶", 16, 10, 0.05, 2),
    ("清洁用品", "尘推", "把", 45, 5, 0.02, 1),
    ("办公用品", "档案盒", "个", 6, 30, 0.04, 5),
    ("办公用品", "长尾夹", "盒", 9, 5, 0.03, 1),
]


@dataclass
class StockPlan:
    item: dict
    movements: list[dict] = field(default_factory=list)  # plain movements (not from a request)
    requests: list[dict] = field(default_factory=list)  # requests; received ones carry received_at


def simulate_stock(
    rng: random.Random, item: dict, spec: tuple, engineers: list[int], managers: list[int], as_of: date
) -> StockPlan:
    """A year of use and restocking that never goes below zero; restocks of the last months go
    through purchase requests, and an order still on its way leaves the item below safety stock."""
    _, _, _, price, safety, chance, most = spec
    plan = StockPlan(item)
    price = Decimal(str(price))
    start = as_of - timedelta(days=365)
    balance = safety * 3 + rng.randint(0, safety)
    # most items are reordered before they run short; a few only once below safety stock, and
    # their orders take weeks (those are the ones the to-do list shows below safety)
    late = rng.random() < 0.1
    reorder_at, lead_days = (safety, (8, 25)) if late else (safety * 2, (2, 5))
    plan.movements.append(
        {
            "moved_at": _at(start, 9),
            "direction": "入库",
            "qty": Decimal(balance),
            "unit_price": price,
            "note": "期初入库",
        }
    )
    pending: dict | None = None
    via_request_from = as_of - timedelta(days=150)
    requester = rng.choice(engineers)
    approver = next((m for m in managers if m != requester), None)
    for offset in range(1, 366):
        day = start + timedelta(days=offset)
        if pending and pending["arrive"] == day:
            qty, paid = (
                pending["qty"],
                (price * Decimal(str(rng.uniform(0.95, 1.08)))).quantize(Decimal("0.01")),
            )
            moment = _at(day, 9, rng.randint(0, 59))
            if pending["ordered"] >= via_request_from and approver is not None:
                plan.requests.append(
                    {
                        "qty": Decimal(qty),
                        "est_price": price,
                        "unit_price": paid,
                        "requested_on": pending["ordered"],
                        "requested_by_id": requester,
                        "approved_by_id": approver,
                        "received_at": moment,
                        "reason": "低于安全库存，补货",
                        "status": "已入库",
                    }
                )
            else:
                plan.movements.append(
                    {
                        "moved_at": moment,
                        "direction": "入库",
                        "qty": Decimal(qty),
                        "unit_price": paid,
                        "note": "补货入库",
                    }
                )
            balance += qty
            pending = None
        if rng.random() < chance and balance > 0:
            qty = min(balance, rng.randint(1, most))
            plan.movements.append(
                {
                    "moved_at": _at(day, rng.randint(10, 16), rng.randint(0, 59)),
                    "direction": "出库",
                    "qty": Decimal(qty),
                    "handler_id": rng.choice(engineers),
                    "note": rng.choice(("维修领用", "日常领用", "报修单领料")),
                }
            )
            balance -= qty
        if day.month in (3, 6, 9) and day.day == 30 and rng.random() < 0.3 and balance > 0:
            delta = rng.choice((-1, 1))
            plan.movements.append(
                {
                    "moved_at": _at(day, 18),
                    "direction": "盘点调整",
                    "qty": Decimal(delta),
                    "note": "季度盘点" + ("盘亏" if delta < 0 else "盘盈"),
                }
            )
            balance += delta
        if balance < reorder_at and pending is None:
            arrive = day + timedelta(days=rng.randint(*lead_days))
            pending = {"ordered": day, "arrive": arrive, "qty": max(safety * 3 - balance, safety)}
    if pending is not None and approver is not None:  # still on its way on the demo's today
        status = "已批准" if (as_of - pending["ordered"]).days >= 2 else "待审批"
        plan.requests.append(
            {
                "qty": Decimal(pending["qty"]),
                "est_price": price,
                "requested_on": pending["ordered"],
                "requested_by_id": requester,
                "approved_by_id": approver if status == "已批准" else None,
                "reason": "低于安全库存，补货",
                "status": status,
            }
        )
    return plan


def seed_stock(db, actor, rng, sites, as_of) -> dict[str, int]:
    counts = {"stock_items": 0, "purchase_requests": 0, "stock_movements": 0}
    for site in sites:
        items = [
            {
                "community_id": site.id,
                "code": f"WZ-{n:03d}",
                "name": name,
                "category": category,
                "unit": unit,
                "safety_stock": Decimal(safety),
                "location": f"仓库 {'ABC'[n % 3]}-{n % 8 + 1:02d}",
            }
            for n, (category, name, unit, _, safety, _, _) in enumerate(STOCK, start=1)
        ]
        ids = _insert(db, actor, "stock_items", items)
        plans = [
            simulate_stock(rng, item, spec, site.engineers, site.managers, as_of)
            for item, spec in zip(items, STOCK)
        ]
        requests = []
        for plan, item_id in zip(plans, ids):
            requests += [{**r, "stock_item_id": item_id} for r in plan.requests]
        for _ in range(3):  # a few turned down
            item_id = rng.choice(ids)
            asked = as_of - timedelta(days=rng.randint(10, 90))
            taken = {r["requested_on"] for r in requests if r["stock_item_id"] == item_id}
            while asked in taken:  # one request per item and day: the day tells them apart
                asked -= timedelta(days=1)
            requests.append(
                {
                    "stock_item_id": item_id,
                    "qty": Decimal(rng.randint(5, 20)),
                    "est_price": Decimal(50),
                    "requested_on": asked,
                    "requested_by_id": site.engineers[0],
                    "approved_by_id": next(
                        (m for m in site.managers if m != site.engineers[0]), None
                    ),
                    "reason": "备用",
                    "status": "已驳回",
                }
            )
        requests = [
            r for r in requests if r["status"] != "已驳回" or r["approved_by_id"] is not None
        ]
        # Requests are entered as approved, then received: receiving writes the 入库 movement.
        received = [r for r in requests if r["status"] == "已入库"]
        request_ids = _insert(
            db,
            actor,
            "purchase_requests",
            [
                {
                    **r,
                    "status": "已批准" if r["status"] == "已入库" else r["status"],
                    "received_at": None,
                }
                for r in requests
            ],
        )
        _update(
            db,
            actor,
            "purchase_requests",
            [
                (i, {"status": "已入库", "received_at": r["received_at"]})
                for i, r in zip(request_ids, requests)
                if r["status"] == "已入库"
            ],
        )
        movements = [
            {**m, "stock_item_id": item_id}
            for plan, item_id in zip(plans, ids)
            for m in plan.movements
        ]
        movements.sort(key=lambda m: m["moved_at"])
        _insert(db, actor, "stock_movements", movements)
        counts["stock_items"] += len(ids)
        counts["purchase_requests"] += len(request_ids)
        counts["stock_movements"] += len(movements) + len(received)
    return counts


def seed(db: Database, actor: Actor, as_of: date, seed_value: int = SEED) -> dict[str, int]:
    """Add the facilities, contracts, archives and stock demo; returns rows added per register."""
    rng = random.Random(seed_value)
    sites = load_sites(db)
    if not sites:
        return {}
    counts: dict[str, int] = {}
    vendors = seed_vendors(db, actor, rng, as_of)
    counts["vendors"] = len(VENDORS)
    counts.update(seed_assets(db, actor, rng, sites, vendors, as_of))
    counts.update(seed_fire(db, actor, rng, sites, as_of))
    counts.update(seed_contracts(db, actor, rng, sites, vendors, as_of))
    counts.update(seed_archives(db, actor, rng, sites, as_of))
    counts.update(seed_stock(db, actor, rng, sites, as_of))
    return counts
