"""Navigation built from the register catalog: areas, their registers, and the fixed pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import registers

PAGES = Path(__file__).resolve().parents[2] / "pages"
_pages: dict[str, st.Page] = {}


def build(actor=None) -> dict[str, list[st.Page]]:
    def page(file: str, title: str, url_path: str | None, icon: str, **kw) -> st.Page:
        p = st.Page(PAGES / file, title=title, url_path=url_path, icon=icon, **kw)
        _pages[url_path or ""] = p
        return p

    navigation = {"概览": [page("home.py", "首页", None, ":material/home:", default=True)]}
    overview_pages = [("household.py", "一户一档", "household", ":material/home_work:"),
                      ("surveys.py", "意见调查统计与录入", "survey-stats", ":material/poll:"),
                      ("reports.py", "业委会月度报告", "reports", ":material/summarize:")]
    navigation["概览"] += [page(f, t, u, i) for f, t, u, i in overview_pages if (PAGES / f).exists()]
    for area, regs in registers.by_area().items():
        navigation[area] = [
            page("area.py", f"{area}总览", registers.area_slug(area), ":material/folder_open:"),
            *(page("register.py", r.label, r.name, ":material/table:") for r in regs),
        ]
    service_pages = [("service_desk.py", "报修受理与派工", "service_desk", ":material/build:"),
                     ("duty_board.py", "24小时值班看板", "duty_board", ":material/timer:"),
                     ("service_complaints.py", "投诉受理与处理", "service_complaints", ":material/feedback:"),
                     ("service_report.py", "维修与投诉统计", "service_report", ":material/monitoring:")]
    navigation.setdefault("维修与投诉", [])[1:1] = [
        page(file, title, url, icon) for file, title, url, icon in service_pages if (PAGES / file).exists()
    ]
    fee_pages = [("cashier.py", "收银台", "cashier", ":material/point_of_sale:"),
                 ("fees.py", "出账、催缴与报表", "fees", ":material/receipt_long:")]
    navigation.setdefault("收费管理", [])[1:1] = [
        page(file, title, url, icon) for file, title, url, icon in fee_pages if (PAGES / file).exists()
    ]
    estate_pages = [("decoration.py", "装修办理", "decoration", ":material/construction:"),
                    ("parking.py", "停车收费台", "parking", ":material/local_parking:")]
    navigation.setdefault("装修与停车", [])[1:1] = [
        page(file, title, url, icon) for file, title, url, icon in estate_pages if (PAGES / file).exists()
    ]
    from app.checks import NAV_PAGES as check_pages  # per-area check pages, security pages

    navigation.setdefault("检查与整改", [])[1:1] = [
        page(file, title, url, icon) for file, title, url, icon in check_pages if (PAGES / file).exists()
    ]
    tools = [("rules.py", "规则视图", "rules", ":material/rule:"),
             ("settings.py", "规则参数", "rule-settings", ":material/tune:"),
             ("import.py", "Excel 导入", "import", ":material/upload_file:"),
             ("analysis.py", "查询与图表", "analysis", ":material/query_stats:"),
             ("backup.py", "数据备份", "backup", ":material/backup:"),
             ("audit.py", "修改记录", "audit", ":material/history:"),
             ("nocodb.py", "NocoDB 同步", "nocodb", ":material/sync:")]
    from app.nocodb import schedule_in_app

    schedule_in_app()  # the scheduled NocoDB pull: once per process, when NocoDB is configured
    if actor is not None and actor.role == "管理员":  # the services check it again (require_admin)
        tools += [("users.py", "用户管理", "users", ":material/group:"),
                  ("permissions.py", "权限设置", "permissions", ":material/admin_panel_settings:"),
                  ("designer.py", "台账设计", "designer", ":material/design_services:")]
    navigation.setdefault("系统", []).extend(
        page(file, title, url, icon) for file, title, url, icon in tools if (PAGES / file).exists()
    )
    return navigation


def page_for(url_path: str) -> st.Page:
    """The page object of a register or area, for st.page_link."""
    if not _pages:
        build()
    return _pages[url_path]


def login_page() -> st.Page:
    """The only page there is without a signed-in user."""
    return st.Page(PAGES / "login.py", title="登录", icon=":material/login:", default=True)


def login_pages() -> list[st.Page]:
    """The login page, also under every page's address: a link to a page signs in, then opens it."""
    from app.permissions import ADMIN, Actor

    paths = [p.url_path for pages in build(Actor("", ADMIN)).values() for p in pages if p.url_path]
    return [login_page(), *(st.Page(PAGES / "login.py", title="登录", url_path=path) for path in paths)]


def password_page() -> st.Page:
    return st.Page(PAGES / "password.py", title="修改密码", url_path="password", icon=":material/key:")
