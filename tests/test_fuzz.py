"""Hypothesis-generated edits and import rows against the save path (DuckDB in memory).

Properties, over 1,000 generated cases (deterministic: `derandomize=True`):
* no exception other than the save path's refusal (SaveRejected / ImportRejected) escapes
  `apply_changes` or the import;
* a refusal names, for every problem, the row and the column, in a Chinese message, and
  changes nothing;
* nothing invalid is stored: every accepted row, read back, passes every field rule;
* afterwards the database holds exactly the saved changes (each row as read back when it was
  saved), and the cases were mixed: some saved, some refused.
Each test runs its cases on its own in-memory database and checks its figures itself.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import registers
from app.access.permissions import Actor
from app.exchange import importer
from app.registers.validation import check
from app.saving.changes import RowChange, SaveRejected, apply_changes
from app.storage.db import open_database

EDIT_CASES = 600
IMPORT_CASES = 400
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ACTOR = Actor("模糊测试", source="任务")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def mem():
    from app.settings import ensure_defaults

    db = open_database(":memory:")
    ensure_defaults(db, ACTOR)
    c = apply_changes(db, ACTOR, "communities", [RowChange("insert", values={"name": "甲苑"})]).inserted[0]
    h = apply_changes(db, ACTOR, "households", [RowChange("insert", values={
        "community_id": c, "code": "1-101", "area": "80", "usage": "住宅", "status": "已入住"})]).inserted[0]
    yield {"db": db, "community": c, "household": h}
    db.close()


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


def stored_rows(db, register: str) -> dict[int, dict]:
    """Every row of a register's table, by id."""
    res = db.cursor().execute("SELECT * FROM " + registers.get(register).name + " ORDER BY id")
    names = [d[0] for d in res.description]
    return {row[0]: dict(zip(names, row)) for row in res.fetchall()}


def assert_chinese(message: str) -> None:
    assert CHINESE.search(message or ""), f"refusal without a Chinese message: {message!r}"


def assert_valid(db, register: str, row_id: int) -> None:
    reg = registers.get(register)
    row = stored_row(db, register, row_id)
    for f in reg.fields:
        value = row[f.name]
        assert check(f, value) is None, f"stored invalid {f.name}={value!r}"
        if isinstance(value, float):
            assert math.isfinite(value)


def assert_names_row_and_column(err: SaveRejected, register: str, figures: Counter) -> None:
    labels = {f.label for f in registers.get(register).fields} | {"编号"}
    assert err.problems
    for p in err.problems:
        figures["problems"] += 1
        assert p.row, p
        assert p.column in labels, f"problem without its column: {p}"
        assert_chinese(p.message)


edits = st.one_of(
    st.tuples(st.just("households"), st.just("insert"), st.just(None)),
    st.tuples(st.just("households"), st.just("update"), st.just("household")),
    st.tuples(st.just("owners"), st.just("insert"), st.just(None)),
)


def test_generated_edits(mem):
    db = mem["db"]
    figures = Counter()
    # what the database must hold afterwards: each row as read back when it was last saved
    expected = {"households": stored_rows(db, "households"), "owners": stored_rows(db, "owners")}

    @settings(max_examples=EDIT_CASES, **SETTINGS)
    @given(data=st.data(), kind=edits)
    def case(data, kind):
        register, action, target = kind
        fixed = {"owners": {"household_id": mem["household"]}}.get(register, {})
        if register == "households" and action == "insert":
            fixed = {"community_id": mem["community"]}
        values = data.draw(field_values(register, fixed if action == "insert" else {}))
        if isinstance(values.get("code"), str) and action == "insert":  # 房号 is unique per community
            values["code"] = f"{figures['edits']}-{values['code']}"
        row_id = mem[target] if target else None
        figures["edits"] += 1
        try:
            result = apply_changes(db, ACTOR, register, [RowChange(action, row_id=row_id, values=values)])
        except SaveRejected as err:
            figures["edit_refused"] += 1
            assert_names_row_and_column(err, register, figures)
            assert stored_rows(db, register) == expected[register]  # refused: nothing changed
            return
        figures["edit_saved"] += 1
        for saved in result.inserted + result.updated:
            assert_valid(db, register, saved)
            expected[register][saved] = stored_row(db, register, saved)

    case()
    print(f"\nfuzz: {figures['edits']} edit cases ({figures['edit_saved']} saved, "
          f"{figures['edit_refused']} refused), {figures['problems']} problems, each naming row and column")
    assert figures["edits"] >= EDIT_CASES
    # both sides of the save path were exercised (about half each; measured 2026-12)
    assert figures["edit_saved"] >= EDIT_CASES // 10 and figures["edit_refused"] >= EDIT_CASES // 10, figures
    assert figures["problems"] >= figures["edit_refused"]
    for register, rows in expected.items():
        assert stored_rows(db, register) == rows, f"{register} differs from the saved changes"


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


def test_generated_import_rows(mem):
    db = mem["db"]
    figures = Counter()
    expected = stored_rows(db, "households")

    @settings(max_examples=IMPORT_CASES, **SETTINGS)
    @given(rows=st.lists(csv_rows, min_size=1, max_size=6))
    def case(rows):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i, row in enumerate(rows):  # 房号 is unique per community: make it new, mostly
            if row[1] and i % 3 != 2:
                row[1] = f"{figures['imports']}-{i}-{row[1]}"
        writer.writerows(rows)
        data = out.getvalue().encode("utf-8")
        figures["imports"] += 1
        try:
            result = importer.import_file(db, ACTOR, "households", data, file_name="随机.csv")
        except importer.ImportRejected as err:
            figures["import_refused"] += 1
            assert stored_rows(db, "households") == expected  # nothing imported
            for p in err.problems:
                figures["problems"] += 1
                assert_chinese(p.message)
                if p.row == "随机.csv":  # about the file as a whole: only "no data rows" can be
                    assert "没有可导入的数据行" in p.message, p
                    continue
                assert p.row.startswith("CSV 第 ") and p.row.endswith(" 行"), p
                assert p.column in HEADER, f"problem without its column: {p}"
            return
        except importer.ImportRefused as err:  # a file that cannot be read at all says so
            figures["import_refused"] += 1
            assert_chinese(str(err))
            assert stored_rows(db, "households") == expected
            return
        figures["import_saved"] += 1
        for row_id in result.saved.inserted + result.saved.updated if result.saved else []:
            assert_valid(db, "households", row_id)
            expected[row_id] = stored_row(db, "households", row_id)

    case()
    print(f"\nfuzz: {figures['imports']} import cases ({figures['import_saved']} imported, "
          f"{figures['import_refused']} refused), {figures['problems']} problems, each naming row and column")
    assert figures["imports"] >= IMPORT_CASES
    assert figures["import_saved"] >= IMPORT_CASES // 10 and figures["import_refused"] >= IMPORT_CASES // 10, figures
    assert stored_rows(db, "households") == expected, "households differ from the imported rows"


def test_figures_add_up():
    assert EDIT_CASES + IMPORT_CASES >= 1000
