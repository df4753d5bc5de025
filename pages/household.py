"""一户一档: one household — people, money, repairs, complaints and more, as a timeline and as tabs."""

import io

import pandas as pd
import streamlit as st

from app import registers
from app.analysis import dashboard
from app.estate import household_file
from app.ui import session
from app.ui.attachments import attachments_panel
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("一户一档")

state = st.session_state
wanted = st.query_params.get("id")
left, mid = st.columns([1, 2])
choices = dashboard.communities(db, actor)
community = left.selectbox("小区", [None, *choices], format_func=lambda c: "全部小区" if c is None else choices[c],
                           key="household-community", placeholder="请选择")
text = mid.text_input("房号或业主姓名", key="household-search", placeholder="例如 3-2-1201 或 张伟")
found = household_file.find_households(db, actor, text, community)
if wanted and wanted.isdigit() and not text:  # a link: its household first
    link = household_file.linked(db, actor, int(wanted))
    if not link and wanted != state.get("household-link"):
        st.warning(f"没有编号为 {wanted} 的房屋（可能已删除或不在您的小区范围内）。")
    found = {**link, **found}
if not found:
    st.info("没有找到符合条件的房屋。可换个房号或业主姓名，或在上方选「全部小区」。")
    st.stop()
# A new link or a new search switches the household: the link's, else the best match (exact first).
if wanted != state.get("household-link") and wanted and wanted.isdigit() and int(wanted) in found:
    state["household-picked"] = int(wanted)
elif text != state.get("household-last-search") or state.get("household-picked") not in found:
    state["household-picked"] = next(iter(found))
state["household-last-search"] = text
picked = st.selectbox("房屋", list(found), format_func=found.get, key="household-picked", placeholder="请选择")
if wanted != str(picked):
    st.query_params["id"] = str(picked)
state["household-link"] = str(picked)

file = household_file.load(db, actor, picked)
if file is None:
    st.warning(f"没有编号为 {picked} 的房屋（可能已删除或不在您的小区范围内）。")
    st.stop()

h, b = file.header, file.balance
st.subheader(md(f"{h['小区']} {h['房号']}"))
cols = st.columns(7)
cols[0].metric("建筑面积", f"{h['建筑面积(㎡)']} ㎡")
cols[1].metric("状态", md(h["状态"]) or "—")
cols[2].metric("未缴", f"{b['outstanding']:,.2f} 元")
cols[3].metric("逾期欠费", f"{b['overdue']:,.2f} 元",
               help=f"逾期 {b['days_overdue']} 天" if b["days_overdue"] else None)
cols[4].metric("逾期天数", f"{b['days_overdue']} 天", help="最早一张未缴逾期账单的到期日起算；滞纳金见「欠费」视图")
cols[5].metric("滞纳金", f"{b['late_fee']:,.2f} 元", help="按滞纳金日费率累计至今天，已扣除减免（同「欠费」视图）")
cols[6].metric("预存余额", f"{b['credit']:,.2f} 元")
st.caption(" · ".join(f"{md(k)}：{md(v)}" for k, v in h.items() if v not in (None, "") and k not in ("小区", "房号")))



def workbook() -> bytes:
    buffer = io.BytesIO()
    household_file.export_workbook(db, actor, picked, buffer)
    return buffer.getvalue()


st.download_button("导出一户一档（Excel）", workbook, file_name=f"一户一档-{h['小区']}-{h['房号']}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   icon=":material/download:", key="household-export")

sections = [s for s in file.sections if s.total]
tabs = st.tabs([f"时间线（{len(file.timeline)}）", *(f"{s.title}（{s.total if s.total <= household_file.SECTION_ROWS else str(household_file.SECTION_ROWS) + '+'}）" for s in sections), "附件"])
with tabs[0]:
    kinds = household_file.timeline_kinds(file.timeline) if not file.timeline.empty else []
    chosen = st.multiselect("事件类别", kinds, key="household-kinds", placeholder="全部类别")
    shown = file.timeline[file.timeline["register"].isin(chosen)] if chosen else file.timeline
    if shown.empty:
        st.caption("还没有记录。")
    else:
        st.dataframe(
            shown[["happened_at", "area", "register", "what", "link"]], hide_index=True, width="stretch",
            height=min(38 + 35 * len(shown), 560),
            column_config={"happened_at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm"),
                           "area": "业务范围", "register": "类别", "what": "事件",
                           "link": st.column_config.LinkColumn("打开", display_text="查看记录")}, placeholder="")
for tab, s in zip(tabs[1:], sections):
    with tab:
        if s.total > len(s.rows):
            st.caption(f"显示最近 {len(s.rows)} 条；更多请到「{md(s.title)}」台账按房屋筛选。")
        frame = s.rows.assign(打开=["/" + s.register + "?id=" + str(i) for i in s.rows["编号"]])
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={"打开": st.column_config.LinkColumn("打开", display_text="查看记录"),
                                    **{c: st.column_config.NumberColumn(c, format="%.2f")
                                       for c, k in s.kinds.items() if k == "money"}}, placeholder="")
with tabs[-1]:
    attachments_panel(db, actor, registers.get("households"), picked)

if not pd.isna(b["billed"]):
    st.caption(f"累计应收 {b['billed']:,.2f} 元，实收 {b['paid']:,.2f} 元；未缴账单 {b['open_bills']} 张。")
