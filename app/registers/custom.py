"""Definitions the office made itself (issue 12), merged into the catalog.

Stored in the database table `custom_definitions` as TOML text in the very format of the
built-in definitions (`definitions/*.toml`), and read by the same `register_from_dict`:

- kind `register`: a whole register the office defined;
- kind `extension`: changes to a built-in register: `[[fields]]` whose name is a built-in
  field replace it (a new label, enum values, required), other names are new fields;
  `retired = [...]` hides fields (their column and data stay); `[[calculated]]` columns.

A custom register may carry `retired` and `[[calculated]]` itself. Retired fields are left out
of `Register.fields` (so no grid, import, export or sync sees them); their definitions stay in
`extra["retired_fields"]`, so a field can be brought back with its data.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.registers.model import DefinitionError, Register, register_from_dict

REGISTER = "register"
EXTENSION = "extension"
KINDS = (REGISTER, EXTENSION)
EXTENSION_KEYS = {"name", "fields", "retired", "calculated"}


@lru_cache(maxsize=1)
def builtin_docs(directory: Path) -> dict[str, dict]:
    """The built-in definitions as plain dicts, by register name."""
    out = {}
    for path in sorted(directory.glob("*.toml")):
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
        out[doc["name"]] = doc
    return out


def merge(base: dict, extension: dict) -> dict:
    """A built-in definition with an extension applied (fields replaced by name or appended)."""
    unknown = set(extension) - EXTENSION_KEYS
    if unknown:
        raise DefinitionError(f"{base['name']}: unknown keys of an extension {sorted(unknown)}")
    out = dict(base)
    fields = [dict(f) for f in base.get("fields", [])]
    position = {f["name"]: i for i, f in enumerate(fields)}
    for f in extension.get("fields", []):
        if f.get("name") in position:
            fields[position[f["name"]]] = dict(f)
        else:
            position[f.get("name")] = len(fields)
            fields.append(dict(f))
    out["fields"] = fields
    for key in ("retired", "calculated"):
        if key in extension:
            out[key] = extension[key]
    return out


def register_of(doc: dict) -> Register:
    """The register a (merged) definition describes: retired fields left out, kept in `extra`."""
    retired = list(doc.get("retired", []))
    names = [f.get("name") for f in doc.get("fields", [])]
    for name in retired:
        if name not in names:
            raise DefinitionError(f"{doc['name']}: retired {name!r} is not a field")
    live = dict(doc)
    live["fields"] = [f for f in doc.get("fields", []) if f.get("name") not in retired]
    live["retired_fields"] = [f for f in doc.get("fields", []) if f.get("name") in retired]
    live.setdefault("retired", [])
    live.setdefault("calculated", [])
    return register_from_dict(live)


def build(directory: Path, stored: dict[str, tuple[str, str]]) -> dict[str, Register]:
    """Every register: the built-in ones (extended where stored says so) and the custom ones."""
    docs = dict(builtin_docs(directory))
    for name, (kind, text) in sorted(stored.items()):
        doc = loads(text)
        if doc.get("name") != name:
            raise DefinitionError(f"{name}: the stored definition names {doc.get('name')!r}")
        if kind == EXTENSION:
            if name not in docs:
                raise DefinitionError(f"{name}: an extension of an unknown register")
            docs[name] = merge(docs[name], doc)
        elif kind == REGISTER:
            if name in builtin_docs(directory):
                raise DefinitionError(f"{name}: a built-in register has this name")
            docs[name] = doc
        else:
            raise DefinitionError(f"{name}: unknown kind {kind!r}")
    return {name: register_of(doc) for name, doc in docs.items()}


def calculated(reg: Register) -> list[dict]:
    """The calculated columns of a register: [{name, label, expression}]."""
    return list(reg.extra.get("calculated", []))


def retired_fields(reg: Register) -> list[dict]:
    return list(reg.extra.get("retired_fields", []))


# -- TOML text ---------------------------------------------------------------------------------
def loads(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DefinitionError(f"定义文本不是有效的 TOML：{err}") from None


def dumps(doc: dict) -> str:
    """TOML text of a definition: plain keys first, then arrays of tables (fields, calculated)."""
    lines: list[str] = []
    tables = {k: v for k, v in doc.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)}
    for key, value in doc.items():
        if key in tables or value is None:
            continue
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, items in tables.items():
        for item in items:
            lines.append("")
            lines.append(f"[[{_key(key)}]]")
            for k, v in item.items():
                if v is not None:
                    lines.append(f"{_key(k)} = {_value(v)}")
    text = "\n".join(lines) + "\n"
    if loads(text) != {k: v for k, v in _without_none(doc).items()}:
        raise DefinitionError("definition cannot be written as TOML")  # a value we do not handle
    return text


def _without_none(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_none(v) for k, v in doc.items() if v is not None}
    if isinstance(doc, list):
        return [_without_none(v) for v in doc]
    return doc


def _key(key: str) -> str:
    if key.replace("_", "a").isalnum() and key.isascii():
        return key
    return _string(key)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + "}"
    raise DefinitionError(f"cannot write {value!r} as TOML")
