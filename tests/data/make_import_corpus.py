"""Write tests/data/import_corpus/: spreadsheets in the shapes real offices bring (issue 18).

Written for the project (not copied from anywhere): notes in headers, other words for the
same field, a room's identity split over columns or written as one phrase, the office's own
words for values, areas with 3–4 decimals, periods as text or as date cells, title rows,
GBK CSV. A file that needs a mapping has one beside it (same stem, .toml).

Run: python tests/data/make_import_corpus.py  (tests/test_import_corpus.py checks what each
file imports to, on both backends).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter

OUT = Path(__file__).parent / "import_corpus"


def xlsx(name: str, rows: list[list], title: str | None = None, sheet: str = "Sheet1",
         extra_sheets: dict[str, list[list]] | None = None) -> None:
    wb = xlsxwriter.Workbook(OUT / name, {"strings_to_numbers": False})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    wrap = wb.add_format({"text_wrap": True, "bold": True})
    for sheet_name, sheet_rows, sheet_title in [(sheet, rows, title),
                                                *((k, v, None) for k, v in (extra_sheets or {}).items())]:
        ws = wb.add_worksheet(sheet_name)
        top = 0
        if sheet_title:
            width = max(len(r) for r in sheet_rows)
            ws.merge_range(0, 0, 0, width - 1, sheet_title, wrap)
            top = 1
        for r, row in enumerate(sheet_rows):
            for c, v in enumerate(row):
                at = r + top
                if isinstance(v, (date, datetime)):
                    ws.write_datetime(at, c, v if isinstance(v, datetime) else datetime(v.year, v.month, v.day), day)
                elif isinstance(v, str):
                    ws.write_string(at, c, v, wrap if r == 0 else None)
                elif v is not None:
                    ws.write(at, c, v)
    wb.close()


def csv(name: str, rows: list[list], encoding: str) -> None:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    (OUT / name).write_bytes(data if encoding != "utf-8-sig" else data)


def mapping(name: str, text: str) -> None:
    (OUT / name).write_text(text.lstrip(), encoding="utf-8")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    # 01 households as exported by an older system: notes and instructions in the headers
    xlsx("01_房屋_必填标注.xlsx", [
        ["小区名称（必填）", "楼栋号", "房间号（必填）", "建筑面积（必填）\n请保留两位小数", "房屋用途", "房屋状态",
         "导入时请保留此行"],
        ["阳光花园", "1", "1-2-101", 87.05, "住宅", "空置", None],
        ["阳光花园", "1", "1-2-102", 92.3, "住宅", "已入住", None],
        ["阳光花园", "2", "2-2-101", 120, "商铺", "出租", None],
    ])
    # 02 the office's usage words and surveyed areas with 3–4 decimals
    xlsx("02_房屋_高层别墅.xlsx", [
        ["房屋编号", "产权面积", "物业类型", "备注"],
        ["3-101", 87.045, "高层", None],
        ["3-102", 77.7085, "小高层", "东边套"],
        ["V-2", 210.5, "别墅", None],
        ["S-1", 45.0049, "店面", None],
    ], title="阳光花园房屋清单（2014 年）")
    mapping("02_房屋_高层别墅.toml", """
register = "households"

[constants]
community_id = "阳光花园"

[values.usage]
"高层" = "住宅"
"小高层" = "住宅"
"别墅" = "住宅"
"店面" = "商铺"

[rounding]
area = 2
""")
    # 03 a room written as one phrase, GBK CSV as Chinese Excel saves it
    csv("03_房屋_单元室.csv", [
        ["楼号", "房屋", "面积(㎡)"],
        ["1", "1单元501室", "88.5"],
        ["1", "2单元1201室", "101.25"],
        ["2", "1单元302室", "66"],
    ], "gbk")
    mapping("03_房屋_单元室.toml", """
register = "households"

[columns]
"楼号" = "building_id"

[constants]
community_id = "阳光花园"

[[splits]]
column = "房屋"
pattern = '^(?P<单元>\\d+)单元(?P<室>\\d+)室$'

[joins]
code = "{楼号}-{单元}-{室}"
""")
    # 04 楼阁名称 B1 + 单元名称 708: the room code is both together
    xlsx("04_房屋_楼阁单元.xlsx", [
        ["楼阁名称", "单元名称", "建筑面积(㎡)", "交房日期"],
        ["B1", "708", 56.2, date(2012, 5, 1)],
        ["B1", "709", 56.2, date(2012, 5, 1)],
        ["B2", "101", 132.66, date(2013, 1, 20)],
    ])
    mapping("04_房屋_楼阁单元.toml", """
register = "households"

[columns]
"楼阁名称" = ""

[constants]
community_id = "翠湖苑"

[joins]
code = "{楼阁名称}-{单元名称}"
""")
    # 05 owners: 客户名称, 手机号码（必填）, 证件号码 typed as text
    xlsx("05_业主_客户名称.xlsx", [
        ["房屋编号", "客户名称", "手机号码（必填）", "证件号码", "客户类型"],
        ["1-1-101", "王建国", "13900001111", "330102198001010018", "业主"],
        ["1-1-101", "李秀英", "13900002222", None, "家属"],
        ["1-1-102", "陈立", "13700003333", None, "租户"],
    ])
    # 06 owners: 权力人名称 and the office's word for an owner
    xlsx("06_业主_权力人.xlsx", [
        ["房号", "权力人名称", "联系电话", "类别"],
        ["2-1-101", "周敏", "13600004444", "产权人"],
        ["1-1-102", "吴海", "13600005555", "承租人"],
    ])
    mapping("06_业主_权力人.toml", """
register = "owners"

[columns]
"类别" = "role"

[values.role]
"产权人" = "业主"
"承租人" = "租户"
""")
    # 07 staff: a department named 保洁, status 正常, dates as date cells
    xlsx("07_员工_保洁.xlsx", [
        ["员工姓名", "部门名称", "职务", "手机号码", "入职时间", "在职状态"],
        ["赵丽", "保洁", "保洁员", "13500006666", date(2015, 3, 2), "正常"],
        ["钱军", "工程", "电工", "13500007777", date(2016, 7, 15), "正常"],
        ["孙强", "保洁", "领班", None, date(2014, 11, 1), "离职"],
    ])
    mapping("07_员工_保洁.toml", """
register = "staff"

[values.department_id]
"保洁" = "保洁部"
"工程" = "工程部"

[values.status]
"正常" = "在职"
""")
    # 08 departments, UTF-8 CSV with BOM
    csv("08_部门.csv", [
        ["部门", "职责", "电话"],
        ["客服部", "接待、报修登记、收费", "0571-88000001"],
        ["秩序维护部", "门岗、巡逻、车辆管理", "0571-88000002"],
    ], "utf-8-sig")
    # 09 fee items: 单价（元/㎡·月）, 计费起始日期 as a date cell, the office's word for a method
    xlsx("09_收费标准.xlsx", [
        ["小区名称", "费用名称", "计算方式", "单价（元/㎡·月）", "计费起始日期", "状态"],
        ["翠湖苑", "物业费（住宅）", "按建筑面积", 1.85, date(2016, 1, 1), "已审批"],
        ["翠湖苑", "垃圾清运费", "定额", 10, date(2016, 1, 1), "已审批"],
    ])
    mapping("09_收费标准.toml", """
register = "fee_items"

[values.method]
"按建筑面积" = "按面积"
"定额" = "固定"
""")
    # 10 bills: 所属期 2014年10月, a fee item by its plain name, 应收金额（元）
    xlsx("10_账单_2014年10月.xlsx", [
        ["房号", "费用名称", "所属期", "应收金额（元）", "缴费截止日"],
        ["1-1-101", "管理费", "2014年10月", 130.58, date(2014, 10, 31)],
        ["1-1-102", "管理费", "2014年10月", 138.45, date(2014, 10, 31)],
    ])
    # 11 bills: the period as a date cell (计费起始日期), no due date: a constant
    xlsx("11_账单_日期账期.xlsx", [
        ["房屋编号", "费用名称", "计费起始日期", "计费终止日期", "应缴金额"],
        ["1-1-101", "管理费", date(2016, 1, 1), date(2016, 1, 31), 130.58],
        ["2-1-101", "管理费", date(2016, 1, 1), date(2016, 1, 31), 180],
    ])
    mapping("11_账单_日期账期.toml", """
register = "bills"

[constants]
due_date = "2016-01-31"
""")
    # 12 parking: 车位编码 and the office's words for the category
    xlsx("12_车位.xlsx", [
        ["车位编码", "车位类型", "停车场", "车牌号码"],
        ["A-001", "普通车位", "地下一层", "浙A12345"],
        ["A-002", "车库", "地下一层", None],
        ["G-01", "地上停车位", "东门", None],
    ])
    mapping("12_车位.toml", """
register = "parking_spaces"

[constants]
community_id = "阳光花园"

[values.kind]
"普通车位" = "租赁"
"车库" = "产权"
"地上停车位" = "临时"
""")
    # 13 fire equipment: a title row above the header, 上次检查, 生产日期
    xlsx("13_消防器材.xlsx", [
        ["小区", "器材编号", "器材类型", "放置位置", "生产日期", "上次检查"],
        ["阳光花园", "MHQ-01", "干粉灭火器", "1号楼1单元大堂", date(2020, 6, 1), date(2024, 3, 5)],
        ["阳光花园", "XFS-01", "消火栓", "1号楼2单元3层", None, date(2024, 3, 5)],
    ], title="阳光花园消防器材台账")
    # 14 assets
    xlsx("14_设备台账.xlsx", [
        ["小区名称", "设备编码", "设备名称", "设备类别", "安装地点", "厂家", "安装时间"],
        ["阳光花园", "DT-01", "1号楼1单元电梯", "电梯", "1号楼1单元", "某某电梯有限公司", date(2008, 9, 1)],
        ["阳光花园", "SB-01", "生活水泵", "给排水", "地下泵房", None, date(2008, 9, 1)],
    ])
    # 15 stock items, GBK CSV
    csv("15_库存物品.csv", [
        ["小区名称", "物料编码", "物料名称", "计量单位", "最低库存", "仓库"],
        ["阳光花园", "WJ-001", "PPR管 20mm", "米", "50", "工程库"],
        ["阳光花园", "DQ-002", "LED灯泡 9W", "个", "20", "工程库"],
    ], "gbk")
    # 16 vendors
    xlsx("16_供应商.xlsx", [
        ["供应商名称", "服务内容", "联系人姓名", "电话"],
        ["杭州安居电梯工程有限公司", "电梯维保", "刘工", "0571-87000001"],
        ["杭州清源保洁服务有限公司", "外墙清洗", "何经理", "0571-87000002"],
    ])
    # 17 meter readings: 水表 for 水, 抄表月份 as text
    xlsx("17_抄表.xlsx", [
        ["房号", "表类型", "抄表月份", "起度", "止度"],
        ["1-1-101", "水表", "2016年3月", 120.5, 131],
        ["1-1-102", "电表", "2016年3月", 3050, 3262.4],
    ])
    mapping("17_抄表.toml", """
register = "meter_readings"

[values.meter]
"水表" = "水"
"电表" = "电"
""")
    # 18 contracts
    xlsx("18_合同.xlsx", [
        ["小区名称", "合同号", "合同名称", "乙方", "合同类型", "合同开始日期", "到期日期", "金额"],
        ["阳光花园", "HT-2016-01", "电梯维保合同", "杭州安居电梯工程有限公司", "分包", date(2016, 1, 1),
         date(2016, 12, 31), 36000],
    ])
    # 19 owners as three record blocks side by side on one row: unpivoted, a block a row
    xlsx("19_业主_并排.xlsx", [
        ["房号", "姓名", "联系电话", "房号", "姓名", "联系电话", "房号", "姓名", "联系电话"],
        ["1-1-101", "王建国", "13900001111", "1-1-102", "陈立", "13700003333", "2-1-101", "周敏", "13600004444"],
    ])
    # 20 households whose required area column has another name nothing recognises
    xlsx("20_房屋_缺面积.xlsx", [
        ["小区", "房号", "套内"],
        ["阳光花园", "9-9-901", 80],
    ])
    # 25 an owner list without any room column (the rooms are in another system): the people
    # are kept unlinked and linked to their rooms later in 业主与住户
    xlsx("25_业主_无房号.xlsx", [
        ["业主姓名", "手机号码", "身份证号码"],
        ["冯志刚", "13800008888", "330102197503030030"],
        ["蒋丽华", "13800009999", None],
    ], title="业主名单（2016年）")

    workbooks()


def book(name: str, sheets: dict[str, list[list]]) -> None:
    """A workbook with a sheet per register, as an office keeps its 台账 (header on row 1)."""
    first, *rest = sheets.items()
    xlsx(name, first[1], sheet=first[0], extra_sheets=dict(rest))


BUILDINGS = ["楼栋号", "单元数", "总层数", "是否有电梯"]
HOMES = ["房屋编号", "楼栋号", "建筑面积", "房屋类型", "房屋状态", "业主编号"]
OWNERS = ["业主编号", "业主姓名", "手机号码", "身份证号码"]
FEES = ["收费项目", "计费方式", "单价", "计费起始日期", "状态"]


def workbooks() -> None:
    # 21 one workbook, a sheet per register, linked by 业主编号 (YZ001 owns two rooms); an
    # instructions sheet first, which is left out; the sheets are not in dependency order
    book("21_工作簿_小区资料.xlsx", {
        "填写说明": [["填写说明"], ["每个工作表一个台账，业主编号用来关联房屋与业主"]],
        "业主信息": [OWNERS, ["YZ001", "王建国", "13900001111", "330102198001010018"],
                 ["YZ002", "刘芳", "13900002222", None]],
        "楼栋单元": [BUILDINGS, ["5", 2, 18, "是"], ["6", 1, 6, "否"]],
        "房屋信息": [HOMES, ["5-1-101", "5", 89.12, "住宅", "已入住", "YZ001"],
                 ["5-1-102", "5", 89.12, "住宅", "空置", None],
                 ["6-1-101", "6", 130.5, "商铺", "出租", "YZ002"],
                 ["6-1-201", "6", 130.5, "住宅", "已入住", "YZ001"]],
        "费用设置": [FEES, ["物业服务费", "按面积", 1.2, date(2016, 1, 1), "已审批"],
                 ["垃圾清运费", "固定", 8, date(2016, 1, 1), "已审批"]],
        "车位信息": [["车位编号", "车位类型", "停车场", "房号", "车牌号码"],
                 ["B-001", "产权", "地下一层", "5-1-101", "浙A00001"], ["B-002", "临时", "地面", None, None]],
    })
    # 22 staff in departments nobody has made yet (保洁, 绿化) and a room in a building not
    # yet made (7): imported only when the office says to create them
    book("22_工作簿_缺部门楼栋.xlsx", {
        "员工花名册": [["姓名", "部门", "岗位", "手机号码", "入职日期"],
                  ["赵丽", "保洁", "保洁员", "13500006666", date(2015, 3, 2)],
                  ["钱军", "工程部", "电工", None, date(2016, 7, 15)],
                  ["孙丽", "绿化", "绿化工", None, date(2017, 4, 1)]],
        "房屋": [["楼栋号", "房屋编号", "建筑面积"], ["7", "7-1-101", 95.5]],
    })
    # 23 as 21, with a price nobody can read in the 4th sheet: nothing of the workbook is kept
    book("23_工作簿_第四表有错.xlsx", {
        "楼栋单元": [BUILDINGS, ["8", 2, 11, "是"]],
        "房屋信息": [HOMES, ["8-1-101", "8", 90, "住宅", "已入住", "YZ101"]],
        "业主信息": [OWNERS, ["YZ101", "郑伟", "13900003333", None]],
        "费用设置": [FEES, ["物业服务费", "按面积", "一元二角", date(2016, 1, 1), "已审批"]],
    })

    # 24 parking, one sheet per 区: the sheet's name is the space's 区域
    space = ["车位编号", "车位类型", "车牌号码"]
    book("24_车位_分区.xlsx", {"A区": [space, ["A-001", "产权", "浙A11111"], ["A-002", "临时", None]],
                               "B区": [space, ["B-001", "产权", None]]})


if __name__ == "__main__":
    main()
