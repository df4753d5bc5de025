"""The import corpus (issue 18): spreadsheets in the shapes real offices bring, each with the
rows it must give, on both backends. Files are written by tests/data/make_import_corpus.py;
a file with a .toml beside it is imported through that mapping, as `wuye import --map` does.

How the corpus fares (the closing note of issue 18 quotes this): AS_IS import with no
mapping (at most the default 小区 option), MAPPED need their saved mapping, REFUSED cannot
be imported and say why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.exchange import import_mapping, importer
from app.saving.changes import RowChange, apply_changes

CORPUS = Path(__file__).parent / "data" / "import_corpus"
D = Decimal


def add(db, actor, register, *rows):
    return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def office(db, actor):
    return make_office(db, actor)


def make_office(db, actor):
    """阳光花园 (1) with buildings 1 (1), 2 (2) and households 1-1-101 (1), 1-1-102 (2), 2-1-101 (3);
    翠湖苑 (2); departments 保洁部 (1), 工程部 (2); fee item 阳光花园 管理费 (1), approved."""
    add(db, actor, "communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    add(db, actor, "buildings", {"community_id": 1, "code": "1"}, {"community_id": 1, "code": "2"})
    add(db, actor, "households",
        {"community_id": 1, "building_id": 1, "code": "1-1-101", "area": D("87.05")},
        {"community_id": 1, "building_id": 1, "code": "1-1-102", "area": D("92.30")},
        {"community_id": 1, "building_id": 2, "code": "2-1-101", "area": D("120.00"), "usage": "商铺"})
    add(db, actor, "departments", {"name": "保洁部"}, {"name": "工程部"})
    add(db, actor, "fee_items", {"community_id": 1, "name": "管理费", "method": "按面积", "unit_price": D("1.5"),
                                 "status": "已审批", "effective_from": date(2014, 1, 1)})
    return db


# file -> (register, default 小区, query, rows expected after the import)
AS_IS = {
    "01_房屋_必填标注.xlsx": ("households", None,
                          "SELECT community_id, building_id, code, area, usage, status FROM households WHERE id > 3 ORDER BY id",
                          [(1, 1, "1-2-101", D("87.05"), "住宅", "空置"), (1, 1, "1-2-102", D("92.30"), "住宅", "已入住"),
                           (1, 2, "2-2-101", D("120.00"), "商铺", "出租")]),
    "05_业主_客户名称.xlsx": ("owners", "阳光花园", "SELECT household_id, name, phone, id_number, role FROM owners ORDER BY id",
                          [(1, "王建国", "13900001111", "330102198001010018", "业主"),
                           (1, "李秀英", "13900002222", None, "家属"), (2, "陈立", "13700003333", None, "租户")]),
    "08_部门.csv": ("departments", None, "SELECT name, duties, phone FROM departments WHERE id > 2 ORDER BY id",
                  [("客服部", "接待、报修登记、收费", "0571-88000001"), ("秩序维护部", "门岗、巡逻、车辆管理", "0571-88000002")]),
    "10_账单_2014年10月.xlsx": ("bills", "阳光花园",
                           "SELECT household_id, fee_item_id, period, amount, due_date FROM bills ORDER BY id",
                           [(1, 1, "2014-10", D("130.58"), date(2014, 10, 31)),
                            (2, 1, "2014-10", D("138.45"), date(2014, 10, 31))]),
    "13_消防器材.xlsx": ("fire_equipment", None,
                     "SELECT community_id, equip_no, type, location, produced_on, last_checked_on FROM fire_equipment ORDER BY id",
                     [(1, "MHQ-01", "干粉灭火器", "1号楼1单元大堂", date(2020, 6, 1), date(2024, 3, 5)),
                      (1, "XFS-01", "消火栓", "1号楼2单元3层", None, date(2024, 3, 5))]),
    "14_设备台账.xlsx": ("assets", None,
                     "SELECT community_id, asset_no, name, category, location, manufacturer, install_date FROM assets ORDER BY id",
                     [(1, "DT-01", "1号楼1单元电梯", "电梯", "1号楼1单元", "某某电梯有限公司", date(2008, 9, 1)),
                      (1, "SB-01", "生活水泵", "给排水", "地下泵房", None, date(2008, 9, 1))]),
    "15_库存物品.csv": ("stock_items", None,
                    "SELECT community_id, code, name, unit, safety_stock, location FROM stock_items ORDER BY id",
                    [(1, "WJ-001", "PPR管 20mm", "米", D("50.000"), "工程库"),
                     (1, "DQ-002", "LED灯泡 9W", "个", D("20.000"), "工程库")]),
    "16_供应商.xlsx": ("vendors", None, "SELECT name, service_scope, contact, phone FROM vendors ORDER BY id",
                    [("杭州安居电梯工程有限公司", "电梯维保", "刘工", "0571-87000001"),
                     ("杭州清源保洁服务有限公司", "外墙清洗", "何经理", "0571-87000002")]),
    "18_合同.xlsx": ("contracts", None,
                   "SELECT community_id, contract_no, title, counterparty, kind, start_on, end_on, amount FROM contracts",
                   [(1, "HT-2016-01", "电梯维保合同", "杭州安居电梯工程有限公司", "分包", date(2016, 1, 1),
                     date(2016, 12, 31), D("36000.00"))]),
    # three record blocks side by side on one row: unpivoted, a block a row
    "19_业主_并排.xlsx": ("owners", "阳光花园", "SELECT household_id, name, phone FROM owners ORDER BY id",
                       [(1, "王建国", "13900001111"), (2, "陈立", "13700003333"), (3, "周敏", "13600004444")]),
}
MAPPED = {
    "02_房屋_高层别墅.xlsx": ("households", None,
                          "SELECT community_id, code, area, usage, note FROM households WHERE id > 3 ORDER BY id",
                          [(1, "3-101", D("87.05"), "住宅", None), (1, "3-102", D("77.71"), "住宅", "东边套"),
                           (1, "V-2", D("210.50"), "住宅", None), (1, "S-1", D("45.00"), "商铺", None)]),
    "03_房屋_单元室.csv": ("households", None,
                       "SELECT community_id, building_id, code, area FROM households WHERE id > 3 ORDER BY id",
                       [(1, 1, "1-1-501", D("88.50")), (1, 1, "1-2-1201", D("101.25")), (1, 2, "2-1-302", D("66.00"))]),
    "04_房屋_楼阁单元.xlsx": ("households", None,
                          "SELECT community_id, building_id, code, area, handover_date FROM households WHERE id > 3 ORDER BY id",
                          [(2, None, "B1-708", D("56.20"), date(2012, 5, 1)), (2, None, "B1-709", D("56.20"), date(2012, 5, 1)),
                           (2, None, "B2-101", D("132.66"), date(2013, 1, 20))]),
    "06_业主_权力人.xlsx": ("owners", "阳光花园", "SELECT household_id, name, phone, role FROM owners ORDER BY id",
                         [(3, "周敏", "13600004444", "业主"), (2, "吴海", "13600005555", "租户")]),
    "07_员工_保洁.xlsx": ("staff", None, "SELECT name, department_id, position, phone, hired_on, status FROM staff ORDER BY id",
                       [("赵丽", 1, "保洁员", "13500006666", date(2015, 3, 2), "在职"),
                        ("钱军", 2, "电工", "13500007777", date(2016, 7, 15), "在职"),
                        ("孙强", 1, "领班", None, date(2014, 11, 1), "离职")]),
    "09_收费标准.xlsx": ("fee_items", None,
                     "SELECT community_id, name, method, unit_price, effective_from, status FROM fee_items WHERE id > 1 ORDER BY id",
                     [(2, "物业费（住宅）", "按面积", D("1.8500"), date(2016, 1, 1), "已审批"),
                      (2, "垃圾清运费", "固定", D("10.0000"), date(2016, 1, 1), "已审批")]),
    "11_账单_日期账期.xlsx": ("bills", "阳光花园",
                          "SELECT household_id, fee_item_id, period, amount, due_date FROM bills ORDER BY id",
                          [(1, 1, "2016-01", D("130.58"), date(2016, 1, 31)), (3, 1, "2016-01", D("180.00"), date(2016, 1, 31))]),
    "12_车位.xlsx": ("parking_spaces", None, "SELECT community_id, space_no, kind, zone, plate FROM parking_spaces ORDER BY id",
                   [(1, "A-001", "租赁", "地下一层", "浙A12345"), (1, "A-002", "产权", "地下一层", None),
                    (1, "G-01", "临时", "东门", None)]),
    "17_抄表.xlsx": ("meter_readings", "阳光花园",
                   "SELECT household_id, meter, period, prev_reading, curr_reading FROM meter_readings ORDER BY id",
                   [(1, "水", "2016-03", D("120.500"), D("131.000")), (2, "电", "2016-03", D("3050.000"), D("3262.400"))]),
}
# file -> (register, the words the refusal must contain)
REFUSED = {
    "20_房屋_缺面积.xlsx": ("households", ["缺少必填的列", "建筑面积(㎡)", "套内"]),
}

# whole workbooks (`wuye import-workbook`, tests/test_import_workbook.py): file -> how it fares
WORKBOOKS = {
    "21_工作簿_小区资料.xlsx": "as-is (default 小区): 5 sheets placed, 填写说明 left out, owners linked by 业主编号",
    "22_工作簿_缺部门楼栋.xlsx": "with --create-missing: 2 departments and 1 building made; without, refused naming them",
    "23_工作簿_第四表有错.xlsx": "refused: a price nobody can read in the 4th sheet, nothing of the workbook kept",
    "24_车位_分区.xlsx": "as-is (default 小区): one sheet per 区, the sheet's name is each space's 区域",
}


def test_the_corpus_is_what_the_generator_writes():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".toml"}
    assert files == set(AS_IS) | set(MAPPED) | set(REFUSED) | set(WORKBOOKS)
    assert len(files) >= 15
    assert {p.stem for p in CORPUS.glob("*.toml")} == {Path(n).stem for n in MAPPED}


def _tables(db) -> dict[str, int]:
    names = ["households", "owners", "staff", "departments", "fee_items", "bills", "parking_spaces",
             "fire_equipment", "assets", "stock_items", "vendors", "meter_readings", "contracts", "audit_log"]
    return {n: db.scalar(f"SELECT count(*) FROM {n}") for n in names}


@pytest.mark.parametrize("name", sorted(AS_IS))
def test_file_imports_as_is(office, actor, name):
    register, community, query, expected = AS_IS[name]
    result = importer.import_file(office, actor, register, CORPUS / name, community=community)
    assert office.rows(query) == expected
    assert "→ 忽略" not in result.report or name.startswith("01")  # 01's instruction column is left out
    assert result.report.startswith("工作表「")


@pytest.mark.parametrize("name", sorted(MAPPED))
def test_file_imports_with_its_mapping(office, actor, name):
    register, community, query, expected = MAPPED[name]
    mapping = import_mapping.load_mapping(office, str(CORPUS / name.rsplit(".", 1)[0]) + ".toml", register)
    plan = import_mapping.plan_mapped(office, actor, register, CORPUS / name, mapping, community=community)
    importer.run_import(office, actor, plan)
    assert office.rows(query) == expected


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_file_is_refused_plainly_and_nothing_changes(office, actor, name):
    register, words = REFUSED[name]
    before = _tables(office)
    with pytest.raises((importer.ImportRejected, importer.ImportRefused)) as refused:
        importer.import_file(office, actor, register, CORPUS / name)
    text = str(refused.value) + "".join(str(p) for p in getattr(refused.value, "problems", []))
    for word in words:
        assert word in text
    assert _tables(office) == before
