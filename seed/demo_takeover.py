"""Demo rows of 承接查验 (issue 23 item 2): one building of the first 小区 taken over half a year
before the demo's today, its checklist, defects (rectified, verified) and documents received;
and one building of the second 小区 still under inspection with one fresh defect (a single open
rectification in the to-do list). Named to run after demo_the_rest and before
demo_zz_rectifications; it closes its own old rectifications, since acceptance needs them verified.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.changes import RowChange, apply_changes
from app.db import Database, in_list
from app.permissions import Actor
from seed.demo_checks import Crew, load_crews

CHECKLIST = [  # (category, item, failed: index into DEFECTS or None)
    ("房屋本体", "外墙、屋面防水", 0),
    ("消防设施", "消火栓、喷淋与烟感联动", None),
    ("配电设备", "配电房与楼层配电箱", 1),
    ("电梯设备", "电梯运行与五方对讲", None),
    ("给排水设备", "二次供水水箱与水泵", 2),
    ("计量设备", "水、电、燃气分户表", None),
    ("人防设施", "地下人防门", None),
    ("智能化设施", "门禁与监控", None),
]
DEFECTS = [  # (location, kind, description, deadline days)
    ("{b}幢屋面", "土建", "屋面女儿墙根部渗水", 30),
    ("{b}幢配电房", "电气", "配电柜缺少绝缘垫和操作规程", 7),
    ("{b}幢地下泵房", "给排水", "水箱人孔盖无锁，溢流管未加防虫网", 14),
]
DOCUMENTS = [("竣工图纸", "{b}幢竣工图（建筑、结构、给排水、电气）", 3, "工程图纸"),
             ("设备资料", "{b}幢电梯、水泵、配电设备说明书与保修卡", 1, "设备档案"),
             ("竣工验收资料", "{b}幢竣工验收备案表", 1, "竣工验收")]


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _update(db: Database, actor: Actor, register: str, updates: list[tuple[int, dict]]) -> None:
    if updates:
        apply_changes(db, actor, register, [RowChange("update", row_id=i, values=v) for i, v in updates])


def _last_building(db: Database, crew: Crew) -> tuple[int, str] | None:
    found = db.rows("SELECT id, code FROM buildings WHERE community_id = ? AND deleted_at IS NULL "
                    "ORDER BY id DESC LIMIT 1", [crew.community_id])
    return tuple(found[0]) if found else None


def _takeover(db: Database, actor: Actor, crew: Crew, started: date, counts: dict[str, int],
              defects: list[int]) -> tuple[int, list[int], str] | None:
    """A take-over of the 小区's last building from `started`, its checklist and the given defects."""
    building = _last_building(db, crew)
    engineer = crew.first("工程主管", "维修工", "管理处主任")
    if building is None or engineer is None:
        return None
    bid, code = building
    tid = _insert(db, actor, "takeovers", [{
        "community_id": crew.community_id, "building_id": bid, "developer": "杭州城建房地产开发有限公司",
        "started_on": started, "planned_end_on": started + timedelta(days=45),
        "note": f"{code}幢新建交付，分户查验与公共部位查验同步进行"}])[0]
    items = _insert(db, actor, "takeover_items", [
        {"takeover_id": tid, "category": cat, "item": item, "checked_on": started + timedelta(days=n // 3),
         "result": "不合格" if failed in defects else "合格", "checker_id": engineer}
        for n, (cat, item, failed) in enumerate(CHECKLIST)])
    item_of = {failed: iid for iid, (_, _, failed) in zip(items, CHECKLIST) if failed is not None}
    rows = []
    for d in defects:
        location, kind, text, days = DEFECTS[d]
        found = started + timedelta(days=2)
        rows.append({"takeover_id": tid, "item_id": item_of.get(d), "location": location.format(b=code),
                     "kind": kind, "description": text, "responsible_party": "杭州城建房地产开发有限公司",
                     "found_on": found, "deadline": found + timedelta(days=days), "follow_up_id": engineer})
    defect_ids = _insert(db, actor, "takeover_defects", rows)
    counts["takeovers"] = counts.get("takeovers", 0) + 1
    counts["takeover_items"] = counts.get("takeover_items", 0) + len(items)
    counts["takeover_defects"] = counts.get("takeover_defects", 0) + len(defect_ids)
    return tid, defect_ids, code


def _close_defects(db: Database, actor: Actor, crew: Crew, defect_ids: list[int], as_of: date) -> None:
    """Fix each defect's rectification before its deadline and have the 管理处主任 verify it."""
    verifier = crew.first("管理处主任", "客服主管")
    placeholders, params = in_list(defect_ids)
    mine = db.rows("SELECT id, deadline FROM rectifications WHERE deleted_at IS NULL AND status = '待整改' "
                   "AND source_table = 'takeover_defects' AND source_id IN " + placeholders + " ORDER BY id",
                   params)
    _update(db, actor, "rectifications", [
        (rid, {"status": "已整改", "measures": "开发建设单位返修完毕",
               "done_at": datetime.combine(min(deadline - timedelta(days=1), as_of), time(15))})
        for rid, deadline in mine])
    _update(db, actor, "rectifications", [
        (rid, {"status": "已验证", "verified_by_id": verifier, "verify_note": "复查合格",
               "verified_at": datetime.combine(min(deadline, as_of), time(16))})
        for rid, deadline in mine])


def seed_takeovers(db: Database, actor: Actor, crews: list[Crew], as_of: date, counts: dict[str, int]) -> None:
    first = crews[0]
    started = as_of - timedelta(days=180)
    done = _takeover(db, actor, first, started, counts, [0, 1, 2])
    if done:
        tid, defect_ids, code = done
        _close_defects(db, actor, first, defect_ids, as_of)
        archives = _insert(db, actor, "archives", [
            {"archive_no": f"JG-{started.year}-{n + 1:03d}", "community_id": first.community_id,
             "category": category, "title": title.format(b=code), "confidentiality": "内部"}
            for n, (_, title, _, category) in enumerate(DOCUMENTS)])
        _insert(db, actor, "takeover_documents", [
            {"takeover_id": tid, "kind": kind, "title": title.format(b=code), "copies": copies,
             "received_on": started, "archive_id": aid}
            for aid, (kind, title, copies, _) in zip(archives, DOCUMENTS)])
        counts["takeover_documents"] = len(archives)
        counts["archives"] = len(archives)
        _update(db, actor, "takeovers", [(tid, {
            "status": "已接管", "result": "同意接管", "accepted_by_id": first.first("管理处主任"),
            "accepted_on": started + timedelta(days=40)})])
    if len(crews) > 1:
        # under inspection now: one defect found two days ago, still within its 7 days
        _takeover(db, actor, crews[1], as_of - timedelta(days=4), counts, [1])


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    crews = load_crews(db)
    if not crews:
        return {}
    counts: dict[str, int] = {}
    seed_takeovers(db, actor, crews, as_of, counts)
    return counts
