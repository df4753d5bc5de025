"""Bench: the facilities rule views (and v_todo) in DuckDB against the same rules in pandas.

Prints figures; not a test. Run:  .venv/bin/python bench/rules.py [--scale 1.0] [--runs 3] [--keep DIR]

Data (scale 1.0): 100 communities, 50,000 fire-equipment items, 30,000 assets with 1,000,000
maintenance records, 20,000 stock items with 5,000,000 movements, 10,000 contracts, 50,000
archives with 200,000 loans; a few communities override parameters. Generated with SQL range()
straight into a scratch DuckDB file (bench data need not go through the save path).

For each rule: DuckDB time = median of --runs runs of `SELECT * FROM <rule>_as_of(as_of)` into
Arrow; pandas time = the same rule written idiomatically in vectorised pandas over DataFrames
already in memory (loading them is timed separately); results are checked equal. Then peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import smoke  # noqa: E402

AS_OF = date(2026, 11, 25)
COMMUNITIES = 100
TABLES = (
    "settings",
    "fire_equipment",
    "assets",
    "maintenance_records",
    "contracts",
    "stock_items",
    "stock_movements",
    "archives",
    "archive_loans",
)


# -- data ---------------------------------------------------------------------------------------
def build_database(path: Path, scale: float) -> dict[str, int]:
    """Schema through the app (migrations, default settings); bulk rows straight in SQL."""
    from app.access.permissions import Actor
    from app.settings import ensure_defaults
    from app.storage.db import open_database

    n = {
        "fire_equipment": 50_000,
        "assets": 30_000,
        "maintenance_records": 1_000_000,
        "stock_items": 20_000,
        "stock_movements": 5_000_000,
        "contracts": 10_000,
        "archives": 50_000,
        "archive_loans": 200_000,
    }
    n = {k: max(COMMUNITIES, int(v * scale)) for k, v in n.items()}
    db = open_database(str(path))
    ensure_defaults(db, Actor("bench", source="任务"))
    ref = f"DATE '{AS_OF.isoformat()}'"
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO communities (id, name) SELECT i + 1, '测试小区' || (i + 1) FROM range(?) t(i)",
            [COMMUNITIES],
        )
        top = cur.execute("SELECT max(id) FROM settings").fetchone()[0]
        cur.execute(  # overrides in every tenth community
            """INSERT INTO settings (id, key, value, value_type, community_id)
               SELECT ? + row_number() OVER (), k, v, '整数', c
               FROM (VALUES ('fire.check_days', '20'), ('contract.warn_days', '90'),
                            ('asset.maintenance_days.电梯', '14'), ('fire.scrap_years.干粉灭火器', '8'))
                    s(k, v), range(1, ?, 10) r(c)""",
            [top, COMMUNITIES + 1],
        )
        cur.execute(
            f"""INSERT INTO fire_equipment (id, equip_no, community_id, type, location, high_risk_location,
                                            quantity, produced_on, last_checked_on, last_serviced_on, status)
               SELECT i + 1, 'XF-' || lpad(CAST(i AS VARCHAR), 6, '0'), i % ? + 1,
                      ['干粉灭火器', '干粉灭火器', '干粉灭火器', '干粉灭火器', '水基型灭火器', '二氧化碳灭火器',
                       '洁净气体灭火器', '消火栓', '烟感探测器', '应急照明', '疏散指示', '防火门'
                      ][CAST(hash(i) % 12 AS INTEGER) + 1],
                      '位置' || (i % 500), hash(i * 3) % 10 = 0, 1 + CAST(hash(i * 5) % 3 AS INTEGER),
                      {ref} - CAST(30 + hash(i * 7) % 4700 AS INTEGER),
                      CASE WHEN hash(i * 11) % 20 = 0 THEN NULL
                           ELSE {ref} - CAST(hash(i * 13) % 45 AS INTEGER) END,
                      CASE WHEN hash(i * 17) % 3 = 0 THEN NULL
                           ELSE {ref} - CAST(hash(i * 19) % 900 AS INTEGER) END,
                      CASE hash(i * 23) % 50 WHEN 0 THEN '送修' WHEN 1 THEN '报废' ELSE '在用' END
               FROM range(?) t(i)""",
            [COMMUNITIES, n["fire_equipment"]],
        )
        cur.execute(
            f"""INSERT INTO assets (id, asset_no, community_id, name, category, install_date, status,
                                    maintenance_interval_days, inspection_valid_until)
               SELECT i + 1, 'A-' || i, i % ? + 1, '设备' || i, category, {ref} - CAST(hash(i * 3) % 3000 AS INTEGER),
                      CASE hash(i * 5) % 40 WHEN 0 THEN '停用' WHEN 1 THEN '报废' ELSE '在用' END,
                      CASE WHEN category IN ('配电', '给排水', '消防') AND hash(i * 7) % 2 = 0
                           THEN [30, 90, 180][CAST(hash(i * 11) % 3 AS INTEGER) + 1] END,
                      CASE WHEN category = '电梯' THEN {ref} + CAST(hash(i * 13) % 400 AS INTEGER) - 30 END
               FROM (SELECT i, ['电梯', '电梯', '二次供水水箱', '配电', '给排水', '消防', '计量', '智能化',
                                '办公设备', '其他'][CAST(hash(i) % 10 AS INTEGER) + 1] AS category
                     FROM range(?) t(i))""",
            [COMMUNITIES, n["assets"]],
        )
        cur.execute(
            f"""INSERT INTO maintenance_records (id, asset_id, done_on, kind, cost)
               SELECT i + 1, hash(i) % ? + 1, {ref} + 10 - CAST(hash(i * 3) % 740 AS INTEGER), '保养',
                      CAST((hash(i * 5) % 100000) / 100.0 AS DECIMAL(12, 2))
               FROM range(?) t(i)""",
            [n["assets"], n["maintenance_records"]],
        )
        cur.execute(
            f"""INSERT INTO contracts (id, contract_no, community_id, title, kind, counterparty, start_on, end_on,
                                       status)
               SELECT i + 1, 'HT-' || i, i % ? + 1, '合同' || i, '分包', '单位' || (i % 300),
                      {ref} - 400, {ref} + CAST(hash(i) % 800 AS INTEGER) - 100,
                      ['履行中', '履行中', '履行中', '已到期', '已续签'][CAST(hash(i * 3) % 5 AS INTEGER) + 1]
               FROM range(?) t(i)""",
            [COMMUNITIES, n["contracts"]],
        )
        cur.execute(
            """INSERT INTO stock_items (id, community_id, code, name, unit, safety_stock)
               SELECT i + 1, i % ? + 1, 'WZ-' || i, '物品' || i, '个', CAST(hash(i) % 50 AS DECIMAL(12, 3))
               FROM range(?) t(i)""",
            [COMMUNITIES, n["stock_items"]],
        )
        cur.execute(
            """INSERT INTO stock_movements (id, stock_item_id, moved_at, direction, qty, unit_price)
               SELECT i + 1, hash(i) % ? + 1,
                      TIMESTAMP '2025-11-26 00:00:00' + to_minutes(CAST(hash(i * 3) % 527040 AS BIGINT)),
                      direction,
                      CASE WHEN direction = '盘点调整' THEN CAST(hash(i * 5) % 5 AS DECIMAL(12, 3)) - 2
                           ELSE CAST(1 + hash(i * 5) % 20 AS DECIMAL(12, 3)) END,
                      CASE WHEN direction = '入库' THEN CAST((100 + hash(i * 7) % 100000) / 100.0 AS DECIMAL(10, 4))
                      END
               FROM (SELECT i, CASE WHEN hash(i * 11) % 20 < 9 THEN '入库' WHEN hash(i * 11) % 20 < 19 THEN '出库'
                                    ELSE '盘点调整' END AS direction FROM range(?) t(i))""",
            [n["stock_items"], n["stock_movements"]],
        )
        cur.execute(
            """INSERT INTO archives (id, archive_no, community_id, category, title, confidentiality)
               SELECT i + 1, 'DA-' || i, i % ? + 1, '工程图纸', '图纸' || i,
                      ['公开', '内部', '保密'][CAST(hash(i) % 3 AS INTEGER) + 1]
               FROM range(?) t(i)""",
            [COMMUNITIES, n["archives"]],
        )
        cur.execute(
            f"""INSERT INTO archive_loans (id, archive_id, borrower, borrowed_on, due_on, returned_on)
               SELECT i + 1, hash(i) % ? + 1, '借阅人' || (i % 1000), b, b + 14,
                      CASE WHEN hash(i * 5) % 10 = 0 THEN NULL ELSE b + CAST(hash(i * 7) % 30 AS INTEGER) END
               FROM (SELECT i, {ref} - CAST(hash(i * 3) % 700 AS INTEGER) AS b FROM range(?) t(i))""",
            [n["archives"], n["archive_loans"]],
        )
        for table in ("fire_equipment", "assets", "maintenance_records", "stock_movements"):
            cur.execute(
                f"UPDATE {table} SET deleted_at = TIMESTAMP '2026-01-01' WHERE id % 997 = 0"
            )
    db.close()
    return n


# -- pandas: the same rules -----------------------------------------------------------------------
def settings_lookup(settings: pd.DataFrame, community: pd.Series, key: pd.Series) -> pd.Series:
    """The value of key for each community: its own row, else the global row (as setting_int)."""
    live = settings[settings["deleted_at"].isna()]
    glob = live[live["community_id"].isna()].set_index("key")["value"]
    own = live[live["community_id"].notna()].assign(
        community_id=lambda f: f["community_id"].astype("int64")
    )
    own = own.set_index(["community_id", "key"])["value"]
    wanted = pd.MultiIndex.from_arrays([community.to_numpy(), key.to_numpy()])
    value = pd.Series(own.reindex(wanted).to_numpy(), index=community.index)
    value = value.fillna(pd.Series(glob.reindex(key.to_numpy()).to_numpy(), index=community.index))
    return pd.to_numeric(value)


def add_years(day: pd.Series, years: pd.Series) -> pd.Series:
    """day + years as DuckDB does it (29 February -> 28 February)."""
    ok = day.notna() & years.notna()
    d, y = day[ok], years[ok].astype("int64")
    year = d.dt.year + y
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    dom = d.dt.day.where(~((d.dt.month == 2) & (d.dt.day == 29) & ~leap), 28)
    out = pd.Series(pd.NaT, index=day.index, dtype="datetime64[us]")
    out[ok] = pd.to_datetime(pd.DataFrame({"year": year, "month": d.dt.month, "day": dom}))
    return out


def days(n) -> pd.Series:
    return pd.to_timedelta(n, unit="D")


def pandas_fire(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    s, fe = t["settings"], t["fire_equipment"]
    e = fe[fe["deleted_at"].isna() & (fe["status"] == "在用")].copy()
    cid = e["community_id"]
    risky = e["high_risk_location"].fillna(False).astype(bool)
    e["check_days"] = np.where(
        risky,
        settings_lookup(s, cid, pd.Series("fire.check_days_high_risk", index=e.index)),
        settings_lookup(s, cid, pd.Series("fire.check_days", index=e.index)),
    )
    first = settings_lookup(s, cid, "fire.service_first_years." + e["type"])
    every = settings_lookup(s, cid, "fire.service_every_years." + e["type"])
    scrap = settings_lookup(s, cid, "fire.scrap_years." + e["type"])
    e["next_check_due"] = e["last_checked_on"].fillna(e["produced_on"]) + days(e["check_days"])
    e["next_service_due"] = add_years(e["produced_on"], first).where(
        e["last_serviced_on"].isna(), add_years(e["last_serviced_on"], every)
    )
    e["scrap_due"] = add_years(e["produced_on"], scrap)
    e["state"] = np.select(
        [e["scrap_due"] <= as_of, e["next_service_due"] <= as_of, e["next_check_due"] <= as_of],
        ["待报废", "待维修", "待检查"],
        "正常",
    )
    e["due_on"] = np.select(
        [e["state"] == "待报废", e["state"] == "待维修", e["state"] == "待检查"],
        [e["scrap_due"], e["next_service_due"], e["next_check_due"]],
        e[["next_check_due", "next_service_due", "scrap_due"]].min(axis=1),
    )
    e["due_on"] = pd.to_datetime(e["due_on"])
    e["days_left"] = (e["due_on"] - as_of).dt.days
    return e.rename(columns={"id": "fire_equipment_id"})


def pandas_assets(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    s, a, m = t["settings"], t["assets"], t["maintenance_records"]
    a = a[a["deleted_at"].isna() & (a["status"] == "在用")].copy()
    cid = a["community_id"]
    a["interval_days"] = a["maintenance_interval_days"].fillna(
        settings_lookup(s, cid, "asset.maintenance_days." + a["category"])
    )
    warn = settings_lookup(s, cid, pd.Series("asset.warn_days", index=a.index))
    cert_warn = settings_lookup(s, cid, pd.Series("asset.certificate_warn_days", index=a.index))
    last = m[m["deleted_at"].isna() & (m["done_on"] <= as_of)].groupby("asset_id")["done_on"].max()
    a["last_done_on"] = a["id"].map(last)
    a = a[a["interval_days"].notna() | a["inspection_valid_until"].notna()]
    warn, cert_warn = warn[a.index], cert_warn[a.index]
    a["next_due"] = a["last_done_on"].fillna(a["install_date"]) + days(a["interval_days"])
    a["state"] = np.select(
        [
            a["next_due"] < as_of,
            a["inspection_valid_until"] <= as_of + days(cert_warn),
            a["next_due"] <= as_of + days(warn),
        ],
        ["逾期", "证书到期", "待维保"],
        "正常",
    )
    a["due_on"] = pd.to_datetime(
        np.select(
            [a["state"].isin(["逾期", "待维保"]), a["state"] == "证书到期"],
            [a["next_due"], a["inspection_valid_until"]],
            a[["next_due", "inspection_valid_until"]].min(axis=1),
        )
    )
    a["days_left"] = (a["due_on"] - as_of).dt.days
    return a.rename(columns={"id": "asset_id"})


def pandas_contracts(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    c = t["contracts"]
    c = c[c["deleted_at"].isna() & (c["status"] == "履行中")].copy()
    c["warn_days"] = settings_lookup(
        t["settings"], c["community_id"], pd.Series("contract.warn_days", index=c.index)
    )
    c = c[c["end_on"] <= as_of + days(c["warn_days"])].copy()
    c["days_left"] = (c["end_on"] - as_of).dt.days
    return c.rename(columns={"id": "contract_id"})


def pandas_stock(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    items, m = t["stock_items"], t["stock_movements"]
    m = m[m["deleted_at"].isna() & (m["moved_at"] < as_of + pd.Timedelta(days=1))]
    inbound, outbound, adjust = (m["direction"] == d for d in ("入库", "出库", "盘点调整"))
    sums = (
        pd.DataFrame(
            {
                "stock_item_id": m["stock_item_id"],
                "in_qty": m["qty"].where(inbound, 0.0),
                "out_qty": m["qty"].where(outbound, 0.0),
                "adjust_qty": m["qty"].where(adjust, 0.0),
                "in_value": (m["qty"] * m["unit_price"]).where(inbound, 0.0),
            }
        )
        .groupby("stock_item_id")
        .sum()
    )
    b = items[items["deleted_at"].isna()].join(sums, on="id")
    b[["in_qty", "out_qty", "adjust_qty"]] = b[["in_qty", "out_qty", "adjust_qty"]].fillna(0.0)
    b["on_hand"] = b["in_qty"] - b["out_qty"] + b["adjust_qty"]
    b["avg_price"] = (b["in_value"] / b["in_qty"].where(b["in_qty"] > 0)).round(4)
    b["value"] = (b["on_hand"] * b["avg_price"]).round(2)
    b["below_safety"] = b["on_hand"] < b["safety_stock"].fillna(0.0)
    return b.rename(columns={"id": "stock_item_id"})


def pandas_loans(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    loans, archives = t["archive_loans"], t["archives"]
    live = archives[archives["deleted_at"].isna()][["id", "community_id", "archive_no", "title"]]
    loans = loans[
        loans["deleted_at"].isna()
        & (loans["returned_on"].isna() | (loans["returned_on"] > as_of))
        & (loans["borrowed_on"] <= as_of)
        & (loans["due_on"] < as_of)
    ]
    out = loans.merge(live, left_on="archive_id", right_on="id", suffixes=("", "_archive"))
    out["days_overdue"] = (as_of - out["due_on"]).dt.days
    return out.rename(columns={"id": "archive_loan_id"})


def plain(qty: pd.Series) -> pd.Series:
    return qty.round(3).astype(str).str.rstrip("0").str.rstrip(".")


def pandas_todo(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    fire = pandas_fire(t, as_of)
    fire = fire[fire["state"] != "正常"]
    assets = pandas_assets(t, as_of)
    assets = assets[assets["state"] != "正常"]
    contracts = pandas_contracts(t, as_of)
    stock = pandas_stock(t, as_of)
    stock = stock[stock["below_safety"]]
    loans = pandas_loans(t, as_of)
    words = {
        "待报废": "已到报废年限",
        "待维修": "到期维修",
        "待检查": "到期检查",
        "逾期": "维保逾期",
        "证书到期": "检验证书到期",
        "待维保": "即将到期维保",
    }
    parts = [
        pd.DataFrame(
            {
                "community_id": fire["community_id"],
                "area": "设备与消防",
                "what": "消防器材 "
                + fire["equip_no"]
                + " "
                + fire["type"]
                + "（"
                + fire["location"].fillna("")
                + "）"
                + fire["state"].map(words),
                "ref_table": "fire_equipment",
                "ref_id": fire["fire_equipment_id"],
                "due_on": fire["due_on"],
                "severity": np.where(fire["state"] == "待报废", "高", "中"),
            }
        ),
        pd.DataFrame(
            {
                "community_id": assets["community_id"],
                "area": "设备与消防",
                "what": "设备 "
                + assets["asset_no"]
                + " "
                + assets["name"]
                + "（"
                + assets["category"]
                + "）"
                + assets["state"].map(words),
                "ref_table": "assets",
                "ref_id": assets["asset_id"],
                "due_on": assets["due_on"],
                "severity": np.select(
                    [
                        assets["state"] == "逾期",
                        (assets["state"] == "证书到期") & (assets["due_on"] < as_of),
                        assets["state"] == "证书到期",
                    ],
                    ["高", "高", "中"],
                    "低",
                ),
            }
        ),
        pd.DataFrame(
            {
                "community_id": contracts["community_id"],
                "area": "合同与工程",
                "what": "合同 "
                + contracts["contract_no"]
                + " "
                + contracts["title"]
                + "（"
                + contracts["counterparty"]
                + "）"
                + np.where(contracts["days_left"] < 0, "已过结束日仍在履行", "即将到期"),
                "ref_table": "contracts",
                "ref_id": contracts["contract_id"],
                "due_on": contracts["end_on"],
                "severity": np.where(contracts["days_left"] < 0, "高", "低"),
            }
        ),
        pd.DataFrame(
            {
                "community_id": stock["community_id"],
                "area": "采购与库存",
                "what": "库存 "
                + stock["code"]
                + " "
                + stock["name"]
                + " 结存 "
                + plain(stock["on_hand"])
                + stock["unit"].fillna("")
                + "，低于安全库存 "
                + plain(stock["safety_stock"])
                + stock["unit"].fillna(""),
                "ref_table": "stock_items",
                "ref_id": stock["stock_item_id"],
                "due_on": as_of,
                "severity": np.where(stock["on_hand"] <= 0, "中", "低"),
            }
        ),
        pd.DataFrame(
            {
                "community_id": loans["community_id"],
                "area": "档案与公文",
                "what": "档案 "
                + loans["archive_no"]
                + "《"
                + loans["title"]
                + "》借阅人 "
                + loans["borrower"]
                + " 逾期未还",
                "ref_table": "archive_loans",
                "ref_id": loans["archive_loan_id"],
                "due_on": loans["due_on"],
                "severity": "中",
            }
        ),
    ]
    todo = pd.concat(parts, ignore_index=True)
    late = (as_of - todo["due_on"]).dt.days
    suffix = np.select(
        [todo["ref_table"] == "stock_items", late > 0, late == 0],
        ["", "，已逾期 " + late.astype(str) + " 天", "，今天到期"],
        "，还有 " + (-late).astype(str) + " 天",
    )
    todo["item"] = todo["what"] + suffix
    todo["days_overdue"] = late
    return todo.drop(columns="what")


# -- comparing --------------------------------------------------------------------------------
CHECKS = {  # rule -> (macro, pandas function, key, columns compared)
    "v_fire_equipment_status": (
        "fire_equipment_status_as_of",
        pandas_fire,
        ["fire_equipment_id"],
        ["state", "next_check_due", "next_service_due", "scrap_due", "due_on", "days_left"],
    ),
    "v_asset_maintenance_due": (
        "asset_maintenance_due_as_of",
        pandas_assets,
        ["asset_id"],
        ["interval_days", "last_done_on", "next_due", "state", "due_on", "days_left"],
    ),
    "v_contract_expiring": (
        "contract_expiring_as_of",
        pandas_contracts,
        ["contract_id"],
        ["warn_days", "days_left"],
    ),
    "v_stock_balance": (
        "stock_balance_as_of",
        pandas_stock,
        ["stock_item_id"],
        ["on_hand", "avg_price", "value", "below_safety"],
    ),
    "v_archive_loans_overdue": (
        "archive_loans_overdue_as_of",
        pandas_loans,
        ["archive_loan_id"],
        ["community_id", "days_overdue"],
    ),
    "v_todo": (
        "todo_as_of",
        pandas_todo,
        ["ref_table", "ref_id"],
        ["community_id", "area", "item", "due_on", "days_overdue", "severity"],
    ),
}


def normalised(frame: pd.DataFrame, key: list[str], columns: list[str]) -> pd.DataFrame:
    out = frame[key + columns].copy()
    for col in columns:
        if out[col].dtype == object and len(out) and isinstance(out[col].dropna().iloc[0], date):
            out[col] = pd.to_datetime(out[col])
        if str(out[col].dtype).startswith("datetime64"):
            out[col] = out[col].astype("datetime64[us]")
        elif (
            out[col].dtype == object and len(out) and not isinstance(out[col].dropna().iloc[0], str)
        ):
            out[col] = pd.to_numeric(out[col])
        elif out[col].dtype.kind in "iuf":
            out[col] = out[col].astype("float64")
    return out.sort_values(key).reset_index(drop=True)


def same(duck: pd.DataFrame, pand: pd.DataFrame, key: list[str], columns: list[str]) -> bool:
    a, b = normalised(duck, key, columns), normalised(pand, key, columns)
    if len(a) != len(b):
        print(f"    rows differ: duckdb {len(a)}, pandas {len(b)}")
        return False
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, atol=1e-4)
    return True


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="folder for the scratch database (kept)")
    smoke.flag(parser, scale=0.01, runs=1)
    args = smoke.parse(parser)

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wuye-bench-rules-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rules.duckdb"
    path.unlink(missing_ok=True)
    try:
        started = time.perf_counter()
        sizes = build_database(path, args.scale)
        print(
            f"data: {', '.join(f'{k} {v:,}' for k, v in sizes.items())}; {COMMUNITIES} communities"
        )
        print(
            f"  generated in {time.perf_counter() - started:.1f} s, file {path.stat().st_size / 1e6:.0f} MB"
        )

        from app.storage.db import open_database

        db = open_database(str(path))
        cur = db.cursor()
        duck: dict[str, tuple[float, pd.DataFrame]] = {}
        for rule, (macro, _, _, _) in CHECKS.items():
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                table = cur.execute(f"SELECT * FROM {macro}(?)", [AS_OF]).arrow().read_all()
                times.append(time.perf_counter() - t0)
            duck[rule] = (statistics.median(times), table.to_pandas())
        t0 = time.perf_counter()
        cur.execute("SELECT * FROM v_todo").arrow().read_all()
        view_todo = time.perf_counter() - t0
        duck_peak = peak_mb()

        t0 = time.perf_counter()
        frames = {name: cur.execute(f"SELECT * FROM {name}").df() for name in TABLES}
        load = time.perf_counter() - t0
        db.close()
        as_of = pd.Timestamp(AS_OF)
        print(
            f"\nas_of {AS_OF}; duckdb: median of {args.runs} runs into Arrow; pandas: in-memory frames "
            f"(loading all {len(TABLES)} tables into pandas took {load:.2f} s, not counted)\n"
        )
        print(f"{'rule':<26}{'rows':>9}{'duckdb s':>10}{'pandas s':>10}{'ratio':>8}  equal")
        for rule, (_, fn, key, columns) in CHECKS.items():
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                result = fn(frames, as_of)
                times.append(time.perf_counter() - t0)
            seconds, frame = duck[rule]
            pandas_seconds = statistics.median(times)
            equal = same(frame, result, key, columns)
            print(
                f"{rule:<26}{len(frame):>9,}{seconds:>10.3f}{pandas_seconds:>10.3f}"
                f"{pandas_seconds / seconds:>7.1f}x  {'yes' if equal else 'NO'}"
            )
        print(f"\nv_todo as the view (current_date): {view_todo:.3f} s")
        print(
            f"peak RSS: {duck_peak:.0f} MB after the DuckDB runs, {peak_mb():.0f} MB after pandas "
            "(tables loaded into pandas)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
