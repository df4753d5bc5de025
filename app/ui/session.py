"""Per-process database and per-session actor for the Streamlit pages."""

from __future__ import annotations

import streamlit as st

from app.db import Database, DatabaseBusy, database_url, open_database
from app.permissions import Actor

CURRENT_PAGE = "_wuye_page"


@st.cache_resource(show_spinner=False)
def _database(url: str) -> Database:
    return open_database(url)


def db() -> Database:
    try:
        return _database(database_url())
    except DatabaseBusy as err:
        st.error(str(err))
        st.stop()


def actor() -> Actor:
    # Login arrives with the roles issue; until then the office user is recorded as 管理员.
    return Actor(user=st.session_state.get("_wuye_user", "管理员"),
                 role=st.session_state.get("_wuye_role", "管理员"))


def current_page() -> str:
    return st.session_state.get(CURRENT_PAGE, "")
