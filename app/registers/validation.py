"""Turning a cell value into the register's type, and the field checks, with Chinese messages.

Values arrive as whatever the grid, an import or the CLI produced (str, float, int,
Timestamp, Decimal, date...). `convert` makes them canonical Python (Decimal quantized,
date, datetime, int, bool, str) or raises `CellError` with a message a clerk understands.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd

from app.registers.model import Field, Register

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PHONE = re.compile(r"1\d{10}")
TRUE_WORDS = {"true", "1", "是", "yes", "y", "√", "有", "t"}
FALSE_WORDS = {"false", "0", "否", "no", "n", "×", "无", "f"}
DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


class CellError(ValueError):
    """A value that does not fit its field; the message is for the user."""


def money(value: Any, scale: int = 2) -> Decimal:
    """Round half-up (away from zero), as DOMAIN.md requires; Python defaults to half-even."""
    return Decimal(value).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value)
                           and pd.isna(value)):
        return True
    return isinstance(value, str) and value.strip() == ""


def id_number_valid(value: str) -> bool:
    """18-digit 居民身份证号码 with its GB 11643 check digit, and a real birth date."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS))
    return ID_CHECK[total % 11] == value[17]


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        m = DATE_TEXT.fullmatch(value.strip())
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                pass
    raise CellError("不是有效日期（例如 2026-03-05）")


def parse_timestamp(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:  # what the grid sends: ISO 8601, possibly with a zone or fractions
            return parse_timestamp(datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
        text = value.strip().replace("/", "-").replace("T", " ")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise CellError("不是有效时间（例如 2026-03-05 14:30）")


def parse_decimal(value: Any, scale: int, precision: int | None = None) -> Decimal:
    if isinstance(value, bool):
        raise CellError("应为数字")
    if isinstance(value, float):
        value = repr(value)  # shortest text that round-trips: 0.1 stays 0.1
    text = str(value).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise CellError("应为数字") from None
    if not d.is_finite():
        raise CellError("应为数字")
    if precision is not None and d.adjusted() >= precision - scale:
        raise CellError(f"数值太大：整数部分最多 {precision - scale} 位")
    if d != d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP):
        raise CellError(f"最多 {scale} 位小数")
    return money(d, scale)


def parse_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("应为整数")
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise CellError("应为整数") from None
    if not d.is_finite() or d != d.to_integral_value():
        raise CellError("应为整数")
    if abs(d) >= 2**63:  # beyond BIGINT: the database could not even compare it
        raise CellError("数值太大")
    return int(d)


def parse_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("应为 是 或 否")


def convert(field: Field, value: Any) -> Any:
    """The canonical value of one cell, or None when blank. Raises CellError."""
    if is_blank(value):
        return None
    t = field.type
    if t == "date":
        return parse_date(value)
    if t == "timestamp":
        return parse_timestamp(value)
    if t == "boolean":
        return parse_boolean(value)
    if t in ("integer", "ref"):
        return parse_integer(value)
    if field.scale is not None:
        return parse_decimal(value, field.scale, field.precision)
    # text-like: keep codes as text; a float from a grid that saw digits loses nothing here
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if t == "phone":
        text = re.sub(r"[\s-]", "", text)
    if t == "id_number":
        text = text.replace(" ", "").upper()
    return text


def check(field: Field, value: Any) -> str | None:
    """The message for a canonical value that breaks a field rule, else None."""
    if value is None:
        return "必填" if field.required else None
    t = field.type
    if t == "enum" and value not in field.values:
        return "应为以下之一：" + "、".join(field.values)
    if t == "phone" and not PHONE.fullmatch(value):
        return "手机号应为以 1 开头的 11 位数字"
    if t == "id_number" and not id_number_valid(value):
        return "身份证号无效（18 位，校验位或出生日期不对）"
    if field.pattern and isinstance(value, str) and not re.fullmatch(field.pattern, value):
        return field.pattern_hint or "格式不正确"
    if field.min is not None and isinstance(value, (int, Decimal)) and value < Decimal(str(field.min)):
        return f"不能小于 {field.min:g}"
    if field.max is not None and isinstance(value, (int, Decimal)) and value > Decimal(str(field.max)):
        return f"不能大于 {field.max:g}"
    return None


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def check_dates(reg: Register, row: dict, changed: set[str] | None, today: date) -> list[tuple[str, str]]:
    """(column, message) for the row's dates that break the register's date rules.

    `not_future`: the date cannot be after `today` (the office's local day). `not_before`: the
    date cannot precede the named date of the same row. `changed` are the columns being written
    (None: all, a new row); a rule is checked only when one of its dates is written, so a stored
    row whose dates predate a rule can still be edited elsewhere.
    """
    out = []
    for f in reg.fields:
        value = row.get(f.name)
        if not isinstance(value, date):
            continue
        if f.not_future and (changed is None or f.name in changed) and _day(value) > today:
            out.append((f.name, f"{f.label}不能晚于今天"))
        if f.not_before and (changed is None or f.name in changed or f.not_before in changed):
            other = row.get(f.not_before)
            if not isinstance(other, date):
                continue
            if type(value) is not type(other):
                value, other = _day(value), _day(other)
            if value < other:
                out.append((f.name, f"{f.label}不能早于{reg.field(f.not_before).label}"))
    return out
