"""The generic register page: any register, from its definition alone."""

import streamlit as st

from app import registers
from app.ui import session
from app.ui.grid import register_grid

reg = registers.get(session.current_page())
st.title(reg.label)
if reg.description:
    st.caption(reg.description)
register_grid(session.db(), session.actor(), reg)
