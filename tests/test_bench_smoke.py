"""Every benchmark script runs once at a tiny size (`--smoke`), so none can rot unnoticed.

The figures are not looked at (speed goals live in the scripts' output, never in tests); what
is checked is that each script builds its data, signs in where it uses the app, measures and
prints its figures with the code as it is now, and exits 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "bench").glob("*.py") if p.name != "smoke.py")
MARKS = {"grid_page.py": [pytest.mark.browser], "pages.py": [pytest.mark.browser], "nocodb.py": [pytest.mark.nocodb]}


def test_every_bench_script_is_listed():
    assert set(SCRIPTS) >= {"backends.py", "billing.py", "excel.py", "grid_page.py", "nocodb.py",
                            "operations.py", "pages.py", "reports.py", "rules.py"}


@pytest.mark.parametrize("script", [pytest.param(s, marks=MARKS.get(s, [])) for s in SCRIPTS])
def test_bench_script_runs_at_a_tiny_size(script):
    # the scripts' files go to a folder of their own, removed after; a short path under /tmp that
    # others may enter: chromium's socket path has a length limit, and the PostgreSQL cluster
    # runs as the `postgres` user (pytest's own folders are the runner's alone)
    with tempfile.TemporaryDirectory(prefix="wuye-bench-", dir="/tmp") as folder:
        os.chmod(folder, 0o755)
        env = {**os.environ, "TMPDIR": folder, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--smoke"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"{script} --smoke failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{script} printed no figures"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
