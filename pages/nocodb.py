"""NocoDB: the spreadsheet backend for field staff and the residents' intake forms."""

import streamlit as st

from app.sync import nocodb
from app.ui import session
from app.ui.text import md

st.title("NocoDB 同步")
st.caption(
    "外勤人员在 NocoDB 的表格里查看和修改台账，住户通过 NocoDB 表单报修和投诉。NocoDB 的每一处修改都"
    "经过 wuye 的校验、冲突检查和修改记录（来源“NocoDB”）；不合格的行不会写入，原因写回 NocoDB 的"
    "「同步错误」列。手机号、身份证号默认打码推送。"
)
db, actor = session.db(), session.actor()
if not nocodb.configured():
    st.info(
        f"尚未连接 NocoDB：启动 wuye 前设置环境变量 {nocodb.URL_ENV}（NocoDB 地址）和 "
        f"{nocodb.TOKEN_ENV}（NocoDB 中 团队与设置 → API 令牌），可选 {nocodb.BASE_ENV}（base 名，默认 wuye）。"
        "详见 README 的 NocoDB 一节。"
    )
    st.stop()
link = nocodb.link_from_env()
nocodb.schedule(db, link)
st.caption(f"已连接 {md(link.url)}（base「{md(link.base)}」），每 {nocodb.pull_seconds(db)} 秒自动拉取一次"
           "（参数 office.nocodb_pull_seconds）。")


def run(label: str, fn, *args):
    try:
        with st.spinner(label):
            return fn(*args)
    except (nocodb.NocoDBError, PermissionError, KeyError) as err:
        st.error(md(err))
        return None


st.subheader("住户表单")
forms = nocodb.published_forms(db, link)
for title, url in forms.items():
    st.markdown(f"**{title}**：[{url}]({url})")
left, right = st.columns(2)
publish = left.button("发布报修与投诉表单" if not forms else "检查表单", key="nocodb-forms")
if publish and run("正在发布表单……", nocodb.publish_forms, db, actor, link) is not None:
    st.rerun()
if right.button("立即受理新提交", key="nocodb-intake"):
    for register in nocodb.INTAKES:
        report = run("正在拉取表单提交……", nocodb.pull_intake, db, actor, link, register)
        if report is not None:
            st.success(report.summary)
            for issue in report.refused:
                st.warning(str(issue))

st.subheader("台账同步")
choices = nocodb.syncable_registers()
register = st.selectbox("台账", list(choices), format_func=choices.get, key="nocodb-register", placeholder="请选择")
push_col, pull_col = st.columns(2)
for column, label, fn in ((push_col, "推送到 NocoDB", nocodb.push), (pull_col, "从 NocoDB 拉取", nocodb.pull)):
    if column.button(label, key=f"nocodb-{fn.__name__}"):
        report = run(f"{label}……", fn, db, actor, link, register)
        if report is not None:
            st.success(report.summary)
            for issue in [*report.refused, *report.conflicts]:
                st.warning(str(issue))

rows = nocodb.status_rows(db)
if rows:
    st.dataframe(rows, hide_index=True, width="stretch", placeholder="")
