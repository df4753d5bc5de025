"""Reports benchmark (issue 8): prints figures; never a timed test.

    .venv/bin/python bench/reports.py [--communities 100] [--households 200000] [--months 24]
                                      [--db PATH] [--keep]

Data set: `bench/billing.py`'s `build_dataset` (100 communities, 200,000 households, bills and
payments of `months` periods), built in a child process so this process's peak memory is the
report's. Figures:
1. the monthly report for the owners' committee (all communities, the last billed month):
   total time and peak memory (VmHWM) of this process;
2. the 一户一档 page of one household among them: server time to render pages/household.py
   under Streamlit's AppTest (goal under 1 s), and `household_file.load` alone.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import smoke  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))


def build(path: str, communities: int, households: int, months: int) -> None:
    from billing import build_dataset

    print(build_dataset(path, communities=communities, households=households, months=months), flush=True)


def cpu_seconds() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process (DuckDB's too)
    return use.ru_utime + use.ru_stime


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=100)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--db")
    parser.add_argument("--keep", action="store_true", help="keep the data set file")
    parser.add_argument("--runs", type=int, default=1, help="report runs (the median is printed)")
    parser.add_argument("--skip-report", action="store_true", help="only the household page (figure 2)")
    smoke.flag(parser, communities=2, households=200, months=3, runs=1)
    args = smoke.parse(parser)
    sys.path.insert(0, str(ROOT / "bench"))
    path = args.db or str(Path(tempfile.mkdtemp(prefix="wuye-bench-reports-")) / "bench.duckdb")
    if not Path(path).exists():
        t0 = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=build, args=(path, args.communities, args.households, args.months))
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit(f"building the data set failed ({child.exitcode})")
        print(f"data set built in {time.perf_counter() - t0:.1f} s: {path}")

    from app.access.permissions import Actor
    from app.analysis import reports
    from app.estate import household_file
    from app.storage.db import open_database

    actor = Actor("bench", source="任务")
    db = open_database(path)
    period = db.scalar("SELECT max(period) FROM bills")
    counts = db.rows("SELECT (SELECT count(*) FROM communities), (SELECT count(*) FROM households), "
                     "(SELECT count(*) FROM bills), (SELECT count(*) FROM payments)")[0]
    print(f"communities {counts[0]:,}, households {counts[1]:,}, bills {counts[2]:,}, payments {counts[3]:,}")
    if not args.skip_report:
        before = peak_mb()
        walls, cpus = [], []
        for _ in range(args.runs):
            out = io.BytesIO()
            c0, t0 = cpu_seconds(), time.perf_counter()
            sheets = reports.monthly_report(db, actor, period, out)
            walls.append(time.perf_counter() - t0)
            cpus.append(cpu_seconds() - c0)
        # CPU time too: on a shared machine the wall time includes waiting for a core
        print(f"1. monthly report {period}: {statistics.median(walls):.2f} s (median of {len(walls)}; "
              f"CPU {statistics.median(cpus):.2f} s), {len(out.getvalue()) / 1024:.0f} KiB, "
              f"{len(sheets)} sheets; peak memory of this process {peak_mb():.0f} MiB "
              f"(before the report {before:.0f} MiB; goal under 5 s and 1,024 MiB)")

    hid = db.scalar("SELECT id FROM households ORDER BY id LIMIT 1 OFFSET ?", [counts[1] // 2])
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        household_file.load(db, actor, hid)
        loads.append(time.perf_counter() - t0)
    db.close()

    from apptest import app_test

    from app.ui import session

    os.environ["WUYE_DB"] = path
    session._database.clear()
    at = app_test("pages/household.py", query={"id": str(hid)})
    at.run()  # first run: opens the database and creates the views (once per server process)
    assert not at.exception, at.exception
    renders = []
    for _ in range(3):
        at = app_test("pages/household.py", query={"id": str(hid)})
        t0 = time.perf_counter()
        at.run()
        renders.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    print(f"2. 一户一档 household {hid} of {counts[1]:,}: page render (AppTest, warm server) "
          f"best {min(renders):.2f} s, median {sorted(renders)[1]:.2f} s (goal < 1 s); "
          f"household_file.load best {min(loads):.2f} s")
    session._database.clear()
    if not args.keep and not args.db:
        Path(path).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
