"""Helpers for real-browser tests and the grid bench: a Streamlit server and Debian's chromium.

The server is `streamlit run app/streamlit_app.py` with the flags of `wuye serve`
(streamlit_config/config.toml), started as our own subprocess so it can be stopped by pid.
DuckDB files are locked by the process that opens them: stop the server before opening the
file from the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
GLIDE_EDITOR = "#portal input.gdg-input, #portal textarea"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


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
    out = open(log, "wb")
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


def start_app(db_path: Path, log: Path) -> Server:
    """The wuye app (as `wuye serve` runs it) on the given DuckDB file."""
    return start_server(ROOT / "app" / "streamlit_app.py", log, env={"WUYE_DB": str(db_path)})


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# -- the Glide grid ----------------------------------------------------------------------------
def grid(page, n: int = 0):
    return page.get_by_test_id("stDataFrameResizable").nth(n)


def cell(page, col: int, row: int, n: int = 0):
    """The accessibility mirror of one grid cell; col counts from 0 (the first shown column)."""
    return grid(page, n).get_by_test_id(f"glide-cell-{col}-{row}")


def wait_app_idle(page, timeout: float = 15_000) -> None:
    """Wait until Streamlit has no script run in progress (the status widget is gone)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def edit_cell(page, col: int, row: int, text: str, n: int = 0) -> None:
    """Double-click a cell, type the new text into Glide's overlay editor, press Enter."""
    target = cell(page, col, row, n)
    target.scroll_into_view_if_needed()
    box = grid(page, n).bounding_box()
    target.dblclick() if target.is_visible() else None
    editor = page.locator(GLIDE_EDITOR).first
    editor.wait_for(state="visible", timeout=5_000)
    editor.fill(text)
    editor.press("Enter")
    del box
