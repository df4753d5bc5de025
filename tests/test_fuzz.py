"""Hypothesis-generated edits and import rows against the save path (DuckDB in memory).

Properties, over 1,000 generated cases (deterministic: `derandomize=True`):
* no exception other than the save path's refusal (SaveRejected / ImportRejected) escapes
  `apply_changes` or the import;
* a refusal names, for every problem, the row and the column;
* nothing invalid is stored: every accepted row, read back, passes every field rule.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import importer, registers
from app.changes import RowChange, SaveRejected, apply_changes
from app.db import open_database
from app.permissions import Actor
from app.validation import check

EDIT_CASES = 600
IMPORT_CASES = 400
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ACTOR = Actor("模糊测试", source="任务")
FIGURES = {"edits": 0, "edit_saved": 0, "edit_refused": 0, "imports": 0, "import_saved": 0,
           "import_refused": 0, "problems": 0}


@pytest.fixture(scope="module")
def mem():
    from app.settings import ensure_defaults

    db = open_database(":memory:")
    ensure_defaults(db, ACTOR)
    c = apply_changes(db, ACTOR, "communities", [RowChange("insert", values={"name": "甲苑"})]).inserted[0]
    h = apply_changes(db, ACTOR, "households", [RowChange("insert", values={
        "community_id": c, "code": "1-101", "area": "80", "usage": "住宅", "status": "已入住"})]).inserted[0]
    yield {"db": db, "community": c, "household": h}
    db.close()
    print(f"\nfuzz: {FIGURES['edits']} edit cases ({FIGURES['edit_saved']} saved, {FIGURES['edit_refused']} "
          f"refused), {FIGURES['imports']} import cases ({FIGURES['import_saved']} imported, "
          f"{FIGURES['import_refused']} refused), {FIGURES['problems']} problems, each naming row and column")


# Cells as they come from a grid, a script or a sync: right, wrong and odd.
texts = st.text(max_size=30)
numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                    st.decimals(allow_nan=False, allow_infinity=False, places=3).filter(lambda d: abs(d) < 10**12))
number_texts = st.from_regex(r"-?[0-9]{0,9}(\.[0-9]{0,4})?", fullmatch=True)
date_texts = st.one_of(st.dates().map(str), st.from_regex(r"(19|20)[0-9]{2}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?",
                                                         fullmatch=True))
cells = st.one_of(st.none(), texts, numbers, number_texts, date_texts, st.dates(), st.booleans(),
                  st.datetimes(min_value=datetime(1900, 1, 1)))


def mostly(good: st.SearchStrategy, odd: st.SearchStrategy, times: int) -> st.SearchStrategy:
    """`good` `times` times as often as `odd`."""
    return st.integers(0, times).flatmap(lambda k: odd if k == 0 else good)


def plausible(f) -> st.SearchStrategy:
    """Values a clerk would type for this field (most of them valid)."""
    if f.type == "enum":
        return st.sampled_from(list(f.values))
    if f.pattern:
        return st.from_regex(f.pattern, fullmatch=True)
    if f.scale is not None:
        return st.decimals(min_value=1, max_value=10 ** (f.precision - f.scale) - 1, places=f.scale,
                           allow_nan=False, allow_infinity=False).map(str)
    if f.type == "date":
        return st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))
    if f.type == "phone":
        return st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
    if f.type == "boolean":
        return st.booleans()
    if f.type in ("integer",):
        return st.integers(0, 10**6)
    if f.type == "ref":
        return st.just(1)
    return st.text(min_size=1, max_size=12).filter(str.strip)


def field_values(register: str, fixed: dict) -> st.SearchStrategy[dict]:
    """Most fields plausible, some cells anything at all."""
    reg = registers.get(register)
    per_field = {f.name: mostly(plausible(f), cells, 6)
                 for f in reg.fields if f.name not in fixed and f.name != "building_id"}
    needed = {n: v for n, v in per_field.items() if reg.field(n).required}
    optional = {n: v for n, v in per_field.items() if n not in needed}
    return st.fixed_dictionaries(needed, optional=optional).map(lambda v: {**v, **fixed})


def stored_row(db, register: str, row_id: int) -> dict:
    res = db.cursor().execute("SELECT * FROM " + registers.get(register).name + " WHERE id = ?", [row_id])
    names = [d[0] for d in res.description]
    return dict(zip(names, res.fetchone()))


def assert_valid(db, register: str, row_id: int) -> None:
    reg = registers.get(register)
    row = stored_row(db, register, row_id)
    for f in reg.fields:
        value = row[f.name]
        assert check(f, value) is None, f"stored invalid {f.name}={value!r}"
        if isinstance(value, float):
            assert math.isfinite(value)


def assert_names_row_and_column(err: SaveRejected, register: str) -> None:
    labels = {f.label for f in registers.get(register).fields} | {"编号"}
    assert err.problems
    for p in err.problems:
        FIGURES["problems"] += 1
        assert p.row, p
        assert p.column in labels, f"problem without its column: {p}"
        assert p.message


edits = st.one_of(
    st.tuples(st.just("households"), st.just("insert"), st.just(None)),
    st.tuples(st.just("households"), st.just("update"), st.just("household")),
    st.tuples(st.just("owners"), st.just("insert"), st.just(None)),
)


@settings(max_examples=EDIT_CASES, **SETTINGS)
@given(data=st.data(), kind=edits)
def test_generated_edits(mem, data, kind):
    db = mem["db"]
    register, action, target = kind
    fixed = {"owners": {"household_id": mem["household"]}}.get(register, {})
    if register == "households" and action == "insert":
        fixed = {"community_id": mem["community"]}
    values = data.draw(field_values(register, fixed if action == "insert" else {}))
    if isinstance(values.get("code"), str) and action == "insert":  # 房号 is unique per community
        values["code"] = f"{FIGURES['edits']}-{values['code']}"
    row_id = mem[target] if target else None
    FIGURES["edits"] += 1
    try:
        result = apply_changes(db, ACTOR, register, [RowChange(action, row_id=row_id, values=values)])
    except SaveRejected as err:
        FIGURES["edit_refused"] += 1
        assert_names_row_and_column(err, register)
        return
    FIGURES["edit_saved"] += 1
    for saved in result.inserted + result.updated:
        assert_valid(db, register, saved)


HEADER = ["小区", "房号", "建筑面积(㎡)", "用途", "状态", "交房日期", "备注"]
odd_cells = st.one_of(st.just(""), st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20),
                      number_texts, date_texts, st.sampled_from(["乙苑", "=1+1", "0012", "1e5", "-3", "空"]))
column_cells = [
    st.just("甲苑"),
    st.from_regex(r"[0-9]{1,2}-[0-9]{1,2}-[0-9]{3,4}", fullmatch=True),
    st.decimals(min_value=1, max_value=9999, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["住宅", "商铺", "车库", "其他"]),
    st.sampled_from(["已入住", "空置", "装修中", "出租"]),
    st.one_of(st.just(""), st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)).map(str)),
    st.text(max_size=10),
]
csv_rows = st.tuples(*(mostly(c, odd_cells, 12) for c in column_cells)).map(list)


@settings(max_examples=IMPORT_CASES, **SETTINGS)
@given(rows=st.lists(csv_rows, min_size=1, max_size=6))
def test_generated_import_rows(mem, rows):
    db = mem["db"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i, row in enumerate(rows):  # 房号 is unique per community: make it new, mostly
        if row[1] and i % 3 != 2:
            row[1] = f"{FIGURES['imports']}-{i}-{row[1]}"
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    before = db.scalar("SELECT max(id) FROM households")
    FIGURES["imports"] += 1
    try:
        result = importer.import_file(db, ACTOR, "households", data, file_name="随机.csv")
    except importer.ImportRejected as err:
        FIGURES["import_refused"] += 1
        assert db.scalar("SELECT max(id) FROM households") == before  # nothing imported
        for p in err.problems:
            FIGURES["problems"] += 1
            if p.row == "随机.csv":  # about the file as a whole: only "no data rows" can be
                assert "没有可导入的数据行" in p.message, p
                continue
            assert p.row.startswith("CSV 第 ") and p.row.endswith(" 行"), p
            assert p.column in HEADER, f"problem without its column: {p}"
        return
    except importer.ImportRefused as err:  # a file that cannot be read at all says so
        FIGURES["import_refused"] += 1
        assert str(err)
        return
    FIGURES["import_saved"] += 1
    for row_id in result.saved.inserted if result.saved else []:
        assert_valid(db, "households", row_id)


def test_figures_add_up():
    assert EDIT_CASES + IMPORT_CASES >= 1000
