"""The monthly report for the owners' committee (业委会月度报告): one workbook, a sheet per topic.

Every figure comes from a rule's as-of macro at the period's last day (`collection_rate_as_of`,
`arrears_as_of`, `repair_stats_as_of`, …), and the workbook's creation time is that day too,
so the report of a past month is the same file whenever it is produced. A topic is a sheet
name, a title, the function that writes it and the rule views it needs; a topic whose views
are not installed says so on its sheet. Adding a topic is one line in TOPICS.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

import pandas as pd

from app.access.permissions import Actor, require
from app.analysis.dashboard import scope
from app.exchange.report_book import Column, ReportBook, Sheet
from app.reading import views
from app.storage.db import Database


class BadPeriod(ValueError):
    pass


@dataclass
class Context:
    db: Database
    actor: Actor
    period: str  # 'YYYY-MM'
    start: date
    end: date  # as_of of every figure
    where: str  # ' AND community_id IN (…)' or ''
    params: list
    names: dict[int, str]  # community id -> name

    memo: dict = field(default_factory=dict)  # frames more than one sheet reads, computed once

    def collection(self) -> pd.DataFrame:
        """collection_rate_as_of at the month's end, per community and period, for the 12-month
        window: the month's table, the summary and the trend all come from this one pass."""
        if "collection" not in self.memo:
            self.memo["collection"] = self.query(
                "SELECT community_id, period, bills, billed, collected, outstanding, rate, households_billed, "
                "households_owing, household_rate FROM collection_rate_as_of(CAST(? AS DATE)) "
                "WHERE period BETWEEN ? AND ?{scope} ORDER BY community_id, period",
                [self.end, self.last_year, self.period])
        return self.memo["collection"]

    def arrears(self) -> pd.DataFrame:
        """arrears_as_of at the month's end, per community (the summary and the fees sheet)."""
        if "arrears" not in self.memo:
            self.memo["arrears"] = self.query(
                "SELECT community_id, count(*) AS households, sum(bills) AS bills, sum(outstanding) AS outstanding, "
                "sum(late_fee) AS late_fee, max(days_overdue) AS longest FROM arrears_as_of(CAST(? AS DATE)) "
                "WHERE TRUE{scope} GROUP BY community_id ORDER BY community_id", [self.end])
        return self.memo["arrears"]

    def query(self, sql: str, params: list, alias: str = "community_id") -> pd.DataFrame:
        """Rows of an as-of query limited to the report's communities, with the 小区 name added."""
        frame = self.db.query(sql.replace("{scope}", self.where.replace("community_id", alias)),
                              [*params, *self.params])
        if "community_id" in frame:
            frame.insert(0, "community", frame["community_id"].map(self.names))
        return frame

    @property
    def last_year(self) -> str:
        """The period eleven months before this one (a 12-month window ends at `period`)."""
        return self.months[0]

    @property
    def months(self) -> list[str]:
        """The 12 periods of the window, oldest first."""
        now = self.end.year * 12 + self.end.month - 1
        return [f"{n // 12}-{n % 12 + 1:02d}" for n in range(now - 11, now + 1)]

    def every_month(self, frame: pd.DataFrame, column: str, zero: tuple[str, ...]) -> pd.DataFrame:
        """`frame` with a row for each of the 12 months (a chart's axis skips none): `zero` columns
        0 in a month without rows, the others (rates) empty — a rate of nothing is not 0 %."""
        full = frame.set_index(column).reindex(self.months)
        full[list(zero)] = full[list(zero)].fillna(0)
        return full.rename_axis(column).reset_index()


def parse_period(period: str) -> tuple[date, date]:
    try:
        y, m = int(period[:4]), int(period[5:7])
        if len(period) != 7 or period[4] != "-" or not 1 <= m <= 12:
            raise ValueError
    except ValueError:
        raise BadPeriod(f"月份应写成 YYYY-MM，例如 2026-09（收到 {period!r}）") from None
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def period_totals(rates: pd.DataFrame) -> pd.DataFrame:
    """Σ billed and Σ collected of all listed communities per period (exact Decimal sums), and
    the rate as the SQL gave it: CAST(Σ collected AS DOUBLE) / CAST(Σ billed AS DOUBLE), none of 0."""
    rows = []
    for period, group in rates.groupby("period", sort=True):
        billed, collected = sum(group["billed"], Decimal(0)), sum(group["collected"], Decimal(0))
        rows.append({"period": period, "billed": billed, "collected": collected,
                     "rate": float(collected) / float(billed) if billed else None})
    return pd.DataFrame(rows, columns=["period", "billed", "collected", "rate"])


# -- topics ----------------------------------------------------------------------------------------
COMMUNITY = Column("community", "小区")


def summary(ctx: Context, sheet: Sheet) -> None:
    fees = ctx.collection()
    fees = fees[fees["period"] == ctx.period]
    arrears = ctx.arrears()
    repairs = ctx.query("SELECT community_id, orders, timely_rate, satisfaction FROM repair_stats_as_of(CAST(? AS DATE)) "
                        "WHERE month = ?{scope}", [ctx.end, ctx.period])
    complaints = ctx.query(
        "SELECT community_id, sum(received) AS received, CAST(sum(on_time) AS DOUBLE) / nullif(sum(handled), 0) AS timely "
        "FROM complaint_stats_as_of(CAST(? AS DATE)) WHERE month = ?{scope} GROUP BY community_id",
        [ctx.end, ctx.period])
    todo = ctx.query("SELECT community_id, count(*) AS items FROM todo_as_of(CAST(? AS DATE)) WHERE TRUE{scope} "
                     "GROUP BY community_id", [ctx.end])
    rows = []
    for cid, name in ctx.names.items():
        def pick(frame: pd.DataFrame, col: str, cid: int = cid):
            hit = frame.loc[frame["community_id"] == cid, col]
            return None if hit.empty or pd.isna(hit.iloc[0]) else hit.iloc[0]
        rows.append({"community": name, "billed": pick(fees, "billed"), "collected": pick(fees, "collected"),
                     "rate": pick(fees, "rate"), "arrears_households": pick(arrears, "households") or 0,
                     "arrears": pick(arrears, "outstanding") or 0, "orders": pick(repairs, "orders") or 0,
                     "repair_timely": pick(repairs, "timely_rate"), "complaints": pick(complaints, "received") or 0,
                     "complaint_timely": pick(complaints, "timely"), "todo": pick(todo, "items") or 0})
    frame = pd.DataFrame(rows)
    sheet.heading("各小区主要指标")
    placed = sheet.table(frame, [
        COMMUNITY, Column("billed", "本月应收(元)", "money"), Column("collected", "本月实收(元)", "money"),
        Column("rate", "收费率", "rate"), Column("arrears_households", "欠费户数", "integer"),
        Column("arrears", "欠费(元)", "money"), Column("orders", "报修单数", "integer"),
        Column("repair_timely", "维修及时率", "rate"), Column("complaints", "投诉件数", "integer"),
        Column("complaint_timely", "投诉及时率", "rate"), Column("todo", "月末待办事项", "integer")])
    if not frame.empty:
        sheet.chart("column", [
            {"name": "收费率", "categories": placed.range_of("community"), "values": placed.range_of("rate")},
            {"name": "维修及时率", "categories": placed.range_of("community"), "values": placed.range_of("repair_timely")},
            {"name": "投诉及时率", "categories": placed.range_of("community"), "values": placed.range_of("complaint_timely")},
        ], "各小区收费率与及时率", y_format="0%", y_max=1)


def fees(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"{ctx.period} 账期收费率（截至 {ctx.end}）")
    rate = ctx.collection()
    rate = rate[rate["period"] == ctx.period].reset_index(drop=True)
    sheet.table(rate, [COMMUNITY, Column("bills", "账单数", "integer"), Column("billed", "应收(元)", "money"),
                       Column("collected", "实收(元)", "money"), Column("outstanding", "未缴(元)", "money"),
                       Column("rate", "收费率", "rate"), Column("households_billed", "应缴户数", "integer"),
                       Column("households_owing", "未缴户数", "integer"), Column("household_rate", "户收费率", "rate")])
    # 欠费户数 means one thing in every sheet: households with a bill past due at the month's end
    # (arrears_as_of); this period's bills not yet paid are 未缴, whether or not they are due yet
    sheet.heading("近 12 个账期收费率（全部所列小区合计）")
    trend = ctx.every_month(period_totals(ctx.collection()), "period", zero=("billed", "collected"))
    placed = sheet.table(trend, [Column("period", "账期"), Column("billed", "应收(元)", "money"),
                                 Column("collected", "实收(元)", "money"), Column("rate", "收费率", "rate")])
    if not trend.empty:
        sheet.chart("line", [{"name": "收费率", "categories": placed.range_of("period"),
                              "values": placed.range_of("rate"), "marker": {"type": "circle"}}],
                    "收费率趋势", y_format="0%")
    sheet.heading(f"欠费（截至 {ctx.end}，含滞纳金）")
    arrears = ctx.arrears()
    sheet.table(arrears, [COMMUNITY, Column("households", "欠费户数", "integer"), Column("bills", "欠费账单数", "integer"),
                          Column("outstanding", "欠费(元)", "money"), Column("late_fee", "滞纳金(元)", "money"),
                          Column("longest", "最长逾期(天)", "integer")])
    if "v_arrears_ageing" in views.view_names():
        sheet.heading("欠费账龄")
        ageing = ctx.query("SELECT bucket, bucket_order, sum(bills) AS bills, sum(households) AS households, "
                           "sum(outstanding) AS outstanding FROM arrears_ageing_as_of(CAST(? AS DATE)) WHERE TRUE{scope} "
                           "GROUP BY bucket, bucket_order ORDER BY bucket_order", [ctx.end])
        placed = sheet.table(ageing, [Column("bucket", "账龄(天)"), Column("bills", "账单数", "integer"),
                                      Column("households", "户数(按小区累加)", "integer"),
                                      Column("outstanding", "欠费(元)", "money")])
        if not ageing.empty:
            sheet.chart("pie", [{"name": "欠费账龄", "categories": placed.range_of("bucket"),
                                 "values": placed.range_of("outstanding"), "data_labels": {"percentage": True}}],
                        "欠费账龄分布")
    sheet.heading(f"{ctx.period} 往期欠费清缴")
    recovery = ctx.query("SELECT community_id, arrears_at_start, recovered, remaining, recovery_rate "
                         "FROM arrears_recovery_month_of(CAST(? AS DATE)) WHERE TRUE{scope} ORDER BY community_id",
                         [ctx.end])  # = arrears_recovery_as_of's rows of the month, without its every month
    sheet.table(recovery, [COMMUNITY, Column("arrears_at_start", "月初往期欠费(元)", "money"),
                           Column("recovered", "当月清缴(元)", "money"), Column("remaining", "月末仍欠(元)", "money"),
                           Column("recovery_rate", "清缴率", "rate")])


def repairs(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"{ctx.period} 维修服务")
    stats = ctx.query("SELECT community_id, orders, arrived, on_time, timely_rate, completed, completed_on_time, "
                      "reworked, rework_rate, visited, visit_rate, satisfaction FROM repair_stats_as_of(CAST(? AS DATE)) "
                      "WHERE month = ?{scope} ORDER BY community_id", [ctx.end, ctx.period])
    sheet.table(stats, [COMMUNITY, Column("orders", "报修单数", "integer"), Column("arrived", "已到场", "integer"),
                        Column("on_time", "按时到场", "integer"), Column("timely_rate", "及时率", "rate"),
                        Column("completed", "已完成", "integer"), Column("completed_on_time", "按时完成", "integer"),
                        Column("reworked", "返修", "integer"), Column("rework_rate", "返修率", "rate"),
                        Column("visited", "已回访", "integer"), Column("visit_rate", "回访率", "rate"),
                        Column("satisfaction", "平均满意度(5分)", "number")])
    sheet.heading("按类别")
    by_kind = ctx.query("SELECT category, count(*) AS orders, count(*) FILTER (WHERE completed_at IS NOT NULL) AS completed "
                        "FROM work_order_sla_as_of(CAST(? AS DATE)) WHERE month = ?{scope} GROUP BY category "
                        "ORDER BY orders DESC, category", [ctx.end, ctx.period])
    placed = sheet.table(by_kind, [Column("category", "类别"), Column("orders", "报修单数", "integer"),
                                   Column("completed", "已完成", "integer")])
    if not by_kind.empty:
        sheet.chart("bar", [{"name": "报修单数", "categories": placed.range_of("category"),
                             "values": placed.range_of("orders")}], "本月报修类别")
    sheet.heading("近 12 个月")
    trend = ctx.query("SELECT month, sum(orders) AS orders, CAST(sum(on_time) AS DOUBLE) / nullif(sum(arrived), 0) AS timely_rate "
                      "FROM repair_stats_as_of(CAST(? AS DATE)) WHERE month BETWEEN ? AND ?{scope} GROUP BY month "
                      "ORDER BY month", [ctx.end, ctx.last_year, ctx.period])
    trend = ctx.every_month(trend, "month", zero=("orders",))
    placed = sheet.table(trend, [Column("month", "月份"), Column("orders", "报修单数", "integer"),
                                 Column("timely_rate", "及时率", "rate")])
    if not trend.empty:
        sheet.chart("column", [{"name": "报修单数", "categories": placed.range_of("month"),
                                "values": placed.range_of("orders")}], "每月报修单数")


def complaints(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"{ctx.period} 业主投诉（按类别）")
    stats = ctx.query("SELECT category, sum(received) AS received, sum(valid) AS valid, sum(handled) AS handled, "
                      "sum(on_time) AS on_time, CAST(sum(on_time) AS DOUBLE) / nullif(sum(handled), 0) AS timely_rate, "
                      "CAST(sum(handled) AS DOUBLE) / nullif(sum(valid), 0) AS handling_rate, sum(fed_back) AS fed_back "
                      "FROM complaint_stats_as_of(CAST(? AS DATE)) WHERE month = ?{scope} GROUP BY category "
                      "ORDER BY received DESC, category", [ctx.end, ctx.period])
    placed = sheet.table(stats, [Column("category", "类别"), Column("received", "受理数", "integer"),
                                 Column("valid", "有效投诉", "integer"), Column("handled", "已处理", "integer"),
                                 Column("on_time", "按时处理", "integer"), Column("timely_rate", "及时率", "rate"),
                                 Column("handling_rate", "处理率", "rate"), Column("fed_back", "已反馈", "integer")])
    if not stats.empty:
        sheet.chart("column", [{"name": "受理数", "categories": placed.range_of("category"),
                                "values": placed.range_of("received")},
                               {"name": "已处理", "categories": placed.range_of("category"),
                                "values": placed.range_of("handled")}], "本月投诉类别")
    sheet.heading("各小区")
    per = ctx.query("SELECT community_id, sum(received) AS received, sum(handled) AS handled, "
                    "CAST(sum(on_time) AS DOUBLE) / nullif(sum(handled), 0) AS timely_rate "
                    "FROM complaint_stats_as_of(CAST(? AS DATE)) WHERE month = ?{scope} GROUP BY community_id "
                    "ORDER BY community_id", [ctx.end, ctx.period])
    sheet.table(per, [COMMUNITY, Column("received", "受理数", "integer"), Column("handled", "已处理", "integer"),
                      Column("timely_rate", "及时率", "rate")])


def inspections(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"{ctx.period} 检查")
    done = ctx.query(
        "SELECT p.community_id, p.area, count(*) AS inspections, count(*) FILTER (WHERE i.result = '不合格') AS failed "
        "FROM inspections i JOIN inspection_plans p ON p.id = i.plan_id "
        "WHERE i.deleted_at IS NULL AND i.inspected_at >= CAST(? AS DATE) AND i.inspected_at < CAST(? AS DATE) + 1{scope} "
        "GROUP BY p.community_id, p.area ORDER BY p.community_id, p.area", [ctx.start, ctx.end], alias="p.community_id")
    placed = sheet.table(done, [COMMUNITY, Column("area", "检查区域"), Column("inspections", "检查次数", "integer"),
                                Column("failed", "不合格", "integer")])
    if not done.empty:
        sheet.chart("column", [{"name": "检查次数", "categories": placed.range_of("area"),
                                "values": placed.range_of("inspections")},
                               {"name": "不合格", "categories": placed.range_of("area"),
                                "values": placed.range_of("failed")}], "本月检查")
    sheet.heading(f"检查计划逾期（截至 {ctx.end}）")
    due = ctx.query("SELECT community_id, area, item, next_due, days_overdue FROM inspection_due_as_of(CAST(? AS DATE)) "
                    "WHERE overdue{scope} ORDER BY community_id, days_overdue DESC, item", [ctx.end])
    sheet.table(due, [COMMUNITY, Column("area", "检查区域"), Column("item", "检查项目"),
                      Column("next_due", "应检日期", "date"), Column("days_overdue", "逾期天数", "integer")])
    sheet.heading("整改")
    rect = ctx.query(
        "SELECT community_id, count(*) FILTER (WHERE opened_on BETWEEN ? AND ?) AS opened, "
        "count(*) FILTER (WHERE done_at >= CAST(? AS DATE) AND done_at < CAST(? AS DATE) + 1) AS done, "
        "count(*) FILTER (WHERE verified_at >= CAST(? AS DATE) AND verified_at < CAST(? AS DATE) + 1) AS verified "
        "FROM rectifications WHERE deleted_at IS NULL{scope} GROUP BY community_id ORDER BY community_id",
        [ctx.start, ctx.end, ctx.start, ctx.end, ctx.start, ctx.end])
    sheet.table(rect, [COMMUNITY, Column("opened", "本月立项", "integer"), Column("done", "本月整改完成", "integer"),
                       Column("verified", "本月验证", "integer")])
    sheet.heading(f"逾期未整改（截至 {ctx.end}）")
    overdue = ctx.query("SELECT community_id, source, area, issue, deadline, days_overdue "
                        "FROM rectification_overdue_as_of(CAST(? AS DATE)) WHERE TRUE{scope} "
                        "ORDER BY community_id, days_overdue DESC, rectification_id", [ctx.end])
    sheet.table(overdue, [COMMUNITY, Column("source", "来源"), Column("area", "检查区域"), Column("issue", "整改问题"),
                          Column("deadline", "整改期限", "date"), Column("days_overdue", "逾期天数", "integer")])


def fire(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"消防器材状态（截至 {ctx.end}）")
    states = ctx.query("SELECT state, count(*) AS items, sum(quantity) AS quantity FROM fire_equipment_status_as_of(CAST(? AS DATE)) "
                       "WHERE TRUE{scope} GROUP BY state ORDER BY state", [ctx.end])
    placed = sheet.table(states, [Column("state", "状态"), Column("items", "器材条目", "integer"),
                                  Column("quantity", "数量", "integer")])
    if not states.empty:
        sheet.chart("pie", [{"name": "消防器材", "categories": placed.range_of("state"),
                             "values": placed.range_of("items"), "data_labels": {"value": True}}], "消防器材状态")
    checks = ctx.query("SELECT e.community_id, count(*) AS checks, count(*) FILTER (WHERE c.result <> '合格') AS failed "
                       "FROM fire_checks c JOIN fire_equipment e ON e.id = c.fire_equipment_id "
                       "WHERE c.deleted_at IS NULL AND c.checked_on BETWEEN ? AND ?{scope} GROUP BY e.community_id "
                       "ORDER BY e.community_id", [ctx.start, ctx.end], alias="e.community_id")
    sheet.heading(f"{ctx.period} 消防检查")
    sheet.table(checks, [COMMUNITY, Column("checks", "检查次数", "integer"), Column("failed", "不合格", "integer")])
    sheet.heading(f"设备维保（截至 {ctx.end}）")
    assets = ctx.query("SELECT community_id, state, count(*) AS assets FROM asset_maintenance_due_as_of(CAST(? AS DATE)) "
                       "WHERE TRUE{scope} GROUP BY community_id, state ORDER BY community_id, state", [ctx.end])
    sheet.table(assets, [COMMUNITY, Column("state", "状态"), Column("assets", "设备数", "integer")])
    sheet.heading("需处理的设备")
    due = ctx.query("SELECT community_id, asset_no, name, category, state, due_on FROM asset_maintenance_due_as_of(CAST(? AS DATE)) "
                    "WHERE state <> '正常'{scope} ORDER BY community_id, due_on, asset_no", [ctx.end])
    sheet.table(due, [COMMUNITY, Column("asset_no", "设备编号"), Column("name", "设备名称"), Column("category", "类别"),
                      Column("state", "状态"), Column("due_on", "到期日", "date")])


def contracts(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"履行中的合同（{ctx.end}）")
    active = ctx.query("SELECT community_id, kind, count(*) AS contracts, sum(amount) AS amount, sum(monthly_rent) AS rent "
                       "FROM contracts WHERE deleted_at IS NULL AND start_on <= ? AND end_on >= ? AND status <> '草拟'{scope} "
                       "GROUP BY community_id, kind ORDER BY community_id, kind", [ctx.end, ctx.start])
    placed = sheet.table(active, [COMMUNITY, Column("kind", "类别"), Column("contracts", "合同数", "integer"),
                                  Column("amount", "合同金额(元)", "money"), Column("rent", "月租合计(元)", "money")])
    if not active.empty:
        sheet.chart("bar", [{"name": "合同数", "categories": placed.range_of("kind"),
                             "values": placed.range_of("contracts")}], "合同类别")
    sheet.heading(f"即将到期或已过期仍在履行（截至 {ctx.end}）")
    expiring = ctx.query("SELECT community_id, contract_no, title, kind, counterparty, end_on, days_left "
                         "FROM contract_expiring_as_of(CAST(? AS DATE)) WHERE TRUE{scope} ORDER BY community_id, end_on, contract_no",
                         [ctx.end])
    sheet.table(expiring, [COMMUNITY, Column("contract_no", "合同编号"), Column("title", "合同名称"), Column("kind", "类别"),
                           Column("counterparty", "对方单位"), Column("end_on", "结束日期", "date"),
                           Column("days_left", "剩余天数", "integer")])
    sheet.heading("经营用房")
    premises = ctx.query("SELECT community_id, name, location, area, purpose, status, monthly_rent FROM business_premises "
                         "WHERE deleted_at IS NULL AND created_at < CAST(? AS DATE) + 1{scope} ORDER BY community_id, id",
                         [ctx.end])
    sheet.table(premises, [COMMUNITY, Column("name", "名称"), Column("location", "位置"), Column("area", "面积(㎡)", "number"),
                           Column("purpose", "用途"), Column("status", "状态"), Column("monthly_rent", "月租(元)", "money")])


def finance(ctx: Context, sheet: Sheet) -> None:
    sheet.heading(f"{ctx.period} 收支")
    month = ctx.query("SELECT direction, category, count(*) AS entries, sum(amount) AS amount FROM finance_entries "
                      "WHERE deleted_at IS NULL AND entry_date BETWEEN ? AND ?{scope} GROUP BY direction, category "
                      "ORDER BY direction DESC, amount DESC, category", [ctx.start, ctx.end])
    placed = sheet.table(month, [Column("direction", "收支"), Column("category", "类别"),
                                 Column("entries", "笔数", "integer"), Column("amount", "金额(元)", "money")])
    if not month.empty:
        sheet.chart("bar", [{"name": "金额", "categories": [placed.sheet, placed.first_row, 0, placed.last_row, 1],
                             "values": placed.range_of("amount")}], "本月收支（元）")
    sheet.heading(f"{ctx.period} 物业费收款（按收款日期）")
    fees_in = ctx.query(
        "SELECT h.community_id, count(*) AS payments, sum(p.amount) AS amount FROM payments p "
        "JOIN bills b ON b.id = p.bill_id JOIN households h ON h.id = b.household_id "
        "LEFT JOIN receipts r ON r.id = p.receipt_id "
        "WHERE p.deleted_at IS NULL AND p.paid_at >= CAST(? AS DATE) AND p.paid_at < CAST(? AS DATE) + 1 "
        "AND NOT (coalesce(r.voided, false) AND coalesce(r.voided_at, p.paid_at) < CAST(? AS DATE) + 1){scope} "
        "GROUP BY h.community_id ORDER BY h.community_id", [ctx.start, ctx.end, ctx.end], alias="h.community_id")
    sheet.table(fees_in, [COMMUNITY, Column("payments", "收款笔数", "integer"), Column("amount", "收款金额(元)", "money")])
    if "v_budget_vs_actual" in views.view_names():
        sheet.heading(f"{ctx.end.year} 年预算执行（截至 {ctx.end}）")
        budget = ctx.query("SELECT community_id, direction, category, budget, actual, used_rate FROM "
                           "budget_vs_actual_as_of(CAST(? AS DATE)) WHERE year = ?{scope} "
                           "ORDER BY community_id, direction DESC, category", [ctx.end, ctx.end.year])
        sheet.table(budget, [COMMUNITY, Column("direction", "收支"), Column("category", "类别"),
                             Column("budget", "预算(元)", "money"), Column("actual", "实际(元)", "money"),
                             Column("used_rate", "执行率", "rate")])


@dataclass(frozen=True)
class Topic:
    sheet: str
    title: str
    write: Callable[[Context, Sheet], None]
    needs: tuple[str, ...] = ()  # rule views the topic reads (beyond the core ones)


TOPICS = [
    Topic("概览", "本月概览", summary),
    Topic("收费与欠费", "收费与欠费", fees),
    Topic("维修", "维修服务", repairs),
    Topic("投诉", "业主投诉", complaints),
    Topic("检查与整改", "检查与整改", inspections, ("v_inspection_due", "v_rectification_overdue")),
    Topic("消防与设备", "消防与设备", fire),
    Topic("合同", "合同与经营用房", contracts),
    Topic("财务公开", "财务公开", finance),
]


def monthly_report(db: Database, actor: Actor, period: str, out: str | Path | IO[bytes],
                   community_id: int | None = None) -> list[str]:
    """Write the report of one month; returns the sheet names."""
    require(actor, "v_todo", "export", "业委会月度报告")  # a report of rule views: their row of the matrix
    start, end = parse_period(period)
    where, params = scope(actor, community_id)
    names = dict(db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL"
                         + where.replace("community_id", "id") + " ORDER BY id", params))
    ctx = Context(db, actor, period, start, end, where, params, names)
    who = "、".join(names.values()) or "（无小区）"
    book = ReportBook(out, f"{period} 业委会月度报告", created=datetime.combine(end, datetime.min.time()))
    installed = set(views.view_names())
    for topic in TOPICS:
        sheet = book.sheet(topic.sheet, f"{who} {period} 月度报告：{topic.title}",
                           f"统计截至 {end:%Y-%m-%d}（按当日数据计算，任何时候生成结果相同）")
        missing = [v for v in topic.needs if v not in installed]
        if missing:
            sheet.note("本系统尚未启用此项（缺少规则视图：" + "、".join(missing) + "）。")
            continue
        topic.write(ctx, sheet)
    book.close()
    return [t.sheet for t in TOPICS]


def report_file_name(period: str) -> str:
    return f"业委会月度报告-{period}.xlsx"


def default_period(today: date) -> str:
    """Last month: the latest month that has ended."""
    y, m = divmod(today.year * 12 + today.month - 2, 12)
    return f"{y}-{m + 1:02d}"
