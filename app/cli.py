"""The `wuye` command: init, seed, serve, export, import, sql. Every command takes --db."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tomllib
from datetime import date
from pathlib import Path

from app.access.permissions import cli_actor
from app.storage.db import ROOT, DatabaseBusy, database_url
from app.storage.postgres import redacted

# Each command imports the services it uses when it runs (the CLI is the top layer: nothing here
# dodges a circle): `wuye --help` or `wuye sql` need not load the bill run, pandas-heavy reports
# and NocoDB, 0.4-0.5 s more per call, and the tests start the CLI hundreds of times.

STREAMLIT_CONFIG = ROOT / "streamlit_config" / "config.toml"
ENTRY = ROOT / "app" / "server.py"  # Streamlit's app and the session-cookie route


def _open(args, migrate: bool = True, read_only: bool = False):
    from app.saving.derived import open_for_app

    return open_for_app(args.db, migrate=migrate, read_only=read_only)


def cmd_init(args) -> int:
    from app.saving import derived
    from app.settings import ensure_defaults

    db = _open(args, migrate=False)
    applied = derived.migrate(db)
    added = ensure_defaults(db, cli_actor())
    print(f"数据库 {redacted(db.url)} 已就绪：应用迁移 {len(applied)} 项，补充参数 {added} 项。")
    _first_admin(db)
    return 0


def _first_admin(db) -> None:
    """With no user yet: create `admin` and print its one-time password, once."""
    from app.access.permissions import ensure_matrix
    from app.accounts.auth import FIRST_ADMIN, first_admin

    ensure_matrix(db)
    password = first_admin(db, cli_actor())
    if password:
        print(f"已创建管理员 {FIRST_ADMIN}，一次性密码：{password}\n"
              "（只显示这一次；首次登录后须设置新密码。忘记时用 `wuye user passwd admin` 重设。）")


def cmd_user(args) -> int:
    """Users: add, list, passwd (reset), unlock, disable. The CLI acts as the system actor."""
    import getpass as gp

    from app.accounts import auth

    db = _open(args)
    actor = cli_actor()

    def ask_password() -> str:
        if args.password:
            return args.password
        first = gp.getpass("密码：")
        if first != gp.getpass("再输一次："):
            raise auth.PasswordRejected("两次输入的密码不一致")
        return first

    try:
        if args.action == "list":
            for u in auth.list_users(db, actor):
                state = "停用" if not u["active"] else (
                    f"限制登录至 {u['wait_until']:%H:%M}" if u["wait_until"] else "正常")
                failed = f"\t上次登录以来失败 {u['failed_since_login']} 次" if u["failed_since_login"] else ""
                print(f"{u['name']}\t{u['role']}\t小区 {u['communities'] or '全部'}\t{state}{failed}")
            return 0
        if not args.name:
            print("请给出用户名", file=sys.stderr)
            return 2
        if args.action == "add":
            role = "管理员" if args.admin else args.role
            communities = auth.parse_communities(args.communities)
            auth.add_user(db, actor, args.name, ask_password(), role, communities)
            print(f"已添加用户 {args.name}（{role}）")
            return 0
        user = auth._user(db, args.name)
        if user is None:
            print(f"没有用户 {args.name}", file=sys.stderr)
            return 2
        if args.action == "passwd":
            auth.reset_password(db, actor, user["id"], ask_password())
            print(f"已重设 {args.name} 的密码（下次登录须修改）")
        elif args.action == "unlock":
            auth.unlock_user(db, actor, user["id"])
            print(f"已解除 {args.name} 的登录限制（输错密码的计数已清零）")
        elif args.action == "disable":
            auth.update_user(db, actor, user["id"], active=False)
            print(f"已停用 {args.name}")
        return 0
    except (auth.PasswordRejected, ValueError) as err:
        print(str(err), file=sys.stderr)
        return 2


def cmd_seed(args) -> int:
    if not args.demo:
        print("请指定 --demo（生成演示用的小区数据）", file=sys.stderr)
        return 2
    _seed_demo(_open(args), args.as_of)
    return 0


def _as_of(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 年-月-日，例如 2026-09-30：{text}") from None
    if day > date.today():  # the save path refuses records of days to come (日结 and others)
        raise argparse.ArgumentTypeError(f"演示数据的日期不能晚于今天：{text}")
    return day


def _seed_demo(db, as_of: date | None = None) -> dict[str, int] | None:
    """Seed the demo into db when it has no household yet, saying what it does stage by stage;
    then the administrator (when new) and one demo user per role, with their one-time passwords
    in a table at the end. None when the database already had data."""
    import time

    from app import registers
    from app.access.permissions import ensure_matrix
    from app.accounts.auth import FIRST_ADMIN, first_admin
    from app.settings import ensure_defaults
    from seed.demo import seed_demo
    from seed.users import add_demo_users, password_table

    if db.scalar("SELECT count(*) FROM households WHERE deleted_at IS NULL"):
        print("数据库已有数据，未生成演示数据。")
        return None
    ensure_defaults(db, cli_actor())
    as_of = as_of or date.today()
    names = {r.name: r.label for r in registers.catalog().values()}
    started = time.monotonic()
    print(f"正在生成演示数据（截至 {as_of:%Y-%m-%d}，需要一到几分钟）……", flush=True)

    def progress(stage: str, counts: dict[str, int]) -> None:
        shown = "，".join(f"{names.get(k, k)} {v:,}" for k, v in counts.items() if v) or "无"
        print(f"  [{time.monotonic() - started:4.0f} 秒] {STAGES.get(stage, stage)}：{shown}", flush=True)

    counts = seed_demo(db, cli_actor().via("任务"), as_of=as_of, progress=progress)
    if not counts:  # 小区 without households: someone's own data
        print("数据库已有小区数据，未生成演示数据。")
        return None
    ensure_matrix(db)
    passwords = []
    admin_password = first_admin(db, cli_actor())
    if admin_password:
        passwords.append((FIRST_ADMIN, "管理员", admin_password))
    passwords += add_demo_users(db, cli_actor())
    print(f"已生成演示数据：{sum(counts.values()):,} 行，用时 {time.monotonic() - started:.0f} 秒。")
    if passwords:
        print("\n演示用户（密码只显示这一次；首次登录后须设置新密码）：\n" + password_table(passwords))
    return counts


# What each seed stage fills, for the progress lines.
STAGES = {
    "core": "小区、楼栋、房屋、业主与员工", "demo_checks": "检查整改与保安值勤", "demo_estate": "装修、停车、入住与应急",
    "demo_facilities": "设备消防、合同、档案与库存", "demo_fees": "收费、收支与催缴",
    "demo_service": "报修与投诉", "demo_surveys": "调查、社区文化与内部管理", "demo_zz_rectifications": "整改跟进",
}


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
    db = _open(args)  # migrate now, so a busy or broken database is said here
    if args.demo:
        # a new file, or one `wuye init` made: empty means no household yet
        _seed_demo(db)
    _first_admin(db)  # a database from before users existed gets its administrator
    db.close()
    env = {**os.environ, "WUYE_DB": url}
    flags = streamlit_flags() + ["--server.port", str(args.port), "--server.address", args.address]
    cmd = [sys.executable, "-m", "streamlit", "run", str(ENTRY), *flags]
    print(f"wuye 正在 http://{args.address}:{args.port} 运行（数据库 {redacted(url)}），按 Ctrl+C 停止。",
          flush=True)
    os.execve(sys.executable, cmd, env)  # become the server: signals reach it directly


def cmd_export(args) -> int:
    from app.exchange import excel

    db = _open(args)
    out = Path(args.out)
    rows = excel.export_named(db, cli_actor(), args.name, out)
    print(f"已导出 {rows} 行到 {out}")
    return 0


def cmd_import(args) -> int:
    from app.admin.backup import enable_auto
    from app.exchange.importer import (
        ImportRefused,
        ImportRejected,
        error_workbook,
        plan_import,
        run_import,
    )

    db = _open(args)
    enable_auto(db)  # a backup before the import writes (not for --dry-run)
    actor = cli_actor()
    try:
        if args.create_missing:
            return _import_creating(db, actor, args)
        options = {"sheet": args.sheet, "header_row": args.header_row, "community": args.community,
                   "update_existing": args.update, "history": args.history}
        if args.map:
            from app.exchange.import_mapping import load_mapping, plan_mapped

            plan = plan_mapped(db, actor, args.register, Path(args.file),
                               load_mapping(db, args.map, args.register), **options)
        else:
            plan = plan_import(db, actor, args.register, Path(args.file), **options)
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
    print(result.report)
    for note in result.notes:
        print(note)
    print(result.summary)
    return 0


def _import_creating(db, actor, args) -> int:
    """`wuye import --create-missing`: the file as a workbook of one sheet (app/exchange/import_workbook.py)."""
    from app.exchange.import_mapping import load_mapping
    from app.exchange.import_workbook import import_workbook, one_sheet
    from app.exchange.importer import ImportRefused, ImportRejected

    if args.update or args.history:
        print("--create-missing 只用于新增行，不能与 --update 或 --history 同时使用", file=sys.stderr)
        return 2
    try:
        mapping = load_mapping(db, args.map, args.register) if args.map else None
        sheet = one_sheet(db, args.register, Path(args.file), sheet=args.sheet, header_row=args.header_row,
                          mapping=mapping)
        result = import_workbook(db, actor, Path(args.file), community=args.community, create_missing=True,
                                 dry_run=args.dry_run, sheets=[sheet])
    except (ImportRefused, ImportRejected) as err:
        return _import_refused(err, "未导入任何数据")
    print(result.report)
    print(result.summary)
    return 0


def _import_refused(err: Exception, nothing: str) -> int:
    """A refused import on stderr: the reason, or each problem under one line saying nothing was kept."""
    problems = getattr(err, "problems", None)
    if problems is None:
        print(str(err), file=sys.stderr)
        return 2
    print(f"校验未通过，{nothing}（{len(problems)} 个问题）：", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 2


def cmd_import_workbook(args) -> int:
    from app.admin.backup import enable_auto
    from app.exchange.import_mapping import load_mapping
    from app.exchange.import_workbook import import_workbook
    from app.exchange.importer import ImportRefused, ImportRejected

    db = _open(args)
    enable_auto(db)  # a backup before the import writes (not for --dry-run)
    try:
        mappings = [load_mapping(db, m) for m in args.map or []]
        result = import_workbook(db, cli_actor(), Path(args.file), mappings=mappings, community=args.community,
                                 create_missing=args.create_missing, dry_run=args.dry_run)
    except (ImportRefused, ImportRejected) as err:
        return _import_refused(err, "工作簿中的数据一行也未导入")
    print(result.report)
    print(result.summary)
    return 0


def cmd_sql(args) -> int:
    from app.analysis.sql_console import ReadOnlyViolation, run_read_only

    url = database_url(args.db)
    db = _open(args, migrate=False, read_only=Path(url).exists())
    try:
        columns, rows = run_read_only(db, args.query)
    except ReadOnlyViolation as err:
        print(str(err), file=sys.stderr)
        return 2
    from app.exchange.excel import defuse

    # text a spreadsheet would run as a formula gets a leading ' (the output is often opened in Excel)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([defuse(v) if isinstance(v, str) else v for v in row] for row in rows)
    return 0


def cmd_migrate_to(args) -> int:
    from app.admin.migrate_to import MigrationRefused, migrate_to, report_text

    source = database_url(args.db)
    print(f"正在把 {source} 复制到 PostgreSQL……", flush=True)
    try:
        reports = migrate_to(source, args.url, replace=args.replace)
    except MigrationRefused as err:
        print(str(err), file=sys.stderr)
        return 2
    print(report_text(reports))
    return 0 if all(r.ok for r in reports) else 1


def cmd_backup(args) -> int:
    from app.admin.backup import BUSY_HINT, BackupError, write_backup

    url = database_url(args.db)
    try:
        db = _open(args, migrate=False, read_only=not url.startswith("postgres") and Path(url).exists())
    except DatabaseBusy as err:
        print(str(err), file=sys.stderr)
        print(BUSY_HINT, file=sys.stderr)
        return 3
    try:
        info = write_backup(db, Path(args.out), "manual", args.note or "命令行备份")
    except BackupError as err:
        print(str(err), file=sys.stderr)
        return 2
    finally:
        db.close()
    print(f"已备份 {len(info.tables)} 张表、{info.rows:,} 行到 {info.path}（{info.size / 1024 / 1024:.1f} MB），"
          f"校验文件 {info.path / 'SHA256SUMS'}")
    return 0


def cmd_restore(args) -> int:
    from app.admin.backup import BackupError, restore, restore_text

    target = database_url(args.db)
    try:
        report = restore(Path(args.dir), target, force=args.force)
    except BackupError as err:
        print(str(err), file=sys.stderr)
        return 2
    print(f"已把备份 {args.dir} 恢复到 {redacted(target)}。")
    print(restore_text(report))
    return 0 if all(r.ok for r in report) else 1


def cmd_bills(args) -> int:
    from app.fees import billing
    from app.saving.changes import SaveRejected

    if args.period is None:
        print("出账需要 --period 年-月，例如 2026-07", file=sys.stderr)
        return 2
    try:
        billing.check_period(args.period)
    except ValueError as err:
        print(str(err), file=sys.stderr)
        return 2
    db = _open(args)
    communities = [(c, n) for c, n in db.rows(
        "SELECT id, name FROM communities WHERE deleted_at IS NULL ORDER BY id")
        if args.community in (None, c)]
    if not communities:
        print(f"没有编号为 {args.community} 的小区", file=sys.stderr)
        return 2
    for community_id, name in communities:
        try:
            preview = billing.preview_bill_run(db, community_id, args.period)
        except SaveRejected as err:  # a formula or a shared meter that cannot be billed: nothing written
            print(f"{name}（{community_id}）{args.period} 出账已停止：\n{err}", file=sys.stderr)
            return 2
        print(f"{name}（{community_id}）{args.period} 出账预览：将新增 {len(preview.lines)} 张账单，"
              f"合计 {preview.total} 元；本期已有 {preview.already_billed} 张（跳过）；上期 {preview.previous}")
        for b in preview.buildings.itertuples(index=False):
            print(f"  楼栋 {b.building}：{b.households} 户，上期 {b.previous_bills} 张 {b.previous_amount} 元，"
                  f"本次 {b.bills} 张 {b.amount} 元，差额 {b.difference} 元")
        for kind, group in preview.changes.groupby("kind", sort=False):
            shown = "、".join(group["code"].head(10)) + ("……" if len(group) > 10 else "")
            print(f"  {kind} {len(group)} 户：{shown}")
    if args.dry_run:
        print("只是预览（--dry-run），没有写入。")
        return 0
    from app.admin.backup import BackupError

    names = "、".join(name for _, name in communities)
    try:  # every community in one transaction: all billed, or none
        added = billing.generate_bills_for(db, cli_actor(), [c for c, _ in communities], args.period)
    except (SaveRejected, BackupError) as err:
        print(f"出账未完成：{err}\n没有任何小区出账（{names} 均未写入），改正后重新运行即可。", file=sys.stderr)
        return 2
    for community_id, name in communities:
        print(f"{name}（{community_id}）已出账 {added[community_id]} 张。")
    print(f"{args.period} 出账完成：{names} 在同一事务中全部出账。")
    return 0


def cmd_derived(args) -> int:
    from app.saving import derived

    db = _open(args)
    if args.action == "rebuild":
        derived.rebuild(db)
        print("已从台账重算：" + "、".join(derived.labels().values()) + "。")
    differing = {t: n for t, n in derived.differences(db).items() if n}
    if differing:
        print("与台账不一致：" + "；".join(f"{derived.labels()[t]} {n:,} 行" for t, n in differing.items())
              + "。请运行 wuye derived rebuild", file=sys.stderr)
        return 1
    print("、".join(derived.labels().values()) + "与台账一致。")
    return 0


def cmd_report(args) -> int:
    from app.analysis.reports import BadPeriod, monthly_report

    db = _open(args)
    try:
        sheets = monthly_report(db, cli_actor(), args.period, Path(args.out), community_id=args.community)
    except BadPeriod as err:
        print(str(err), file=sys.stderr)
        return 2
    print(f"已生成 {args.period} 业委会月度报告：{args.out}（{len(sheets)} 个工作表：{'、'.join(sheets)}）")
    return 0


def cmd_nocodb(args) -> int:
    """NocoDB sync (README «NocoDB»): push/pull a register, publish/pull the intake forms."""
    from app.sync import nocodb

    try:
        link = nocodb.link_from_env(args.url, args.token, args.base)
        db = _open(args)
        actor = cli_actor()
        if args.action in ("push", "pull"):
            if not args.register:
                print(f"请指定台账名，例如 wuye nocodb {args.action} households", file=sys.stderr)
                return 2
            run = nocodb.push if args.action == "push" else nocodb.pull
            report = run(db, actor, link, args.register)
            print(report.summary)
            for issue in [*report.refused, *report.conflicts]:
                print(f"  {issue}")
            return 1 if report.refused or report.conflicts else 0
        if args.action == "forms":
            for register, url in nocodb.publish_forms(db, actor, link).items():
                print(f"{nocodb.INTAKES[register].title}：{url}")
            return 0
        if args.action == "intake":
            for register in nocodb.INTAKES:
                print(nocodb.pull_intake(db, actor, link, register).summary)
            return 0
        for line in nocodb.pull_everything(db, actor, link):  # sync: everything, as the app does
            print(line)
        return 0
    except nocodb.NocoDBError as err:
        print(str(err), file=sys.stderr)
        return 2


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
    p.add_argument("--as-of", type=_as_of, help="演示数据的“今天” 年-月-日（默认今天；同一日期生成相同数据）")
    p = add("serve", cmd_serve, "启动网页应用")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--demo", action="store_true", help="数据库还没有房屋数据时先生成演示数据（截至今天）")
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
    p.add_argument("--history", action="store_true",
                   help="按历史记录导入：保留文件中的状态（已关闭的报修单、已作废的收据等），只新增行，仅管理员")
    p.add_argument("--dry-run", action="store_true", help="只校验，不写入")
    p.add_argument("--error-report", metavar="XLSX", help="校验未通过时，把标出错误的文件写到这里")
    p.add_argument("--map", metavar="MAPPING",
                   help="导入映射：.toml 文件，或在导入页面保存的映射名称（列对应、常量、取值对照、合并、拆分、四舍五入）")
    p.add_argument("--create-missing", action="store_true",
                   help="文件中引用了还没有的部门、楼栋时一并新建（默认只列出缺少的，不导入）")
    p = add("import-workbook", cmd_import_workbook,
            "导入整个工作簿：按表头认出每个工作表是哪个台账，按依赖顺序全部导入，全部通过才写入")
    p.add_argument("file", help=".xlsx 或 .xls 工作簿（每个工作表一个台账，如楼栋单元、房屋信息、业主信息）")
    p.add_argument("--map", action="append", metavar="MAPPING",
                   help="导入映射（.toml 文件或已保存的映射名称），用于它所写的台账或工作表（sheet）；可写多次")
    p.add_argument("--community", help="默认小区（编号或名称）：填补空的小区列，并区分同名的关联数据")
    p.add_argument("--create-missing", action="store_true",
                   help="文件中引用了还没有的部门、楼栋时一并新建（默认只列出缺少的，不导入）")
    p.add_argument("--dry-run", action="store_true", help="只校验，不写入")
    p = add("bills", cmd_bills, "收费：出账（bills generate --period 2026-07）")
    p.add_argument("action", choices=["generate"], help="generate：按已审批的收费标准出账")
    p.add_argument("--period", help="账期 年-月，例如 2026-07")
    p.add_argument("--community", type=int, help="只为这个小区出账（编号；默认全部小区）")
    p.add_argument("--dry-run", action="store_true", help="只预览各楼栋与上期的对比和变化，不写入")
    p = add("derived", cmd_derived, "保存时维护的派生数据（账单累计、报修单统计要素）：check 与台账核对，rebuild 重算")
    p.add_argument("action", choices=["check", "rebuild"])
    p = add("report", cmd_report, "报告：业委会月度报告（report monthly --period 2026-09 --out 报告.xlsx）")
    p.add_argument("kind", choices=["monthly"], help="monthly：业委会月度报告")
    p.add_argument("--period", required=True, help="月份 年-月，例如 2026-09（按该月最后一天的数据计算）")
    p.add_argument("--out", required=True, help="输出文件 .xlsx")
    p.add_argument("--community", type=int, help="只含这个小区（编号；默认全部小区）")
    p = add("sql", cmd_sql, "执行只读 SQL，输出带表头的 CSV")
    p.add_argument("query")
    p = add("user", cmd_user, "用户：add 添加、list 列出、passwd 重设密码、unlock 解锁、disable 停用")
    p.add_argument("action", choices=["add", "list", "passwd", "unlock", "disable"])
    p.add_argument("name", nargs="?", help="用户名")
    p.add_argument("--admin", action="store_true", help="添加为管理员")
    p.add_argument("--role", default="客服", help="角色：管理员、经理、客服、财务、维修、保安、业委会")
    p.add_argument("--communities", help="可见小区编号，逗号分隔（默认全部）")
    p.add_argument("--password", help="密码（供脚本使用；不给则提示输入，不回显）")
    p = add("migrate-to", cmd_migrate_to, "把 DuckDB 文件（--db）的全部数据复制到 PostgreSQL 并逐表核对")
    p.add_argument("url", help="目标库，例如 postgresql://wuye:密码@127.0.0.1:5432/wuye")
    p.add_argument("--replace", action="store_true", help="目标库已有数据时清空后重新复制")
    p = add("nocodb", cmd_nocodb, "NocoDB：push/pull 台账，forms 发布住户报修与投诉表单，intake 受理表单，sync 全部拉取")
    p.add_argument("action", choices=["push", "pull", "forms", "intake", "sync"])
    p.add_argument("register", nargs="?", help="台账名（push/pull），例如 households、owners")
    p.add_argument("--url", help="NocoDB 地址（默认环境变量 WUYE_NOCODB_URL）")
    p.add_argument("--token", help="NocoDB API 令牌（默认环境变量 WUYE_NOCODB_TOKEN）")
    p.add_argument("--base", help="NocoDB 中的 base 名（默认 WUYE_NOCODB_BASE 或 wuye）")
    p = add("backup", cmd_backup, "把整个数据库备份到一个目录（一致快照，附 SHA256 校验文件）")
    p.add_argument("--out", required=True, metavar="DIR", help="备份目录（新建或空目录）")
    p.add_argument("--note", help="备注，写入备份清单")
    p = add("restore", cmd_restore, "校验备份目录并恢复到 --db 指定的数据库（默认不覆盖已有数据）")
    p.add_argument("dir", metavar="DIR", help="wuye backup 写出的备份目录")
    p.add_argument("--force", action="store_true", help="目标库已有数据时仍用备份覆盖")
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
