"""The bill run's dry run, the cashier's desk (receipts, day close), period close, the database's own
keys, and the fee views added with them (v_todo_fees, v_arrears_ageing, v_collection_by_building,
v_budget_vs_actual, v_finance_disclosure), on hand-built data with the arithmetic written here.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import openpyxl
import pytest
from saving import add

from app.fees import billing, cashier, fee_documents
from app.saving.changes import RowChange, ValidationFailed, apply_changes
from app.ui import charts

D = Decimal


@pytest.fixture
def estate(db, actor) -> dict:
    c = add(db, actor, "communities", name="阳光花园", service_phone="0571-88886666")
    dept = add(db, actor, "departments", name="财务部")
    cashier_id = add(db, actor, "staff", name="钱出纳", department_id=dept, community_id=c)
    a = add(db, actor, "buildings", community_id=c, code="1")
    b = add(db, actor, "buildings", community_id=c, code="2")
    homes = {
        "a1": add(db, actor, "households", community_id=c, building_id=a, code="1-1-101", area="100.00",
                  status="已入住"),
        "a2": add(db, actor, "households", community_id=c, building_id=a, code="1-1-102", area="80.00",
                  status="已入住"),
        "b1": add(db, actor, "households", community_id=c, building_id=b, code="2-1-101", area="50.00",
                  usage="商铺", status="出租"),
    }
    for key, name in (("a1", "张三"), ("a2", "李四"), ("b1", "王五")):
        add(db, actor, "owners", household_id=homes[key], name=name, phone="13800001111")
    area = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
               status="已审批", effective_from="2026-01-01")
    water = add(db, actor, "fee_items", community_id=c, name="水费", method="按用量", unit_price="3.0000",
                meter="水", usage_scope="商铺", status="已审批", effective_from="2026-01-01")
    return {"community": c, "cashier": cashier_id, "buildings": (a, b), "area": area, "water": water,
            "today": db.now().date(), **homes}


def test_amount_in_words_on_receipts():
    assert cashier.amount_in_words(D("1234.50")) == "壹仟贰佰叁拾肆元伍角整"
    assert cashier.amount_in_words(D("1001")) == "壹仟零壹元整"
    assert cashier.amount_in_words(D("10010.00")) == "壹万零壹拾元整"
    assert cashier.amount_in_words(D("60000.07")) == "陆万元零柒分"
    assert cashier.amount_in_words(D("0.05")) == "伍分"
    assert cashier.amount_in_words(D("0")) == "零元整"
    assert cashier.amount_in_words(D("100000")) == "壹拾万元整"


def test_dry_run_compares_buildings_with_the_previous_period_and_lists_changes(db, actor, estate):
    add(db, actor, "meter_readings", household_id=estate["b1"], meter="水", period="2026-06",
        prev_reading="10", curr_reading="20")
    assert billing.generate_bills(db, actor, estate["community"], "2026-06") == 4
    # 2026-06: a1 100 × 2 = 200.00, a2 80 × 2 = 160.00 (building 1: 360.00);
    #          b1 50 × 2 = 100.00 + water 10 × 3 = 30.00 (building 2: 130.00)
    apply_changes(db, actor, "households", [RowChange("update", row_id=estate["a2"], values={"area": "90.00"})])
    new = add(db, actor, "households", community_id=estate["community"], building_id=estate["buildings"][0],
              code="1-1-103", area="60.00", status="已入住")  # no owner either
    back = add(db, actor, "meter_readings", household_id=estate["b1"], meter="水", period="2026-07",
               prev_reading="20", curr_reading="25")
    with db.transaction() as cur:  # went backwards, as a row from before the entry rule: not billed
        cur.execute("UPDATE meter_readings SET curr_reading = 15 WHERE id = ?", [back])
    preview = billing.preview_bill_run(db, estate["community"], "2026-07")
    assert preview.previous == "2026-06"
    rows = {r.building: r for r in preview.buildings.itertuples(index=False)}
    # building 1 now: 200.00 + 180.00 (90 × 2) + 120.00 (60 × 2) = 500.00 against 360.00
    assert (rows["1"].households, rows["1"].previous_bills, rows["1"].previous_amount) == (3, 2, D("360.00"))
    assert (rows["1"].bills, rows["1"].amount, rows["1"].difference) == (3, D("500.00"), D("140.00"))
    # building 2: 100.00 only (no water bill) against 130.00
    assert (rows["2"].bills, rows["2"].amount, rows["2"].difference) == (1, D("100.00"), D("-30.00"))
    assert preview.total == D("600.00") and preview.already_billed == 0
    found = {(r.code, r.kind) for r in preview.changes.itertuples(index=False)}
    assert found == {("1-1-102", "面积变更"), ("1-1-103", "新增房屋"), ("1-1-103", "无业主"),
                     ("2-1-101", "读数不能出账")}
    assert db.scalar("SELECT count(*) FROM bills WHERE period = '2026-07'") == 0  # nothing written
    done = []
    assert billing.generate_bills(db, actor, estate["community"], "2026-07",
                                  progress=lambda d, t: done.append((d, t))) == 4
    assert done == [(0, 4), (3, 4), (4, 4)]  # one building at a time
    again = billing.preview_bill_run(db, estate["community"], "2026-07")
    assert again.lines.empty and again.already_billed == 4
    assert db.scalar("SELECT amount FROM bills WHERE period = '2026-07' AND household_id = ?", [new]) == D("120.00")


def test_missing_meter_reading_is_listed(db, actor, estate):
    preview = billing.preview_bill_run(db, estate["community"], "2026-07")
    assert [(r.code, r.kind) for r in preview.changes.itertuples(index=False)] == [("2-1-101", "缺少抄表")]


def test_database_refuses_a_second_bill_and_a_reused_receipt_number(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    bill_id, household, item = db.rows("SELECT id, household_id, fee_item_id FROM bills LIMIT 1")[0]
    with pytest.raises(duckdb.Error, match="(?i)duplicate|unique|constraint"), db.transaction() as cur:
        cur.execute("INSERT INTO bills (id, household_id, fee_item_id, period, amount, due_date) "
                    "VALUES (?, ?, ?, '2026-07', 1, DATE '2026-07-25')", [bill_id + 1000, household, item])
    rid = billing.take_payment(db, actor, estate["a1"], "10.00", "现金", paid_at=datetime(2026, 7, 1, 9))
    number = db.scalar("SELECT receipt_no FROM receipts WHERE id = ?", [rid])
    with pytest.raises(duckdb.Error, match="(?i)duplicate|unique|constraint"), db.transaction() as cur:
        cur.execute("INSERT INTO receipts (id, receipt_no, community_id, household_id, paid_at, total, "
                    "method) VALUES (?, ?, ?, ?, TIMESTAMP '2026-07-02 09:00', 5, '现金')",
                    [rid + 1000, number, estate["community"], estate["a1"]])


def test_cashier_finds_households_and_shows_the_account(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")  # due 2026-07-25
    assert list(cashier.find_households(db, actor, "李四")["code"]) == ["1-1-102"]
    assert list(cashier.find_households(db, actor, "1-1-10")["code"]) == ["1-1-101", "1-1-102"]
    assert len(cashier.find_households(db, actor, "0000111")) == 3  # by phone
    acc = cashier.account(db, estate["a1"], date(2026, 8, 4))
    # 200.00 due 07-25, unpaid: 10 days (07-26..08-04) × 200 × 0.0005 = 1.00 late fee
    assert (acc.outstanding, acc.overdue, acc.late_fee, acc.credit) == (D("200.00"), D("200.00"), D("1.00"),
                                                                       D("0.00"))
    assert acc.total_due == D("201.00")


def test_receipt_workbook_has_lines_total_and_capital_amount(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    rid = billing.take_payment(db, actor, estate["a1"], "250.00", "微信", paid_at=datetime(2026, 7, 20, 10),
                               cashier_id=estate["cashier"])
    r = cashier.receipt(db, rid)
    assert r.receipt_no == "2026-000001" and r.to_credit == D("50.00")  # 250 − 200 to credit
    assert list(r.lines["amount"]) == [D("200.00")]
    for layout, paper in (("A4", 9), ("半A4", 11)):
        ws = openpyxl.load_workbook(io.BytesIO(cashier.receipt_workbook(db, rid, layout))).active
        texts = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
        assert "2026-000001" in texts and "物业费" in texts and "人民币贰佰伍拾元整" in texts
        assert int(ws.page_setup.paperSize) == paper


def test_day_close_takes_totals_from_receipts_and_a_difference_needs_a_reason(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    day = estate["today"]
    at = datetime.combine(day, datetime.min.time()).replace(hour=9)
    k = estate["cashier"]
    billing.take_payment(db, actor, estate["a1"], "200.00", "现金", paid_at=at, cashier_id=k)
    billing.take_payment(db, actor, estate["a2"], "160.00", "微信", paid_at=at, cashier_id=k)
    wrong = billing.take_payment(db, actor, estate["b1"], "99.00", "现金", paid_at=at, cashier_id=k)
    billing.void_receipt(db, actor, wrong, "金额录错")
    billing.take_payment(db, actor, estate["b1"], "100.00", "现金", paid_at=at - timedelta(days=1), cashier_id=k)
    # the day: cash 200.00 (the voided 99.00 and yesterday's 100.00 left out), wechat 160.00, 2 receipts
    with pytest.raises(ValidationFailed, match="相差 -10.00 元"):
        cashier.close_day(db, actor, estate["community"], k, day, "190.00")
    cid = cashier.close_day(db, actor, estate["community"], k, day, "190.00", "少收一张十元，已报经理")
    row = db.rows("SELECT receipts, cash_total, wechat_total, alipay_total, counted_cash, difference "
                  "FROM cash_closings WHERE id = ?", [cid])[0]
    assert row == (2, D("200.00"), D("160.00"), D("0.00"), D("190.00"), D("-10.00"))
    with pytest.raises(ValidationFailed, match="已日结"):
        billing.take_payment(db, actor, estate["a1"], "1.00", "现金", paid_at=at, cashier_id=k)
    with pytest.raises(ValidationFailed, match="以后的日期"):
        cashier.close_day(db, actor, estate["community"], k, day + timedelta(days=1), "0")


def test_closed_period_refuses_bills_payments_and_voids_and_stays_closed(db, actor, estate):
    billing.generate_bills(db, actor, estate["community"], "2026-07")
    rid = billing.take_payment(db, actor, estate["a1"], "200.00", "现金", paid_at=datetime(2026, 7, 10, 9))
    close_id = cashier.close_period(db, actor, estate["community"], "2026-07")
    assert cashier.closed_periods(db, estate["community"]) == ["2026-07"]
    new = add(db, actor, "households", community_id=estate["community"], code="1-1-109", area="10.00")
    with pytest.raises(ValidationFailed, match="已结账"):
        billing.generate_bills(db, actor, estate["community"], "2026-07")
    assert db.scalar("SELECT count(*) FROM bills WHERE household_id = ?", [new]) == 0
    with pytest.raises(ValidationFailed, match="已结账"):
        billing.void_receipt(db, actor, rid, "补作废")
    with pytest.raises(ValidationFailed, match="已结账"):
        billing.take_payment(db, actor, estate["a2"], "10.00", "现金", paid_at=datetime(2026, 7, 31, 18))
    with pytest.raises(ValidationFailed, match="不能撤销"):
        apply_changes(db, actor, "period_closes", [RowChange("delete", row_id=close_id)])
    future = (estate["today"].replace(day=1) + timedelta(days=40)).strftime("%Y-%m")
    with pytest.raises(ValidationFailed, match="还没有开始"):
        cashier.close_period(db, actor, estate["community"], future)
    # a payment today still goes to the July bill: corrections happen in an open period
    billing.take_payment(db, actor, estate["a2"], "160.00", "现金")
    assert db.scalar("SELECT count(*) FROM payments p JOIN bills b ON b.id = p.bill_id "
                     "WHERE b.household_id = ?", [estate["a2"]]) == 1


def test_arrears_join_the_to_do_list_with_the_last_step(db, actor, estate):
    c = estate["community"]
    billing.generate_bills(db, actor, c, "2026-01")  # due 2026-01-25: a1 200, a2 160, b1 100
    billing.take_payment(db, actor, estate["b1"], "100.00", "现金", paid_at=datetime(2026, 1, 20, 9))
    as_of = date(2026, 4, 25)  # 90 days after 01-25: due at the default fee.arrears_todo_days 90
    todo = {r[0]: r for r in db.rows(
        "SELECT ref_id, area, ref_table, due_on, days_overdue, severity, item FROM todo_fees_as_of(?)", [as_of])}
    assert set(todo) == {estate["a1"], estate["a2"]}
    assert todo[estate["a1"]][1:6] == ("收费管理", "households", date(2026, 1, 25), 90, "中")
    assert todo[estate["a1"]][6].startswith("房屋 1-1-101 欠费 200.00 元（1 张账单，滞纳金 9.00 元）")
    # late fee: 90 days × 200 × 0.0005 = 9.00
    assert todo[estate["a1"]][6].endswith("已逾期 90 天；尚未催缴")
    assert not db.rows("SELECT * FROM todo_fees_as_of(?)", [as_of - timedelta(days=1)])
    fee_documents.record_arrears_actions(db, actor, [estate["a1"]], "书面催告", date(2026, 4, 1))
    item = db.scalar("SELECT item FROM todo_fees_as_of(?) WHERE ref_id = ?", [as_of, estate["a1"]])
    assert item.endswith("；2026-04-01 已书面催告")
    # 01-25 → 07-24 is 31 + 28 + 31 + 30 + 31 + 29 = 180 days: still 中; a day later 高
    assert db.scalar("SELECT severity FROM todo_fees_as_of(DATE '2026-07-24') WHERE ref_id = ?",
                     [estate["a1"]]) == "中"
    assert db.scalar("SELECT severity FROM todo_fees_as_of(DATE '2026-07-25') WHERE ref_id = ?",
                     [estate["a1"]]) == "高"
    assert db.scalar("SELECT count(*) FROM todo_as_of(?) WHERE ref_table = 'households'", [as_of]) == 2
    with pytest.raises(ValueError, match="不得停水停电"):
        fee_documents.record_arrears_actions(db, actor, [estate["a1"]], "停水", date(2026, 4, 2))


def test_ageing_buckets_and_collection_by_building(db, actor, estate):
    c = estate["community"]
    for period in ("2026-01", "2026-05", "2026-06"):
        billing.generate_bills(db, actor, c, period)
    billing.take_payment(db, actor, estate["b1"], "300.00", "现金", paid_at=datetime(2026, 6, 1, 9))
    billing.take_payment(db, actor, estate["a2"], "100.00", "现金", paid_at=datetime(2026, 6, 1, 9))
    as_of = date(2026, 7, 24)
    # open bills at 07-24: a1 200 × (01, 05, 06); a2 60 (01, after 100 paid) + 160 (05) + 160 (06);
    # b1 paid up. Ages: 01-25 → 180 days ('91-180'), 05-25 → 60 ('31-90'), 06-25 → 29 ('0-30')
    ageing = {r[0]: r[1:] for r in db.rows(
        "SELECT bucket, bucket_order, bills, households, outstanding FROM arrears_ageing_as_of(?) "
        "WHERE community_id = ?", [as_of, c])}
    assert ageing == {"0-30": (1, 2, 2, D("360.00")), "31-90": (2, 2, 2, D("360.00")),
                      "91-180": (3, 2, 2, D("260.00"))}
    assert db.scalar("SELECT bucket FROM arrears_ageing_as_of(DATE '2026-07-25') "
                     "WHERE bucket_order = 4") == ">180"  # 181 days
    rows = {(r[0], r[1]): r[2:] for r in db.rows(
        "SELECT building, period, billed, collected, rate, households_owing FROM collection_by_building_as_of(?) "
        "WHERE community_id = ?", [as_of, c])}
    # building 1, 2026-01: billed 360, collected 100 (a2) → 0.2777…; building 2: 100 of 100
    assert rows["1", "2026-01"][:2] == (D("360.00"), D("100.00"))
    assert rows["1", "2026-01"][2] == pytest.approx(100 / 360)
    assert rows["2", "2026-01"][1:] == (D("100.00"), 1.0, 0)
    frame = fee_documents.collection_by_building(db, c, as_of)
    # all periods: building 1 billed 3 × 360 = 1080, collected 100; building 2 billed 300, collected 300
    assert [(r.building, r.billed, r.collected) for r in frame.itertuples(index=False)] == [
        ("1", D("1080.00"), D("100.00")), ("2", D("300.00"), D("300.00"))]
    for chart in (charts.collection_by_building(frame),
                  charts.arrears_ageing(fee_documents.arrears_ageing(db, c, as_of)),
                  charts.collection_by_month(fee_documents.collection_by_month(db, c, as_of))):
        assert chart.to_dict()["data"]


def test_budget_against_actual_and_the_finance_disclosure(db, actor, estate):
    c = estate["community"]
    add(db, actor, "budgets", community_id=c, year=2026, category="保洁", amount="12000.00")
    add(db, actor, "budgets", community_id=c, year=2026, category="绿化", amount="0.00")
    for on, direction, category, amount in (("2026-02-10", "支出", "保洁", "1000.00"),
                                            ("2026-05-10", "支出", "保洁", "2000.00"),
                                            ("2026-08-10", "支出", "保洁", "500.00"),
                                            ("2026-03-01", "收入", "公共收益", "800.00"),
                                            ("2025-12-31", "支出", "保洁", "999.00")):
        add(db, actor, "finance_entries", community_id=c, entry_date=on, direction=direction,
            category=category, amount=amount)
    rows = {r[0]: r[1:] for r in db.rows(
        "SELECT category, direction, budget, actual, variance, used_rate, year_elapsed "
        "FROM budget_vs_actual_as_of(DATE '2026-06-30') WHERE community_id = ? AND year = 2026", [c])}
    # 保洁 by 06-30: 1000 + 2000 = 3000 of 12000 → 0.25, variance −9000; half the year gone (181/365)
    assert rows["保洁"][:5] == ("支出", D("12000.00"), D("3000.00"), D("-9000.00"), 0.25)
    assert rows["保洁"][5] == pytest.approx(181 / 365)
    assert rows["绿化"][:5] == (None, D("0.00"), D("0.00"), D("0.00"), None)  # budget 0: no rate
    assert rows["公共收益"][:5] == ("收入", None, D("800.00"), D("800.00"), None)  # not budgeted
    spans = {(r[0], r[1], r[2]): r[3:] for r in db.rows(
        "SELECT span, direction, category, entries, amount, complete FROM finance_disclosure_as_of("
        "DATE '2026-08-31') WHERE community_id = ? AND year = 2026", [c])}
    assert spans["Q1", "支出", "保洁"] == (1, D("1000.00"), True)
    assert spans["Q2", "支出", "保洁"] == (1, D("2000.00"), True)
    assert spans["H1", "支出", "保洁"] == (2, D("3000.00"), True)
    assert spans["H2", "支出", "保洁"] == (1, D("500.00"), False)
    assert spans["H1", "收入", "公共收益"] == (1, D("800.00"), True)


def test_statement_and_notices_print_one_page_per_household(db, actor, estate):
    c = estate["community"]
    for period in ("2026-05", "2026-06"):
        billing.generate_bills(db, actor, c, period)
    billing.take_payment(db, actor, estate["a2"], "400.00", "现金", paid_at=datetime(2026, 6, 1, 9))
    as_of = date(2026, 6, 30)
    s = fee_documents.statement(db, estate["a1"], as_of)
    # a1: 200 (05, due 05-25, 36 days to 06-30 → 3.60) + 200 (06, due 06-25, 5 days → 0.50)
    assert (s.outstanding, s.late_fee, s.credit, s.balance) == (D("400.00"), D("4.10"), D("0.00"), D("404.10"))
    ws = openpyxl.load_workbook(io.BytesIO(fee_documents.statement_workbook(db, estate["a1"], as_of))).active
    texts = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "阳光花园 1-1-101 物业费用对账单" in texts and "大写：肆佰零肆元壹角整" in texts
    book, households = fee_documents.notices_workbook(db, c, "2026-06", as_of)
    assert households == [estate["a1"], estate["a2"], estate["b1"]]
    ws = openpyxl.load_workbook(io.BytesIO(book)).active
    assert len(ws.row_breaks.brk) == 2  # three A4 pages
    texts = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert sum(t.startswith("房号：") for t in texts) == 3
    assert any("0571-88886666" in t for t in texts)
    # a2 paid 400 = 160 + 160 and 80 to credit
    dunning, owing = fee_documents.notices_workbook(db, c, "2026-06", as_of, arrears_days=30)
    assert owing == [estate["a1"], estate["b1"]]  # 05-25 → 36 days; b1 owes 100 (+ no water)
    texts = [str(v) for row in openpyxl.load_workbook(io.BytesIO(dunning)).active.iter_rows(values_only=True)
             for v in row if v is not None]
    assert any("第九百四十四条" in t for t in texts)
    assert list(fee_documents.arrears_list(db, c, as_of, 30)["household_code"]) == ["1-1-101", "2-1-101"]
