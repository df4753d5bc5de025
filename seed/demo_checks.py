"""Demo 检查与整改 and 保安: inspection plans per area, their checks with some failures and fixes,
four weeks of shifts, daily patrols, control-room logs and visitors, up to the demo's today (`as_of`).

Rhythms: cleaning checked weekly (抽查), the gate posts weekly, greening fortnightly, fire exits and
pump rooms monthly; about one check in twelve fails and opens a rectification (the save rule does
it), most of which were fixed and verified by the 管理处主任 within the deadline; a few are still
open, one past its deadline, one waiting for verification. Patrols six times a day in public areas
and twice inside buildings, with a few short days in the last week; two visitors not signed out.
Everything goes through the save path; one change set per register and step, so it stays fast.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database
from seed.names import birth_date, given_name, id_number, mobile, surname

SEED = 20261107
HISTORY_DAYS = 120  # inspections
PATROL_DAYS = 45
VISITOR_DAYS = 14
MONITOR_DAYS = 30

# (area, item, frequency_days, method, sample_size, who is responsible, standard)
PLANS = [
    ("清洁消杀", "楼道及电梯轿厢保洁", 7, "抽查", 3, "环境主管", "地面无垃圾、无积水，扶手、信报箱无积尘，轿厢无污渍"),
    ("清洁消杀", "道路、广场与停车场清扫", 7, "抽查", 4, "环境主管", "路面无烟头纸屑，雨水口畅通"),
    ("清洁消杀", "垃圾分类与清运", 7, "全检", None, "环境主管", "日产日清，分类准确，垃圾房无异味"),
    ("清洁消杀", "四害消杀", 30, "全检", None, "环境主管", "按计划投药，记录完整，无明显鼠迹蟑迹"),
    ("保安", "门岗值勤与着装", 7, "抽查", 2, "保安队长", "着装整齐，访客登记完整，车辆进出有序"),
    ("保安", "监控中心值班", 7, "全检", None, "保安队长", "双人值班，录像保存不少于 30 天，交接记录完整"),
    ("绿化", "草坪修剪与浇灌", 14, "抽查", 3, "环境主管", "草高不超过 10 cm，无枯黄斑块，无杂草"),
    ("绿化", "乔灌木修剪与病虫害", 30, "抽查", 5, "环境主管", "无枯枝，无明显病虫害"),
    ("消防", "消防通道与安全出口", 30, "全检", None, "工程主管", "通道无堆物，安全出口门完好，疏散指示明亮"),
    ("设备", "水泵房与配电房巡检", 7, "全检", None, "工程主管", "运行记录完整，无渗漏，温度正常"),
    ("装修", "装修现场巡查", 7, "抽查", 3, "客服主管", "持证施工，按时作业，垃圾袋装定点堆放"),
]
FINDINGS = {
    "清洁消杀": ["{b}幢{u}单元楼道有垃圾未清", "{b}幢电梯轿厢地面污渍", "垃圾房地面积水有异味"],
    "保安": ["北门岗访客登记不全", "值勤人员未按规定着装", "监控中心交接班记录缺失"],
    "绿化": ["{b}幢东侧草坪枯黄", "中心花园杂草较多", "香樟树有枯枝未修剪"],
    "消防": ["{b}幢消防通道堆放杂物", "地下车库安全出口指示灯不亮"],
    "设备": ["2号水泵轴封渗水", "配电房运行记录未按时填写"],
    "装修": ["{b}幢装修垃圾未袋装", "施工人员未佩戴出入证"],
}
MEASURES = ["已安排专人清理并复查", "已整改完毕，拍照存档", "已更换损坏部件", "已对责任人进行培训", "已补齐记录"]
PURPOSES = (("探亲访友", "快递外卖", "装修施工", "维修服务", "家政", "中介看房"), (40, 25, 12, 8, 10, 5))


@dataclass
class Crew:
    """Who works for one 小区, by post."""

    community_id: int
    short: str
    by_post: dict[str, list[int]] = field(default_factory=dict)
    guards: list[int] = field(default_factory=list)
    buildings: list[str] = field(default_factory=list)
    households: list[int] = field(default_factory=list)

    def first(self, *posts: str) -> int | None:
        for post in posts:
            if self.by_post.get(post):
                return self.by_post[post][0]
        return None


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _update(db: Database, actor: Actor, register: str, updates: list[tuple[int, dict]]) -> None:
    if updates:
        apply_changes(db, actor, register, [RowChange("update", row_id=i, values=v) for i, v in updates])


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def load_crews(db: Database) -> list[Crew]:
    crews = []
    for cid, name in db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id"):
        crew = Crew(cid, name[:1])
        for sid, position, dept in db.rows(
            "SELECT s.id, coalesce(s.position, ''), coalesce(d.name, '') FROM staff s "
            "LEFT JOIN departments d ON d.id = s.department_id "
            "WHERE s.deleted_at IS NULL AND s.status = '在职' AND s.community_id = ? ORDER BY s.id",
            [cid],
        ):
            crew.by_post.setdefault(position, []).append(sid)
            if dept == "保安部":
                crew.guards.append(sid)
        crew.buildings = [r[0] for r in db.rows(
            "SELECT code FROM buildings WHERE community_id = ? AND deleted_at IS NULL ORDER BY id", [cid])] or ["1"]
        crew.households = [r[0] for r in db.rows(
            "SELECT id FROM households WHERE community_id = ? AND deleted_at IS NULL AND status <> '空置' "
            "ORDER BY id LIMIT 400", [cid])]
        crews.append(crew)
    return crews


# -- inspections and rectifications ---------------------------------------------------------
def seed_inspections(db: Database, actor: Actor, rng: random.Random, crews: list[Crew],
                     as_of: date) -> dict[str, int]:
    plan_rows, plan_meta = [], []
    for crew in crews:
        for area, item, every, method, sample, post, standard in PLANS:
            plan_rows.append({
                "community_id": crew.community_id, "area": area, "item": item, "frequency_days": every,
                "method": method, "sample_size": sample, "responsible_id": crew.first(post, "管理处主任"),
                "starts_on": as_of - timedelta(days=HISTORY_DAYS), "standard": standard,
            })
            plan_meta.append((crew, area, every))
    plan_ids = _insert(db, actor, "inspection_plans", plan_rows)

    inspections = []
    for pid, (crew, area, every) in zip(plan_ids, plan_meta):
        inspectors = [x for x in (crew.first("管理处主任"), crew.first("客服主管"), crew.first("保安队长"))
                      if x is not None]
        first = as_of - timedelta(days=HISTORY_DAYS) + timedelta(days=rng.randint(max(every - 3, 1), every))
        # a few plans fall behind: their last check is older than the frequency; the others were
        # last checked within it (counted back from that last check, so it is the latest)
        behind = rng.random() < 0.04
        last = as_of - timedelta(days=(every + rng.randint(1, 4)) if behind else rng.randint(0, every - 2))
        days = []
        while last >= first:
            days.append(last)
            last -= timedelta(days=every + rng.choice((-1, 0, 0, 0, 1)))
        for day in reversed(days):
            failed = rng.random() < 0.08
            b, u = rng.choice(crew.buildings), rng.randint(1, 3)
            inspections.append({
                "plan_id": pid, "inspected_at": _at(day, rng.randint(9, 16), rng.choice((0, 15, 30, 45))),
                "inspector_id": rng.choice(inspectors), "location": f"{b}幢" if area != "保安" else "北门岗",
                "result": "不合格" if failed else "合格",
                "findings": rng.choice(FINDINGS[area]).format(b=b, u=u) if failed else None,
                "score": rng.randint(62, 79) if failed else rng.randint(85, 100),
            })
    _insert(db, actor, "inspections", inspections)
    counts = {"inspection_plans": len(plan_rows), "inspections": len(inspections)}
    counts["rectifications"] = close_rectifications(db, actor, rng, crews, as_of)
    return counts


def close_rectifications(db: Database, actor: Actor, rng: random.Random, crews: list[Crew], as_of: date,
                         keep_open_days: int = 5, leave_unverified: bool = True) -> int:
    """Fix and verify the rectifications opened more than keep_open_days before as_of (done within the deadline, verified a day or two later by someone else); leave the
    newer ones as they are, and (leave_unverified) one fixed but not yet verified."""
    verifiers = {c.community_id: [x for x in (c.first("管理处主任"), c.first("客服主管"), c.first("工程主管"))
                                  if x is not None] for c in crews}
    open_rows = db.rows(
        "SELECT id, community_id, opened_on, deadline, responsible_id FROM rectifications "
        "WHERE deleted_at IS NULL AND status = '待整改' ORDER BY id"
    )
    cutoff = as_of - timedelta(days=keep_open_days)
    done, verified = [], []
    waiting = leave_unverified  # leave the newest old one fixed but unverified
    for rid, cid, opened, deadline, responsible in reversed(open_rows):
        if opened is None or opened > cutoff:
            continue
        span = max((deadline - opened).days, 1)
        done_on = min(opened + timedelta(days=rng.randint(1, span)), as_of)  # never after today
        done.append((rid, {"status": "已整改", "measures": rng.choice(MEASURES),
                           "done_at": _at(done_on, rng.randint(9, 17)),
                           "responsible_id": responsible or (verifiers.get(cid) or [None])[-1]}))
        if waiting:
            waiting = False
            continue
        who = [v for v in verifiers.get(cid, []) if v != (responsible or (verifiers.get(cid) or [None])[-1])]
        if who:
            verified.append((rid, {"status": "已验证", "verified_by_id": who[0],
                                   "verified_at": _at(min(done_on + timedelta(days=rng.randint(0, 2)),
                                                          as_of), 17, 30),
                                   "verify_note": "复查合格"}))
    _update(db, actor, "rectifications", done)
    _update(db, actor, "rectifications", verified)
    return len(open_rows)


# -- security --------------------------------------------------------------------------------
def seed_shifts(db: Database, actor: Actor, crews: list[Crew], as_of: date) -> int:
    """Four weeks (two before the reference week, the reference week and the next): each guard
    works two day shifts, two night shifts, then two days off; control-room staff stay there."""
    monday = as_of - timedelta(days=as_of.weekday()) - timedelta(days=14)
    rows = []
    for crew in crews:
        room = set(crew.by_post.get("监控员", []))
        for n, guard in enumerate(crew.guards):
            for k in range(28):
                day = monday + timedelta(days=k)
                phase = (k + 2 * n) % 6
                shift = ("白班", "白班", "夜班", "夜班", "休息", "休息")[phase]
                if shift == "休息":
                    post = None
                elif guard in room:
                    post = "监控中心"
                else:
                    post = ("门岗", "巡逻", "监控中心", "车场")[(n + k // 6) % 4]
                rows.append({"community_id": crew.community_id, "shift_on": day, "shift": shift,
                             "post": post, "staff_id": guard})
    return len(_insert(db, actor, "shifts", rows))


def seed_patrols(db: Database, actor: Actor, rng: random.Random, crews: list[Crew], as_of: date) -> int:
    anomalies = ["{b}幢单元门禁损坏未关闭", "地下车库照明灯不亮", "{b}幢楼道堆放杂物", "围墙外有人翻越痕迹",
                 "消防通道有车辆占用", "{b}幢天台门未上锁"]
    rows = []
    for crew in crews:
        guards = [g for g in crew.guards if g not in crew.by_post.get("监控员", [])] or crew.guards
        short_days = {as_of - timedelta(days=rng.randint(1, 6)) for _ in range(2)}
        for k in range(PATROL_DAYS, -1, -1):
            day = as_of - timedelta(days=k)
            for scope, hours in (("公共区域", (1, 5, 9, 13, 17, 21)), ("楼内", (10, 20))):
                for h in hours:
                    if day in short_days and scope == "公共区域" and h in (1, 5):
                        continue  # the night round was skipped
                    start = _at(day, h, rng.randint(0, 20))
                    b = rng.choice(crew.buildings)
                    odd = rng.random() < 0.03
                    rows.append({
                        "community_id": crew.community_id, "guard_id": rng.choice(guards), "started_at": start,
                        "ended_at": start + timedelta(minutes=rng.randint(35, 70)), "scope": scope,
                        "route": "全区环线" if scope == "公共区域" else f"{b}幢",
                        "anomalies": rng.choice(anomalies).format(b=b) if odd else None,
                        "action": "已通知工程部处理" if odd else None,
                    })
    return len(_insert(db, actor, "patrols", rows))


def seed_monitor_logs(db: Database, actor: Actor, rng: random.Random, crews: list[Crew], as_of: date) -> int:
    rows = []
    for n, crew in enumerate(crews):
        operators = crew.by_post.get("监控员", []) + [g for g in crew.guards if g not in crew.by_post.get("监控员", [])]
        cameras = 64 + 48 * n
        for k in range(MONITOR_DAYS, -1, -1):
            day = as_of - timedelta(days=k)
            for shift, hour in (("白班", 19), ("夜班", 7)):
                kept = 30 + rng.randint(0, 6)
                if n == 1 and k == 0:
                    kept = 24  # the recorder's disk filled up: a to-do item
                first, second = rng.sample(operators, 2) if len(operators) > 1 else (operators[0], None)
                rows.append({
                    "community_id": crew.community_id, "logged_at": _at(day, hour, 50), "shift": shift,
                    "operator_id": first, "second_operator_id": second, "cameras_total": cameras,
                    "cameras_offline": rng.choice((0, 0, 0, 1, 2)), "recording_from": day - timedelta(days=kept),
                    "events": rng.choice((None, None, None, "北门道闸故障，已人工放行", "夜间车库有人逗留，已派员查看")),
                })
    return len(_insert(db, actor, "monitor_logs", rows))


def seed_visitors(db: Database, actor: Actor, rng: random.Random, crews: list[Crew], as_of: date) -> int:
    rows = []
    for crew in crews:
        desk = crew.guards[:3] or [None]
        for k in range(VISITOR_DAYS, -1, -1):
            day = as_of - timedelta(days=k)
            for _ in range(rng.randint(8, 16)):
                start = _at(day, rng.randint(8, 20), rng.randint(0, 59))
                purpose = rng.choices(*PURPOSES)[0]
                stay = rng.randint(5, 25) if purpose == "快递外卖" else rng.randint(30, 300)
                left = start + timedelta(minutes=stay)
                if day == as_of and start.hour >= 20:
                    left = None  # came in the evening: still inside at the end of the records
                male = rng.random() < 0.5
                born = birth_date(rng, 1960, 2003)
                rows.append({
                    "community_id": crew.community_id, "visited_at": start,
                    "name": surname(rng) + given_name(rng, male),
                    "id_number": id_number(rng, born, male), "phone": mobile(rng),
                    "household_id": rng.choice(crew.households) if crew.households else None,
                    "purpose": purpose, "plate": f"浙A{rng.randint(10000, 99999)}" if rng.random() < 0.25 else None,
                    "gate": rng.choice(("北门", "东门", "南门")), "registered_by_id": rng.choice(desk), "left_at": left,
                })
        # someone who came yesterday evening and was never signed out
        if rows:
            stale = next(r for r in reversed(rows) if r["community_id"] == crew.community_id
                         and r["visited_at"].date() == as_of - timedelta(days=1))
            stale["left_at"] = None
    return len(_insert(db, actor, "visitors", rows))


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    crews = load_crews(db)
    if not crews:
        return {}
    counts = seed_inspections(db, actor, rng, crews, as_of)
    counts["shifts"] = seed_shifts(db, actor, crews, as_of)
    counts["patrols"] = seed_patrols(db, actor, rng, crews, as_of)
    counts["monitor_logs"] = seed_monitor_logs(db, actor, rng, crews, as_of)
    counts["visitors"] = seed_visitors(db, actor, rng, crews, as_of)
    return counts
