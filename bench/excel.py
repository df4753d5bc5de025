"""Bench: Excel import and export, against pandas with openpyxl.

Prints figures; not a test. Run:  .venv/bin/python bench/excel.py [--part import|export|both]
[--rows 100000] [--export-rows 1000000] [--runs 3] [--keep DIR]

Import half. A workbook of --rows rows x 12 columns of 消防器材台帐 (fire_equipment: codes,
小区 by name, enums, a boolean, an integer, three dates of which one is text, free text) is
written once with xlsxwriter. Then, each into a fresh DuckDB file holding the two 小区:
  (a) python-calamine's raw read of the sheet (to_python): the floor any reader starts from;
  (b) wuye's import: read (calamine), header found, columns mapped, cells read by rule,
      references resolved, then apply_changes validates every row and writes all of them
      in one audited transaction;
  (c) pandas.read_excel(engine="openpyxl"), then the same rows handed to the same
      apply_changes (the same validation and write);
and (b) once more as a dry run (everything validated, rolled back).
Goal: (c) / (b) >= 3. Also printed: (b) / (a), and (b) split into reading and saving.
Each figure is the best of --runs runs (the machine may be shared).

Export half. --export-rows households (bench/grid_page.py's estate: 小区 and 楼栋 shown by
label, codes, decimal areas, enums, dates, notes) exported to .xlsx, each way in a process of
its own so its peak memory (ru_maxrss) is its own:
  (d) wuye: `wuye export households` (excel.export_register: labels, typed cells, masks,
      formula-safe text, header style, frozen header, autofilter, column widths; streamed);
  (e) pandas: the same rows read into a DataFrame, then DataFrame.to_excel(engine="openpyxl")
      with the same frozen header, autofilter and column widths;
  (f) DuckDB's raw `COPY (same SELECT) TO 'x.xlsx' (FORMAT xlsx)` (excel extension): no styles.
Goal: (e) / (d) >= 5 with (d)'s peak under 300 MB; (d) / (f) printed.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import registers  # noqa: E402
from app.access.permissions import Actor  # noqa: E402
from app.exchange import importer  # noqa: E402
from app.saving.changes import RowChange, apply_changes  # noqa: E402
from app.storage.db import open_database  # noqa: E402
from bench import smoke  # noqa: E402

REGISTER = "fire_equipment"
TYPES = ("干粉灭火器", "水基型灭火器", "二氧化碳灭火器", "消火栓", "烟感探测器", "应急照明")
ACTOR = Actor("bench", source="任务")


def write_workbook(path: Path, rows: int) -> float:
    """The bench workbook; returns seconds taken."""
    import xlsxwriter

    t0 = time.perf_counter()
    reg = registers.get(REGISTER)
    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet(reg.label)
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, [f.label for f in reg.fields])  # 12 fields, 12 columns
    for k in range(rows):
        r = k + 1
        ws.write_string(r, 0, f"MH-{k:06d}")
        ws.write_string(r, 1, "阳光花园" if k % 2 else "翠湖苑")
        ws.write_string(r, 2, TYPES[k % len(TYPES)])
        ws.write_string(r, 3, f"{k % 20 + 1}号楼{k % 3 + 1}单元{k % 6 + 1}层")
        ws.write_string(r, 4, "是" if k % 10 == 0 else "否")
        ws.write_number(r, 5, 1 + k % 4)
        ws.write_string(r, 6, "MFZ/ABC4")
        ws.write_datetime(r, 7, datetime(2020 + k % 5, 1 + k % 12, 1 + k % 28), day)
        ws.write_datetime(r, 8, datetime(2026, 1 + k % 9, 1 + k % 28), day)
        ws.write_string(r, 9, f"2025/{1 + k % 12}/{1 + k % 28}")  # a date typed as text
        ws.write_string(r, 10, "在用")
        ws.write_string(r, 11, "每月检查压力表")
    wb.close()
    return time.perf_counter() - t0


def fresh_database(folder: Path, name: str):
    for leftover in folder.glob(f"{name}.duckdb*"):
        leftover.unlink()
    db = open_database(str(folder / f"{name}.duckdb"))
    apply_changes(db, ACTOR, "communities",
                  [RowChange("insert", values={"name": n}) for n in ("阳光花园", "翠湖苑")])
    return db


def raw_calamine(path: Path) -> tuple[float, int]:
    from python_calamine import CalamineWorkbook

    t0 = time.perf_counter()
    with CalamineWorkbook.from_path(str(path)) as wb:
        rows = wb.get_sheet_by_index(0).to_python()
    return time.perf_counter() - t0, len(rows) - 1


def wuye_import(path: Path, folder: Path, dry_run: bool) -> tuple[float, float, int]:
    """(seconds reading and planning, seconds validating and saving, rows in the table)."""
    db = fresh_database(folder, "dry" if dry_run else "wuye")
    t0 = time.perf_counter()
    plan = importer.plan_import(db, ACTOR, REGISTER, path)
    t1 = time.perf_counter()
    importer.run_import(db, ACTOR, plan, dry_run=dry_run)
    t2 = time.perf_counter()
    count = db.scalar(f"SELECT count(*) FROM {REGISTER}")
    db.close()
    return t1 - t0, t2 - t1, count


def pandas_import(path: Path, folder: Path) -> tuple[float, float, int]:
    """pandas.read_excel (openpyxl) then the same save path: (reading, saving, rows in table)."""
    import pandas as pd

    reg = registers.get(REGISTER)
    by_label = {f.label: f.name for f in reg.fields}
    db = fresh_database(folder, "pandas")
    t0 = time.perf_counter()
    frame = pd.read_excel(path, engine="openpyxl")
    changes = []
    names = [by_label[c] for c in frame.columns]
    for n, values in enumerate(frame.itertuples(index=False), start=2):
        row = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in zip(names, values)}
        changes.append(RowChange("insert", values=row, where=f"Excel 第 {n} 行"))
    t1 = time.perf_counter()
    apply_changes(db, ACTOR.via("导入"), REGISTER, changes)
    t2 = time.perf_counter()
    count = db.scalar(f"SELECT count(*) FROM {REGISTER}")
    db.close()
    return t1 - t0, t2 - t1, count


def best(runs: int, measure) -> tuple:
    """The run with the smallest total time, of `runs` runs of measure() -> (seconds, ..., extra)."""
    results = [measure() for _ in range(runs)]
    return min(results, key=lambda r: sum(x for x in r if isinstance(x, float)))


EXPORT_SQL = """
    SELECT h.id AS "编号", c.name AS "小区", b.code AS "楼栋", h.code AS "房号",
           h.area AS "建筑面积(㎡)", h.usage AS "用途", h.status AS "状态",
           h.handover_date AS "交房日期", h.move_in_date AS "入住日期", h.note AS "备注"
    FROM households h JOIN communities c ON c.id = h.community_id
    LEFT JOIN buildings b ON b.id = h.building_id
    WHERE h.deleted_at IS NULL ORDER BY h.id"""


def export_child(way: str, db_path: str, out: str) -> None:
    """Run one export way in this process and print 'seconds rows peak_mb' on stdout."""
    import resource

    t0 = time.perf_counter()
    if way == "wuye":
        from app.exchange import excel

        db = open_database(db_path, migrate=False)  # the export is audited
        rows = excel.export_register(db, ACTOR, "households", out)
        db.close()
    elif way == "pandas":
        import duckdb
        from openpyxl.utils import get_column_letter

        con = duckdb.connect(db_path, read_only=True)
        frame = con.execute(EXPORT_SQL).df()
        con.close()
        import pandas as pd

        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name="房屋档案", index=False, freeze_panes=(1, 0))
            ws = writer.sheets["房屋档案"]
            ws.auto_filter.ref = ws.dimensions
            for c, name in enumerate(frame.columns, start=1):
                sample = [str(v) for v in frame[name].head(1000)]
                width = max([len(name) * 2, *(len(v) for v in sample)])
                ws.column_dimensions[get_column_letter(c)].width = min(width + 2, 50)
        rows = len(frame)
    else:  # raw COPY
        import duckdb

        from app.storage.db import load_extension

        con = duckdb.connect(db_path, read_only=True)
        load_extension(con, "excel")
        con.execute("COPY (" + EXPORT_SQL + ") TO '" + out.replace("'", "''") + "' (FORMAT xlsx, HEADER true)")
        rows = con.execute("SELECT count(*) FROM households WHERE deleted_at IS NULL").fetchone()[0]
        con.close()
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{seconds} {rows} {peak_mb}")


def run_export(way: str, db_path: Path, out: Path) -> tuple[float, int, float]:
    import subprocess

    done = subprocess.run([sys.executable, __file__, "--child", way, str(db_path), str(out)],
                          check=True, capture_output=True, text=True)
    seconds, rows, peak = done.stdout.split()[-3:]
    return float(seconds), int(rows), float(peak)


def export_half(folder: Path, rows: int, runs: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from grid_page import build_database

    db_path = folder / "households.duckdb"
    if not db_path.exists():
        t0 = time.perf_counter()
        build_database(db_path, rows)
        print(f"Estate: {rows:,} households built in {time.perf_counter() - t0:.1f} s; best of {runs} runs below")
    figures = {}
    for way, title in (("copy", "(f) DuckDB COPY … (FORMAT xlsx), raw"), ("wuye", "(d) wuye export, formatted"),
                       ("pandas", "(e) pandas + openpyxl, formatted")):
        out = folder / f"export-{way}.xlsx"
        best_run = min((run_export(way, db_path, out) for _ in range(runs if way != "pandas" else 1)),
                       key=lambda r: r[0])
        figures[way] = best_run
        seconds, count, peak = best_run
        print(f"{title:38s} {seconds:7.2f} s   {count:,} rows, {count / seconds:,.0f} rows/s, "
              f"peak {peak:,.0f} MB, file {out.stat().st_size / 1e6:.0f} MB")
    ours, theirs, raw = figures["wuye"][0], figures["pandas"][0], figures["copy"][0]
    print(f"(e)/(d) = {theirs / ours:.2f}x  (goal >= 5x);  (d) peak {figures['wuye'][2]:,.0f} MB "
          f"(goal < 300 MB);  (d)/(f) = {ours / raw:.2f}x the raw COPY")


def import_half(folder: Path, rows: int, runs: int) -> None:
    path = folder / "fire_equipment.xlsx"
    print(f"Workbook: {rows:,} rows x 12 columns, written in {write_workbook(path, rows):.1f} s "
          f"({path.stat().st_size / 1e6:.1f} MB); best of {runs} runs below")
    raw, raw_rows = best(runs, lambda: raw_calamine(path))
    print(f"(a) python-calamine raw read        {raw:7.2f} s   ({raw_rows:,} rows)")
    read, save, count = best(runs, lambda: wuye_import(path, folder, dry_run=False))
    ours = read + save
    assert count == rows, count
    print(f"(b) wuye import                     {ours:7.2f} s   read+plan {read:.2f} s, "
          f"validate+write {save:.2f} s, {rows / ours:,.0f} rows/s")
    dry_read, dry_save, dry_count = best(runs, lambda: wuye_import(path, folder, dry_run=True))
    assert dry_count == 0, dry_count
    print(f"    wuye dry run (validate only)    {dry_read + dry_save:7.2f} s   "
          f"validate+roll back {dry_save:.2f} s")
    p_read, p_save, p_count = best(runs, lambda: pandas_import(path, folder))
    theirs = p_read + p_save
    assert p_count == rows, p_count
    print(f"(c) pandas.read_excel + same save   {theirs:7.2f} s   read {p_read:.2f} s, "
          f"validate+write {p_save:.2f} s")
    print(f"(c)/(b) = {theirs / ours:.2f}x  (goal >= 3x);  (b)/(a) = {ours / raw:.1f}x the raw read; "
          f"reading only: pandas {p_read / read:.1f}x slower than wuye's read+plan")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        export_child(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("import", "export", "both"), default="both")
    parser.add_argument("--rows", type=int, default=100_000, help="import rows (default 100,000)")
    parser.add_argument("--export-rows", type=int, default=1_000_000, help="export rows (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--keep", help="folder to keep the workbook and databases in")
    smoke.flag(parser, rows=300, export_rows=2_000, runs=1)
    args = smoke.parse(parser)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wuye-bench-excel-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if args.part in ("import", "both"):
            import_half(folder, args.rows, args.runs)
        if args.part in ("export", "both"):
            export_half(folder, args.export_rows, args.runs)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
