"""The catalog of registers: one TOML definition per register in `definitions/`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from app.registers.custom import build
from app.registers.model import Field, Register, load_definition  # noqa: F401  (kept for callers)

DEFINITIONS = Path(__file__).parent / "definitions"

__all__ = ["Field", "Register", "catalog", "get", "by_area", "area_slug", "AREAS"]

# Areas in navigation order, with the URL slug of each area's overview page.
AREAS = {
    "小区与房屋": "estate",
    "人员与组织": "people",
    "收费管理": "fees",
    "维修与投诉": "service",
    "检查与整改": "inspection",
    "设备与消防": "facilities",
    "合同与工程": "contracts",
    "档案与公文": "archives",
    "采购与库存": "stock",
    "装修与停车": "decoration",
    "调查与文化": "community",
    "系统": "system",
}
AREA_ORDER = list(AREAS)


def by_area() -> dict[str, list[Register]]:
    """Registers grouped by area, areas in navigation order, registers by position."""
    groups: dict[str, list[Register]] = {}
    for reg in catalog().values():
        groups.setdefault(reg.area, []).append(reg)
    for regs in groups.values():
        regs.sort(key=lambda r: (r.position, r.name))
    order = {a: i for i, a in enumerate(AREA_ORDER)}
    return dict(sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def area_slug(area: str) -> str:
    """URL path of an area's overview page; prefixed so it never equals a register's name."""
    return "area-" + (AREAS.get(area) or hashlib.sha1(area.encode()).hexdigest()[:8])


# Definitions of the open database (issue 12, app/registers/custom.py): name -> (kind, TOML text).
_stored: dict[str, tuple[str, str]] = {}
_on_change: list[Callable[[], None]] = []  # caches worked out from the catalog (role defaults)


def on_change(forget: Callable[[], None]) -> None:
    """Have `forget` called whenever the catalog changes (a cache worked out from it)."""
    _on_change.append(forget)


def load_custom(rows) -> bool:
    """Merge the database's own definitions (custom_definitions rows: name, kind, TOML) into the
    catalog; called when a database is opened or migrated. True when the catalog changed."""
    global _stored
    stored = {name: (kind, text) for name, kind, text in rows}
    if stored == _stored:
        return False
    _stored = stored
    catalog.cache_clear()
    for forget in _on_change:
        forget()
    return True


@lru_cache(maxsize=1)
def catalog() -> dict[str, Register]:
    regs = list(build(DEFINITIONS, _stored).values())
    found = {r.name: r for r in regs}
    for r in regs:
        for f in r.refs():
            if f.ref not in found:
                raise ValueError(f"{r.name}.{f.name} refers to unknown register {f.ref}")
    return found


def get(name: str) -> Register:
    try:
        return catalog()[name]
    except KeyError:
        raise KeyError(f"没有名为 {name} 的台账") from None


def creation_order() -> list[Register]:
    """Registers ordered so that each comes after the registers it refers to."""
    regs = catalog()
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for f in regs[name].refs():
            visit(f.ref, (*path, name))
        done.append(name)

    for name in sorted(regs):
        visit(name, ())
    return [regs[n] for n in done]
