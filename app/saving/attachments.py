"""Attachments: photos and scans of any register row, stored under the data folder with a checksum.

A file lives at `<data dir>/attachments/<register>/<row_id>/<sha256>-<name>`, where the data dir
is the folder of the DuckDB file; its `attachments` row (written through the save path, so it is
audited) keeps the path relative to the data dir, the size and the SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app import registers
from app.access.permissions import Actor, PermissionDenied, require
from app.reading.queries import community_filter_sql
from app.saving.changes import RowChange, apply_changes
from app.storage.db import DEFAULT_DB, Database, q

MAX_BYTES = 20 * 1024 * 1024
# Allowed types: extension -> (content type, what the file must start with).
ALLOWED = {
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
}
ALLOWED_TEXT = "jpg、png、pdf、xlsx、docx"
UNSAFE = re.compile(r'[\x00-\x1f\\/:*?"<>|]+')


class AttachmentRejected(ValueError):
    """An upload that cannot be stored; the message is for the user."""


@dataclass(frozen=True)
class Attachment:
    id: int
    register: str
    row_id: int
    file_name: str
    stored_path: str
    sha256: str
    size: int
    content_type: str | None
    uploaded_by_id: int | None
    note: str | None
    created_at: datetime | None


COLUMNS = (
    "id",
    "register",
    "row_id",
    "file_name",
    "stored_path",
    "sha256",
    "size",
    "content_type",
    "uploaded_by_id",
    "note",
    "created_at",
)


def data_dir(db: Database) -> Path:
    """The data folder: the DuckDB file's folder; on PostgreSQL, WUYE_DATA_DIR or ./data."""
    configured = getattr(db, "data_dir", None)
    if configured:
        return Path(configured)
    if getattr(db, "is_postgres", False) or "://" in db.url:
        return Path(os.environ.get("WUYE_DATA_DIR") or Path(DEFAULT_DB).parent).resolve()
    if db.url == ":memory:":
        raise AttachmentRejected("内存数据库没有数据目录，不能保存附件")
    return Path(db.url).resolve().parent


def safe_name(file_name: str) -> str:
    """The file's own name without folders or characters a file system refuses."""
    base = re.split(r"[\\/]", file_name or "")[-1]
    base = UNSAFE.sub("_", base).strip(" .")
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 120 - len(ext) - 1] + dot + ext) if dot else base[:120]
    return base or "附件"


def check_upload(file_name: str, data: bytes) -> tuple[str, str]:
    """(extension, content type) of an acceptable upload, else AttachmentRejected."""
    ext = file_name.rpartition(".")[2].lower() if "." in file_name else ""
    if ext not in ALLOWED:
        raise AttachmentRejected(f"「{file_name}」类型不允许，只能上传 {ALLOWED_TEXT} 文件")
    if len(data) > MAX_BYTES:
        raise AttachmentRejected(
            f"「{file_name}」大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 {MAX_BYTES // 1024 // 1024} MB"
        )
    if not data:
        raise AttachmentRejected(f"「{file_name}」是空文件")
    content_type, magic = ALLOWED[ext]
    if not data.startswith(magic):
        raise AttachmentRejected(f"「{file_name}」的内容不是 {ext} 文件（可能改过扩展名）")
    return ext, content_type


def require_row_in_scope(db: Database, actor: Actor, reg: registers.Register, row_id: int) -> None:
    """An attachment takes the scope of the row it belongs to: that row must be one the actor
    sees (their communities; for a register with an owner, their own or a shared row)."""
    scope, params = community_filter_sql(reg, "t", actor)
    if not scope:
        return
    found = db.rows("SELECT 1 FROM " + q(reg.name) + " t WHERE t.id = ?" + scope, [int(row_id), *params])
    if not found:
        raise PermissionDenied(f"{actor.user}（{actor.role}）无权查看或修改「{reg.label}」编号 {int(row_id)} 的附件："
                               "该行不在您可管理的小区范围内")


def save_attachment(
    db: Database,
    actor: Actor,
    register: str,
    row_id: int,
    file_name: str,
    data: bytes,
    uploaded_by_id: int | None = None,
    note: str | None = None,
) -> int:
    """Store an uploaded file for one row and record it; returns the attachments row id.

    The same file uploaded again for the same row is not stored twice: the existing id is returned.
    """
    reg = registers.get(register)
    require(actor, reg.name, "edit", reg.label)
    require_row_in_scope(db, actor, reg, row_id)
    name = safe_name(file_name)
    _, content_type = check_upload(name, data)
    digest = hashlib.sha256(data).hexdigest()
    same = db.rows(
        "SELECT id FROM attachments WHERE register = ? AND row_id = ? AND sha256 = ? AND deleted_at IS NULL",
        [reg.name, int(row_id), digest],
    )
    if same:
        return same[0][0]
    relative = Path("attachments") / reg.name / str(int(row_id)) / f"{digest}-{name}"
    target = data_dir(db) / relative
    created = not target.exists()
    if created:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temp, target)
    values = {
        "register": reg.name,
        "row_id": int(row_id),
        "file_name": name,
        "stored_path": relative.as_posix(),
        "sha256": digest,
        "size": len(data),
        "content_type": content_type,
        "uploaded_by_id": uploaded_by_id,
        "note": note,
    }
    try:
        result = apply_changes(db, actor, "attachments", [RowChange("insert", values=values)])
    except Exception:
        if created:
            target.unlink(missing_ok=True)
        raise
    return result.inserted[0]


def list_attachments(db: Database, actor: Actor, register: str, row_id: int) -> list[Attachment]:
    """The live attachments of one row, oldest first."""
    reg = registers.get(register)
    require(actor, reg.name, "view", reg.label)
    require_row_in_scope(db, actor, reg, row_id)
    rows = db.rows(
        "SELECT " + ", ".join(COLUMNS) + " FROM attachments "
        "WHERE register = ? AND row_id = ? AND deleted_at IS NULL ORDER BY id",
        [reg.name, int(row_id)],
    )
    return [Attachment(*row) for row in rows]


def get_attachment(db: Database, actor: Actor, attachment_id: int) -> Attachment:
    rows = db.rows(
        "SELECT " + ", ".join(COLUMNS) + " FROM attachments WHERE id = ? AND deleted_at IS NULL",
        [int(attachment_id)],
    )
    if not rows:
        raise KeyError(f"附件 {attachment_id} 不存在")
    found = Attachment(*rows[0])
    reg = registers.get(found.register)
    require(actor, reg.name, "view", reg.label)
    require_row_in_scope(db, actor, reg, found.row_id)
    return found


def read_attachment(db: Database, actor: Actor, attachment_id: int) -> tuple[Attachment, bytes]:
    """The attachment and its bytes, checked against the recorded SHA-256."""
    found = get_attachment(db, actor, attachment_id)
    path = data_dir(db) / found.stored_path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AttachmentRejected(
            f"附件「{found.file_name}」的文件不见了（{found.stored_path}）"
        ) from None
    if hashlib.sha256(data).hexdigest() != found.sha256:
        raise AttachmentRejected(
            f"附件「{found.file_name}」的文件与登记的校验值不符，可能已损坏或被改动"
        )
    return found, data


def remove_attachment(db: Database, actor: Actor, attachment_id: int) -> None:
    """Soft-delete the record (audited); the file stays, as deleted rows do.

    Removing is changing the row's papers: it needs the right to edit the row's register."""
    found = get_attachment(db, actor, attachment_id)
    reg = registers.get(found.register)
    require(actor, reg.name, "edit", reg.label)
    apply_changes(db, actor, "attachments", [RowChange("delete", row_id=found.id)])
