"""The home page's figures are kept between visits (app/analysis/figure_cache.py) only while the data is
unchanged: a save shows at once, on both backends (PostgreSQL is never cached).

Estate of test_reports: September 2026, bills of 300.00 due 09-15; 1-1-102 paid 100.00 and
1-1-103 nothing, so at 09-30 the arrears are 500.00 over 2 households.
"""

from __future__ import annotations

from datetime import date

import pytest
from saving import add
from test_reports import estate  # noqa: F401  (fixture)

from app.analysis import dashboard
from app.analysis.todo import todo_list
from app.exchange import excel
from app.saving.changes import SaveRejected
from app.storage.db import data_version, open_database


def test_a_payment_shows_at_once_in_the_kept_figures(db, actor, estate):  # noqa: F811
    today = date(2026, 11, 25)
    first = dashboard.kpis(db, actor, "2026-09", today=today)
    assert (first.arrears, first.arrears_households) == (500.0, 2)
    assert dashboard.kpis(db, actor, "2026-09", today=today) == first  # asked again: the same
    add(db, actor, "payments", bill_id=estate["bills"][2], amount="300.00", paid_at="2026-09-20 10:00:00")
    after = dashboard.kpis(db, actor, "2026-09", today=today)
    # 1-1-103 paid in full on 09-20: 200.00 owed by 1-1-102 alone; collected 400 + 300
    assert (after.arrears, after.arrears_households, after.collected) == (200.0, 1, 700.0)
    assert dashboard.money(db, actor, "2026-09", today=today).arrears == after.money.arrears


def test_kept_only_for_a_duckdb_file_and_keyed_by_its_version(db, actor, estate, tmp_path):  # noqa: F811
    seen = data_version(db)
    if db.is_postgres:
        assert seen is None  # other servers may write: never kept
        return
    assert seen is not None and data_version(db) == seen
    excel.export_register(db, actor, "households", tmp_path / "h.xlsx")  # audited, but no row changed
    with db.transaction() as cur:  # a write outside the registers (a session's bookkeeping)
        cur.execute("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)")
    assert data_version(db) == seen
    add(db, actor, "communities", name="明月小区")
    assert data_version(db) != seen  # every committed change of rows moves it
    with pytest.raises(SaveRejected):
        add(db, actor, "communities", name="明月小区")  # refused: nothing committed
    moved = data_version(db)
    assert data_version(db) == moved
    again = open_database(db.url)  # opened again (another process may have written meanwhile)
    again.close()
    assert data_version(db) != moved


def test_the_todo_list_follows_a_save(db, actor, estate):  # noqa: F811
    before = todo_list(db, actor)
    kept = todo_list(db, actor)
    assert list(kept["item"]) == list(before["item"])
    kept.loc[:, "item"] = "changed by a caller"  # a copy: what is kept stays as it was
    assert list(todo_list(db, actor)["item"]) == list(before["item"])
    add(db, actor, "contracts", community_id=estate["community"], contract_no="HT-1", title="保洁外包",
        kind="物业服务", counterparty="洁美公司", start_on="2025-01-01", end_on="2025-12-31", status="履行中")
    after = todo_list(db, actor)
    assert len(after) == len(before) + 1
    assert any("HT-1" in item for item in after["item"])
