"""Backups: snapshot with checksums, verified restore on both backends, the CLI, the app's backups."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from saving import add

from app.admin import backup
from app.exchange import importer
from app.fees import billing
from app.saving.changes import RowChange, apply_changes
from app.storage.db import open_database

ROOT = Path(__file__).resolve().parents[1]


def small_estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园", address="建设路 1 号")
    h = add(db, actor, "households", community_id=c, code="1-1-101", area="80.50", status="已入住")
    f = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.50",
            status="已审批", effective_from="2026-01-01")
    apply_changes(db, actor, "households", [RowChange("update", row_id=h, values={"area": "81.25"})])
    return {"community": c, "household": h, "fee_item": f}


@pytest.fixture
def duck(tmp_path, actor):
    """A DuckDB file only: for what does not depend on the backend."""
    from app.settings import ensure_defaults

    database = open_database(str(tmp_path / "db" / "wuye.duckdb"))
    ensure_defaults(database, actor)
    yield database
    database.close()


def restore_target(backend: str, tmp_path: Path, request) -> str:
    if backend == "duckdb":
        return str(tmp_path / "restored" / "wuye.duckdb")
    return request.getfixturevalue("pg_cluster").fresh_database()


def test_backup_then_restore_gives_identical_checksums(db, actor, backend, tmp_path, request):
    estate = small_estate(db, actor)
    out = tmp_path / "backup-1"
    info = backup.write_backup(db, out)
    names = {p.name for p in out.iterdir()}
    assert {"manifest.json", "SHA256SUMS", "households.parquet", "audit_log.parquet"} <= names
    # every file but SHA256SUMS is listed with its sha256, in `sha256sum -c` format
    listed = dict(reversed(line.split("  ")) for line in (out / "SHA256SUMS").read_text().splitlines())
    assert set(listed) == names - {"SHA256SUMS"}
    assert info.tables["households"].rows == 1
    assert db.scalar("SELECT count(*) FROM audit_log WHERE actor = ?", [actor.user]) == 4  # 3 + 1
    assert info.tables["audit_log"].rows == db.scalar("SELECT count(*) FROM audit_log")

    before = backup.checksums(db)
    target = restore_target(backend, tmp_path, request)
    report = backup.restore(out, target)
    assert all(r.ok for r in report)
    restored = open_database(target)
    try:
        after = backup.checksums(restored)
        assert {t: after[t] for t in before} == before
        row = restored.rows("SELECT code, area, row_version FROM households WHERE id = ?", [estate["household"]])
        assert row == [("1-1-101", Decimal("81.25"), 2)]
        assert restored.scalar("SELECT effective_from FROM fee_items") == date(2026, 1, 1)
        # new ids continue after the restored ones (PostgreSQL: sequences moved)
        new = add(restored, actor, "communities", name="翠湖苑")
        assert new == estate["community"] + 1
    finally:
        restored.close()


def test_restore_refuses_a_target_with_data_unless_forced(duck, actor, tmp_path):
    small_estate(duck, actor)
    out = tmp_path / "b"
    backup.write_backup(duck, out)
    target = tmp_path / "other.duckdb"
    other = open_database(str(target))
    add(other, actor, "communities", name="别的小区")
    other.close()
    with pytest.raises(backup.BackupError, match="已有数据.*--force"):
        backup.restore(out, str(target))
    check = open_database(str(target))
    assert check.rows("SELECT name FROM communities") == [("别的小区",)]
    check.close()
    backup.restore(out, str(target), force=True)
    check = open_database(str(target))
    assert check.rows("SELECT name FROM communities") == [("阳光花园",)]
    check.close()


def test_a_changed_file_is_refused_before_anything_is_written(duck, actor, tmp_path):
    small_estate(duck, actor)
    out = tmp_path / "b"
    backup.write_backup(duck, out)
    with open(out / "households.parquet", "ab") as fh:
        fh.write(b"x")
    target = tmp_path / "new.duckdb"
    with pytest.raises(backup.BackupError, match="households.parquet：校验值不符"):
        backup.restore(out, str(target))
    assert not target.exists()
    (out / "fee_items.parquet").unlink()
    with pytest.raises(backup.BackupError, match="fee_items.parquet：文件缺失"):
        backup.verify(out)


def test_backup_refuses_a_folder_that_is_not_empty(duck, tmp_path):
    (tmp_path / "out" / "full").mkdir(parents=True)
    (tmp_path / "out" / "full" / "x.txt").write_text("x")
    with pytest.raises(backup.BackupError, match="不是空目录"):
        backup.write_backup(duck, tmp_path / "out" / "full")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["full"]  # no partial folder left


def wuye(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_cli_backup_and_restore(tmp_path):
    source = tmp_path / "office.duckdb"
    assert wuye("--db", str(source), "init").returncode == 0
    done = wuye("--db", str(source), "backup", "--out", str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr
    assert "SHA256SUMS" in done.stdout
    back = wuye("--db", str(tmp_path / "copy.duckdb"), "restore", str(tmp_path / "bk"))
    assert back.returncode == 0, back.stderr
    assert "逐表校验和与备份一致" in back.stdout
    again = wuye("--db", str(tmp_path / "copy.duckdb"), "restore", str(tmp_path / "bk"))
    assert again.returncode == 2 and "--force" in again.stderr  # it holds data now
    forced = wuye("--db", str(tmp_path / "copy.duckdb"), "restore", str(tmp_path / "bk"), "--force")
    assert forced.returncode == 0, forced.stderr


def test_cli_backup_of_a_file_the_app_holds_points_to_the_button(tmp_path):
    source = tmp_path / "office.duckdb"
    held = duckdb.connect(str(source))  # as the running app holds it
    try:
        out = wuye("--db", str(source), "backup", "--out", str(tmp_path / "bk"))
    finally:
        held.close()
    assert out.returncode == 3
    assert "正被另一个程序" in out.stderr
    assert "「系统 → 数据备份」" in out.stderr and "立即备份" in out.stderr
    assert not (tmp_path / "bk").exists()


@pytest.fixture
def auto(duck, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.AUTO_ENV, "1")
    backup.enable_auto(duck, tmp_path / "backups")
    return tmp_path / "backups"


def test_a_backup_is_taken_before_an_import_and_a_bill_run(duck, actor, auto):
    db = duck
    estate = small_estate(db, actor)
    csv = "房号,小区,建筑面积\n1-1-102,阳光花园,90.00\n".encode()
    importer.import_file(db, actor, "households", csv, file_name="房屋.csv")
    [before_import] = backup.list_backups(auto)
    assert before_import.kind == "import"
    assert before_import.tables["households"].rows == 1  # the state before the import
    importer.import_file(db, actor, "households", "房号,小区,建筑面积\n1-1-103,阳光花园,50\n".encode(),
                         file_name="x.csv", dry_run=True)
    assert len(backup.list_backups(auto)) == 1  # a dry run writes nothing: no backup

    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 2
    kinds = [b.kind for b in backup.list_backups(auto)]
    assert sorted(kinds) == ["billing", "import"]
    before_bills = next(b for b in backup.list_backups(auto) if b.kind == "billing")
    assert before_bills.tables["bills"].rows == 0
    assert before_bills.tables["households"].rows == 2
    assert billing.generate_bills(db, actor, estate["community"], "2026-07") == 0  # nothing to bill
    assert len(backup.list_backups(auto)) == 2


def test_daily_backup_once_a_day_and_pruning(duck, auto):
    db = duck
    first = backup.daily_if_due(db)
    assert first is not None and first.kind == "daily"
    assert backup.daily_if_due(db) is None
    manual = backup.backup_now(db, "manual", "手动")
    # automatic backups older than office.backup_keep_days (14 by default) go; manual ones stay
    old_day = db.now() - timedelta(days=15)
    for kind in ("daily", "import", "manual"):
        folder = auto / f"{old_day:%Y%m%d-%H%M%S}-{kind}"
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps(
            {"created_at": old_day.isoformat(sep=" "), "kind": kind, "tables": {}}))
    recent = auto / f"{db.now() - timedelta(days=13):%Y%m%d-%H%M%S}-daily"
    recent.mkdir()
    removed = backup.prune(db)
    assert sorted(p.name.rsplit("-", 1)[1] for p in removed) == ["daily", "import"]
    left = {p.name for p in auto.iterdir()}
    assert {first.path.name, manual.path.name, recent.name,
            f"{old_day:%Y%m%d-%H%M%S}-manual"} == left


def test_backup_page_button(tmp_path, monkeypatch):
    from apptest import app_test

    url = tmp_path / "app.duckdb"
    monkeypatch.setenv("WUYE_DB", str(url))
    monkeypatch.delenv(backup.KEY_ENV, raising=False)
    at = app_test("pages/backup.py")
    at.run()
    assert not at.exception
    assert "还没有备份。" in [c.value for c in at.caption]
    assert any("备份没有签名" in w.value for w in at.warning)  # the office is told to set a key
    monkeypatch.setenv(backup.KEY_ENV, "office-secret-2026")
    at.run()
    assert not any("备份没有签名" in w.value for w in at.warning)
    assert any("备份带签名" in c.value for c in at.caption)
    at.button(key="backup-now").click().run()
    assert not at.exception
    assert any("已备份" in s.value for s in at.success)
    [made] = (tmp_path / "backups").iterdir()
    assert made.name.endswith("-manual")
    assert backup.verify(made)["kind"] == "manual"


def test_setting_default_is_registered():
    from app.settings import defaults

    found = {d["key"]: d for d in defaults()}
    assert found[backup.KEEP_DAYS_KEY]["value"] == "14"


def test_created_at_of_a_backup_is_office_time(duck, tmp_path):
    info = backup.write_backup(duck, tmp_path / "x")
    assert abs(info.created_at - duck.now()) < timedelta(minutes=1)
    assert isinstance(info.created_at, datetime)


# -- signed backups, damaged backups (issue #20, finding 9) ---------------------------------
def plant_admin(folder: Path) -> None:
    """Alter a backup consistently, as an attacker with write access to it would: add an
    administrator to users.parquet and rewrite the manifest's checksum and SHA256SUMS to match."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    from app.admin.migrate_to import checksum_sql

    users = pq.read_table(folder / "users.parquet")
    row = {c: users.column(c).to_pylist()[:1] for c in users.column_names}  # a copy of admin
    row.update(id=[999], name=["intruder"], role=["管理员"], active=[True])
    planted = pa.concat_tables([users, pa.Table.from_pydict(row, schema=users.schema)])
    pq.write_table(planted, folder / "users.parquet")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["tables"]["users"]
    con = duckdb.connect()
    con.execute("CREATE TABLE users AS SELECT * FROM read_parquet(?)", [str(folder / "users.parquet")])
    rows, digest = con.execute(checksum_sql("users", entry["columns"], None)).fetchone()
    con.close()
    entry.update(rows=int(rows), checksum=digest)
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    listed = [line.split("  ")[1] for line in (folder / "SHA256SUMS").read_text().splitlines()]
    (folder / "SHA256SUMS").write_text("".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in listed))


@pytest.fixture
def office(tmp_path, actor):
    """A DuckDB office file with its administrator, made by `wuye init`."""
    from app.access.permissions import cli_actor
    from app.accounts.auth import first_admin

    path = tmp_path / "office.duckdb"
    db = open_database(str(path))
    first_admin(db, cli_actor())
    small_estate(db, actor)
    db.close()
    return path


def admins(path: str) -> list[str]:
    db = open_database(path)
    try:
        return [r[0] for r in db.rows("SELECT name FROM users WHERE role = '管理员' ORDER BY name")]
    finally:
        db.close()


def test_without_a_key_a_consistently_altered_backup_restores_the_planted_admin(office, tmp_path, monkeypatch):
    # what the key is for: without it, checksums catch accidents only
    monkeypatch.delenv(backup.KEY_ENV, raising=False)
    db = open_database(str(office))
    backup.write_backup(db, tmp_path / "b")
    db.close()
    assert not (tmp_path / "b" / "SIGNATURE").exists()
    plant_admin(tmp_path / "b")
    backup.restore(tmp_path / "b", str(tmp_path / "r.duckdb"))
    assert admins(str(tmp_path / "r.duckdb")) == ["admin", "intruder"]


def test_with_a_key_a_consistently_altered_backup_is_refused(office, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.KEY_ENV, "office-secret-2026")
    db = open_database(str(office))
    backup.write_backup(db, tmp_path / "b")
    db.close()
    assert (tmp_path / "b" / "SIGNATURE").read_text().startswith("hmac-sha256 ")
    # untouched: it verifies and restores
    backup.restore(tmp_path / "b", str(tmp_path / "ok.duckdb"))
    assert admins(str(tmp_path / "ok.duckdb")) == ["admin"]
    plant_admin(tmp_path / "b")
    target = tmp_path / "r.duckdb"
    with pytest.raises(backup.BackupError, match="签名不符"):
        backup.restore(tmp_path / "b", str(target))
    assert not target.exists()
    # the signature removed, or the backup signed with another key: refused too
    (tmp_path / "b" / "SIGNATURE").unlink()
    with pytest.raises(backup.BackupError, match="没有签名"):
        backup.verify(tmp_path / "b")
    monkeypatch.setenv(backup.KEY_ENV, "other-key")
    db = open_database(str(office))
    backup.write_backup(db, tmp_path / "c")
    db.close()
    monkeypatch.setenv(backup.KEY_ENV, "office-secret-2026")
    with pytest.raises(backup.BackupError, match="签名不符"):
        backup.verify(tmp_path / "c")


def test_cli_restore_with_a_key_refuses_an_unsigned_backup_with_exit_2(office, tmp_path, monkeypatch):
    monkeypatch.delenv(backup.KEY_ENV, raising=False)
    assert wuye("--db", str(office), "backup", "--out", str(tmp_path / "b")).returncode == 0
    monkeypatch.setenv(backup.KEY_ENV, "office-secret-2026")
    out = wuye("--db", str(tmp_path / "r.duckdb"), "restore", str(tmp_path / "b"))
    assert out.returncode == 2
    assert "没有签名" in out.stderr and backup.KEY_ENV in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "r.duckdb").exists()


def rewrite_sums(folder: Path) -> None:
    import hashlib

    listed = [line.split("  ")[1] for line in (folder / "SHA256SUMS").read_text().splitlines()]
    (folder / "SHA256SUMS").write_text("".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in listed))


@pytest.mark.parametrize("damage", ["parquet", "parquet-resummed", "manifest-resummed", "sums", "sums-binary"])
def test_cli_restore_of_a_truncated_file_says_so_without_a_traceback(office, tmp_path, monkeypatch, damage):
    monkeypatch.delenv(backup.KEY_ENV, raising=False)
    folder = tmp_path / "b"
    assert wuye("--db", str(office), "backup", "--out", str(folder)).returncode == 0
    name = {"parquet": "households.parquet", "parquet-resummed": "households.parquet",
            "manifest-resummed": "manifest.json", "sums": "SHA256SUMS", "sums-binary": "SHA256SUMS"}[damage]
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(b"\xff\xfe\x00" + data[:40] if damage == "sums-binary" else data[: len(data) // 2])
    if damage.endswith("resummed"):
        rewrite_sums(folder)  # the sums agree with the damaged file: only reading it shows the damage
    out = wuye("--db", str(tmp_path / "r.duckdb"), "restore", str(folder))
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "Error" not in out.stderr, out.stderr
    assert "备份" in out.stderr and ("损坏" in out.stderr or "校验未通过" in out.stderr), out.stderr
    assert not (tmp_path / "r.duckdb").exists()
