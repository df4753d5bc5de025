"""Crash safety and concurrency of the save path, bounded in time.

* kill -9: a child process saves change sets and imports CSV files in a loop, writing one log
  line after each commit returns; it is killed at a random moment, ≥ 50 times. After every
  kill the database opens, every change the child reported is there, no import is half done,
  and the audit log matches the data (replaying each row's audit entries gives its values).
  Children are forked from a "zygote" process that has imported the app once but never opened
  a database, so a cycle costs a fork instead of an interpreter start.
* two sessions saving the same row: the second gets a conflict, nothing is overwritten.

Run alone with `pytest tests/test_reliability.py -s` to see the figures.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KILLS = 55
SEED = 20261125
COMMUNITIES = ("甲苑", "乙苑")
STATUSES = ("已入住", "空置", "装修中", "出租")


# -- the child: saves and imports until it is killed ----------------------------------------
def work(db_path: str, log_path: str, seed: int) -> None:
    from app.access.permissions import Actor
    from app.exchange import importer
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import Database

    rnd = random.Random(seed)
    db = Database(db_path)  # migrated by the test already
    actor = Actor("断电测试", source="任务")
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    communities = dict(db.rows("SELECT name, id FROM communities"))

    def report(entry: dict) -> None:  # after commit returned: one whole line, appended
        os.write(log, (json.dumps(entry, ensure_ascii=False) + "\n").encode())

    report({"op": "ready"})  # the database is open: the parent's clock for the kill starts

    k = 0
    while True:
        k += 1
        op = rnd.random()
        if op < 0.45:
            rows = [
                {"community_id": communities[rnd.choice(COMMUNITIES)], "code": f"K{seed}-{k}-{j}",
                 "area": f"{rnd.randint(30, 200)}.{rnd.randint(0, 99):02d}", "usage": "住宅",
                 "status": rnd.choice(STATUSES)}
                for j in range(rnd.randint(1, 5))
            ]
            saved = apply_changes(db, actor, "households", [RowChange("insert", values=r) for r in rows])
            report({"op": "insert", "rows": [[i, r["code"], r["area"]] for i, r in zip(saved.inserted, rows)]})
        elif op < 0.75:
            picked = db.rows("SELECT id, row_version FROM households USING SAMPLE 3 ROWS")
            if not picked:
                continue
            changes = [RowChange("update", row_id=i, version=v,
                                 values={"area": f"{rnd.randint(30, 200)}.{rnd.randint(0, 99):02d}",
                                         "status": rnd.choice(STATUSES)})
                       for i, v in picked]
            apply_changes(db, actor, "households", changes)
            report({"op": "update", "rows": [[c.row_id, c.version + 1, c.values["area"], c.values["status"]]
                                             for c in changes]})
        else:
            n = rnd.randint(5, 40)
            tag = f"导入{seed}-{k}-{n}"
            lines = ["小区,房号,建筑面积(㎡),用途,状态,备注"] + [
                f"{rnd.choice(COMMUNITIES)},I{seed}-{k}-{j},{rnd.randint(30, 200)}.5,住宅,"
                f"{rnd.choice(STATUSES)},{tag}" for j in range(n)
            ]
            importer.import_file(db, actor, "households", "\n".join(lines).encode(), file_name="k.csv")
            report({"op": "import", "tag": tag, "n": n})


def zygote() -> None:
    """Import the app once, then fork a worker per `go SEED DB LOG` line; `reap PID` waits for it."""
    import app.exchange.importer  # noqa: F401
    import app.save_rules  # noqa: F401
    import app.saving.changes  # noqa: F401

    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "go":
            seed, db_path, log_path = args
            pid = os.fork()
            if pid == 0:
                try:
                    work(db_path, log_path, int(seed))
                except BaseException:
                    import traceback

                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            print(pid, flush=True)
        elif cmd == "reap":
            _, status = os.waitpid(int(args[0]), 0)
            print(status, flush=True)
        else:
            return


# -- the parent: kill, open, check ------------------------------------------------------------
def audit_replay_mismatches(db) -> list[str]:
    """Rows whose current field values differ from their audit entries replayed in order."""
    from app import registers
    from app.saving.changes import row_json

    reg = registers.get("households")
    fields = [f.name for f in reg.fields]
    replayed: dict[int, dict] = defaultdict(dict)
    for row_id, action, new in db.rows(
        "SELECT row_id, action, new_values FROM audit_log WHERE register = 'households' ORDER BY id"
    ):
        if action == "新增":
            replayed[row_id] = json.loads(new)
        elif action == "修改":
            replayed[row_id].update(json.loads(new))
    res = db.cursor().execute("SELECT * FROM households")
    names = [d[0] for d in res.description]
    current = {r[0]: json.loads(row_json(reg, dict(zip(names, r)))) for r in res.fetchall()}
    bad = [f"{i}: 有数据没有审计" for i in current if i not in replayed]
    bad += [f"{i}: 有审计没有数据" for i in replayed if i not in current]
    for i, row in current.items():
        if i in replayed:
            diff = [f for f in fields if row.get(f) != replayed[i].get(f)]
            if diff:
                bad.append(f"{i}: {diff} 当前 {[row.get(f) for f in diff]} 审计 {[replayed[i].get(f) for f in diff]}")
    return bad


def log_lines(log: Path) -> int:
    return log.read_bytes().count(b"\n") if log.exists() else 0


def check_after_kill(db, entries: list[dict]) -> dict:
    """Every reported change there, imports whole, audit = data; returns counts."""
    rows = {i: (code, area, status, version) for i, code, area, status, version in db.rows(
        "SELECT id, code, area, status, row_version FROM households")}
    inserted = updated = 0
    last_update: dict[int, list] = {}
    for e in entries:
        if e["op"] == "insert":
            for i, code, _area in e["rows"]:
                assert i in rows, f"reported insert of row {i} ({code}) is missing"
                assert rows[i][0] == code
                inserted += 1
        elif e["op"] == "update":
            for i, version, area, status in e["rows"]:
                last_update[i] = [version, area, status]
                updated += 1
    for i, (version, area, status) in last_update.items():
        assert rows[i][3] >= version, f"reported update of row {i} (version {version}) is lost"
        if rows[i][3] == version:
            assert (rows[i][1], rows[i][2]) == (Decimal(area), status)
    reported = {e["tag"]: e["n"] for e in entries if e["op"] == "import"}
    by_tag = dict(db.rows(
        "SELECT note, count(*) FROM households WHERE note LIKE '导入%' GROUP BY note"))
    for tag, n in reported.items():
        assert by_tag.get(tag) == n, f"reported import {tag} has {by_tag.get(tag)} of {n} rows"
    # every import present, reported or not (killed between commit and report), is whole:
    # its tag ends with its number of rows
    partial = {tag: count for tag, count in by_tag.items() if int(tag.rsplit("-", 1)[1]) != count}
    assert not partial, f"half-done imports: {partial}"
    mismatches = audit_replay_mismatches(db)
    assert not mismatches, "audit log does not match the data:\n" + "\n".join(mismatches[:10])
    return {"inserted": inserted, "updated": updated, "imports": len(reported), "imports_seen": len(by_tag),
            "rows": len(rows)}


@pytest.fixture(scope="module")
def zygote_process(tmp_path_factory):
    errors = tmp_path_factory.mktemp("zygote") / "stderr.txt"
    with open(errors, "w") as err:
        proc = subprocess.Popen([sys.executable, __file__, "zygote"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT), "WUYE_AUTO_BACKUP": "0"})
    proc.errors = errors
    yield proc
    proc.stdin.write("quit\n")
    proc.stdin.close()
    proc.wait(timeout=30)


def test_kill_minus_nine_while_saving_and_importing(zygote_process, tmp_path):
    from app.access.permissions import Actor
    from app.admin import backup
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import Database, open_database

    path = tmp_path / "crash.duckdb"
    log = tmp_path / "committed.log"
    setup = open_database(str(path))
    apply_changes(setup, Actor("测试"), "communities",
                  [RowChange("insert", values={"name": n}) for n in COMMUNITIES])
    setup.close()
    rnd = random.Random(SEED)
    killed_mid_work = 0
    figures = {}
    for cycle in range(KILLS):
        before = log_lines(log)
        zygote_process.stdin.write(f"go {SEED + cycle} {path} {log}\n")
        zygote_process.stdin.flush()
        pid = int(zygote_process.stdout.readline())
        # kill after the child reported its database open and then 0-4 commits, plus a random
        # delay: so kills land in every phase (opening, validating, writing, committing, between)
        commits = rnd.choice([0, 0, 1, 2, 3, 4])
        started = time.monotonic()
        while log_lines(log) <= before + commits and time.monotonic() - started < 30:
            time.sleep(0.002)
        time.sleep(rnd.uniform(0.0, 0.25))
        os.kill(pid, signal.SIGKILL)
        zygote_process.stdin.write(f"reap {pid}\n")
        zygote_process.stdin.flush()
        status = int(zygote_process.stdout.readline())
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            f"the child ended by itself (status {status}):\n{zygote_process.errors.read_text()[-3000:]}")
        entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        killed_mid_work += len(entries) > before + 1  # more than its "ready" line
        db = Database(str(path))  # opens: the write-ahead log is replayed
        try:
            figures = check_after_kill(db, entries)
        finally:
            db.close()
    # the state after all the kills backs up and restores to the same checksums
    db = Database(str(path))
    try:
        out = backup.write_backup(db, tmp_path / "after-kills")
        before_sums = backup.checksums(db)
    finally:
        db.close()
    backup.restore(out.path, str(tmp_path / "restored.duckdb"))
    restored = Database(str(tmp_path / "restored.duckdb"))
    try:
        after_sums = backup.checksums(restored)
    finally:
        restored.close()
    assert {t: after_sums[t] for t in before_sums} == before_sums
    print(f"\nkill -9: {KILLS} kills ({killed_mid_work} after ≥ 1 reported commit in that run); "
          f"verified {figures['inserted']} reported inserts, {figures['updated']} reported updates, "
          f"{figures['imports']} reported imports ({figures['imports_seen']} imports present), "
          f"{figures['rows']} rows, audit replay equal on every row")
    assert killed_mid_work >= KILLS // 2
    assert figures["imports"] >= 5 and figures["inserted"] >= 50


# -- two sessions, one row --------------------------------------------------------------------
def test_two_sessions_saving_the_same_row_conflict_and_nothing_is_overwritten(db, db_url, actor):
    from app.access.permissions import Actor
    from app.saving.changes import ConflictError, RowChange, apply_changes
    from app.storage.db import open_database

    c = apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "甲苑"})]).inserted[0]
    h = apply_changes(db, actor, "households", [RowChange("insert", values={
        "community_id": c, "code": "1-101", "area": "80.00", "usage": "住宅", "status": "已入住"})]).inserted[0]
    other = open_database(db_url) if db.is_postgres else db  # a DuckDB file has one process
    try:
        # both open the row at version 1; 甲 saves first, 乙's save is refused
        seen = db.scalar("SELECT row_version FROM households WHERE id = ?", [h])
        assert seen == 1
        apply_changes(db, Actor("甲"), "households", [RowChange("update", row_id=h, version=1,
                                                             values={"area": "81.00"})])
        with pytest.raises(ConflictError) as refused:
            apply_changes(other, Actor("乙"), "households", [RowChange("update", row_id=h, version=1,
                                                                      values={"area": "99.00"})])
        assert "已被 甲" in str(refused.value)
        assert db.rows("SELECT area, row_version FROM households WHERE id = ?", [h]) == [(Decimal("81.00"), 2)]

        # at the same moment, many rounds: exactly one of the two saves of a round wins
        conflicts = wins = 0
        rounds = 12
        for k in range(rounds):
            version = db.scalar("SELECT row_version FROM households WHERE id = ?", [h])
            results: dict[str, str] = {}
            barrier = threading.Barrier(2)

            def save(name: str, database, area: str, version=version, barrier=barrier,
                     results=results) -> None:
                barrier.wait()
                try:
                    apply_changes(database, Actor(name), "households",
                                  [RowChange("update", row_id=h, version=version, values={"area": area})])
                    results[name] = area
                except ConflictError:
                    results[name] = "conflict"

            threads = [threading.Thread(target=save, args=("甲", db, f"{100 + k}.00")),
                       threading.Thread(target=save, args=("乙", other, f"{200 + k}.00"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            won = [v for v in results.values() if v != "conflict"]
            assert len(won) == 1, results
            conflicts += list(results.values()).count("conflict")
            wins += 1
            assert db.rows("SELECT area, row_version FROM households WHERE id = ?", [h]) == [
                (Decimal(won[0]), version + 1)]
        updates = db.scalar("SELECT count(*) FROM audit_log WHERE register = 'households' AND row_id = ? "
                            "AND action = '修改'", [h])
        assert updates == 1 + rounds  # one audited update per winner, none for the refused saves
        print(f"\nsame row, two sessions ({db.backend}): {rounds + 1} rounds, {wins + 1} saved, "
              f"{conflicts + 1} conflicts, nothing overwritten")
    finally:
        if other is not db:
            other.close()


# -- a bill run over two communities, killed mid-run ------------------------------------------
BILL_HOMES = 400  # per community; two fee items each: 800 bills per community
BILL_KILLS = 4
PERIOD = "2026-07"


def bill_estate(url: str) -> dict[int, int]:
    """Two communities of BILL_HOMES households and two approved monthly fee items each; returns
    the bills a run for PERIOD adds per community (worked out by hand: one per household and item)."""
    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import open_database

    actor = Actor("测试", role="管理员")
    db = open_database(url)
    try:
        ids = apply_changes(db, actor, "communities",
                            [RowChange("insert", values={"name": n}) for n in COMMUNITIES]).inserted
        for c in ids:
            apply_changes(db, actor, "fee_items", [
                RowChange("insert", values={"community_id": c, "name": "物业费", "method": "按面积",
                                            "unit_price": "2.50", "cycle": "月", "status": "已审批",
                                            "effective_from": "2026-01-01"}),
                RowChange("insert", values={"community_id": c, "name": "垃圾清运费", "method": "固定",
                                            "unit_price": "10.00", "cycle": "月", "status": "已审批",
                                            "effective_from": "2026-01-01"})])
            apply_changes(db, actor, "households", [
                RowChange("insert", values={"community_id": c, "code": f"{k // 100 + 1}-{k % 100 + 1}",
                                            "area": f"{60 + k % 50}.50", "status": "已入住"})
                for k in range(BILL_HOMES)])
    finally:
        db.close()
    return {c: 2 * BILL_HOMES for c in ids}


def billed(url: str) -> dict[int, int]:
    from app.storage.db import open_database

    db = open_database(url)
    try:
        return dict(db.rows("SELECT h.community_id, count(*) FROM bills b JOIN households h "
                            "ON h.id = b.household_id WHERE b.period = ? GROUP BY 1", [PERIOD]))
    finally:
        db.close()


def start_bill_run(url: str, out: Path) -> subprocess.Popen:
    with open(out, "w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "--db", url, "bills", "generate", "--period", PERIOD],
            cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "WUYE_AUTO_BACKUP": "0"})


def test_bill_run_over_two_communities_killed_mid_run_bills_both_or_neither(backend, tmp_path, request):
    import shutil

    if backend == "duckdb":
        template = tmp_path / "template.duckdb"
        expected = bill_estate(str(template))

        def fresh(k: int) -> str:
            target = tmp_path / f"run-{k}.duckdb"
            shutil.copy(template, target)
            return str(target)
    else:
        cluster = request.getfixturevalue("pg_cluster")
        expected = None

        def fresh(k: int) -> str:
            nonlocal expected
            url = cluster.fresh_database()
            expected = bill_estate(url)
            return url

    # an uninterrupted run: how long it takes from its first preview line to its end
    url = fresh(0)
    out = tmp_path / "run-0.txt"
    proc = start_bill_run(url, out)
    while "出账预览" not in out.read_text() and proc.poll() is None:
        time.sleep(0.005)
    started = time.monotonic()
    assert proc.wait(timeout=600) == 0, out.read_text()
    duration = time.monotonic() - started
    assert billed(url) == expected
    rnd = random.Random(SEED)
    outcomes = []
    for k in range(1, BILL_KILLS + 1):
        url = fresh(k)
        out = tmp_path / f"run-{k}.txt"
        proc = start_bill_run(url, out)
        while "出账预览" not in out.read_text() and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(rnd.uniform(0.0, duration))  # anywhere in the run: previews, writes, commit
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        found = billed(url)
        assert found in ({}, expected), (
            f"kill {k} after a run of {duration:.2f} s left a partial bill run: {found} of {expected}\n"
            + out.read_text())
        outcomes.append("both" if found else "neither")
        if not found:  # the run again completes it, without duplicates
            again = start_bill_run(url, tmp_path / f"again-{k}.txt")
            assert again.wait(timeout=600) == 0
            assert billed(url) == expected
        if backend == "postgres":
            cluster.dropdb(url.rsplit("/", 1)[1])
    print(f"\nbill run over two communities ({backend}): {duration:.2f} s; after kill -9: {outcomes}")


# -- a server stopped normally leaves everything in the file itself ------------------------------
@pytest.mark.browser
def test_sigterm_of_wuye_serve_leaves_the_edits_in_the_duckdb_file_alone(tmp_path):
    """Edits saved in the browser, `wuye serve` stopped with SIGTERM (systemd stop), then only
    wuye.duckdb copied (not wuye.duckdb.wal): the copy holds every edit and its audit row."""
    import shutil
    import urllib.request

    from browser import (  # the browser tests' helpers
        BROWSER_PASSWORD,
        BROWSER_USER,
        CHROMIUM,
        cell_text,
        column,
        edit_cell,
        ensure_browser_user,
        free_port,
        launch_chromium,
        wait_app_idle,
        wait_for_session_cookie,
        wait_grid,
    )
    from playwright.sync_api import sync_playwright

    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    path = tmp_path / "data" / "wuye.duckdb"
    db = open_database(str(path))
    ensure_defaults(db, Actor("测试", source="任务"))
    c = apply_changes(db, Actor("测试"), "communities", [RowChange("insert", values={"name": "甲苑"})]).inserted[0]
    apply_changes(db, Actor("测试"), "households", [
        RowChange("insert", values={"community_id": c, "code": f"1-{k}", "area": "80.00", "status": "已入住"})
        for k in range(1, 4)])
    db.close()
    ensure_browser_user(path)
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "--db", str(path), "serve", "--port", str(port)],
            cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,  # as in production: daily backups on
            env={**os.environ, "PYTHONPATH": str(ROOT), "WUYE_AUTO_BACKUP": "1"})
    url = f"http://127.0.0.1:{port}"
    edits = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN").new_page()
                page.set_default_timeout(60_000)

                slow = 120_000  # a shared machine under load: long waits, explicit
                page.goto(url + "/households")
                page.get_by_label("用户名").fill(BROWSER_USER)
                page.get_by_label("密码").fill(BROWSER_PASSWORD)
                page.get_by_role("button", name="登录", exact=True).click()
                wait_for_session_cookie(page, timeout=slow / 1000)
                page.goto(url + "/households")
                page.get_by_role("button", name="退出登录").wait_for(timeout=slow)
                wait_app_idle(page, timeout=slow)
                for row in range(3):
                    wait_grid(page, timeout=slow)
                    note, ids = column(page, "备注"), column(page, "编号")
                    row_id = int(cell_text(page, ids, row))
                    edits[row_id] = f"停机前保存 {row_id}"
                    edit_cell(page, note, row, edits[row_id])
                    page.get_by_role("button", name="保存").click()
                    page.get_by_test_id("stAlert").filter(has_text="已保存").wait_for(timeout=slow)
                    wait_app_idle(page, timeout=slow)
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGTERM)  # as `systemctl stop` does
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert len(edits) == 3
    # a clean stop: uvicorn shuts down, then re-raises the SIGTERM it caught (systemd counts a
    # SIGTERM exit as a clean stop)
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    copy = tmp_path / "copy" / "wuye.duckdb"
    copy.parent.mkdir()
    shutil.copy(path, copy)  # the file alone, as a file backup or `cp` would take it
    assert not Path(str(copy) + ".wal").exists()
    db = open_database(str(copy), migrate=False, read_only=True)
    try:
        found = dict(db.rows("SELECT id, note FROM households"))
        audited = db.scalar("SELECT count(*) FROM audit_log WHERE register = 'households' "
                            "AND action = '修改' AND source = '网格'")
    finally:
        db.close()
    assert {i: found[i] for i in edits} == edits
    assert audited == 3


def test_every_close_and_a_commit_long_after_the_last_checkpoint_empty_the_log(tmp_path, monkeypatch, actor):
    """The checkpoint policy: a commit more than CHECKPOINT_SECONDS after the last checkpoint
    writes the log into the file; closing does too."""
    from app.saving.changes import RowChange, apply_changes
    from app.storage import db as dbmod
    from app.storage.db import open_database

    path = tmp_path / "wuye.duckdb"
    wal = Path(str(path) + ".wal")
    db = open_database(str(path))
    try:
        db.checkpoint()
        apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "甲苑"})])
        assert wal.exists() and wal.stat().st_size > 0  # a recent checkpoint: the commit stays in the log
        monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", 0.0)
        apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "乙苑"})])
        assert not wal.exists() or wal.stat().st_size == 0
        monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", 3600.0)
        apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "丙苑"})])
        assert wal.stat().st_size > 0
    finally:
        db.close()
    assert not wal.exists() or wal.stat().st_size == 0


# -- a save that does not fit on the disk -------------------------------------------------------
# DuckDB only: with PostgreSQL a full disk is the server's, which rolls the transaction back.
DISK_FULL_CHILD = """
import json, os, resource, signal, sys
from app.saving.changes import RowChange, SaveRejected, apply_changes
from app.storage.db import StorageFailed, open_database
from app.access.permissions import Actor

path, limit = sys.argv[1], int(sys.argv[2])
db = open_database(path, migrate=False)
c = db.scalar("SELECT id FROM communities")
# the disk is "full" from here on: no file of this process may grow past `limit` bytes
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond it fails (EFBIG) instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
actor = Actor("磁盘测试", role="管理员")

def homes(prefix, n, note):
    return [RowChange("insert", values={"community_id": c, "code": f"{prefix}-{k}", "area": "80.00",
                                        "status": "已入住", "note": note + str(k)}) for k in range(n)]

small = apply_changes(db, actor, "households", homes("S", 5, "小")).inserted
print(json.dumps({"saved": small}), flush=True)
try:
    apply_changes(db, actor, "households", homes("B", 3000, "大" * 300))
    print(json.dumps({"big": "saved"}), flush=True)
except StorageFailed as err:  # a refused save to every page too (they show SaveRejected)
    print(json.dumps({"big": "refused", "message": str(err), "page_shows": isinstance(err, SaveRejected)},
                     ensure_ascii=False), flush=True)
"""


def test_a_save_that_does_not_fit_on_the_disk_says_so_and_loses_nothing(tmp_path):
    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import open_database

    path = tmp_path / "wuye.duckdb"
    db = open_database(str(path))
    apply_changes(db, Actor("测试"), "communities", [RowChange("insert", values={"name": "甲苑"})])
    db.close()
    limit = 1 << 20  # the 5 small rows' log fits in 1 MiB, the 3,000 rows of ~1 KB each do not
    done = subprocess.run([sys.executable, "-c", DISK_FULL_CHILD, str(path), str(limit)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "WUYE_AUTO_BACKUP": "0"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    saved, big = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(saved["saved"]) == 5
    assert big["big"] == "refused"
    assert "磁盘空间不足" in big["message"] and "没有保存" in big["message"] and big["page_shows"]
    # the database opens, holds the small save whole and nothing of the big one; audit = data
    db = open_database(str(path))
    try:
        codes = sorted(r[0] for r in db.rows("SELECT code FROM households"))
        assert codes == [f"S-{k}" for k in range(5)]
        assert db.scalar("SELECT count(*) FROM audit_log WHERE register = 'households'") == 5
        assert audit_replay_mismatches(db) == []
        apply_changes(db, Actor("测试"), "households", [RowChange("insert", values={
            "community_id": db.scalar("SELECT id FROM communities"), "code": "after", "area": "50.00"})])
        assert db.scalar("SELECT count(*) FROM households") == 6  # and takes saves again
    finally:
        db.close()


if __name__ == "__main__" and sys.argv[1:] == ["zygote"]:
    sys.path.insert(0, str(ROOT))
    zygote()
