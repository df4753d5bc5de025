"""数据备份: back up now, see the kept backups, and how to restore (app/admin/backup.py does the work)."""

import pandas as pd
import streamlit as st

from app.access.permissions import PermissionDenied, require_admin
from app.admin import backup
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("数据备份")
try:
    require_admin(actor, "备份数据库")  # a backup holds every owner's personal data
except PermissionDenied as err:
    st.error(md(err))
    st.stop()

root = backup.backup_root(db)
days = backup.keep_days(db)
st.caption(
    f"备份是整个数据库的一致快照（每张表一个 Parquet 文件，附 SHA256 校验文件），保存在 {root}。"
    f"应用每天自动备份一次，导入 Excel 和出账前也会自动备份；自动备份保留 {days} 天"
    "（规则参数 office.backup_keep_days），手动备份一直保留。"
)
if backup.signed():
    st.caption("备份带签名（服务器设置了 WUYE_BACKUP_KEY）：恢复时只接受用同一密钥签名、签名后未被改动的备份。")
else:
    st.warning("备份没有签名：校验文件只能发现意外损坏，发现不了有意的改动。"
               "请管理员在服务器上设置环境变量 WUYE_BACKUP_KEY（见 README「备份与恢复」）。")

done = st.session_state.pop("backup-done", None)
if done:
    st.success(done)
if st.button("立即备份", type="primary", icon=":material/backup:", disabled=root is None, key="backup-now"):
    with st.spinner("正在备份…"):
        try:
            info = backup.manual_backup(db, actor)
        except (backup.BackupError, OSError, PermissionDenied) as err:
            st.error(f"备份失败：{md(err)}")
        else:
            st.session_state["backup-done"] = (
                f"已备份 {len(info.tables)} 张表、{info.rows:,} 行到 {info.path}（{info.size / 1024 / 1024:.1f} MB）。")
            st.rerun()

kept = backup.list_backups(root)
st.subheader(f"已有备份（{len(kept)} 个）")
if kept:
    st.dataframe(pd.DataFrame({
        "时间": [b.created_at for b in kept],
        "类型": [b.kind_label for b in kept],
        "说明": [b.note for b in kept],
        "行数": [b.rows for b in kept],
        "大小(MB)": [round(b.size / 1024 / 1024, 2) for b in kept],
        "目录": [b.path.name for b in kept],
    }), hide_index=True, width="stretch", placeholder="")
else:
    st.caption("还没有备份。")

st.subheader("如何恢复")
st.markdown(
    "恢复会校验每个文件的 SHA256，再逐表核对行数和校验和。请先停止应用，然后在命令行运行：\n\n"
    "```\nwuye restore 备份目录 --db data/恢复.duckdb\n```\n\n"
    "默认不会覆盖已有数据的数据库；确认用备份覆盖时加 `--force`。"
)
