"""The menu, built from the page table (app/navigation.toml) and the register catalog.

Each register sits under its area after the area's desks; a role's working set comes first,
under 「常用」; raw data registers and system pages sit together at the end. The sidebar draws
the menu itself, a fold per section (「常用」 and the current page's section open), so nothing
hides behind Streamlit's "View N more" and the sidebar stays short; the page finder
(「跳转到…」) at its top reaches any page by name.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import streamlit as st

from app import registers
from app.access.permissions import ADMIN, Actor

PAGES = Path(__file__).resolve().parents[2] / "pages"
TABLE = Path(__file__).resolve().parents[1] / "navigation.toml"
_pages: dict[str, st.Page] = {}


@dataclass(frozen=True)
class PageEntry:
    file: str
    title: str
    url: str
    icon: str
    section: str
    roles: tuple[str, ...] = ()  # empty: every role

    def shown_to(self, role: str) -> bool:
        return not self.roles or role in self.roles


@lru_cache(maxsize=1)
def table() -> dict:
    """The page table as read from navigation.toml."""
    with open(TABLE, "rb") as f:
        data = tomllib.load(f)
    data["pages"] = [PageEntry(**{**p, "roles": tuple(p.get("roles", ()))}) for p in data["pages"]]
    return data


def entries(role: str) -> list[PageEntry]:
    """Every menu entry a role has, registers included, in catalog order within each section."""
    data = table()
    hidden = set(data["register_pages"])
    data_regs = set(data["data_registers"])
    fixed = [p for p in data["pages"] if p.shown_to(role)]
    out = [p for p in fixed if p.section in data["first_sections"]]
    for area, regs in registers.by_area().items():
        out += [p for p in fixed if p.section == area]
        section = "数据与系统" if area == "系统" else area
        out.append(PageEntry("area.py", f"{area}总览", registers.area_slug(area), ":material/folder_open:", section))
        out += [PageEntry("register.py", r.label, r.name, ":material/table:",
                          "数据与系统" if r.name in data_regs else section)
                for r in regs if r.name not in hidden]
    known = set(data["first_sections"]) | set(data["last_sections"]) | set(registers.by_area())
    out += [p for p in fixed if p.section not in known]  # a section named only in the table
    out += [p for p in fixed if p.section in data["last_sections"]]
    return out


def working_set(role: str) -> list[str]:
    return table()["working_sets"].get(role, [])


def _page(entry: PageEntry) -> st.Page:
    page = st.Page(PAGES / entry.file, title=entry.title, url_path=entry.url or None, icon=entry.icon,
                   default=entry.url == "")
    _pages[entry.url] = page
    return page


def menu(role: str) -> dict[str, list[PageEntry]]:
    """A role's menu as entries: sections in order, 「常用」 (home and the working set) first."""
    listed = entries(role)
    first = {url: i for i, url in enumerate(working_set(role))}
    sections: dict[str, list[PageEntry]] = {"常用": [e for e in listed if e.url == ""]}
    sections["常用"] += sorted((e for e in listed if e.url in first), key=lambda e: first[e.url])
    for e in listed:
        if e.url != "" and e.url not in first:
            sections.setdefault(e.section, []).append(e)
    return {section: items for section, items in sections.items() if items}


def build(actor: Actor | None = None) -> dict[str, list[st.Page]]:
    """The menu of an actor as Streamlit pages (the administrator's when there is no actor)."""
    role = actor.role if actor is not None else ADMIN
    pages = {section: [_page(e) for e in items] for section, items in menu(role).items()}
    for url, target in table()["register_pages"].items():
        if target in _pages:
            _pages[url] = _pages[target]
    return pages


def page_for(url_path: str) -> st.Page:
    """The page object of a register, an area or a desk, for st.page_link."""
    if url_path not in _pages:
        build()
    return _pages[table()["register_pages"].get(url_path, url_path)]


def record_url(register: str, area: str | None = None) -> str:
    """The url path of the page that opens one row of a register (it reads `?id=`)."""
    data = table()
    by_area = data.get("record_pages_by_area", {}).get(area or "", {})
    target = by_area.get(register) or data.get("record_pages", {}).get(register) or register
    return data["register_pages"].get(target, target)


def href(register: str, row_id: int | None, area: str | None = None) -> str:
    """A link (for a LinkColumn) that opens the row on its page, selected (no row: the register)."""
    if row_id is None:
        return "/" + table()["register_pages"].get(register, register)
    return f"/{record_url(register, area)}?id={int(row_id)}"


def record_page(register: str, area: str | None = None) -> st.Page:
    """The page object of record_url, for st.page_link(…, query_params={"id": …})."""
    return page_for(record_url(register, area))


FINDER = "page-finder"


def page_finder(menu: dict[str, list[st.Page]]) -> None:
    """「跳转到…」: any page of the menu by (part of) its name; the box empties once it has jumped."""
    choices = {f"{p.title}（{section}）": p for section, pages in menu.items() for p in pages}

    def picked() -> None:  # a callback may not switch pages: note the target, then empty the box
        st.session_state[FINDER + "-target"] = st.session_state[FINDER]
        st.session_state[FINDER] = None

    st.sidebar.selectbox("跳转到…", list(choices), index=None, key=FINDER, on_change=picked,
                         placeholder="页面名称，如 收银台")
    target = st.session_state.pop(FINDER + "-target", None)
    if target in choices:
        st.switch_page(choices[target])


def sidebar_menu(menu: dict[str, list[st.Page]], current: st.Page) -> None:
    """The menu in the sidebar: one fold per section, the working set and the current section open."""
    with st.sidebar:
        for section, pages in menu.items():
            here = any(p.url_path == current.url_path for p in pages)
            with st.expander(section, expanded=section == "常用" or here):
                for p in pages:
                    st.page_link(p)


def login_page() -> st.Page:
    """The only page there is without a signed-in user."""
    return st.Page(PAGES / "login.py", title="登录", icon=":material/login:", default=True)


def login_pages() -> list[st.Page]:
    """The login page, also under every page's address: a link to a page signs in, then opens it."""
    paths = [e.url for e in entries(ADMIN) if e.url]
    return [login_page(), *(st.Page(PAGES / "login.py", title="登录", url_path=path) for path in paths)]


def password_page() -> st.Page:
    """The password page alone, for a user who must change it before anything else."""
    entry = next(p for p in table()["pages"] if p.url == "password")
    return st.Page(PAGES / entry.file, title=entry.title, url_path=entry.url, icon=entry.icon)


HOME_FLASH = "home-flash"  # a message another page leaves for the home page (shown once)
