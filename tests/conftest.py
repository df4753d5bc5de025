"""Shared fixtures: a fresh migrated database per test, with the default settings, on each backend.

Every test that uses `db` runs twice: on a DuckDB file (`[duckdb]`) and on PostgreSQL
(`[postgres]`): a private cluster started once per session on 127.0.0.1 and a free port,
each test getting its own database copied from a migrated template. `--backend duckdb`
(or `WUYE_TEST_BACKENDS=duckdb`) runs one backend only.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from browser import chromium, page  # noqa: F401  (fixtures of the browser tests)

from app.access.permissions import Actor
from app.saving.derived import open_for_app
from app.storage.db import Database

# No daily backups or backups before imports and bill runs in tests (app/admin/backup.py); the
# backup tests turn them on where they test them.
os.environ.setdefault("WUYE_AUTO_BACKUP", "0")

ARTIFACTS = Path(__file__).parent / "artifacts"
BACKENDS = ("duckdb", "postgres")
PG_BIN = Path(os.environ.get("WUYE_PG_BIN", "/usr/lib/postgresql/15/bin"))
TEMPLATE = "wuye_template"
# The demo's "today" in the tests: fixed, so the demo facts the tests assert stay the same
# whatever day they run (`wuye seed --demo` uses the real today).
DEMO_AS_OF = date(2026, 9, 30)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item: the browser `page` fixture saves what the page
    showed when the test itself failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend", action="append", choices=BACKENDS,
        help="run tests using `db` on this backend only (repeatable; default: both)",
    )


# Seconds each long module took in a full CI run (2 workers, 2026-12-08). pytest-xdist hands whole
# files to the worker that frees up (`--dist loadfile --no-loadscope-reorder` in .ci/run), in
# collection order: the longest go first, so that no long file starts when the rest is done. Other
# browser modules follow them, then the rest in file order.
MODULE_SECONDS = {
    "test_pages": 345, "test_import": 340, "test_browser_walk_admin": 245, "test_reliability": 235,
    "test_demo_today": 230, "test_bench_smoke": 200, "test_sql_console": 120, "test_browser_fire": 60,
    "test_browser": 100, "test_readme_company": 100, "test_seed": 95, "test_analysis": 85,
    "test_postgres_backend": 80, "test_backup": 75, "test_cli": 70, "test_permissions": 70,
    "test_scope_hardening": 60, "test_console_errors": 60, "test_estate_rules": 60,
    "test_browser_walk_field": 50, "test_browser_walk_office": 50, "test_rules_facilities": 50,
    "test_auth": 50, "test_import_corpus": 50, "test_export": 50, "test_browser_menu": 45,
    "test_save_rules_facilities": 45, "test_login_throttle": 45, "test_nocodb": 45,
    "test_browser_service": 40, "test_checks_pages": 40,
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser = {item.module.__name__ for item in items if item.get_closest_marker("browser") is not None}

    def cost(item: pytest.Item) -> int:
        name = item.module.__name__
        return MODULE_SECONDS.get(name, 20 if name in browser else 0)

    items.sort(key=lambda item: -cost(item))  # stable: file order kept within and among equals


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend") or [
            b for b in os.environ.get("WUYE_TEST_BACKENDS", ",".join(BACKENDS)).split(",") if b
        ]
        metafunc.parametrize("backend", chosen)


class PostgresCluster:
    """A throwaway PostgreSQL cluster owned by this test session."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wuye-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self._names = itertools.count(1)
        # Copying the template takes about 0.4 s: keep the next databases under way meanwhile.
        self._worker = ThreadPoolExecutor(max_workers=1)
        self._ready: deque[Future] = deque()
        # initdb refuses to run as root: run the server as the `postgres` user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(PG_BIN / tool), *args], check=True, capture_output=True,
                       text=True, cwd=self.dir)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8")
        for _ in range(3):
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                          str(self.dir / "server.log"), "-w", "start")
                return
            except subprocess.CalledProcessError:
                continue  # the port was taken meanwhile
        raise RuntimeError("PostgreSQL did not start: " + (self.dir / "server.log").read_text())

    def stop(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def createdb(self, name: str, template: str | None = None) -> str:
        args = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        self._run("createdb", *args, *(["-T", template] if template else []), name)
        return self.url(name)

    def dropdb(self, name: str) -> None:
        self._worker.submit(self._run, "dropdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "--force", "--if-exists", name)

    def fresh_database(self) -> str:
        """A new database, copied from the migrated template with default settings."""
        while len(self._ready) < 3:
            self._ready.append(self._worker.submit(self.createdb, f"test_{next(self._names)}", TEMPLATE))
        return self._ready.popleft().result()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_defaults(url: str) -> Database:
    from app.settings import ensure_defaults

    database = open_for_app(url)
    ensure_defaults(database, Actor("测试", source="任务"))
    return database


@pytest.fixture(scope="session")
def pg_cluster() -> PostgresCluster:
    """The session's PostgreSQL cluster, with the migrated template database."""
    if not (PG_BIN / "initdb").exists():
        reason = (f"PostgreSQL binaries not found in {PG_BIN} "
                  "(apt-get install postgresql, or set WUYE_PG_BIN)")
        if os.environ.get("CI") or os.environ.get("WUYE_REQUIRE_POSTGRES"):
            pytest.fail(reason + ": CI must test the PostgreSQL backend")
        pytest.skip(reason)
    cluster = PostgresCluster()
    cluster.start()
    try:
        _with_defaults(cluster.createdb(TEMPLATE)).close()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def db_url(backend: str, tmp_path, request) -> str:
    """Where a fresh database lives: a new DuckDB file, or a new PostgreSQL database."""
    if backend == "duckdb":
        yield str(tmp_path / "wuye.duckdb")
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    url = cluster.fresh_database()
    yield url
    cluster.dropdb(url.rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def duckdb_template(tmp_path_factory) -> Path:
    """A migrated DuckDB file with the default settings, copied for each test as PostgreSQL's
    template database is (migrating a new file takes seconds; opening a copy, a fraction)."""
    path = tmp_path_factory.mktemp("template") / "wuye.duckdb"
    _with_defaults(str(path)).close()
    assert not Path(str(path) + ".wal").exists()  # closed with a checkpoint: the file is all of it
    return path


@pytest.fixture
def db(db_url: str, request) -> Database:
    if not db_url.startswith("postgresql"):
        shutil.copy(request.getfixturevalue("duckdb_template"), db_url)
    database = _with_defaults(db_url)
    yield database
    database.close()


@pytest.fixture
def actor() -> Actor:
    return Actor(user="王会计", role="管理员")


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    """The demo estate as of DEMO_AS_OF, seeded once into a DuckDB file; tests copy it
    (`copy_demo`), never write it.

    Under pytest-xdist the workers share one file: the first to take the lock seeds it.
    """
    import fcntl

    from app.settings import ensure_defaults
    from seed.demo import seed_demo

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the session's common temporary folder
    path = shared / "demo" / "demo.duckdb"
    path.parent.mkdir(exist_ok=True)
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            partial = path.with_name("seeding.duckdb")
            partial.unlink(missing_ok=True)
            database = open_for_app(str(partial))
            seeder = Actor("演示数据", source="任务")
            ensure_defaults(database, seeder)
            counts = seed_demo(database, seeder, as_of=DEMO_AS_OF)
            database.close()
            demo_counts_file(path).write_text(json.dumps(counts, ensure_ascii=False))
            partial.rename(path)
    return path


def demo_counts_file(demo: Path) -> Path:
    """What `seed_demo` returned for the session's demo file: rows added per register."""
    return demo.with_name("counts.json")


@pytest.fixture(scope="module")
def copy_demo(demo_file, tmp_path_factory):
    """A function giving a fresh copy of the demo file, for a module to change as it likes."""
    import shutil

    def copy(name: str = "wuye") -> Path:
        target = tmp_path_factory.mktemp(name) / "wuye.duckdb"
        shutil.copy(demo_file, target)
        return target

    return copy
