"""Navigation built from the register catalog: areas, their registers, and the fixed pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import registers

PAGES = Path(__file__).resolve().parents[2] / "pages"
_pages: dict[str, st.Page] = {}


def build() -> dict[str, list[st.Page]]:
    def page(file: str, title: str, url_path: str | None, icon: str, **kw) -> st.Page:
        p = st.Page(PAGES / file, title=title, url_path=url_path, icon=icon, **kw)
        _pages[url_path or ""] = p
        return p

    navigation = {"概览": [page("home.py", "首页", None, ":material/home:", default=True)]}
    for area, regs in registers.by_area().items():
        navigation[area] = [
            page("area.py", f"{area}总览", registers.area_slug(area), ":material/folder_open:"),
            *(page("register.py", r.label, r.name, ":material/table:") for r in regs),
        ]
    tools = [("rules.py", "规则视图", "rules", ":material/rule:"),
             ("settings.py", "规则参数", "rule-settings", ":material/tune:"),
             ("import.py", "Excel 导入", "import", ":material/upload_file:"),
             ("analysis.py", "查询与图表", "analysis", ":material/query_stats:")]
    navigation.setdefault("系统", []).extend(
        page(file, title, url, icon) for file, title, url, icon in tools if (PAGES / file).exists()
    )
    return navigation


def page_for(url_path: str) -> st.Page:
    """The page object of a register or area, for st.page_link."""
    if not _pages:
        build()
    return _pages[url_path]
