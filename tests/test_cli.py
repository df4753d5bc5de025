"""The `wuye` command as a user runs it: separate processes on a real DuckDB file."""

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# `wuye init` writes one row per [[setting]] of the defaults file, counted here from the file itself
DEFAULT_SETTINGS = (ROOT / "app" / "settings_defaults.toml").read_text(encoding="utf-8").count("\n[[setting]]\n")


def wuye(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "--db", str(db), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


@pytest.fixture
def db_file(tmp_path) -> Path:
    path = tmp_path / "office.duckdb"
    assert wuye("init", db=path).returncode == 0
    return path


def test_init_twice_is_harmless(db_file):
    again = wuye("init", db=db_file)
    assert again.returncode == 0
    assert "应用迁移 0 项，补充参数 0 项" in again.stdout


def test_sql_prints_csv_with_a_header(db_file):
    out = wuye("sql", "SELECT key, value FROM settings WHERE key LIKE 'parking.%' ORDER BY key", db=db_file)
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows == [
        ["key", "value"],
        ["parking.daily_cap", "20.00"],
        ["parking.free_minutes", "30"],
        ["parking.hourly_rate", "2.00"],
        ["parking.lease_warn_days", "15"],
    ]


@pytest.mark.parametrize("statement", [
    "DELETE FROM settings",
    "UPDATE settings SET value = '1'",
    "SELECT 1; DROP TABLE settings",
    "COPY settings TO '/tmp/x.csv'",
])
def test_sql_refuses_anything_but_one_query(db_file, statement):
    out = wuye("sql", statement, db=db_file)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert wuye("sql", "SELECT count(*) FROM settings", db=db_file).stdout.splitlines()[1] == str(DEFAULT_SETTINGS)


def test_a_busy_database_file_is_explained_not_a_traceback(db_file):
    # The holder keeps the file open until it is killed below (its sleep is not a wait: the test
    # waits for its "held" line).
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db_file)!r}); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        out = wuye("sql", "SELECT 1", db=db_file)
        assert out.returncode == 3
        assert "正被另一个程序" in out.stderr and "Traceback" not in out.stderr
        assert f"进程号 {holder.pid}" in out.stderr
    finally:
        holder.kill()
        holder.wait()


def test_export_a_register_to_xlsx_and_csv(db_file, tmp_path):
    xlsx = tmp_path / "参数.xlsx"
    out = wuye("export", "settings", "--out", str(xlsx), db=db_file)
    assert out.returncode == 0, out.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["编号", "参数", "取值"]
    assert sheet.max_row == DEFAULT_SETTINGS + 1  # header + the parameters
    csv_out = tmp_path / "参数.csv"
    assert wuye("export", "settings", "--out", str(csv_out), db=db_file).returncode == 0
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_unknown_register_is_a_clear_message(db_file, tmp_path):
    out = wuye("export", "nothing_here", "--out", str(tmp_path / "x.xlsx"), db=db_file)
    assert out.returncode == 2
    assert "没有名为 nothing_here" in out.stderr and "Traceback" not in out.stderr


def test_serve_starts_the_app(db_file):
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--db", str(db_file), "serve", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("wuye serve did not answer on its health endpoint")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_bills_generate_then_check_and_rebuild_the_derived_tables(db_file):
    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import open_database

    db = open_database(str(db_file))
    actor = Actor("王会计", role="管理员")

    def add(register, **values):
        return apply_changes(db, actor, register, [RowChange("insert", values=values)]).inserted[0]

    c = add("communities", name="阳光花园")
    add("households", community_id=c, code="1-1-101", area="100.00", status="已入住")
    add("fee_items", community_id=c, name="物业费", method="按面积", unit_price="3.0000", status="已审批",
        effective_from="2026-01-01")
    db.close()

    missing = wuye("bills", "generate", db=db_file)
    assert missing.returncode == 2 and "--period" in missing.stderr
    preview = wuye("bills", "generate", "--period", "2026-07", "--dry-run", db=db_file)
    assert preview.returncode == 0 and "将新增 1 张账单，合计 300.00 元" in preview.stdout  # 100 m² × 3.00
    assert "没有写入" in preview.stdout
    done = wuye("bills", "generate", "--period", "2026-07", db=db_file)
    assert done.returncode == 0 and "已出账 1 张" in done.stdout
    assert wuye("derived", "check", db=db_file).returncode == 0

    db = open_database(str(db_file))
    with db.transaction() as cur:  # a hand edit of the file behind the app's back
        cur.execute("UPDATE bill_totals SET paid = 50")
    db.close()
    check = wuye("derived", "check", db=db_file)
    assert check.returncode == 1 and "账单累计 1 行" in check.stderr and "报修单" not in check.stderr
    rebuilt = wuye("derived", "rebuild", db=db_file)
    assert rebuilt.returncode == 0 and "一致" in rebuilt.stdout
    assert wuye("derived", "check", db=db_file).returncode == 0
