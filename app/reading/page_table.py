"""The page table (app/navigation.toml) and the links into it, below the UI.

Services that hand out links (the to-do list) read the link format here; app/ui/nav.py builds
the Streamlit menu from the same table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "navigation.toml"  # app/navigation.toml


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
