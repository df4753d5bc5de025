"""Backups: a consistent snapshot of the whole database in a folder, verified on restore.

A backup is a folder holding
  <table>.parquet   every table of the database, one Parquet file each (types kept: DECIMAL,
                    DATE, TIMESTAMP), schema_migrations included for the record;
  manifest.json     when, why (手动 / 每日自动 / 导入前 / 出账前), the backend, and per table its
                    columns, row count and content checksum;
  SHA256SUMS        the SHA-256 of every other file, in `sha256sum -c` format;
  SIGNATURE         with `WUYE_BACKUP_KEY` set: HMAC-SHA256 of SHA256SUMS under that key.

Checksums only catch accidental damage: whoever can write the folder can change a table and
rewrite the manifest and SHA256SUMS to match (and plant an administrator). With a key in the
environment (`WUYE_BACKUP_KEY`, the same on the machine that backs up and the one that
restores) every backup is signed, and a backup whose signature is missing or does not match
is refused. The signature covers SHA256SUMS, which covers every other file.

Consistency. Every table is read inside one read transaction on a cursor of the app's own
connection: on DuckDB that is a snapshot (MVCC), so saves committed meanwhile are either
wholly in the backup or wholly absent, and writers are not stopped; on PostgreSQL DuckDB's
postgres extension runs the transaction as one REPEATABLE READ transaction (its default; the
attach in app/storage/postgres.py keeps it), i.e. one snapshot of all tables, the way pg_dump does.
Parquet written by DuckDB is chosen over EXPORT DATABASE (CSV/DDL of a DuckDB file only) and
over a copy of the DuckDB file (needs the app stopped, ties a backup to the storage format):
one format serves both backends and restores into either. A folder is written under a
temporary name and renamed when complete, so a crash leaves no half backup under a real name.

The table checksum is the one `wuye migrate-to` compares (app/admin/migrate_to.py checksum_sql):
the md5 of the sorted md5s of the rows, so any changed value, row or type shows.

Restore (`wuye restore DIR --db TARGET`) verifies every SHA-256 first, refuses a target that
holds data unless forced, migrates the target to the current schema, loads every table in
one transaction, and compares each table's checksum with the manifest. A DuckDB target is
built beside the target file and moved into place only once verified.

In the running app (see `attach_to_app`): a backup button (pages/backup.py), a daily backup
kept `office.backup_keep_days` days, and a backup before every import and every bill run
(`before_change`), in `<data folder>/backups/`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from app.access.permissions import require_admin
from app.admin.migrate_to import checksum_sql
from app.saving import derived
from app.saving.attachments import AttachmentRejected, data_dir
from app.settings import value
from app.storage import postgres
from app.storage.db import Database, DatabaseBusy, open_database, q

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = "SIGNATURE"
KEY_ENV = "WUYE_BACKUP_KEY"  # signs backups, and makes restore refuse unsigned or altered ones
NOT_RESTORED = {"schema_migrations"}  # the target keeps its own record of its migrations
NOT_DATA = {"schema_migrations", "settings", "audit_log"}  # alone, not a target "in use"
KINDS = {"manual": "手动", "daily": "每日自动", "import": "导入前", "billing": "出账前"}
PRUNED_KINDS = {"daily", "import", "billing"}  # manual backups are kept until deleted by hand
KEEP_DAYS_KEY = "office.backup_keep_days"
DEFAULT_KEEP_DAYS = 14
AUTO_ENV = "WUYE_AUTO_BACKUP"  # "0": no daily or before-change backups (the test suite sets it)
DAILY_CHECK_SECONDS = 3600
_FOLDER = re.compile(r"(\d{8}-\d{6})-([a-z]+)(-\d+)?")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message is for the user."""


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: datetime
    kind: str
    note: str
    tables: dict[str, TableSum]
    size: int

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def rows(self) -> int:
        return sum(t.rows for name, t in self.tables.items() if name not in NOT_RESTORED)


# -- tables and checksums -------------------------------------------------------------------
def _tables(db: Database, cur) -> dict[str, list[str]]:
    """Every base table of the database and its columns, in column order."""
    if db.is_postgres:
        found: dict[str, list[str]] = {}
        for table, column in db.pg_columns(cur):
            found.setdefault(table, []).append(column)
        return {t: cols for t, cols in found.items() if t not in derived.tables()}
    found = {}
    for table, column in cur.execute(
        "SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t "
        "USING (database_name, schema_name, table_name) WHERE c.database_name = current_database() "
        "AND c.schema_name = 'main' ORDER BY c.table_name, c.column_index"
    ).fetchall():
        found.setdefault(table, []).append(column)
    return {t: cols for t, cols in found.items() if t not in derived.tables()}


def _checksum(cur, table: str, columns: list[str]) -> TableSum:
    rows, digest = cur.execute(checksum_sql(table, columns, None)).fetchone()
    return TableSum(int(rows), digest)


def checksums(db: Database) -> dict[str, TableSum]:
    """Rows and checksum of every table (schema_migrations left out): equal after a restore."""
    with _snapshot(db) as cur:
        return {t: _checksum(cur, t, cols) for t, cols in sorted(_tables(db, cur).items())
                if t not in NOT_RESTORED}


@contextmanager
def _snapshot(db: Database) -> Iterator[Any]:
    """A cursor of its own inside one read transaction (a snapshot), rolled back at the end."""
    cur = db.cursor().cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    finally:
        try:
            cur.execute("ROLLBACK")
        finally:
            cur.close()


# -- writing a backup -----------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def signed() -> bool:
    """Are backups signed (and unsigned or altered ones refused at restore)?"""
    return _key() is not None


def _key() -> bytes | None:
    key = os.environ.get(KEY_ENV, "")
    return key.encode("utf-8") if key else None


def _signature(key: bytes, sums: bytes) -> str:
    return "hmac-sha256 " + hmac.new(key, sums, hashlib.sha256).hexdigest() + "\n"


def _check_signature(path: Path, sums: bytes) -> None:
    """With a key set: the backup must carry this key's signature of its SHA256SUMS."""
    key = _key()
    if key is None:
        return
    file = path / SIGNATURE
    if not file.exists():
        raise BackupError(f"备份 {path} 没有签名：已设置 {KEY_ENV}，只恢复用同一密钥签名的备份"
                          "（该备份可能是在未设置密钥时做的，或签名文件被删除）。")
    try:
        found = file.read_text(encoding="ascii")
    except (OSError, ValueError):
        found = ""
    if not hmac.compare_digest(found.strip(), _signature(key, sums).strip()):
        raise BackupError(f"备份 {path} 签名不符：备份在签名后被改动过，或签名用的不是当前的 {KEY_ENV}。"
                          "为安全起见不予恢复。")


def write_backup(db: Database, target: str | Path, kind: str = "manual", note: str = "") -> BackupInfo:
    """Write a consistent backup of the whole database into the folder `target` (new or empty)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"备份目录 {target} 已存在且不是空目录：请换一个目录")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    created = db.now()
    try:
        tables: dict[str, dict] = {}
        with _snapshot(db) as cur:
            for name, columns in sorted(_tables(db, cur).items()):
                file = partial / f"{name}.parquet"
                order = " ORDER BY " + q("id") if "id" in columns else ""
                reader = cur.execute(
                    "SELECT " + ", ".join(q(c) for c in columns) + " FROM " + q(name) + order
                ).to_arrow_reader()
                with pq.ParquetWriter(file, reader.schema, compression="zstd") as writer:
                    for batch in reader:
                        writer.write_batch(batch)
                found = _checksum(cur, name, columns)
                tables[name] = {"file": file.name, "columns": columns, "rows": found.rows,
                                "checksum": found.checksum}
        manifest = {
            "format": FORMAT,
            "created_at": created.isoformat(sep=" "),
            "kind": kind,
            "note": note,
            "backend": db.backend,
            "source": postgres.redacted(db.url),
            "tables": tables,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        files = sorted(p for p in partial.iterdir() if p.name not in (SUMS, SIGNATURE))
        lines = [f"{_sha256(p)}  {p.name}\n" for p in files]
        (partial / SUMS).write_text("".join(lines), encoding="utf-8")
        if (key := _key()) is not None:
            (partial / SIGNATURE).write_text(_signature(key, (partial / SUMS).read_bytes()), encoding="ascii")
        for p in partial.iterdir():
            _fsync(p)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(partial, target)
        _fsync(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return read_info(target)


def read_info(path: str | Path) -> BackupInfo:
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path} 不是 wuye 备份目录（没有 {MANIFEST}）") from None
    except (OSError, ValueError) as err:
        raise BackupError(f"备份目录 {path} 的 {MANIFEST} 无法读取：{err}") from None
    tables = {t: TableSum(v["rows"], v["checksum"]) for t, v in manifest.get("tables", {}).items()}
    size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return BackupInfo(path, datetime.fromisoformat(manifest["created_at"]), manifest.get("kind", ""),
                      manifest.get("note", ""), tables, size)


def verify(path: str | Path) -> dict:
    """The manifest of a backup whose every file matches SHA256SUMS (and, with a key set, whose
    signature matches); BackupError, with what is wrong, otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise BackupError(f"找不到备份目录 {path}")
    sums = path / SUMS
    if not sums.exists():
        raise BackupError(f"{path} 不是完整的 wuye 备份（没有 {SUMS}）")
    raw = sums.read_bytes()
    _check_signature(path, raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BackupError(f"备份 {path} 的 {SUMS} 已损坏（不是文本）") from None
    listed: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if name:
            listed[name] = digest
    problems = []
    for name, digest in listed.items():
        file = path / name
        if "/" in name or name.startswith(".") or name in (SUMS, SIGNATURE):
            problems.append(f"{name}：文件名不合规")
        elif not file.is_file():
            problems.append(f"{name}：文件缺失")
        elif _sha256(file) != digest:
            problems.append(f"{name}：校验值不符（文件已损坏或被改动）")
    if MANIFEST not in listed:
        problems.append(f"{MANIFEST} 未列入 {SUMS}")
    if problems:
        raise BackupError(f"备份 {path} 校验未通过：" + "；".join(problems))
    manifest = _read_manifest(path)
    missing = [v["file"] for v in manifest["tables"].values() if v["file"] not in listed]
    if missing:
        raise BackupError(f"备份 {path} 校验未通过：{'、'.join(missing)} 未列入 {SUMS}")
    for v in manifest["tables"].values():
        _check_parquet(path, v["file"], v["columns"], v["rows"])
    return manifest


def _damaged(path: Path, what: str, err: object) -> BackupError:
    return BackupError(f"备份 {path} 已损坏，不能恢复：{what}（{str(err).splitlines()[0] if str(err) else type(err).__name__}）。"
                       "请换一份备份。")


def _read_manifest(path: Path) -> dict:
    """The manifest, with the fields restore needs checked, or a BackupError saying what is wrong."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise _damaged(path, f"{MANIFEST} 无法读取", err) from None
    if not isinstance(manifest, dict):
        raise _damaged(path, f"{MANIFEST} 内容不对", "不是 JSON 对象")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份 {path} 的格式版本 {manifest.get('format')} 不受支持")
    tables = manifest.get("tables")
    good = isinstance(tables, dict) and all(
        isinstance(v, dict) and isinstance(v.get("file"), str) and "/" not in v["file"]
        and isinstance(v.get("columns"), list) and all(isinstance(c, str) for c in v["columns"])
        and isinstance(v.get("rows"), int) and isinstance(v.get("checksum"), str)
        for v in tables.values())
    if not good:
        raise _damaged(path, f"{MANIFEST} 内容不完整", "表清单缺少字段")
    return manifest


def _check_parquet(path: Path, name: str, columns: list[str], rows: int) -> None:
    """A table file that reads as Parquet, with the manifest's columns and row count."""
    try:
        meta = pq.read_metadata(path / name)
        names = pq.read_schema(path / name).names
    except (OSError, pa.ArrowException) as err:
        raise _damaged(path, f"{name} 不是完整的 Parquet 文件", err) from None
    if names != columns or meta.num_rows != rows:
        raise _damaged(path, f"{name} 与 {MANIFEST} 不符", f"{meta.num_rows} 行，清单写 {rows} 行")


# -- restore --------------------------------------------------------------------------------
@dataclass
class RestoredTable:
    table: str
    rows: int
    expected: TableSum
    found: TableSum

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def _rows_in_use(db: Database) -> dict[str, int]:
    """Tables of an existing database holding data (settings and migrations alone do not count)."""
    with _snapshot(db) as cur:
        counts = {t: cur.execute("SELECT count(*) FROM " + q(t)).fetchone()[0] for t in _tables(db, cur)}
    return {t: n for t, n in counts.items() if n and t not in NOT_DATA}


def restore(path: str | Path, target_url: str, force: bool = False) -> list[RestoredTable]:
    """Restore a verified backup into a DuckDB file or a PostgreSQL database.

    A target holding data is refused unless `force`; a DuckDB target held by a running app
    raises DatabaseBusy. Every table's checksum is compared with the manifest.
    """
    manifest = verify(path)
    path = Path(path)
    if postgres.is_postgres_url(target_url):
        db = open_database(target_url)
        try:
            used = _rows_in_use(db)
            if used and not force:
                raise BackupError(_in_use_message(target_url, used))
            report = _load(db, path, manifest, truncate=True)
        finally:
            db.close()
        return report
    target = Path(target_url)
    if target.exists() and target.stat().st_size > 0:
        existing = open_database(str(target), migrate=False, read_only=True)  # DatabaseBusy if held
        try:
            used = _rows_in_use(existing)
        finally:
            existing.close()
        if used and not force:
            raise BackupError(_in_use_message(str(target), used))
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    try:
        db = open_database(str(building))
        try:
            report = _load(db, path, manifest, truncate=False)
        finally:
            db.close()
        bad = [r.table for r in report if not r.ok]
        if bad:
            raise BackupError(f"恢复后校验不一致：{'、'.join(bad)}；目标文件未改动")
        Path(str(target) + ".wal").unlink(missing_ok=True)  # a stale log must not replay onto it
        os.replace(building, target)
    finally:
        building.unlink(missing_ok=True)
        Path(str(building) + ".wal").unlink(missing_ok=True)
    return report


def _in_use_message(target: str, used: dict[str, int]) -> str:
    shown = "，".join(f"{t} {n:,} 行" for t, n in sorted(used.items())[:6])
    more = " 等" if len(used) > 6 else ""
    return (f"目标数据库 {postgres.redacted(target)} 已有数据（{shown}{more}）。"
            "为免覆盖，请恢复到一个新文件；确认要用备份覆盖时加 --force。")


def _load(db: Database, path: Path, manifest: dict, truncate: bool) -> list[RestoredTable]:
    tables = {t: v for t, v in manifest["tables"].items() if t not in NOT_RESTORED}
    with _snapshot(db) as cur:  # one catalog query (columns_of per table is slow on PostgreSQL)
        catalog = _tables(db, cur)
    have = {t: catalog.get(t, []) for t in tables}
    missing = [t for t, cols in have.items() if not cols]
    if missing:
        raise BackupError("目标库没有这些表：" + "、".join(missing) + "。备份可能来自更新的 wuye 版本，请先升级。")
    for t, v in tables.items():
        extra = [c for c in v["columns"] if c not in have[t]]
        if extra:
            raise BackupError(f"目标表 {t} 缺少列：{'、'.join(extra)}。备份可能来自更新的 wuye 版本。")
    with db.transaction() as tx:
        if truncate:
            filled = [t for t in tables if tx.execute("SELECT count(*) FROM " + q(t)).fetchone()[0]]
            if filled and db.is_postgres:
                postgres.execute(tx, "TRUNCATE " + ", ".join(q(t) for t in filled))
            elif filled:
                for t in filled:
                    tx.execute("DELETE FROM " + q(t))
        for t, v in tables.items():
            names = ", ".join(q(c) for c in v["columns"])
            try:
                tx.execute("INSERT INTO " + q(t) + " (" + names + ") SELECT " + names
                           + " FROM read_parquet(?)", [str(path / v["file"])])
            except duckdb.Error as err:  # a file damaged in a way its metadata did not show
                raise _damaged(path, f"{v['file']} 无法读入表 {t}", err) from err
    db.sync_sequences()
    derived.rebuild(db)
    with _snapshot(db) as cur:  # the backup's columns: a newer schema may have added some
        found = {t: _checksum(cur, t, v["columns"]) for t, v in tables.items()}
    return [RestoredTable(t, found[t].rows, TableSum(v["rows"], v["checksum"]), found[t])
            for t, v in tables.items()]


def restore_text(report: list[RestoredTable]) -> str:
    bad = [r.table for r in report if not r.ok]
    total = sum(r.rows for r in report)
    if bad:
        return f"已恢复 {len(report)} 张表、{total:,} 行，但 {len(bad)} 张表校验不一致：{'、'.join(bad)}"
    return f"已恢复 {len(report)} 张表、{total:,} 行，逐表校验和与备份一致。"


# -- backups kept by the app ----------------------------------------------------------------
def backup_root(db: Database) -> Path | None:
    """Where the app keeps its backups: `<data folder>/backups`; None for an in-memory database."""
    configured = getattr(db, "backup_root", None)
    if configured:
        return Path(configured)
    try:
        return data_dir(db) / "backups"
    except AttachmentRejected:
        return None


def _auto_enabled(db: Database) -> bool:
    return bool(getattr(db, "auto_backup", False)) and os.environ.get(AUTO_ENV, "1") != "0"


def enable_auto(db: Database, root: str | Path | None = None) -> None:
    """Back up this database before every import and bill run (the app and the CLI do)."""
    db.auto_backup = True  # type: ignore[attr-defined]
    if root is not None:
        db.backup_root = Path(root)  # type: ignore[attr-defined]


def backup_now(db: Database, kind: str = "manual", note: str = "") -> BackupInfo:
    """A new backup in the app's backup folder, then old automatic ones pruned."""
    root = backup_root(db)
    if root is None:
        raise BackupError("内存数据库没有数据目录，不能备份到文件夹")
    stamp = f"{db.now():%Y%m%d-%H%M%S}-{kind}"
    target, n = root / stamp, 1
    while target.exists():
        n += 1
        target = root / f"{stamp}-{n}"
    info = write_backup(db, target, kind, note)
    prune(db)
    return info


def manual_backup(db: Database, actor) -> BackupInfo:
    """The backup button: administrators only (a backup holds every owner's personal data)."""
    require_admin(actor, "备份数据库")
    return backup_now(db, "manual", f"{actor.user} 手动备份")


def before_change(db: Database, kind: str, note: str = "") -> BackupInfo | None:
    """The backup before an import or a bill run (when enabled for this database)."""
    if not _auto_enabled(db) or backup_root(db) is None:
        return None
    try:
        return backup_now(db, kind, note)
    except (OSError, BackupError) as err:
        raise BackupError(f"操作前的自动备份失败，操作未执行：{err}") from err


def keep_days(db: Database) -> int:
    try:
        days = int(value(db, KEEP_DAYS_KEY) or DEFAULT_KEEP_DAYS)
    except (ValueError, TypeError):
        days = DEFAULT_KEEP_DAYS
    return max(days, 1)


def list_backups(root: Path | None) -> list[BackupInfo]:
    """Complete backups in a folder, newest first."""
    if root is None or not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        if p.is_dir() and _FOLDER.fullmatch(p.name) and (p / MANIFEST).exists():
            try:
                found.append(read_info(p))
            except (BackupError, KeyError, ValueError):
                continue
    return sorted(found, key=lambda b: (b.created_at, b.path.name), reverse=True)


def prune(db: Database, now: datetime | None = None) -> list[Path]:
    """Remove automatic backups older than the kept days, and leftovers of interrupted ones."""
    root = backup_root(db)
    if root is None or not root.is_dir():
        return []
    now = now or db.now()
    cutoff = now - timedelta(days=keep_days(db))
    removed = []
    for p in root.iterdir():
        m = _FOLDER.fullmatch(p.name)
        old_auto = bool(m) and p.is_dir() and m[2] in PRUNED_KINDS and \
            datetime.strptime(m[1], "%Y%m%d-%H%M%S") < cutoff
        leftover = p.name.startswith(".") and ".partial-" in p.name and \
            datetime.fromtimestamp(p.stat().st_mtime) < now - timedelta(days=1)
        if old_auto or leftover:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def daily_if_due(db: Database) -> BackupInfo | None:
    """Today's automatic backup, unless one is there already."""
    root = backup_root(db)
    if root is None:
        return None
    today = f"{db.now():%Y%m%d}"
    if any(b.kind == "daily" and b.path.name.startswith(today) for b in list_backups(root)):
        return None
    return backup_now(db, "daily", "每日自动备份")


def attach_to_app(db: Database) -> None:
    """In the running app: backups before imports and bill runs, and a daily backup thread."""
    if os.environ.get(AUTO_ENV, "1") == "0" or backup_root(db) is None:
        return
    enable_auto(db)
    if getattr(db, "_daily_backup", None) is not None:
        return
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                daily_if_due(db)
            except Exception as err:  # a failed backup must not stop the app; it is tried again
                print(f"每日自动备份失败：{err}", flush=True)
            stop.wait(DAILY_CHECK_SECONDS)

    thread = threading.Thread(target=loop, name="wuye-daily-backup", daemon=True)
    db._daily_backup = stop  # type: ignore[attr-defined]
    thread.start()


BUSY_HINT = ("正在运行的应用占用着数据库文件：请在应用中打开「系统 → 数据备份」，点「立即备份」；"
             "备份保存在数据目录的 backups 文件夹中。")

__all__ = ["BackupError", "DatabaseBusy", "backup_now", "before_change", "checksums", "restore",
           "verify", "write_backup"]
