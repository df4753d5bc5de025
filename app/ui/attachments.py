"""Attachments of one row: list with downloads, upload, removal."""

from __future__ import annotations

import streamlit as st

from app.access.permissions import Actor, PermissionDenied
from app.registers.model import Register
from app.saving.attachments import (
    ALLOWED,
    ALLOWED_TEXT,
    MAX_BYTES,
    AttachmentRejected,
    list_attachments,
    read_attachment,
    remove_attachment,
    save_attachment,
)
from app.storage.db import Database


def attachments_panel(db: Database, actor: Actor, reg: Register, row_id: int) -> None:
    key = f"att-{reg.name}-{row_id}"
    files = list_attachments(db, actor, reg.name, row_id)
    if not files:
        st.caption("还没有附件。")
    for a in files:
        cols = st.columns([5, 2, 1, 1])
        cols[0].write(f"{a.file_name}")
        cols[1].caption(f"{a.size / 1024:,.0f} KB · {a.created_at:%Y-%m-%d %H:%M}" if a.created_at else "")
        cols[2].download_button("下载", data=lambda a=a: read_attachment(db, actor, a.id)[1],
                                file_name=a.file_name, mime=a.content_type, key=f"{key}-dl-{a.id}",
                                on_click="ignore")
        if cols[3].button("删除", key=f"{key}-rm-{a.id}"):
            try:
                remove_attachment(db, actor, a.id)
            except (PermissionDenied, AttachmentRejected) as err:
                st.error(str(err))
            else:
                st.rerun()
    upload = st.file_uploader(
        f"上传照片或扫描件（{ALLOWED_TEXT}，每个不超过 {MAX_BYTES // 1024 // 1024} MB）",
        type=sorted(ALLOWED), accept_multiple_files=True, key=f"{key}-upload",
    )
    if upload and st.button("保存附件", key=f"{key}-save", type="primary"):
        try:
            for f in upload:
                save_attachment(db, actor, reg.name, row_id, f.name, f.getvalue())
        except (AttachmentRejected, PermissionDenied) as err:
            st.error(str(err))
        else:
            st.session_state.pop(f"{key}-upload", None)
            st.success(f"已保存 {len(upload)} 个附件。")
            st.rerun()
