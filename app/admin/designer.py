"""The office designs its own registers (issue 12): new registers, fields, enum values, retiring
fields and calculated columns, all by administrators, all audited.

A change is checked first (the same `register_from_dict` as the built-in definitions, references,
calculated expressions, and the rows already stored), then its definition is written to
`custom_definitions` as TOML (app/registers/custom.py) and the database migrated: the catalog
takes the new definition and `Database.migrate` creates the table or adds the column, recorded in
`schema_migrations` as for a built-in register. From then on grid, validation, import template,
export, audit, permissions and NocoDB sync follow from the definition like for any register.

A change that would leave stored rows invalid (required while rows are empty, an enum value in
use removed, a type narrower than the values) is refused with those rows (id and label), unless an
explicit value for them is given; that value is then written through the save path.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from app import registers
from app.access.permissions import ADMIN, Actor, PermissionDenied, ensure_matrix
from app.reading.queries import label_sql
from app.registers import custom
from app.registers.expressions import (
    ExpressionError,
    check_calculated,
    compile_expression,
    select_sql,
)
from app.registers.model import (
    IDENTIFIER,
    SQL_TYPES,
    SYSTEM_LABELS,
    TEXT_TYPES,
    DefinitionError,
    Field,
    Register,
    label_problem,
    name_problem,
)
from app.saving.changes import RowChange, apply_changes
from app.storage.audit_log import write_audit
from app.storage.db import Database, in_list, q

AUDIT_REGISTER = "custom_definitions"
SHOWN_ROWS = 50  # offending rows listed in a refusal
FIELD_KEYS = ("name", "label", "type", "required", "values", "ref", "min", "max", "pattern",
              "pattern_hint", "help", "default", "mask")
TYPE_LABELS = {
    "text": "文本", "integer": "整数", "money": "金额", "price": "单价", "area": "面积",
    "quantity": "数量", "rate": "比率", "date": "日期", "timestamp": "时间", "boolean": "是否",
    "enum": "选项", "ref": "引用其他台账", "phone": "电话", "id_number": "身份证号",
}
# Names a register may not take: pages of the app live under these url paths.
RESERVED = {"rules", "rule-settings", "import", "analysis", "backup", "audit", "nocodb", "users",
            "permissions", "designer", "login", "password", "household", "reports", "cashier", "fees",
            "decoration", "parking", "service_desk", "duty_board", "service_complaints",
            "service_report", "survey-stats", "saved_views", "custom_definitions"}


class SchemaChangeRefused(ValueError):
    """A schema change not made; `rows` are the (id, label) of rows it would invalidate."""

    def __init__(self, message: str, rows: list[tuple[int, str]] | None = None, total: int | None = None):
        self.message = message
        self.rows = rows or []
        self.total = total if total is not None else len(self.rows)
        shown = "；".join(f"编号 {i} {label}" for i, label in self.rows[:10])
        more = f" 等 {self.total} 行" if self.total > 10 else ""
        super().__init__(message + (f"。涉及：{shown}{more}" if self.rows else ""))


@dataclass
class Change:
    """What a designer call did (for the page's message)."""

    register: str
    summary: str
    migrated: list[str] = field(default_factory=list)
    rows_changed: int = 0


def require_designer(actor: Actor) -> None:
    """Only administrators change schemas (checked here, whatever the page shows)."""
    if actor.role != ADMIN:
        raise PermissionDenied(f"{actor.user}（{actor.role}）无权修改台账结构：只有管理员可以")


# -- reading the stored definitions -----------------------------------------------------------
def stored(db: Database) -> dict[str, tuple[str, str]]:
    return {name: (kind, text) for name, kind, text in
            db.rows("SELECT name, kind, definition FROM custom_definitions ORDER BY name")}


def is_custom(name: str) -> bool:
    return name not in custom.builtin_docs(registers.DEFINITIONS)


def definition_text(db: Database, name: str) -> str:
    """The stored TOML of a register (custom) or of its extension (built-in); '' when none."""
    found = stored(db).get(name)
    return found[1] if found else ""


def _doc(db: Database, name: str) -> tuple[str, dict]:
    """The editable document of a register: the whole custom definition, or a built-in's extension."""
    found = stored(db).get(name)
    if found:
        return found[0], custom.loads(found[1])
    if name not in registers.catalog():
        raise KeyError(f"没有名为 {name} 的台账")
    return (custom.REGISTER if is_custom(name) else custom.EXTENSION), {"name": name}


def _field_dict(doc: dict, name: str, reg_name: str) -> dict:
    """The current definition of a field, as a dict (from the document, else the built-in one)."""
    for f in doc.get("fields", []):
        if f["name"] == name:
            return dict(f)
    base = custom.builtin_docs(registers.DEFINITIONS).get(reg_name, {})
    for f in base.get("fields", []):
        if f["name"] == name:
            return dict(f)
    raise KeyError(f"{reg_name} 没有列 {name}")


def _put_field(doc: dict, fdict: dict) -> None:
    fields = doc.setdefault("fields", [])
    for i, f in enumerate(fields):
        if f["name"] == fdict["name"]:
            fields[i] = fdict
            return
    fields.append(fdict)


# -- checking and writing ---------------------------------------------------------------------
def _check_names(name: str, label: str, what: str, *, name_too: bool = True) -> None:
    """Length and characters of an internal name and a label (model.NAME_MAX, LABEL_MAX)."""
    problem = (name_problem(name, what) if name_too else None) or label_problem(label, what)
    if problem:
        raise DefinitionError(problem)


def _clean_field(data: dict) -> dict:
    unknown = set(data) - set(FIELD_KEYS)
    if unknown:
        raise DefinitionError(f"未知的列属性：{sorted(unknown)}")
    out = {k: data[k] for k in FIELD_KEYS if k in data and data[k] not in (None, "", [], ())}
    if "values" in out:
        out["values"] = [str(v).strip() for v in out["values"] if str(v).strip()]
        if len(set(out["values"])) != len(out["values"]):
            raise DefinitionError("选项有重复")
    if out.get("required") is False:
        out.pop("required")
    if not str(out.get("label", "")).strip():
        raise DefinitionError(f"列 {out.get('name')} 需要中文名称")
    _check_names(out.get("name", ""), out["label"], "列")
    if out.get("pattern"):
        try:
            re.compile(out["pattern"])
        except re.error as err:
            raise DefinitionError(f"列 {out.get('label')} 的格式（正则表达式）有误：{err}") from None
    if out.get("type") == "ref" and out.get("ref") not in registers.catalog():
        raise DefinitionError(f"列 {out.get('label')} 引用的台账 {out.get('ref')} 不存在")
    if out.get("type") == "enum" and "default" in out and out["default"] not in out.get("values", []):
        raise DefinitionError(f"列 {out.get('label')} 的默认值不在选项中")
    return out


def _trial(db: Database, name: str, kind: str, doc: dict) -> tuple[dict[str, Register], str]:
    """The catalog as it would be with this document: raises DefinitionError/ExpressionError."""
    text = custom.dumps(doc)
    trial = dict(stored(db))
    trial[name] = (kind, text)
    try:
        regs = custom.build(registers.DEFINITIONS, trial)
    except (TypeError, KeyError) as err:
        raise DefinitionError(f"定义不完整：{err}") from None
    for r in regs.values():
        for f in r.refs():
            if f.ref not in regs:
                raise DefinitionError(f"{r.label}.{f.label} 引用的台账 {f.ref} 不存在")
    reg = regs[name]
    check_calculated(reg, reg.extra.get("calculated", []))
    return regs, text


def _save(db: Database, actor: Actor, name: str, kind: str, doc: dict, summary: str) -> Change:
    """Check the document, store it (audited), migrate: the catalog and the table follow."""
    require_designer(actor)
    _, text = _trial(db, name, kind, doc)
    old = stored(db).get(name)
    with db.transaction() as cur:
        cur.execute("DELETE FROM custom_definitions WHERE name = ?", [name])
        cur.execute(
            "INSERT INTO custom_definitions (name, kind, definition, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
            [name, kind, text, db.now(), actor.user])
        write_audit(db, cur, actor, AUDIT_REGISTER, uuid.uuid4().hex, [(
            None, "修改" if old else "新增",
            json.dumps({"name": name, "definition": old[1]}, ensure_ascii=False) if old else None,
            json.dumps({"name": name, "definition": text}, ensure_ascii=False),
        )], note=f"{summary}（{name}）")
    migrated = db.migrate(views=False)  # rule views do not change with a register's fields
    return Change(name, summary, migrated)


def _rows_where(db: Database, reg: Register, condition: str, params: list) -> tuple[list[tuple[int, str]], int]:
    """(id, label) of live rows matching a condition over alias t, and their number."""
    base = " FROM " + q(reg.name) + " t WHERE t.deleted_at IS NULL AND (" + condition + ")"
    total = int(db.scalar("SELECT count(*)" + base, params))
    rows = db.rows("SELECT t.id, " + label_sql(reg, "t") + base + " ORDER BY t.id LIMIT ?", [*params, SHOWN_ROWS])
    return [(int(i), label or "") for i, label in rows], total


def _empty_condition(f: Field) -> str:
    col = "t." + q(f.name)
    if f.type in TEXT_TYPES:
        return col + " IS NULL OR trim(" + col + ") = ''"
    return col + " IS NULL"


def _write_values(db: Database, actor: Actor, reg: Register, column: str, where: str, params: list,
                  value: Any) -> int:
    """Give `column` a value on the live rows matching `where`, through the save path (audited)."""
    ids = [r[0] for r in db.rows("SELECT t.id FROM " + q(reg.name) + " t WHERE t.deleted_at IS NULL AND ("
                                 + where + ") ORDER BY t.id", params)]
    if not ids:
        return 0
    changes = [RowChange("update", row_id=int(i), values={column: value}, where=f"编号 {i}") for i in ids]
    apply_changes(db, actor.via("台账设计"), reg.name, changes)
    return len(ids)


# -- registers ---------------------------------------------------------------------------------
def create_register(db: Database, actor: Actor, definition: dict) -> Change:
    """A new register from a definition dict (name, label, area, fields, …: the TOML format)."""
    require_designer(actor)
    doc = {k: v for k, v in definition.items() if v not in (None, "", [], ())}
    name = str(doc.get("name", ""))
    if not IDENTIFIER.fullmatch(name):
        raise DefinitionError("台账名称只能用小写字母、数字和下划线，且以字母开头")
    if name.startswith("v_") or name in RESERVED or name in SYSTEM_LABELS:
        raise DefinitionError(f"名称 {name} 已被系统使用，请换一个")
    if name in registers.catalog() or name in stored(db) or db.table_exists(name):
        raise DefinitionError(f"已有名为 {name} 的台账或数据表")
    if not str(doc.get("label", "")).strip():
        raise DefinitionError("请填写台账的中文名称")
    _check_names(name, doc["label"], "台账")
    if not doc.get("area"):
        raise DefinitionError("请选择台账所属的分区")
    if not doc.get("fields"):
        raise DefinitionError("台账至少需要一列")
    doc["fields"] = [_clean_field(f) for f in doc["fields"]]
    if "display" not in doc:
        doc["display"] = [doc["fields"][0]["name"]]
    if "community" not in doc:
        community = [f["name"] for f in doc["fields"] if f.get("type") == "ref" and f.get("ref") == "communities"]
        if community:
            doc["community"] = community[0]
    ordered = {k: doc.pop(k) for k in ("name", "label", "area", "position", "description", "display",
                                       "order_by", "unique", "community") if k in doc}
    doc = ordered | doc
    change = _save(db, actor, name, custom.REGISTER, doc, f"新建台账「{doc['label']}」")
    ensure_matrix(db)
    return change


def add_field(db: Database, actor: Actor, register: str, fdata: dict) -> Change:
    """A new field on any register; required needs a default when the register has rows."""
    require_designer(actor)
    reg = registers.get(register)
    kind, doc = _doc(db, register)
    fdict = _clean_field(fdata)
    name = fdict.get("name", "")
    if not IDENTIFIER.fullmatch(name):
        raise DefinitionError("列名称只能用小写字母、数字和下划线，且以字母开头")
    if name in set(db.columns_of(register)) | set(SYSTEM_LABELS) or reg.has_field(name) \
            or name in {c["name"] for c in reg.extra.get("calculated", [])} \
            or name in {f["name"] for f in custom.retired_fields(reg)}:
        raise DefinitionError(f"{reg.label} 已有名为 {name} 的列（含已停用的列）")
    if fdict["label"] in {f.label for f in reg.fields}:
        raise DefinitionError(f"{reg.label} 已有名为「{fdict['label']}」的列")
    if fdict.get("required") and "default" not in fdict:
        rows, total = _rows_where(db, reg, "TRUE", [])
        if total:
            raise SchemaChangeRefused(
                f"{reg.label} 已有 {total} 行，新的必填列「{fdict['label']}」在这些行上会是空的：请给出默认值",
                rows, total)
    _put_field(doc, fdict)
    return _save(db, actor, register, kind, doc, f"{reg.label}：新增列「{fdict['label']}」")


def change_field(db: Database, actor: Actor, register: str, name: str, *, label: str | None = None,
                 values: list[str] | None = None, replace: dict[str, str] | None = None,
                 required: bool | None = None, fill: Any = None, type: str | None = None,
                 help: str | None = None) -> Change:
    """Rename a field, change its enum values, make it (not) required, or change its type.

    Removing an enum value still in use needs `replace` (old value -> new value); making a field
    required while rows have it empty needs `fill`; a narrower type is refused while values do not
    fit. Refusals list the offending rows.
    """
    require_designer(actor)
    reg = registers.get(register)
    f = reg.field(name)
    kind, doc = _doc(db, register)
    fdict = _field_dict(doc, name, register)
    words = []
    if label is not None and label.strip() and label.strip() != f.label:
        _check_names(name, label, "列", name_too=False)
        if label.strip() in {x.label for x in reg.fields if x.name != name}:
            raise DefinitionError(f"{reg.label} 已有名为「{label.strip()}」的列")
        fdict["label"] = label.strip()
        words.append(f"「{f.label}」改名为「{label.strip()}」")
    if help is not None and help != (f.help or ""):
        fdict["help"] = help
        if not help:
            fdict.pop("help")
        words.append(f"「{f.label}」的说明")
    new_type = type or f.type
    if new_type != f.type:
        _check_type_change(db, reg, f, new_type, values)
        fdict["type"] = new_type
        if new_type != "enum":
            fdict.pop("values", None)
        words.append(f"「{f.label}」类型改为{TYPE_LABELS.get(new_type, new_type)}")
    rows_changed = 0
    pending_replace: dict[str, str] = {}
    if values is not None and new_type == "enum":
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            raise DefinitionError("选项不能为空")
        if len(set(values)) != len(values):
            raise DefinitionError("选项有重复")
        removed = [v for v in f.values if v not in values] if f.type == "enum" else []
        if removed:
            in_list, params = _in(removed)
            rows, total = _rows_where(db, reg, "t." + q(name) + " IN " + in_list, params)
            if total:
                missing = [v for v in removed if v not in (replace or {})]
                used = {r[0] for r in db.rows("SELECT DISTINCT " + q(name) + " FROM " + q(register)
                                              + " WHERE deleted_at IS NULL AND " + q(name) + " IN " + in_list,
                                              params)}
                missing = [v for v in missing if v in used]
                if missing:
                    raise SchemaChangeRefused(
                        f"选项「{'、'.join(missing)}」仍有 {total} 行在用：请指定改成哪个选项", rows, total)
                for new in (replace or {}).values():
                    if new not in values:
                        raise DefinitionError(f"替换值「{new}」不在新的选项中")
                pending_replace = {old: new for old, new in (replace or {}).items() if old in used}
        if "default" in fdict and fdict["default"] not in values:
            raise DefinitionError(f"默认值「{fdict['default']}」不在新的选项中")
        fdict["values"] = values
        words.append(f"「{f.label}」的选项")
    if required is not None and bool(required) != f.required:
        if required:
            rows, total = _rows_where(db, reg, _empty_condition(f), [])
            if total and fill in (None, ""):
                raise SchemaChangeRefused(
                    f"「{f.label}」在 {total} 行中是空的，不能设为必填：请先填上，或给出统一填入的值", rows, total)
            if total:
                rows_changed += _write_values(db, actor, reg, name, _empty_condition(f), [], fill)
            fdict["required"] = True
        else:
            fdict.pop("required", None)
        words.append(f"「{f.label}」{'设为' if required else '取消'}必填")
    if not words:
        return Change(register, "没有改动")
    if pending_replace:
        # the old values stay allowed until the rows are moved to the new ones
        interim = dict(fdict)
        interim["values"] = list(dict.fromkeys([*fdict["values"], *pending_replace]))
        if not f.required:
            interim.pop("required", None)
        step = json.loads(json.dumps(doc))
        _put_field(step, interim)
        _save(db, actor, register, kind, step, f"{reg.label}：「{f.label}」的选项（过渡）")
        reg = registers.get(register)
        for old, new in pending_replace.items():
            rows_changed += _write_values(db, actor, reg, name, "t." + q(name) + " = ?", [old], new)
    _put_field(doc, fdict)
    change = _save(db, actor, register, kind, doc, f"{reg.label}：" + "，".join(words))
    change.rows_changed = rows_changed
    return change


def _in(values: list) -> tuple[str, list]:
    return in_list(values)


def _check_type_change(db: Database, reg: Register, f: Field, new_type: str, values: list[str] | None) -> None:
    """Types sharing a storage type may change when every stored value fits the new one."""
    if new_type not in SQL_TYPES or new_type == "ref":
        raise DefinitionError(f"不能改为类型 {new_type}")
    if SQL_TYPES[new_type] != SQL_TYPES[f.type]:
        raise SchemaChangeRefused(
            f"「{f.label}」由{TYPE_LABELS[f.type]}改为{TYPE_LABELS[new_type]}需要转换已存的数据，暂不支持："
            "请新增一列并停用原列")
    col = "t." + q(f.name)
    if new_type == "enum":
        wanted = [str(v).strip() for v in (values or []) if str(v).strip()]
        if not wanted:
            raise DefinitionError("改为选项类型需要给出选项")
        in_list, params = _in(wanted)
        condition, cond_params = col + " IS NOT NULL AND " + col + " NOT IN " + in_list, params
    elif new_type == "phone":
        condition, cond_params = col + " IS NOT NULL AND NOT regexp_full_match(" + col + ", ?)", [r"[0-9+\- ]{5,20}"]
    elif new_type == "id_number":
        condition, cond_params = col + " IS NOT NULL AND NOT regexp_full_match(" + col + ", ?)", [r"[0-9]{17}[0-9Xx]"]
    else:
        return
    rows, total = _rows_where(db, reg, condition, cond_params)
    if total:
        raise SchemaChangeRefused(
            f"「{f.label}」有 {total} 行的值不符合{TYPE_LABELS[new_type]}，不能改类型", rows, total)


def retire_field(db: Database, actor: Actor, register: str, name: str) -> Change:
    """Hide a field everywhere; its column and data stay, and `restore_field` brings it back."""
    require_designer(actor)
    reg = registers.get(register)
    f = reg.field(name)
    if name in reg.display or name in reg.order_columns or any(name in u for u in reg.unique) \
            or name == reg.community:
        raise SchemaChangeRefused(f"「{f.label}」用于本台账的显示名称、排序、唯一性或小区，不能停用")
    if f.required and f.default is None and not is_custom(register):
        raise SchemaChangeRefused(f"「{f.label}」是系统内置台账的必填列，不能停用")
    for c in reg.extra.get("calculated", []):
        if name in _fields_of(reg, c["expression"]):
            raise SchemaChangeRefused(f"计算列「{c['label']}」用到「{f.label}」，请先修改或删除该计算列")
    kind, doc = _doc(db, register)
    if not any(x["name"] == name for x in doc.get("fields", [])):
        _put_field(doc, _field_dict(doc, name, register))  # a built-in field: keep it in the extension
    doc["retired"] = [*doc.get("retired", []), name]
    return _save(db, actor, register, kind, doc, f"{reg.label}：停用列「{f.label}」（数据保留）")


def restore_field(db: Database, actor: Actor, register: str, name: str) -> Change:
    require_designer(actor)
    reg = registers.get(register)
    kind, doc = _doc(db, register)
    if name not in doc.get("retired", []):
        raise DefinitionError(f"{reg.label} 没有停用的列 {name}")
    doc["retired"] = [x for x in doc["retired"] if x != name]
    label = next((x.get("label") for x in doc.get("fields", []) if x["name"] == name), name)
    return _save(db, actor, register, kind, doc, f"{reg.label}：恢复列「{label}」")


def _fields_of(reg: Register, expression: str) -> tuple[str, ...]:
    try:
        return compile_expression(reg, expression).fields
    except ExpressionError:
        return ()


# -- calculated columns -------------------------------------------------------------------------
def set_calculated(db: Database, actor: Actor, register: str, name: str, label: str, expression: str) -> Change:
    """Add or change a calculated column; a broken or hostile expression is refused with the reason.

    Checked twice: by the expression checker (allow-list, kinds), then by running its SQL on this
    database (both backends) over the register's rows, so an error shows now and not in the grid.
    """
    require_designer(actor)
    problem = name_problem(name, "计算列") or label_problem(label, "计算列")
    if problem:
        raise ExpressionError(problem)
    reg = registers.get(register)
    kind, doc = _doc(db, register)
    items = [c for c in doc.get("calculated", []) if c["name"] != name]
    existed = len(items) != len(doc.get("calculated", []))
    items.append({"name": name, "label": label.strip(), "expression": expression.strip()})
    doc["calculated"] = items
    regs, _ = _trial(db, register, kind, doc)
    _try_on_database(db, regs[register], name)
    word = "修改" if existed else "新增"
    return _save(db, actor, register, kind, doc, f"{reg.label}：{word}计算列「{label.strip()}」")


def remove_calculated(db: Database, actor: Actor, register: str, name: str) -> Change:
    require_designer(actor)
    reg = registers.get(register)
    kind, doc = _doc(db, register)
    items = doc.get("calculated", [])
    if not any(c["name"] == name for c in items):
        raise DefinitionError(f"{reg.label} 没有计算列 {name}")
    doc["calculated"] = [c for c in items if c["name"] != name]
    return _save(db, actor, register, kind, doc, f"{reg.label}：删除计算列 {name}")


def _try_on_database(db: Database, reg: Register, name: str) -> None:
    parts, params = select_sql(reg, "t", only=[name])
    sql = "SELECT " + ", ".join(parts) + " FROM " + q(reg.name) + " t WHERE t.deleted_at IS NULL"
    try:
        db.query(sql + " LIMIT 1000", params)  # DuckDB: exports, views
        if db.is_postgres:
            db.query_page(sql + " LIMIT 1000", params)  # PostgreSQL itself: the grid's pages
    except Exception as err:  # the database's reason, first line
        raise ExpressionError(f"计算列在数据上出错：{str(err).splitlines()[0][:200]}") from None


# -- for the page ------------------------------------------------------------------------------
def field_table(reg: Register) -> list[dict]:
    """The fields of a register as rows for the page (retired and calculated ones included)."""
    rows = [{"列名": f.name, "名称": f.label, "类型": TYPE_LABELS.get(f.type, f.type),
             "必填": f.required, "选项": "、".join(f.values), "引用": f.ref or "", "状态": "使用中"}
            for f in reg.fields]
    rows += [{"列名": f["name"], "名称": f.get("label", ""), "类型": TYPE_LABELS.get(f.get("type"), ""),
              "必填": bool(f.get("required")), "选项": "、".join(f.get("values", [])), "引用": f.get("ref", ""),
              "状态": "已停用"} for f in custom.retired_fields(reg)]
    rows += [{"列名": c["name"], "名称": c["label"], "类型": "计算列", "必填": False,
              "选项": c["expression"], "引用": "", "状态": "计算"} for c in reg.extra.get("calculated", [])]
    return rows


def custom_registers(db: Database) -> list[str]:
    return [name for name, (kind, _) in stored(db).items() if kind == custom.REGISTER]


def split_values(text: str) -> list[str]:
    """Enum values typed in one box: separated by 、 , ， ; or new lines."""
    return [v.strip() for v in re.split(r"[、,，;；\n]", text or "") if v.strip()]


def parse_replace(text: str) -> dict[str, str]:
    """「旧=新」pairs typed in one box (separated like split_values)."""
    out = {}
    for part in split_values(text):
        if "=" not in part:
            raise DefinitionError(f"「{part}」应写成 旧选项=新选项")
        old, new = part.split("=", 1)
        out[old.strip()] = new.strip()
    return out


TYPE_BY_LABEL = {label: t for t, label in TYPE_LABELS.items()}


def field_from_form(name: str, label: str, type_label: str, required: bool = False, values: str = "",
                    ref: str | None = None, default: Any = None, help: str = "") -> dict:
    """A field dict from the page's inputs (type given by its Chinese label)."""
    type_ = TYPE_BY_LABEL.get(type_label, type_label)
    out: dict[str, Any] = {"name": (name or "").strip(), "label": (label or "").strip(), "type": type_}
    if required:
        out["required"] = True
    if type_ == "enum":
        out["values"] = split_values(values)
    if type_ == "ref":
        out["ref"] = ref
    if default not in (None, ""):
        out["default"] = _typed_default(type_, default)
    if help:
        out["help"] = help
    return out


def _typed_default(type_: str, value: Any) -> Any:
    if type_ == "integer":
        return int(value)
    if type_ == "boolean":
        return str(value).strip() in ("是", "true", "True", "1")
    if type_ in ("money", "price", "area", "quantity", "rate"):
        return float(value)
    return str(value)


def fields_from_rows(rows: list[dict]) -> list[dict]:
    """Field dicts from the page's editor rows (列名, 名称, 类型, 必填, 选项, 引用台账); blank rows skipped."""
    out = []
    for row in rows:
        if not str(row.get("列名") or "").strip() and not str(row.get("名称") or "").strip():
            continue
        out.append(field_from_form(str(row.get("列名") or ""), str(row.get("名称") or ""),
                                   str(row.get("类型") or "文本"), bool(row.get("必填")),
                                   str(row.get("选项") or ""), row.get("引用台账") or None))
    return out
