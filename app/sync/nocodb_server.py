"""A local NocoDB server for the tests, the benchmark and a try-out: start, sign in, stop.

The npm package is installed by `scripts/nocodb.sh install` into a cache folder outside the
repository ($WUYE_NOCODB_HOME, default ~/.cache/wuye-nocodb). A production office runs its
own NocoDB and gives wuye its URL and an API token (README, “NocoDB”); nothing here is used then.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from app.storage.db import ROOT

VERSION = "0.301.3"
HOME = Path(os.environ.get("WUYE_NOCODB_HOME", str(Path.home() / ".cache" / "wuye-nocodb")))
SCRIPT = ROOT / "scripts" / "nocodb.sh"
START_JS = ROOT / "scripts" / "nocodb-start.js"
ADMIN_EMAIL = "admin@wuye.local"
ADMIN_PASSWORD = "Wuye-local-2026"


class NocoDBUnavailable(RuntimeError):
    pass


def installed() -> bool:
    return ((HOME / f".installed-{VERSION}").exists()
            and (HOME / "node_modules" / "nocodb" / "package.json").exists())


def install() -> None:
    """Run scripts/nocodb.sh install (instant when already installed)."""
    if installed():
        return
    done = subprocess.run(["bash", str(SCRIPT), "install"], capture_output=True, text=True)
    if done.returncode != 0 or not installed():
        raise NocoDBUnavailable("NocoDB 安装失败：" + (done.stderr or done.stdout)[-2000:])


def node_binary() -> str:
    path_file = HOME / "node-path"
    if path_file.exists():
        return path_file.read_text().strip()
    found = shutil.which("node")
    if not found:
        raise NocoDBUnavailable("没有 Node.js：请先运行 scripts/nocodb.sh install")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url.rstrip("/") + "/api/v1/health", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def api_token(url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD,
              description: str = "wuye") -> str:
    """Sign in as a NocoDB user and make an API token (what an office does once in NocoDB's UI)."""
    base = url.rstrip("/")
    signed = requests.post(base + "/api/v1/auth/user/signin", json={"email": email, "password": password},
                           timeout=30)
    signed.raise_for_status()
    made = requests.post(base + "/api/v1/tokens", headers={"xc-auth": signed.json()["token"]},
                         json={"description": description}, timeout=30)
    made.raise_for_status()
    return made.json()["token"]


@dataclass
class LocalNocoDB:
    """One NocoDB process on 127.0.0.1, its data (SQLite) in a folder of its own."""

    port: int = 0
    data_dir: Path | None = None
    process: subprocess.Popen | None = None
    _own_dir: bool = False
    log: Path | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> LocalNocoDB:
        install()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="wuye-nocodb-"))
            self._own_dir = True
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.log = self.data_dir / "nocodb.log"
        env = {**os.environ, "NC_TOOL_DIR": str(self.data_dir), "NC_DISABLE_TELE": "true",
               "NODE_PATH": str(HOME / "node_modules"), "NC_AUTH_JWT_SECRET": "wuye-local-secret",
               "NC_ADMIN_EMAIL": ADMIN_EMAIL, "NC_ADMIN_PASSWORD": ADMIN_PASSWORD,
               "NODE_OPTIONS": "--max-old-space-size=2048"}
        env.pop("NC_DB", None)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [node_binary(), str(START_JS), str(self.port)], cwd=self.data_dir, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NocoDBUnavailable("NocoDB 启动失败：" + self.log.read_text(errors="replace")[-2000:])
            if healthy(self.url, timeout=1.0):
                return self
            time.sleep(0.3)
        self.stop()
        raise NocoDBUnavailable(f"NocoDB 在 {timeout:.0f} 秒内没有就绪")

    def token(self) -> str:
        return api_token(self.url)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: only its process group
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self._own_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
