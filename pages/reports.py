"""业委会月度报告: pick a month (and a 小区), produce the workbook, download it."""

import io

import streamlit as st

from app.analysis import dashboard, reports
from app.ui import session

db, actor = session.db(), session.actor()
today = db.now().date()
st.title("业委会月度报告")
st.caption("每月向业主委员会报送：收费与欠费、维修、投诉、检查与整改、消防与设备、合同、财务公开，"
           "每个主题一个工作表并附图表。数字按该月最后一天的数据计算，过去月份的报告任何时候生成都相同。")

months = [m for m in dashboard.months(db, today) if m < today.strftime("%Y-%m")] or [reports.default_period(today)]
left, right = st.columns(2)
period = left.selectbox("月份", months, key="report-period", placeholder="请选择")
choices = dashboard.communities(db, actor)
community = right.selectbox("小区", [None, *choices], format_func=lambda c: "全部小区" if c is None else choices[c],
                            key="report-community", placeholder="请选择")

if st.button("生成报告", type="primary", key="report-make", icon=":material/summarize:"):
    buffer = io.BytesIO()
    with st.spinner("正在生成……"):
        sheets = reports.monthly_report(db, actor, period, buffer, community_id=community)
    st.session_state["report-file"] = (period, community, buffer.getvalue(), sheets)

made = st.session_state.get("report-file")
if made and made[0] == period and made[1] == community:
    st.success(f"已生成 {period} 月度报告：" + "、".join(made[3]))
    st.download_button("下载报告（Excel）", made[2], file_name=reports.report_file_name(period),
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       icon=":material/download:", key="report-download")
st.caption(f"命令行：`wuye report monthly --period {period} --out {reports.report_file_name(period)}`")
