"""What went wrong with a console query, in the user's words.

DuckDB reports in English ("Binder Error: Referenced column "x" not found …"). `explain` turns
the common kinds into one Chinese sentence that says what to change; `original` is the
message to show below it in small text, so nothing DuckDB said is lost. The console always
runs in an in-memory DuckDB sandbox, so these are DuckDB's messages on either backend.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

import duckdb

# DuckDB's internal type names as an office user knows them.
TYPE_WORDS = {
    "TINYINT": "整数", "SMALLINT": "整数", "INTEGER": "整数", "BIGINT": "整数", "HUGEINT": "整数",
    "INT8": "整数", "INT16": "整数", "INT32": "整数", "INT64": "整数", "INT128": "整数",
    "UINT8": "整数", "UINT16": "整数", "UINT32": "整数", "UINT64": "整数",
    "INTEGER_LITERAL": "整数", "FLOAT": "小数", "DOUBLE": "小数", "DECIMAL": "小数",
    "VARCHAR": "文字", "STRING_LITERAL": "文字", "DATE": "日期", "TIMESTAMP": "时间",
    "TIMESTAMP WITH TIME ZONE": "时间", "TIME": "时刻", "INTERVAL": "时间间隔", "BOOLEAN": "是/否",
}

TIMEOUT = "查询超过 {limit:g} 秒，已停止。请加筛选条件或缩小范围后再试。"
OUT_OF_MEMORY = "查询占用内存过多，已停止。请加筛选条件或缩小范围后再试。"
NO_ACCESS = "控制台不能访问文件、网络、扩展或系统设置，只能查询台账和规则视图。"
FALLBACK = "查询失败，原因见下方的原始信息。"


def _type_word(name: str) -> str:
    base = name.split("(")[0].strip().upper()
    return TYPE_WORDS.get(base, name)


def _names(text: str) -> list[str]:
    """The quoted names in a candidate list: '"a", "b"' -> [a, b]."""
    return re.findall(r'"([^"]+)"', text)


def _did_you_mean(text: str) -> str:
    m = re.search(r'Did you mean "([^"]+)"\?', text)
    return f"您是不是要写 {m[1]}？" if m else ""


def _candidates(text: str, word: str) -> str:
    m = re.search(r"Candidate (?:bindings|tables): ?:? ?(.*)", text)
    names = _names(m[1]) if m else []
    return f"（{word}：{'、'.join(names)}）" if names else ""


def _missing_column(m: re.Match, text: str) -> str:
    return f"找不到列 {m['col']}{_candidates(text, '相近的列')}。请对照「可查询的表」里的列名。"


def _table_lacks_column(m: re.Match, text: str) -> str:
    return f"表 {m['table']} 没有列 {m['col']}{_candidates(text, '相近的列')}。"


def _missing_alias(m: re.Match, text: str) -> str:
    return f"找不到表名或别名 {m['table']}{_candidates(text, '查询中的表')}：请先在 FROM 中写出它。"


def _missing_table(m: re.Match, text: str, tables: Sequence[str] = ()) -> str:
    # DuckDB's own guess names its system tables (duckdb_columns): guess among the console's tables
    close = difflib.get_close_matches(m["name"].lower(), tables, n=1)
    guess = f"您是不是要写 {close[0]}？" if close else ""
    return (f"没有名为 {m['name']} 的表或视图：控制台只能查询台账和规则视图（审计日志等系统表不在其中），"
            f"表名见「可查询的表」。{guess}")


def _missing_function(m: re.Match, text: str) -> str:
    return f"没有函数 {m['name']}。{_did_you_mean(text)}"


def _missing_catalog(m: re.Match, text: str) -> str:
    return f"没有名为 {m['name']} 的数据库：控制台只能查询台账和规则视图。"


def _group_by(m: re.Match, text: str) -> str:
    col = m["col"]
    return (f"列 {col} 既不在 GROUP BY 中，也不在汇总函数（count、sum、avg…）里："
            f"请把它加进 GROUP BY，或写成 any_value({col})。")


def _ambiguous(m: re.Match, text: str) -> str:
    choices = " 或 ".join(_names(m["use"]))
    return f"列名 {m['col']} 不明确：不止一张表有这一列，请写成 {choices}。"


def _function_types(m: re.Match, text: str) -> str:
    args = [a.strip() for a in m["args"].split(",") if a.strip()]
    kinds = "、".join(_type_word(a) for a in args) or "无参数"
    return (f"函数 {m['name']} 不能用于这些参数（{kinds}）：请检查参数个数，"
            "或用 CAST 转换类型，例如 CAST(列 AS DECIMAL(12,2))、CAST(列 AS DATE)。")


def _order_range(m: re.Match, text: str) -> str:
    return f"ORDER BY 的列序号超出范围：应在 {m['low']} 到 {m['high']} 之间。"


def _syntax_near(m: re.Match, text: str) -> str:
    return f"SQL 语法错误，位置在「{m['token']}」附近。请检查拼写、逗号和括号。"


def _syntax_end(m: re.Match, text: str) -> str:
    return "SQL 语法错误：语句不完整，结尾缺少内容（例如 WHERE 后面的条件）。"


def _convert_string(m: re.Match, text: str) -> str:
    column = f"（列 {m['col']}）" if m["col"] else ""
    return (f"不能把「{m['value']}」转换成{_type_word(m['type'])}{column}：请检查数据，"
            "或用 TRY_CAST 把转换不了的值变为空。")


def _bad_date(m: re.Match, text: str) -> str:
    return f"日期「{m['value']}」无效：请写成 年-月-日，例如 2026-01-31。"


def _bad_time(m: re.Match, text: str) -> str:
    return f"时间「{m['value']}」无效：请写成 年-月-日 时:分:秒，例如 2026-01-31 08:30:00。"


def _out_of_range_cast(m: re.Match, text: str) -> str:
    return f"数值 {m['value']} 超出{_type_word(m['type'])}类型（{m['type']}）的范围。"


def _cast_value(m: re.Match, text: str) -> str:
    return f"数值 {m['value']} 不能转换为 {m['type']}：超出范围或不是数字。"


def _overflow(m: re.Match, text: str) -> str:
    return ("计算结果超出数值范围（溢出）：请先把数值转换为更大的类型，"
            "例如 CAST(列 AS BIGINT) 或 CAST(列 AS DECIMAL(18,2))。")


def _division_by_zero(m: re.Match, text: str) -> str:
    return "除数为零：请用 NULLIF(除数, 0) 避免除以零。"


def _subquery_rows(m: re.Match, text: str) -> str:
    return "子查询返回了多行，而这里只能有一个值：请加条件、用汇总函数或 LIMIT 1。"


def _parse_format(m: re.Match, text: str) -> str:
    return f"「{m['value']}」不符合格式 {m['format']}。"


# (pattern on the message, explanation); the first that matches explains it.
_KINDS: list[tuple[re.Pattern, Callable[[re.Match, str], str]]] = [
    (re.compile(r'Referenced column "(?P<col>[^"]+)" not found'), _missing_column),
    (re.compile(r'Table "(?P<table>[^"]+)" does not have a column named "(?P<col>[^"]+)"'), _table_lacks_column),
    (re.compile(r'Referenced table "(?P<table>[^"]+)" not found'), _missing_alias),
    (re.compile(r"Table with name (?P<name>\S+?) does not exist"), _missing_table),
    (re.compile(r"(?:Scalar |Table |Aggregate |Pragma )?Function with name (?P<name>\S+?) does not exist"),
     _missing_function),
    (re.compile(r'Catalog "(?P<name>[^"]+)" does not exist'), _missing_catalog),
    (re.compile(r'column "(?P<col>[^"]+)" must appear in the GROUP BY clause'), _group_by),
    (re.compile(r'Ambiguous reference to column name "(?P<col>[^"]+)" \(use: (?P<use>[^)]*)\)'), _ambiguous),
    (re.compile(r"argument types '(?P<name>[^(']+)\((?P<args>[^)]*)\)'"), _function_types),
    (re.compile(r'function call "(?P<name>[^(]+)\((?P<args>[^)]*)\)"'), _function_types),
    (re.compile(r"ORDER term out of range - should be between (?P<low>\d+) and (?P<high>\d+)"), _order_range),
    (re.compile(r'syntax error at or near "(?P<token>[^"]*)"'), _syntax_near),
    (re.compile(r"syntax error at end of input"), _syntax_end),
    (re.compile(r"Could not convert string '(?P<value>[^']*)' to (?P<type>[A-Z0-9_]+)"
                r"(?: when casting from source column (?P<col>\S+))?"), _convert_string),
    (re.compile(r'date field (?:value out of range|format): "(?P<value>[^"]*)"'), _bad_date),
    (re.compile(r'timestamp field (?:value out of range|format): "(?P<value>[^"]*)"'), _bad_time),
    (re.compile(r"with value (?P<value>\S+) can't be cast because the value is out of range "
                r"for the destination type (?P<type>[A-Z0-9_]+)"), _out_of_range_cast),
    (re.compile(r"Could not cast value (?P<value>\S+) to (?P<type>\S+)"), _cast_value),
    (re.compile(r"Overflow in"), _overflow),
    (re.compile(r"[Dd]ivision by zero"), _division_by_zero),
    (re.compile(r"More than one row returned by a subquery"), _subquery_rows),
    (re.compile(r'Could not parse string "(?P<value>[^"]*)" according to format specifier "(?P<format>[^"]*)"'),
     _parse_format),
]


def original(err: BaseException) -> str:
    """DuckDB's own message, to show under the explanation: its first paragraph, no type lists.

    The LINE/caret part is left out: it points into the console's wrapper around the query.
    """
    text = str(err).strip()
    first = text.split("\n\n")[0]
    return "\n".join(line for line in first.splitlines() if not line.startswith("\t")) or type(err).__name__


def explain(err: BaseException, time_limit: float | None = None, tables: Sequence[str] = ()) -> str:
    """The Chinese explanation of a failed console query (DuckDB error, or one raised while streaming).

    `tables`: the names the console offers, for a guess when a table name is misspelt.
    """
    text = str(err)
    if isinstance(err, duckdb.InterruptException) or "INTERRUPT" in text.upper():
        return TIMEOUT.format(limit=time_limit or 0)
    if isinstance(err, duckdb.OutOfMemoryException) or "out of memory" in text.lower():
        return OUT_OF_MEMORY
    if isinstance(err, duckdb.PermissionException) or text.startswith("Permission Error"):
        return NO_ACCESS
    for pattern, say in _KINDS:
        if m := pattern.search(text):
            return _missing_table(m, text, tables) if say is _missing_table else say(m, text)
    if isinstance(err, duckdb.ParserException):
        return "SQL 语法错误，请检查拼写、逗号和括号。"
    return FALLBACK
