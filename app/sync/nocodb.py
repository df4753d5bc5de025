"""NocoDB as the spreadsheet backend: two-way sync of registers and the residents' intake forms.

NocoDB never writes wuye's tables. wuye talks to NocoDB's REST API (through the maintained
`nocodb-simple-client`) and every change that comes back goes through the save path
(`app.saving.changes.apply_changes`) with an actor whose source is “NocoDB”: validated, audited,
checked for conflicts like any grid edit.

- push: the register's table in a NocoDB base (Chinese titles, matching field types), rows
  written there; personal data masked unless `office.nocodb_personal_data` is 是.
- pull: rows changed in NocoDB since the last pull; only the cells edited there are applied
  (row version = the one last synced, so a row changed in wuye meanwhile is a conflict,
  reported and not overwritten); refused rows get the reason in the 同步错误 column.
- intake: public NocoDB forms 住户报修 / 住户投诉; a pull turns each new submission into a
  work order or complaint (channel 网络) with its number, written back into the form's table.

Sync state lives in wuye's database (sql/migrations/030_nocodb_sync.sql).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from app import registers, settings
from app.access.permissions import ADMIN, Actor, mask_value, require, sees_personal_data
from app.reading.queries import label_sql
from app.registers.model import Field, Register
from app.registers.validation import money
from app.saving.changes import RowChange, SaveRejected, apply_changes
from app.service import service_desk
from app.storage.audit_log import write_audit
from app.storage.db import Database, in_list, q

SOURCE = "NocoDB"
ID_TITLE, ERROR_TITLE = "编号", "同步错误"
PAGE = 1000  # NocoDB's largest page
CHUNK = 1000  # rows per save and per mapping query
WRITE = 100  # rows per write request: NocoDB refuses more from an API token
NOT_SYNCED = {"settings", "saved_queries", "attachments"}  # configuration, files: never leave wuye
LONG_TEXT = {"description", "report", "note", "result", "comment", "content", "remark"}
PERSONAL_SETTING = "office.nocodb_personal_data"
PULL_SETTING = "office.nocodb_pull_seconds"
URL_ENV, TOKEN_ENV, BASE_ENV = "WUYE_NOCODB_URL", "WUYE_NOCODB_TOKEN", "WUYE_NOCODB_BASE"

UIDT = {
    "text": "SingleLineText", "integer": "Number", "money": "Decimal", "price": "Decimal",
    "area": "Decimal", "quantity": "Decimal", "rate": "Decimal", "date": "Date",
    "timestamp": "DateTime", "boolean": "Checkbox", "enum": "SingleSelect", "ref": "SingleLineText",
    "phone": "SingleLineText", "id_number": "SingleLineText",
}


class NocoDBError(RuntimeError):
    """NocoDB cannot be reached or refused a request; the message is for the user."""


# -- the connection ---------------------------------------------------------------------------
@dataclass
class Link:
    """A NocoDB instance: its URL, an API token (NocoDB → Team & Settings → API Tokens), the base."""

    url: str
    token: str
    base: str = "wuye"
    _client: Any = None

    @property
    def client(self):
        if self._client is None:
            from nocodb_simple_client import NocoDBMetaClient

            self._client = NocoDBMetaClient(base_url=self.url.rstrip("/"), db_auth_token=self.token,
                                            timeout=120)
        return self._client

    def call(self, method: str, path: str, data: Any = None, params: dict | None = None) -> Any:
        c = self.client
        try:
            if method == "GET":
                return c._get(path, params=params)
            return {"POST": c._post, "PATCH": c._patch, "DELETE": c._delete}[method](path, data)
        except Exception as err:  # the client's exceptions carry NocoDB's message
            raise NocoDBError(f"NocoDB {method} {path}：{err}") from err

    def records(self, table_id: str, where: str | None = None) -> Iterator[dict]:
        """Every record (matching `where`), page by page in Id order."""
        offset = 0
        while True:
            params = {"limit": PAGE, "offset": offset, "sort": "Id"}
            if where:
                params["where"] = where
            page = self.call("GET", f"api/v2/tables/{table_id}/records", params=params)
            rows = page.get("list", [])
            yield from rows
            offset += len(rows)
            if not rows or page.get("pageInfo", {}).get("isLastPage", True):
                return


def link_from_env(url: str | None = None, token: str | None = None, base: str | None = None) -> Link:
    url = url or os.environ.get(URL_ENV)
    token = token or os.environ.get(TOKEN_ENV)
    if not url or not token:
        raise NocoDBError(f"未配置 NocoDB：请设置环境变量 {URL_ENV} 和 {TOKEN_ENV}（或 --url/--token）")
    return Link(url, token, base or os.environ.get(BASE_ENV) or "wuye")


def configured() -> bool:
    return bool(os.environ.get(URL_ENV) and os.environ.get(TOKEN_ENV))


# -- cells: wuye value <-> canonical (JSON) <-> NocoDB value --------------------------------------
def titles(reg: Register) -> dict[str, str]:
    """Field name -> NocoDB column title: the Chinese label, made unique."""
    taken = {ID_TITLE, ERROR_TITLE, "Id", "CreatedAt", "UpdatedAt"}
    out = {}
    for f in reg.fields:
        title = f.label if f.label not in taken else f"{f.label}（{f.name}）"
        taken.add(title)
        out[f.name] = title
    return out


def column_specs(reg: Register) -> list[dict]:
    cols = [{"title": ID_TITLE, "uidt": "Number", "description": "wuye 编号：由 wuye 填写，新行留空"}]
    names = titles(reg)
    for f in reg.fields:
        spec: dict[str, Any] = {"title": names[f.name], "uidt": UIDT[f.type]}
        if f.type == "text" and f.name in LONG_TEXT:
            spec["uidt"] = "LongText"
        if f.type == "enum":
            spec["colOptions"] = {"options": [{"title": v, "order": i + 1} for i, v in enumerate(f.values)]}
        if f.scale is not None:
            spec["meta"] = {"precision": f.scale}
        if f.type == "date":
            spec["meta"] = {"date_format": "YYYY-MM-DD"}
        if f.type == "timestamp":
            spec["meta"] = {"date_format": "YYYY-MM-DD", "time_format": "HH:mm", "is12hrFormat": False}
        if f.help:
            spec["description"] = f.help[:250]
        cols.append(spec)
    cols.append({"title": ERROR_TITLE, "uidt": "LongText", "description": "wuye 拒收此行修改的原因"})
    return cols


def canon_from_wuye(f: Field, value: Any, mask: bool) -> Any:
    if value is None:
        return False if f.type == "boolean" else None
    if f.type == "boolean":
        return bool(value)
    if f.type == "integer":
        return int(value)
    if f.scale is not None:
        return str(money(value, f.scale))
    if f.type == "date":
        return value.isoformat()
    if f.type == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    if mask and f.is_personal:
        text = mask_value(f.type, text)
    return text or None


def canon_from_nocodb(f: Field, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return False if f.type == "boolean" else None
    try:
        if f.type == "boolean":
            return value in (True, 1, "1", "true", "True")
        if f.type == "integer":
            return int(value) if float(value) == int(float(value)) else str(value)
        if f.scale is not None:
            return str(money(Decimal(repr(value) if isinstance(value, float) else str(value)), f.scale))
        if f.type == "date":
            return str(value)[:10]
        if f.type == "timestamp":
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, ArithmeticError):
        return str(value)  # not a valid value: the save path says so
    return str(value).strip()


def to_nocodb(f: Field, canon: Any, tz: zoneinfo.ZoneInfo) -> Any:
    if canon is None:
        return None
    if f.type == "timestamp":
        try:
            return (datetime.strptime(canon, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
                    .isoformat(sep=" "))
        except ValueError:
            return canon
    return canon


def _hash(cells: dict) -> str:
    return hashlib.sha1(json.dumps(cells, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# -- sync state ---------------------------------------------------------------------------------
def _state(db: Database, key: str) -> dict | None:
    res = db.cursor().execute("SELECT * FROM nocodb_tables WHERE sync_key = ?", [key])
    names = [d[0] for d in res.description]
    row = res.fetchone()
    return dict(zip(names, row)) if row else None


def _save_state(db: Database, key: str, **values: Any) -> None:
    old = _state(db, key) or {"sync_key": key}
    row = {**old, **values}
    cols = list(row)
    with db.transaction() as cur:
        cur.execute("DELETE FROM nocodb_tables WHERE sync_key = ?", [key])
        cur.execute("INSERT INTO nocodb_tables (" + ", ".join(cols) + ") VALUES ("
                    + ", ".join("?" for _ in cols) + ")", [row[c] for c in cols])


def states(db: Database) -> list[dict]:
    """Every synced register and form, for the page: key, table, last push and pull, row count."""
    res = db.cursor().execute(
        "SELECT t.sync_key, t.nocodb_url, t.table_id, t.form_uuid, t.last_push_at, t.last_pull_at, "
        "(SELECT count(*) FROM nocodb_rows r WHERE r.sync_key = t.sync_key) AS rows "
        "FROM nocodb_tables t ORDER BY t.sync_key")
    names = [d[0] for d in res.description]
    return [dict(zip(names, r)) for r in res.fetchall()]


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _row_states(db: Database, key: str, nocodb_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """nocodb id -> {row_id, synced_version, synced_values, rejected}."""
    cur = db.cursor()
    sql = ("SELECT nocodb_id, row_id, synced_version, synced_values, rejected FROM nocodb_rows "
           "WHERE sync_key = ?")
    if nocodb_ids is None:
        batches = [cur.execute(sql, [key]).fetchall()]
    else:
        batches = []
        for part in _chunks(sorted(set(nocodb_ids))):
            placeholders, params = in_list(part)
            batches.append(cur.execute(sql + " AND nocodb_id IN " + placeholders, [key, *params]).fetchall())
    return {r[0]: {"row_id": r[1], "version": r[2], "values": r[3], "rejected": r[4]}
            for rows in batches for r in rows}


def _save_rows(db: Database, key: str, entries: list[tuple]) -> None:
    """Upsert (nocodb_id, row_id, version, values JSON, rejected hash) rows of the mapping."""
    if not entries:
        return
    now = db.now()
    with db.transaction() as cur:
        for part in _chunks(entries, 5000):
            placeholders, params = in_list([e[0] for e in part])
            cur.execute("DELETE FROM nocodb_rows WHERE sync_key = ? AND nocodb_id IN " + placeholders,
                        [key, *params])
            table = pa.table({
                "sync_key": [key] * len(part),
                "nocodb_id": pa.array([e[0] for e in part], pa.int64()),
                "row_id": pa.array([e[1] for e in part], pa.int64()),
                "synced_version": pa.array([e[2] for e in part], pa.int32()),
                "synced_values": pa.array([e[3] for e in part], pa.string()),
                "rejected": pa.array([e[4] for e in part], pa.string()),
                "synced_at": pa.array([now] * len(part), pa.timestamp("us")),
            })
            cur.register("incoming_nocodb_rows", table)
            try:
                cur.execute("INSERT INTO nocodb_rows (sync_key, nocodb_id, row_id, synced_version, "
                            "synced_values, rejected, synced_at) SELECT sync_key, nocodb_id, row_id, "
                            "synced_version, synced_values, rejected, synced_at FROM incoming_nocodb_rows")
            finally:
                cur.unregister("incoming_nocodb_rows")


def _drop_rows(db: Database, key: str, nocodb_ids: list[int]) -> None:
    with db.transaction() as cur:
        for part in _chunks(nocodb_ids, 5000):
            placeholders, params = in_list(part)
            cur.execute("DELETE FROM nocodb_rows WHERE sync_key = ? AND nocodb_id IN " + placeholders,
                        [key, *params])


# -- the register's table in NocoDB ------------------------------------------------------------
def _base_id(link: Link) -> str:
    bases = link.call("GET", "api/v2/meta/bases").get("list", [])
    for b in bases:
        if b.get("title") == link.base:
            return b["id"]
    return link.call("POST", "api/v2/meta/bases", {"title": link.base})["id"]


def _table_alive(link: Link, table_id: str) -> bool:
    try:
        link.call("GET", f"api/v2/meta/tables/{table_id}")
        return True
    except NocoDBError:
        return False


def ensure_table(db: Database, link: Link, key: str, title: str, columns: list[dict]) -> dict:
    """The sync state of `key`, its NocoDB table made first when missing (or deleted in NocoDB)."""
    state = _state(db, key)
    if state and state["nocodb_url"] == link.url and _table_alive(link, state["table_id"]):
        return state
    base_id = _base_id(link)
    existing = {t["title"]: t["id"] for t in link.call("GET", f"api/v2/meta/bases/{base_id}/tables")
                .get("list", [])}
    name = title if title not in existing else f"{title} {datetime.now():%Y%m%d%H%M%S}"
    table = link.call("POST", f"api/v2/meta/bases/{base_id}/tables",
                      {"title": name, "table_name": "wuye_" + key.replace(":", "_"), "columns": columns})
    with db.transaction() as cur:  # a new table: the old mapping means nothing any more
        cur.execute("DELETE FROM nocodb_rows WHERE sync_key = ?", [key])
        cur.execute("DELETE FROM nocodb_tables WHERE sync_key = ?", [key])
    _save_state(db, key, nocodb_url=link.url, base_id=base_id, table_id=table["id"], watermark=None)
    return _state(db, key)


def _syncable(name: str) -> Register:
    reg = registers.get(name)
    if reg.name in NOT_SYNCED:
        raise NocoDBError(f"「{reg.label}」不同步到 NocoDB（参数、查询与附件只在 wuye 中维护）")
    return reg


def _tz(db: Database) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(db.timezone)


def _mask(db: Database, actor: Actor) -> bool:
    allowed = (settings.value(db, PERSONAL_SETTING) or "否").strip() in ("是", "true", "1", "yes")
    return not (allowed and sees_personal_data(actor))


def _wuye_rows(db: Database, reg: Register, ids: list[int] | None = None) -> list[dict]:
    """Rows of the register with refs as labels (deleted ones too: a push removes them)."""
    parts = ["t.id", "t.row_version", "t.deleted_at"]
    for f in reg.fields:
        if f.type == "ref":
            ref = registers.get(f.ref)
            alias = "l_" + f.name
            parts.append("(SELECT " + label_sql(ref, alias) + " FROM " + q(ref.name) + " " + alias
                         + " WHERE " + alias + ".id = t." + q(f.name) + ") AS " + q(f.name))
        else:
            parts.append("t." + q(f.name))
    sql = "SELECT " + ", ".join(parts) + " FROM " + q(reg.name) + " t"
    cur = db.cursor()
    if ids is None:
        return cur.execute(sql + " ORDER BY t.id").arrow().read_all().to_pylist()
    out: list[dict] = []
    for part in _chunks(sorted(set(ids))):
        placeholders, params = in_list(part)
        out += cur.execute(sql + " WHERE t.id IN " + placeholders, params).arrow().read_all().to_pylist()
    return out


def _cells(reg: Register, row: dict, mask: bool) -> dict:
    return {f.name: canon_from_wuye(f, row[f.name], mask) for f in reg.fields}


def _payload(reg: Register, cells: dict, tz, row: dict | None = None) -> dict:
    names = titles(reg)
    out = {names[f.name]: to_nocodb(f, cells[f.name], tz) for f in reg.fields}
    if row is not None:
        out[ID_TITLE] = row["id"]
        out[ERROR_TITLE] = None
    return out


# -- reports ------------------------------------------------------------------------------------
@dataclass
class RowIssue:
    nocodb_id: int
    row_id: int | None
    kind: str  # 校验未通过 / 数据冲突
    message: str

    def __str__(self) -> str:
        which = f"编号 {self.row_id}" if self.row_id else "新行"
        return f"NocoDB 第 {self.nocodb_id} 行（{which}）{self.kind}：{self.message}"


@dataclass
class SyncReport:
    register: str
    pushed_new: int = 0
    pushed_updated: int = 0
    pushed_deleted: int = 0
    read: int = 0
    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    refused: list[RowIssue] = field(default_factory=list)
    conflicts: list[RowIssue] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        label = registers.get(self.register).label if self.register in registers.catalog() else self.register
        parts = []
        if self.pushed_new or self.pushed_updated or self.pushed_deleted:
            parts.append(f"推送 新增 {self.pushed_new} 行、修改 {self.pushed_updated} 行、删除 {self.pushed_deleted} 行")
        if self.read:
            parts.append(f"读取 NocoDB 改动 {self.read} 行：新增 {len(self.inserted)} 行、修改 {len(self.updated)} 行")
        if self.refused:
            parts.append(f"拒收 {len(self.refused)} 行（原因已写入「{ERROR_TITLE}」列）")
        if self.conflicts:
            parts.append(f"冲突 {len(self.conflicts)} 行（wuye 中已改，未覆盖）")
        return f"{label}：" + ("；".join(parts) or "没有改动") + f"（{self.seconds:.1f} 秒）"


# -- push ---------------------------------------------------------------------------------------
def push(db: Database, actor: Actor, link: Link, register: str) -> SyncReport:
    """Write the register to its NocoDB table: new rows, rows changed in wuye, deleted rows.

    Edits waiting in NocoDB are pulled first, so a push never overwrites them unseen.
    """
    started = time.monotonic()
    reg = _syncable(register)
    require(actor, reg.name, "export", reg.label)
    report = SyncReport(reg.name)
    state = ensure_table(db, link, reg.name, reg.label, column_specs(reg))
    if state.get("last_push_at") is not None:
        report = pull(db, actor, link, reg.name)
    table_id = state["table_id"]
    tz, mask = _tz(db), _mask(db, actor)
    mapped = {s["row_id"]: (nid, s) for nid, s in _row_states(db, reg.name).items() if s["row_id"] is not None}
    inserts, updates, deletes = [], [], []
    for row in _wuye_rows(db, reg):
        known = mapped.get(row["id"])
        if row["deleted_at"] is not None:
            if known:
                deletes.append(known[0])
        elif known is None:
            inserts.append(row)
        elif known[1]["version"] != row["row_version"] or known[1]["rejected"]:
            updates.append((known[0], row))
    path = f"api/v2/tables/{table_id}/records"
    for part in _chunks(inserts, WRITE):
        cells = [_cells(reg, r, mask) for r in part]
        made = link.call("POST", path, [_payload(reg, c, tz, r) for c, r in zip(cells, part)])
        _save_rows(db, reg.name, [(m["Id"], r["id"], r["row_version"], json.dumps(c, ensure_ascii=False), None)
                                  for m, r, c in zip(made, part, cells)])
        report.pushed_new += len(part)
    for part in _chunks(updates, WRITE):
        cells = [_cells(reg, r, mask) for _, r in part]
        link.call("PATCH", path, [{"Id": nid, **_payload(reg, c, tz, r)} for (nid, r), c in zip(part, cells)])
        _save_rows(db, reg.name, [(nid, r["id"], r["row_version"], json.dumps(c, ensure_ascii=False), None)
                                  for (nid, r), c in zip(part, cells)])
        report.pushed_updated += len(part)
    for part in _chunks(deletes, WRITE):
        link.call("DELETE", path, [{"Id": nid} for nid in part])
        _drop_rows(db, reg.name, part)
        report.pushed_deleted += len(part)
    _save_state(db, reg.name, last_push_at=db.now())
    pushed = report.pushed_new + report.pushed_updated
    if pushed:
        with db.transaction() as cur:
            write_audit(db, cur, actor.via(SOURCE), reg.name, _change_id(), [(None, "导出", None, None)],
                        note=f"推送 {pushed} 行到 NocoDB（{link.url}）" + ("，个人信息已打码" if mask else ""))
    report.seconds = time.monotonic() - started
    return report


def _change_id() -> str:
    import uuid

    return uuid.uuid4().hex


# -- pull ---------------------------------------------------------------------------------------
def _since(state: dict) -> str | None:
    mark = state.get("watermark")
    if not mark:
        return None
    return f"(UpdatedAt,gte,exactDate,{mark})~or(CreatedAt,gte,exactDate,{mark})"


def _newest(records: list[dict], old: str | None) -> str | None:
    stamps = [s for r in records for s in (r.get("UpdatedAt"), r.get("CreatedAt")) if s]
    return max([*stamps, *([old] if old else [])], default=None)


def _apply_isolating(db: Database, actor: Actor, register: str,
                     changes: list[RowChange]) -> tuple[list[RowChange], dict[str, tuple[str, str]]]:
    """Apply what can be applied; rows the save path names are set aside with (kind, message)."""
    failed: dict[str, tuple[str, str]] = {}
    pending = list(changes)
    while pending:
        for c in pending:
            if c.action == "insert":
                c.row_id = None
        try:
            apply_changes(db, actor, register, pending)
            return pending, failed
        except SaveRejected as err:
            places = {c.where for c in pending}
            named = [p for p in err.problems if p.row in places]
            if not named:  # nothing attributable to a row: one by one, to find the culprits
                text = "；".join(p.message for p in err.problems)
                if len(pending) == 1:
                    failed[pending[0].where] = (err.kind, text)
                    return [], failed
                done: list[RowChange] = []
                for c in pending:
                    ok, bad = _apply_isolating(db, actor, register, [c])
                    done += ok
                    failed.update(bad)
                return done, failed
            for p in named:
                kind, text = failed.get(p.row, (err.kind, ""))
                message = (f"「{p.column}」" if p.column else "") + p.message
                failed[p.row] = (kind, f"{text}；{message}" if text else message)
            pending = [c for c in pending if c.where not in failed]
    return [], failed


def pull(db: Database, actor: Actor, link: Link, register: str) -> SyncReport:
    """Apply the rows changed in NocoDB since the last pull, through the save path."""
    started = time.monotonic()
    reg = _syncable(register)
    report = SyncReport(reg.name)
    state = _state(db, reg.name)
    if state is None:
        raise NocoDBError(f"「{reg.label}」还没有推送到 NocoDB：请先 push")
    actor = actor.via(SOURCE)
    tz, names = _tz(db), titles(reg)
    path = f"api/v2/tables/{state['table_id']}/records"
    records = list(link.records(state["table_id"], _since(state)))
    report.read = 0
    known = _row_states(db, reg.name, [r["Id"] for r in records])
    changes: list[RowChange] = []
    seen: dict[str, tuple[dict, dict, str]] = {}  # where -> (record, cells, hash)
    for rec in records:
        cells = {f.name: canon_from_nocodb(f, rec.get(names[f.name]), tz) for f in reg.fields}
        digest = _hash(cells)
        mine = known.get(rec["Id"])
        if mine and mine["rejected"] == digest:
            continue
        where = f"NocoDB 第 {rec['Id']} 行"
        if mine and mine["row_id"] is not None:
            before = json.loads(mine["values"]) if mine["values"] else {}
            edited = {k: v for k, v in cells.items() if before.get(k) != v}
            if not edited:
                continue
            values = {k: (v if v is not None else None) for k, v in edited.items()}
            changes.append(RowChange("update", mine["row_id"], values, mine["version"], where))
        else:
            if rec.get(ID_TITLE) not in (None, ""):
                _report_refused(db, link, path, reg, report, rec, cells, digest, mine, "校验未通过",
                                f"「{ID_TITLE}」由 wuye 填写：复制来的行请清空编号后再同步", None)
                continue
            values = {k: v for k, v in cells.items() if v is not None and v is not False}
            changes.append(RowChange("insert", None, values, None, where))
        seen[where] = (rec, cells, digest)
    report.read = len(seen)
    for part in _chunks(changes):
        applied, failed = _apply_isolating(db, actor, reg.name, part)
        _after_applied(db, link, path, reg, report, applied, tz, actor, seen)
        for where, (kind, message) in failed.items():
            rec, cells, digest = seen[where]
            mine = known.get(rec["Id"])
            _report_refused(db, link, path, reg, report, rec, cells, digest, mine, kind, message,
                            mine["row_id"] if mine else None)
    _save_state(db, reg.name, watermark=_newest(records, state.get("watermark")), last_pull_at=db.now())
    report.seconds = time.monotonic() - started
    return report


def _nid(change: RowChange) -> int:
    return int(change.where.split()[2])


def _after_applied(db, link, path, reg, report, applied: list[RowChange], tz, actor, seen) -> None:
    """Write back what wuye stored where NocoDB shows something else: the number of a new row,
    cells normalized or set by wuye's rules, an error that no longer holds."""
    if not applied:
        return
    mask = _mask(db, actor)
    rows = {r["id"]: r for r in _wuye_rows(db, reg, [c.row_id for c in applied])}
    patch, entries = [], []
    for c in applied:
        row = rows[c.row_id]
        cells = _cells(reg, row, mask)
        rec, shown, _ = seen[c.where]
        if c.action == "insert" or cells != shown or rec.get(ERROR_TITLE):
            patch.append({"Id": _nid(c), **_payload(reg, cells, tz, row)})
        entries.append((_nid(c), row["id"], row["row_version"], json.dumps(cells, ensure_ascii=False), None))
        (report.inserted if c.action == "insert" else report.updated).append(c.row_id)
    for part in _chunks(patch, WRITE):
        link.call("PATCH", path, part)
    _save_rows(db, reg.name, entries)


def _report_refused(db, link, path, reg, report, rec, cells, digest, mine, kind, message, row_id) -> None:
    issue = RowIssue(rec["Id"], row_id, kind, message)
    (report.conflicts if kind == "数据冲突" else report.refused).append(issue)
    link.call("PATCH", path, [{"Id": rec["Id"], ERROR_TITLE: f"{kind}：{message}（{datetime.now():%m-%d %H:%M}）"}])
    _save_rows(db, reg.name, [(rec["Id"], mine["row_id"] if mine else None, mine["version"] if mine else None,
                               mine["values"] if mine else None, digest)])


# -- resident intake forms --------------------------------------------------------------------
@dataclass(frozen=True)
class Intake:
    key: str
    register: str
    title: str
    fields: tuple[tuple[str, str, str], ...]  # (title, uidt, wuye field or special)
    number_title: str
    required: tuple[str, ...]


INTAKES = {
    "work_orders": Intake(
        "intake:work_orders", "work_orders", "住户报修",
        (("小区", "SingleSelect", "community_id"), ("房号", "SingleLineText", "household_id"),
         ("报修位置", "SingleLineText", "location"), ("类别", "SingleSelect", "category"),
         ("报修内容", "LongText", "description"), ("报修人", "SingleLineText", "reporter_name"),
         ("联系电话", "SingleLineText", "reporter_phone")),
        "报修单号", ("小区", "类别", "报修内容", "联系电话")),
    "complaints": Intake(
        "intake:complaints", "complaints", "住户投诉",
        (("小区", "SingleSelect", "community_id"), ("房号", "SingleLineText", "household_id"),
         ("涉及位置", "SingleLineText", "location"), ("类别", "SingleSelect", "category"),
         ("投诉内容", "LongText", "description"), ("投诉人", "SingleLineText", "complainant"),
         ("联系电话", "SingleLineText", "phone")),
        "投诉编号", ("小区", "类别", "投诉内容", "联系电话")),
}


def _intake_columns(db: Database, intake: Intake) -> list[dict]:
    reg = registers.get(intake.register)
    communities = [r[0] for r in db.rows("SELECT name FROM communities WHERE deleted_at IS NULL ORDER BY id")]
    cols = []
    for title, uidt, name in intake.fields:
        spec: dict[str, Any] = {"title": title, "uidt": uidt}
        if name == "community_id":
            spec["colOptions"] = {"options": [{"title": c, "order": i + 1} for i, c in enumerate(communities)]}
        elif uidt == "SingleSelect":
            spec["colOptions"] = {"options": [{"title": v, "order": i + 1}
                                              for i, v in enumerate(reg.field(name).values)]}
        if name == "household_id":
            spec["description"] = "如 3-2-1201（幢-单元-室）；公共部位留空"
        cols.append(spec)
    return cols + [{"title": intake.number_title, "uidt": "SingleLineText"},
                   {"title": ERROR_TITLE, "uidt": "LongText"}]


def form_url(link: Link, form_uuid: str) -> str:
    return f"{link.url.rstrip('/')}/dashboard/#/nc/form/{form_uuid}"


def publish_forms(db: Database, actor: Actor, link: Link) -> dict[str, str]:
    """Make (once) the intake tables and their public forms; register -> the form's address."""
    out = {}
    for intake in INTAKES.values():
        require(actor, intake.register, "add", registers.get(intake.register).label)
        state = ensure_table(db, link, intake.key, intake.title, _intake_columns(db, intake))
        if not state.get("form_uuid"):
            form = link.call("POST", f"api/v2/meta/tables/{state['table_id']}/forms",
                             {"title": intake.title + "表单"})
            link.call("PATCH", f"api/v2/meta/forms/{form['id']}", {
                "heading": intake.title, "subheading": "提交后物业管理处即时受理，并按时限处理",
                "success_msg": "已收到，管理处会尽快联系您。", "submit_another_form": True})
            _form_columns(link, form["id"], intake)
            shared = link.call("POST", f"api/v2/meta/views/{form['id']}/share", {})
            _save_state(db, intake.key, form_view_id=form["id"], form_uuid=shared["uuid"])
            state = _state(db, intake.key)
        out[intake.register] = form_url(link, state["form_uuid"])
    return out


def _form_columns(link: Link, form_id: str, intake: Intake) -> None:
    """Hide wuye's own columns from residents; mark the required ones."""
    form = link.call("GET", f"api/v2/meta/forms/{form_id}")
    for col in form.get("columns", []):
        title = col.get("label") or col.get("title")
        meta_title = col.get("column", {}).get("title") if isinstance(col.get("column"), dict) else None
        title = meta_title or title
        change: dict[str, Any] = {}
        if title in (intake.number_title, ERROR_TITLE):
            change["show"] = False
        if title in intake.required:
            change["required"] = True
        if change:
            try:
                link.call("PATCH", f"api/v2/meta/form-columns/{col['id']}", change)
            except NocoDBError:
                pass  # cosmetic: the pull checks every submission anyway


def form_submission_titles(link: Link, table_id: str) -> dict[str, str]:
    columns = link.call("GET", f"api/v2/meta/tables/{table_id}").get("columns", [])
    return {c["title"]: c["id"] for c in columns}


@dataclass
class IntakeReport:
    register: str
    created: list[tuple[int, str]] = field(default_factory=list)  # (row id, number)
    refused: list[RowIssue] = field(default_factory=list)

    @property
    def summary(self) -> str:
        label = registers.get(self.register).label
        text = f"{label}表单：新受理 {len(self.created)} 件"
        if self.created:
            text += "（" + "、".join(n for _, n in self.created[:10]) + ("…" if len(self.created) > 10 else "") + "）"
        if self.refused:
            text += f"；拒收 {len(self.refused)} 件（原因已写入「{ERROR_TITLE}」列）"
        return text


def pull_intake(db: Database, actor: Actor, link: Link, register: str) -> IntakeReport:
    """Each new form submission becomes a work order / complaint (channel 网络) with its number."""
    intake = INTAKES[register]
    report = IntakeReport(register)
    state = _state(db, intake.key)
    if state is None:
        raise NocoDBError(f"「{intake.title}」表单还没有发布：请先运行 wuye nocodb forms")
    actor = actor.via(SOURCE)
    tz = _tz(db)
    path = f"api/v2/tables/{state['table_id']}/records"
    records = list(link.records(state["table_id"], _since(state)))
    known = _row_states(db, intake.key, [r["Id"] for r in records])
    register_fn = service_desk.register_repair if register == "work_orders" else service_desk.register_complaint
    moment = "reported_at" if register == "work_orders" else "received_at"
    for rec in records:
        cells = {title: (str(rec.get(title)).strip() if rec.get(title) not in (None, "") else None)
                 for title, _, _ in intake.fields}
        digest = _hash(cells)
        mine = known.get(rec["Id"])
        if mine and (mine["row_id"] is not None or mine["rejected"] == digest):
            continue
        values: dict[str, Any] = {name: cells[title] for title, _, name in intake.fields if cells[title]}
        values["channel"] = "网络"
        submitted = datetime.fromisoformat(str(rec["CreatedAt"]).replace("Z", "+00:00"))
        if submitted.tzinfo is None:
            submitted = submitted.replace(tzinfo=UTC)
        values[moment] = submitted.astimezone(tz).replace(tzinfo=None)  # the clock starts at submission
        try:
            row_id, number = register_fn(db, actor, values)
        except SaveRejected as err:
            message = "；".join(p.message if not p.column else f"「{p.column}」{p.message}" for p in err.problems)
            report.refused.append(RowIssue(rec["Id"], None, err.kind, message))
            link.call("PATCH", path, [{"Id": rec["Id"], ERROR_TITLE: f"{err.kind}：{message}"}])
            _save_rows(db, intake.key, [(rec["Id"], None, None, None, digest)])
            continue
        report.created.append((row_id, number))
        link.call("PATCH", path, [{"Id": rec["Id"], intake.number_title: number, ERROR_TITLE: None}])
        _save_rows(db, intake.key, [(rec["Id"], row_id, 1, json.dumps(cells, ensure_ascii=False), None)])
    _save_state(db, intake.key, watermark=_newest(records, state.get("watermark")), last_pull_at=db.now())
    return report


# -- everything at once, and the scheduled pull in the running app ------------------------------
def pull_everything(db: Database, actor: Actor, link: Link) -> list[str]:
    """Intake forms first (their clocks run), then every register pushed before; summaries."""
    out = []
    for st in states(db):
        key = st["sync_key"]
        try:
            if key.startswith("intake:"):
                out.append(pull_intake(db, actor, link, key.split(":", 1)[1]).summary)
        except NocoDBError as err:
            out.append(str(err))
    for st in states(db):
        key = st["sync_key"]
        if not key.startswith("intake:"):
            try:
                out.append(pull(db, actor, link, key).summary)
            except NocoDBError as err:
                out.append(str(err))
    return out


def job_actor() -> Actor:
    """Who a scheduled pull acts as: a system actor, every change audited with source NocoDB."""
    return Actor(user="NocoDB 同步", role=ADMIN, source=SOURCE)


def pull_seconds(db: Database) -> int:
    try:
        return max(10, int(settings.value(db, PULL_SETTING) or 60))
    except ValueError:
        return 60


_scheduler_lock = threading.Lock()


def schedule(db: Database, link: Link | None = None) -> threading.Event | None:
    """Start (once per database object) the background pull every `office.nocodb_pull_seconds`."""
    if os.environ.get("WUYE_NOCODB_SCHEDULE", "1") == "0":
        return None
    if link is None:
        if not configured():
            return None
        link = link_from_env()
    with _scheduler_lock:
        running = getattr(db, "_nocodb_pull", None)
        if running is not None:
            return running
        stop = threading.Event()
        db._nocodb_pull = stop  # type: ignore[attr-defined]

    def loop() -> None:
        while not stop.is_set():
            try:
                for line in pull_everything(db, job_actor(), link):
                    if "没有改动" not in line and "新受理 0 件" not in line:
                        print(f"NocoDB 同步：{line}", flush=True)
            except Exception as err:  # a failed pull must not stop the app; it is tried again
                print(f"NocoDB 同步失败：{err}", flush=True)
            stop.wait(pull_seconds(db))

    threading.Thread(target=loop, name="wuye-nocodb-pull", daemon=True).start()
    return stop


def schedule_in_app(db: Database) -> None:
    """Called by the app's router on every run: starts the scheduled pull once per database."""
    if not configured():
        return
    try:
        schedule(db)
    except Exception as err:  # never break the app for the sync
        print(f"NocoDB 定时同步未启动：{err}", flush=True)


def status_rows(db: Database) -> list[dict]:
    """The page's table: one line per synced register or form, in Chinese."""
    out = []
    for st in states(db):
        key = st["sync_key"]
        if key.startswith("intake:"):
            what = INTAKES[key.split(":", 1)[1]].title + "表单"
        else:
            what = registers.get(key).label if key in registers.catalog() else key
        out.append({"台账/表单": what, "NocoDB": st["nocodb_url"], "同步行数": st["rows"],
                    "上次推送": st["last_push_at"], "上次拉取": st["last_pull_at"]})
    return out


def syncable_registers() -> dict[str, str]:
    """name -> 区域 / 名称 of every register that may be pushed."""
    return {r.name: f"{area} / {r.label}" for area, regs in registers.by_area().items() for r in regs
            if r.name not in NOT_SYNCED}


def published_forms(db: Database, link: Link) -> dict[str, str]:
    """Intake title -> public form address, for the forms published already."""
    out = {}
    for intake in INTAKES.values():
        st = _state(db, intake.key)
        if st and st.get("form_uuid"):
            out[intake.title] = form_url(link, st["form_uuid"])
    return out
