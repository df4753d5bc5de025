"""Empty import templates: per register a workbook with its headers, a sample row, drop-down
lists and a 说明 sheet describing every column. All of it comes from the register definition.

Columns of text kinds are formatted as text, so what a clerk types there (0101, an ID number,
3-2-1201) stays exactly as typed instead of becoming a number or a date.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app import registers
from app.access.permissions import Actor
from app.exchange.excel import NUMBER_FORMATS, display_width
from app.exchange.workbook import new_workbook
from app.registers.model import SYSTEM_LABELS, TEXT_TYPES, Field, Register
from app.storage.db import Database

TEMPLATE_ROWS = 2000  # rows that get the drop-downs and formats
INLINE_LIST_MAX = 250  # Excel limits an inline list to 255 characters
REF_OPTIONS_MAX = 2000

TYPE_WORDS = {
    "text": "文本",
    "integer": "整数",
    "money": "金额（元，最多 2 位小数）",
    "price": "单价（元，最多 4 位小数）",
    "area": "面积（㎡，最多 2 位小数）",
    "quantity": "数量（最多 3 位小数）",
    "rate": "比率（35% 或 0.35）",
    "date": "日期",
    "timestamp": "日期时间",
    "boolean": "是/否",
    "enum": "选项",
    "ref": "关联",
    "phone": "手机号",
    "id_number": "身份证号",
}
FORMAT_HINTS = {
    "date": "2026-03-05、2026/3/5 或 2026年3月5日",
    "timestamp": "2026-03-05 14:30",
    "boolean": "是 或 否",
    "phone": "11 位手机号，本列为文本格式",
    "id_number": "18 位身份证号；本列为文本格式，切勿存成数字（Excel 会丢掉末尾 3 位）",
    "money": "可带 ¥ 和千分位，例如 ¥1,234.50",
}
# Realistic samples where a generic one would not pass the field's rules or would mislead.
SAMPLES: dict[str, Any] = {
    "households.code": "3-2-1201",
    "buildings.code": "3",
    "communities.name": "阳光花园",
    "departments.name": "工程部",
    "vendors.name": "杭州安居电梯工程有限公司",
    "stock_items.code": "WJ-001",
    "stock_items.name": "PPR 管 20mm",
    "settings.key": "fee.grace_days",
    "settings.value": "15",
    "name": "张三",
    "contact": "李四",
    "borrower": "李四",
    "address": "浙江省杭州市拱墅区莫干山路1288号",
    "location": "3号楼1单元大堂",
    "phone": "13812345678",
    "service_phone": "0571-88216688",
    "id_number": "11010519491231002X",
    "built_year": 2008,
    "floors": 18,
    "units": 2,
    "progress": 50,
    "maintenance_interval_days": 30,
    "retention_years": 30,
}
REF_SAMPLES = {
    "communities": "阳光花园",
    "buildings": "阳光花园/3",
    "households": "阳光花园/3-2-1201",
    "staff": "张三",
    "departments": "工程部",
    "vendors": "杭州安居电梯工程有限公司",
    "stock_items": "WJ-001/PPR 管 20mm",
}
TYPE_SAMPLES: dict[str, Any] = {
    "integer": 1,
    "money": Decimal("1234.50"),
    "price": Decimal("12.50"),
    "area": Decimal("89.50"),
    "quantity": Decimal(10),
    "rate": Decimal("0.35"),
    "date": date(2026, 3, 5),
    "timestamp": datetime(2026, 3, 5, 14, 30),
    "boolean": False,
    "phone": "13812345678",
    "id_number": "11010519491231002X",
}


def template_file_name(register: str) -> str:
    return f"{registers.get(register).label}导入模板.xlsx"


def sample_value(reg: Register, f: Field) -> Any:
    """The value shown in a template's sample row for one field."""
    for key in (f"{reg.name}.{f.name}", f.name):
        if key in SAMPLES and (f.type != "text" or isinstance(SAMPLES[key], str)):
            return SAMPLES[key]
    if f.type == "enum":
        return f.default if f.default in f.values else f.values[0]
    if f.type == "ref":
        return REF_SAMPLES.get(f.ref, f"{registers.get(f.ref).label}名称")
    if f.type == "integer":
        low = int(f.min) if f.min is not None else 1
        return max(low, 1) if f.max is None or f.max >= 1 else low
    if f.type in TYPE_SAMPLES:
        return TYPE_SAMPLES[f.type]
    return f"示例{f.label}"


def sample_texts(reg: Register) -> dict[str, str]:
    """The sample row as the importer shows cells read back (refs left out: they may vary)."""
    out = {}
    for f in reg.fields:
        if f.type == "ref":
            continue
        v = sample_value(reg, f)
        if isinstance(v, bool):
            out[f.name] = "是" if v else "否"
        elif isinstance(v, datetime):
            out[f.name] = v.strftime("%Y-%m-%d %H:%M")
        elif isinstance(v, date):
            out[f.name] = v.isoformat()
        elif isinstance(v, Decimal):
            out[f.name] = format(float(v), ".15g")
        else:
            out[f.name] = str(v)
    return out


def column_notes(reg: Register) -> list[list[str]]:
    """One line per column for the 说明 sheet: label, name, type, required, values/format, default, help."""
    lines = [[SYSTEM_LABELS["id"], "id", "整数", "否",
              "新增的行留空即可自动编号；填写已有编号并选择「按编号更新已有行」时修改该行", "", ""]]
    for f in reg.fields:
        if f.type == "enum":
            allowed = "、".join(f.values)
        elif f.type == "ref":
            target = registers.get(f.ref)
            allowed = f"填写{target.label}的名称，例如 {REF_SAMPLES.get(f.ref, target.label + '名称')}；也可填编号"
        else:
            allowed = FORMAT_HINTS.get(f.type, "")
        limits = []
        if f.min is not None:
            limits.append(f"最小 {f.min:g}")
        if f.max is not None:
            limits.append(f"最大 {f.max:g}")
        if f.pattern_hint:
            limits.append(f.pattern_hint)
        if limits:
            allowed = "；".join([allowed, *limits]) if allowed else "；".join(limits)
        default = "" if f.default is None else ("是" if f.default is True else "否" if f.default is False
                                                else str(f.default))
        required = "是" if f.required and f.default is None else ("否（留空取默认值）" if f.required else "否")
        help_text = f.help or ""
        if not f.editable:
            help_text = (help_text + "；" if help_text else "") + "只能在新增时填写"
        lines.append([f.label, f.name, TYPE_WORDS[f.type], required, allowed, default, help_text])
    return lines


def template_xlsx(register: str, db: Database | None = None, actor: Actor | None = None) -> bytes:
    """The empty import template of a register, as .xlsx bytes.

    With a database, reference columns also get drop-downs of the rows they may name.
    """
    reg = registers.get(register)
    out = io.BytesIO()
    wb = new_workbook(out, in_memory=True)
    ws = wb.add_worksheet(reg.label[:31])
    notes = wb.add_worksheet("说明")
    lists = wb.add_worksheet("选项")
    lists.hide()
    header = wb.add_format({"bold": True, "bg_color": "#EDEDED", "bottom": 1})
    required_header = wb.add_format({"bold": True, "bg_color": "#EDEDED", "bottom": 1,
                                     "font_color": "#C00000"})
    text_fmt = wb.add_format({"num_format": "@"})
    sample_style = {"italic": True, "font_color": "#808080"}
    columns = [("id", None), *((f.name, f) for f in reg.fields)]
    list_col = 0
    for c, (_, f) in enumerate(columns):
        label = SYSTEM_LABELS["id"] if f is None else f.label
        must = f is not None and f.required and f.default is None
        ws.write_string(0, c, label, required_header if must else header)
        kind = "integer" if f is None else f.type
        if kind in TEXT_TYPES or kind == "ref":
            column_fmt = text_fmt
            sample_fmt = wb.add_format({**sample_style, "num_format": "@"})
        else:
            number_format = NUMBER_FORMATS.get(kind, "0.000" if kind == "quantity" else None)
            column_fmt = wb.add_format({"num_format": number_format}) if number_format else None
            sample_fmt = wb.add_format({**sample_style, **({"num_format": number_format}
                                                           if number_format else {})})
        width = max(display_width(label) + 4, 12)
        if f is not None:
            value = sample_value(reg, f)
            if f.type == "ref" and db is not None:
                value = _first_option(db, actor, f) or value
            _write_sample(ws, c, value, sample_fmt)
            width = max(width, display_width(str(value)) + 2)
            if must:
                ws.write_comment(0, c, "必填", {"visible": False})
        ws.set_column(c, c, min(width, 40), column_fmt)
        choices: list[str] = []
        strict = True
        if f is not None and f.type == "enum":
            choices = list(f.values)
        elif f is not None and f.type == "boolean":
            choices = ["是", "否"]
        elif f is not None and f.type == "ref" and db is not None:
            choices, strict = _ref_options(db, actor, f), False
        if choices:
            _add_list(ws, lists, c, list_col, choices, strict, label)
            list_col += 1
    ws.write_comment(1, 0, "示例行：导入时与示例完全相同的这一行会自动跳过，可直接改写或删除。",
                     {"visible": False})
    ws.freeze_panes(1, 0)

    notes.write_row(0, 0, [f"「{reg.label}」导入说明"], wb.add_format({"bold": True, "font_size": 14}))
    tips = [
        "1. 第 1 行是表头，请勿修改列名；不需要的列可以删除，列的顺序可以调整。",
        "2. 第 2 行是示例，导入前请改写或删除（原样保留时会自动跳过）。",
        "3. 红色列名为必填列；选项列可从下拉列表选择。",
        "4. 任何一行有错误时整个文件都不会导入，系统会列出每个错误所在的 Excel 行号和列名。",
    ]
    for i, tip in enumerate(tips, start=1):
        notes.write_string(i, 0, tip)
    head_row = len(tips) + 2
    notes.write_row(head_row, 0, ["列名", "字段名", "类型", "必填", "可选值/格式", "默认值", "说明"], header)
    for i, line in enumerate(column_notes(reg), start=head_row + 1):
        notes.write_row(i, 0, line)
    for c, width in enumerate((16, 20, 22, 16, 60, 10, 40)):
        notes.set_column(c, c, width)
    wb.close()
    return out.getvalue()


def _write_sample(ws, c: int, value: Any, fmt) -> None:
    if isinstance(value, bool):
        ws.write_string(1, c, "是" if value else "否", fmt)
    elif isinstance(value, (date, datetime)):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        ws.write_datetime(1, c, moment, fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(1, c, float(value), fmt)
    else:
        ws.write_string(1, c, str(value), fmt)


def _add_list(ws, lists, c: int, list_col: int, choices: list[str], strict: bool, label: str) -> None:
    """A drop-down on the column: inline when short, else from the hidden 选项 sheet."""
    options = {"validate": "list", "error_title": label, "ignore_blank": True}
    if strict:
        options["error_message"] = "请从下拉列表中选择：" + "、".join(choices)[:200]
    else:
        options["error_type"] = "information"  # other texts naming a row are still accepted
        options["error_message"] = "不在列表中；导入时会按名称查找"
    # An inline list is "a,b,c": a name with a comma or a quote (「=HYPERLINK("…","…")」) would
    # split or break it, so such choices go to the 选项 sheet like long lists.
    inline = not any("," in x or '"' in x for x in choices)
    if inline and sum(len(x) + 1 for x in choices) <= INLINE_LIST_MAX:
        options["source"] = choices
    else:
        for r, text in enumerate(choices):
            lists.write_string(r, list_col, text)
        col = _letters(list_col)
        options["source"] = f"=选项!${col}$1:${col}${len(choices)}"
    ws.data_validation(1, c, TEMPLATE_ROWS, c, options)


def _letters(index: int) -> str:
    from app.exchange.importer import column_letter

    return column_letter(index)


def _ref_options(db: Database, actor: Actor | None, f: Field) -> list[str]:
    from app.access.permissions import cli_actor
    from app.reading.queries import options

    found = options(db, registers.get(f.ref), actor or cli_actor(), limit=REF_OPTIONS_MAX)
    return sorted(found.values())


def _first_option(db: Database, actor: Actor | None, f: Field) -> str | None:
    found = _ref_options(db, actor, f)
    return found[0] if found else None
