"""Sign in: the only page there is without a signed-in user."""

import streamlit as st

from app.auth import LoginFailed, sign_in
from app.ui import session

st.title("物业台账")
st.caption("请用管理员为您开设的用户名和密码登录。连续输错多次会锁定账号。")
with st.form("login", border=True, width=420):
    name = st.text_input("用户名", key="login-name")
    password = st.text_input("密码", type="password", key="login-password")
    submitted = st.form_submit_button("登录", type="primary", icon=":material/login:")
if submitted:
    try:
        signed = sign_in(session.db(), name, password)
    except LoginFailed as err:
        st.error(str(err))
    else:
        session.remember(signed)
        st.rerun()
