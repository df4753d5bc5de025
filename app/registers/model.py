"""A register declared as data: fields with types, labels and checks.

Everything else (DDL, grid columns, validation, Excel headers, masking) is derived from it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


# Limits on what the designer accepts as names (issue #20): a register's name becomes its table
# name and the file name of its part of every backup, so it must stay far below the 255 bytes a
# file name may have; labels are headers in the grid, the workbook and the NocoDB base.
NAME_MAX = 40
LABEL_MAX = 30
# Marks that mean something to Markdown/HTML or to a spreadsheet formula, never in a label.
LABEL_FORBIDDEN = set("[]<>*_`\\$!#|{}~^=@&;:\"'")


def name_problem(name: str, what: str) -> str | None:
    """Why `name` cannot be the internal name of a register or column (Chinese), or None."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        return f"{what}名称只能用小写字母、数字和下划线，且以字母开头"
    if len(name) > NAME_MAX:
        return f"{what}名称最多 {NAME_MAX} 个字符（现为 {len(name)} 个）"
    return None


def label_problem(label: str, what: str) -> str | None:
    """Why `label` cannot be the Chinese name of a register or column, or None."""
    text = str(label or "").strip()
    if not text:
        return f"请填写{what}的中文名称"
    if len(text) > LABEL_MAX:
        return f"{what}的中文名称最多 {LABEL_MAX} 个字（现为 {len(text)} 个）"
    bad = sorted({c for c in text if c in LABEL_FORBIDDEN or not c.isprintable()})
    if bad:
        shown = " ".join(repr(c)[1:-1] for c in bad)
        return f"{what}的中文名称不能含有这些字符：{shown}"
    return None


def q(identifier: str, *, any_name: bool = False) -> str:
    """The one way an identifier goes into SQL: a table or column name, double-quoted.

    Names from register definitions (and tables, views, macros, indexes) must be plain
    `[a-z_][a-z0-9_]*`, else ValueError, so nothing else can ride along. `any_name=True` is for
    the columns of a result the user's own query produced (the console): any text, with its
    double quotes doubled, as SQL requires. Values never go through here: they are parameters.
    """
    if any_name:
        if not isinstance(identifier, str) or not identifier or "\x00" in identifier:
            raise ValueError(f"not a column name: {identifier!r}")
        return '"' + identifier.replace('"', '""') + '"'
    if not isinstance(identifier, str) or not IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not an identifier: {identifier!r}")
    return '"' + identifier + '"'


# Field type -> SQL type. Money and measures are DECIMAL, never floating point.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "integer": "BIGINT",
    "money": "DECIMAL(12,2)",
    "price": "DECIMAL(10,4)",
    "area": "DECIMAL(10,2)",
    "quantity": "DECIMAL(12,3)",
    "rate": "DECIMAL(10,6)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "enum": "VARCHAR",
    "ref": "BIGINT",
    "phone": "VARCHAR",
    "id_number": "VARCHAR",
}
DECIMALS = {"money": (12, 2), "price": (10, 4), "area": (10, 2), "quantity": (12, 3), "rate": (10, 6)}
# How money reads on screen: ¥ and thousands separators (`¥12,345.60`). The printf form is for
# Streamlit's NumberColumn (sprintf-js; "," is Streamlit's thousands flag), money_text the same
# for text; both put the sign after ¥ (`¥-1,234.50`) so grids and panels agree.
MONEY_FORMAT = "¥%,.2f"


def money_text(value: Any) -> str:
    """`Decimal("12345.6")` -> "¥12,345.60"; an empty value -> ""."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:  # a masked value ("***") stays as it is
        return str(value)
    if amount.is_nan():
        return ""
    return "¥" + f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


TEXT_TYPES = {"text", "enum", "phone", "id_number"}
DATE_TYPES = {"date", "timestamp"}
PERSONAL_TYPES = {"phone", "id_number"}

# Columns every register table has, in this order after `id`.
SYSTEM_COLUMNS = ("created_at", "updated_at", "row_version", "deleted_at")
SYSTEM_LABELS = {
    "id": "编号",
    "created_at": "创建时间",
    "updated_at": "修改时间",
    "row_version": "版本",
    "deleted_at": "删除时间",
}


class DefinitionError(ValueError):
    """A register definition that cannot be used."""


# One `order_by` entry: a column, optionally followed by " asc" or " desc" (newest first).
ORDER_ENTRY = re.compile(r"([a-z_][a-z0-9_]*)(?: +(asc|desc))?")


def parse_order(entry: Any) -> tuple[str, bool]:
    """`"period desc"` -> ("period", True); anything else than `column [asc|desc]` is refused."""
    m = ORDER_ENTRY.fullmatch(entry.strip()) if isinstance(entry, str) else None
    if not m:
        raise DefinitionError(
            f"order_by 的每一项应为「列名」或「列名 desc」（降序，如 \"period desc\"），不能是 {entry!r}")
    return m.group(1), m.group(2) == "desc"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    ref: str | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    pattern_hint: str | None = None
    help: str | None = None
    editable: bool = True
    default: Any = None
    mask: bool | None = None
    # Date sanity, declared per field: a date that cannot lie ahead (produced, bought, done),
    # and another date field of the same row this one cannot precede (checked after produced).
    not_future: bool = False
    not_before: str | None = None
    # Other words offices use for this column in their own spreadsheets (import header matching).
    aliases: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def scale(self) -> int | None:
        return DECIMALS[self.type][1] if self.type in DECIMALS else None

    @property
    def precision(self) -> int | None:
        return DECIMALS[self.type][0] if self.type in DECIMALS else None

    @property
    def is_personal(self) -> bool:
        return self.mask if self.mask is not None else self.type in PERSONAL_TYPES


@dataclass(frozen=True)
class Register:
    name: str
    label: str
    area: str
    fields: tuple[Field, ...]
    description: str = ""
    display: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ("id",)
    unique: tuple[tuple[str, ...], ...] = ()
    community: str | None = None
    immutable: bool = False
    position: int = 100  # order within its area in navigation
    extra: dict = field(default_factory=dict)

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no field {name}") from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every column of the table, system columns included."""
        return ("id", *(f.name for f in self.fields), *SYSTEM_COLUMNS)

    def label_of(self, column: str) -> str:
        if column in SYSTEM_LABELS:
            return SYSTEM_LABELS[column]
        return self.field(column).label

    def refs(self) -> list[Field]:
        return [f for f in self.fields if f.type == "ref"]

    @cached_property
    def order_keys(self) -> tuple[tuple[str, bool], ...]:
        """The default order as (column, descending) pairs, always ending with `id`.

        `id` breaks ties in the direction of the first key, so a newest-first ledger lists the
        latest entry of a day first.
        """
        keys = tuple(parse_order(e) for e in self.order_by)
        if not any(c == "id" for c, _ in keys):
            keys += (("id", bool(keys) and keys[0][1]),)
        return keys

    @property
    def order_columns(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.order_keys)


def _field_from(data: dict, register: str) -> Field:
    unknown = set(data) - set(Field.__dataclass_fields__)
    if unknown:
        raise DefinitionError(f"{register}.{data.get('name')}: unknown keys {sorted(unknown)}")
    aliases = data.get("aliases", ())
    if not isinstance(aliases, (list, tuple)) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise DefinitionError(f"{register}.{data.get('name')}: aliases 应为非空文字的列表")
    f = Field(**{**data, "values": tuple(data.get("values", ())), "aliases": tuple(aliases)})
    if f.type not in SQL_TYPES:
        raise DefinitionError(f"{register}.{f.name}: unknown type {f.type!r}")
    if f.type == "enum" and not f.values:
        raise DefinitionError(f"{register}.{f.name}: an enum needs values")
    if f.type == "ref" and not f.ref:
        raise DefinitionError(f"{register}.{f.name}: a ref needs the register it refers to")
    if not IDENTIFIER.fullmatch(f.name):
        raise DefinitionError(f"{register}.{f.name}: names are lower-case letters, digits and _")
    if f.name in SYSTEM_LABELS:
        raise DefinitionError(f"{register}.{f.name}: reserved column name")
    return f


def _order_by(register: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise DefinitionError(f"{register}: order_by 应为列表，例如 [\"period desc\", \"household_id\"]")
    return tuple(value)


def register_from_dict(data: dict) -> Register:
    data = dict(data)
    name = data.pop("name")
    if not IDENTIFIER.fullmatch(name):
        raise DefinitionError(f"{name!r}: names are lower-case letters, digits and _")
    fields = tuple(_field_from(f, name) for f in data.pop("fields"))
    known = set(Register.__dataclass_fields__) - {"name", "fields", "extra"}
    extra = {k: data.pop(k) for k in list(data) if k not in known}
    reg = Register(
        name=name,
        fields=fields,
        label=data.pop("label"),
        area=data.pop("area"),
        description=data.pop("description", ""),
        display=tuple(data.pop("display", ())),
        order_by=_order_by(name, data.pop("order_by", ("id",))),
        unique=tuple(tuple(u) for u in data.pop("unique", ())),
        community=data.pop("community", None),
        immutable=data.pop("immutable", False),
        position=data.pop("position", 100),
        extra=extra,
    )
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{name}: duplicate field names")
    try:
        order = [c for c, _ in reg.order_keys]
    except DefinitionError as err:
        raise DefinitionError(f"{name}: {err}") from None
    if len(set(order)) != len(order):
        raise DefinitionError(f"{name}: order_by 中有重复的列")
    for col in (*reg.display, *order, *(c for u in reg.unique for c in u)):
        if col != "id" and col not in names:
            raise DefinitionError(f"{name}: {col!r} is not a field")
    _check_aliases(name, fields)
    for f in fields:
        if (f.not_future or f.not_before) and f.type not in DATE_TYPES:
            raise DefinitionError(f"{name}.{f.name}: not_future/not_before are for dates")
        if f.not_before and (f.not_before not in names or reg.field(f.not_before).type not in DATE_TYPES
                             or f.not_before == f.name):
            raise DefinitionError(f"{name}.{f.name}: not_before {f.not_before!r} is not another date field")
    return reg


def _check_aliases(register: str, fields: tuple[Field, ...]) -> None:
    """An alias names its own field only: not another field's label or alias (as headers compare)."""
    from app.exchange.workbook_reader import norm_header

    owner: dict[str, str] = {}
    for f in fields:
        owner.setdefault(norm_header(f.label), f.name)
        owner.setdefault(f.name, f.name)
    for f in fields:
        for alias in f.aliases:
            key = norm_header(alias)
            if not key:
                raise DefinitionError(f"{register}.{f.name}: alias {alias!r} is empty once normalised")
            if owner.setdefault(key, f.name) != f.name:
                raise DefinitionError(f"{register}.{f.name}: alias {alias!r} already names {owner[key]}")


def load_definition(path: Path) -> Register:
    with open(path, "rb") as fh:
        return register_from_dict(tomllib.load(fh))
