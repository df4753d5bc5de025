"""The app's entry file: a router over the pages in pages/, built from the register catalog.

Without a signed-in user the only page is the login page; a user who must change their
password gets only that page; administrators also get the user, permission and audit pages.
"""

import streamlit as st

from app.ui import nav, session
from app.ui.search_box import search_box

st.set_page_config(page_title="物业台账", page_icon=":material/apartment:", layout="wide")

who = session.signed_in()
session.sync_cookie()
if who is None:
    st.navigation(nav.login_pages(), position="hidden").run()
    st.stop()
if who.must_change_password:
    st.navigation([nav.password_page()], position="hidden").run()
    st.stop()

pages = nav.build(who.actor)
pages.setdefault("系统", []).append(nav.password_page())
page = st.navigation(pages)
st.session_state[session.CURRENT_PAGE] = page.url_path
search_box()
with st.sidebar:
    st.caption(f"操作人：{who.name}（{who.role}）")
    left, right = st.columns(2)
    left.page_link(nav.password_page(), label="修改密码", icon=":material/key:")
    if right.button("退出登录", icon=":material/logout:", key="logout"):
        session.forget()
        st.rerun()
page.run()
