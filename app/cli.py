"""The `wuye` command: init, seed, serve, export, import, sql. Every command takes --db."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tomllib
from pathlib import Path

from app.db import ROOT, DatabaseBusy, database_url, open_database
from app.permissions import cli_actor
from app.postgres import redacted

STREAMLIT_CONFIG = ROOT / "streamlit_config" / "config.toml"
ENTRY = ROOT / "app" / "streamlit_app.py"


def _open(args, migrate: bool = True, read_only: bool = False):
    return open_database(args.db, migrate=migrate, read_only=read_only)


def cmd_init(args) -> int:
    from app.settings import ensure_defaults

    db = _open(args, migrate=False)
    applied = db.migrate()
    added = ensure_defaults(db, cli_actor())
    print(f"数据库 {redacted(db.url)} 已就绪：应用迁移 {len(applied)} 项，补充参数 {added} 项。")
    return 0


def cmd_seed(args) -> int:
    if not args.demo:
        print("请指定 --demo（生成演示用的小区数据）", file=sys.stderr)
        return 2
    from app.settings import ensure_defaults
    from seed.demo import seed_demo

    db = _open(args)
    ensure_defaults(db, cli_actor())
    counts = seed_demo(db, cli_actor().via("任务"))
    if not counts:
        print("数据库里已有小区数据，未重复生成演示数据。")
        return 0
    from app import registers

    names = {r.name: r.label for r in registers.catalog().values()}
    print("演示数据已生成：" + "，".join(f"{names.get(k, k)} {v:,} 行" for k, v in counts.items()))
    return 0


def streamlit_flags() -> list[str]:
    """The settings in streamlit_config/config.toml as `--section.key value` flags."""
    with open(STREAMLIT_CONFIG, "rb") as fh:
        config = tomllib.load(fh)
    flags = []
    for section, values in config.items():
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags += [f"--{section}.{key}", text]
    return flags


def cmd_serve(args) -> int:
    url = database_url(args.db)
    if args.demo and not url.startswith("postgres") and not Path(url).exists():
        args.demo = True
        if cmd_init(args) or cmd_seed(args):
            return 1
    else:
        _open(args).close()  # migrate now, so a busy or broken database is said here
    env = {**os.environ, "WUYE_DB": url}
    flags = streamlit_flags() + ["--server.port", str(args.port), "--server.address", args.address]
    cmd = [sys.executable, "-m", "streamlit", "run", str(ENTRY), *flags]
    print(f"wuye 正在 http://{args.address}:{args.port} 运行（数据库 {redacted(url)}），按 Ctrl+C 停止。",
          flush=True)
    os.execve(sys.executable, cmd, env)  # become the server: signals reach it directly


def cmd_export(args) -> int:
    from app import excel

    db = _open(args)
    out = Path(args.out)
    rows = excel.export_named(db, cli_actor(), args.name, out)
    print(f"已导出 {rows} 行到 {out}")
    return 0


def cmd_import(args) -> int:
    from app.importer import ImportRefused, ImportRejected, error_workbook, plan_import, run_import

    db = _open(args)
    actor = cli_actor()
    try:
        plan = plan_import(db, actor, args.register, Path(args.file), sheet=args.sheet,
                           header_row=args.header_row, community=args.community,
                           update_existing=args.update)
        result = run_import(db, actor, plan, dry_run=args.dry_run)
    except ImportRefused as err:
        print(str(err), file=sys.stderr)
        return 2
    except ImportRejected as err:
        print(f"校验未通过，未导入任何数据（{len(err.problems)} 个问题）：", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        if args.error_report:
            Path(args.error_report).write_bytes(error_workbook(plan, err.problems))
            print(f"已把标出错误的文件写到 {args.error_report}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(note)
    print(result.summary)
    return 0


def cmd_sql(args) -> int:
    from app.sql_console import ReadOnlyViolation, run_read_only

    url = database_url(args.db)
    db = _open(args, migrate=False, read_only=Path(url).exists())
    try:
        columns, rows = run_read_only(db, args.query)
    except ReadOnlyViolation as err:
        print(str(err), file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return 0


def cmd_migrate_to(args) -> int:
    from app.migrate_to import MigrationRefused, migrate_to, report_text

    source = database_url(args.db)
    print(f"正在把 {source} 复制到 PostgreSQL……", flush=True)
    try:
        reports = migrate_to(source, args.url, replace=args.replace)
    except MigrationRefused as err:
        print(str(err), file=sys.stderr)
        return 2
    print(report_text(reports))
    return 0 if all(r.ok for r in reports) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wuye", description="物业台账 wuye")
    parser.add_argument("--db", help="DuckDB 文件路径（默认 data/wuye.duckdb，或环境变量 WUYE_DB）")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, fn, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--db", default=argparse.SUPPRESS, help="数据库（同上）")
        p.set_defaults(fn=fn)
        return p

    add("init", cmd_init, "创建数据库或迁移到最新结构")
    p = add("seed", cmd_seed, "生成数据")
    p.add_argument("--demo", action="store_true", help="生成演示小区数据（确定性）")
    p = add("serve", cmd_serve, "启动网页应用")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--demo", action="store_true", help="数据库不存在时先生成演示数据")
    p = add("export", cmd_export, "把台账或视图导出为 Excel/CSV（按文件后缀）")
    p.add_argument("name", help="台账或视图名，例如 households、v_community_overview")
    p.add_argument("--out", required=True, help="输出文件 .xlsx 或 .csv")
    p = add("import", cmd_import, "从 Excel/CSV 文件导入台账：逐行校验，全部通过才写入")
    p.add_argument("register", help="台账名，例如 households、owners")
    p.add_argument("file", help=".xlsx、.xls 或 .csv 文件（UTF-8 或 GBK）")
    p.add_argument("--sheet", help="工作表名（默认自动选择表头最匹配的工作表）")
    p.add_argument("--header-row", type=int, help="表头所在的 Excel 行号（默认自动识别）")
    p.add_argument("--community", help="默认小区（编号或名称）：填补空的小区列，并区分同名的关联数据")
    p.add_argument("--update", action="store_true", help="编号已存在的行按文件内容修改（默认拒绝）")
    p.add_argument("--dry-run", action="store_true", help="只校验，不写入")
    p.add_argument("--error-report", metavar="XLSX", help="校验未通过时，把标出错误的文件写到这里")
    p = add("sql", cmd_sql, "执行只读 SQL，输出带表头的 CSV")
    p.add_argument("query")
    p = add("migrate-to", cmd_migrate_to, "把 DuckDB 文件（--db）的全部数据复制到 PostgreSQL 并逐表核对")
    p.add_argument("url", help="目标库，例如 postgresql://wuye:密码@127.0.0.1:5432/wuye")
    p.add_argument("--replace", action="store_true", help="目标库已有数据时清空后重新复制")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except DatabaseBusy as err:
        print(str(err), file=sys.stderr)
        return 3
    except KeyError as err:
        print(str(err).strip("'\""), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
