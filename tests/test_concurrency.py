"""Several app processes on one PostgreSQL database: conflicts are reported, nothing is lost."""

import json
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from app.saving.changes import RowChange, apply_changes
from app.storage.db import ROOT, open_database

# One worker process: wait for the start signal, then save, as a clerk would, rows it has
# just read (with the version it saw), and insert rows of its own; print what happened.
WORKER = r"""
import json, sys, time
from pathlib import Path
from app.saving.changes import ConflictError, RowChange, apply_changes
from app.storage.db import open_database
from app.access.permissions import Actor

url, name, rounds, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
ids, prefix = json.loads(sys.argv[5]), sys.argv[6]
db = open_database(url)
retries = 0
plain = db.is_retryable
def counting(err):
    global retries
    found = plain(err)
    retries += found
    return found
db.is_retryable = counting
actor = Actor(name, source="任务")
saved, conflicts, inserted = [], 0, []
print("ready", flush=True)
while not go.exists():  # the start line: every worker begins together (a poll, not a guess)
    time.sleep(0.005)
for n in range(rounds):
    for rid in ids:
        version, area = db.rows("SELECT row_version, area FROM households WHERE id = ?", [rid])[0]
        try:
            apply_changes(db, actor, "households",
                          [RowChange("update", rid, {"area": str(area + 1)}, version=version)])
            saved.append(rid)
        except ConflictError:
            conflicts += 1
    result = apply_changes(db, actor, "households", [
        RowChange("insert", values={"community_id": 1, "code": f"{prefix}-{n}-{k}", "area": "50"})
        for k in range(3)
    ])
    inserted += result.inserted
db.close()
print(json.dumps({"saved": saved, "conflicts": conflicts, "inserted": inserted, "retries": retries}))
"""


@pytest.fixture
def pg_url(pg_cluster):
    url = pg_cluster.fresh_database()
    yield url
    pg_cluster.dropdb(url.rsplit("/", 1)[1])


def start_workers(url: str, names: list[str], rounds: int, ids: list[int], go) -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, name, str(rounds), str(go), json.dumps(ids), str(90 + i)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i, name in enumerate(names)
    ]
    for p in procs:
        line = p.stdout.readline().strip()
        assert line == "ready", p.stderr.read()
    return procs


def test_two_processes_saving_the_same_rows_lose_nothing(pg_url, tmp_path, actor):
    db = open_database(pg_url)
    (community,) = apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})]).inserted
    ids = apply_changes(db, actor, "households", [
        RowChange("insert", values={"community_id": community, "code": f"1-1-10{k}", "area": "100"})
        for k in range(3)
    ]).inserted
    go = tmp_path / "go"
    procs = start_workers(pg_url, ["甲", "乙"], 15, ids, go)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    saved = [rid for r in results for rid in r["saved"]]
    conflicts = sum(r["conflicts"] for r in results)
    assert len(saved) + conflicts == 2 * 15 * len(ids)
    assert conflicts + sum(r["retries"] for r in results) > 0, "the two processes never collided"
    for rid in ids:
        # every save that was reported as saved is in the row, once; no other change is
        area, version = db.rows("SELECT area, row_version FROM households WHERE id = ?", [rid])[0]
        assert area == Decimal(100) + saved.count(rid)
        assert version == 1 + saved.count(rid)
        audit = db.rows(
            "SELECT actor, new_values FROM audit_log WHERE register = 'households' AND row_id = ? "
            "AND action = '修改' ORDER BY id", [rid])
        assert len(audit) == saved.count(rid)
        assert json.loads(audit[-1][1])["area"] == str(area)
        steps = [Decimal(json.loads(new)["area"]) for _, new in audit]
        assert steps == [Decimal(100) + k + 1 for k in range(len(steps))]  # one after another

    inserted = [rid for r in results for rid in r["inserted"]]
    assert len(inserted) == len(set(inserted)) == 2 * 15 * 3
    assert db.scalar("SELECT count(*) FROM households WHERE id IN (SELECT unnest(?))", [inserted]) == len(inserted)
    assert db.scalar(
        "SELECT count(*) FROM audit_log WHERE register = 'households' AND action = '新增'"
    ) == len(ids) + len(inserted)
    audit_ids = [r[0] for r in db.rows("SELECT id FROM audit_log")]
    assert len(audit_ids) == len(set(audit_ids))
    db.close()


def test_processes_starting_at_once_on_an_empty_database_migrate_it_once(pg_cluster):
    name = f"fresh_{time.monotonic_ns()}"
    url = pg_cluster.createdb(name)
    try:
        code = "import sys; from app.storage.db import open_database; open_database(sys.argv[1]).close()"
        procs = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        db = open_database(url)
        try:
            versions = [r[0] for r in db.rows("SELECT version FROM schema_migrations")]
            assert len(versions) == len(set(versions))
            assert "register:households" in versions
        finally:
            db.close()
    finally:
        pg_cluster.dropdb(name)
