"""The app's entry file: a router over the pages in pages/, built from the page table and the
register catalog (app/ui/nav.py).

Without a signed-in user the only page is the login page; a user who must change their
password gets only that page; each role's menu starts with its working set.
"""

from pathlib import Path

import streamlit as st

from app.sync.nocodb import schedule_in_app
from app.ui import nav, session, uploader_text
from app.ui.search_box import search_box

# The icon is a file of ours: a material icon would be fetched from the internet for the tab.
st.set_page_config(page_title="物业台账", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
                   layout="wide")
uploader_text.inject()

who = session.signed_in()
session.sync_cookie()
if who is None:
    st.navigation(nav.login_pages(), position="hidden").run()
    st.stop()
if who.must_change_password:
    st.navigation([nav.password_page()], position="hidden").run()
    st.stop()

schedule_in_app(session.db())  # the scheduled NocoDB pull: once per process, when NocoDB is configured
menu = nav.build(who.actor)
page = st.navigation(menu, position="hidden")
st.session_state[session.CURRENT_PAGE] = page.url_path
nav.page_finder(menu)
search_box()
nav.sidebar_menu(menu, page)
with st.sidebar:
    st.caption(f"操作人：{who.name}（{who.role}）")
    left, right = st.columns(2)
    left.page_link(nav.page_for("password"), label="修改密码", icon=":material/key:")
    if right.button("退出登录", icon=":material/logout:", key="logout"):
        session.forget()
        st.rerun()
page.run()
