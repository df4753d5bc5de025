"""Conventions of sql/ held by tests (issue 22, item 7): read from the files, no database.

* every register a to-do row points at (`ref_table` in v_todo and its parts) is a register, and
  every to-do area is an area of the register catalog (the home page groups by it);
* every setting a view or macro reads exists in app/settings_defaults.toml, and a fallback
  written in SQL (`coalesce(setting_…('key', …), literal)`) equals the default;
* every default is read somewhere (by SQL or by the Python of app/);
* every view of sql/views is named by a test (the view, or a macro its file defines).
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from app import registers

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ROOT / "sql" / "views"
TODO_FILES = sorted(VIEWS.glob("v_todo*.sql"))


def _code(path: Path) -> str:
    """A SQL file without its comments (the header names registers and settings in prose)."""
    return re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))


def _defaults() -> dict[str, str]:
    with open(ROOT / "app" / "settings_defaults.toml", "rb") as f:
        return {s["key"]: s["value"] for s in tomllib.load(f)["setting"]}


SQL_CODE = "\n".join(_code(p) for p in sorted((ROOT / "sql").rglob("*.sql")))
# setting_int('fire.scrap_years.' || type, …) reads every key under a prefix
SETTINGS_READ = set(re.findall(r"setting_\w+\(\s*'([^']+)'", SQL_CODE))


# -- to-do rows point at registers, in known areas ----------------------------------------------
def test_the_todo_files_are_found():
    assert {p.stem for p in TODO_FILES} >= {"v_todo", "v_todo_service", "v_todo_fees", "v_todo_checks"}


@pytest.mark.parametrize("path", TODO_FILES, ids=lambda p: p.stem)
def test_every_table_a_todo_row_names_is_a_register(path):
    # identifiers in quotes are table names there: ref_table values and source_table comparisons
    named = set(re.findall(r"'([a-z][a-z0-9_]*)'", _code(path)))
    assert named, f"{path.name}: no ref_table found"
    assert named <= set(registers.catalog()), f"{path.name}: not registers: {named - set(registers.catalog())}"


def _areas(code: str) -> set[str]:
    """The literals in the area column: named `AS area`, or, in files whose branches list
    (community_id, area, what, …), the literal right after community_id."""
    areas = set(re.findall(r"'([^']+)'\s+AS\s+area\b", code))
    if re.search(r"\bAS\s+what\b", code):
        areas |= set(re.findall(r"SELECT\s+(?:\w+\.)?community_id,\s*'([^']+)'", code))
    return areas


@pytest.mark.parametrize("path", TODO_FILES, ids=lambda p: p.stem)
def test_every_todo_area_is_an_area_of_the_catalog(path):
    areas = _areas(_code(path))
    known = set(registers.by_area())
    assert areas, f"{path.name}: no area found"
    assert areas <= known, f"{path.name}: unknown areas {areas - known}"


def test_the_area_check_sees_every_area_of_the_todo():
    """The patterns above find the areas of the whole list (not a vacuous pass)."""
    areas = set().union(*(_areas(_code(p)) for p in TODO_FILES))
    assert {"设备与消防", "合同与工程", "采购与库存", "档案与公文", "检查与整改", "装修与停车",
            "小区与房屋", "收费管理", "维修与投诉", "调查与文化"} <= areas


# -- settings read by views exist, fallbacks equal the defaults, no default unused ---------------
def test_every_setting_sql_reads_has_a_default():
    defaults = _defaults()
    missing = {k for k in SETTINGS_READ
               if not (any(d.startswith(k) for d in defaults) if k.endswith(".") else k in defaults)}
    assert not missing


def _same(literal: str, default: str) -> bool:
    literal = literal.strip()
    if literal.startswith("'"):
        return literal.strip("'") == default
    return Decimal(literal) == Decimal(default)


def test_every_fallback_in_sql_equals_the_default():
    defaults = _defaults()
    fallbacks = re.findall(r"coalesce\(\s*setting_\w+\('([^']+)'\s*,[^()]*\)\s*,\s*([^()]+?)\)", SQL_CODE,
                           flags=re.IGNORECASE)
    assert len(fallbacks) >= 10  # the pattern finds them (fee, parking, fund, security …)
    wrong = {(k, lit, defaults.get(k)) for k, lit in fallbacks if k not in defaults or not _same(lit, defaults[k])}
    assert not wrong


def test_no_default_is_unused():
    python = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "app").rglob("*.py")))
    prefixes = [k for k in SETTINGS_READ if k.endswith(".")]

    def read(key: str) -> bool:
        return (key in SETTINGS_READ or any(key.startswith(p) for p in prefixes)
                or f'"{key}"' in python or f"'{key}'" in python)

    assert not [k for k in _defaults() if not read(k)]


# -- every view has a test that names it -------------------------------------------------------
def test_every_view_is_named_by_a_test():
    tests = "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parent.glob("test_*.py"))
                      if p.name != Path(__file__).name)
    untested = []
    for path in sorted(VIEWS.glob("*.sql")):
        names = {path.stem, *re.findall(r"MACRO\s+(\w+)", path.read_text(encoding="utf-8"))}
        if not any(re.search(r"\b" + name + r"\b", tests) for name in names):
            untested.append(path.stem)
    assert not untested


# -- which 小区 an actor sees is answered in one place -----------------------------------------
def test_only_app_scope_turns_an_actors_communities_into_rows_or_sql():
    """app/access/scope.py builds the filter (as SQL) and the picker (as rows); no copy elsewhere."""
    by_hand = re.compile(r"(in_list|isin|unnest)\(.*\.communities\b|def communities\(|def _?scope\(")
    found = []
    for path in sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "pages").glob("*.py")]):
        if path.relative_to(ROOT).as_posix() == "app/access/scope.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if by_hand.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found
