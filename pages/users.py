"""Users (administrators only): add, change role and scope, disable, unlock, reset a password."""

import pandas as pd
import streamlit as st

from app.access.permissions import ROLES, PermissionDenied, require_admin
from app.accounts import auth
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("用户管理")
try:
    require_admin(actor, "管理用户")
except PermissionDenied as err:
    st.error(md(err))
    st.stop()
st.caption("密码只以不可逆的哈希保存；连续输错后须等待一段时间才能再试（在本人用过的电脑上不受别处输错的影响）。"
           "修改角色或可见小区后，该用户须重新登录。")

users = auth.list_users(db, actor)
frame = pd.DataFrame(users).rename(columns={
    "id": "编号", "name": "用户名", "role": "角色", "communities": "可见小区", "active": "可登录",
    "must_change_password": "须改密码", "last_login_at": "上次登录", "created_at": "创建时间",
    "failed_since_login": "上次登录以来输错", "wait_until": "新电脑须等待至"})
st.dataframe(frame, hide_index=True, width="stretch", key="users-grid", placeholder="")

failures = auth.recent_failures(db, actor)
with st.expander(f"最近失败的登录尝试（{len(failures)} 次）", icon=":material/gpp_maybe:"):
    st.dataframe(pd.DataFrame(failures, columns=["attempted_at", "name", "user_id", "client", "cleared_at"]).assign(
        user_id=lambda f: f["user_id"].map(lambda v: "是" if pd.notna(v) else "否（无此用户）")).rename(
        columns={"attempted_at": "时间", "name": "输入的用户名", "user_id": "用户存在", "client": "来自",
                 "cleared_at": "已清零"}), hide_index=True, width="stretch", key="users-failures", placeholder="")

communities = auth.community_names(db)

with st.expander("添加用户", icon=":material/person_add:"), st.form("user-add"):
    name = st.text_input("用户名", key="user-add-name")
    role = st.selectbox("角色", list(ROLES), key="user-add-role", placeholder="选择角色",
                        format_func=lambda r: f"{r}：{ROLES[r].description}")
    scope = st.multiselect("可见小区（不选：全部）", list(communities), format_func=communities.get,
                           key="user-add-scope", placeholder="全部小区")
    password = st.text_input("初始密码（用户首次登录后须修改）", type="password", key="user-add-password")
    if st.form_submit_button("添加", type="primary"):
        try:
            auth.add_user(db, actor, name, password, role, tuple(scope) or None, must_change_password=True)
            st.success(f"已添加 {md(name)}")
            st.rerun()
        except (ValueError, auth.PasswordRejected) as err:
            st.error(md(err))

if users:
    st.subheader("修改用户")
    by_id = {u["id"]: u for u in users}
    uid = st.selectbox("用户", list(by_id), format_func=lambda i: f"{by_id[i]['name']}（{by_id[i]['role']}）",
                       key="user-edit", placeholder="请选择")
    user = by_id[uid]
    current = auth.parse_communities(user["communities"]) or ()
    with st.form("user-edit-form"):
        role = st.selectbox("角色", list(ROLES), index=list(ROLES).index(user["role"]), key="user-edit-role", placeholder="请选择")
        scope = st.multiselect("可见小区（不选：全部）", list(communities), format_func=communities.get,
                               default=[c for c in current if c in communities], key="user-edit-scope", placeholder="请选择（可多选）")
        active = st.checkbox("可以登录", value=bool(user["active"]), key="user-edit-active")
        if st.form_submit_button("保存"):
            try:
                auth.update_user(db, actor, uid, role=role, communities=tuple(scope) or None, active=active)
                st.success("已保存")
                st.rerun()
            except ValueError as err:
                st.error(md(err))
    c1, c2 = st.columns(2)
    if c1.button("解除登录限制", key="user-unlock", help="把此用户输错密码的计数清零，不必等待即可再试"):
        auth.unlock_user(db, actor, uid)
        st.success(f"已解除 {user['name']} 的登录限制")
    with c2.popover("重设密码"):
        new = st.text_input("新密码（用户下次登录须修改）", type="password", key="user-reset-password")
        if st.button("重设", key="user-reset"):
            try:
                auth.reset_password(db, actor, uid, new)
                st.success("已重设")
            except auth.PasswordRejected as err:
                st.error(md(err))
