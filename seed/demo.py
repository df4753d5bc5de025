"""Deterministic demo data: two 小区 in Hangzhou with buildings, households, owners and staff.

`seed_demo` writes only through the save path (validation and audit included), one change set
per register, in reference order. Then every module `seed/demo_*.py` adds its registers
(`seed(db, actor, as_of) -> dict[str, int]`), in name order, reading the ids it needs from the DB.
All of them place their dates relative to the one `as_of`, the demo's today.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database
from seed.names import People, Person

SEED = 20260101

RESIDENT_STATUS = (("已入住", "出租", "空置", "装修中"), (74, 12, 9, 5))
SHOP_STATUS = (("出租", "已入住", "空置"), (55, 25, 20))
GARAGE_STATUS = (("已入住", "空置"), (80, 20))


# -- layout -----------------------------------------------------------------------------
@dataclass
class BuildingPlan:
    code: str
    floors: int
    units: int
    rooms: int  # flats per floor in each unit
    built_year: int
    shops_below: bool = False  # ground floor is 底商 facing the street


@dataclass
class CommunityPlan:
    name: str
    address: str
    taken_over: date  # when this company took over the 小区 (接管日期)
    delivered: date  # when the developer started handing flats to buyers (交房)
    green_rate: Decimal
    parking_spaces: int
    service_phone: str
    committee_term_end: date
    area_range: tuple[int, int]  # flat sizes in m²
    buildings: list[BuildingPlan] = field(default_factory=list)
    garages: int = 0


def community_plans(rng: random.Random, as_of: date) -> list[CommunityPlan]:
    """An older walk-up 小区 with a few small towers, and a newer high-rise one; the 业委会 of
    翠湖苑 ends its term at the end of this year, the other next spring."""
    sunny = CommunityPlan(
        name="阳光花园", address="浙江省杭州市拱墅区莫干山路1288号",
        taken_over=date(2015, 7, 1), delivered=date(2009, 3, 15),
        green_rate=Decimal("0.32"), parking_spaces=420, service_phone="0571-88216688",
        committee_term_end=date(as_of.year + 1, 4, 30), area_range=(55, 128), garages=12,
    )
    for b in range(1, 9):
        sunny.buildings.append(BuildingPlan(str(b), 6, rng.choice((3, 4)), 2,
                                            rng.choice((2007, 2008)), shops_below=b <= 2))
    for b in range(9, 13):
        sunny.buildings.append(BuildingPlan(str(b), 11, 3, 2, 2008))
    lake = CommunityPlan(
        name="翠湖苑", address="浙江省杭州市西湖区文一西路566号",
        taken_over=date(2017, 6, 18), delivered=date(2017, 6, 18),
        green_rate=Decimal("0.38"), parking_spaces=1350, service_phone="0571-87958899",
        committee_term_end=date(as_of.year, 12, 31), area_range=(89, 180), garages=16,
    )
    for b in range(1, 9):
        units, rooms = rng.choice(((2, 2), (2, 3), (2, 4)))
        lake.buildings.append(BuildingPlan(str(b), rng.choice((18, 26, 28, 32, 33)), units, rooms,
                                           rng.choice((2016, 2017)), shops_below=b == 1))
    return [sunny, lake]


def _days(rng: random.Random, start: date, most: int, as_of: date) -> date:
    """A date 0..most days after start, never after as_of."""
    room = max(0, min(most, (as_of - start).days))
    return start + timedelta(days=rng.randrange(room + 1))


def _area(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100 + 1)).scaleb(-2)


def household_values(rng: random.Random, community_id: Any, building_id: Any, code: str,
                     usage: str, area: Decimal, delivered: date, as_of: date,
                     note: str | None = None) -> dict:
    """One household row: status by usage, 交房 within months of `delivered`, 入住 if lived in."""
    names, weights = {"住宅": RESIDENT_STATUS, "商铺": SHOP_STATUS}.get(usage, GARAGE_STATUS)
    status = rng.choices(names, weights)[0]
    handover = _days(rng, delivered, 240, as_of)
    row = {"community_id": community_id, "building_id": building_id, "code": code, "area": area,
           "usage": usage, "status": status, "handover_date": handover}
    if status in ("已入住", "出租"):
        row["move_in_date"] = _days(rng, handover + timedelta(days=30), 5 * 365, as_of)
    if note:
        row["note"] = note
    return row


def plan_households(rng: random.Random, plan: CommunityPlan,
                    as_of: date) -> list[tuple[int | None, dict]]:
    """(building index or None, household values) for one community; codes like 3-2-1201."""
    out: list[tuple[int | None, dict]] = []
    low, high = plan.area_range
    for bi, b in enumerate(plan.buildings):
        # Flats in one stack share a floor plan, so the size is fixed per unit and room.
        sizes = {(u, r): _area(rng, low, high) for u in range(1, b.units + 1)
                 for r in range(1, b.rooms + 1)}
        for u in range(1, b.units + 1):
            for floor in range(1, b.floors + 1):
                for r in range(1, b.rooms + 1):
                    code = f"{b.code}-{u}-{floor}{r:02d}"
                    if floor == 1 and b.shops_below:
                        out.append((bi, household_values(rng, None, None, code, "商铺",
                                                         _area(rng, 35, 160), plan.delivered,
                                                         as_of, "临街底商")))
                    else:
                        out.append((bi, household_values(rng, None, None, code, "住宅",
                                                         sizes[u, r], plan.delivered, as_of)))
    for n in range(1, plan.garages + 1):
        out.append((None, household_values(rng, None, None, f"CK-{n:03d}", "车库",
                                           _area(rng, 12, 35), plan.delivered, as_of,
                                           "地下车库")))
    return out


def generate_households(rng: random.Random, n: int, community_ids: Sequence[int],
                        building_ids: Mapping[int, Sequence[int]] | None = None,
                        as_of: date | None = None) -> list[dict]:
    """n household rows spread over communities, codes unique per community (benchmarks).

    Same kinds of values as the demo, drawn in bulk for speed: each community is laid out as
    33-floor towers of 2 units x 4 flats, and tower k maps onto the community's building ids
    in turn when `building_ids` is given.
    """
    rnd = rng.random
    ranges = {"住宅": (55, 180), "商铺": (35, 160), "车库": (12, 35)}
    sizes = {usage: [Decimal(c).scaleb(-2) for c in range(low * 100, high * 100 + 1)]
             for usage, (low, high) in ranges.items()}
    statuses = {}
    for usage, (names, weights) in (("住宅", RESIDENT_STATUS), ("商铺", SHOP_STATUS),
                                    ("车库", GARAGE_STATUS)):
        total, cum = sum(weights), 0
        statuses[usage] = []
        for name, w in zip(names, weights, strict=True):
            cum += w
            statuses[usage].append((cum / total, name))
    delivered = {cid: date(2008 + cid % 12, 1 + cid % 12, 1).toordinal() for cid in community_ids}
    last = (as_of or date.today()).toordinal()
    seen = {cid: 0 for cid in community_ids}
    rows = []
    for i in range(n):
        cid = community_ids[i % len(community_ids)]
        k = seen[cid]
        seen[cid] = k + 1
        b, rest = divmod(k, 264)
        unit, rest = divmod(rest, 132)
        floor, room = divmod(rest, 4)
        ids = building_ids.get(cid) if building_ids else None
        x = rnd()
        usage = "住宅" if x < 0.94 else "商铺" if x < 0.97 else "车库"
        pool = sizes[usage]
        x = rnd()
        status = next(name for cum, name in statuses[usage] if x < cum)
        handover = delivered[cid] + int(rnd() * 241)
        row = {"community_id": cid, "building_id": ids[b % len(ids)] if ids else None,
               "code": f"{b + 1}-{unit + 1}-{floor + 1}{room + 1:02d}",
               "area": pool[int(rnd() * len(pool))], "usage": usage, "status": status,
               "handover_date": date.fromordinal(handover)}
        if status in ("已入住", "出租"):
            start = handover + 30
            row["move_in_date"] = date.fromordinal(
                start + int(rnd() * (max(0, min(5 * 365, last - start)) + 1)))
        rows.append(row)
    return rows


# -- people -----------------------------------------------------------------------------
def _owner(p: Person, role: str, primary: bool = False, moved_in: date | None = None,
           moved_out: date | None = None, phone: bool = True, id_number: bool = True) -> dict:
    row: dict[str, Any] = {"name": p.name, "role": role, "is_primary": primary}
    if phone:
        row["phone"] = p.phone
    if id_number:
        row["id_number"] = p.id_number
    if moved_in:
        row["move_in_date"] = moved_in
    if moved_out:
        row["moved_out_on"] = moved_out
    return row


def plan_occupants(rng: random.Random, people: People, hh: dict) -> list[dict]:
    """Owners, family and tenants of one household (without household_id)."""
    status, usage = hh["status"], hh["usage"]
    if status == "空置" and rng.random() < 0.3:
        return []  # still unsold, held by the developer
    moved_in = hh.get("move_in_date") if status == "已入住" else None
    out = []
    if rng.random() < 0.04 and hh.get("move_in_date"):
        # Bought second-hand: the first owner moved out when it was sold on.
        first = people.person(1950, 1985)
        sold = hh["move_in_date"] - timedelta(days=rng.randrange(15, 120))
        if sold > hh["handover_date"]:
            out.append(_owner(first, "业主", moved_in=hh["handover_date"], moved_out=sold))
    owner = people.person(1950, 1995) if usage != "住宅" else people.person(1955, 2000)
    out.append(_owner(owner, "业主", primary=True, moved_in=moved_in))
    if status == "已入住" and usage == "住宅":
        father = owner if owner.male else None
        if rng.random() < 0.7 and owner.born.year >= 1952:
            spouse = people.person(owner.born.year - 5, owner.born.year + 5, male=not owner.male)
            father = father or spouse
            out.append(_owner(spouse, "家属", moved_in=moved_in, phone=rng.random() < 0.8,
                              id_number=rng.random() < 0.85))
        if rng.random() < 0.5 and owner.born.year <= 1972:
            child = people.person(owner.born.year + 22, owner.born.year + 30,
                                  family_name=father.family_name if father else None)
            out.append(_owner(child, "家属", moved_in=moved_in, phone=rng.random() < 0.8,
                              id_number=rng.random() < 0.85))
        if rng.random() < 0.15 and owner.born.year >= 1978:
            parent = people.person(1950, owner.born.year - 25)
            out.append(_owner(parent, "家属", moved_in=moved_in, phone=rng.random() < 0.5,
                              id_number=rng.random() < 0.85))
    if status == "出租":
        for _ in range(1 if usage == "商铺" or rng.random() < 0.6 else 2):
            tenant = people.person(1975, 2000)
            out.append(_owner(tenant, "租户", moved_in=hh["move_in_date"]))
    return out


DEPARTMENTS = [
    ("综合部", "负责行政人事、档案与公文管理、制度建设、ISO9001 质量体系运行及对外联络。",
     "0571-88210001"),
    ("客服部", "负责业主接待、入住与装修手续、报修投诉受理与回访、意见调查和社区文化活动。",
     "0571-88210002"),
    ("工程部", "负责房屋本体及共用设施设备的运行、维修保养，二次装修监管和工程改造。",
     "0571-88210003"),
    ("保安部", "负责门岗、巡逻和监控值班，车辆与停车秩序管理，消防安全及突发事件处置。",
     "0571-88210004"),
    ("环境部", "负责公共区域清洁、垃圾分类清运、消杀以及绿化养护。",
     "0571-88210005"),
    ("财务部", "负责物业费等各项费用的收缴与催缴、票据与账务管理、成本核算和财务报表。",
     "0571-88210006"),
]

EDUCATION = ("初中", "高中", "中专", "大专", "本科", "硕士及以上")
# Education weights by kind of post, in EDUCATION's order.
SCHOOLING = {
    "manager": (0, 0, 0, 20, 70, 10),
    "office": (0, 5, 10, 40, 45, 0),
    "skilled": (10, 35, 35, 20, 0, 0),
    "field": (45, 40, 10, 5, 0, 0),
}
# (department, position, how many at head office, how many per 小区 [阳光花园, 翠湖苑],
#  schooling, birth years, share of men)
POSTS = [
    ("综合部", "总经理", 1, (0, 0), "manager", (1968, 1980), 0.7),
    ("综合部", "行政文员", 1, (0, 0), "office", (1988, 2000), 0.2),
    ("综合部", "人事专员", 1, (0, 0), "office", (1985, 1998), 0.3),
    ("综合部", "管理处主任", 0, (1, 1), "manager", (1970, 1985), 0.6),
    ("综合部", "档案管理员", 0, (1, 0), "office", (1975, 1995), 0.3),
    ("客服部", "客服主管", 0, (1, 1), "office", (1980, 1992), 0.3),
    ("客服部", "客服专员", 0, (2, 3), "office", (1990, 2000), 0.2),
    ("工程部", "工程主管", 0, (1, 1), "skilled", (1970, 1985), 1.0),
    ("工程部", "电工", 0, (1, 2), "skilled", (1965, 1990), 1.0),
    ("工程部", "水暖工", 0, (1, 1), "skilled", (1965, 1990), 1.0),
    ("工程部", "维修工", 0, (1, 2), "skilled", (1965, 1992), 1.0),
    ("工程部", "弱电工", 0, (0, 1), "skilled", (1980, 1995), 1.0),
    ("保安部", "保安队长", 0, (1, 1), "field", (1970, 1985), 1.0),
    ("保安部", "保安班长", 0, (0, 2), "field", (1975, 1992), 1.0),
    ("保安部", "保安员", 0, (5, 7), "field", (1965, 1998), 0.95),
    ("保安部", "监控员", 0, (1, 1), "field", (1975, 1995), 0.7),
    ("环境部", "环境主管", 0, (1, 1), "office", (1970, 1985), 0.5),
    ("环境部", "保洁员", 0, (4, 5), "field", (1960, 1978), 0.2),
    ("环境部", "绿化工", 0, (2, 2), "field", (1960, 1980), 0.7),
    ("财务部", "财务经理", 1, (0, 0), "manager", (1970, 1985), 0.3),
    ("财务部", "会计", 1, (0, 0), "office", (1980, 1995), 0.2),
    ("财务部", "出纳", 1, (0, 0), "office", (1985, 1998), 0.2),
    ("财务部", "收费员", 0, (1, 1), "office", (1985, 1998), 0.2),
]


TURNOVER = ("保安员", "保洁员", "客服专员")  # posts where some have already left


def plan_staff(rng: random.Random, people: People, plans: list[CommunityPlan],
               as_of: date) -> list[dict]:
    """Staff rows with department and community as indexes (None: head office); unique names."""
    names: set[str] = set()
    out = []
    for dept, position, at_office, per_community, schooling, (first, last), men in POSTS:
        slots = [None] * at_office + [
            ci for ci, count in enumerate(per_community) for _ in range(count)
        ]
        for ci in slots:
            while True:
                p = people.person(first, last, male=rng.random() < men)
                if p.name not in names:
                    names.add(p.name)
                    break
            start = plans[ci].taken_over if ci is not None else date(2012, 3, 1)
            out.append({
                "community_id": ci,
                "department_id": [d[0] for d in DEPARTMENTS].index(dept),
                "name": p.name,
                "position": position,
                "phone": p.phone,
                "id_number": p.id_number,
                "education": rng.choices(EDUCATION, SCHOOLING[schooling])[0],
                "is_manager": position.endswith(("经理", "主任", "主管", "队长")),  # 员工构成: 管理人员
                "hired_on": _days(rng, max(start, date(p.born.year + 18, 9, 1)), 10 * 365, as_of),
                "status": "离职" if position in TURNOVER and rng.random() < 0.2 else "在职",
            })
    return out


def committee_text(rng: random.Random, owners: list[dict]) -> str:
    picked: list[str] = []
    for o in rng.sample(owners, min(len(owners), 20)):
        if o["name"] not in picked:
            picked.append(o["name"])
    return f"主任：{picked[0]}；副主任：{picked[1]}；委员：" + "、".join(picked[2:5])


# -- writing ----------------------------------------------------------------------------
def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None})
               for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def seed_core(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    people = People(rng)
    plans = community_plans(rng, as_of)

    households: list[tuple[int, int | None, dict]] = []  # (community index, building index, row)
    for ci, plan in enumerate(plans):
        households += [(ci, bi, row) for bi, row in plan_households(rng, plan, as_of)]
    occupants = [(hi, plan_occupants(rng, people, row))
                 for hi, (_, _, row) in enumerate(households)]
    staff = plan_staff(rng, people, plans, as_of)

    community_rows = []
    for ci, plan in enumerate(plans):
        lived_in = [o for hi, group in occupants for o in group
                    if households[hi][0] == ci and o["role"] == "业主" and o["is_primary"]
                    and households[hi][2]["status"] == "已入住"]
        flats = sum(row["area"] for c, _, row in households if c == ci)
        community_rows.append({
            "name": plan.name, "address": plan.address,
            "total_area": (flats * Decimal("1.12")).quantize(Decimal("0.01")),
            "green_rate": plan.green_rate, "parking_spaces": plan.parking_spaces,
            "handover_date": plan.taken_over, "committee_members": committee_text(rng, lived_in),
            "committee_term_end": plan.committee_term_end, "service_phone": plan.service_phone,
        })

    community_ids = _insert(db, actor, "communities", community_rows)
    building_rows, building_of = [], {}
    for ci, plan in enumerate(plans):
        for bi, b in enumerate(plan.buildings):
            building_of[ci, bi] = len(building_rows)
            building_rows.append({"community_id": community_ids[ci], "code": b.code,
                                  "floors": b.floors, "units": b.units,
                                  "has_elevator": b.floors > 7, "built_year": b.built_year})
    building_ids = _insert(db, actor, "buildings", building_rows)
    for ci, bi, row in households:
        row["community_id"] = community_ids[ci]
        row["building_id"] = building_ids[building_of[ci, bi]] if bi is not None else None
    household_ids = _insert(db, actor, "households", [row for _, _, row in households])
    owner_rows = [{"household_id": household_ids[hi], **o}
                  for hi, group in occupants for o in group]
    _insert(db, actor, "owners", owner_rows)
    department_ids = _insert(db, actor, "departments",
                             [{"name": n, "duties": d, "phone": p} for n, d, p in DEPARTMENTS])
    for s in staff:
        s["department_id"] = department_ids[s["department_id"]]
        if s["community_id"] is not None:
            s["community_id"] = community_ids[s["community_id"]]
    _insert(db, actor, "staff", staff)
    return {
        "communities": len(community_rows), "buildings": len(building_rows),
        "households": len(households), "owners": len(owner_rows),
        "departments": len(DEPARTMENTS), "staff": len(staff),
    }


def extension_modules() -> list[str]:
    """Names of the `seed/demo_*.py` modules, in the order they run."""
    import seed

    return sorted(m.name for m in pkgutil.iter_modules(seed.__path__) if m.name.startswith("demo_"))


def seed_demo(db: Database, actor: Actor, as_of: date | None = None,
              progress: Callable[[str, dict[str, int]], None] | None = None) -> dict[str, int]:
    """Fill an empty database with the demo 小区 as they stand on `as_of` (default: today);
    {} when it already has communities.

    Every module gets the same `as_of`: two years of history end in its month, and what is
    open or due is open or due on that day. The same `as_of` gives the same rows.
    `progress(stage, counts)` is called after the core and after each module.
    """
    if db.scalar("SELECT count(*) FROM communities WHERE deleted_at IS NULL"):
        return {}
    as_of = as_of or date.today()
    counts = seed_core(db, actor, as_of)
    if progress:
        progress("core", counts)
    for name in extension_modules():
        module = importlib.import_module(f"seed.{name}")
        added = module.seed(db, actor, as_of)
        for register, n in added.items():
            counts[register] = counts.get(register, 0) + n
        if progress:
            progress(name, added)
    return counts
