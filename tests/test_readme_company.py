"""The README's company set-up (PostgreSQL), run as written against an empty database.

The section "### Company (PostgreSQL…)" has bash blocks of two kinds: the server's set-up as root
(every line `sudo …`: install PostgreSQL, create the user and an empty database, write
/etc/wuye.env), which the test cluster stands in for, and the app's steps, which run here
verbatim with `bash -e`. Substituted: the connection URL (an empty database on the test cluster)
and, since other programs on a shared machine may hold 8501, the port. `.venv/bin/wuye` is this
checkout's command (a two-line script in the folder the steps run in).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_URL = "postgresql://wuye:PASSWORD@127.0.0.1:5432/wuye"
README_PORT = "--port 8501"
STEPS_TIMEOUT = 1800  # seed --demo on PostgreSQL: minutes on a busy machine
HEALTH_TIMEOUT = 120


def company_blocks() -> tuple[list[str], list[str]]:
    """(root set-up blocks, app step blocks) of the README's company section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Company (PostgreSQL")
    end = min(i for i in (text.find("\n## ", start), text.find("\n### ", start + 1)) if i > 0)
    blocks = re.findall(r"```bash\n(.*?)```", text[start:end], re.S)
    root, app = [], []
    for block in blocks:
        lines = [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        (root if all("sudo " in ln for ln in lines) else app).append(block)
    return root, app


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


def test_readme_lists_the_server_set_up_and_the_app_steps():
    root, app = company_blocks()
    assert any("createdb" in b and "createuser" in b for b in root)
    [steps] = app
    assert README_URL in steps and README_PORT in steps
    for command in ("wuye init", "wuye seed --demo", "wuye sql", "v_arrears", "wuye serve"):
        assert command in steps


def test_readme_company_steps_run_verbatim_on_an_empty_postgresql(pg_cluster, tmp_path):
    name = f"company_{os.getpid()}"
    url = pg_cluster.createdb(name)  # empty: no tables, no migrations (as `createdb --owner wuye wuye`)
    port = _free_port()
    [steps] = company_blocks()[1]
    script = steps.replace(README_URL, url).replace(README_PORT, f"--port {port}")
    work = tmp_path / "opt-wuye"
    (work / ".venv" / "bin").mkdir(parents=True)
    wuye = work / ".venv" / "bin" / "wuye"
    wuye.write_text(f'#!/bin/sh\nexec {sys.executable} -m app.cli "$@"\n')
    wuye.chmod(0o755)
    (work / "steps.sh").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WUYE_AUTO_BACKUP": "0"}
    env.pop("WUYE_DB", None)
    out = tmp_path / "steps.out"
    with open(out, "w") as sink:
        proc = subprocess.Popen(["bash", "-e", "steps.sh"], cwd=work, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + STEPS_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline and "正在 http://" not in out.read_text():
            time.sleep(1)
        log = out.read_text()
        assert proc.poll() is None, f"the steps stopped (exit {proc.returncode}):\n{log[-4000:]}"
        assert "正在 http://" in log, f"serve did not start in {STEPS_TIMEOUT} s:\n{log[-4000:]}"
        # explicit wait for the server's health check
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not _healthy(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _healthy(port), f"no answer on /_stcore/health:\n{out.read_text()[-4000:]}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        pg_cluster.dropdb(name)
    log = out.read_text()
    assert "Traceback" not in log, log[-4000:]
    assert "已就绪：应用迁移" in log and "已创建管理员 admin" in log
    assert "已生成演示数据" in log
    # the rule view answered: its CSV header and a count (the demo estate has households in arrears)
    found = re.search(r"^households_in_arrears\n(\d+)$", log, re.M)
    assert found, log[-4000:]
    assert int(found.group(1)) > 0
