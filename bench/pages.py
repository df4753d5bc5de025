"""Bench: how long every page takes to settle in chromium, for an administrator and for a 客服.

Prints figures; not a test. Run:  .venv/bin/python bench/pages.py [--communities 100]
[--households 200000] [--months 24] [--db PATH] [--demo PATH | --no-demo] [--visits 2]
[--pages N] [--only 首页,账单,房屋档案]

Data: the company-scale estate of bench/billing.py (100 小区, 200,000 households, 24 months of
bills and payments), built in a child process, and beside it the demo database (`wuye seed
--demo`). Each database is served by `streamlit run` as `wuye serve` runs it; chromium signs in
as each user the way a person does (the login form), then opens every page of that user's menu
(app/navigation.toml and the register catalog), `--visits` times. A visit is a page load (page.goto, as a link or a bookmark opens it). A page has settled when its
title is drawn and Streamlit has no run in progress and no stale element (tests/browser.py
`wait_app_idle`). Cold = the first visit after the server started; warm = median of the rest.
Goal on this 2-core machine: home under 1.5 s, every page under 2 s (warm, company scale).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import smoke  # noqa: E402
from tests.browser import launch_chromium, sign_in, start_server, wait_app_idle  # noqa: E402

USERS = {"管理员": ("bench-admin", "Lotus-Harbor-7731"), "客服": ("bench-kefu", "Maple-River-4490")}
TIMEOUT_MS = 120_000


def build_company(path: Path, communities: int, households: int, months: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from billing import build_dataset

    build_dataset(path, communities=communities, households=households, months=months, log=lambda *a: None)


def build_demo(path: Path) -> None:
    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database
    from seed.demo import seed_demo

    db = open_database(str(path))
    seeder = Actor("演示数据", source="任务")
    ensure_defaults(db, seeder)
    seed_demo(db, seeder)
    db.close()


def in_child(target, *args) -> None:
    """Build in a child process: this process stays small, and the file is closed after."""
    child = multiprocessing.get_context("spawn").Process(target=target, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"building the data failed ({target.__name__}, exit {child.exitcode})")


def add_users(path: Path) -> None:
    """The two users who sign in (the 客服 sees the first 小区 only, as a clerk of one office)."""
    from app.access.permissions import cli_actor
    from app.accounts import auth
    from app.storage.db import open_database

    db = open_database(str(path))
    try:
        for role, (name, password) in USERS.items():
            if auth._user(db, name) is None:
                communities = (1,) if role == "客服" else None
                auth.add_user(db, cli_actor(), name, password, role, communities=communities, audit=False)
    finally:
        db.close()


def menu_urls(role: str) -> list[tuple[str, str]]:
    from app.ui import nav

    return [(e.title, "/" + e.url) for items in nav.menu(role).values() for e in items
            if e.url != "password"]


def time_pages(path: Path, log: Path, visits: int, limit: int | None,
               only: set[str] | None = None) -> dict[str, dict[str, list[float]]]:
    """role -> page title -> seconds per visit (nan: did not settle within the time-out)."""
    from playwright.sync_api import sync_playwright

    add_users(path)
    server = start_server(ROOT / "app" / "server.py", log, env={"WUYE_DB": str(path)})
    out: dict[str, dict[str, list[float]]] = {}
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                for role, (name, password) in USERS.items():
                    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
                    context.set_default_timeout(TIMEOUT_MS)
                    page = context.new_page()
                    page.goto(server.url + "/")
                    page.get_by_role("button", name="登录", exact=True).wait_for()
                    sign_in(page, name, password)
                    times: dict[str, list[float]] = {}
                    for title, url in [m for m in menu_urls(role) if not only or m[0] in only][:limit]:
                        for _ in range(visits):
                            t0 = time.perf_counter()
                            try:
                                page.goto(server.url + url)
                                wait_app_idle(page, timeout=TIMEOUT_MS)
                                times.setdefault(title, []).append(time.perf_counter() - t0)
                            except Exception:  # a page that never settles is a figure too
                                times.setdefault(title, []).append(float("nan"))
                        # as it goes: a run that fails later (a busy machine) keeps what it measured
                        print(f"  [{path.name}, {role}] {title}: "
                              + " ".join(f"{v:.2f}" for v in times[title]) + " s", flush=True)
                    out[role] = times
                    context.close()
            finally:
                browser.close()
    finally:
        try:
            server.stop()
        except Exception as err:  # a server slow to stop on a busy machine does not lose the figures
            print(f"  (the server did not stop cleanly: {type(err).__name__})", flush=True)
    return out


def warm(seconds: list[float]) -> float:
    return statistics.median(seconds[1:] or seconds)


def report(label: str, figures: dict[str, dict[str, list[float]]], demo: dict | None) -> None:
    for role, pages in figures.items():
        print(f"\n{label}, signed in as {role}: {len(pages)} pages (seconds to settle: cold / warm"
              + (" / demo warm" if demo else "") + ")")
        for title, seconds in pages.items():
            beside = ""
            if demo and title in demo.get(role, {}):
                beside = f" / {warm(demo[role][title]):6.2f}"
            print(f"  {title:24s} {seconds[0]:6.2f} / {warm(seconds):6.2f}{beside}")
        values = {t: warm(s) for t, s in pages.items()}
        settled = {t: v for t, v in values.items() if v == v}
        slow = sorted(((v, t) for t, v in settled.items() if v >= 2.0), reverse=True)
        home = values.get("首页", float("nan"))
        print(f"  home {home:.2f} s (goal < 1.5: {'met' if home < 1.5 else 'NOT met'}); "
              f"median page {statistics.median(settled.values()) if settled else float('nan'):.2f} s; "
              f"slowest {max(settled.values()) if settled else float('nan'):.2f} s; "
              f"{len(slow)} of {len(values)} pages at 2 s or more"
              + (f" ({', '.join(f'{t} {v:.1f}' for v, t in slow[:8])})" if slow else "")
              + (f"; {len(values) - len(settled)} did not settle" if len(settled) < len(values) else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=100)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--db", help="the company-scale database (built here if missing)")
    parser.add_argument("--demo", help="the demo database (seeded here if missing)")
    parser.add_argument("--no-demo", action="store_true", help="leave out the demo database")
    parser.add_argument("--visits", type=int, default=2, help="visits per page (the first is cold)")
    parser.add_argument("--pages", type=int, default=None, help="only the first N pages of each menu")
    parser.add_argument("--only", help="only these pages, by title (comma-separated), e.g. 首页,账单,房屋档案")
    smoke.flag(parser, communities=2, households=200, months=3, no_demo=True, visits=1, pages=4)
    args = smoke.parse(parser)
    only = set(args.only.split(",")) if args.only else None

    work = Path(tempfile.mkdtemp(prefix="wuye-bench-pages-"))
    try:
        company = Path(args.db) if args.db else work / "company.duckdb"
        if not company.exists():
            t0 = time.perf_counter()
            in_child(build_company, company, args.communities, args.households, args.months)
            print(f"company data set: {args.communities} 小区, {args.households:,} households, "
                  f"{args.months} months, built in {time.perf_counter() - t0:.0f} s")
        demo_figures = None
        if not args.no_demo:
            demo = Path(args.demo) if args.demo else work / "demo.duckdb"
            if not demo.exists():
                t0 = time.perf_counter()
                in_child(build_demo, demo)
                print(f"demo seeded in {time.perf_counter() - t0:.0f} s")
            demo_figures = time_pages(demo, work / "demo.log", args.visits, args.pages, only)
        figures = time_pages(company, work / "company.log", args.visits, args.pages, only)
        report(f"company scale ({args.communities} 小区, {args.households:,} households)", figures, demo_figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
