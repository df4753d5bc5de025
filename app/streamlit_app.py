"""The app's entry file: a router over the pages in pages/, built from the register catalog."""

import streamlit as st

from app.ui import nav, session
from app.ui.search_box import search_box

st.set_page_config(page_title="物业台账", page_icon=":material/apartment:", layout="wide")

page = st.navigation(nav.build())
st.session_state[session.CURRENT_PAGE] = page.url_path
search_box()
st.sidebar.caption(f"操作人：{session.actor().user}（{session.actor().role}）")
page.run()
