"""Calculated columns: a small, safe expression language translated to SQL (issue 12).

An expression is parsed by Python's `ast` module (parsing only, never evaluated) and every
node is checked against an allow-list: field names or labels of the same register, numbers,
strings, + - * /, comparisons, 且/或/非 (and/or/not) and the functions in FUNCTIONS. Each node
is then checked for its kind (数值/日期/文本/是否), so `年(名称)` is refused when saved, with the
reason, instead of failing later. The SQL uses quoted identifiers, strings and dates as
parameters, and only functions valid in both DuckDB and PostgreSQL.

    到期日 = 加年(生产日期, 10)        剩余天数 = 到期日 - 今天()
    总价 = 单价 * 数量                 状态 = 如果(剩余天数 < 30, '即将到期', '正常')
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.registers.model import Register, q

MAX_LENGTH = 500
MAX_NODES = 200

NUMBER, DATE, TEXT, BOOLEAN = "数值", "日期", "文本", "是否"
# Field types -> kinds; ref and personal fields take no part (ids, masked data).
KIND_OF_TYPE = {
    "integer": NUMBER, "money": NUMBER, "price": NUMBER, "area": NUMBER, "quantity": NUMBER,
    "rate": NUMBER, "date": DATE, "text": TEXT, "enum": TEXT, "boolean": BOOLEAN,
}
# Kind of a calculated column -> the field type its values are shown and exported as.
FIELD_TYPE_OF_KIND = {NUMBER: "number", DATE: "date", TEXT: "text", BOOLEAN: "boolean"}
DECIMAL = "DECIMAL(18,6)"


class ExpressionError(ValueError):
    """An expression that cannot be used; str() is the reason in Chinese."""


@dataclass(frozen=True)
class Sql:
    kind: str
    sql: str
    params: tuple = ()


@dataclass(frozen=True)
class Compiled:
    expression: str
    kind: str
    fields: tuple[str, ...]  # the stored fields it reads
    sql: str  # over a row aliased as asked
    params: tuple = ()


# -- parsing --------------------------------------------------------------------------------------
WORDS = {"且": "and", "或": "or", "非": "not"}


def _normalize(text: str) -> str:
    """Spreadsheet habits to Python tokens: `=`/`<>` compare, 且/或/非, full-width brackets."""
    text = text.replace("（", "(").replace("）", ")").replace("，", ",").replace("‘", "'").replace("’", "'")
    text = text.replace("“", '"').replace("”", '"')
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as err:
        raise ExpressionError(f"无法解析：{err}") from None
    out = []
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string == "=":
            tok = tok._replace(string="==")
        elif tok.type == tokenize.OP and tok.string == "<>":
            tok = tok._replace(string="!=")
        elif tok.type == tokenize.NAME and tok.string in WORDS:
            tok = tok._replace(string=WORDS[tok.string])
        out.append((tok.type, tok.string))
    return tokenize.untokenize(out)


def parse(text: str) -> ast.expr:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("表达式为空")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"表达式过长（最多 {MAX_LENGTH} 个字符）")
    source = _normalize(text.strip().removeprefix("="))
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"语法错误：{err.msg}（第 {err.offset or 0} 个字符附近）") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError("表达式过于复杂")
    return tree.body


def compile_expression(reg: Register, text: str, others: dict[str, str] | None = None,
                       alias: str = "t") -> Compiled:
    """Parse and check an expression over `reg`'s fields; raises ExpressionError with the reason.

    `others` are other calculated columns (name or label -> kind) — not allowed as operands:
    a calculated column is computed from stored fields only.
    """
    tree = parse(text)
    translator = _Translator(reg, alias, others or {})
    out = translator.visit_checked(tree)
    return Compiled(text, out.kind, tuple(sorted(translator.used)), out.sql, out.params)


# -- checking and translating ---------------------------------------------------------------------
FUNCTIONS = {
    "年": "年(日期)：年份", "月": "月(日期)：月份", "日": "日(日期)：几号",
    "加天": "加天(日期, 天数)", "加月": "加月(日期, 月数)", "加年": "加年(日期, 年数)",
    "如果": "如果(条件, 成立时, 否则)", "取整": "取整(数值)：向下取整", "四舍五入": "四舍五入(数值, 位数)",
    "绝对值": "绝对值(数值)", "今天": "今天()：当天日期", "日期": "日期('2026-01-01')",
    "为空": "为空(列)：是否没有填写", "空则": "空则(列, 替代值)", "连接": "连接(文本, …)：拼接文字",
}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
COMPARE = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Translator:
    def __init__(self, reg: Register, alias: str, others: dict[str, str] | None = None):
        self.reg = reg
        self.alias = alias
        self.others = others or {}
        self.used: set[str] = set()

    def visit_checked(self, node: ast.AST) -> Sql:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ExpressionError(f"不支持的写法：{_show(node)}")
        return method(node)

    # operands
    def _Constant(self, node: ast.Constant) -> Sql:
        v = node.value
        if isinstance(v, bool) or v is None:
            raise ExpressionError(f"不支持的值：{v!r}")
        if isinstance(v, int):
            if abs(v) > 10**15:
                raise ExpressionError(f"数字过大：{v}")
            return Sql(NUMBER, str(v))
        if isinstance(v, float):
            return Sql(NUMBER, "CAST(" + str(Decimal(repr(v))) + " AS " + DECIMAL + ")")
        if isinstance(v, str):
            if len(v) > 200:
                raise ExpressionError("文字过长")
            return Sql(TEXT, "CAST(? AS VARCHAR)", (v,))
        raise ExpressionError(f"不支持的值：{v!r}")

    def _Name(self, node: ast.Name) -> Sql:
        return self._field(node.id)

    def _field(self, word: str) -> Sql:
        if word in self.others:
            raise ExpressionError(f"「{word}」是计算列：计算列只能用台账中填写的列")
        f = self._lookup(word)
        if f is None:
            raise ExpressionError(f"没有名为「{word}」的列")
        if f.type == "ref":
            raise ExpressionError(f"「{f.label}」是引用列，不能参与计算")
        if f.is_personal:
            raise ExpressionError(f"「{f.label}」是个人信息，不能参与计算")
        if f.type not in KIND_OF_TYPE:
            raise ExpressionError(f"「{f.label}」的类型不能参与计算")
        self.used.add(f.name)
        return Sql(KIND_OF_TYPE[f.type], self.alias + "." + q(f.name))

    def _lookup(self, word: str):
        for f in self.reg.fields:
            if f.name == word or f.label == word:
                return f
        return None

    # operators
    def _UnaryOp(self, node: ast.UnaryOp) -> Sql:
        inner = self.visit_checked(node.operand)
        if isinstance(node.op, ast.USub) and inner.kind == NUMBER:
            return Sql(NUMBER, "(-" + inner.sql + ")", inner.params)
        if isinstance(node.op, ast.Not) and inner.kind == BOOLEAN:
            return Sql(BOOLEAN, "(NOT " + inner.sql + ")", inner.params)
        raise ExpressionError(f"不能对{inner.kind}使用「{_show(node)}」")

    def _BinOp(self, node: ast.BinOp) -> Sql:
        op = ARITHMETIC.get(type(node.op))
        if op is None:
            raise ExpressionError(f"不支持的运算：{_show(node)}（只能用 + - * /）")
        a, b = self.visit_checked(node.left), self.visit_checked(node.right)
        params = a.params + b.params
        kinds = (a.kind, b.kind)
        if kinds == (NUMBER, NUMBER):
            if op == "/":
                return Sql(NUMBER, "(CAST(" + a.sql + " AS " + DECIMAL + ") / NULLIF(CAST(" + b.sql
                           + " AS " + DECIMAL + "), 0))", params)
            return Sql(NUMBER, "(" + a.sql + " " + op + " " + b.sql + ")", params)
        if kinds == (DATE, NUMBER) and op in "+-":
            return Sql(DATE, "(" + a.sql + " " + op + " CAST(" + b.sql + " AS INTEGER))", params)
        if kinds == (NUMBER, DATE) and op == "+":
            return Sql(DATE, "(" + b.sql + " + CAST(" + a.sql + " AS INTEGER))", b.params + a.params)
        if kinds == (DATE, DATE) and op == "-":
            return Sql(NUMBER, "(" + a.sql + " - " + b.sql + ")", params)
        if kinds == (TEXT, TEXT) and op == "+":
            return Sql(TEXT, "(" + a.sql + " || " + b.sql + ")", params)
        raise ExpressionError(f"{a.kind}和{b.kind}不能做「{op}」运算：{_show(node)}")

    def _Compare(self, node: ast.Compare) -> Sql:
        if len(node.ops) != 1:
            raise ExpressionError(f"一次只能比较两个值：{_show(node)}")
        op = COMPARE.get(type(node.ops[0]))
        if op is None:
            raise ExpressionError(f"不支持的比较：{_show(node)}")
        a, b = self.visit_checked(node.left), self.visit_checked(node.comparators[0])
        a, b = _as_date_if_other(a, b), _as_date_if_other(b, a)
        if a.kind != b.kind:
            raise ExpressionError(f"{a.kind}不能和{b.kind}比较：{_show(node)}")
        return Sql(BOOLEAN, "(" + a.sql + " " + op + " " + b.sql + ")", a.params + b.params)

    def _BoolOp(self, node: ast.BoolOp) -> Sql:
        parts = [self.visit_checked(v) for v in node.values]
        if any(p.kind != BOOLEAN for p in parts):
            raise ExpressionError(f"且/或 两边应为条件：{_show(node)}")
        word = " AND " if isinstance(node.op, ast.And) else " OR "
        return Sql(BOOLEAN, "(" + word.join(p.sql for p in parts) + ")",
                   tuple(x for p in parts for x in p.params))

    # functions
    def _Call(self, node: ast.Call) -> Sql:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            known = "、".join(FUNCTIONS)
            raise ExpressionError(f"不认识的函数：{_show(node.func)}（可用：{known}）")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"函数参数写法不对：{_show(node)}")
        name = node.func.id
        if name == "日期":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) \
                    or not isinstance(node.args[0].value, str):
                raise ExpressionError("日期() 需要一个形如 '2026-01-01' 的文字")
            return _date_literal(node.args[0].value)
        args = [self.visit_checked(a) for a in node.args]
        params = tuple(x for a in args for x in a.params)
        kinds = [a.kind for a in args]

        def need(*expected: str) -> None:
            if tuple(kinds) != expected:
                raise ExpressionError(f"{FUNCTIONS[name]}：参数应为 {'、'.join(expected) or '无'}，"
                                      f"实际为 {'、'.join(kinds) or '无'}")

        if name in ("年", "月", "日"):
            need(DATE)
            part = {"年": "YEAR", "月": "MONTH", "日": "DAY"}[name]
            return Sql(NUMBER, "CAST(EXTRACT(" + part + " FROM " + args[0].sql + ") AS INTEGER)", params)
        if name in ("加天", "加月", "加年"):
            need(DATE, NUMBER)
            d, n = args
            if name == "加天":
                return Sql(DATE, "(" + d.sql + " + CAST(" + n.sql + " AS INTEGER))", params)
            unit = "1 month" if name == "加月" else "1 year"
            return Sql(DATE, "CAST(" + d.sql + " + CAST(" + n.sql + " AS INTEGER) * INTERVAL '" + unit
                       + "' AS DATE)", params)
        if name == "如果":
            if len(args) != 3 or kinds[0] != BOOLEAN:
                raise ExpressionError(f"{FUNCTIONS[name]}：第一个参数应为条件")
            a, b = _as_date_if_other(args[1], args[2]), _as_date_if_other(args[2], args[1])
            if a.kind != b.kind:
                raise ExpressionError(f"如果()：成立时（{a.kind}）和否则（{b.kind}）应为同一类")
            return Sql(a.kind, "(CASE WHEN " + args[0].sql + " THEN " + a.sql + " ELSE " + b.sql + " END)",
                       args[0].params + a.params + b.params)
        if name == "取整":
            need(NUMBER)
            return Sql(NUMBER, "FLOOR(" + args[0].sql + ")", params)
        if name == "绝对值":
            need(NUMBER)
            return Sql(NUMBER, "ABS(" + args[0].sql + ")", params)
        if name == "四舍五入":
            need(NUMBER, NUMBER)
            places = node.args[1]
            if not (isinstance(places, ast.Constant) and type(places.value) is int and 0 <= places.value <= 6):
                raise ExpressionError("四舍五入() 的位数应为 0 到 6 的整数")
            return Sql(NUMBER, "ROUND(CAST(" + args[0].sql + " AS " + DECIMAL + "), " + str(places.value) + ")",
                       args[0].params)
        if name == "今天":
            need()
            return Sql(DATE, "CURRENT_DATE")
        if name == "为空":
            if len(args) != 1:
                raise ExpressionError(f"{FUNCTIONS[name]}：需要一个参数")
            return Sql(BOOLEAN, "(" + args[0].sql + " IS NULL)", params)
        if name == "空则":
            if len(args) != 2:
                raise ExpressionError(f"{FUNCTIONS[name]}：需要两个参数")
            a, b = _as_date_if_other(args[0], args[1]), _as_date_if_other(args[1], args[0])
            if a.kind != b.kind:
                raise ExpressionError(f"空则()：两个参数应为同一类（{a.kind}、{b.kind}）")
            return Sql(a.kind, "COALESCE(" + a.sql + ", " + b.sql + ")", a.params + b.params)
        if name == "连接":
            if not 1 <= len(args) <= 10:
                raise ExpressionError("连接() 需要 1 到 10 个参数")
            return Sql(TEXT, "concat(" + ", ".join("CAST(" + a.sql + " AS VARCHAR)" for a in args) + ")", params)
        raise ExpressionError(f"不认识的函数：{name}")  # pragma: no cover


def _date_literal(text: str) -> Sql:
    if not ISO_DATE.fullmatch(text):
        raise ExpressionError(f"日期应写成 2026-01-01：{text!r}")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ExpressionError(f"没有这一天：{text}") from None
    return Sql(DATE, "CAST(? AS DATE)", (text,))


def _as_date_if_other(value: Sql, other: Sql) -> Sql:
    """A text literal compared with (or beside) a date is a date: 生产日期 > '2020-01-01'."""
    if value.kind == TEXT and other.kind == DATE and value.sql == "CAST(? AS VARCHAR)":
        return _date_literal(value.params[0])
    return value


def _show(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:60]
    except Exception:  # pragma: no cover
        return type(node).__name__


# -- the calculated columns of a register ------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    label: str
    expression: str
    kind: str

    @property
    def field_type(self) -> str:
        return FIELD_TYPE_OF_KIND[self.kind]


def check_calculated(reg: Register, items: list[dict]) -> list[Column]:
    """Check a register's calculated columns (names, labels, expressions); ExpressionError if not."""
    from app.registers.model import IDENTIFIER, SYSTEM_LABELS

    out: list[Column] = []
    names = {f.name for f in reg.fields} | {f["name"] for f in reg.extra.get("retired_fields", [])}
    labels = {f.label for f in reg.fields}
    others = {i.get("name", ""): "" for i in items} | {i.get("label", ""): "" for i in items}
    seen: set[str] = set()
    for item in items:
        name, label, expression = item.get("name", ""), item.get("label", ""), item.get("expression", "")
        if set(item) - {"name", "label", "expression"}:
            raise ExpressionError(f"计算列 {name}：未知的键 {sorted(set(item) - {'name', 'label', 'expression'})}")
        if not IDENTIFIER.fullmatch(name or ""):
            raise ExpressionError(f"计算列名称「{name}」只能用小写字母、数字和下划线，且以字母开头")
        if name in names or name in SYSTEM_LABELS or name in seen:
            raise ExpressionError(f"计算列名称「{name}」已被使用")
        if not str(label).strip():
            raise ExpressionError(f"计算列 {name} 需要中文名称")
        if label in labels:
            raise ExpressionError(f"计算列名称「{label}」与已有的列同名")
        seen.add(name)
        mine = {k: v for k, v in others.items() if k not in (name, label)}
        try:
            compiled = compile_expression(reg, expression, mine)
        except ExpressionError as err:
            raise ExpressionError(f"计算列「{label}」：{err}") from None
        out.append(Column(name, label, expression, compiled.kind))
    return out


def columns_of(reg: Register) -> list[Column]:
    """The register's calculated columns as checked when its definition was loaded."""
    items = reg.extra.get("calculated", [])
    if not items:
        return []
    return check_calculated(reg, items)


def select_sql(reg: Register, alias: str = "t", only: list[str] | None = None) -> tuple[list[str], list]:
    """SELECT items `<expr> AS "<name>"` of the register's calculated columns, and parameters."""
    parts, params = [], []
    for col in columns_of(reg):
        if only is not None and col.name not in only:
            continue
        compiled = compile_expression(reg, col.expression, alias=alias)
        parts.append(compiled.sql + " AS " + q(col.name, any_name=True))
        params += compiled.params
    return parts, params
