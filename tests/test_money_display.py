"""Money as ¥12,345.60, empty cells blank and important columns first (issue #21 items 5 and 6).

The register page runs under AppTest; what the grid and the record panel are given is read from
the elements Streamlit would send to the browser (column config, placeholder, data).
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from apptest import app_test

from app import registers
from app.access.permissions import Actor
from app.registers.model import MONEY_FORMAT, money_text
from app.saving.changes import RowChange, apply_changes
from app.settings import ensure_defaults
from app.storage.db import open_database
from app.ui.grid import Snapshot, changes_from_editor, display_frame

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = {"contract_no": "HT-2026-01", "title": "保洁分包", "community_id": 1, "kind": "分包",
            "counterparty": "杭州洁美保洁", "start_on": "2026-01-01", "end_on": "2026-12-31",
            "amount": "1234567.5"}  # no vendor, no 经办人, no 备注, no 月租


def add(db, actor, register, **values) -> int:
    return apply_changes(db, actor, register, [RowChange("insert", values=values)]).inserted[0]


@pytest.mark.parametrize("value, shown", [
    (Decimal("12345.6"), "¥12,345.60"), (Decimal("0"), "¥0.00"), (Decimal("999.995"), "¥1,000.00"),
    (Decimal("-1234567.891"), "¥-1,234,567.89"), (None, ""), ("", ""), (float("nan"), ""), ("***", "***"),
])
def test_money_text(value, shown):
    assert money_text(value) == shown


@pytest.fixture
def contracts_page(tmp_path, monkeypatch):
    path = tmp_path / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    add(db, actor, "communities", name="阳光花园")
    contract = add(db, actor, "contracts", **CONTRACT)
    db.close()
    monkeypatch.setenv("WUYE_DB", str(path))
    from app.ui import session

    session._database.clear()
    at = app_test("pages/register.py", "contracts", query={"id": str(contract)}).run()
    assert not at.exception
    yield at
    session._database.clear()


def grid_of(at):
    """The register's grid (a link with ?id= puts the record's panel above it)."""
    return next(d for d in at.dataframe if "amount" in d.value.columns)


def details_of(at):
    """The record panel's field/content table."""
    return next(d for d in at.dataframe if "字段" in d.value.columns)


def test_grid_shows_money_with_yen_and_separators(contracts_page):
    grid = grid_of(contracts_page)
    config = json.loads(grid.proto.columns)
    assert config["amount"]["type_config"] == {"type": "number", "format": MONEY_FORMAT, "step": 0.01}
    assert MONEY_FORMAT == "¥%,.2f"  # measured in chromium: 1234567.5 reads ¥1,234,567.50
    assert config["monthly_rent"]["type_config"]["format"] == MONEY_FORMAT
    assert config["id"]["type_config"]["format"] == "%d"  # not money: no ¥
    # the editor still holds the number itself, so editing takes a plain number
    assert grid.value["amount"].tolist() == [1234567.5]


def test_contract_amount_and_end_date_come_first(contracts_page):
    order = list(grid_of(contracts_page).proto.column_order)
    assert order[:5] == ["id", "contract_no", "title", "amount", "end_on"]
    details = details_of(contracts_page).value
    assert list(details["字段"][:5]) == ["编号", "合同编号", "合同名称", "合同金额(元)", "结束日期"]


def test_record_panel_shows_money_and_blank_empty_fields(contracts_page):
    details = dict(zip(*details_of(contracts_page).value.T.values))
    assert details["合同金额(元)"] == "¥1,234,567.50"
    assert details["结束日期"] == "2026-12-31"
    for label in ("月租(元)", "分包方", "经办人", "备注", "签订日期"):
        assert details[label] == "", label


def test_no_table_on_the_page_shows_none_or_nan(contracts_page):
    tables = contracts_page.dataframe
    assert len(tables) >= 3  # the grid, the record's details, its history (and the recent changes)
    for table in tables:
        assert table.proto.placeholder == ""  # an empty cell is drawn empty, not "None"
        cells = table.value.astype(object).to_numpy().ravel()
        assert not [c for c in cells if isinstance(c, str) and c.strip().lower() in ("none", "nan", "nat")]
    grid = grid_of(contracts_page).value
    assert grid["note"].isna().all() and grid["handler_id"].isna().all()  # missing, so blank


def test_every_table_on_every_page_leaves_empty_cells_blank():
    """Each st.dataframe/st.data_editor in pages/ and app/ui/ passes placeholder="" (Streamlit's
    default draws the word "None" in every empty cell)."""
    missing = []
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("app/ui/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("dataframe", "data_editor") \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "st":
                placeholder = [k.value for k in node.keywords if k.arg == "placeholder"]
                if not (placeholder and isinstance(placeholder[0], ast.Constant) and placeholder[0].value == ""):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, missing


def test_a_plain_number_typed_into_a_money_cell_is_saved_as_decimal(db, actor):
    add(db, actor, "communities", name="阳光花园")
    contract = add(db, actor, "contracts", **CONTRACT)
    reg = registers.get("contracts")
    frame = db.query("SELECT * FROM contracts")
    shown = display_frame(db, reg, frame, {"community_id": {1: "阳光花园"}})
    assert shown["amount"].dtype == "float64" and shown["note"].tolist() == [None]
    snap = Snapshot(frame=shown, ids=[contract], versions=[1], labels=["HT-2026-01"])
    changes = changes_from_editor(reg, snap, {"edited_rows": {"0": {"amount": 2500.5, "monthly_rent": 800}}})
    apply_changes(db, actor, "contracts", changes)
    row = db.query("SELECT amount, monthly_rent FROM contracts WHERE id = ?", [contract]).iloc[0]
    assert (Decimal(str(row["amount"])), Decimal(str(row["monthly_rent"]))) == (Decimal("2500.50"),
                                                                                Decimal("800.00"))
    assert not pd.isna(row["amount"])
