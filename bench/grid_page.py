"""Bench: a paged register grid at 1,000,000 rows against sending a whole table to the browser.

Prints figures; not a test. Run:  .venv/bin/python bench/grid_page.py [--rows 1000000]
[--naive-rows 200000] [--runs 7] [--keep DIR]

  (a) server: build the first page with a filter and a sort (`fetch_page` + `count_rows`),
      median of several runs;
  (b) browser, signed in as a clerk (the cookie of one sign-in): navigation start -> first grid
      cell shown, paged grid at /households;
  (c) browser: the naive way, a tiny Streamlit script sending a whole 200,000-row table with
      st.data_editor, navigation start -> first grid cell shown;
  ratio (c)/(b) (goal: paged >= 5x faster and < 1.5 s) and each server's peak RSS (VmHWM).

Needs Debian's chromium at /usr/bin/chromium and the playwright Python package.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import smoke  # noqa: E402
from tests.browser import launch_chromium, sign_in, start_app, start_server  # noqa: E402

COMMUNITIES = 20
BUILDINGS_PER_COMMUNITY = 50
# A building holds 4 units x 25 floors x 10 rooms = 1000 households.


def build_database(path: Path, rows: int) -> None:
    """Schema through the app (migrations, default settings); bulk rows straight in SQL."""
    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    db = open_database(str(path))
    ensure_defaults(db, Actor("bench", source="任务"))
    per_community = max(1, -(-rows // COMMUNITIES))
    buildings = max(1, -(-per_community // 1000))
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO communities (id, name, address, total_area, parking_spaces, handover_date)
               SELECT i + 1, '测试小区' || (i + 1), '测试路' || (i + 1) || '号', 100000, 500,
                      DATE '2010-01-01' + CAST(i * 30 AS INTEGER)
               FROM range(?) t(i)""",
            [COMMUNITIES],
        )
        cur.execute(
            """INSERT INTO buildings (id, community_id, code, floors, units, has_elevator, built_year)
               SELECT c * ? + b + 1, c + 1, CAST(b + 1 AS VARCHAR), 25, 4, TRUE, 2008
               FROM range(?) t(c), range(?) u(b)""",
            [buildings, COMMUNITIES, buildings],
        )
        cur.execute(
            """INSERT INTO households (id, community_id, building_id, code, area, usage, status,
                                       handover_date, move_in_date, note)
               SELECT i + 1, c + 1, c * ? + bl + 1,
                      concat(bl + 1, '-', k // 250 + 1, '-', ((k % 250) // 10 + 1) * 100 + k % 10 + 1),
                      CAST(round(50 + (hash(i) % 15000) / 100.0, 2) AS DECIMAL(10, 2)),
                      CASE WHEN k % 50 = 0 THEN '商铺' WHEN k % 47 = 0 THEN '车库' ELSE '住宅' END,
                      ['已入住', '空置', '装修中', '出租'][CAST(hash(i * 7) % 4 AS INTEGER) + 1],
                      DATE '2012-06-01' + CAST(hash(i * 3) % 2000 AS INTEGER),
                      CASE WHEN hash(i * 5) % 3 = 0 THEN NULL
                           ELSE DATE '2018-01-01' + CAST(hash(i * 11) % 2000 AS INTEGER) END,
                      CASE WHEN k % 9 = 0 THEN '备注' || i ELSE NULL END
               FROM (SELECT i, i // ? AS c, (i % ?) // 1000 AS bl, i % 1000 AS k FROM range(?) r(i))""",
            [buildings, per_community, per_community, rows],
        )
    db.close()


def bench_server(path: Path, runs: int) -> dict[str, float]:
    """(a) first page with a filter and a sort, as the grid asks for it."""
    from app import registers
    from app.access.permissions import Actor
    from app.reading.queries import PageRequest, count_rows, fetch_page
    from app.storage.db import open_database

    db = open_database(str(path))
    actor = Actor("bench", role="管理员")
    reg = registers.get("households")
    cases = {
        "no filter, default order, page 1 (first view)": PageRequest(page_size=50),
        "filter status=空置, sort area desc": PageRequest(
            filters={"status": ["空置"]}, sort="area", descending=True, page_size=50),
        "filter community 7 + status 出租, sort code": PageRequest(
            filters={"community_id": [7], "status": ["出租"]}, sort="code", page_size=50),
        "search '1-2-', sort move_in_date": PageRequest(
            search="1-2-", sort="move_in_date", page_size=50),
        "no filter, default order, page 2000": PageRequest(page=2000, page_size=50),
    }
    out = {}
    for name, req in cases.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            total = count_rows(db, reg, req, actor)
            frame, _ = fetch_page(db, actor, reg, req)
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
        print(f"  {name:48s} median {out[name] * 1000:7.1f} ms  "
              f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; "
              f"{total:,} rows match, page has {len(frame)})")
    db.close()
    return out


# Records when each milestone first appears (ms since navigation start), from an init script.
MILESTONES = {
    "app": '[data-testid="stApp"]',
    "title": '[data-testid="stMain"] h1',
    "grid": '[data-testid="stDataFrameResizable"] canvas',
    "cell": '[data-testid="stDataFrameResizable"] [data-testid="glide-cell-1-0"]',
}
WATCH_JS = """
(() => {
  const wanted = %s;
  window.__marks = {};
  const look = () => {
    for (const [name, sel] of Object.entries(wanted)) {
      if (window.__marks[name] !== undefined) continue;
      const el = document.querySelector(sel);
      if (el && (name !== 'cell' || el.textContent.trim().length > 0)) window.__marks[name] = performance.now();
    }
  };
  new MutationObserver(look).observe(document, {childList: true, subtree: true, characterData: true});
})();
"""


def time_first_cell(context, url: str, timeout_s: float = 180) -> dict[str, float]:
    """Seconds from navigation start until each milestone; 'cell' = first data cell drawn."""
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__marks && window.__marks.cell !== undefined",
                               timeout=timeout_s * 1000, polling=50)
        return {k: v / 1000 for k, v in page.evaluate("() => window.__marks").items()}
    finally:
        page.close()


NAIVE_SCRIPT = textwrap.dedent("""
    import pandas as pd
    import streamlit as st

    st.set_page_config(layout="wide")

    @st.cache_resource
    def frame():
        return pd.read_parquet({parquet!r})

    st.title("整表发送")
    st.data_editor(frame(), key="naive", hide_index=True, num_rows="dynamic")
""")


def bench_browser(path: Path, work: Path, naive_rows: int, visits: int) -> dict:
    # the naive table: the same register's rows, straight from the file
    import duckdb
    from playwright.sync_api import sync_playwright

    parquet = work / "naive.parquet"
    con = duckdb.connect(str(path), read_only=True)
    con.execute(
        "COPY (SELECT * FROM households ORDER BY id LIMIT ?) TO '" + str(parquet) + "' (FORMAT parquet)",
        [naive_rows],
    )
    con.close()
    naive = work / "naive_app.py"
    naive.write_text(NAIVE_SCRIPT.format(parquet=str(parquet)), encoding="utf-8")

    results: dict = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for label, starter, url_path in (
                ("paged", lambda: start_app(path, work / "paged.log"), "/households"),
                ("naive", lambda: start_server(naive, work / "naive.log"), "/"),
            ):
                server = starter()
                # one browser profile per server: later visits have its HTTP cache, as a
                # clerk's browser does
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                if label == "paged":  # the app asks who you are first: sign in as a clerk would
                    login = context.new_page()
                    login.goto(server.url + url_path)
                    login.get_by_role("button", name="登录", exact=True).wait_for(timeout=180_000)
                    sign_in(login)
                    login.close()
                context.add_init_script(WATCH_JS % json.dumps(MILESTONES))
                try:
                    marks = [time_first_cell(context, server.url + url_path)
                             for _ in range(visits)]
                    times = [m["cell"] for m in marks]
                    warm = marks[1:] or marks
                    results[label] = {
                        "cold": times[0], "warm": statistics.median(times[1:] or times),
                        "all": times, "rss_mb": server.peak_rss_mb(),
                        "warm_marks": {k: statistics.median(m.get(k, float("nan")) for m in warm)
                                       for k in MILESTONES},
                    }
                finally:
                    context.close()
                    server.stop()
        finally:
            browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7, help="server runs per case")
    parser.add_argument("--visits", type=int, default=4, help="browser visits per page")
    parser.add_argument("--keep", help="build the database in this folder and keep it")
    smoke.flag(parser, rows=2_000, naive_rows=500, runs=1, visits=1)
    args = smoke.parse(parser)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wuye-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / "bench.duckdb"
    try:
        if not path.exists():
            t0 = time.perf_counter()
            build_database(path, args.rows)
            print(f"built {args.rows:,} households in {time.perf_counter() - t0:.1f} s "
                  f"({path.stat().st_size / 2**20:.0f} MiB) at {path}")
        print(f"(a) server: count_rows + fetch_page, median of {args.runs}")
        server = bench_server(path, args.runs)
        print(f"(b, c) browser: navigation start -> first grid cell, {args.visits} visits each "
              "(cold = first visit after server start, warm = median of the rest)")
        res = bench_browser(path, work, args.naive_rows, args.visits)
        paged, naive = res["paged"], res["naive"]
        for label, r, what in (("paged", paged, f"/households, {args.rows:,} rows, 50 per page"),
                               ("naive", naive, f"whole table, {args.naive_rows:,} rows")):
            print(f"  {label}: {what}: cold {r['cold']:.2f} s, warm {r['warm']:.2f} s "
                  f"(all {', '.join(f'{t:.2f}' for t in r['all'])}); "
                  f"server peak RSS {r['rss_mb']:.0f} MiB")
            print("    warm milestones: " + ", ".join(f"{k} {v:.2f} s"
                                                    for k, v in r["warm_marks"].items()))
        ratio_warm = naive["warm"] / paged["warm"]
        ratio_cold = naive["cold"] / paged["cold"]
        ok = ratio_warm >= 5 and paged["warm"] < 1.5
        print(f"ratio naive/paged: warm {ratio_warm:.1f}x, cold {ratio_cold:.1f}x "
              f"(goal: >= 5x and paged < 1.5 s: {'met' if ok else 'NOT met'})")
        print(f"worst server case (a): {max(server.values()) * 1000:.0f} ms")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
