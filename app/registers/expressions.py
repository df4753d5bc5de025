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
from datetime import date, timedelta
from decimal import Decimal

from app.registers.model import IDENTIFIER, SYSTEM_LABELS, Field, Register, q

MAX_LENGTH = 500
MAX_NODES = 200
MAX_SQL = 20_000  # guards repeat their operands: an expression nesting many of them is refused

NUMBER, DATE, TEXT, BOOLEAN = "数值", "日期", "文本", "是否"
# Field types -> kinds; ref and personal fields take no part (ids, masked data).
KIND_OF_TYPE = {
    "integer": NUMBER, "money": NUMBER, "price": NUMBER, "area": NUMBER, "quantity": NUMBER,
    "rate": NUMBER, "date": DATE, "text": TEXT, "enum": TEXT, "boolean": BOOLEAN,
}
# Kind of a calculated column -> the field type its values are shown and exported as.
FIELD_TYPE_OF_KIND = {NUMBER: "number", DATE: "date", TEXT: "text", BOOLEAN: "boolean"}
DECIMAL = "DECIMAL(18,6)"
# Every number an expression produces stays below LIMIT in magnitude, so it fits DECIMAL(18,6)
# and no database raises on any row (issue #20): a step that could go beyond is guarded and gives
# NULL on the rows where it would (an empty cell; `failure` says why). The guard's test runs in
# DOUBLE PRECISION on operands already below LIMIT, which can neither raise nor overflow.
LIMIT = 10**12
SAFE = "999999999999"  # the guard's bound: a DECIMAL(18,6) cast cannot round up past LIMIT
INTEGER_SAFE = "99999999999"  # an integer column taken into a calculation (so 份数 + 1 needs no guard)
MAX_DAYS = 3_000_000  # a day offset; dates stay within the years 1..9999 Python can show
YEAR_RANGE = "BETWEEN 2 AND 9998"
DOUBLE = "DOUBLE PRECISION"
DECIMAL_BOUNDS = {"money": 10**10, "price": 10**6, "area": 10**8, "quantity": 10**9, "rate": 10**4}


class ExpressionError(ValueError):
    """An expression that cannot be used; str() is the reason in Chinese."""


@dataclass(frozen=True)
class Sql:
    kind: str
    sql: str
    params: tuple = ()
    bound: float = 0  # a number's largest possible magnitude (static)
    constant: bool = True  # reads no field: the database may fold it when planning


def _joined(*parts: Sql) -> dict:
    return {"params": tuple(x for p in parts for x in p.params), "constant": all(p.constant for p in parts)}


def _guarded(test: str, test_params: tuple, value: str, value_params: tuple, kind: str,
             bound: float, constant: bool) -> Sql:
    """`value` where `test` holds, else NULL (CASE evaluates THEN only on the rows it keeps)."""
    return Sql(kind, "(CASE WHEN " + test + " THEN " + value + " END)", test_params + value_params,
               bound, constant)


def _double(part: Sql) -> str:
    return "CAST(" + part.sql + " AS " + DOUBLE + ")"


def _number(op_sql: str, double_sql: str, parts: tuple[Sql, ...], bound: float) -> Sql:
    """A number from an operation: kept as is when it cannot reach LIMIT, else guarded."""
    joined = _joined(*parts)
    if bound < LIMIT:
        return Sql(NUMBER, op_sql, joined["params"], bound, joined["constant"])
    if joined["constant"]:
        raise ExpressionError("数字过大：计算结果超出范围")
    return _guarded("ABS(" + double_sql + ") < " + SAFE, joined["params"],
                    "CAST(" + op_sql + " AS " + DECIMAL + ")", joined["params"], NUMBER, LIMIT, False)


def _shifted(date: Sql, years: Sql, per_year: str, value: str, params: tuple) -> Sql:
    """A date moved by a number of days/months/years, NULL when it would leave the years 1..9999."""
    test = ("CAST(EXTRACT(YEAR FROM " + date.sql + ") AS " + DOUBLE + ") + " + "CAST(" + years.sql + " AS " + DOUBLE + ")" + " / "
            + per_year + " " + YEAR_RANGE)
    return _guarded(test, date.params + years.params, value, params, DATE, 0,
                    date.constant and years.constant)


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
    text = text.replace("“", '"').replace("”", '"').replace("×", "*").replace("÷", "/")
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
    if len(out.sql) > MAX_SQL:
        raise ExpressionError("表达式过于复杂（可能溢出的运算嵌套太多），请拆成几个计算列")
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
            if abs(v) >= LIMIT:
                raise ExpressionError(f"数字过大：{v}")
            return Sql(NUMBER, "CAST(" + str(v) + " AS DECIMAL(18,0))", (), abs(v))
        if isinstance(v, float):
            if not abs(v) < LIMIT:
                raise ExpressionError(f"数字过大：{v!r}")
            return Sql(NUMBER, "CAST(" + str(Decimal(repr(v))) + " AS " + DECIMAL + ")", (), abs(v))
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
        column = self.alias + "." + q(f.name)
        if f.type == "integer":  # BIGINT: beyond LIMIT it is no number an expression computes with
            return Sql(NUMBER, "(CASE WHEN " + column + " BETWEEN -" + INTEGER_SAFE + " AND " + INTEGER_SAFE
                       + " THEN CAST(" + column + " AS DECIMAL(18,0)) END)", (), int(INTEGER_SAFE), False)
        return Sql(KIND_OF_TYPE[f.type], column, (), DECIMAL_BOUNDS.get(f.type, 0), False)

    def _lookup(self, word: str):
        for f in self.reg.fields:
            if f.name == word or f.label == word:
                return f
        return None

    # operators
    def _UnaryOp(self, node: ast.UnaryOp) -> Sql:
        inner = self.visit_checked(node.operand)
        if isinstance(node.op, ast.USub) and inner.kind == NUMBER:
            return Sql(NUMBER, "(-" + inner.sql + ")", inner.params, inner.bound, inner.constant)
        if isinstance(node.op, ast.Not) and inner.kind == BOOLEAN:
            return Sql(BOOLEAN, "(NOT " + inner.sql + ")", inner.params, 0, inner.constant)
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
                num = "CAST(" + a.sql + " AS " + DECIMAL + ")"
                den = "CAST(" + b.sql + " AS " + DECIMAL + ")"
                quotient = "(" + num + " / NULLIF(" + den + ", 0))"
                in_double = ("(CAST(" + num + " AS " + DOUBLE + ") / NULLIF(CAST(" + den + " AS " + DOUBLE
                             + "), 0))")
                # a divisor may be as small as 0.000001: the quotient is never known to stay small
                return _number(quotient, in_double, (a, b), LIMIT if not (a.constant and b.constant)
                               else _constant_quotient(node))
            bound = a.bound * b.bound if op == "*" else a.bound + b.bound
            return _number("(" + a.sql + " " + op + " " + b.sql + ")",
                           "(" + _double(a) + " " + op + " " + _double(b) + ")", (a, b), bound)
        if kinds == (DATE, NUMBER) and op in "+-":
            return self._add_days(a, b, op)
        if kinds == (NUMBER, DATE) and op == "+":
            return self._add_days(b, a, op)
        if kinds == (DATE, DATE) and op == "-":
            return Sql(NUMBER, "CAST((" + a.sql + " - " + b.sql + ") AS DECIMAL(18,0))", params, 4 * 10**6,
                       a.constant and b.constant)
        if kinds == (TEXT, TEXT) and op == "+":
            return Sql(TEXT, "(" + a.sql + " || " + b.sql + ")", params, 0, a.constant and b.constant)
        raise ExpressionError(f"{a.kind}和{b.kind}不能做「{op}」运算：{_show(node)}")

    def _add_days(self, d: Sql, n: Sql, op: str) -> Sql:
        if n.constant and n.bound >= MAX_DAYS:
            raise ExpressionError(f"天数过大：{_show_bound(n)}")
        signed = n if op == "+" else Sql(NUMBER, "(-" + n.sql + ")", n.params, n.bound, n.constant)
        value = "(" + d.sql + " " + op + " CAST(" + n.sql + " AS INTEGER))"
        return _shifted(d, signed, "365.2425", value, d.params + n.params)

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
        return Sql(BOOLEAN, "(" + a.sql + " " + op + " " + b.sql + ")", a.params + b.params, 0,
                   a.constant and b.constant)

    def _BoolOp(self, node: ast.BoolOp) -> Sql:
        parts = [self.visit_checked(v) for v in node.values]
        if any(p.kind != BOOLEAN for p in parts):
            raise ExpressionError(f"且/或 两边应为条件：{_show(node)}")
        word = " AND " if isinstance(node.op, ast.And) else " OR "
        return Sql(BOOLEAN, "(" + word.join(p.sql for p in parts) + ")", **_joined(*parts))

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
            return Sql(NUMBER, "CAST(EXTRACT(" + part + " FROM " + args[0].sql + ") AS DECIMAL(18,0))", params,
                       10**4, args[0].constant)
        if name in ("加天", "加月", "加年"):
            need(DATE, NUMBER)
            d, n = args
            if name == "加天":
                return self._add_days(d, n, "+")
            unit, per_year, most = ("1 month", "12", MAX_DAYS // 30) if name == "加月" else ("1 year", "1", 9999)
            if n.constant and n.bound >= most:
                raise ExpressionError(f"{'月数' if name == '加月' else '年数'}过大：{_show_bound(n)}")
            value = "CAST(" + d.sql + " + CAST(" + n.sql + " AS INTEGER) * INTERVAL '" + unit + "' AS DATE)"
            return _shifted(d, n, per_year, value, params)
        if name == "如果":
            if len(args) != 3 or kinds[0] != BOOLEAN:
                raise ExpressionError(f"{FUNCTIONS[name]}：第一个参数应为条件")
            a, b = _as_date_if_other(args[1], args[2]), _as_date_if_other(args[2], args[1])
            if a.kind != b.kind:
                raise ExpressionError(f"如果()：成立时（{a.kind}）和否则（{b.kind}）应为同一类")
            return Sql(a.kind, "(CASE WHEN " + args[0].sql + " THEN " + a.sql + " ELSE " + b.sql + " END)",
                       args[0].params + a.params + b.params, max(a.bound, b.bound),
                       args[0].constant and a.constant and b.constant)
        if name == "取整":
            need(NUMBER)
            return Sql(NUMBER, "FLOOR(" + args[0].sql + ")", params, args[0].bound + 1, args[0].constant)
        if name == "绝对值":
            need(NUMBER)
            return Sql(NUMBER, "ABS(" + args[0].sql + ")", params, args[0].bound, args[0].constant)
        if name == "四舍五入":
            need(NUMBER, NUMBER)
            places = node.args[1]
            if not (isinstance(places, ast.Constant) and type(places.value) is int and 0 <= places.value <= 6):
                raise ExpressionError("四舍五入() 的位数应为 0 到 6 的整数")
            return Sql(NUMBER, "ROUND(CAST(" + args[0].sql + " AS " + DECIMAL + "), " + str(places.value) + ")",
                       args[0].params, args[0].bound + 1, args[0].constant)
        if name == "今天":
            need()
            return Sql(DATE, "CURRENT_DATE", (), 0, False)  # never folded into a constant error
        if name == "为空":
            if len(args) != 1:
                raise ExpressionError(f"{FUNCTIONS[name]}：需要一个参数")
            return Sql(BOOLEAN, "(" + args[0].sql + " IS NULL)", params, 0, args[0].constant)
        if name == "空则":
            if len(args) != 2:
                raise ExpressionError(f"{FUNCTIONS[name]}：需要两个参数")
            a, b = _as_date_if_other(args[0], args[1]), _as_date_if_other(args[1], args[0])
            if a.kind != b.kind:
                raise ExpressionError(f"空则()：两个参数应为同一类（{a.kind}、{b.kind}）")
            return Sql(a.kind, "COALESCE(" + a.sql + ", " + b.sql + ")", a.params + b.params,
                       max(a.bound, b.bound), a.constant and b.constant)
        if name == "连接":
            if not 1 <= len(args) <= 10:
                raise ExpressionError("连接() 需要 1 到 10 个参数")
            return Sql(TEXT, "concat(" + ", ".join("CAST(" + a.sql + " AS VARCHAR)" for a in args) + ")",
                       **_joined(*args))
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


def _show_bound(part: Sql) -> str:
    return f"可达 {part.bound:.0f}" if part.bound < 10**18 else "过大"


def _constant_quotient(node: ast.BinOp) -> float:
    """The quotient of two constants (the planner folds it): its size, LIMIT when it fails."""
    try:
        value = _Evaluator(None, {}).number(node)
    except Failed as err:
        return 0 if err.reason == DIVISION_BY_ZERO else LIMIT  # 1/0: NULLIF makes it NULL
    except (ArithmeticError, ValueError, TypeError):
        return LIMIT
    return 0 if value is None else abs(value)


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


# -- why a row's value is empty --------------------------------------------------------------------
OVERFLOW, DIVISION_BY_ZERO, DATE_RANGE = "计算失败：数值溢出", "计算失败：除数为零", "计算失败：日期超出范围"


class Failed(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def failure(reg: Register, expression: str, row: dict) -> str | None:
    """Why the calculated column is empty on this row ("计算失败：数值溢出", …), None when it is not
    for a failure (a blank input, or a value). Follows the checks the SQL's guards make.

    `row` holds the stored values by field name. Never raises: an expression that no longer
    parses or checks says so.
    """
    try:
        compile_expression(reg, expression)
        _Evaluator(reg, row).value(parse(expression))
    except ExpressionError as err:
        return f"计算失败：{err}"
    except Failed as err:
        return err.reason
    except (ArithmeticError, ValueError, TypeError, OverflowError):  # pragma: no cover - belt and braces
        return OVERFLOW
    return None


class _Evaluator:
    """The expression on one row in Python (Decimal), only to find the step that fails."""

    def __init__(self, reg: Register | None, row: dict):
        self.reg = reg
        self.row = row

    def number(self, node: ast.AST) -> Decimal | None:
        return self.value(node)

    def _bounded(self, value):
        if isinstance(value, Decimal) and abs(value) >= int(SAFE):
            raise Failed(OVERFLOW)
        return value

    def value(self, node: ast.AST):  # noqa: C901 - one branch per node kind, as in _Translator
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else Decimal(repr(node.value))
        if isinstance(node, ast.Name):
            return self._field(node.id)
        if isinstance(node, ast.UnaryOp):
            inner = self.value(node.operand)
            if inner is None:
                return None
            return -inner if isinstance(node.op, ast.USub) else not inner
        if isinstance(node, ast.BoolOp):
            parts = [self.value(v) for v in node.values]
            return all(parts) if isinstance(node.op, ast.And) else any(parts)
        if isinstance(node, ast.Compare):
            a, b = self.value(node.left), self.value(node.comparators[0])
            if a is None or b is None:
                return None
            a, b = _same(a, b), _same(b, a)
            op = type(node.ops[0])
            return {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b,
                    ast.GtE: a >= b}[op]
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise Failed(OVERFLOW)  # pragma: no cover - the checker refused it already

    def _field(self, word: str):
        f = next((f for f in self.reg.fields if word in (f.name, f.label)), None) if self.reg else None
        if f is None:
            return None
        v = self.row.get(f.name)
        if v is None or (not isinstance(v, str) and v != v):  # None or NaN
            return None
        if f.type == "integer" and abs(int(v)) > int(INTEGER_SAFE):
            raise Failed(OVERFLOW)
        if KIND_OF_TYPE.get(f.type) == NUMBER:
            return self._bounded(Decimal(str(v)))
        if KIND_OF_TYPE.get(f.type) == DATE and hasattr(v, "date") and callable(v.date):
            return v.date()
        return v

    def _binop(self, node: ast.BinOp):
        a, b = self.value(node.left), self.value(node.right)
        if a is None or b is None:
            return None
        op = type(node.op)
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            if op is ast.Div:
                if b.quantize(Decimal("0.000001")) == 0:
                    raise Failed(DIVISION_BY_ZERO)
                return self._bounded(a / b)
            return self._bounded({ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[op])
        if isinstance(a, date) and isinstance(b, Decimal):
            return _shift_days(a, b if op is ast.Add else -b)
        if isinstance(a, Decimal) and isinstance(b, date):
            return _shift_days(b, a)
        if isinstance(a, date) and isinstance(b, date):
            return Decimal((a - b).days)
        return str(a) + str(b)

    def _call(self, node: ast.Call):
        name = node.func.id
        if name == "今天":
            return date.today()
        if name == "日期":
            return date.fromisoformat(node.args[0].value)
        args = [self.value(a) for a in node.args]
        if name == "如果":
            return args[1] if args[0] else args[2]
        if name == "为空":
            return args[0] is None
        if name == "空则":
            return args[0] if args[0] is not None else args[1]
        if name == "连接":
            return "".join("" if a is None else str(a) for a in args)
        if any(a is None for a in args):
            return None
        if name in ("年", "月", "日"):
            return Decimal(getattr(args[0], {"年": "year", "月": "month", "日": "day"}[name]))
        if name == "加天":
            return _shift_days(args[0], args[1])
        if name in ("加月", "加年"):
            per_year = 12 if name == "加月" else 1
            if not 2 <= args[0].year + float(args[1]) / per_year <= 9998:
                raise Failed(DATE_RANGE)
            months = int(args[1]) * (1 if per_year == 12 else 12)
            y, m = divmod(args[0].month - 1 + months, 12)
            return date(args[0].year + y, m + 1, 1)  # the day does not matter for finding a failure
        if name == "取整":
            return args[0].to_integral_value(rounding="ROUND_FLOOR")
        if name == "绝对值":
            return abs(args[0])
        if name == "四舍五入":
            return args[0]
        raise Failed(OVERFLOW)  # pragma: no cover


def _same(value, other):
    if isinstance(value, str) and isinstance(other, date) and ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)
    return value


def _shift_days(day: date, n: Decimal) -> date:
    if not 2 <= day.year + float(n) / 365.2425 <= 9998:
        raise Failed(DATE_RANGE)
    return day + timedelta(days=int(n))


def shown_for_row(db, reg: Register, row_id: int) -> dict[str, str]:
    """The calculated columns of one row as shown in its record panel: label -> value, or the
    reason the value is empty ("计算失败：数值溢出"). Never raises for a bad row."""
    cols = columns_of(reg)
    if not cols:
        return {}
    parts, params = select_sql(reg, "t")
    frame = db.query("SELECT t.*, " + ", ".join(parts) + " FROM " + q(reg.name) + " t WHERE t.id = ?",
                     [*params, row_id])
    if frame.empty:
        return {}
    row = {k: (None if not isinstance(v, str) and v != v else v) for k, v in frame.iloc[0].items()}
    out = {}
    for col in cols:
        value = row.get(col.name)
        if value is None:
            out[col.label] = failure(reg, col.expression, row) or ""
        elif col.kind == BOOLEAN:
            out[col.label] = "是" if value else "否"
        else:
            out[col.label] = str(value)
    return out


# -- fee formulas (issue 19) -----------------------------------------------------------------------
# A 公式 fee item's formula is written in the same language, over these variables of one
# household and its fee item; the bill run compiles it to SQL (one branch per formula item, so the
# run stays set-based). Stored column, label, field type.
FEE_VARIABLES = (("area", "建筑面积", "area"), ("inner_area", "套内面积", "area"), ("floor", "楼层", "integer"),
                 ("used", "用量", "quantity"), ("unit_price", "单价", "price"))
FEE_FORMULA_REGISTER = Register(
    name="fee_formula", label="计费公式", area="收费管理",
    fields=tuple(Field(name=n, label=label, type=t) for n, label, t in FEE_VARIABLES))


def compile_fee_formula(text: str, alias: str = "x") -> Compiled:
    """A fee formula checked and compiled over FEE_VARIABLES; ExpressionError (Chinese) if it
    names something else or does not give a number. Only labels are offered: 建筑面积 × 单价."""
    try:
        compiled = compile_expression(FEE_FORMULA_REGISTER, text, alias=alias)
    except ExpressionError as err:
        known = "、".join(label for _, label, _ in FEE_VARIABLES)
        reason = str(err).replace("的列", "的变量") if str(err).startswith("没有名为") else str(err)
        raise ExpressionError(f"{reason}（可用的变量：{known}）") from None
    if compiled.kind != NUMBER:
        raise ExpressionError(f"计费公式应得出金额（数值），而不是{compiled.kind}")
    return compiled


def handles_blanks(text: str) -> bool:
    """Whether a formula deals with blank variables itself (为空(), 空则()); otherwise a blank one
    must stop the bill run, not fall through a 如果() into its 否则 branch."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("为空", "空则")
               for n in ast.walk(parse(text)))


def fee_formula_failure(text: str, values: dict) -> str:
    """Why a formula gives no amount, or a negative one, for one household (`values` by stored
    column): the variable left blank, the failing step, or the negative result."""
    compiled = compile_fee_formula(text)
    labels = dict((n, label) for n, label, _ in FEE_VARIABLES)
    blank = [labels[n] for n in compiled.fields if values.get(n) is None]
    if blank and not handles_blanks(text):
        return "、".join(blank) + " 未填写"
    reason = failure(FEE_FORMULA_REGISTER, text, values)
    if reason:
        return reason
    return "结果为负数"
