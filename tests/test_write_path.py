"""The one write path (issue #22 items 1-2): a save rule's writes to other registers go through
SaveContext.insert/update — timestamps, versions, audit under the save's change id — and every write
reaches the registers' write subscribers in the same transaction; storage no longer calls up."""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path

import pytest
from saving import add

from app.saving import changes
from app.saving.changes import RowChange, apply_changes

APP = Path(__file__).resolve().parents[1] / "app"


@pytest.fixture
def estate(db, actor, monkeypatch):
    """A community with two households (one 已入住, one 空置), a rule on communities that writes to
    households, and a subscriber that records what it is told."""
    c = add(db, actor, "communities", name="阳光花园")
    lived = add(db, actor, "households", community_id=c, code="1-1-101", area="80.00", status="已入住")
    empty = add(db, actor, "households", community_id=c, code="1-1-102", area="80.00", status="空置")
    with db.transaction() as cur:  # made a day ago: the rule's update must stamp a later time
        cur.execute("UPDATE households SET created_at = created_at - INTERVAL 1 DAY, "
                    "updated_at = updated_at - INTERVAL 1 DAY")
    told: list[tuple[str, list[tuple]]] = []
    refuse = []

    def rule(ctx):
        for i, ch, new, _ in ctx.rows:
            ids = ctx.insert("households", [{"community_id": new["id"], "code": "9-9-901",
                                             "area": Decimal("66.50"), "status": "空置"}], "测试：随小区新增")
            assert ids == [ids[0]] and isinstance(ids[0], int)
            changed = ctx.update("households", {lived: {"status": "空置"}, empty: {"status": "空置"}},
                                 "测试：随小区腾空", where="status = ?", params=["已入住"])
            assert changed == [lived]  # the other one is 空置 already: nothing to write
            if refuse:
                ctx.problem(i, ch, "name", "测试拒绝")

    monkeypatch.setitem(changes._RULES, "communities", [*changes._RULES.get("communities", []), rule])
    for register in ("households", "communities"):
        monkeypatch.setitem(changes._SUBSCRIBERS, register, [
            *changes._SUBSCRIBERS.get(register, []), lambda cur, reg, entries: told.append((reg, entries))])
    return {"community": c, "lived": lived, "empty": empty, "told": told, "refuse": refuse}


def test_a_rules_writes_are_versioned_audited_and_told_like_the_saves_own(db, actor, estate):
    c, lived, empty = estate["community"], estate["lived"], estate["empty"]
    result = apply_changes(db, actor, "communities", [RowChange("update", c, {"name": "阳光花园一期"})])
    rows = db.rows("SELECT register, row_id, action, old_values, new_values, note FROM audit_log "
                   "WHERE change_id = ? ORDER BY id", [result.change_id])
    added = db.scalar("SELECT id FROM households WHERE code = '9-9-901'")
    # the rule's writes first (written while it ran), then the save's own row, all one change set
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("households", added, "新增", "测试：随小区新增"),
        ("households", lived, "修改", "测试：随小区腾空"),
        ("communities", c, "修改", None)]
    assert json.loads(rows[0][4])["area"] == "66.50" and rows[0][3] is None
    assert (json.loads(rows[1][3]), json.loads(rows[1][4])) == ({"status": "已入住"}, {"status": "空置"})
    versions = dict(db.rows("SELECT id, row_version FROM households"))
    assert versions == {lived: 2, empty: 1, added: 1}
    stamped = db.rows("SELECT created_at IS NOT NULL, updated_at > created_at FROM households WHERE id IN (?, ?)",
                      [added, lived])
    assert sorted(stamped) == [(True, False), (True, True)]
    assert [(reg, [e[:2] for e in entries]) for reg, entries in estate["told"]] == [
        ("households", [(added, "新增")]), ("households", [(lived, "修改")]), ("communities", [(c, "修改")])]


def test_a_refused_save_takes_its_rules_writes_back(db, actor, estate):
    estate["refuse"].append(True)
    before = db.rows("SELECT id, status, row_version FROM households ORDER BY id")
    audited = db.scalar("SELECT count(*) FROM audit_log")
    with pytest.raises(changes.ValidationFailed, match="测试拒绝"):
        apply_changes(db, actor, "communities", [RowChange("update", estate["community"], {"name": "改名"})])
    assert db.rows("SELECT id, status, row_version FROM households ORDER BY id") == before
    assert db.scalar("SELECT count(*) FROM audit_log") == audited


def _imports_in_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("app"):
                    found.append(f"{path.name}:{inner.lineno} {inner.module}")
    return found


def test_storage_and_the_save_path_import_nothing_inside_functions():
    """The circle db → derived → … → db was closed by imports inside functions; none is left."""
    names = ("storage/db", "storage/postgres", "storage/audit_log", "access/permissions", "saving/changes",
             "saving/audit", "reading/queries", "saving/derived", "fees/bill_totals", "service/work_order_facts",
             "service/complaint_facts")
    assert [hit for name in names for hit in _imports_in_functions(APP / f"{name}.py")] == []
    for name in ("storage/db", "storage/postgres", "storage/audit_log"):  # nothing of the domain above
        tree = ast.parse((APP / f"{name}.py").read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not {m for m in imported if m and any(d in m for d in ("derived", "bill_totals", "changes"))}, name
