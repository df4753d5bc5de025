"""The demo generator: plausible, valid, deterministic data written through the save path.

Seeding takes a minute or more, so the checks that only read share one seeded database per
backend (`demo`); the tests that seed themselves use the usual `db`.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import sys
from datetime import date
from decimal import Decimal

import pytest
from conftest import DEMO_AS_OF, demo_counts_file

import seed
from app.access.permissions import Actor
from app.registers.validation import id_number_valid
from app.settings import ensure_defaults
from app.storage.db import open_database
from seed.demo import extension_modules, generate_households, seed_demo
from seed.names import LOCAL_AREAS, OTHER_AREAS, id_check_char

CORE = ("communities", "buildings", "households", "owners", "departments", "staff")
AS_OF = DEMO_AS_OF
SEEDER = Actor(user="演示数据", role="管理员", source="任务")


def _backends(config: pytest.Config) -> list[str]:
    """The backends conftest's `db` runs on (--backend / WUYE_TEST_BACKENDS)."""
    chosen = config.getoption("backend", default=None)
    return chosen or [b for b in os.environ.get("WUYE_TEST_BACKENDS", "duckdb,postgres").split(",")
                      if b]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "demo" in metafunc.fixturenames:
        metafunc.parametrize("demo_backend", _backends(metafunc.config), scope="module")


@pytest.fixture(scope="module")
def demo(demo_backend, request, tmp_path_factory):
    """(database, counts): one database per backend seeded fresh as of AS_OF — on DuckDB a copy
    of the session's demo file (seeded the same way by tests/conftest.py), on PostgreSQL a seed
    of its own."""
    if demo_backend == "duckdb":
        demo_file = request.getfixturevalue("demo_file")
        url = str(tmp_path_factory.mktemp("demo") / "wuye.duckdb")
        shutil.copy(demo_file, url)
        database = open_database(url)
        try:
            yield database, json.loads(demo_counts_file(demo_file).read_text())
        finally:
            database.close()
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.fresh_database()
    database = open_database(url)
    try:
        ensure_defaults(database, SEEDER)
        yield database, seed_demo(database, SEEDER, as_of=AS_OF)
    finally:
        database.close()
        if demo_backend != "duckdb":
            cluster.dropdb(url.rsplit("/", 1)[1])


def count(db, table: str) -> int:
    return db.scalar(f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL")


def core_counts(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k in CORE}


def test_demo_fills_each_register_with_realistic_counts(demo):
    db, counts = demo
    assert {k: count(db, k) for k in CORE} == core_counts(counts)
    assert counts["communities"] == 2
    assert 18 <= counts["buildings"] <= 22
    assert 1800 <= counts["households"] <= 2200
    assert counts["owners"] > counts["households"]
    assert counts["departments"] == 6
    assert 55 <= counts["staff"] <= 65


def test_demo_households_look_like_a_real_community(demo):
    db, _ = demo
    by_usage = dict(db.rows("SELECT usage, count(*) FROM households GROUP BY usage"))
    assert by_usage["住宅"] > 1700 and by_usage["商铺"] >= 5 and 5 <= by_usage["车库"] <= 40
    by_status = dict(db.rows("SELECT status, count(*) FROM households GROUP BY status"))
    assert set(by_status) == {"已入住", "空置", "出租", "装修中"}
    assert by_status["已入住"] > sum(by_status.values()) / 2
    low, high = db.rows("SELECT min(area), max(area) FROM households WHERE usage = '住宅'")[0]
    assert Decimal("55") <= low and high <= Decimal("180")
    assert db.scalar(
        "SELECT count(*) FROM households WHERE status IN ('已入住', '出租') "
        "AND (move_in_date IS NULL OR move_in_date < handover_date)"
    ) == 0
    assert db.scalar(
        "SELECT count(*) FROM households h JOIN buildings b ON b.id = h.building_id "
        "WHERE b.community_id <> h.community_id"
    ) == 0
    assert db.scalar("SELECT count(*) FROM buildings WHERE has_elevator <> (floors > 7)") == 0
    assert db.scalar("SELECT count(*) FROM buildings WHERE floors NOT BETWEEN 6 AND 33 "
                     "OR units NOT BETWEEN 1 AND 4") == 0
    rates = [r[0] for r in db.rows("SELECT green_rate FROM communities")]
    assert all(Decimal("0.2") < r < 1 for r in rates)


def test_household_codes_are_unique_per_community(demo):
    db, _ = demo
    assert db.scalar(
        "SELECT count(*) FROM (SELECT community_id, code FROM households "
        "GROUP BY ALL HAVING count(*) > 1)"
    ) == 0
    codes = [r[0] for r in db.rows("SELECT code FROM households WHERE usage <> '车库'")]
    assert all(re.fullmatch(r"\d+-\d-\d{3,4}", c) for c in codes)


def test_every_lived_in_household_has_one_primary_owner(demo):
    db, _ = demo
    assert db.scalar(
        "SELECT count(*) FROM households h WHERE status <> '空置' AND (SELECT count(*) "
        "FROM owners o WHERE o.household_id = h.id AND o.is_primary AND o.role = '业主' "
        "AND o.moved_out_on IS NULL) <> 1"
    ) == 0
    roles = dict(db.rows("SELECT role, count(*) FROM owners GROUP BY role"))
    assert roles["家属"] > 0 and roles["租户"] > 0
    moved_out = db.rows("SELECT move_in_date, moved_out_on, is_primary FROM owners "
                        "WHERE moved_out_on IS NOT NULL")
    assert 5 <= len(moved_out) <= 200
    assert all(a < b and not primary for a, b, primary in moved_out)
    assert db.scalar("SELECT count(*) FROM owners o JOIN households h ON h.id = o.household_id "
                     "WHERE o.role = '租户' AND h.status <> '出租'") == 0


def test_id_numbers_and_phones_are_valid_and_plausible(demo):
    db, _ = demo
    people = db.rows(
        "SELECT id_number, phone FROM owners UNION ALL SELECT id_number, phone FROM staff")
    ids = [i for i, _ in people if i is not None]
    phones = [p for _, p in people if p is not None]
    assert len(ids) > 3000 and len(phones) > 3000
    assert all(id_number_valid(i) for i in ids)
    assert all(1950 <= int(i[6:10]) <= 2000 for i in ids)
    assert {i[:6] for i in ids} <= set(LOCAL_AREAS + OTHER_AREAS)
    assert all(re.fullmatch(r"1[3589]\d{9}", p) for p in phones)
    assert db.scalar("SELECT count(*) FROM staff WHERE id_number IS NULL OR phone IS NULL") == 0


def test_check_character_follows_gb_11643():
    # The example number of GB 11643-1999.
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


def test_staff_names_are_unique_and_posts_fit_departments(demo):
    db, _ = demo
    assert db.scalar("SELECT count(DISTINCT name) FROM staff") == count(db, "staff")
    posts = db.rows(
        "SELECT d.name, s.position FROM staff s JOIN departments d ON d.id = s.department_id")
    assert {("财务部", "出纳"), ("工程部", "电工"), ("保安部", "保安员")} <= set(posts)
    assert not any(dept == "保安部" and "保洁" in pos for dept, pos in posts)
    statuses = dict(db.rows("SELECT status, count(*) FROM staff GROUP BY status"))
    assert statuses["在职"] > 5 * statuses.get("离职", 0)
    in_community = db.scalar("SELECT count(*) FROM staff WHERE community_id IS NOT NULL")
    assert in_community > count(db, "staff") / 2
    assert db.scalar("SELECT count(*) FROM departments WHERE duties IS NULL") == 0


def test_seeding_twice_adds_nothing(demo):
    db, first = demo
    audited = db.scalar("SELECT count(*) FROM audit_log")
    assert first and seed_demo(db, SEEDER, as_of=AS_OF) == {}
    assert {k: count(db, k) for k in CORE} == core_counts(first)
    assert db.scalar("SELECT count(*) FROM audit_log") == audited


def snapshot(db, table: str) -> list[tuple]:
    cols = [c for c in db.columns_of(table) if c not in ("created_at", "updated_at")]
    return db.rows(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id")


def test_two_fresh_databases_get_identical_content(demo, demo_backend, demo_file):
    # The session's demo file is a fresh DuckDB seed of the same day (tests/conftest.py): a fresh
    # seed on PostgreSQL must give the same rows (on DuckDB `demo` is a copy of that very file).
    if demo_backend == "duckdb":
        pytest.skip("the DuckDB demo is the session's demo file itself; compared on PostgreSQL")
    db, _ = demo
    other = open_database(str(demo_file), read_only=True)
    try:
        for table in CORE:
            assert snapshot(db, table) == snapshot(other, table), table
    finally:
        other.close()


def test_audit_log_has_one_insert_per_seeded_row(demo):
    db, counts = demo
    audited = dict(db.rows(
        "SELECT register, count(DISTINCT row_id) FROM audit_log "
        "WHERE action = '新增' AND actor = ? GROUP BY register", [SEEDER.user]
    ))
    assert {k: audited.get(k) for k in CORE} == core_counts(counts)
    assert db.scalar("SELECT count(*) FROM audit_log WHERE action = '新增' AND actor = ? "
                     "AND register IN (SELECT unnest(?))", [SEEDER.user, list(CORE)]) \
        == sum(core_counts(counts).values())


PROBE = """
import sys


def seed(db, actor, as_of):
    sys.modules["seed"].probe_calls.append((__name__, db.scalar("SELECT count(*) FROM households"), as_of))
    return {RESULT}
"""


def test_extension_modules_run_in_name_order_after_the_core(actor, tmp_path, monkeypatch):
    # the order of the modules does not depend on the backend: one DuckDB file is enough; the
    # shipped modules are replaced by recorders (their rows are tested elsewhere), so only the
    # core is really seeded here
    db = open_database(str(tmp_path / "probe.duckdb"))
    ensure_defaults(db, SEEDER)
    monkeypatch.setattr(seed, "probe_calls", [], raising=False)
    shipped = extension_modules()
    for name in shipped:
        module = importlib.import_module(f"seed.{name}")
        monkeypatch.setattr(module, "seed", lambda db, actor, as_of, name=name: seed.probe_calls.append(
            (f"seed.{name}", db.scalar("SELECT count(*) FROM households"), as_of)) or {})
    (tmp_path / "demo_zz_probe_b.py").write_text(PROBE.replace("{RESULT}", "{'probe': 2}"))
    (tmp_path / "demo_zz_probe_a.py").write_text(
        PROBE.replace("{RESULT}", "{'probe': 1, 'owners': 0}"))
    monkeypatch.setattr(seed, "__path__", [*seed.__path__, str(tmp_path)])
    try:
        counts = seed_demo(db, actor, as_of=AS_OF)
    finally:
        for name in ("seed.demo_zz_probe_a", "seed.demo_zz_probe_b"):
            sys.modules.pop(name, None)
    households = count(db, "households")
    assert households > 1000  # the core ran before every module
    assert sorted(shipped) == shipped and "demo_fees" in shipped
    assert seed.probe_calls == [(f"seed.{name}", households, AS_OF)
                                for name in sorted([*shipped, "demo_zz_probe_a", "demo_zz_probe_b"])]
    assert counts["probe"] == 3
    assert counts["owners"] == count(db, "owners")
    db.close()


@pytest.mark.parametrize("n", [10_000])
def test_generated_households_for_benchmarks_are_valid_rows(n):
    import random

    from app import registers
    from app.registers.validation import check

    rows = generate_households(random.Random(7), n, [1, 2, 3], {1: [10, 11], 2: [20], 3: [30]}, AS_OF)
    assert len(rows) == n
    assert len({(r["community_id"], r["code"]) for r in rows}) == n
    assert rows == generate_households(random.Random(7), n, [1, 2, 3],
                                       {1: [10, 11], 2: [20], 3: [30]}, AS_OF)
    assert max(r.get("move_in_date") or r["handover_date"] for r in rows) <= AS_OF
    reg = registers.get("households")
    for r in rows[:2000]:
        for f in reg.fields:
            assert check(f, r.get(f.name)) is None, (f.name, r)
        assert isinstance(r["area"], Decimal) and isinstance(r["handover_date"], date)
