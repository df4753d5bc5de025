"""意见调查: the figures of one survey as charts, fast entry of paper forms, the report and its notice."""

import io

import pandas as pd
import streamlit as st

from app.reading.formats import percent
from app.saving.changes import SaveRejected
from app.surveys import survey as surveys
from app.ui import charts, session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("意见调查统计与录入")
choices = surveys.survey_choices(db, actor)
if not choices:
    st.info("还没有调查。请先在「意见调查」台账中新增一次调查，并在「调查题目」中录入题目。")
    st.stop()
survey_id = st.selectbox("调查", list(choices), format_func=choices.get, key="survey-picked", placeholder="请选择")
survey = surveys.survey_row(db, survey_id)
head = surveys.overall(db, survey_id)

c = st.columns(5)
c[0].metric("发放问卷", f"{head['distributed']} 份")
c[1].metric("回收问卷", f"{head['responses']} 份")
c[2].metric("回收率", percent(head["return_rate"]))
c[3].metric("总体满意率", percent(head["satisfaction_rate"]),
            delta=None if head["satisfaction_rate"] is None or head["target"] is None
            else f"{(head['satisfaction_rate'] - head['target']) * 100:+.1f} 个百分点（目标 {percent(head['target'])}）")
c[4].metric("平均分", "—" if head["avg_score"] is None else f"{head['avg_score']:.2f} / 5")

stats = surveys.stats(db, survey_id)
spots = st.columns(3)
if not stats.empty:
    spots[0].altair_chart(charts.survey_dimensions(stats, list(surveys.DIMENSIONS)), width="stretch")
    spots[1].altair_chart(charts.survey_scores(surveys.score_distribution(db, survey_id)), width="stretch")
history = surveys.trend(db, int(survey["community_id"]))
if len(history) > 0:
    spots[2].altair_chart(charts.survey_history(history), width="stretch")

tabs = st.tabs(["录入问卷", "导入问卷", "得分最低的题目", "业主意见", "预防与纠正措施"])
with tabs[0]:
    st.caption("一份纸质问卷一行：问卷编号、房号，然后按题号填分数（1–5）或意见；Tab 键跳到下一格。")
    version = st.session_state.setdefault("survey-entry-version", 0)
    key = f"survey-entry-{survey_id}-{version}"
    columns = list(surveys.entry_frame(db, survey_id).columns)
    st.data_editor(pd.DataFrame(columns=columns, dtype=object), num_rows="dynamic", key=key, width="stretch",
                   hide_index=True, column_config={c: st.column_config.TextColumn(c) for c in columns}, placeholder="")
    if st.button("保存录入的问卷", type="primary", key="survey-entry-save"):
        forms = st.session_state.get(key, {}).get("added_rows", [])
        try:
            done = surveys.enter_forms(db, actor, survey_id, forms)
        except SaveRejected as err:
            st.error(f"校验未通过，未保存任何问卷（{len(err.problems)} 个问题）")
            st.dataframe(pd.DataFrame([{"问卷": p.row, "列": p.column, "问题": p.message} for p in err.problems]),
                         hide_index=True, placeholder="")
        else:
            st.session_state["survey-entry-version"] = version + 1
            st.session_state["survey-entry-done"] = f"已保存 {done.forms} 份问卷、{done.answers} 个答案。"
            st.rerun()
    if message := st.session_state.pop("survey-entry-done", None):
        st.success(message)
    with st.expander("已录入的问卷"):
        st.dataframe(surveys.entry_frame(db, survey_id), hide_index=True, width="stretch", placeholder="")
with tabs[1]:
    st.caption("Excel 或 CSV：第一行为表头「问卷编号、房号、第1题、第2题……」（也可只写题号 1、2、3）。")
    upload = st.file_uploader("问卷文件", type=["xlsx", "xls", "csv"], key="survey-upload")
    if upload is not None and st.button("导入", key="survey-import"):
        try:
            done = surveys.enter_forms(db, actor, survey_id, surveys.read_forms_file(upload))
            st.success(f"已导入 {done.forms} 份问卷、{done.answers} 个答案。")
        except SaveRejected as err:
            st.error("校验未通过，未导入任何问卷：\n\n" + "\n\n".join(md(p) for p in err.problems[:20]))
        except surveys.WorkbookUnreadable as err:
            st.error(md(str(err)))
with tabs[2]:
    st.dataframe(surveys.lowest_items(db, survey_id, 10), hide_index=True, width="stretch", column_config={
        "no": "题号", "dimension": "维度", "text": "题目", "scores": "评分数",
        "avg_score": st.column_config.NumberColumn("平均分", format="%.2f"),
        "satisfaction_rate": st.column_config.NumberColumn("满意率", format="percent")}, placeholder="")
with tabs[3]:
    st.dataframe(surveys.open_answers(db, survey_id), hide_index=True, width="stretch", column_config={
        "form_no": "问卷编号", "household": "房号", "no": "题号", "dimension": "维度", "question": "题目",
        "answer": "意见"}, placeholder="")
with tabs[4]:
    st.caption("在「预防与纠正措施」台账中新增；纠正措施保存时自动在「整改」台账立项并关联。")
    st.dataframe(surveys.measures(db, survey_id).drop(columns=["id", "rectification_id"]), hide_index=True,
                 width="stretch", column_config={
                     "dimension": "维度", "issue": "问题", "kind": "类别", "measure": "措施", "responsible": "责任人",
                     "due_on": "完成期限", "done_on": "完成日期", "rectification": "整改单"}, placeholder="")


def workbook() -> bytes:
    buffer = io.BytesIO()
    surveys.survey_report(db, actor, survey_id, buffer)
    return buffer.getvalue()


left, right = st.columns(2)
left.download_button("下载调查报告（Excel，含图表）", workbook, file_name=f"{survey['title']}.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     icon=":material/download:", key="survey-report")
if survey["notice_id"] is not None and not pd.isna(survey["notice_id"]):
    right.caption(f"结果已发布为通告（编号 {int(survey['notice_id'])}）。")
elif right.button("发布结果公告（全体业主）", key="survey-publish", icon=":material/campaign:"):
    notice = surveys.publish_result(db, actor, survey_id)
    st.success(f"已发布通告（编号 {notice}）。")
