"""Surveys: paper forms entered through app.surveys.survey, v_survey_stats on hand-built answers,
the survey workbook and the published notice. Runs on both backends.

The estate: one 小区, three households; survey 「2026 年业主满意度调查」 handed out 4 forms from
2026-06-01. Questions: 1 保洁 评分, 2 保洁 评分, 3 维修 评分, 4 整体 文字.
Forms (returned 06-03 unless said):  F1 (1-1-101): 5, 3, 4, "楼道灯坏了"
                                     F2 (1-1-102): 4, 2, –
                                     F3 (no house, returned 06-10): 1, –, 5
By hand: 保洁 has 5 scores 5,3,4,2,1 from 3 forms → mean 3.0, satisfied (≥4) 2 → 40%, below the
80% target; 维修 has 4 and 5 from 2 forms → mean 4.5, 100%. Return rate 3/4 = 75%.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from app import registers
from app.saving.changes import RowChange, ValidationFailed, apply_changes
from app.surveys import survey as surveys


def insert(db, actor, register, rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def estate(db, actor):
    cid = insert(db, actor, "communities", [{"name": "阳光花园"}])[0]
    insert(db, actor, "households", [
        {"community_id": cid, "code": code, "area": "90.00", "usage": "住宅", "status": "已入住"}
        for code in ("1-1-101", "1-1-102", "1-1-103")])
    dept = insert(db, actor, "departments", [{"name": "客服部"}])[0]
    staff = insert(db, actor, "staff", [{"department_id": dept, "name": "李主管", "status": "在职"}])[0]
    sid = insert(db, actor, "surveys", [{"community_id": cid, "title": "2026 年业主满意度调查",
                                          "distributed": 4, "held_from": date(2026, 6, 1),
                                          "held_to": date(2026, 6, 15)}])[0]
    insert(db, actor, "survey_questions", [
        {"survey_id": sid, "no": 1, "text": "楼道保洁是否及时", "dimension": "保洁", "kind": "评分"},
        {"survey_id": sid, "no": 2, "text": "垃圾清运是否及时", "dimension": "保洁", "kind": "评分"},
        {"survey_id": sid, "no": 3, "text": "维修是否及时", "dimension": "维修", "kind": "评分"},
        {"survey_id": sid, "no": 4, "text": "您的意见和建议", "dimension": "整体", "kind": "文字"},
    ])
    surveys.enter_forms(db, actor, sid, [
        {"问卷编号": "F1", "房号": "1-1-101", "第1题": "5", "第2题": "3", "第3题": "4", "第4题": "楼道灯坏了"},
        {"问卷编号": "F2", "房号": "1-1-102", "第1题": 4, "第2题": 2, "第3题": ""},
    ], submitted_at=datetime(2026, 6, 3, 10, 0))
    surveys.enter_forms(db, actor, sid, [{"问卷编号": "F3", "第1题": "1", "第3题": "5"}],
                        submitted_at=datetime(2026, 6, 10, 9, 30))
    return {"community": cid, "survey": sid, "staff": staff}


def by_dimension(db, sql, params):
    frame = db.query(sql, params)
    return {r["dimension"]: r for r in frame.to_dict("records")}


def test_survey_stats_by_dimension_on_hand_built_answers(db, estate):
    rows = by_dimension(db, "SELECT * FROM v_survey_stats WHERE survey_id = ?", [estate["survey"]])
    assert set(rows) == {"保洁", "维修"}  # the 文字 question has no scores
    clean, repair = rows["保洁"], rows["维修"]
    assert (clean["questions"], clean["responses"], clean["scores"], clean["satisfied"]) == (2, 3, 5, 2)
    assert clean["avg_score"] == pytest.approx(3.0)
    assert clean["satisfaction_rate"] == pytest.approx(0.4)
    assert clean["target"] == pytest.approx(0.8) and clean["meets_target"] is False
    assert (repair["questions"], repair["responses"], repair["scores"], repair["satisfied"]) == (1, 2, 2, 2)
    assert repair["avg_score"] == pytest.approx(4.5)
    assert repair["satisfaction_rate"] == pytest.approx(1.0) and repair["meets_target"] is True
    for r in rows.values():
        assert (r["survey_responses"], r["distributed"]) == (3, 4)
        assert r["return_rate"] == pytest.approx(0.75)


def test_survey_stats_as_of_counts_forms_returned_by_then(db, estate):
    rows = by_dimension(db, "SELECT * FROM survey_stats_as_of(DATE '2026-06-05') WHERE survey_id = ?",
                        [estate["survey"]])
    # F3 came back on 06-10: 保洁 5,3,4,2 → 2 of 4 satisfied; 维修 only F1's 4
    assert rows["保洁"]["scores"] == 4 and rows["保洁"]["satisfaction_rate"] == pytest.approx(0.5)
    assert rows["维修"]["scores"] == 1 and rows["维修"]["avg_score"] == pytest.approx(4.0)
    assert rows["保洁"]["return_rate"] == pytest.approx(0.5)
    assert db.query("SELECT * FROM survey_stats_as_of(DATE '2026-05-31')").empty  # not started yet


def test_bad_forms_are_refused_whole(db, actor, estate):
    before = db.scalar("SELECT count(*) FROM survey_answers")
    with pytest.raises(ValidationFailed) as err:
        surveys.enter_forms(db, actor, estate["survey"], [
            {"问卷编号": "F4", "房号": "1-1-103", "第1题": "4"},
            {"问卷编号": "F5", "房号": "9-9-999", "第1题": "6"},
            {"问卷编号": "F1", "第2题": "3"},
        ])
    messages = [str(p) for p in err.value.problems]
    assert any("9-9-999" in m for m in messages)
    assert any("6 不是 1–5 的分数" in m for m in messages)
    assert any("问卷 F1" in m and "已录入" in m for m in messages)
    assert db.scalar("SELECT count(*) FROM survey_answers") == before
    assert db.scalar("SELECT count(*) FROM survey_responses WHERE form_no = 'F4'") == 0


def test_entry_frame_shows_forms_as_rows(db, estate):
    frame = surveys.entry_frame(db, estate["survey"])
    assert list(frame.columns) == ["问卷编号", "房号", "第1题", "第2题", "第3题", "第4题"]
    f1 = frame[frame["问卷编号"] == "F1"].iloc[0]
    assert (f1["房号"], f1["第1题"], f1["第2题"], f1["第4题"]) == ("1-1-101", "5", "3", "楼道灯坏了")


def test_corrective_measure_opens_a_linked_rectification(db, actor, estate):
    if "rectifications" not in registers.catalog():
        pytest.skip("no rectifications register")
    mid = insert(db, actor, "survey_measures", [{
        "survey_id": estate["survey"], "dimension": "保洁", "issue": "保洁满意率 40%，低于目标",
        "kind": "纠正措施", "measure": "楼道每日清扫两次并公示", "responsible_id": estate["staff"],
        "due_on": date(2026, 7, 15)}])[0]
    rid = db.scalar("SELECT rectification_id FROM survey_measures WHERE id = ?", [mid])
    assert rid is not None
    row = db.rows("SELECT source_table, source_id, area, responsible_id, deadline, status "
                  "FROM rectifications WHERE id = ?", [rid])[0]
    assert row == ("survey_measures", mid, "清洁消杀", estate["staff"], date(2026, 7, 15), "待整改")


def test_survey_report_workbook_has_figures_charts_answers_and_measures(db, actor, estate):
    insert(db, actor, "survey_measures", [{
        "survey_id": estate["survey"], "dimension": "保洁", "issue": "保洁满意率低", "kind": "预防措施",
        "measure": "增加垃圾清运频次", "due_on": date(2026, 7, 1)}])
    out = io.BytesIO()
    surveys.survey_report(db, actor, estate["survey"], out)
    data = out.getvalue()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["统计", "分数分布", "历次趋势", "得分最低项目", "业主意见", "预防与纠正措施"]
    stats = wb["统计"]
    values = {stats.cell(r, 1).value: stats.cell(r, 2).value for r in range(1, stats.max_row + 1)}
    assert values["回收问卷(份)"] == 3 and values["回收率"] == pytest.approx(0.75)
    assert values["总体满意率"] == pytest.approx(4 / 7)  # 5,3,4,2,1,4,5: four of seven ≥ 4
    rows = {stats.cell(r, 1).value: [stats.cell(r, c).value for c in range(1, 9)] for r in range(1, stats.max_row + 1)}
    assert rows["保洁"][5] == pytest.approx(0.4) and rows["维修"][4] == pytest.approx(4.5)
    lowest = wb["得分最低项目"]
    assert lowest.cell(5, 3).value == "垃圾清运是否及时"  # question 2: mean (3 + 2) / 2 = 2.5
    opinions = wb["业主意见"]
    assert [opinions.cell(5, c).value for c in (1, 2, 5)] == ["F1", "1-1-101", "楼道灯坏了"]
    assert wb["预防与纠正措施"].cell(5, 4).value == "增加垃圾清运频次"
    charts = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_publishing_the_result_writes_a_notice_and_marks_the_survey(db, actor, estate):
    notice = surveys.publish_result(db, actor, estate["survey"])
    title, body, audience = db.rows("SELECT title, body, audience FROM notices WHERE id = ?", [notice])[0]
    assert title == "2026 年业主满意度调查结果公告" and audience == "全体业主"
    assert "回收 3 份，回收率 75.0%" in body and "保洁 40.0%" in body and "维修 100.0%" in body
    assert "未达到目标的项目（保洁）" in body
    assert db.rows("SELECT status, notice_id FROM surveys WHERE id = ?", [estate["survey"]])[0] == ("已公布", notice)
