"""一户一档: everything the office knows about one household, as sections and as a timeline.

The sections are the registers that refer to `households` (owners, bills, receipts, repairs,
complaints, deposits, survey forms, and whatever register is added later with a
`household_id`-style reference), in the order of SECTION_ORDER, then any others. The timeline
is `v_household_timeline` (the registers it words by hand), plus every other register that refers
to the household directly or through one register that does (a decoration's checks), dated by
its first date column, plus the audit log's changes to the household and its people. Personal data is masked for roles without the right
(`app.access.permissions.sees_personal_data`), in the page and in the exported workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from app import registers
from app.access.permissions import Actor, can, require
from app.exchange.report_book import Column, ReportBook
from app.reading.queries import community_filter_sql, labels_for, mask_frame
from app.registers.model import DATE_TYPES, Register, money_text
from app.saving import audit
from app.storage.db import Database, q

# Registers shown first, in this order; any other register referring to households follows.
SECTION_ORDER = ["owners", "vehicles", "parking_spaces", "bills", "receipts", "deposits",
                 "household_credits", "work_orders", "complaints", "decorations", "vacant_checks",
                 "keys", "move_ins", "survey_responses", "committee_members", "meter_readings"]
SECTION_ROWS = 500  # newest rows per section on the page and in the workbook
HIDDEN = {"household_id", "community_id"}
# Registers v_household_timeline words itself; every other register is found from the definitions,
# except logs that would bury the story: allocations of a receipt (the receipt is there), the gate's
# log of a leased space, the store's issues to a repair.
WORDED_BY_VIEW = {"households", "owners", "bills", "receipts", "bill_adjustments", "deposits", "work_orders",
                  "work_order_visits", "complaints", "survey_responses", "attachments"}
NOT_EVENTS = {"payments", "parking_events", "stock_movements"}
DESCRIBED_TYPES = {"text", "enum", "money", "quantity", "area", "integer"}
TIMELINE_ROWS = 500  # newest rows of one register in the timeline
AUDIT_KIND = "修改记录"


@dataclass
class Section:
    register: str
    title: str
    rows: pd.DataFrame  # Chinese headers, refs as labels, personal data masked
    kinds: dict[str, str]  # header -> field type
    total: int


@dataclass
class HouseholdFile:
    household_id: int
    header: dict[str, Any]  # 小区, 房号, …
    balance: dict[str, Any]  # outstanding, overdue, late fee, credit
    timeline: pd.DataFrame
    sections: list[Section]


def household_refs() -> list[tuple[Register, str]]:
    """(register, its column referring to households), in SECTION_ORDER then by name."""
    found = []
    for reg in registers.catalog().values():
        for f in reg.refs():
            if f.ref == "households":
                found.append((reg, f.name))
                break
    rank = {n: i for i, n in enumerate(SECTION_ORDER)}
    return sorted(found, key=lambda rc: (rank.get(rc[0].name, len(rank)), rc[0].position, rc[0].name))


def dated_by(reg: Register) -> str | None:
    """The column that dates a register's row: the first date in its order, else its first date field."""
    for column in reg.order_columns:
        if reg.has_field(column) and reg.field(column).type in DATE_TYPES:
            return column
    return next((f.name for f in reg.fields if f.type in DATE_TYPES), None)


def timeline_sources() -> list[tuple[Register, str, Register | None, str | None]]:
    """(register, its date column, the household-referring register it goes through or None, the
    column of the register referring to it) for every register the view does not word itself."""
    direct = {reg.name: (reg, col) for reg, col in household_refs()}
    out = []
    for reg in sorted(registers.catalog().values(), key=lambda r: r.name):
        day = dated_by(reg)
        if reg.name in WORDED_BY_VIEW | NOT_EVENTS or day is None:
            continue
        if reg.name in direct:
            out.append((reg, day, None, direct[reg.name][1]))
            continue
        via = next(((direct[f.ref][0], f.name) for f in reg.refs() if f.ref in direct and f.ref != reg.name), None)
        if via:
            out.append((reg, day, *via))
    return out


def find_households(db: Database, actor: Actor, text: str, community_id: int | None = None,
                    limit: int = 30) -> dict[int, str]:
    """Households whose code contains the text (or whose current owner is named so): id -> label.

    Exact matches first (the code itself, or the owner's name), then codes starting with the text,
    so typing a full 房号 puts that house at the top, ahead of 13-3-1201 for 3-1201.
    """
    reg = registers.get("households")
    require(actor, reg.name, "view", reg.label)
    scope, params = community_filter_sql(reg, "h", actor)
    sql = ("SELECT h.id, c.name || '/' || h.code FROM households h JOIN communities c ON c.id = h.community_id "
           "WHERE h.deleted_at IS NULL" + scope)
    if community_id is not None:
        sql += " AND h.community_id = ?"
        params = [*params, community_id]
    text = text.strip()
    order = " ORDER BY c.name, h.code LIMIT ?"
    if text:
        named = "h.id IN (SELECT o.household_id FROM owners o WHERE o.deleted_at IS NULL AND o.name = ?)"
        sql += " AND (h.code ILIKE ? OR " + named + ")"
        params = [*params, f"%{text}%", text]
        order = (" ORDER BY CASE WHEN lower(h.code) = lower(?) OR " + named + " THEN 0 "
                 "WHEN starts_with(lower(h.code), lower(?)) THEN 1 ELSE 2 END, c.name, h.code LIMIT ?")
        params = [*params, text, text, text]
    return dict(db.rows(sql + order, [*params, limit]))


def linked(db: Database, actor: Actor, household_id: int) -> dict[int, str]:
    """{id: label} of the household a link names, when it exists and the actor may see it; else {}."""
    reg = registers.get("households")
    require(actor, reg.name, "view", reg.label)
    scope, params = community_filter_sql(reg, "h", actor)
    return dict(db.rows(
        "SELECT h.id, c.name || '/' || h.code FROM households h JOIN communities c ON c.id = h.community_id "
        "WHERE h.deleted_at IS NULL AND h.id = ?" + scope, [household_id, *params]))


def labels(db: Database, ids: list[int]) -> dict[int, str]:
    """id -> "小区/房号" of households."""
    return labels_for(db, registers.get("households"), ids)


def load(db: Database, actor: Actor, household_id: int, as_of: date | None = None) -> HouseholdFile | None:
    """The household's file, or None when it does not exist or the actor may not see it."""
    households = registers.get("households")
    require(actor, households.name, "view", households.label)
    scope, params = community_filter_sql(households, "h", actor)
    head = db.query(
        "SELECT h.*, c.name AS community, b.code AS building FROM households h "
        "JOIN communities c ON c.id = h.community_id LEFT JOIN buildings b ON b.id = h.building_id "
        "WHERE h.id = ? AND h.deleted_at IS NULL" + scope, [household_id, *params])
    if head.empty:
        return None
    as_of = as_of or db.now().date()
    h = head.iloc[0]
    header = {"小区": h["community"], "楼栋": h["building"], "房号": h["code"], "建筑面积(㎡)": h["area"],
              "用途": h["usage"], "状态": h["status"], "交房日期": h["handover_date"],
              "入住日期": h["move_in_date"], "备注": h["note"]}
    return HouseholdFile(
        household_id=household_id,
        header={k: (None if _missing(v) else v) for k, v in header.items()},
        balance=balance(db, household_id, as_of),
        timeline=timeline(db, actor, household_id, as_of),
        sections=[s for s in (section(db, actor, reg, col, household_id) for reg, col in household_refs())],
    )


def balance(db: Database, household_id: int, as_of: date) -> dict[str, Any]:
    """Billed, paid and outstanding on all bills at as_of, and the overdue part (bills due before
    as_of, as v_arrears counts them) with the oldest due date; the late fee accrued on it (v_arrears'
    arrears_of for this household); prepaid credit."""
    due = db.query(
        "SELECT coalesce(sum(due_net), 0) AS billed, coalesce(sum(paid_net), 0) AS paid, "
        "coalesce(sum(greatest(outstanding, 0)), 0) AS outstanding, "
        "count(*) FILTER (WHERE outstanding > 0) AS open_bills, "
        "coalesce(sum(outstanding) FILTER (WHERE outstanding > 0 AND due_date < CAST(? AS DATE)), 0) AS overdue, "
        "min(due_date) FILTER (WHERE outstanding > 0 AND due_date < CAST(? AS DATE)) AS oldest "
        "FROM bill_balance_of(CAST(? AS DATE), CAST(? AS BIGINT))",
        [as_of, as_of, as_of, household_id]).iloc[0]
    credit = db.scalar("SELECT coalesce(sum(amount), 0) FROM household_credits "
                       "WHERE household_id = ? AND deleted_at IS NULL AND credited_at < CAST(? AS DATE) + 1",
                       [household_id, as_of]) if "household_credits" in registers.catalog() else 0
    late_fee = db.scalar("SELECT coalesce(sum(late_fee), 0) FROM arrears_of(CAST(? AS DATE), CAST(? AS BIGINT))",
                         [as_of, household_id])
    oldest = None if _missing(due["oldest"]) else due["oldest"]
    return {"billed": due["billed"], "paid": due["paid"], "outstanding": due["outstanding"],
            "open_bills": int(due["open_bills"]), "overdue": due["overdue"], "oldest_due": oldest,
            "days_overdue": (as_of - oldest).days if oldest else 0, "late_fee": late_fee, "credit": credit}


def timeline(db: Database, actor: Actor, household_id: int, as_of: date) -> pd.DataFrame:
    """Every event of the household up to as_of, newest first: happened_at, area, what, ref_table,
    ref_id, register (the kind of event a page filters by: a register's label, or 修改记录) and link."""
    labels = {name: reg.label for name, reg in registers.catalog().items()}
    frame = db.query(
        "SELECT happened_at, area, what, ref_table, ref_id FROM household_timeline_as_of(CAST(? AS DATE)) "
        "WHERE household_id = ?", [as_of, household_id])
    frame["register"] = [labels.get(t, t) for t in frame["ref_table"]]
    parts = [frame, *(_register_events(db, actor, reg, day, via, column, household_id, as_of)
                      for reg, day, via, column in timeline_sources() if can(actor, reg.name, "view")),
             _changes(db, actor, household_id, as_of)]
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else frame
    frame["happened_at"] = pd.to_datetime(frame["happened_at"])
    frame = frame.sort_values(["happened_at", "ref_table", "ref_id"], ascending=[False, True, True],
                              ignore_index=True)
    frame["link"] = ["/" + t + "?id=" + str(i) for t, i in zip(frame["ref_table"], frame["ref_id"])]
    return frame


def timeline_kinds(frame: pd.DataFrame) -> list[str]:
    """The kinds of event in a timeline (register labels, and 修改记录), for a filter."""
    return sorted(set(frame["register"]))


def _register_events(db: Database, actor: Actor, reg: Register, day: str, via: Register | None, column: str,
                     household_id: int, as_of: date) -> pd.DataFrame:
    """One register's rows of the household as events: dated by `day`, worded by its own fields."""
    shown = [f for f in reg.fields if f.type in DESCRIBED_TYPES and f.name not in HIDDEN][:8]
    cols = ", ".join("t." + q(f.name) for f in shown)
    if via is None:
        source, where = q(reg.name) + " t", "t." + q(column) + " = ?"
    else:
        link = next(f.name for f in via.refs() if f.ref == "households")
        source = q(reg.name) + " t JOIN " + q(via.name) + " p ON p.id = t." + q(column) + " AND p.deleted_at IS NULL"
        where = "p." + q(link) + " = ?"
    raw = db.query("SELECT t.id, t." + q(day) + " AS happened_at" + (", " + cols if cols else "") + " FROM " + source
                   + " WHERE " + where + " AND t.deleted_at IS NULL AND t." + q(day) + " IS NOT NULL AND t." + q(day)
                   + " < CAST(? AS DATE) + 1 ORDER BY t." + q(day) + " DESC LIMIT ?",
                   [household_id, as_of, TIMELINE_ROWS])
    if raw.empty:
        return pd.DataFrame()
    raw = mask_frame(reg, raw, actor)
    words = []
    for _, row in raw.iterrows():
        parts = [f"{f.label} {money_text(row[f.name]) if f.type == 'money' else _plain(row[f.name])}"
                 for f in shown if not _missing(row[f.name]) and str(row[f.name]).strip()][:4]
        words.append(reg.label + ("：" + "，".join(parts) if parts else ""))
    return pd.DataFrame({"happened_at": raw["happened_at"], "area": reg.area, "what": words,
                         "ref_table": reg.name, "ref_id": raw["id"], "register": reg.label})


def _changes(db: Database, actor: Actor, household_id: int, as_of: date) -> pd.DataFrame:
    """Changes and deletions of the household and of its people, from the audit log (masked)."""
    found = []
    if can(actor, "households", "view"):
        found += [("房屋", e) for e in audit.entries(db, actor, "households", household_id)]
    if can(actor, "owners", "view"):
        for oid, name in db.rows("SELECT id, name FROM owners WHERE household_id = ? ORDER BY id", [household_id]):
            found += [(f"业主/住户 {name}", e) for e in audit.entries(db, actor, "owners", oid)]
    rows = [{"happened_at": e.changed_at, "area": "小区与房屋", "register": AUDIT_KIND,
             "what": f"{e.action}{who}：{e.summary}" + (f"（{e.actor}）" if e.actor else ""),
             "ref_table": e.register, "ref_id": e.row_id}
            for who, e in found if e.action in ("修改", "删除", "恢复") and e.changed_at.date() <= as_of]
    return pd.DataFrame(rows)


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def section(db: Database, actor: Actor, reg: Register, column: str, household_id: int) -> Section:
    require(actor, reg.name, "view", reg.label)
    # a household's history reads newest first, whatever direction the register's own list uses
    order = ", ".join("t." + q(c) + " DESC NULLS LAST" for c in reg.order_columns if c != column)
    raw = db.query("SELECT t.* FROM " + q(reg.name) + " t WHERE t." + q(column) + " = ? AND t.deleted_at IS NULL "
                   "ORDER BY " + order + " LIMIT ?", [household_id, SECTION_ROWS + 1])
    total = len(raw)  # SECTION_ROWS + 1 means "more than SECTION_ROWS"
    raw = raw.head(SECTION_ROWS)
    raw = mask_frame(reg, raw, actor)
    shown = pd.DataFrame({"编号": raw["id"]})
    kinds = {"编号": "integer"}
    for f in reg.fields:
        if f.name == column or f.name in HIDDEN:
            continue
        values = raw[f.name]
        if f.type == "ref":
            labels = labels_for(db, registers.get(f.ref), [int(v) for v in values.dropna()])
            values = [None if _missing(v) else labels.get(int(v), str(v)) for v in values]
        shown[f.label] = list(values)
        kinds[f.label] = f.type
    return Section(reg.name, reg.label, shown, kinds, int(total))


def _missing(v: Any) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


# -- the workbook --------------------------------------------------------------------------------
KIND_OF_TYPE = {"money": "money", "area": "number", "quantity": "number", "price": "number", "rate": "rate",
                "integer": "integer", "date": "date", "timestamp": "timestamp", "boolean": "boolean"}


def export_workbook(db: Database, actor: Actor, household_id: int, out: str | Path | IO[bytes],
                    as_of: date | None = None) -> None:
    """The whole file as one workbook: 概况, 时间线, and a sheet per section (masked as on screen)."""
    require(actor, "households", "export", "房屋档案")
    file = load(db, actor, household_id, as_of)
    if file is None:
        raise KeyError(f"没有编号为 {household_id} 的房屋")
    name = f"{file.header['小区']} {file.header['房号']}"
    book = ReportBook(out, f"一户一档 {name}", created=datetime.combine(as_of or db.now().date(), datetime.min.time()))
    sheet = book.sheet("概况", f"一户一档：{name}")
    sheet.pairs([(k, v, "date" if isinstance(v, date) else "text") for k, v in file.header.items()])
    b = file.balance
    sheet.heading("费用")
    sheet.pairs([("应收合计(元)", b["billed"], "money"), ("实收合计(元)", b["paid"], "money"),
                 ("未缴(元)", b["outstanding"], "money"), ("其中逾期欠费(元)", b["overdue"], "money"),
                 ("逾期天数", b["days_overdue"], "integer"), ("滞纳金(元)", b["late_fee"], "money"),
                 ("预存余额(元)", b["credit"], "money")])
    sheet = book.sheet("时间线", f"{name} 时间线")
    sheet.table(file.timeline, [Column("happened_at", "时间", "timestamp"), Column("area", "业务范围"),
                                Column("what", "事件"), Column("register", "类别"), Column("ref_id", "行编号", "integer")])
    for s in file.sections:
        if s.rows.empty:
            continue
        sheet = book.sheet(s.title, f"{name} {s.title}", f"最近 {len(s.rows)} 条" if s.total > len(s.rows) else "")
        sheet.table(s.rows, [
            Column(c, c, KIND_OF_TYPE.get(s.kinds.get(c, "text"), "text")) for c in s.rows.columns])
    book.close()
