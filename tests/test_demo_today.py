"""The demo lives in the day it is seeded: whatever that day, the office looks like a normal one.

Three demo days: the session's demo file (month-end, 2026-09-30), `wuye seed --demo --as-of`
for a month-start in another year (2025-03-01), and `wuye serve --demo` on a file `wuye init`
made, which seeds as of the real today. Seeding takes half a minute to a few minutes on a busy
machine, so this module seeds twice and every test reads those databases.

On each day: a to-do list (todo_as_of(day)) of 30–100 items over six areas or more; 1–8 % of households owing and 3–30 of them for 90 days or more; no car
parked for more than a day; this month's bills issued and partly paid; open work orders and
complaints from the last week only; contracts due in the coming weeks; a duty roster for today.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from app import registers
from app.access.permissions import ADMIN, ROLES, cli_actor
from app.accounts import auth
from app.cli import main
from app.storage.db import ROOT, open_database
from seed.demo import extension_modules
from seed.users import DEMO_USERS

MONTH_START = date(2025, 3, 1)
TABLE_ROW = re.compile(r"^(\S+)\s+(\S+)\s+([A-Za-z0-9]{12,})$")


@pytest.fixture(scope="module")
def seeded_by_cli(tmp_path_factory):
    """`wuye seed --demo --as-of 2025-03-01` on a new file: (path, what it printed)."""
    path = tmp_path_factory.mktemp("demo-cli") / "wuye.duckdb"
    out = subprocess.run([sys.executable, "-m", "app.cli", "--db", str(path), "seed", "--demo",
                          "--as-of", MONTH_START.isoformat()],
                         capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert out.returncode == 0, out.stderr
    return path, out.stdout


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory):
    """`wuye init`, then `wuye serve --demo` on the same file (seeding as of today), stopped once
    the server starts: (path, the day seeded, what serve printed before starting)."""
    path = tmp_path_factory.mktemp("demo-serve") / "wuye.duckdb"
    assert main(["--db", str(path), "init"]) == 0
    today = date.today()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "--db", str(path), "serve", "--demo",
                             "--port", "0", "--address", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "正在 http://" in line:  # seeding done, the server starts: enough
                break
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return path, today, lines


@pytest.fixture(scope="module", params=["month-end", "month-start", "today"])
def demo_day(request, seeded_by_cli_lazy):
    """(read-only database, its demo day) for each of the three demo days."""
    if request.param == "month-end":
        from conftest import DEMO_AS_OF

        path, day = request.getfixturevalue("demo_file"), DEMO_AS_OF
    elif request.param == "month-start":
        path, day = seeded_by_cli_lazy("cli")[0], MONTH_START
    else:
        served = seeded_by_cli_lazy("serve")
        path, day = served[0], served[1]
    db = open_database(str(path), read_only=True)
    yield db, day
    db.close()


@pytest.fixture(scope="module")
def seeded_by_cli_lazy(request):
    """Seed only what the selected tests need."""
    def get(which: str):
        return request.getfixturevalue("seeded_by_cli" if which == "cli" else "served_demo")
    return get


def test_the_to_do_list_is_tens_of_items_not_a_thousand(demo_day):
    db, day = demo_day
    todo = db.scalar("SELECT count(*) FROM todo_as_of(CAST(? AS DATE))", [day])
    # measured: 85 as of 2026-09-30, 70 as of 2025-03-01, 96 as of 2026-12-08 (December adds the
    # calendar-year contracts coming due); the top leaves room for a few more kinds of item
    assert 30 <= todo <= 100, todo
    # spread over the office's areas, none flooding it
    areas = dict(db.rows("SELECT area, count(*) FROM todo_as_of(CAST(? AS DATE)) GROUP BY area", [day]))
    assert len(areas) >= 6, areas
    assert max(areas.values()) <= 20, areas


def test_arrears_look_like_a_real_office(demo_day):
    db, day = demo_day
    households = db.scalar("SELECT count(*) FROM households WHERE deleted_at IS NULL")
    owing = db.scalar("SELECT count(*) FROM arrears_as_of(CAST(? AS DATE))", [day])
    long_term = db.scalar("SELECT count(*) FROM arrears_as_of(CAST(? AS DATE)) WHERE days_overdue >= 90",
                          [day])
    assert 0.01 * households <= owing <= 0.08 * households, (owing, households)
    assert 3 <= long_term <= 30, long_term
    # the longest arrears started within the two years of bills (the demo's history)
    assert db.scalar("SELECT max(days_overdue) FROM arrears_as_of(CAST(? AS DATE))", [day]) <= 2 * 366


def test_this_months_bills_are_issued_and_partly_paid(demo_day):
    db, day = demo_day
    period = f"{day:%Y-%m}"
    periods = [r[0] for r in db.rows("SELECT DISTINCT period FROM bills ORDER BY 1")]
    assert len(periods) == 24 and periods[-1] == period
    bills, paid = db.rows(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM payments p WHERE p.bill_id = b.id)) "
        "FROM bills b WHERE period = ?", [period])[0]
    households = db.scalar("SELECT count(*) FROM households WHERE deleted_at IS NULL")
    assert bills >= households * 0.9
    assert 0 < paid < bills
    # nothing was paid after the demo's day
    assert db.scalar("SELECT max(CAST(paid_at AS DATE)) FROM receipts") <= day


def test_cars_are_parked_for_hours_not_months(demo_day):
    db, day = demo_day
    end_of_day = datetime.combine(day, datetime.max.time())
    inside = db.rows("SELECT entered_at FROM parking_events WHERE exited_at IS NULL AND deleted_at IS NULL")
    assert inside and all(end_of_day - timedelta(days=1) <= e <= end_of_day for (e,) in inside)
    assert db.scalar("SELECT max(entered_at) FROM parking_events") <= end_of_day


def test_open_orders_and_complaints_are_from_the_last_days(demo_day):
    db, day = demo_day
    week_ago = datetime.combine(day - timedelta(days=7), datetime.min.time())
    open_orders = db.rows("SELECT reported_at FROM work_orders WHERE status NOT IN ('已完成', '已回访', '已关闭') "
                          "AND deleted_at IS NULL")
    assert open_orders and all(r >= week_ago for (r,) in open_orders)
    open_complaints = db.rows("SELECT received_at FROM complaints WHERE status NOT IN ('已反馈', '已关闭') "
                              "AND deleted_at IS NULL")
    assert all(r >= week_ago for (r,) in open_complaints)
    # and this month has its repairs: the KPIs are not empty
    assert db.scalar("SELECT count(*) FROM work_orders WHERE reported_at >= ?",
                     [datetime(day.year, day.month, 1)]) > 0


def test_equipment_and_contracts_come_due_in_the_coming_weeks(demo_day):
    db, day = demo_day
    contracts = db.rows("SELECT end_on FROM contracts WHERE status = '履行中' AND end_on >= ? "
                        "AND end_on <= ?", [day, day + timedelta(days=60)])
    assert contracts
    assert db.scalar("SELECT count(*) FROM todo_as_of(CAST(? AS DATE)) WHERE area = '设备与消防' "
                     "AND days_overdue < 0", [day]) > 0


def test_the_duty_board_covers_today(demo_day):
    db, day = demo_day
    communities = db.scalar("SELECT count(*) FROM communities")
    on_duty = db.scalar("SELECT count(DISTINCT community_id) FROM shifts WHERE shift_on = ? AND shift <> '休息'",
                        [day])
    assert on_duty == communities
    # visitors still inside came in the last day
    inside = db.rows("SELECT visited_at FROM visitors WHERE left_at IS NULL")
    assert all(v >= datetime.combine(day - timedelta(days=1), datetime.min.time()) for (v,) in inside)


def _table(printed: str) -> list[tuple[str, str, str]]:
    lines = printed.splitlines()
    start = next(n for n, line in enumerate(lines) if line.split() == ["用户名", "角色", "一次性密码"])
    return [TABLE_ROW.match(line).groups() for line in lines[start + 1:] if TABLE_ROW.match(line)]


def test_seeding_says_each_stage_and_ends_with_the_passwords(seeded_by_cli, tmp_path):
    path, printed = seeded_by_cli
    lines = printed.splitlines()
    stages = [line for line in lines if re.match(r"^\s+\[\s*\d+ 秒\] ", line)]
    assert len(stages) == 1 + len(extension_modules())
    table = _table(printed)
    # the table is the last thing said, after the summary
    assert lines[-1].startswith(table[-1][0])
    assert [(name, role) for name, role, _ in table] == [("admin", ADMIN), *DEMO_USERS]
    assert {role for _, role, _ in table} == set(ROLES)
    # signing in writes a session: on a copy (the other tests hold the file open read-only)
    copy = tmp_path / "signin.duckdb"
    shutil.copy(path, copy)
    db = open_database(str(copy))
    try:
        households = db.scalar("SELECT count(*) FROM households")
        assert f"{registers.get('households').label} {households:,}" in stages[0]
        for name, role, password in table:
            assert len(password) >= 12 and name not in password
            signed = auth.sign_in(db, name, password)
            assert (signed.role, signed.must_change_password) == (role, True)
        assert len({p for _, _, p in table}) == len(table)
    finally:
        db.close()


def test_serve_demo_seeds_a_database_init_made(served_demo):
    path, today, lines = served_demo
    printed = "\n".join(lines)
    assert "已生成演示数据" in printed
    # init printed the administrator's password already: the table has the demo users
    assert [(name, role) for name, role, _ in _table(printed)] == list(DEMO_USERS)
    db = open_database(str(path), read_only=True)
    try:
        assert db.scalar("SELECT max(period) FROM bills") == f"{today:%Y-%m}"
    finally:
        db.close()


def test_serve_demo_leaves_a_database_with_data_alone(copy_demo):
    path = copy_demo("serve-kept")
    db = open_database(str(path))
    try:  # an office's database has its users already
        assert auth.first_admin(db, cli_actor())
    finally:
        db.close()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "--db", str(path), "serve", "--demo",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "正在 http://" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert "数据库已有数据，未生成演示数据" in "".join(lines)
    assert not any("一次性密码" in line for line in lines)


@pytest.mark.parametrize(("day", "said"), [("2026-02-30", "年-月-日"),
                                           (f"{date.today() + timedelta(days=1)}", "不能晚于今天")])
def test_seed_refuses_a_bad_date(tmp_path, capsys, day, said):
    with pytest.raises(SystemExit):
        main(["--db", str(tmp_path / "x.duckdb"), "seed", "--demo", "--as-of", day])
    assert said in capsys.readouterr().err
    assert not Path(tmp_path / "x.duckdb").exists()
