"""The catalog of registers: one TOML definition per register in `definitions/`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.registers.model import Field, Register, load_definition

DEFINITIONS = Path(__file__).parent / "definitions"

__all__ = ["Field", "Register", "catalog", "get", "AREA_ORDER"]

# The order areas appear in navigation; areas not listed come after, alphabetically.
AREA_ORDER = [
    "小区与房屋",
    "人员与组织",
    "收费管理",
    "维修与投诉",
    "检查与整改",
    "设备与消防",
    "合同与工程",
    "档案与公文",
    "采购与库存",
    "装修与停车",
    "调查与文化",
    "系统",
]


@lru_cache(maxsize=1)
def catalog() -> dict[str, Register]:
    regs = [load_definition(p) for p in sorted(DEFINITIONS.glob("*.toml"))]
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
