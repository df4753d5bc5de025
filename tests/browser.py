"""Helpers for real-browser tests and the grid bench: a Streamlit server and Debian's chromium.

The server is `streamlit run app/server.py` with the flags of `wuye serve`
(streamlit_config/config.toml), started as our own subprocess so it can be stopped by pid.
DuckDB files are locked by the process that opens them: stop the server before opening the
file from the test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts"
# Debian's chromium: WUYE_CHROMIUM if set, else on PATH, else its usual place (a path either way).
CHROMIUM = os.environ.get("WUYE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
GLIDE_EDITOR = "#portal input.gdg-input, #portal textarea"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A Streamlit server subprocess on 127.0.0.1."""

    port: int
    proc: subprocess.Popen
    log: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        """VmHWM of the server process (peak resident memory), in MiB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def stop(self) -> None:
        """Stop the server by its pid (SIGTERM, then SIGKILL); waits so the DB lock is freed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def streamlit_command(script: Path, port: int) -> list[str]:
    from app.cli import streamlit_flags

    return [
        sys.executable, "-m", "streamlit", "run", str(script), *streamlit_flags(),
        "--server.port", str(port), "--server.address", "127.0.0.1",
    ]


def start_server(script: Path, log: Path, env: dict[str, str] | None = None,
                 timeout: float = 60.0) -> Server:
    """Start `streamlit run script` on a free port and wait until /_stcore/health says ok."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")  # noqa: SIM115  (the server process writes to it until stopped)
    proc = subprocess.Popen(
        streamlit_command(script, port), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    out.close()
    server = Server(port, proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s:\n{log.read_text()}")


# The user browser tests sign in as (added to the file before the server starts, unaudited).
BROWSER_USER = "浏览器测试"
BROWSER_PASSWORD = "browser-pass-2026"


def ensure_browser_user(db_path: Path) -> None:
    """The browser tests' administrator in the file (the server must not be running)."""
    from app.access.permissions import cli_actor
    from app.accounts import auth
    from app.storage.db import open_database

    db = open_database(str(db_path))
    try:
        if auth._user(db, BROWSER_USER) is None:
            auth.add_user(db, cli_actor(), BROWSER_USER, BROWSER_PASSWORD, "管理员", audit=False)
    finally:
        db.close()


def start_app(db_path: Path, log: Path) -> Server:
    """The wuye app (as `wuye serve` runs it) on the given DuckDB file, with the browser user."""
    ensure_browser_user(db_path)
    return start_server(ROOT / "app" / "server.py", log, env={"WUYE_DB": str(db_path)})


def browser_required() -> bool:
    """Under CI (or WUYE_REQUIRE_BROWSER=1) a missing chromium fails the browser tests."""
    return bool(os.environ.get("CI") or os.environ.get("WUYE_REQUIRE_BROWSER"))


def chromium_missing() -> str | None:
    """Why there is no chromium to run, or None."""
    if Path(CHROMIUM).exists():
        return None
    return f"no chromium on PATH or at {CHROMIUM} (apt-get install chromium)"


def require_chromium() -> None:
    """Skip the calling test without chromium, or fail it where the browser tests must run."""
    reason = chromium_missing()
    if reason is None:
        return
    if browser_required():
        pytest.fail(reason + ": CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


# A module's `pytestmark`: skip early (before its app starts) unless the browser is required,
# in which case the test runs and the `chromium` fixture fails it.
needs_chromium = pytest.mark.skipif(
    chromium_missing() is not None and not browser_required(), reason=chromium_missing() or "")


def launch_chromium(playwright):
    reason = chromium_missing()
    if reason is not None:  # Playwright's own error would name a path only
        raise RuntimeError(reason)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# -- pages --------------------------------------------------------------------------------------
def record_sent(page) -> list[bytes]:
    """Record every message the page sends the Streamlit server over its websocket (widget
    states, as protobuf bytes), from now on; `page.wuye_sent` is the list."""
    sent: list[bytes] = []

    def watch(ws) -> None:
        ws.on("framesent", lambda payload: sent.append(
            payload.encode() if isinstance(payload, str) else bytes(payload)))

    page.on("websocket", watch)
    page.wuye_sent = sent
    return sent


def wait_sent(page, text: str, since: int = 0, timeout: float = 10.0) -> None:
    """Wait until the page has sent the server a message holding `text` (e.g. the grid's edits
    after a cell was typed in): from then on a click's rerun runs with it. Messages from index
    `since` of `page.wuye_sent` on count (record_sent must have been called before the page
    opened; the `page` fixture does)."""
    needle = text.encode()
    deadline = time.monotonic() + timeout
    while not any(needle in frame for frame in page.wuye_sent[since:]):
        assert time.monotonic() < deadline, f"the page did not send {text!r} to the server"
        page.wait_for_timeout(50)  # lets Playwright deliver the websocket events


def next_paint(page) -> None:
    """Wait until the browser has drawn two more frames (layout and canvases after a change)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def wait_app_idle(page, timeout: float = 20_000) -> None:
    """Wait until Streamlit has finished the script run (no status widget, no stale elements)."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && !document.querySelector('[data-stale="true"]')""",
        timeout=timeout,
    )


def add_row(page, n: int = 0, attempts: int = 5) -> None:
    """Click the grid toolbar's "Add row". The toolbar shows only while the mouse is over the
    grid, and a rerun under load may redraw it between the hover and the click: hover again."""
    for attempt in range(attempts):
        grid(page, n).hover()
        try:
            page.get_by_role("button", name="Add row").first.click(timeout=4_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            wait_app_idle(page)


def choose(page, label: str, option: str, n: int = 0, attempts: int = 3) -> None:
    """Pick `option` in the (n-th) select box labelled `label` by typing it: a click on a list
    item that is still being laid out can miss, leaving the list open and the rest of the page
    aria-hidden."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).nth(n)
    for attempt in range(attempts):
        box.click()
        page.keyboard.type(option)
        page.keyboard.press("Enter")
        wait_app_idle(page)
        try:
            expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(option)), timeout=5_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
            if attempt == attempts - 1:
                raise


def select_tab(page, name: str) -> None:
    """Make tab `name` the selected one (a rerun may redraw the tabs on their first one)."""
    tab = page.get_by_role("tab", name=name, exact=True)
    for _ in range(5):
        tab.wait_for(timeout=60_000)
        if tab.get_attribute("aria-selected") == "true":
            return
        tab.click()
        wait_app_idle(page)
    expect(tab).to_have_attribute("aria-selected", "true")


def exceptions(page) -> list[str]:
    """Texts of the error boxes Streamlit shows for an uncaught exception."""
    return page.get_by_test_id("stException").all_inner_texts()


def full_page_screenshot(page, path: Path, max_height: int = 6000) -> None:
    """Streamlit scrolls inside stMain: grow the viewport to the content, then shoot."""
    height = page.evaluate(
        """() => Math.max(...['stMain', 'stSidebarContent'].map(id => {
                 const el = document.querySelector(`[data-testid="${id}"]`);
                 return el ? el.scrollHeight : 0; }))"""
    )
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max(int(height), 600), max_height)})
    next_paint(page)  # relayout; Glide redraws its canvas
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


# -- the Glide grid ----------------------------------------------------------------------------
# The grid is a canvas; Glide mirrors it in an accessibility table: headers are
# th[aria-colindex], cells td[data-testid=glide-cell-<col>-<row>] (not "visible" to Playwright).
ROW_HEIGHT = 35


def grid(page, n: int = 0):
    return page.get_by_test_id("stDataFrameResizable").nth(n)


def cell(page, col: int, row: int, n: int = 0):
    return grid(page, n).get_by_test_id(f"glide-cell-{col}-{row}")


def wait_grid(page, n: int = 0, timeout: float = 20_000) -> None:
    """Wait until the grid has drawn its first data row."""
    cell(page, 1, 0, n).wait_for(state="attached", timeout=timeout)


def column(page, label: str, n: int = 0) -> int:
    """The column index (as in glide-cell-<col>-…) of the column headed `label`."""
    headers = grid(page, n).locator('th[role="columnheader"]')
    for i in range(headers.count()):
        th = headers.nth(i)
        if (th.text_content() or "").strip() == label:
            return int(th.get_attribute("aria-colindex"))
    raise LookupError(f"no column {label!r}")


def open_todo(page) -> list[int]:
    """Unfold every area of the home page's 今日待办 (an expander per area, folded at first) and
    return the indexes of their grids (each has a 事项 column), top to bottom."""
    page.get_by_role("heading", name="今日待办").wait_for()
    folds = page.get_by_test_id("stExpander").filter(has_text=re.compile(r"：\d+ 项"))
    folds.first.wait_for()
    for i in range(folds.count()):
        if folds.nth(i).locator("details[open]").count() == 0:
            folds.nth(i).locator("summary").click()
    items = page.get_by_test_id("stDataFrameResizable").filter(
        has=page.locator('th[role="columnheader"]', has_text="事项"))
    for i in range(folds.count()):  # every area's grid drawn (ten grids of up to 200 rows take a while)
        items.nth(i).wait_for(timeout=90_000)
    grids = page.get_by_test_id("stDataFrameResizable")
    found = [i for i in range(grids.count())
             if grid(page, i).locator('th[role="columnheader"]', has_text="事项").count()]
    for n in found:
        wait_grid(page, n)
    return found


def cell_text(page, col: int, row: int, n: int = 0) -> str:
    return (cell(page, col, row, n).text_content() or "").strip()


def select_cell(page, col: int, row: int, n: int = 0) -> None:
    """Select a cell with the mouse on the first column of its row, then arrow keys."""
    box = grid(page, n).bounding_box()
    first = cell(page, 1, row, n)
    page.mouse.click(box["x"] + 60, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)
    first.and_(page.locator('[aria-selected="true"]')).wait_for(state="attached", timeout=5_000)
    for _ in range(col - 1):
        page.keyboard.press("ArrowRight")
    selected = cell(page, col, row, n).and_(page.locator('[aria-selected="true"]'))
    selected.wait_for(state="attached", timeout=5_000)


def edit_cell(page, col: int, row: int, text: str, n: int = 0) -> None:
    """Type `text` into a cell through Glide's overlay editor; wait until the grid shows it and
    the edit has been sent to Streamlit."""
    since = len(getattr(page, "wuye_sent", []))
    select_cell(page, col, row, n)
    page.keyboard.press("Enter")
    editor = page.locator(GLIDE_EDITOR).first
    editor.wait_for(state="visible", timeout=5_000)
    editor.fill(text)
    editor.press("Enter")
    editor.wait_for(state="hidden", timeout=5_000)
    expect(cell(page, col, row, n)).to_contain_text(text, timeout=5_000)
    if hasattr(page, "wuye_sent"):  # let the edit reach Streamlit before anything reruns the app
        wait_sent(page, text, since)
    else:  # a page made without record_sent (e.g. a bench's): the old allowance
        page.wait_for_timeout(500)


class App:
    """The running app on one DuckDB file; `offline()` stops it to read the file, then restarts."""

    def __init__(self, db_path: Path, log: Path, on_start=None):
        self.db_path, self.log = db_path, log
        self.on_start = on_start  # on_start(app, read-only connection) before each start
        self.server: Server | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        ensure_browser_user(self.db_path)  # before on_start, which may count audit rows
        if self.on_start is not None:
            with self._open() as con:
                self.on_start(self, con)
        self.server = start_app(self.db_path, self.log)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @contextmanager
    def _open(self):
        import duckdb

        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def offline(self):
        """Stop the server, yield a read-only connection to the file, start the server again."""
        self.stop()
        try:
            with self._open() as con:
                yield con
        finally:
            self.start()


def running_app(path: Path, log: Path, on_start=None):
    """A generator for a module fixture: the app started on the file, stopped at the end."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    app = App(path, log, on_start)
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(app, chromium, request):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    record_sent(pg)
    try:
        yield pg
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            _failure_artifacts(pg, request.node.name)
        context.close()


def _failure_artifacts(page, name: str) -> None:
    """What the browser showed when a test failed: a screenshot in tests/artifacts/ and the
    page's text on stdout (CI prints it with the failure)."""
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
        print(f"--- page at failure ({page.url}) ---")
        print(page.locator("body").inner_text(timeout=5_000)[:3000])
    except Exception as err:  # the page may be gone; the failure itself is what matters
        print(f"(no failure artifacts: {err})")


def open_page(page, app, path: str) -> None:
    """Go to `path`; on the login page, sign in (once per browser context: a cookie) and go again."""
    login = page.get_by_role("button", name="登录", exact=True)
    signed_in = page.get_by_role("button", name="退出登录")  # only a signed-in user has it
    page.goto(app.url + path)
    login.or_(signed_in).first.wait_for(timeout=60_000)  # the first run may still be on its way
    if login.is_visible():
        sign_in(page)
        page.goto(app.url + path)
        signed_in.wait_for(timeout=60_000)
    wait_app_idle(page)


def sign_in(page, user: str = BROWSER_USER, password: str = BROWSER_PASSWORD) -> None:
    """Fill the login form; wait until the session cookie is set."""
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    # set by the server once the script run after sign-in asks for it: slow on a busy machine
    wait_for_session_cookie(page)
    wait_app_idle(page)


def session_cookie(page) -> dict | None:
    """The session cookie as the browser holds it (HttpOnly: the page's scripts cannot see it)."""
    return next((c for c in page.context.cookies() if c["name"] == "wuye_session"), None)


def wait_for_session_cookie(page, timeout: float = 60.0) -> dict:
    """Poll the browser's cookie jar until the server has set the session cookie."""
    deadline = time.monotonic() + timeout
    while (cookie := session_cookie(page)) is None:
        if time.monotonic() > deadline:
            raise AssertionError("the server never set the session cookie")
        page.wait_for_timeout(100)  # one poll of the cookie jar, not a wait for luck
    return cookie


# -- walking every page of a role's menu ---------------------------------------------------------
# Streamlit's own English that must never show (issue 21): whole words or phrases, case as written.
ENGLISH_UI = ("View", "more", "Choose an option", "Choose options", "Upload", "Drag and drop", "per file",
              "No results", "Press Enter", "yyyy", "YYYY", "None", "NaN", "Traceback", "Error")
ENGLISH_UI_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_UI) + r")\b")
# What pandas or Python leave in an empty grid cell.
EMPTY_CELL_WORDS = {"None", "NaN", "nan", "NaT", "<NA>", "null"}

# Text nodes a person can see (rendered, not hidden, font size above 0: the file uploader keeps
# Streamlit's English at size 0 and draws Chinese after it), and visible inputs' placeholders.
_SHOWN_TEXT = """() => {
  const out = [], cache = new Map();
  const shown = el => {
    if (!cache.has(el)) cache.set(el, el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
                                      && parseFloat(getComputedStyle(el).fontSize) > 0);
    return cache.get(el);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue.trim(), el = walker.currentNode.parentElement;
    if (text && el && !el.closest('script, style, noscript') && shown(el)) out.push(text);
  }
  for (const input of document.querySelectorAll('input, textarea'))
    if (input.placeholder && input.checkVisibility()) out.push(input.placeholder);
  return out;
}"""


def ensure_user(db_path: Path, name: str, role: str, password: str) -> None:
    """A user of `role` who may sign in with `password` at once (no forced change), unaudited;
    an existing user of that name gets the role and password. The server must not be running."""
    from app.access.permissions import cli_actor
    from app.accounts import auth
    from app.storage.db import open_database

    db = open_database(str(db_path))
    try:
        if auth._user(db, name) is None:
            auth.add_user(db, cli_actor(), name, password, role, audit=False)
        else:
            with db.transaction() as cur:
                cur.execute("UPDATE users SET role = ?, password_hash = ?, must_change_password = FALSE, "
                            "failed_logins = 0, locked_until = NULL, active = TRUE WHERE lower(name) = lower(?)",
                            [role, auth.hash_password(password), name])
    finally:
        db.close()


def english_shown(page) -> list[str]:
    """Texts on the page that show one of ENGLISH_UI, each with the word found."""
    return [f"{m.group(1)!r} in {text[:80]!r}" for text in page.evaluate(_SHOWN_TEXT)
            if (m := ENGLISH_UI_RE.search(text))]


def empty_cell_words(page) -> list[str]:
    """Grid cells (Glide's accessibility table) that read None, NaN and the like."""
    texts = page.locator('td[data-testid^="glide-cell-"]').evaluate_all(
        "cells => cells.map(c => [c.dataset.testid, (c.textContent || '').trim()])")
    return [f"{testid}={text}" for testid, text in texts if text in EMPTY_CELL_WORDS]


def wait_grids(page, timeout: float = 15_000) -> None:
    """Wait until every grid in view (not in a folded expander) has drawn its header, and so its
    accessible table."""
    grids = page.get_by_test_id("stDataFrameResizable")
    for i in range(grids.count()):
        if grids.nth(i).is_visible():
            grids.nth(i).locator('th[role="columnheader"]').first.wait_for(state="attached", timeout=timeout)


def switch_page(page, app, url: str, timeout: float = 60_000) -> None:
    """Open the menu page at `/url` as a click on its sidebar link does (the same session, no
    reload), or by address when the link is not there; wait until its script run has finished
    (the address and the heading have changed, nothing is running or stale)."""
    heading = 'document.querySelector(\'[data-testid="stMain"] h1\')'
    before = page.evaluate(f"() => {heading}?.textContent ?? ''")
    clicked = page.evaluate(
        """u => { const a = [...document.querySelectorAll('[data-testid="stSidebar"] a')]
                           .find(a => new URL(a.href).pathname === '/' + u);
                 if (a) a.click(); return !!a; }""", url)
    if not clicked:
        page.goto(f"{app.url}/{url}")
    page.wait_for_function(
        f"([u, old]) => location.pathname === '/' + u && ({heading}?.textContent ?? old) !== old",
        arg=[url, before], timeout=timeout)
    wait_run_done(page, timeout=timeout)


def wait_run_done(page, timeout: float = 60_000) -> None:
    """Wait until the app's script run has ended (the state Streamlit keeps on stApp, which
    wait_app_idle's status widget shows only after a delay) and every element is drawn: nothing
    stale, no skeleton standing in for an element still on its way."""
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning'
                 && !document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')""",
        timeout=timeout)
    wait_app_idle(page, timeout=timeout)


WALK_PASSWORD = "walk-pass-2026"
WALK_SHOTS = ARTIFACTS / "walk"


def walk_app(copy_demo, name: str):
    """A generator for a walk module's `app` fixture: the app on a copy of the demo, with each
    demo user of seed/users.py signing in with WALK_PASSWORD."""
    from seed.users import DEMO_USERS

    path = copy_demo(name)
    for user, role in DEMO_USERS:
        ensure_user(path, user, role, WALK_PASSWORD)
    yield from running_app(path, ARTIFACTS / f"server-{name}.log")


def walk_urls(role: str) -> list[str] | None:
    """The pages a role's walk opens (None: its whole menu). The administrator walks every page;
    another role, in CI, the home page and its working set (「常用」: the pages it lives on, where
    what it may see differs most). WUYE_WALK=menu walks each role's menu but the generic register
    grids (the same page for every role: about 250 pages), WUYE_WALK=all every role's whole menu
    (about 800 pages) — both longer than CI allows."""
    from app.access.permissions import ADMIN
    from app.ui import nav

    scope = os.environ.get("WUYE_WALK", "")
    if role == ADMIN or scope == "all":
        return None
    menu = nav.menu(role)
    entries = [e for items in menu.values() for e in items]
    common = {e.url for e in menu.get("常用", [])}
    if scope == "menu":
        return [e.url for e in entries if e.file != "register.py" or e.url in common]
    return [entries[0].url, *(url for url in common if url != entries[0].url)]


@dataclass
class Walk:
    """What one role's walk through its menu saw: findings to fail on, seconds per page."""

    role: str
    findings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        slowest = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:5]
        return (f"{self.role}: {len(self.seconds)} pages in {sum(self.seconds.values()):.0f} s; slowest "
                + "，".join(f"/{url} {s:.1f} s" for url, s in slowest))


def walk_menu(chromium, app, role: str, user: str, password: str, urls: list[str] | None = None) -> Walk:
    """Sign in as `user` in a new browser context and open every page of the role's menu in turn
    (`urls`: only those), in one session as a click in the menu does. On each page: Streamlit
    exceptions, ENGLISH_UI shown, None-like grid cells; over the walk: requests to any host but
    the app's. A screenshot of each page goes to tests/artifacts/walk/<role>/<url>.png."""
    from urllib.parse import urlparse

    from app.ui import nav

    entries = [e for section in nav.menu(role).values() for e in section
               if urls is None or e.url in urls]
    shots = WALK_SHOTS / role
    shots.mkdir(parents=True, exist_ok=True)
    walk = Walk(role)
    elsewhere: list[str] = []
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(60_000)
    context.on("request", lambda r: elsewhere.append(r.url)
               if urlparse(r.url).hostname not in (None, "", "127.0.0.1", "localhost") else None)
    page = context.new_page()
    try:
        page.goto(app.url + "/")
        sign_in(page, user, password)  # lands on the home page, the menu's first entry
        for entry in entries:
            where = f"{role} /{entry.url}（{entry.title}）"
            started = time.monotonic()
            try:
                if entry.url:
                    switch_page(page, app, entry.url)
                else:  # the home page, where signing in lands
                    wait_run_done(page)
                wait_grids(page)
            except PlaywrightTimeout as err:
                walk.findings.append(f"{where}: did not finish its run ({str(err).splitlines()[0]})")
                page.goto(f"{app.url}/{entry.url}")  # start the next page from a fresh load
                continue
            finally:
                walk.seconds[entry.url] = time.monotonic() - started
            walk.findings += [f"{where}: exception {text[:300]}" for text in exceptions(page)]
            walk.findings += [f"{where}: English {text}" for text in english_shown(page)]
            walk.findings += [f"{where}: grid cell {text}" for text in empty_cell_words(page)]
            page.screenshot(path=str(shots / f"{entry.url or 'home'}.png"))
    finally:
        context.close()
    walk.findings += [f"{role}: request to another host {url}" for url in dict.fromkeys(elsewhere)]
    return walk
