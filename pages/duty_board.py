"""24 小时值班看板: open orders by urgency with the clock running, those about to breach first."""

import streamlit as st

from app.service import service_desk as desk
from app.ui import session
from app.ui.desk import pick_community

REFRESH_SECONDS = 30
SOON_MINUTES = 60
# The state of an order's clock as a coloured text badge (emoji lights need an emoji font).
OVERDUE, SOON, ON_TIME = "已超时", "即将到时", "正常"
BADGE_STYLE = {
    OVERDUE: "background-color: #fde2e1; color: #b42318; font-weight: 600",
    SOON: "background-color: #fff1d6; color: #a15c07; font-weight: 600",
    ON_TIME: "background-color: #e3f5e8; color: #1b7a3d",
}


def clock_state(minutes_left: float) -> str:
    return OVERDUE if minutes_left < 0 else (SOON if minutes_left <= SOON_MINUTES else ON_TIME)


db, actor = session.db(), session.actor()
st.title("24小时值班看板")
st.caption("未办结的报修单：到场前计到场时限，到场后计完成时限（暂停时间不计）；已超时和即将超时的排在最前。"
           f"每 {REFRESH_SECONDS} 秒自动刷新。")
community = pick_community(desk.communities(db, actor), "duty-community", allow_all=True)


@st.fragment(run_every=REFRESH_SECONDS)
def board() -> None:
    now = db.now()
    rows = desk.duty_board(db, community, now, actor=actor)
    c = st.columns(4)
    c[0].metric("未办结", len(rows))
    c[1].metric("已超时", int((rows["minutes_left"] < 0).sum()))
    c[2].metric(f"{SOON_MINUTES} 分钟内到时", int(rows["minutes_left"].between(0, SOON_MINUTES).sum()))
    c[3].metric("待派工", int((rows["status"] == "待派工").sum()))
    if rows.empty:
        st.success("没有未办结的报修单。")
        return
    rows = rows.assign(
        light=[clock_state(m) for m in rows["minutes_left"]],
        left=[desk.clock_text(m) for m in rows["minutes_left"]],
        link="/service_desk",
    )
    shown = rows[["light", "left", "urgency", "order_no", "status", "clock", "deadline", "category",
                  "location", "assignee", "reported_at"]]
    st.dataframe(
        shown.style.map(BADGE_STYLE.get, subset=["light"]),
        hide_index=True, width="stretch", height=min(640, 38 + 35 * len(rows)),
        column_config={
            "light": st.column_config.TextColumn("时限状态", width="small"), "left": "时限", "urgency": "紧急程度",
            "order_no": "报修单号", "status": "状态", "clock": "计时",
            "deadline": st.column_config.DatetimeColumn("应到/应完成", format="MM-DD HH:mm"),
            "category": "类别", "location": "位置", "assignee": "维修人员",
            "reported_at": st.column_config.DatetimeColumn("报修时间", format="MM-DD HH:mm"),
        }, placeholder="",
    )
    st.caption(f"更新于 {now:%H:%M:%S}")


board()
