"""Change one's own password (required after the first sign-in with a one-time password)."""

import streamlit as st

from app.accounts.auth import MIN_PASSWORD_LENGTH, PasswordRejected, change_password
from app.ui import nav, session

DONE = "password-changed"  # the message the home page shows once, after the change

who = session.signed_in()
session.actor()  # stops here without a signed-in user
if DONE in st.session_state and not who.must_change_password:
    # changed on the one-page menu of a forced change: now the whole menu exists, open the home page
    st.session_state[nav.HOME_FLASH] = st.session_state.pop(DONE)
    st.switch_page(nav.page_for(""))
st.title("修改密码")
if who.must_change_password:
    st.info("这是一次性密码或管理员重设的密码：请先设置您自己的新密码。")
with st.form("password", border=True, width=420):
    old = st.text_input("原密码", type="password", key="password-old")
    new = st.text_input(f"新密码（至少 {MIN_PASSWORD_LENGTH} 位，含字母和数字；不能包含用户名，不能是常见密码）",
                        type="password", key="password-new")
    again = st.text_input("再输一次新密码", type="password", key="password-again")
    submitted = st.form_submit_button("保存新密码", type="primary")
if submitted:
    if new != again:
        st.error("两次输入的新密码不一致")
    else:
        try:
            change_password(session.db(), who, old, new)
        except PasswordRejected as err:
            st.error(str(err))
        else:
            session.refresh()
            message = "密码已修改，其他设备上的登录已退出。"
            if who.must_change_password:
                st.session_state[DONE] = message
                st.rerun()  # the router builds the whole menu; this page then opens the home page
            st.session_state[nav.HOME_FLASH] = message
            st.switch_page(nav.page_for(""))
