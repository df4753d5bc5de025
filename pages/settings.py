"""Rule parameters with their sources; each area's parameters on its own tab."""

import streamlit as st

from app import registers
from app.settings import PARAMETER_GROUPS
from app.ui import session
from app.ui.grid import register_grid

st.title("规则参数")
st.caption(
    "各项规则（到期提醒、滞纳金、报修时限等）读取这里的参数。默认值及依据来自国家标准、"
    "地方规定或行业惯例；为某个小区单独设置时，新增一行并选择适用小区。"
)
prefix = st.segmented_control(
    "参数类别", list(PARAMETER_GROUPS), format_func=PARAMETER_GROUPS.get, default="fee",
    key="settings-group",
) or "fee"
register_grid(session.db(), session.actor(), registers.get("settings"),
              base_filters={"key": prefix + "."}, key=f"settings-{prefix}")
