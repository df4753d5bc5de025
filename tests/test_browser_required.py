"""Without chromium the browser tests skip on a developer's machine and fail under CI.

Runs pytest on a one-test browser module in a subprocess, with WUYE_CHROMIUM pointing at a
file that does not exist (tests/browser.py reads it before PATH and /usr/bin/chromium).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
MODULE = '''
import pytest
from browser import chromium, needs_chromium  # noqa: F401

pytestmark = [needs_chromium]


def test_uses_the_browser(chromium):
    assert chromium.is_connected()
'''


def run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_one_browser_test.py").write_text(MODULE)
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "WUYE_REQUIRE_BROWSER")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), clean.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-rs",
         str(tmp_path)],
        cwd=tmp_path, env={**clean, "WUYE_CHROMIUM": str(tmp_path / "no-chromium"), **env},
        capture_output=True, text=True, timeout=120,
    )


def test_missing_chromium_skips_on_a_developer_machine(tmp_path):
    out = run(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 skipped" in out.stdout and "no chromium on PATH or at" in out.stdout, out.stdout


@pytest.mark.parametrize("env", [{"CI": "true"}, {"WUYE_REQUIRE_BROWSER": "1"}])
def test_missing_chromium_fails_where_the_browser_tests_must_run(tmp_path, env):
    out = run(tmp_path, **env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 error" in out.stdout, out.stdout  # the chromium fixture fails at setup
    assert "CI must run the browser tests" in out.stdout, out.stdout
