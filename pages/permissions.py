"""The role × register × action matrix (administrators only), enforced by app.access.permissions.can."""

import pandas as pd
import streamlit as st

from app.access.permissions import (
    ACTION_LABELS,
    ACTIONS,
    ADMIN_ONLY_WRITES,
    ROLES,
    PermissionDenied,
    matrix_registers,
    require_admin,
    role_grants,
    role_personal_data,
    save_role_rights,
)
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("权限设置")
try:
    require_admin(actor, "设置权限")
except PermissionDenied as err:
    st.error(md(err))
    st.stop()
st.caption("每个角色对每个台账能做什么。所有保存、导入、导出和查询都按这里检查（不只是隐藏按钮）。"
           f"「{'、'.join(ADMIN_ONLY_WRITES)}」的修改只有管理员可以；只读角色不能写入。")

role = st.selectbox("角色", list(ROLES), format_func=lambda r: f"{r}：{ROLES[r].description}",
                    key="perm-role", placeholder="请选择")
personal = st.checkbox("可查看完整手机号、身份证号（否则打码）", value=role_personal_data(db, role),
                       key=f"perm-personal-{role}")
grants = role_grants(db, role)
rows = matrix_registers()
frame = pd.DataFrame(
    [{"台账": label, **{ACTION_LABELS[a]: (name, a) in grants for a in ACTIONS}} for name, label in rows.items()],
    index=list(rows),
)
edited = st.data_editor(
    frame, key=f"perm-matrix-{role}", hide_index=True, width="stretch", height=600, disabled=["台账"],
    column_config={ACTION_LABELS[a]: st.column_config.CheckboxColumn(ACTION_LABELS[a]) for a in ACTIONS},
    placeholder="",
)
if st.button("保存权限", type="primary", key="perm-save"):
    cells = {(name, a): bool(edited.loc[name, ACTION_LABELS[a]]) for name in rows for a in ACTIONS}
    changed = save_role_rights(db, actor, role, cells, personal)
    st.success(f"已保存「{role}」的权限：改动 {changed} 项。该角色的用户下次操作即按新权限。")
