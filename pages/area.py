"""An area's overview: its registers, how many rows each holds, and links to them."""

import streamlit as st

from app import registers
from app.reading.queries import register_counts
from app.ui import nav, session

slug = session.current_page()
area = next(a for a in registers.by_area() if registers.area_slug(a) == slug)
regs = registers.by_area()[area]
st.title(area)
counts = register_counts(session.db(), session.actor(), [r.name for r in regs])
cols = st.columns(3)
for n, reg in enumerate(regs):
    with cols[n % 3].container(border=True):
        st.page_link(nav.page_for(reg.name), label=f"**{reg.label}**", icon=":material/table:")
        st.metric("记录数", f"{counts[reg.name]:,}")
        st.caption(reg.description or " ")
