"""Excel 导入: choose a register, get its template, upload a file, see every problem, import all or nothing."""

import streamlit as st

from app import registers
from app.access.permissions import PermissionDenied
from app.exchange import import_mapping, import_workbook, importer, templates
from app.saving.changes import SaveRejected
from app.ui import session
from app.ui.text import md, show_text

db, actor = session.db(), session.actor()
st.title("Excel 导入")
st.caption(
    "把已有的 Excel 或 CSV 台账导入系统：自动识别表头行和列名，逐行校验；"
    "只要有一行有错就一行也不导入，并列出每个错误所在的 Excel 行号和列名。"
)

done = st.session_state.pop("import-done", None)
if done:
    st.success(done)

round_ = st.session_state.setdefault("import-round", 0)  # a new uploader after each import
whole = st.radio("导入方式", ["单个台账", "整个工作簿"], horizontal=True, key="import-mode",
                 help="整个工作簿：每个工作表一个台账（楼栋单元、房屋信息、业主信息…），按表头认出台账，"
                      "按依赖顺序一次导入，全部通过才写入") == "整个工作簿"
if whole:
    book = st.file_uploader("上传工作簿（.xlsx / .xls）", type=["xlsx", "xlsm", "xls"], key=f"import-book-{round_}")
    if book is None:
        st.stop()
    left, right = st.columns(2)
    communities = importer.community_choices(db, actor)
    book_community = left.selectbox("默认小区（可选）", [None, *communities],
                                    format_func=lambda c: "不指定" if c is None else communities[c],
                                    key="import-book-community", placeholder="请选择",
                                    help="没有小区列的工作表取此小区；同名的房屋、楼栋等按此小区区分")
    book_maps = right.multiselect("使用已保存的映射（可选）", list(import_mapping.saved_mappings(db)),
                                  key="import-book-maps", placeholder="不使用",
                                  help="映射用于它所写的台账（或它指定的工作表）")
    create = st.checkbox("新建缺少的部门、楼栋", key="import-book-create",
                         help="文件中引用了系统里还没有的部门、楼栋时，导入时一并新建；不勾选时只列出缺少的")
    maps = [import_mapping.saved_mappings(db)[n] for n in book_maps]
    signature = (book.file_id, book_community, create, tuple(book_maps))
    if st.session_state.get("import-book-checked", (None,))[0] != signature:
        with st.spinner("正在识别工作表并校验…"):
            try:
                checked = import_workbook.import_workbook(db, actor, book.getvalue(), file_name=book.name,
                                                          mappings=maps, community=book_community,
                                                          create_missing=create, dry_run=True)
            except (importer.ImportRefused, importer.ImportRejected) as err:
                checked = err
        st.session_state["import-book-checked"] = (signature, checked)
    checked = st.session_state["import-book-checked"][1]
    if isinstance(checked, importer.ImportRefused):
        st.error(md(checked))
        st.stop()
    if isinstance(checked, importer.ImportRejected):
        st.error(f"发现 {len(checked.problems):,} 个问题，工作簿中的数据一行也未导入。")
        st.dataframe(importer.problems_table(checked.problems), hide_index=True, width="stretch", placeholder="")
        st.stop()
    st.subheader("预览")
    for line in checked.missing:
        st.info(line)
    st.text(checked.report)
    st.success(checked.summary)
    if st.button("导入整个工作簿", type="primary", key="import-book-run"):
        try:
            result = import_workbook.import_workbook(db, actor, book.getvalue(), file_name=book.name, mappings=maps,
                                                     community=book_community, create_missing=create)
        except (importer.ImportRefused, importer.ImportRejected) as err:  # the data changed since the check
            st.session_state.pop("import-book-checked", None)
            st.error("导入未完成，未写入任何数据：" + md(err if isinstance(err, importer.ImportRefused)
                                                  else "；".join(str(p) for p in err.problems[:5])))
            st.stop()
        st.session_state["import-done"] = result.summary
        st.session_state["import-round"] = round_ + 1
        st.session_state.pop("import-book-checked", None)
        st.rerun()
    st.stop()

choices = importer.importable_registers()
name = st.selectbox("导入到哪个台账", list(choices), format_func=choices.get, key="import-register", placeholder="请选择")
reg = registers.get(name)
st.download_button(
    f"下载「{reg.label}」导入模板", templates.template_xlsx(name, db, actor),
    file_name=templates.template_file_name(name), icon=":material/download:", key="import-template",
    on_click="ignore",
)

upload = st.file_uploader("上传 Excel（.xlsx / .xls）或 CSV 文件", type=["xlsx", "xlsm", "xls", "csv"],
                          key=f"import-file-{round_}")
if upload is None:
    st.stop()


@st.cache_data(max_entries=4, show_spinner="正在读取文件…")
def read(data: bytes, file_name: str, sheet: str | None, register: str,
         limits: importer.ReadLimits) -> importer.SourceTable:
    return importer.read_source(data, file_name, sheet, register, limits)


try:
    table = read(upload.getvalue(), upload.name, st.session_state.get(f"import-sheet-{upload.file_id}"), name,
                 importer.read_limits(db))
except importer.ImportRefused as err:
    st.error(md(err))
    st.stop()
if len(table.sheets) > 1:
    st.selectbox("工作表", table.sheets, index=table.sheets.index(table.sheet),
                 key=f"import-sheet-{upload.file_id}", placeholder="请选择")
if table.encoding:
    st.caption(f"文件编码：{table.encoding}")

try:
    detected = importer.detect_header_row(table, reg)
except importer.ImportRefused as err:
    st.warning(md(err))
    detected = 1
file_key = f"{upload.file_id}-{table.sheet}-{name}"
header_row = st.number_input("表头在第几行", min_value=1, max_value=max(len(table.rows), 1),
                             value=detected, step=1, key=f"import-header-{file_key}")
headers = importer.header_texts(table, header_row, reg)
saved = import_mapping.saved_mappings(db, name)
same = import_mapping.matching_mappings(db, name, headers)
chosen_name = st.selectbox(
    "使用已保存的映射", ["", *saved], index=1 + list(saved).index(same[0]) if same else 0,
    format_func=lambda n: n or "（不使用）", key=f"import-saved-{file_key}-{header_row}",
    help="映射记下列对应、常量、取值对照、合并与拆分；表头相同的文件再次上传时自动选用",
    placeholder="请选择",
)
if same and chosen_name == same[0]:
    st.caption(f"文件的表头与已保存的映射「{same[0]}」相同，已选用。")
base = saved.get(chosen_name)
try:
    found = (import_mapping.apply_mapping(table, reg, base, header_row).mapping if base
             else importer.map_columns(headers, reg))
except importer.ImportRefused as err:
    st.error(md(err))
    found = importer.map_columns(headers, reg)
found = {c: f for c, f in found.items() if c < len(headers)}
proposals = importer.propose_columns(headers, reg, found)
targets = importer.field_choices(reg)
with st.expander(f"列对应：{len(found)} 列已对应到「{reg.label}」的字段（可修改）", expanded=not found or bool(proposals)):
    if proposals:
        st.caption("带「建议」的列只是看起来相近，确认后请手动选定；系统不会自动采用建议。")
    grid = st.columns(4)
    chosen = {}
    for c, header in enumerate(headers):
        hint = f" · 建议：{reg.label_of(proposals[c])}" if c in proposals else ""
        with grid[c % 4]:
            chosen[c] = st.selectbox(
                f"{importer.column_letter(c)} 列「{md(header) or '无表头'}」{hint}", list(targets),
                index=list(targets).index(found.get(c, importer.NOT_IMPORTED)),
                format_func=targets.get, key=f"import-map-{file_key}-{header_row}-{chosen_name}-{c}",
                placeholder="请选择",
            )

extras = {k: getattr(base, k) for k in ("constants", "values", "joins", "splits", "rounding")} if base else {}
drafted = import_mapping.mapping_toml(import_mapping.mapping_from_choices(name, headers, chosen, **extras))
with st.expander("映射（常量、取值对照、合并、拆分、四舍五入）", expanded=bool(base)):
    st.caption("按 TOML 书写，例如 [constants] 小区 = \"阳光花园\"；[values.usage] \"高层\" = \"住宅\"；"
               "[joins] code = \"{楼号}-{房间}\"；[rounding] area = 2。命令行 wuye import --map 用的是同一种映射。")
    text = st.text_area("映射", drafted, height=220, key=f"import-mapping-{file_key}-{header_row}-{hash(drafted)}")
    try:
        mapping_now = import_mapping.parse_mapping(text, name)
    except importer.ImportRefused as err:
        st.error(md(err))
        st.stop()
    mapping_now.headers = [h for h in headers if h]
    save_left, save_right = st.columns([3, 1])
    save_name = save_left.text_input("映射名称", value=chosen_name, key=f"import-mapping-name-{file_key}",
                                     placeholder="例如 老系统房屋清单")
    if save_right.button("保存映射", key="import-mapping-save"):
        mapping_now.name = save_name.strip()
        try:
            import_mapping.save_mapping(db, actor, mapping_now)
        except (importer.ImportRefused, PermissionDenied, SaveRejected) as err:
            st.error(md(err))
        else:
            st.success(f"已保存映射「{mapping_now.name}」：表头相同的文件再次上传时会自动选用。")

left, right = st.columns(2)
update_existing = left.checkbox("按编号更新已有行", key="import-update",
                                help="文件中「编号」已存在的行，按文件内容修改该行（空单元格会清空该字段）；"
                                     "不勾选时这样的行会被拒绝")
history = left.checkbox("按历史记录导入（仅管理员）", key="import-history",
                        help="把以前的记录原样登记：已关闭的报修单、已作废的收据等保留文件中的状态，"
                             "不触发流程的自动动作；只新增行")
community = None
if reg.community is not None:
    communities = importer.community_choices(db, actor)
    community = right.selectbox("默认小区（可选）", [None, *communities],
                                format_func=lambda c: "不指定" if c is None else communities[c],
                                key="import-community",
                                help="小区列为空的行取此小区；同名的房屋、楼栋等按此小区区分", placeholder="请选择")

try:
    plan = import_mapping.plan_mapped(db, actor, name, table, mapping_now, header_row=header_row,
                                      community=community, update_existing=update_existing, history=history)
except importer.ImportRefused as err:
    st.error(md(err))
    st.stop()

st.subheader("预览")
show_text(importer.plan_summary(plan))
with st.expander("列对应报告：文件的每一列导入到哪个字段"):
    st.text(importer.plan_report(plan))
if plan.updates:
    changing = importer.update_preview(db, plan)
    st.caption(f"按编号修改 {plan.updates:,} 行，其中 {changing['行'].nunique():,} 行有改动（只列出有改动的单元格："
               "原值 → 新值）；其余与系统中相同")
    st.dataframe(changing, hide_index=True, width="stretch", placeholder="")
st.dataframe(plan.preview(), hide_index=True, width="stretch", placeholder="")

signature = (importer.plan_signature(plan, upload.file_id), import_mapping.mapping_toml(mapping_now))
if st.session_state.get("import-checked", (None,))[0] != signature:
    bar = st.progress(0.0, text="正在校验…")
    st.session_state["import-checked"] = (signature, importer.check_import(
        db, actor, plan, progress=lambda f, text: bar.progress(f, text=text)))
    bar.empty()
problems = st.session_state["import-checked"][1]

if problems:
    st.error(f"发现 {len(problems):,} 个问题，未导入任何数据。请修改文件后重新上传，或调整上面的表头行和列对应。")
    st.dataframe(importer.problems_table(problems), hide_index=True, width="stretch", placeholder="")
    st.download_button(
        "下载标出错误的文件", importer.error_workbook(plan, problems),
        file_name=importer.error_file_name(upload.name), icon=":material/download:",
        key="import-error-file", on_click="ignore",
    )
else:
    st.success(f"校验通过：{plan.row_count:,} 行都可以导入。")

if st.button(f"导入 {plan.row_count:,} 行", type="primary", disabled=bool(problems), key="import-run"):
    bar = st.progress(0.0, text="正在导入…")
    try:
        result = importer.run_import(db, actor, plan, progress=lambda f, text: bar.progress(f, text=text))
    except importer.ImportRejected as err:  # someone changed the data since the check
        st.session_state.pop("import-checked", None)
        st.error("导入未完成，未写入任何数据：" + "；".join(md(p) for p in err.problems[:5]))
        st.stop()
    st.session_state["import-done"] = result.summary
    st.session_state["import-round"] = round_ + 1
    st.session_state.pop("import-checked", None)
    st.rerun()
