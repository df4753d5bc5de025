"""Sign in: the only page there is without a signed-in user."""

import streamlit as st

from app.accounts.auth import LoginFailed, sign_in
from app.ui import session

PENDING = "_wuye_pending_sign_in"  # signed in, but failed attempts to tell about first

st.title("物业台账")
pending = st.session_state.get(PENDING)
if pending is not None:
    st.warning(f"自上次登录以来有 {pending.failed_attempts} 次失败的登录尝试。"
               "如果不是您本人输错，请告知管理员。")
    if st.button("知道了，继续", type="primary", key="login-continue"):
        session.remember(st.session_state.pop(PENDING))
        st.rerun()
    st.stop()
st.caption("请用管理员为您开设的用户名和密码登录。连续输错后须等待一段时间才能再试。")
with st.form("login", border=True, width=420):
    name = st.text_input("用户名", key="login-name")
    password = st.text_input("密码", type="password", key="login-password")
    submitted = st.form_submit_button("登录", type="primary", icon=":material/login:")
if submitted:
    try:
        signed = sign_in(session.db(), name, password, session.client_address())
    except LoginFailed as err:
        st.error(str(err))
    else:
        if signed.failed_attempts:
            st.session_state[PENDING] = signed
        else:
            session.remember(signed)
        st.rerun()
