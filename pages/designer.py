"""台账设计: administrators add registers, fields, enum values and calculated columns (issue 12).

Layout only; every check and change is app/admin/designer.py (which also refuses non-administrators).
"""

import pandas as pd
import streamlit as st

from app import registers
from app.access.permissions import ADMIN, PermissionDenied
from app.admin import designer
from app.registers.expressions import FUNCTIONS, ExpressionError
from app.registers.model import DefinitionError
from app.ui import session
from app.ui.text import md

db, actor = session.db(), session.actor()
st.title("台账设计")
st.caption("新建台账、增加或停用列、修改选项、定义计算列。修改立即生效：表格、校验、导入模板、导出、"
           "修改记录和权限都随定义而来。停用的列隐藏但数据保留。")
if actor.role != ADMIN:
    st.warning("只有管理员可以修改台账结构。")
    st.stop()

ERRORS = (DefinitionError, ExpressionError, designer.SchemaChangeRefused, PermissionDenied, KeyError, ValueError)
DONE = "designer-done"


def run(action, *args, **kwargs) -> None:
    """Run a designer change; show its refusal (with the offending rows) or remember its result."""
    try:
        change = action(db, actor, *args, **kwargs)
    except designer.SchemaChangeRefused as err:
        st.error(err.message)
        if err.rows:
            st.dataframe(pd.DataFrame(err.rows, columns=["编号", "记录"]), hide_index=True, placeholder="")
            if err.total > len(err.rows):
                st.caption(f"共 {err.total} 行，只列出前 {len(err.rows)} 行。")
        return
    except ERRORS as err:
        st.error(md(err))
        return
    st.session_state[DONE] = f"已完成：{change.summary}" + (
        f"（修改数据 {change.rows_changed} 行）" if change.rows_changed else "")
    st.rerun()


notice = st.empty()  # always drawn, so the tabs below keep their place (and the chosen tab) on reruns
if DONE in st.session_state:
    notice.success(st.session_state.pop(DONE))

catalog = registers.catalog()
labels = {name: f"{reg.area} / {reg.label}" for area, regs in registers.by_area().items() for reg in regs
          for name in [reg.name]}
type_labels = list(designer.TYPE_LABELS.values())
new_tab, fields_tab, calc_tab = st.tabs(["新建台账", "修改列", "计算列"])

with new_tab:
    top = st.columns(3)
    name = top[0].text_input("台账英文名（小写字母、数字、下划线）", key="new-name", placeholder="plant_keys")
    label = top[1].text_input("台账名称", key="new-label", placeholder="机房钥匙")
    area = top[2].selectbox("所属分区", list(registers.AREAS), key="new-area", placeholder="请选择")
    description = st.text_input("说明", key="new-description")
    first = st.columns(3)
    first_name = first[0].text_input("第一列英文名（显示名称用此列）", key="new-first-name", placeholder="key_no")
    first_label = first[1].text_input("第一列名称", key="new-first-label", placeholder="钥匙编号")
    first_type = first[2].selectbox("第一列类型", type_labels, key="new-first-type", placeholder="请选择")
    st.markdown("**更多列**（可选，也可以建好后在「修改列」中新增；每行一列；选项用顿号分隔；"
                "引用其他台账时选择被引用的台账）")
    blank = pd.DataFrame({"列名": pd.Series(dtype="object"), "名称": pd.Series(dtype="object"),
                          "类型": pd.Series(dtype="object"), "必填": pd.Series(dtype="boolean"),
                          "选项": pd.Series(dtype="object"), "引用台账": pd.Series(dtype="object")})
    st.data_editor(blank, key="new-fields", num_rows="dynamic", hide_index=True, width="stretch",
                   column_config={
                       "类型": st.column_config.SelectboxColumn("类型", options=type_labels),
                       "引用台账": st.column_config.SelectboxColumn("引用台账", options=list(labels)),
                   }, placeholder="")
    if st.button("创建台账", key="new-create", type="primary"):
        state = st.session_state.get("new-fields", {})
        rows = [{"列名": first_name, "名称": first_label, "类型": first_type},
                *(dict(r) for r in state.get("added_rows", []))]
        try:
            fields = designer.fields_from_rows(rows)
        except (ValueError, TypeError) as err:
            st.error(md(err))
        else:
            run(designer.create_register, {"name": name.strip(), "label": label.strip(), "area": area,
                                           "description": description.strip(), "fields": fields})

with fields_tab:
    register = st.selectbox("台账", list(labels), format_func=labels.get, key="fields-register", placeholder="请选择")
    reg = registers.get(register)
    st.dataframe(pd.DataFrame(designer.field_table(reg)), hide_index=True, width="stretch", placeholder="")
    add, edit, retire = st.columns(3)
    with add.container(border=True):
        st.markdown("**新增列**")
        f_name = st.text_input("列英文名", key="add-name")
        f_label = st.text_input("列名称", key="add-label")
        f_type = st.selectbox("类型", type_labels, key="add-type", placeholder="请选择")
        f_values = st.text_input("选项（选项类型，用顿号分隔）", key="add-values")
        f_ref = st.selectbox("引用台账（引用类型）", [None, *labels], key="add-ref",
                             format_func=lambda n: "—" if n is None else labels[n], placeholder="请选择")
        f_required = st.checkbox("必填", key="add-required")
        f_default = st.text_input("默认值（已有行也填入此值）", key="add-default")
        if st.button("新增列", key="add-go", type="primary"):
            try:
                fdict = designer.field_from_form(f_name, f_label, f_type, f_required, f_values, f_ref, f_default)
            except ValueError as err:
                st.error(f"默认值不对：{md(err)}")
            else:
                run(designer.add_field, register, fdict)
    with edit.container(border=True):
        st.markdown("**修改列**")
        field_names = {f.name: f.label for f in reg.fields}
        target = st.selectbox("列", list(field_names), format_func=field_names.get, key="edit-field", placeholder="请选择")
        f = reg.field(target)
        new_label = st.text_input("新名称", value=f.label, key=f"edit-label-{register}-{target}")
        values_text = st.text_input("选项（顿号分隔）", value="、".join(f.values), disabled=f.type != "enum",
                                    key=f"edit-values-{register}-{target}")
        replace_text = st.text_input("删除在用的选项时：旧选项=新选项", key=f"edit-replace-{register}-{target}")
        required = st.checkbox("必填", value=f.required, key=f"edit-required-{register}-{target}")
        fill = st.text_input("设为必填时，空着的行填入", key=f"edit-fill-{register}-{target}")
        if st.button("保存修改", key="edit-go", type="primary"):
            try:
                replace = designer.parse_replace(replace_text)
                fill_value = designer._typed_default(f.type, fill) if fill.strip() else None
            except ValueError as err:
                st.error(md(err))
            else:
                run(designer.change_field, register, target, label=new_label,
                    values=designer.split_values(values_text) if f.type == "enum" else None,
                    replace=replace, required=required, fill=fill_value)
    with retire.container(border=True):
        st.markdown("**停用 / 恢复列**（数据保留）")
        gone = st.selectbox("停用的列", list(field_names), format_func=field_names.get, key="retire-field", placeholder="请选择")
        if st.button("停用", key="retire-go"):
            run(designer.retire_field, register, gone)
        retired = {x["name"]: x.get("label", x["name"]) for x in reg.extra.get("retired_fields", [])}
        if retired:
            back = st.selectbox("恢复的列", list(retired), format_func=retired.get, key="restore-field", placeholder="请选择")
            if st.button("恢复", key="restore-go"):
                run(designer.restore_field, register, back)
    with st.expander("本台账保存在数据库中的定义（TOML）"):
        st.code(designer.definition_text(db, register) or "（未修改，使用内置定义）", language="toml")

with calc_tab:
    register = st.selectbox("台账", list(labels), format_func=labels.get, key="calc-register", placeholder="请选择")
    reg = registers.get(register)
    items = reg.extra.get("calculated", [])
    if items:
        st.dataframe(pd.DataFrame([{"列英文名": c["name"], "名称": c["label"], "表达式": c["expression"]}
                                   for c in items]), hide_index=True, width="stretch", placeholder="")
    cols = st.columns([1, 1, 3])
    c_name = cols[0].text_input("计算列英文名", key="calc-name", placeholder="expires_on")
    c_label = cols[1].text_input("计算列名称", key="calc-label", placeholder="到期日")
    c_expr = cols[2].text_input("表达式", key="calc-expression", placeholder="加年(出厂日期, 10)")
    st.caption("可用：列名称或英文名、数字、'文字'、+ - * /、比较（= <> < <= > >=）、且 或 非；函数："
               + "；".join(FUNCTIONS.values()))
    left, right = st.columns(2)
    if left.button("保存计算列", key="calc-go", type="primary"):
        run(designer.set_calculated, register, c_name.strip(), c_label, c_expr)
    if items:
        drop = right.selectbox("删除计算列", [c["name"] for c in items], key="calc-drop", placeholder="请选择")
        if right.button("删除", key="calc-drop-go"):
            run(designer.remove_calculated, register, drop)
