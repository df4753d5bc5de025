"""Rule-view metadata from the header comments of sql/views/v_*.sql, and reading views."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.access.permissions import Actor
from app.exchange import excel
from app.reading import views
from app.saving.changes import RowChange, apply_changes


def test_view_names_lists_the_v_files():
    assert "v_community_overview" in views.view_names()
    assert all(name.startswith("v_") for name in views.view_names())


def test_only_v_files_count_as_views(tmp_path, monkeypatch):
    (tmp_path / "v_b.sql").write_text("-- v_b: 乙\nCREATE VIEW v_b AS SELECT 1 AS x;\n", encoding="utf-8")
    (tmp_path / "v_a.sql").write_text("-- v_a: 甲\nCREATE VIEW v_a AS SELECT 1 AS x;\n", encoding="utf-8")
    (tmp_path / "arrears_as_of.sql").write_text("CREATE MACRO arrears_as_of(d) AS TABLE SELECT d;\n")
    monkeypatch.setattr(views, "VIEWS_DIR", tmp_path)
    assert views.view_names() == ["v_a", "v_b"]
    assert not views.is_view("arrears_as_of")
    with pytest.raises(KeyError, match="没有名为 arrears_as_of 的视图"):
        views.view_info("arrears_as_of")


def test_community_overview_header_is_parsed():
    info = views.view_info("v_community_overview")
    assert info.name == "v_community_overview"
    assert info.title == "小区概况"
    assert info.rule == (
        "one row per community: buildings, households by status, occupancy rate "
        "(households 已入住 or 出租 / all households), total building area, owners on file."
    )
    assert info.source == "二 小区基本概况; 三(一) 入住管理"
    assert info.parameters == "none"
    assert info.labels == {
        "community_id": "小区编号",
        "community": "小区",
        "buildings": "楼栋数",
        "households": "户数",
        "occupied": "入住户数",
        "vacant": "空置户数",
        "decorating": "装修中户数",
        "rented": "出租户数",
        "occupancy_rate": "入住率",
        "total_area": "房屋建筑面积(㎡)",
        "owners": "在册业主数",
    }


def test_label_of_falls_back_to_the_column_name():
    assert views.label_of("v_community_overview", "occupancy_rate") == "入住率"
    assert views.label_of("v_community_overview", "no_such_column") == "no_such_column"


def test_header_parsing_stops_at_the_sql_and_joins_continuations():
    text = (
        "-- v_due_checks: 到期检查\n"
        "-- rule: a check is due when next_due <= as_of\n"
        "--       (a check due today is due).\n"
        "-- source: 三(四)\n"
        "-- parameters: fire.check_days,\n"
        "--       fire.check_days_high_risk\n"
        "-- label next_due: 下次检查日期\n"
        "-- label overdue_days: 逾期\n"
        "--       天数\n"
        "CREATE VIEW v_due_checks AS SELECT 1;\n"
        "-- label ignored: 不算\n"
    )
    info = views.parse_header("v_due_checks", text)
    assert info.title == "到期检查"
    assert info.rule == "a check is due when next_due <= as_of (a check due today is due)."
    assert info.parameters == "fire.check_days, fire.check_days_high_risk"
    assert info.labels == {"next_due": "下次检查日期", "overdue_days": "逾期 天数"}


def test_a_view_without_a_header_is_titled_by_its_name():
    info = views.parse_header("v_plain", "CREATE VIEW v_plain AS SELECT 1 AS x;")
    assert (info.title, info.rule, info.labels) == ("v_plain", "", {})


def test_unknown_or_unsafe_view_names_are_refused(db, actor):
    for name in ("v_nothing", "households", 'v_x"; DROP TABLE households; --', "../v_x"):
        with pytest.raises(KeyError):
            views.read_view(db, actor, name)


@pytest.fixture
def estate(db, actor):
    def add(register, *rows):
        apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows])

    add("communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    add("buildings", {"community_id": 1, "code": "1"}, {"community_id": 1, "code": "2"})
    add(
        "households",
        {"community_id": 1, "code": "1-1-101", "area": "80", "status": "已入住"},
        {"community_id": 1, "code": "1-1-102", "area": "90.5", "status": "出租"},
        {"community_id": 1, "code": "2-1-101", "area": "100.25", "status": "空置"},
        {"community_id": 2, "code": "1-1-101", "area": "70", "status": "装修中"},
    )
    add("owners", {"household_id": 1, "name": "张三", "phone": "13812345678"},
        {"household_id": 2, "name": "李四", "role": "租户"})
    return db


def test_read_view_returns_the_rule_rows(estate, actor):
    frame = views.read_view(estate, actor, "v_community_overview")
    first = frame.iloc[0].to_dict()
    # 阳光花园: 2 buildings; 3 households (已入住, 出租, 空置); occupancy 2/3;
    # area 80 + 90.50 + 100.25; one 业主 (李四 is a 租户).
    assert first["community"] == "阳光花园"
    assert (first["buildings"], first["households"], first["occupied"], first["rented"],
            first["vacant"]) == (2, 3, 1, 1, 1)
    assert first["occupancy_rate"] == pytest.approx(2 / 3)
    assert first["total_area"] == Decimal("270.75")
    assert first["owners"] == 1
    second = frame.iloc[1].to_dict()
    assert (second["community"], second["decorating"], second["occupancy_rate"]) == ("翠湖苑", 1, 0.0)


def test_read_view_is_scoped_and_limited(estate, actor):
    scoped = Actor("孙管家", communities=(2,))
    assert list(views.read_view(estate, scoped, "v_community_overview")["community"]) == ["翠湖苑"]
    assert len(views.read_view(estate, actor, "v_community_overview", limit=1)) == 1


@pytest.fixture
def owner_phones(estate, tmp_path, monkeypatch):
    """A view exposing phones, to check masking of view columns holding personal data."""
    (tmp_path / "v_owner_phones.sql").write_text(
        "-- v_owner_phones: 业主电话\n"
        "-- rule: phones of owners\n"
        "-- label name: 姓名\n"
        "-- label phone: 手机号\n"
        "CREATE OR REPLACE VIEW v_owner_phones AS\n"
        "SELECT o.name, o.phone, h.community_id FROM owners o JOIN households h ON h.id = o.household_id\n"
        "ORDER BY o.id;\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(views, "VIEWS_DIR", tmp_path)
    estate.cursor().execute((tmp_path / "v_owner_phones.sql").read_text(encoding="utf-8"))
    return estate


def test_read_view_masks_personal_columns_for_roles_without_the_right(owner_phones, actor):
    assert views.read_view(owner_phones, actor, "v_owner_phones")["phone"].iloc[0] == "13812345678"
    repairer = Actor("李师傅", role="维修")
    assert views.read_view(owner_phones, repairer, "v_owner_phones")["phone"].iloc[0] == "138****5678"


def test_view_export_masks_personal_columns(owner_phones, tmp_path):
    import openpyxl

    out = tmp_path / "phones.xlsx"
    assert excel.export_view(owner_phones, Actor("李师傅", role="维修"), "v_owner_phones", out) == 2
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in ws[1]] == ["姓名", "手机号", "community_id"]
    assert [c.value for c in ws[2]] == ["张三", "138****5678", 1]
    assert ws["B3"].value is None
