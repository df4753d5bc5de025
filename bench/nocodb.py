"""NocoDB sync benchmark: push and pull of N rows (rows per second each way), and the time from
a resident's form submission to the work order existing.

    .venv/bin/python bench/nocodb.py [--rows 100000] [--submissions 20] [--backend duckdb|postgres]

Starts its own NocoDB (scripts/nocodb.sh install first) on 127.0.0.1, or uses WUYE_NOCODB_URL +
WUYE_NOCODB_TOKEN. The rows are households (ref, text, decimal, enum, date columns).
- push: every row written to a new NocoDB table.
- pull, nothing changed: every row read back and compared (the first pull after a push).
- pull, every row edited in NocoDB: all N edits applied through the save path and audited.
- form → work order: a submission through the public form, then one intake pull (the running
  app pulls every `office.nocodb_pull_seconds`, which adds up to that interval).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import smoke  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))

from app.access.permissions import Actor  # noqa: E402
from app.saving.changes import RowChange, apply_changes  # noqa: E402
from app.settings import ensure_defaults  # noqa: E402
from app.storage.db import open_database  # noqa: E402
from app.sync import nocodb  # noqa: E402
from app.sync.nocodb_server import LocalNocoDB  # noqa: E402


def database(backend: str, folder: Path):
    if backend == "duckdb":
        return open_database(str(folder / "bench.duckdb")), None
    from conftest import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    return open_database(cluster.createdb("bench")), cluster


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    smoke.flag(parser, rows=40, submissions=1)
    args = smoke.parse(parser)

    import os

    server = None
    if os.environ.get(nocodb.URL_ENV) and os.environ.get(nocodb.TOKEN_ENV):
        link = nocodb.link_from_env(base=f"bench{int(time.time())}")
    else:
        started = time.perf_counter()
        server = LocalNocoDB().start()
        link = nocodb.Link(server.url, server.token(), base="bench")
        print(f"NocoDB {server.url} started in {time.perf_counter() - started:.1f} s")
    folder = Path(tempfile.mkdtemp(prefix="wuye-bench-nocodb-"))
    db, cluster = database(args.backend, folder)
    actor = Actor("基准测试", role="管理员", source="任务")
    try:
        ensure_defaults(db, actor)
        community = apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "阳光花园"})]).inserted[0]
        started = time.perf_counter()
        for first in range(0, args.rows, 10_000):
            apply_changes(db, actor, "households", [
                RowChange("insert", values={
                    "community_id": community, "code": f"{n // 1000 + 1}-{n % 10 + 1}-{n:06d}",
                    "area": f"{60 + n % 90}.{n % 100:02d}", "usage": "住宅", "status": "已入住",
                    "handover_date": date(2020, 1 + n % 12, 1 + n % 28)})
                for n in range(first, min(first + 10_000, args.rows))])
        print(f"seeded {args.rows:,} households in wuye ({args.backend}) in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        report = nocodb.push(db, actor, link, "households")
        took = time.perf_counter() - started
        print(f"push   {report.pushed_new:>7,} rows  {took:7.1f} s  {report.pushed_new / took:8,.0f} rows/s")

        started = time.perf_counter()
        report = nocodb.pull(db, actor, link, "households")
        took = time.perf_counter() - started
        print(f"pull   {args.rows:>7,} rows read, nothing changed  {took:7.1f} s  {args.rows / took:8,.0f} rows/s")

        table = db.scalar("SELECT table_id FROM nocodb_tables WHERE sync_key = 'households'")
        started = time.perf_counter()
        ids = [r["Id"] for r in link.records(table)]
        for part in nocodb._chunks(ids, nocodb.WRITE):
            link.call("PATCH", f"api/v2/tables/{table}/records", [{"Id": i, "备注": f"外勤核对 {i}"} for i in part])
        print(f"(edited {len(ids):,} rows in NocoDB through its API in {time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        report = nocodb.pull(db, actor, link, "households")
        took = time.perf_counter() - started
        assert len(report.updated) == args.rows, report.summary
        print(f"pull   {len(report.updated):>7,} rows edited in NocoDB, applied and audited  {took:7.1f} s  "
              f"{len(report.updated) / took:8,.0f} rows/s")

        nocodb.publish_forms(db, actor, link)
        form = db.scalar("SELECT form_uuid FROM nocodb_tables WHERE sync_key = 'intake:work_orders'")
        latencies = []
        for n in range(args.submissions):
            started = time.perf_counter()
            requests.post(f"{link.url}/api/v1/db/public/shared-view/{form}/rows", timeout=30, files={
                "data": (None, json.dumps({"小区": "阳光花园", "类别": "水电", "报修内容": f"楼道灯不亮 {n}",
                                           "联系电话": "13812345678"}))}).raise_for_status()
            created = nocodb.pull_intake(db, actor, link, "work_orders").created
            assert len(created) == 1
            latencies.append(time.perf_counter() - started)
        print(f"form → work order: median {statistics.median(latencies) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} submissions "
              f"(plus up to office.nocodb_pull_seconds = {nocodb.pull_seconds(db)} s in the running app)")
    finally:
        db.close()
        if cluster is not None:
            cluster.stop()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
