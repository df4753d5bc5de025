"""Bench: the same registers and rule views on DuckDB and on PostgreSQL (through DuckDB).

Prints figures; not a test. Run:  .venv/bin/python bench/backends.py [--rows 1000000]
[--rules-scale 0.2] [--runs 5] [--writers 4] [--seconds 15] [--keep DIR]

Data: the 1,000,000-row households register of bench/grid_page.py and the facilities rule
data of bench/rules.py (scaled), built in DuckDB files, then copied into a private
PostgreSQL cluster with `wuye migrate-to` (timed, verified). Then on both backends:
  (a) first page of the households grid with a filter and a sort (count + page, median);
  (b) a save of 100 changed rows through apply_changes (median);
  (c) each rule view in full into Arrow (median); on PostgreSQL also the view's own SQL run
      natively by PostgreSQL where that SQL is valid there;
  (d) PostgreSQL only: --writers processes saving one row each as fast as they can, for
      --seconds: saves per second and latency percentiles.
Needs Debian's PostgreSQL binaries (/usr/lib/postgresql/15/bin).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench import grid_page, rules, smoke  # noqa: E402  (after the sys.path line)
from tests.conftest import PostgresCluster  # noqa: E402

WRITER = r"""
import json, random, sys, time
from app.saving.changes import ConflictError, RowChange, apply_changes
from app.storage.db import open_database
from app.access.permissions import Actor

url, seconds, top, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = open_database(url)
actor = Actor(f"writer{seed}", source="任务")
rng = random.Random(seed)
print("ready", flush=True)
sys.stdin.readline()
latencies, conflicts, end = [], 0, time.perf_counter() + seconds
while time.perf_counter() < end:
    rid = rng.randint(1, top)
    t0 = time.perf_counter()
    version = db.scalar("SELECT row_version FROM households WHERE id = ?", [rid])
    try:
        apply_changes(db, actor, "households",
                      [RowChange("update", rid, {"note": f"w{seed} {time.time():.3f}"}, version=version)])
        latencies.append(time.perf_counter() - t0)
    except ConflictError:
        conflicts += 1
db.close()
print(json.dumps({"latencies": latencies, "conflicts": conflicts}))
"""


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def first_pages(db, runs: int) -> dict[str, float]:
    from app import registers
    from app.access.permissions import Actor
    from app.reading.queries import PageRequest, count_rows, fetch_page

    actor = Actor("bench", role="管理员")
    reg = registers.get("households")
    cases = {
        "filter status=空置, sort area desc": PageRequest(
            filters={"status": ["空置"]}, sort="area", descending=True, page_size=50),
        "filter community 7 + status 出租, sort code": PageRequest(
            filters={"community_id": [7], "status": ["出租"]}, sort="code", page_size=50),
        "filter community = 7 (scalar), sort code": PageRequest(
            filters={"community_id": 7}, sort="code", page_size=50),
        "no filter, default order, page 1": PageRequest(page_size=50),
    }
    out = {}
    for name, req in cases.items():
        out[name], _ = timed(
            lambda req=req: (count_rows(db, reg, req, actor), fetch_page(db, actor, reg, req)), runs)
    return out


def save_hundred(db, runs: int) -> float:
    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes

    actor = Actor("bench", source="任务")
    top = db.scalar("SELECT max(id) FROM households")
    ids = [1 + k * (top // 100) for k in range(100)]
    times = []
    for n in range(runs):
        versions = dict(db.rows("SELECT id, row_version FROM households WHERE id IN (SELECT unnest(?))", [ids]))
        changes = [RowChange("update", i, {"note": f"bench {n}"}, version=versions[i]) for i in ids]
        t0 = time.perf_counter()
        apply_changes(db, actor, "households", changes)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def view_body(name: str) -> str:
    from app.reading.views import view_path

    text = view_path(name).read_text(encoding="utf-8")
    body = re.split(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+\w+\s+AS", text, maxsplit=1, flags=re.IGNORECASE)[1]
    return body.strip().rstrip(";")


def views_in_full(db, runs: int, native: bool) -> dict[str, tuple[int, float, float | str | None]]:
    from app.reading.views import view_names
    from app.storage import postgres

    out = {}
    cur = db.cursor()
    for name in view_names():
        seconds, table = timed(lambda name=name: cur.execute("SELECT * FROM " + name).arrow().read_all(), runs)
        plain: float | str | None = None
        if native:
            # The same SQL, run by PostgreSQL itself (only where it is valid PostgreSQL SQL).
            sql = "SELECT count(*) FROM (" + view_body(name).replace(" AS DOUBLE)", " AS double precision)") + ") v"
            try:
                plain, _ = timed(lambda sql=sql: postgres.rows(cur, sql), runs)
            except Exception as err:  # noqa: BLE001 - reported, not raised
                plain = "n/a: " + str(err).split("ERROR:")[-1].strip().splitlines()[0][:60]
        out[name] = (table.num_rows, seconds, plain)
    return out


def writers(url: str, count: int, seconds: float, top: int) -> dict:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, str(seconds), str(top), str(k)],
                         cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for k in range(count)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [json.loads(p.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1]) for p in procs]
    latencies = sorted(x for r in results for x in r["latencies"])
    q = statistics.quantiles(latencies, n=100)
    return {"saves": len(latencies), "per_second": len(latencies) / seconds, "p50": q[49], "p95": q[94],
            "max": latencies[-1], "conflicts": sum(r["conflicts"] for r in results)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rules-scale", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--keep", help="folder for the scratch DuckDB files (kept)")
    smoke.flag(parser, rows=2_000, rules_scale=0.01, runs=1, writers=1, seconds=1.0)
    args = smoke.parse(parser)

    from app.admin.migrate_to import migrate_to
    from app.storage.db import open_database

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wuye-bench-backends-"))
    work.mkdir(parents=True, exist_ok=True)
    files = {"households": work / "households.duckdb", "rules": work / "rules.duckdb"}
    cluster = PostgresCluster()
    try:
        t0 = time.perf_counter()
        if not files["households"].exists():
            grid_page.build_database(files["households"], args.rows)
        if not files["rules"].exists():
            rules.build_database(files["rules"], args.rules_scale)
        print(f"DuckDB files built in {time.perf_counter() - t0:.1f} s "
              f"({args.rows:,} households; rules data at scale {args.rules_scale})")

        cluster.start()
        urls = {}
        for name, path in files.items():
            urls[name] = cluster.createdb(name)
            t0 = time.perf_counter()
            reports = migrate_to(str(path), urls[name])
            rows = sum(r.source_rows for r in reports)
            ok = all(r.ok for r in reports)
            print(f"migrate-to {name}: {rows:,} rows in {time.perf_counter() - t0:.1f} s "
                  f"(copy + sequences + per-table checksums; {'all verified' if ok else 'MISMATCH'})")

        print(f"\n(a) households first page (count + page of 50), median of {args.runs}")
        pages = {}
        for backend, target in (("duckdb", files["households"]), ("postgres", urls["households"])):
            db = open_database(str(target))
            pages[backend] = first_pages(db, args.runs)
            if backend == "duckdb":
                saved_duck = save_hundred(db, 3)
            else:
                saved_pg = save_hundred(db, 3)
            db.close()
        print(f"  {'case':<46}{'duckdb':>12}{'postgres':>12}")
        for case in pages["duckdb"]:
            print(f"  {case:<46}{ms(pages['duckdb'][case]):>12}{ms(pages['postgres'][case]):>12}")

        print("\n(b) save of 100 changed rows (apply_changes, median of 3)")
        print(f"  duckdb {ms(saved_duck)}   postgres {ms(saved_pg)}")

        print(f"\n(c) rule views in full into Arrow, median of {args.runs} (rules data)")
        duck_db = open_database(str(files["rules"]))
        duck_views = views_in_full(duck_db, args.runs, native=False)
        duck_db.close()
        pg_db = open_database(urls["rules"])
        pg_views = views_in_full(pg_db, args.runs, native=True)
        pg_db.close()
        print(f"  {'view':<28}{'rows':>9}{'duckdb':>12}{'pg via duckdb':>15}  pg native (same SQL)")
        for name, (n, seconds, _) in duck_views.items():
            pg_n, pg_seconds, plain = pg_views[name]
            native = ms(plain) if isinstance(plain, float) else plain
            print(f"  {name:<28}{n:>9,}{ms(seconds):>12}{ms(pg_seconds):>15}  {native}"
                  + ("" if n == pg_n else f"  (rows differ: {pg_n:,})"))

        if args.writers:
            print(f"\n(d) {args.writers} writer processes on PostgreSQL, one-row saves for {args.seconds:.0f} s")
            w = writers(urls["households"], args.writers, args.seconds, args.rows)
            print(f"  {w['saves']:,} saves, {w['per_second']:.1f} saves/s; latency p50 {ms(w['p50'])}, "
                  f"p95 {ms(w['p95'])}, max {ms(w['max'])}; conflicts {w['conflicts']}")
    finally:
        cluster.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
