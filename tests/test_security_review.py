"""Security review, as tests: SQL assembly, identifier quoting, formula injection in every
export, upload limits, and the server's address.

SQL. Values always go as parameters (`?`); identifiers (table and column names from register
definitions) always through the one quoting function `app.registers.model.q` (re-exported by
app.storage.db). The scan below reads every module of app/, pages/ and seed/ with `ast` and looks at
every string expression that contains SQL (an upper-case keyword) and is assembled: `+`
chains, f-strings, `%` and `.format`. Each dynamic piece must be one of
  * q(...), or a DDL literal function (sql_literal / postgres.literal: defaults, bookkeeping);
  * a fragment builder known to quote what it splices (label_sql, order_clause, in_list(...)[0],
    column_sql, checksum_sql, mask_sql, where_clause, community_filter_sql …);
  * int(...) / len(...) (numbers cannot carry SQL);
  * a `sep.join(...)` of such pieces;
  * a local variable holding an assembled fragment (its own assembly is checked where it is
    built) — but not one whose name says it is a raw name or value (table, column, value …),
    nor an attribute such as `reg.name` / `f.name` (a raw identifier: it must go through q);
  * an upper-case module constant.
`%`-formatting of SQL is refused outright.
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path

import pytest

from app.registers.model import q

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("app", "pages", "seed")
SQL = re.compile(
    r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER|DROP|WHERE|JOIN|VALUES|ORDER BY|GROUP BY"
    r"|SET|FROM|ATTACH|DETACH|INSTALL|LOAD|COPY|CALL|TRUNCATE|PRAGMA|LIMIT)\b"
)
QUOTING = {"q", "sql_literal", "literal", "postgres.literal"}
FRAGMENT_BUILDERS = {
    "label_sql", "order_clause", "column_sql", "postgres.column_sql", "checksum_sql", "mask_sql",
    "create_table_sql", "postgres.create_table_sql", "where_clause", "community_filter_sql",
    "int", "len", "str.join", "default_order_sql",
}
# Modules whose f-strings are messages that name SQL words, never SQL: the console's errors
# explained in Chinese ("列 x 既不在 GROUP BY 中…").
MESSAGES_ABOUT_SQL = {"app/analysis/console_errors.py"}
RAW_NAMES = {"table", "column", "col", "columns", "name", "register", "value", "values", "text",
             "field", "tz", "timezone", "path", "url", "user", "label"}
# fragments held by objects: app/registers/expressions.py Sql.sql, search Target.snippet, excel RegisterRows
FRAGMENT_ATTRIBUTES = {"sql", "snippet", "select", "source", "order"}


def _call_name(node: ast.Call) -> str:
    return ast.unparse(node.func)


def _is_sql_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(SQL.search(node.value))


def _flatten(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _flatten(node.left) + _flatten(node.right)
    return [node]


def _safe(node: ast.AST) -> bool:
    """May this piece be spliced into SQL? (see the module docstring)"""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, int)) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return all(_safe(n) for n in _flatten(node))
    if isinstance(node, ast.JoinedStr):
        return all(_safe(v.value) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.Name):
        return node.id not in RAW_NAMES
    if isinstance(node, ast.Attribute):  # a module constant (postgres.ALIAS); reg.name must be quoted
        return node.attr.isupper() or node.attr in FRAGMENT_ATTRIBUTES
    if isinstance(node, ast.Subscript):  # in_list(values)[0]: the placeholders
        return isinstance(node.value, ast.Call) and _call_name(node.value).endswith("in_list")
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in QUOTING or name.split(".")[-1] in QUOTING:
            return True
        if name in FRAGMENT_BUILDERS or name.split(".")[-1] in FRAGMENT_BUILDERS:
            return True
        if name == "str" and len(node.args) == 1:  # a number as text: str(LIMIT), str(int(n))
            arg = node.args[0]
            return (isinstance(arg, ast.Constant) and isinstance(arg.value, int)) or (
                isinstance(arg, ast.Name) and arg.id.isupper()) or (
                isinstance(arg, ast.Call) and _call_name(arg) in ("int", "len"))
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("strip", "lstrip", "rstrip"):
            return not node.args and _safe(node.func.value)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "replace":  # fragment, constants
            return _safe(node.func.value) and all(isinstance(a, ast.Constant) for a in node.args)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            (arg,) = node.args
            if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                return _safe(arg.elt)
            if isinstance(arg, (ast.List, ast.Tuple)):
                return all(_safe(e) for e in arg.elts)
            return _safe(arg)
        return False
    return False


def sql_assembly_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sql_constants = {  # module-level NAME = "…SQL…" (templates filled with .format)
        t.id for node in tree.body if isinstance(node, ast.Assign) and _is_sql_constant(node.value)
        for t in node.targets if isinstance(t, ast.Name)
    }
    problems = []
    seen: set[int] = set()

    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path

    def where(node: ast.AST) -> str:
        return f"{shown}:{node.lineno}"

    for node in ast.walk(tree):
        if id(node) in seen:
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_sql_constant(node.left):
            problems.append(f"{where(node)}: SQL built with %: {ast.unparse(node)[:80]}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = _flatten(node)
            seen.update(id(n) for n in ast.walk(node))
            has_sql = any(_is_sql_constant(p) for p in parts) or any(
                isinstance(p, ast.JoinedStr) and any(_is_sql_constant(v) for v in p.values) for p in parts)
            if has_sql:
                for p in parts:
                    if not _safe(p):
                        problems.append(f"{where(p)}: spliced into SQL unquoted: {ast.unparse(p)[:80]}")
        elif isinstance(node, ast.JoinedStr) and any(_is_sql_constant(v) for v in node.values):
            for v in node.values:
                if isinstance(v, ast.FormattedValue) and not _safe(v.value):
                    problems.append(f"{where(node)}: spliced into SQL f-string: {ast.unparse(v.value)[:80]}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and (_is_sql_constant(node.func.value)
                   or (isinstance(node.func.value, ast.Name) and node.func.value.id in sql_constants)
                   or (isinstance(node.func.value, ast.Attribute) and node.func.value.attr.isupper()
                       and SQL.search(str(_module_constant(node.func.value)))))):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if not _safe(arg):
                    problems.append(f"{where(node)}: .format() into SQL: {ast.unparse(arg)[:80]}")
    return problems


def _module_constant(node: ast.Attribute):
    """The value of `module.CONSTANT` (postgres.SET_TIMEZONE), to see whether it is SQL."""
    import importlib

    try:
        return getattr(importlib.import_module("app." + ast.unparse(node.value)), node.attr)
    except (ImportError, AttributeError):
        return ""


def test_sql_is_assembled_only_from_quoted_identifiers_and_parameters():
    problems = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if str(path.relative_to(ROOT)) not in MESSAGES_ABOUT_SQL:
                problems += sql_assembly_problems(path)
    assert not problems, "SQL assembled another way:\n" + "\n".join(problems)


def test_the_scan_finds_what_it_should(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(cur, reg, value, table):\n"
        "    cur.execute('SELECT * FROM ' + reg.name)\n"
        "    cur.execute(f\"SELECT * FROM t WHERE a = '{value}'\")\n"
        "    cur.execute('DELETE FROM t WHERE id = %s' % value)\n"
        "    cur.execute('SELECT * FROM ' + table + ' WHERE x = ?', [value])\n"
        "    cur.execute('SELECT * FROM t WHERE a = ' + str(value))\n"
        "    cur.execute('SELECT {c} FROM t'.format(c=value))\n",
        encoding="utf-8",
    )
    good = tmp_path / "good.py"
    good.write_text(
        "def f(cur, reg, value, where, ids):\n"
        "    cur.execute('SELECT * FROM ' + q(reg.name) + where + ' AND id IN ' + in_list(ids)[0], [value])\n"
        "    cur.execute(f'SELECT {q(reg.name)} FROM t LIMIT {int(value)}')\n"
        "    cur.execute('INSERT INTO ' + q(reg.name) + ' (' + ', '.join(q(c) for c in reg.columns) + ')')\n",
        encoding="utf-8",
    )
    found = sql_assembly_problems(bad)
    assert len(found) == 6, found
    assert sql_assembly_problems(good) == []


def test_quoting_accepts_only_plain_names():
    assert q("households") == '"households"'
    assert q("area_m2") == '"area_m2"'
    for evil in ('x"; DROP TABLE households; --', "Households", "a b", "", "1abc", "名字", 'a"b'):
        with pytest.raises(ValueError):
            q(evil)
    assert q('我的"列"', any_name=True) == '"我的""列"""'


NOT_SQL_QUOTING = {
    "app/registers/model.py": "the one quoting function itself",
    "app/registers/custom.py": "writes TOML string literals, not SQL",
}


def homemade_quoting(path: Path) -> list[str]:
    """`… '"' + name + '"' …`: a name put between double quotes by hand (numbers aside)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = _flatten(node)
            for before, middle, after in zip(parts, parts[1:], parts[2:]):
                if (isinstance(before, ast.Constant) and str(before.value).endswith('"')
                        and "<" not in str(before.value)  # XML attributes (the xlsx writer)
                        and isinstance(after, ast.Constant) and str(after.value).startswith('"')
                        and not (isinstance(middle, ast.Call) and _call_name(middle) == "str")):
                    found.append(f"{path.relative_to(ROOT)}:{middle.lineno}: {ast.unparse(middle)[:80]}")
        if isinstance(node, ast.FunctionDef) and node.name in ("ident", "quote_ident", "quote_identifier"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: def {node.name}")
    return sorted(set(found))


def test_one_quoting_function():
    """No other module makes its own "…" identifier quoting."""
    offenders = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if str(path.relative_to(ROOT)) not in NOT_SQL_QUOTING:
                offenders += homemade_quoting(path)
    assert not offenders, "\n".join(offenders)
    from app.storage import db, postgres

    assert db.q is q
    assert not hasattr(postgres, "ident")


# -- formula injection: every export path ---------------------------------------------------
EVIL = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


def xlsx_formulas(data: bytes) -> list[str]:
    """Formula elements in the sheets of an .xlsx file."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [name for name in z.namelist() if name.startswith("xl/worksheets/")
                and (b"<f>" in z.read(name) or b"<f " in z.read(name))]


def xlsx_strings(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/"))


@pytest.fixture
def evil_db(tmp_path):
    from app.access.permissions import Actor
    from app.saving.changes import RowChange, apply_changes
    from app.storage.db import open_database

    db = open_database(str(tmp_path / "evil.duckdb"))
    actor = Actor("审计", source="任务")
    c = apply_changes(db, actor, "communities", [RowChange("insert", values={"name": "甲苑"})]).inserted[0]
    apply_changes(db, actor, "households", [
        RowChange("insert", values={"community_id": c, "code": f"1-{i}", "area": "50", "usage": "住宅",
                                    "status": "空置", "note": text})
        for i, text in enumerate(EVIL)])
    yield db, actor
    db.close()


def test_register_export_xlsx_and_csv_keep_formulas_as_text(evil_db, tmp_path):
    from app.exchange import excel

    db, actor = evil_db
    xlsx = excel.register_xlsx_bytes(db, actor, "households")
    assert xlsx_formulas(xlsx) == []
    excel.export_register(db, actor, "households", tmp_path / "h.csv")
    text = (tmp_path / "h.csv").read_text(encoding="utf-8-sig")
    for evil in EVIL:
        assert "'" + evil.replace('"', '""') in text
    assert not re.search(r"(^|,)[=+\-@]", text.replace(",-,", ","), re.M)


def test_view_console_and_chart_exports_keep_formulas_as_text(evil_db):
    from app.analysis import builder as analysis

    data = analysis.rows_xlsx("结果", ["note"], ["VARCHAR"], [(e,) for e in EVIL])
    assert xlsx_formulas(data) == []
    assert "HYPERLINK" in xlsx_strings(data)


def test_import_error_workbook_keeps_formulas_as_text(evil_db):
    from app.exchange import importer

    db, actor = evil_db
    content = "小区,房号,建筑面积(㎡),用途,状态,备注\n" + "".join(
        f"甲苑,9-{i},abc,住宅,空置,\"{e.replace(chr(34), chr(34) * 2)}\"\n" for i, e in enumerate(EVIL))
    plan = importer.plan_import(db, actor, "households", content.encode(), file_name="坏.csv")
    with pytest.raises(importer.ImportRejected) as err:
        importer.run_import(db, actor, plan)
    data = importer.error_workbook(plan, err.value.problems)
    assert xlsx_formulas(data) == []
    assert "HYPERLINK" in xlsx_strings(data)


def test_import_template_has_no_cell_formulas(evil_db):
    from app.exchange import templates

    db, actor = evil_db
    assert xlsx_formulas(templates.template_xlsx("households", db, actor)) == []


def test_cli_sql_csv_defuses_formulas(evil_db, tmp_path):
    import subprocess
    import sys

    db, _ = evil_db
    path = db.url
    db.close()
    out = subprocess.run([sys.executable, "-m", "app.cli", "--db", path, "sql",
                          "SELECT note FROM households ORDER BY id"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()[1:]
    assert all(line.lstrip('"').startswith("'") for line in lines), lines


# -- uploads --------------------------------------------------------------------------------
def test_attachment_uploads_are_limited_in_size_and_type():
    from app.saving.attachments import MAX_BYTES, AttachmentRejected, check_upload

    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    assert check_upload("照片.png", png)[1] == "image/png"
    with pytest.raises(AttachmentRejected, match="超过上限"):
        check_upload("大.png", b"\x89PNG\r\n\x1a\n" + b"0" * MAX_BYTES)
    with pytest.raises(AttachmentRejected, match="类型不允许"):
        check_upload("脚本.html", b"<script>alert(1)</script>")
    with pytest.raises(AttachmentRejected, match="类型不允许"):
        check_upload("程序.exe", b"MZ\x90\x00")
    with pytest.raises(AttachmentRejected, match="不是 pdf"):
        check_upload("伪装.pdf", b"MZ\x90\x00")  # content does not match the extension


def test_import_uploads_are_limited_in_size_and_type():
    from app.exchange import importer

    with pytest.raises(importer.ImportRefused, match="超过上限"):
        importer.read_source(b"a,b\n" + b"1,2\n" * (importer.MAX_IMPORT_BYTES // 4), "大.csv")
    with pytest.raises(importer.ImportRefused, match="不是文本"):
        importer.read_source(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "程序.csv")
    with pytest.raises(importer.ImportRefused, match="不是有效的 Excel"):
        importer.read_source(b"MZ\x90\x00\x03", "假.xlsx")
    page = (ROOT / "pages" / "import.py").read_text(encoding="utf-8")
    assert 'type=["xlsx", "xlsm", "xls", "csv"]' in page  # the uploader offers these types only


# -- serving --------------------------------------------------------------------------------
def test_server_binds_to_localhost_by_default():
    import tomllib

    from app.cli import build_parser, streamlit_flags

    assert build_parser().parse_args(["serve"]).address == "127.0.0.1"
    flags = streamlit_flags()
    settings = dict(zip(flags[::2], flags[1::2]))
    assert settings.get("--server.address", "127.0.0.1") == "127.0.0.1"
    assert settings.get("--server.enableXsrfProtection", "true") == "true"
    assert settings.get("--server.enableCORS", "true") == "true"
    assert int(settings["--server.maxUploadSize"]) <= 50
    with open(ROOT / "streamlit_config" / "config.toml", "rb") as fh:
        assert "0.0.0.0" not in str(tomllib.load(fh))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "反向代理" in readme and "reverse_proxy" in readme and "proxy_pass" in readme
