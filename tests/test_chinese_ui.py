"""Chinese everywhere: widget formats and placeholders, status as text, grouped warnings."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from apptest import app_test
from saving import add

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.service import service_desk as desk
from app.settings import ensure_defaults
from app.storage.db import open_database

ROOT = Path(__file__).resolve().parents[1]
UI_SOURCES = sorted([*(ROOT / "pages").rglob("*.py"), *(ROOT / "app" / "ui").rglob("*.py")])
# Emoji status lights need an emoji font the office PC may not have; text badges need none.
EMOJI_LIGHTS = re.compile("[🔴🟠🟡🟢🔵⚪⚫✅❌⚠❗]")


def widget_calls(name: str):
    """(file, line, keyword names) of every call of st.<name> (or x.<name>) in pages/ and app/ui/."""
    for path in UI_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                yield f"{path.relative_to(ROOT)}:{node.lineno}", {k.arg for k in node.keywords}


def test_every_date_input_shows_year_month_day():
    calls = list(widget_calls("date_input"))
    assert len(calls) >= 10  # the scan finds the widgets it is about
    assert [where for where, keywords in calls if "format" not in keywords] == []
    # and the format is the Chinese office's 年-月-日
    for path in UI_SOURCES:
        for m in re.finditer(r"date_input\((?:[^()]|\([^()]*\))*\)", path.read_text(encoding="utf-8")):
            assert 'format="YYYY-MM-DD"' in m[0], (path.name, m[0])


@pytest.mark.parametrize("widget", ["selectbox", "multiselect"])
def test_every_choice_box_has_a_chinese_placeholder(widget):
    calls = list(widget_calls(widget))
    assert len(calls) >= (40 if widget == "selectbox" else 4)
    assert [where for where, keywords in calls if "placeholder" not in keywords] == []


def test_placeholders_are_chinese():
    for path in UI_SOURCES:
        for m in re.finditer(r'placeholder="([^"]*)"', path.read_text(encoding="utf-8")):
            assert "Choose" not in m[1] and "Select" not in m[1], (path.name, m[1])


def test_no_emoji_status_lights_in_pages_or_app():
    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "pages").rglob("*.py")) +
             sorted((ROOT / "app").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if EMOJI_LIGHTS.search(line)]
    assert found == []


# -- pages ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """One community with three open repair orders, one per clock state; no guard shifts at all."""
    path = tmp_path_factory.mktemp("chinese-ui") / "wuye.duckdb"
    db, actor = open_database(str(path)), Actor("测试")
    ensure_defaults(db, actor)
    sun = add(db, actor, "communities", name="阳光花园")
    home = add(db, actor, "households", community_id=sun, code="3-2-1201", area="89.50")
    now = db.now().replace(microsecond=0, tzinfo=None)

    def intake(urgency: str, reported_at) -> None:
        desk.register_repair(db, actor, {"community_id": sun, "household_id": home, "category": "管道",
                                         "description": "漏水", "urgency": urgency, "reported_at": reported_at})

    intake("一般", now - timedelta(days=2))  # 1 440 minutes to arrive: 1 day over
    intake("紧急", now - timedelta(minutes=10))  # 30 minutes to arrive: 20 left, within the hour
    intake("一般", now - timedelta(minutes=10))  # 1 430 left
    db.close()
    mp = pytest.MonkeyPatch()
    mp.setenv("WUYE_DB", str(path))
    from app.ui import session

    session._database.clear()
    yield {"sun": sun}
    session._database.clear()
    mp.undo()


def test_duty_board_shows_the_clock_state_as_text(estate):
    at = app_test("pages/duty_board.py").run()
    assert not at.exception, at.exception
    board = at.dataframe[0].value
    # most urgent first: the overdue order, the one due within the hour, the one with a day left
    assert board["light"].tolist() == ["已超时", "即将到时", "正常"]


def test_an_empty_week_gives_one_warning_listing_the_shifts(estate):
    at = app_test("pages/security_shifts.py").run()
    assert not at.exception, at.exception
    assert len(at.warning) == 1
    text = at.warning[0].value
    assert text.startswith("监控中心有 14 个班次人手不足（每班不少于 2 人）：")
    assert text.count("\n- ") == 14 and "白班：0 人" in text and "夜班：0 人" in text


# -- labels instead of ids (both backends) ----------------------------------------------------------
@pytest.fixture
def homes(db, actor):
    """Two communities, each with a house 10-3-402 (ids 1 and 2), and an owner of the first house."""
    from app.saving.changes import RowChange, apply_changes

    def insert(register, *rows):
        return apply_changes(db, actor, register, [RowChange("insert", values=r) for r in rows]).inserted

    sun, lake = insert("communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    first, second = insert("households", {"community_id": sun, "code": "10-3-402", "area": "89.50"},
                           {"community_id": lake, "code": "10-3-402", "area": "75.00"})
    (owner,) = insert("owners", {"household_id": first, "name": "张三"})
    return {"sun": sun, "lake": lake, "first": first, "second": second, "owner": owner}


def test_history_names_referenced_rows_by_label(db, actor, homes):
    from app.saving import audit

    version = db.scalar("SELECT row_version FROM owners WHERE id = ?", [homes["owner"]])
    apply_changes(db, actor, "owners", [RowChange("update", homes["owner"], {"household_id": homes["second"]},
                                                  version)])
    changes = audit.history(db, actor, "owners", homes["owner"])["内容"].tolist()
    # newest first: the move between the two houses, then the insert
    assert changes[0] == "房屋 阳光花园/10-3-402 → 翠湖苑/10-3-402"
    assert changes[1].startswith("房屋 阳光花园/10-3-402；")
    assert "张三" in changes[1]
    frame = audit.entries_frame(audit.entries(db, actor, "owners", homes["owner"]))
    assert frame.iloc[0][["原值", "新值"]].tolist() == ["阳光花园/10-3-402", "翠湖苑/10-3-402"]


def test_history_of_a_deleted_reference_still_reads_its_label(db, actor, homes):
    from app.saving import audit

    version = db.scalar("SELECT row_version FROM owners WHERE id = ?", [homes["owner"]])
    apply_changes(db, actor, "owners", [RowChange("delete", homes["owner"], version=version)])
    deleted = audit.history(db, actor, "owners", homes["owner"])["内容"].tolist()[0]
    assert deleted.startswith("房屋 阳光花园/10-3-402；")


def test_duplicate_key_message_names_the_community_not_its_id(db, actor, homes):
    from app.saving.changes import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        apply_changes(db, actor, "households", [RowChange("insert", values={
            "community_id": homes["lake"], "code": "10-3-402", "area": "60"})])
    assert err.value.problems[0].message == "「翠湖苑/10-3-402」已存在（小区、房号须唯一）"


# -- rule texts in Chinese ------------------------------------------------------------------------------
def test_every_rule_view_has_a_chinese_rule_and_parameters():
    from app.reading.views import view_info, view_names

    names = view_names()
    assert len(names) >= 30
    for name in names:
        info = view_info(name)
        for text in (info.rule_zh, info.parameters_zh):
            assert re.search("[\u4e00-\u9fff]", text), name  # written, and in Chinese
            # no setting keys (fee.grace_days), column names (due_date) or the English rule's words
            assert not re.search(r"[a-z]+\.[a-z_]+|[a-z]+_[a-z]+|\bas_of\b|\bnone\b", text), (name, text)
        assert info.parameters_zh.strip() != ""
        # the English entries stay whole: the Chinese lines are not read as their continuation
        assert "规则" not in info.parameters and "：" not in info.parameters.split(" ")[0]


def test_the_chinese_lines_do_not_run_into_the_english_ones():
    from app.reading.views import parse_header

    info = parse_header("v_x", "\n".join([
        "-- v_x: 示例", "-- rule: one row per thing", "--       and more", "-- parameters: fee.grace_days [0],",
        "--             fee.late_fee_rate_per_day [0.0005]", "-- 规则：每件事一行。", "-- 参数：宽限天数（默认 0 天）",
        "-- label community_id: 小区编号", "SELECT 1"]))
    assert info.rule == "one row per thing and more"
    assert info.parameters == "fee.grace_days [0], fee.late_fee_rate_per_day [0.0005]"
    assert (info.rule_zh, info.parameters_zh) == ("每件事一行。", "宽限天数（默认 0 天）")
    assert info.labels == {"community_id": "小区编号"}


def test_rules_page_shows_the_chinese_rule_and_parameters(estate):
    at = app_test("pages/rules.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="rule-view").set_value("v_arrears").run()
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert any(t.startswith("**规则**：每户一行：应缴日期早于当天") for t in shown), shown
    assert "**参数**：滞纳金日费率（默认 0.0005，即万分之五）、宽限天数（默认 0 天）" in shown
    assert not any("late_fee" in t or "outstanding" in t for t in shown)
