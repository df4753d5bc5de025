"""Owner surveys (三(七) 业主意见调查): entering paper forms, statistics, the report and its notice.

A survey has questions (by dimension; 评分 1–5, 选择, 文字), returned forms (`survey_responses`)
and one answer per form and question (`survey_answers`). Figures come from `v_survey_stats`
(`survey_stats_as_of`); this module adds the form entry, the distribution, the trend across
surveys, the lowest-scoring items, the open answers, the workbook and the published notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from app import registers
from app.access.permissions import Actor, require
from app.exchange.report_book import Column, ReportBook
from app.exchange.workbook_reader import WorkbookUnreadable, read_workbook  # noqa: F401  (pages catch it)
from app.reading.queries import community_filter_sql, labels_for
from app.saving.changes import Problem, RowChange, ValidationFailed, apply_changes
from app.storage.db import Database, in_list

DIMENSIONS = ("保洁", "保安", "维修", "绿化", "客服", "收费", "整体")
FORM_COLUMN, HOUSEHOLD_COLUMN = "问卷编号", "房号"


def survey_choices(db: Database, actor: Actor, community_id: int | None = None) -> dict[int, str]:
    """id -> "小区/调查名称" of the surveys the actor may see, newest first."""
    reg = registers.get("surveys")
    require(actor, reg.name, "view", reg.label)
    scope, params = community_filter_sql(reg, "s", actor)
    sql = ("SELECT s.id, c.name || '/' || s.title FROM surveys s JOIN communities c ON c.id = s.community_id "
           "WHERE s.deleted_at IS NULL" + scope)
    if community_id is not None:
        sql += " AND s.community_id = ?"
        params = [*params, community_id]
    return dict(db.rows(sql + " ORDER BY s.held_from DESC, s.id DESC", params))


def survey_row(db: Database, survey_id: int) -> dict:
    frame = db.query("SELECT s.*, c.name AS community FROM surveys s JOIN communities c ON c.id = s.community_id "
                     "WHERE s.id = ?", [survey_id])
    if frame.empty:
        raise KeyError(f"没有编号为 {survey_id} 的调查")
    return frame.iloc[0].to_dict()


def questions(db: Database, survey_id: int) -> pd.DataFrame:
    return db.query(
        "SELECT id AS question_id, no, text, dimension, kind, choices FROM survey_questions "
        "WHERE survey_id = ? AND deleted_at IS NULL ORDER BY no", [survey_id])


# -- entering paper forms ------------------------------------------------------------------------
def question_column(no: int) -> str:
    return f"第{no}题"


def entry_frame(db: Database, survey_id: int) -> pd.DataFrame:
    """The returned forms as one row each: 问卷编号, 房号, then one column per question."""
    qs = questions(db, survey_id)
    answers = db.query(
        "SELECT r.form_no, h.code, q.no, a.score, coalesce(a.choice, a.text) AS said "
        "FROM survey_responses r LEFT JOIN households h ON h.id = r.household_id "
        "LEFT JOIN survey_answers a ON a.response_id = r.id AND a.deleted_at IS NULL "
        "LEFT JOIN survey_questions q ON q.id = a.question_id "
        "WHERE r.survey_id = ? AND r.deleted_at IS NULL ORDER BY r.form_no, q.no", [survey_id])
    columns = [FORM_COLUMN, HOUSEHOLD_COLUMN, *(question_column(n) for n in qs["no"])]
    rows: dict[str, dict] = {}
    for a in answers.itertuples(index=False):
        row = rows.setdefault(a.form_no, {FORM_COLUMN: a.form_no, HOUSEHOLD_COLUMN: a.code})
        if a.no is not None and not pd.isna(a.no):
            value = a.score if a.score is not None and not pd.isna(a.score) else a.said
            row[question_column(int(a.no))] = str(int(value)) if isinstance(value, (int, float)) else value
    return pd.DataFrame(list(rows.values()), columns=columns, dtype=object)


@dataclass
class FormsResult:
    forms: int = 0
    answers: int = 0
    problems: list[Problem] = field(default_factory=list)


def enter_forms(db: Database, actor: Actor, survey_id: int, forms: list[dict[str, Any]],
                submitted_at: datetime | None = None, channel: str = "纸质") -> FormsResult:
    """Write returned paper forms: each dict has 问卷编号, 房号 and 第N题 columns.

    Scores must be 1–5 on 评分 questions; the whole batch is checked first and nothing is
    written when any form has a problem (ValidationFailed, one problem per cell).
    """
    survey = survey_row(db, survey_id)
    qs = questions(db, survey_id)
    by_column = {question_column(int(q.no)): q for q in qs.itertuples(index=False)}
    taken = {r[0] for r in db.rows(
        "SELECT form_no FROM survey_responses WHERE survey_id = ? AND deleted_at IS NULL", [survey_id])}
    codes = _household_ids(db, int(survey["community_id"]),
                           [str(f.get(HOUSEHOLD_COLUMN)).strip() for f in forms if _filled(f.get(HOUSEHOLD_COLUMN))])
    problems: list[Problem] = []
    planned: list[tuple[dict, list[dict]]] = []
    seen: set[str] = set()
    for i, form in enumerate(forms):
        where = f"第 {i + 1} 份"
        form_no = str(form.get(FORM_COLUMN) or "").strip()
        if not form_no:
            problems.append(Problem(where, FORM_COLUMN, "必填"))
            continue
        where = f"问卷 {form_no}"
        if form_no in taken or form_no in seen:
            problems.append(Problem(where, FORM_COLUMN, "此编号的问卷已录入"))
        seen.add(form_no)
        response = {"survey_id": survey_id, "form_no": form_no, "channel": channel,
                    "submitted_at": submitted_at or db.now()}
        code = form.get(HOUSEHOLD_COLUMN)
        if _filled(code):
            hid = codes.get(str(code).strip())
            if hid is None:
                problems.append(Problem(where, HOUSEHOLD_COLUMN, f"本小区没有房号 {code}"))
            response["household_id"] = hid
        answers = []
        for column, q in by_column.items():
            value = form.get(column)
            if not _filled(value):
                continue
            answer = {"question_id": int(q.question_id)}
            if q.kind == "评分":
                try:
                    score = int(float(str(value).strip()))
                    if str(value).strip() not in (str(score), f"{score}.0") or not 1 <= score <= 5:
                        raise ValueError
                except ValueError:
                    problems.append(Problem(where, column, f"{value} 不是 1–5 的分数"))
                    continue
                answer["score"] = score
            elif q.kind == "选择":
                answer["choice"] = str(value).strip()
            else:
                answer["text"] = str(value).strip()
            answers.append(answer)
        planned.append((response, answers))
    if problems:
        raise ValidationFailed(problems)
    result = FormsResult()
    if not planned:
        return result
    ids = apply_changes(db, actor, "survey_responses",
                        [RowChange("insert", values=r) for r, _ in planned]).inserted
    changes = [RowChange("insert", values={"response_id": rid, **a})
               for rid, (_, answers) in zip(ids, planned) for a in answers]
    try:
        apply_changes(db, actor, "survey_answers", changes)
    except Exception:  # keep forms and answers together: take the forms back out
        apply_changes(db, actor, "survey_responses", [RowChange("delete", rid) for rid in ids])
        raise
    result.forms, result.answers = len(ids), len(changes)
    return result


def read_forms_file(source: str | Path | IO[bytes]) -> list[dict[str, Any]]:
    """Forms from an Excel/CSV sheet with the entry grid's headers (问卷编号, 房号, 第1题 …)."""
    name = str(getattr(source, "name", source))
    if name.lower().endswith(".csv"):
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    else:  # an uploaded workbook is read by the safe reader (child process, row and cell caps)
        data = source.read() if hasattr(source, "read") else Path(source).read_bytes()
        rows = read_workbook(data, Path(name).name).rows
        header = [_cell_text(v) for v in rows[0]] if rows else []
        frame = pd.DataFrame([[_cell_text(v) for v in r] + [""] * (len(header) - len(r)) for r in rows[1:]],
                             columns=header, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]
    renamed = {c: question_column(int(c)) for c in frame.columns if c.isdigit()}
    frame = frame.rename(columns=renamed)
    return [r for r in frame.to_dict("records") if any(_filled(v) for v in r.values())]


def _cell_text(value: Any) -> str:
    """A cell as pandas.read_excel(dtype=str) showed it: whole numbers without ".0", dates as datetimes."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return str(value)


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and str(value).strip() != ""


def _household_ids(db: Database, community_id: int, codes: list[str]) -> dict[str, int]:
    if not codes:
        return {}
    placeholders, params = in_list(sorted(set(codes)))
    return dict(db.rows("SELECT code, id FROM households WHERE deleted_at IS NULL AND community_id = ? "
                        "AND code IN " + placeholders, [community_id, *params]))


# -- figures -------------------------------------------------------------------------------------
def stats(db: Database, survey_id: int) -> pd.DataFrame:
    """v_survey_stats rows of one survey, dimensions in the questionnaire's order."""
    frame = db.query("SELECT * FROM v_survey_stats WHERE survey_id = ?", [survey_id])
    frame["order"] = frame["dimension"].map({d: i for i, d in enumerate(DIMENSIONS)})
    return frame.sort_values("order").drop(columns="order").reset_index(drop=True)


def overall(db: Database, survey_id: int) -> dict[str, Any]:
    """The survey's headline: forms returned, return rate, scores, mean and satisfaction over all."""
    row = db.query(
        "SELECT max(survey_responses) AS responses, max(distributed) AS distributed, "
        "max(return_rate) AS return_rate, sum(scores) AS scores, sum(satisfied) AS satisfied, "
        "max(target) AS target FROM v_survey_stats WHERE survey_id = ?", [survey_id]).iloc[0]
    mean = db.scalar(
        "SELECT avg(a.score) FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id "
        "JOIN survey_questions q ON q.id = a.question_id WHERE r.survey_id = ? AND q.kind = '评分' "
        "AND a.deleted_at IS NULL AND r.deleted_at IS NULL AND q.deleted_at IS NULL AND a.score IS NOT NULL",
        [survey_id])
    scores = int(row["scores"] or 0) if not pd.isna(row["scores"]) else 0
    satisfied = int(row["satisfied"] or 0) if not pd.isna(row["satisfied"]) else 0
    return {
        "responses": 0 if pd.isna(row["responses"]) else int(row["responses"]),
        "distributed": 0 if pd.isna(row["distributed"]) else int(row["distributed"]),
        "return_rate": None if pd.isna(row["return_rate"]) else float(row["return_rate"]),
        "scores": scores,
        "avg_score": None if mean is None else float(mean),
        "satisfaction_rate": satisfied / scores if scores else None,
        "target": None if pd.isna(row["target"]) else float(row["target"]),
    }


def score_distribution(db: Database, survey_id: int) -> pd.DataFrame:
    """Scores 1..5 as rows, one column of counts per dimension (zeros included)."""
    counts = db.query(
        "SELECT q.dimension, a.score, count(*) AS n FROM survey_answers a "
        "JOIN survey_responses r ON r.id = a.response_id AND r.deleted_at IS NULL "
        "JOIN survey_questions q ON q.id = a.question_id AND q.deleted_at IS NULL AND q.kind = '评分' "
        "WHERE r.survey_id = ? AND a.deleted_at IS NULL AND a.score IS NOT NULL "
        "GROUP BY q.dimension, a.score", [survey_id])
    dims = [d for d in DIMENSIONS if d in set(counts["dimension"])]
    table = pd.DataFrame({"score": [1, 2, 3, 4, 5]})
    for d in dims:
        mine = dict(zip(counts.loc[counts["dimension"] == d, "score"], counts.loc[counts["dimension"] == d, "n"]))
        table[d] = [int(mine.get(s, 0)) for s in table["score"]]
    table["score_label"] = [f"{s} 分" for s in table["score"]]
    return table


def trend(db: Database, community_id: int) -> pd.DataFrame:
    """Satisfaction over all scored answers, survey by survey, for one community."""
    return db.query(
        "SELECT survey_id, title, held_from, "
        "CAST(sum(satisfied) AS DOUBLE) / nullif(sum(scores), 0) AS satisfaction_rate, "
        "max(return_rate) AS return_rate, max(target) AS target "
        "FROM v_survey_stats WHERE community_id = ? GROUP BY survey_id, title, held_from "
        "ORDER BY held_from, survey_id", [community_id])


def lowest_items(db: Database, survey_id: int, n: int = 5) -> pd.DataFrame:
    return db.query(
        "SELECT q.no, q.dimension, q.text, avg(a.score) AS avg_score, count(a.score) AS scores, "
        "CAST(count(*) FILTER (WHERE a.score >= 4) AS DOUBLE) / nullif(count(a.score), 0) AS satisfaction_rate "
        "FROM survey_questions q JOIN survey_answers a ON a.question_id = q.id AND a.deleted_at IS NULL "
        "JOIN survey_responses r ON r.id = a.response_id AND r.deleted_at IS NULL "
        "WHERE q.survey_id = ? AND q.kind = '评分' AND q.deleted_at IS NULL AND a.score IS NOT NULL "
        "GROUP BY q.no, q.dimension, q.text ORDER BY avg_score, q.no LIMIT ?", [survey_id, n])


def open_answers(db: Database, survey_id: int) -> pd.DataFrame:
    return db.query(
        "SELECT r.form_no, h.code AS household, q.no, q.dimension, q.text AS question, a.text AS answer "
        "FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id AND r.deleted_at IS NULL "
        "JOIN survey_questions q ON q.id = a.question_id LEFT JOIN households h ON h.id = r.household_id "
        "WHERE r.survey_id = ? AND a.deleted_at IS NULL AND coalesce(trim(a.text), '') <> '' "
        "ORDER BY q.no, r.form_no", [survey_id])


def measures(db: Database, survey_id: int) -> pd.DataFrame:
    frame = db.query(
        "SELECT m.id, m.dimension, m.issue, m.kind, m.measure, s.name AS responsible, m.due_on, m.done_on, "
        "m.rectification_id FROM survey_measures m LEFT JOIN staff s ON s.id = m.responsible_id "
        "WHERE m.survey_id = ? AND m.deleted_at IS NULL ORDER BY m.id", [survey_id])
    if "rectification_id" in frame and not frame.empty:
        ids = [int(v) for v in frame["rectification_id"].dropna()]
        placeholders, params = in_list(ids)
        state = dict(db.rows("SELECT id, status FROM rectifications WHERE id IN " + placeholders, params))
        frame["rectification"] = [
            None if pd.isna(v) else f"整改单 {int(v)}（{state.get(int(v), '')}）" for v in frame["rectification_id"]]
    else:
        frame["rectification"] = None
    return frame


# -- the report and the notice -----------------------------------------------------------------
STATS_COLUMNS = [
    Column("dimension", "维度"), Column("questions", "评分题数", "integer"),
    Column("responses", "作答问卷数", "integer"), Column("scores", "评分数", "integer"),
    Column("avg_score", "平均分", "number"), Column("satisfaction_rate", "满意率", "rate"),
    Column("target", "目标", "rate"), Column("meets_target", "达标", "boolean"),
]


def survey_report(db: Database, actor: Actor, survey_id: int, out: str | Path | IO[bytes]) -> None:
    """The survey's workbook: figures with native charts, lowest items, open answers, measures."""
    require(actor, "surveys", "export", "意见调查")
    survey = survey_row(db, survey_id)
    head = overall(db, survey_id)
    book = ReportBook(out, f"{survey['community']} {survey['title']}",
                      created=datetime.combine(survey["held_to"] or survey["held_from"], datetime.min.time()))
    sheet = book.sheet("统计", f"{survey['community']} {survey['title']} 统计结果",
                       f"调查期间 {survey['held_from']} 至 {survey['held_to'] or ''}")
    sheet.pairs([("发放问卷(份)", head["distributed"], "integer"), ("回收问卷(份)", head["responses"], "integer"),
                 ("回收率", head["return_rate"], "rate"), ("总体满意率", head["satisfaction_rate"], "rate"),
                 ("平均分(5分制)", head["avg_score"], "number"), ("满意率目标", head["target"], "rate")])
    table = stats(db, survey_id)
    placed = sheet.table(table, STATS_COLUMNS)
    if not table.empty:
        sheet.chart("column", [
            {"name": "满意率", "categories": placed.range_of("dimension"),
             "values": placed.range_of("satisfaction_rate"), "fill": {"color": "#4472C4"}},
            {"name": "目标", "categories": placed.range_of("dimension"), "values": placed.range_of("target"),
             "fill": {"color": "#ED7D31"}},
        ], "各维度满意率与目标", y_format="0%", y_max=1)

    dist = score_distribution(db, survey_id)
    sheet = book.sheet("分数分布", "各维度分数分布（份数）")
    dims = [d for d in DIMENSIONS if d in dist.columns]
    placed = sheet.table(dist, [Column("score_label", "分数"), *(Column(d, d, "integer") for d in dims)])
    if dims:
        sheet.chart("column", [{"name": d, "categories": placed.range_of("score_label"),
                                "values": placed.range_of(d)} for d in dims],
                    "分数分布", subtype="stacked")

    history = trend(db, int(survey["community_id"]))
    sheet = book.sheet("历次趋势", f"{survey['community']} 历次调查满意率")
    placed = sheet.table(history, [Column("title", "调查"), Column("held_from", "开始日期", "date"),
                                   Column("return_rate", "回收率", "rate"),
                                   Column("satisfaction_rate", "总体满意率", "rate"), Column("target", "目标", "rate")])
    if not history.empty:
        sheet.chart("line", [{"name": "总体满意率", "categories": placed.range_of("title"),
                              "values": placed.range_of("satisfaction_rate"), "marker": {"type": "circle"}},
                             {"name": "目标", "categories": placed.range_of("title"),
                              "values": placed.range_of("target")}],
                    "历次调查满意率趋势", y_format="0%", y_max=1)

    sheet = book.sheet("得分最低项目", "得分最低的题目")
    sheet.table(lowest_items(db, survey_id, 10), [
        Column("no", "题号", "integer"), Column("dimension", "维度"), Column("text", "题目"),
        Column("avg_score", "平均分", "number"), Column("satisfaction_rate", "满意率", "rate"),
        Column("scores", "评分数", "integer")])

    sheet = book.sheet("业主意见", "开放题意见原文")
    sheet.table(open_answers(db, survey_id), [
        Column("form_no", "问卷编号"), Column("household", "房号"), Column("no", "题号", "integer"),
        Column("question", "题目"), Column("answer", "意见")])

    sheet = book.sheet("预防与纠正措施", "预防与纠正措施")
    sheet.table(measures(db, survey_id), [
        Column("dimension", "维度"), Column("issue", "问题"), Column("kind", "类别"), Column("measure", "措施"),
        Column("responsible", "责任人"), Column("due_on", "完成期限", "date"), Column("done_on", "完成日期", "date"),
        Column("rectification", "整改单")])
    book.close()


def result_notice_text(db: Database, survey_id: int) -> tuple[str, str]:
    """Title and body of the notice publishing a survey's result to all owners."""
    survey = survey_row(db, survey_id)
    head = overall(db, survey_id)
    table = stats(db, survey_id)

    def pct(v: float | None) -> str:
        return "—" if v is None or pd.isna(v) else f"{v * 100:.1f}%"

    lines = [
        f"尊敬的各位业主：{survey['title']}已于{survey['held_to'] or survey['held_from']}结束。"
        f"本次共发放问卷 {head['distributed']} 份，回收 {head['responses']} 份，回收率 {pct(head['return_rate'])}；"
        f"总体满意率 {pct(head['satisfaction_rate'])}。各项满意率：",
        "；".join(f"{r.dimension} {pct(r.satisfaction_rate)}" for r in table.itertuples()) + "。",
    ]
    low = table[table["meets_target"].eq(False)]
    if not low.empty:
        lines.append("未达到目标的项目（" + "、".join(low["dimension"]) + "），我处已制定整改措施并将限期落实。")
    ms = measures(db, survey_id)
    for m in ms.itertuples():
        lines.append(f"· {m.issue}：{m.measure}" + (f"（{m.due_on} 前完成）" if m.due_on else ""))
    lines.append("感谢各位业主的支持与监督！")
    return f"{survey['title']}结果公告", "\n".join(lines)


def publish_result(db: Database, actor: Actor, survey_id: int) -> int:
    """Publish the result as a notice to all owners; the survey then points to it (已公布)."""
    survey = survey_row(db, survey_id)
    title, body = result_notice_text(db, survey_id)
    notice = apply_changes(db, actor, "notices", [RowChange("insert", values={
        "community_id": int(survey["community_id"]), "title": title, "body": body,
        "audience": "全体业主", "published_at": db.now()})]).inserted[0]
    apply_changes(db, actor, "surveys", [RowChange("update", survey_id, {"notice_id": notice, "status": "已公布"},
                                                   int(survey["row_version"]))])
    return notice


def labels(db: Database, register: str, ids: list[int]) -> dict[int, str]:
    return labels_for(db, registers.get(register), ids)
