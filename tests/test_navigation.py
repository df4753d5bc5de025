"""The menu comes from the page table (app/navigation.toml) and the register catalog."""

from pathlib import Path

import pytest

from app import registers
from app.access.permissions import ROLES
from app.ui import nav

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_of_the_table_exists_and_has_one_address():
    pages = nav.table()["pages"]
    assert all((ROOT / "pages" / p.file).exists() for p in pages), [p.file for p in pages
                                                                   if not (ROOT / "pages" / p.file).exists()]
    urls = [p.url for p in pages]
    assert len(urls) == len(set(urls))
    assert not set(urls) & set(registers.catalog())  # a page never shadows a register's grid


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_has_every_page_once_and_its_working_set_first(role):
    menu = nav.menu(role)
    sections = list(menu)
    assert sections[0] == "常用"
    urls = [p.url for pages in menu.values() for p in pages]
    assert len(urls) == len(set(urls))
    first = [p.url for p in menu["常用"]]
    assert first[0] == ""  # the home page opens first
    assert first[1:] == nav.working_set(role)  # every entry of the working set exists for the role
    assert sections[-1] == "数据与系统"


def test_administrator_pages_are_not_in_other_roles_menus():
    admin = {p.url for pages in nav.menu("管理员").values() for p in pages}
    clerk = {p.url for pages in nav.menu("客服").values() for p in pages}
    assert {"users", "permissions", "designer"} <= admin
    assert not {"users", "permissions", "designer"} & clerk


def test_raw_data_registers_sit_with_the_system_pages_and_settings_have_one_page():
    menu = nav.menu("经理")
    system = {p.url for p in menu["数据与系统"]}
    assert {"attachments", "saved_queries", "survey_answers", "rule-settings", "audit"} <= system
    everything = {p.url for pages in menu.values() for p in pages}
    assert "settings" not in everything  # 参数设置 is the 规则参数 page, not a second grid
    assert nav.table()["register_pages"]["settings"] == "rule-settings"
    assert "系统" not in menu


def test_a_cashier_starts_at_the_cashier_desk_and_its_ledgers():
    first = [p.title for p in nav.menu("财务")["常用"]]
    assert first[:3] == ["首页", "收银台", "出账、催缴与报表"]
    assert registers.get("bills").label in first
