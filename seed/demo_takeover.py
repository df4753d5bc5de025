"""Demo rows of issue 23 items 2–4, up to the demo's today (`as_of`).

承接查验: one building of the first 小区 taken over half a year ago, its checklist, defects
(rectified, verified) and documents received; one building of the second 小区 under inspection
with one fresh defect (a single open rectification in the to-do list). Paid repairs: each 小区's
approved price list and its 有偿维修 fee item (按次); a few recent finished orders charged by the
list, billed and paid at the cashier (so nothing is left owing). Projects: progress records
up to each project's progress, a quality check and, for accepted ones, the 竣工验收 (the first
with a failed check whose rectification was verified first); vendors: a rating history ending
at each vendor's current rating, and one 消杀 vendor last rated 13 months ago (one reminder).

Named to run after demo_service and demo_fees (orders and bills) and before
demo_zz_rectifications; it closes its own old rectifications, since acceptance needs them verified.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.access.permissions import Actor
from app.storage.db import Database, in_list
from seed.demo_checks import Crew, _insert, _update, load_crews

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


PRICE_LIST = [  # (category, item, unit, price, labour)
    ("水电", "更换水龙头", "个", "45.00", "20.00"),
    ("水电", "更换开关或插座面板", "个", "15.00", "15.00"),
    ("水电", "更换灯具（业主自备）", "盏", "0", "30.00"),
    ("管道疏通", "疏通下水管道", "次", "0", "80.00"),
    ("管道疏通", "疏通马桶", "次", "0", "60.00"),
    ("卫浴洁具", "更换马桶水箱配件", "套", "38.00", "30.00"),
    ("门窗五金", "更换门锁锁芯", "个", "60.00", "25.00"),
    ("门窗五金", "更换纱窗", "平方米", "35.00", "10.00"),
]
# Work order category -> the price-list items it is charged by (with quantities).
CHARGED = {"管道": [("疏通下水管道", "1")], "水电": [("更换水龙头", "1"), ("更换开关或插座面板", "2")],
           "门窗": [("更换门锁锁芯", "1")]}
PAID_ORDERS = 2  # per 小区


def seed_paid_repairs(db: Database, actor: Actor, crews: list[Crew], as_of: date, counts: dict[str, int]) -> None:
    from app.fees import billing
    from app.service import service_desk as desk

    for crew in crews:
        boss = crew.first("管理处主任")
        approved_on = as_of - timedelta(days=400)
        ids = _insert(db, actor, "repair_prices", [
            {"community_id": crew.community_id, "category": cat, "item": item, "unit": unit, "price": price,
             "labour": labour, "status": "已审批", "approved_by_id": boss, "approved_on": approved_on}
            for cat, item, unit, price, labour in PRICE_LIST])
        _insert(db, actor, "fee_items", [{
            "community_id": crew.community_id, "name": "有偿维修", "method": "按次", "unit_price": "0",
            "cycle": "月", "status": "已审批", "approved_by_id": boss, "approved_on": approved_on,
            "effective_from": approved_on, "note": "按维修服务收费标准，由报修单单独出账"}])
        counts["repair_prices"] = counts.get("repair_prices", 0) + len(ids)
        counts["fee_items"] = counts.get("fee_items", 0) + 1
        price_of = {item: pid for pid, (_, item, *_) in zip(ids, PRICE_LIST)}
        candidates = db.rows(
            "SELECT id, category, household_id, CAST(completed_at AS DATE) FROM work_orders "
            "WHERE deleted_at IS NULL AND community_id = ? AND status IN ('已完成', '已回访') "
            "AND household_id IS NOT NULL AND completed_at >= ? AND category IN ('管道', '水电', '门窗') "
            "ORDER BY completed_at, id", [crew.community_id, as_of - timedelta(days=25)])
        done, households = 0, set()
        for order_id, category, household, completed in candidates:
            if done == PAID_ORDERS or household in households or any(
                    not billing.open_bills(db, household, day).empty for day in (completed, as_of)):
                continue  # only households with nothing else open, so the payment settles this bill
            lines = desk.charge_by_list(db, actor, order_id, [(price_of[i], q) for i, q in CHARGED[category]])
            desk.bill_charges(db, actor, order_id, on=completed)
            amount = db.scalar("SELECT charge FROM work_orders WHERE id = ?", [order_id])
            billing.take_payment(db, actor, household, amount, "微信",
                                 paid_at=datetime.combine(completed, time(18, 30)), note="有偿维修")
            households.add(household)
            done += 1
            counts["work_order_charges"] = counts.get("work_order_charges", 0) + len(lines)
            counts["bills"] = counts.get("bills", 0) + 1
            counts["receipts"] = counts.get("receipts", 0) + 1


def seed_projects(db: Database, actor: Actor, crews: list[Crew], as_of: date, counts: dict[str, int]) -> None:
    by_community = {c.community_id: c for c in crews}
    projects = db.rows("SELECT id, community_id, started_on, progress, accepted_on, manager_id "
                       "FROM projects WHERE deleted_at IS NULL ORDER BY id")
    progress, checks, failed_done = [], [], False
    for pid, cid, started, pct, accepted, manager in projects:
        crew = by_community.get(cid)
        if crew is None or started is None:
            continue
        boss = crew.first("管理处主任", "工程主管")
        engineer = manager or crew.first("工程主管", "维修工")
        end = min(accepted or as_of, as_of)
        steps = [(started + (end - started) * k // 3, pct * k // 3) for k in (1, 2)] + [(end, pct)]
        progress += [{"project_id": pid, "reported_on": on, "progress": p, "reporter_id": engineer,
                      "work_done": "按计划施工" if p < 100 else "全部完工，待验收"} for on, p in steps if on >= started]
        mid = started + (end - started) // 2
        if accepted and accepted <= as_of and not failed_done:
            failed_done = True  # a failed check, rectified and verified before the acceptance
            failed_check = _insert(db, actor, "project_checks", [{
                "project_id": pid, "kind": "质量检查", "checked_on": mid, "checker_id": boss, "result": "不合格",
                "defects": "防水层搭接宽度不足，局部空鼓", "responsible_id": engineer}])
            rect = db.rows("SELECT id, deadline FROM rectifications WHERE source_table = 'project_checks' "
                           "AND source_id = ?", [failed_check[0]])
            for rid, deadline in rect:
                fixed = min(deadline - timedelta(days=1), accepted - timedelta(days=1))
                _update(db, actor, "rectifications", [(rid, {"status": "已整改", "measures": "返工重做并复查",
                                                              "done_at": datetime.combine(fixed, time(15))})])
                _update(db, actor, "rectifications", [(rid, {"status": "已验证", "verified_by_id": boss,
                                                              "verified_at": datetime.combine(fixed, time(17))})])
        else:
            checks.append({"project_id": pid, "kind": "质量检查", "checked_on": mid, "checker_id": boss,
                           "result": "合格"})
        if accepted and accepted <= as_of:
            checks.append({"project_id": pid, "kind": "竣工验收", "checked_on": accepted, "checker_id": boss,
                           "result": "合格", "note": "资料齐全，现场验收合格"})
    _insert(db, actor, "project_progress", progress)
    _insert(db, actor, "project_checks", checks)
    counts["project_progress"] = len(progress)
    counts["project_checks"] = len(checks) + int(failed_done)

    ratings = []
    for vid, rating, evaluated in db.rows("SELECT id, rating, evaluated_on FROM vendors WHERE deleted_at IS NULL "
                                          "AND evaluated_on IS NOT NULL ORDER BY id"):
        ratings += [{"vendor_id": vid, "rated_on": evaluated - timedelta(days=365), "rating": "合格",
                     "basis": "年度评价：质量、工期、服务响应"},
                    {"vendor_id": vid, "rated_on": evaluated, "rating": rating, "basis": "年度评价：质量、工期、服务响应"}]
    late = _insert(db, actor, "vendors", [{"name": "杭州绿康有害生物防治有限公司", "qualification": "有害生物防制服务资质",
                                           "service_scope": "消杀", "contact": "吴经理", "phone": "0571-86651234"}])
    ratings.append({"vendor_id": late[0], "rated_on": as_of - timedelta(days=396), "rating": "良好", "score": 84,
                    "basis": "年度评价：消杀效果、药剂台账"})
    _insert(db, actor, "vendor_ratings", ratings)
    counts["vendor_ratings"] = len(ratings)
    counts["vendors"] = 1


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    crews = load_crews(db)
    if not crews:
        return {}
    counts: dict[str, int] = {}
    seed_takeovers(db, actor, crews, as_of, counts)
    seed_paid_repairs(db, actor, crews, as_of, counts)
    seed_projects(db, actor, crews, as_of, counts)
    return counts
