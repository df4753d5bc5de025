"""停车收费台: occupancy, who is parked now, entries, exits with the temporary fee, the fee calculator."""

from datetime import datetime, time

import streamlit as st

from app.estate import occupancy as estate
from app.estate import parking
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.text import md, problems_markdown

db, actor = session.db(), session.actor()
now = db.now()
st.title("停车收费台")
st.caption("本小区车位登记的车牌为业主车辆，其余为临时停车；出场时按规则参数收费："
           "免费时长内不收费，超出后从第 0 分钟起按小时计费，每 24 小时封顶。")


def show_problems(err: SaveRejected) -> None:
    st.error(problems_markdown(err.kind, err.problems))


communities = estate.communities(db, actor)
if not communities:
    st.info("还没有小区。")
    st.stop()
community = st.selectbox("小区", list(communities), format_func=communities.get, key="parking-community", placeholder="请选择")
rules = parking.fee_rules(db, community)
occ = parking.occupancy(db, community)

cols = st.columns(5)
cols[0].metric("车位总数", f"{occ.get('spaces', 0):,}")
cols[1].metric("在租/可租车位", f"{occ.get('leased', 0)}/{occ.get('leasable', 0)}")
cols[2].metric("场内车辆", f"{occ.get('parked', 0):,}")
rate = occ.get("temp_occupancy")
cols[3].metric("临时车位占用", "—" if rate is None else f"{rate:.1%}",
               help=f"场内临时车辆 {occ.get('parked_temporary', 0)} / 临时车位 {occ.get('temp_spaces', 0)}")
cols[4].metric("今日临时停车费(元)", f"{occ.get('temp_fees', 0):,.2f}", help=f"今日出场 {occ.get('temp_stays', 0)} 次")

inside, entry, leave, calculator, leases = st.tabs(["场内车辆", "入场登记", "出场收费", "停车费计算", "车位租期"])

with inside:
    parked = parking.parked_now(db, community, now)
    if parked.empty:
        st.info("场内没有车辆。")
    else:
        st.dataframe(
            parked.drop(columns=["parking_event_id", "community_id"]), hide_index=True, width="stretch",
            column_config={"plate": "车牌号", "is_temporary": "临时", "space_no": "车位", "household": "房屋",
                           "entered_at": st.column_config.DatetimeColumn("入场时间", format="MM-DD HH:mm"),
                           "minutes": st.column_config.NumberColumn("已停(分钟)", format="%d"),
                           "fee_now": st.column_config.NumberColumn("现在出场应收(元)", format="%.2f")}, placeholder="")

with entry:
    with st.form("parking-entry", clear_on_submit=True):
        plate = st.text_input("车牌号", placeholder="例如 浙A12345")
        kind = st.selectbox("车型", [None, *parking.VEHICLE_TYPES], format_func=lambda v: v or "（不区分）",
                            placeholder="请选择")
        entered = st.form_submit_button("登记入场", type="primary")
    if entered and plate.strip():
        try:
            eid = parking.record_entry(db, actor, community, plate, **({"vehicle_type": kind} if kind else {}))
        except SaveRejected as err:
            show_problems(err)
        else:
            st.success(f"已登记入场：{md(plate.strip().upper())}（记录编号 {eid}）")

with leave:
    parked = parking.parked_now(db, community, now)
    if parked.empty:
        st.info("场内没有车辆。")
    else:
        labels = {int(r.parking_event_id): f"{r.plate}  {'临时' if r.is_temporary else '业主'}  "
                  f"入场 {r.entered_at:%m-%d %H:%M}" for r in parked.itertuples(index=False)}
        chosen = st.selectbox("出场车辆", list(labels), format_func=labels.get, key="parking-exit-car", placeholder="请选择")
        row = parked[parked["parking_event_id"] == chosen].iloc[0]
        if row["is_temporary"]:
            st.metric("应收(元)", f"{row['fee_now']:.2f}", help=f"已停 {row['minutes']} 分钟")
        else:
            st.caption("业主车辆，不收临时停车费。")
        method = st.selectbox("收费方式", parking.PAYMENT_METHODS, key="parking-exit-method", placeholder="请选择")
        if st.button("出场并收费", type="primary", key="parking-exit"):
            try:
                fee = parking.record_exit(db, actor, chosen, payment_method=method)
            except SaveRejected as err:
                show_problems(err)
            except KeyError as err:
                st.error(md(err))
            else:
                st.success(f"{labels[chosen].split()[0]} 已出场，收费 {fee:.2f} 元")

with calculator:
    defined = parking.rules(db, community)
    if defined.empty:
        st.caption(f"本小区没有临时停车收费规则，按规则参数：免费 {rules['free_minutes']} 分钟；"
                   f"每小时 {rules['hourly_rate']:.2f} 元；每 24 小时封顶 {rules['daily_cap']:.2f} 元。")
    else:
        st.caption("本小区的临时停车收费规则（按入场当日有效、对应车型的规则计费；在「临时停车收费规则」台账维护）：")
        st.dataframe(defined, hide_index=True, width="stretch", placeholder="",
                     column_config={"name": "规则名称", "vehicle_type": "车型", "free_minutes": "免费分钟数",
                                    "first_hour": "首小时(元)", "per_hour": "以后每小时(元)",
                                    "daily_cap": "封顶(元)", "cap_basis": "封顶计算", "night_from": "夜间开始(时)",
                                    "night_to": "夜间结束(时)", "night_per_hour": "夜间每小时(元)",
                                    "valid_from": "生效日期", "valid_to": "失效日期"})
    a, b, c, d, e = st.columns(5)
    in_day = a.date_input("入场日期", value=now.date(), key="calc-in-day", format="YYYY-MM-DD")
    in_time = b.time_input("入场时间", value=time(8, 0), step=60, key="calc-in-time")
    out_day = c.date_input("出场日期", value=now.date(), key="calc-out-day", format="YYYY-MM-DD")
    out_time = d.time_input("出场时间", value=time(now.hour, now.minute), step=60, key="calc-out-time")
    vehicle_type = e.selectbox("车型", [None, *parking.VEHICLE_TYPES], format_func=lambda v: v or "（不区分）",
                               key="calc-vehicle-type", placeholder="请选择")
    start, end = datetime.combine(in_day, in_time), datetime.combine(out_day, out_time)
    if end < start:
        st.warning("出场时间早于入场时间。")
    else:
        minutes, fee = parking.temp_fee(db, community, start, end, vehicle_type)
        st.metric("应收(元)", f"{fee:.2f}", help=f"停车 {minutes} 分钟")

with leases:
    expiring = parking.leases_expiring(db, community)
    if expiring.empty:
        st.success("没有即将到期的车位租约。")
    else:
        st.dataframe(
            expiring[["space_no", "zone", "household_code", "plate", "monthly_fee", "lease_end_on", "days_left"]],
            hide_index=True, width="stretch",
            column_config={"space_no": "车位号", "zone": "区域", "household_code": "房屋", "plate": "车牌号",
                           "monthly_fee": st.column_config.NumberColumn("月租(元)", format="%.2f"),
                           "lease_end_on": st.column_config.DateColumn("租期结束", format="YYYY-MM-DD"),
                           "days_left": st.column_config.NumberColumn("剩余天数", format="%d")}, placeholder="")
