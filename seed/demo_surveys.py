"""Demo 意见调查、社区文化、内部管理 and the 小区 profile: surveys with returned forms, measures
for the dimensions below target, activities, 业委会 meetings, trainings, assessments, ISO9001
documents, facilities, committee members and 经营用房 — up to the demo's today (`as_of`).

Paper forms go through `app.surveys.survey.enter_forms` (the page's entry path); everything else
through the save path. Deterministic (seeded random); reads ids from the database.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.access.permissions import Actor
from app.analysis import statistics
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database
from app.surveys import survey as surveys

SEED = 20260707
QUESTIONS = [
    ("保洁", "楼道、电梯轿厢的清洁状况"), ("保洁", "垃圾清运是否及时"),
    ("保安", "门岗对外来人员、车辆的管理"), ("保安", "夜间巡逻与小区治安"),
    ("维修", "报修后维修人员到场是否及时"), ("维修", "维修质量与服务态度"),
    ("绿化", "绿化养护与环境美化"), ("客服", "客服前台接待与问题答复"),
    ("客服", "通知公告是否及时清楚"), ("收费", "收费标准与收支公开透明"),
    ("整体", "对物业服务的总体评价"),
]
OPEN_QUESTION = "您对物业服务还有哪些意见和建议？"
OPINIONS = ["地下车库灯光太暗，希望增加照明", "电梯经常停运检修，希望提前通知", "建议增加儿童游乐设施",
            "楼道里堆放杂物没人管", "晚上广场舞声音太大", "快递堆在大堂不安全", "希望公布公共收益明细",
            "保洁阿姨很负责，点赞", "绿化带杂草多，蚊子多", "门禁卡补办太慢"]
# Mean score per dimension per survey round: round 2 improves where round 1 fell short.
MEANS = [{"保洁": 4.1, "保安": 4.3, "维修": 3.8, "绿化": 4.2, "客服": 4.4, "收费": 4.0, "整体": 4.2},
         {"保洁": 4.4, "保安": 4.5, "维修": 4.3, "绿化": 3.9, "客服": 4.6, "收费": 4.2, "整体": 4.4}]


def survey_rounds(as_of: date) -> list[tuple[str, date, date]]:
    """The last two finished half-yearly surveys (held 11–31 May and 10–30 November), oldest first."""
    rounds = []
    for year in (as_of.year - 2, as_of.year - 1, as_of.year):
        rounds.append((f"{year} 年上半年业主满意度调查", date(year, 5, 11), date(year, 5, 31)))
        rounds.append((f"{year} 年下半年业主满意度调查", date(year, 11, 10), date(year, 11, 30)))
    return [r for r in rounds if r[2] < as_of][-2:]


def _last(as_of: date, month: int, day: int) -> date:
    """The latest month-day on or before as_of (an activity held every year)."""
    this_year = date(as_of.year, month, day)
    return this_year if this_year <= as_of else date(as_of.year - 1, month, day)


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _score(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.9))))


def seed_surveys(db: Database, actor: Actor, rng: random.Random, communities: list[tuple[int, str]],
                 as_of: date) -> dict[str, int]:
    counts = {"surveys": 0, "survey_questions": 0, "survey_responses": 0, "survey_answers": 0, "survey_measures": 0}
    for cid, _name in communities:
        households = [r[0] for r in db.rows(
            "SELECT code FROM households WHERE community_id = ? AND status IN ('已入住', '出租') "
            "AND deleted_at IS NULL ORDER BY id", [cid])]
        service = db.rows("SELECT id FROM staff WHERE community_id = ? AND deleted_at IS NULL ORDER BY id", [cid])
        for k, (title, start, end) in enumerate(survey_rounds(as_of)):
            distributed = min(200, len(households))
            sid = _insert(db, actor, "surveys", [{"community_id": cid, "title": title, "distributed": distributed,
                                                  "held_from": start, "held_to": end, "status": "已结束"}])[0]
            _insert(db, actor, "survey_questions", [
                {"survey_id": sid, "no": n + 1, "text": text, "dimension": dim, "kind": "评分"}
                for n, (dim, text) in enumerate(QUESTIONS)] + [
                {"survey_id": sid, "no": len(QUESTIONS) + 1, "text": OPEN_QUESTION, "dimension": "整体", "kind": "文字"}])
            returned = rng.sample(households, int(distributed * rng.uniform(0.68, 0.86)))
            forms = []
            for n, code in enumerate(returned):
                form = {"问卷编号": f"{start:%y%m}-{n + 1:03d}", "房号": code}
                for q, (dim, _) in enumerate(QUESTIONS):
                    if rng.random() < 0.96:  # a few questions left blank
                        form[surveys.question_column(q + 1)] = _score(rng, MEANS[k][dim])
                if rng.random() < 0.12:
                    form[surveys.question_column(len(QUESTIONS) + 1)] = rng.choice(OPINIONS)
                forms.append(form)
            for b in range(0, len(forms), 40):  # forms came back over the survey's weeks
                when = datetime.combine(start + timedelta(days=min(b // 40 * 5, (end - start).days)),
                                        datetime.min.time()) + timedelta(hours=17)
                done = surveys.enter_forms(db, actor, sid, forms[b:b + 40], submitted_at=when)
                counts["survey_responses"] += done.forms
                counts["survey_answers"] += done.answers
            counts["surveys"] += 1
            counts["survey_questions"] += len(QUESTIONS) + 1
            low = db.rows("SELECT dimension, satisfaction_rate FROM v_survey_stats WHERE survey_id = ? "
                          "AND NOT meets_target ORDER BY satisfaction_rate", [sid])
            measures = []
            for dim, rate in low[:3]:
                due = end + timedelta(days=45)
                measures.append({"survey_id": sid, "dimension": dim, "kind": "纠正措施",
                                 "issue": f"{dim}满意率 {rate * 100:.1f}%，低于目标",
                                 "measure": f"{dim}服务专项整改：排查业主意见，逐项落实并回访",
                                 "responsible_id": service[rng.randrange(len(service))][0] if service else None,
                                 "due_on": due, "done_on": due - timedelta(days=5) if due < as_of else None})
            if measures:
                ids = _insert(db, actor, "survey_measures", measures)
                counts["survey_measures"] += len(ids)
                # decided the day after the survey closed: their rectifications were opened then
                # (the save rule opens them today), so the follow-up fixes the old ones
                opened = min(end + timedelta(days=1), as_of)
                placeholders = ", ".join("?" * len(ids))
                apply_changes(db, actor, "rectifications", [
                    RowChange("update", row_id=rid, values={"opened_on": opened}) for (rid,) in db.rows(
                        f"SELECT rectification_id FROM survey_measures WHERE id IN ({placeholders})", ids)])
            if k == 0:
                surveys.publish_result(db, actor, sid)
    return counts


def seed_culture(db: Database, actor: Actor, rng: random.Random, communities: list[tuple[int, str]],
                 as_of: date) -> dict[str, int]:
    activities, meetings, facilities, members, premises = [], [], [], [], []
    for cid, name in communities:
        staff = [r[0] for r in db.rows("SELECT id FROM staff WHERE community_id = ? ORDER BY id", [cid])]
        for title, kind, day, where in [
            ("元宵猜灯谜", "节日活动", (3, 3), "小区广场"), ("学雷锋便民服务日", "公益活动", (3, 5), "物业服务中心"),
            ("消防安全进社区", "宣传教育", (4, 15), "小区广场"), ("端午包粽子", "节日活动", (6, 18), "会所"),
            ("夏季纳凉电影晚会", "文体活动", (7, 25), "中心花园"), ("中秋游园会", "节日活动", (9, 24), "中心花园"),
            ("垃圾分类宣传", "宣传教育", (12, 6), "各单元门口"), ("重阳敬老慰问", "公益活动", (10, 29), "老年活动室"),
        ]:
            day = _last(as_of, *day)
            activities.append({"community_id": cid, "title": title, "kind": kind, "held_on": day, "location": where,
                               "participants": rng.randrange(30, 260), "cost": Decimal(rng.randrange(3, 60) * 100),
                               "organizer_id": rng.choice(staff) if staff else None, "summary": f"{name}{title}顺利举办"})
        for n, (ago, kind, topic) in enumerate([  # every two months, the last twelve days ago
            (257, "业委会例会", "{year} 年度物业服务工作报告与收支公示"),
            (194, "业委会例会", "电梯更新改造维修资金使用方案"),
            (131, "业主座谈会", "停车位紧张问题与临时停车收费"),
            (75, "业委会例会", "上半年满意度调查结果与整改计划"),
            (12, "业委会例会", "外墙渗水维修方案与公共收益使用"),
        ]):
            day = as_of - timedelta(days=ago)
            topic = topic.format(year=day.year - 1)
            due = day + timedelta(days=30)
            meetings.append({"community_id": cid, "held_on": day, "kind": kind, "topic": topic,
                             "attendees": "业委会主任、副主任、委员；管理处主任、客服主管",
                             "decisions": "原则同意，按程序公示后实施", "follow_up": "方案公示并征求业主意见",
                             "follow_up_due_on": due, "follow_up_done_on": due - timedelta(days=3) if n < 4 else None,
                             "recorder_id": staff[0] if staff else None})
        for fname, cat, where, area in [("物业服务中心", "其他", "1 号楼底层", 120), ("会所", "会所", "中心花园东侧", 680),
                                        ("生活水泵房", "泵房", "地下一层", 95), ("高低压配电房", "配电房", "地下一层", 160),
                                        ("地面停车场", "停车场", "南门内", 2600), ("垃圾分类收集点", "垃圾站", "北门西侧", 40),
                                        ("南门岗亭", "门岗", "南门", 12), ("儿童游乐场", "运动场地", "中心花园", 300)]:
            facilities.append({"community_id": cid, "name": fname, "category": cat, "location": where,
                               "area": Decimal(area), "quantity": 1})
        owners = db.rows("SELECT o.name, o.household_id, o.phone FROM owners o JOIN households h ON h.id = o.household_id "
                         "WHERE h.community_id = ? AND o.role = '业主' AND o.is_primary AND o.moved_out_on IS NULL "
                         "ORDER BY o.id LIMIT 400", [cid])
        picked = rng.sample(owners, min(5, len(owners)))
        term_end = date(as_of.year + 1, 4, 30) if cid == communities[0][0] else date(as_of.year, 12, 31)
        for n, (oname, hid, phone) in enumerate(picked):
            members.append({"community_id": cid, "name": oname, "household_id": hid, "phone": phone,
                            "position": ["主任", "副主任", "委员", "委员", "委员"][n],
                            "term_start": date(term_end.year - 5, term_end.month, 1), "term_end": term_end})
        for cno, ctitle, rent in db.rows("SELECT id, title, monthly_rent FROM contracts WHERE community_id = ? "
                                         "AND kind = '租赁' AND deleted_at IS NULL ORDER BY id", [cid]):
            label = ctitle.split("（")[0]
            use = ctitle.split("（")[1].split("）")[0] if "（" in ctitle else "商业"
            premises.append({"community_id": cid, "name": label, "location": "沿街底商", "purpose": use,
                             "area": Decimal(rng.randrange(30, 120)), "contract_id": cno, "monthly_rent": rent,
                             "status": "出租"})
    return {"activities": len(_insert(db, actor, "activities", activities)),
            "committee_meetings": len(_insert(db, actor, "committee_meetings", meetings)),
            "community_facilities": len(_insert(db, actor, "community_facilities", facilities)),
            "committee_members": len(_insert(db, actor, "committee_members", members)),
            "business_premises": len(_insert(db, actor, "business_premises", premises))}


def seed_internal(db: Database, actor: Actor, rng: random.Random, communities: list[tuple[int, str]],
                  as_of: date) -> dict[str, int]:
    departments = dict(db.rows("SELECT name, id FROM departments ORDER BY id"))
    staff = [r[0] for r in db.rows("SELECT id FROM staff WHERE status = '在职' ORDER BY id")]
    trainings = []
    for n, (title, kind, dept) in enumerate([
        ("新员工岗前培训", "岗前培训", "综合部"), ("消防器材使用与初起火灾扑救", "消防安全", "保安部"),
        ("客服接待礼仪与投诉处理", "服务礼仪", "客服部"), ("二次供水设备操作规程", "专业技能", "工程部"),
        ("ISO9001 程序文件宣贯", "质量体系", "综合部"), ("电梯困人应急救援演练", "专业技能", "工程部"),
        ("垃圾分类与消杀作业规范", "在岗培训", "环境部"), ("收费政策与票据管理", "在岗培训", "财务部"),
    ]):
        trainings.append({"title": title, "kind": kind, "held_on": as_of - timedelta(days=345 - n * 42),
                          "hours": Decimal(rng.choice((2, 3, 4))), "trainer": "公司培训讲师",
                          "department_id": departments.get(dept), "participants": rng.randrange(8, 40),
                          "community_id": communities[n % len(communities)][0]})
    for t in trainings:
        t["passed"] = t["participants"] - rng.randrange(0, 3)
    assessments = []
    for n in range(24):
        kind = rng.choices(["月度考核", "季度考核", "奖励", "处罚"], [10, 4, 3, 2])[0]
        row = {"staff_id": rng.choice(staff), "assessed_on": as_of - timedelta(days=334 - n * 14),
               "kind": kind, "approved_by_id": staff[0]}
        if kind.endswith("考核"):
            row.update(score=rng.randrange(72, 99), reason="按岗位考核细则评分")
        else:
            row.update(amount=Decimal(rng.choice((100, 200, 300, 500))),
                       reason="业主来信表扬" if kind == "奖励" else "值班脱岗")
        assessments.append(row)
    documents = []
    for no, title, level, ago in [  # reviewed that many days ago, yearly; QP-05 is overdue
        ("QM-01", "质量手册", "质量手册", 284),
        ("QP-01", "文件控制程序", "程序文件", 350), ("QP-02", "记录控制程序", "程序文件", 350),
        ("QP-03", "内部审核程序", "程序文件", 329), ("QP-04", "不合格与纠正措施控制程序", "程序文件", 329),
        ("QP-05", "顾客满意度测量程序", "程序文件", 394),
        ("WI-01", "保洁作业指导书", "作业指导书", 213), ("WI-02", "秩序维护作业指导书", "作业指导书", 213),
        ("WI-03", "设备维修作业指导书", "作业指导书", 355), ("WI-04", "绿化养护作业指导书", "作业指导书", 175),
        ("QR-01", "业主意见调查表", "记录", 337), ("QR-02", "报修登记表", "记录", 226),
    ]:
        reviewed = as_of - timedelta(days=ago)
        documents.append({"doc_no": no, "title": title, "level": level, "version": "B/1", "issued_on": date(2019, 3, 1),
                          "reviewed_on": reviewed, "review_due_on": reviewed + timedelta(days=365), "status": "有效",
                          "department_id": departments.get("综合部")})
    return {"trainings": len(_insert(db, actor, "trainings", trainings)),
            "assessments": len(_insert(db, actor, "assessments", assessments)),
            "quality_documents": len(_insert(db, actor, "quality_documents", documents))}


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    rng = random.Random(SEED)
    communities = db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id")
    counts = seed_surveys(db, actor, rng, communities, as_of)
    counts |= seed_culture(db, actor, rng, communities, as_of)
    counts |= seed_internal(db, actor, rng, communities, as_of)
    counts["survey_samples"] = 0
    for cid, _name in communities:  # the latest survey went to 10 % of each building (三(七) 比例、范围)
        latest = db.rows("SELECT id, held_from FROM surveys WHERE community_id = ? AND deleted_at IS NULL "
                         "ORDER BY held_from DESC, id DESC LIMIT 1", [cid])
        if latest:
            counts["survey_samples"] += len(statistics.draw_sample(db, actor, latest[0][0], Decimal("0.1"),
                                                                   on=latest[0][1]))
    return counts
