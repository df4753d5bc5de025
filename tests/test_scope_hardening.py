"""Issue 20 (penetration test with a 客服 account): scope and ownership holes, closed in the services.

- attachments take the 小区 of the row they belong to: list, download, add, delete, the 附件 grid,
  its export and the SQL console;
- saved queries (a register with an owner and a shared flag) are private unless shared, changed
  by their owner only, in every read path and in the save path;
- the SQL console caps its result in bytes while fetching, not only in rows;
- an unknown filter or sort column is named in a Chinese message, never a bare KeyError;
- a scoped user's update is checked against the row's old and new 小区.
"""

from __future__ import annotations

import io

import pytest

from app import registers
from app.access.permissions import ADMIN, Actor, PermissionDenied, actor_for_role, ensure_matrix
from app.analysis import builder as analysis
from app.analysis import saved_views, sql_console
from app.exchange import excel
from app.reading.queries import PageRequest, UnknownColumn, count_rows, fetch_page, fetch_row
from app.saving import audit
from app.saving.attachments import (
    data_dir,
    list_attachments,
    read_attachment,
    remove_attachment,
    save_attachment,
)
from app.saving.changes import RowChange, ValidationFailed, apply_changes

ADMIN_ACTOR = Actor("王主任", ADMIN)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"photo of a leaking valve"
SCOPE = "不在您可管理的小区范围内"


def insert(db, register, *rows):
    return apply_changes(db, ADMIN_ACTOR, register, [RowChange("insert", values=r) for r in rows]).inserted


@pytest.fixture
def estate(db, tmp_path, monkeypatch):
    """Two communities with a household and an owner each; attachments land in tmp_path."""
    monkeypatch.setenv("WUYE_DATA_DIR", str(tmp_path / "pgdata"))
    sunny, lake = insert(db, "communities", {"name": "阳光花园"}, {"name": "翠湖苑"})
    h1, h2 = insert(db, "households",
                    {"community_id": sunny, "code": "1-1-101", "area": "89.50", "status": "已入住"},
                    {"community_id": lake, "code": "2-1-201", "area": "75.00", "status": "已入住"})
    o1, o2 = insert(db, "owners", {"household_id": h1, "name": "张三", "phone": "13812345678"},
                    {"household_id": h2, "name": "王五", "phone": "13987654321"})
    ensure_matrix(db)
    return {"sunny": sunny, "lake": lake, "h1": h1, "h2": h2, "o1": o1, "o2": o2}


@pytest.fixture
def clerk(db, estate):
    """A 客服 of 翠湖苑 only, with the grants stored in the database (as when signed in)."""
    return actor_for_role(db, "小李", "客服", (estate["lake"],))


@pytest.fixture
def photos(db, estate):
    """A photo on each household and each owner, uploaded by an administrator."""
    return {key: save_attachment(db, ADMIN_ACTOR, register, estate[key], f"{key}.png", PNG + key.encode())
            for key, register in (("h1", "households"), ("h2", "households"),
                                  ("o1", "owners"), ("o2", "owners"))}


def live_attachments(db) -> set[int]:
    return {r[0] for r in db.rows("SELECT id FROM attachments WHERE deleted_at IS NULL")}


# -- (2) attachments take the community of their row ---------------------------------------------
@pytest.mark.parametrize("register, key", [("households", "h1"), ("owners", "o1")])
def test_attachment_services_refuse_rows_of_another_community(db, estate, clerk, photos, register, key):
    before = live_attachments(db)
    with pytest.raises(PermissionDenied, match=SCOPE):
        list_attachments(db, clerk, register, estate[key])
    with pytest.raises(PermissionDenied, match=SCOPE):
        read_attachment(db, clerk, photos[key])
    with pytest.raises(PermissionDenied, match=SCOPE):
        remove_attachment(db, clerk, photos[key])
    with pytest.raises(PermissionDenied, match=SCOPE):
        save_attachment(db, clerk, register, estate[key], "new.png", PNG + b"new")
    assert live_attachments(db) == before
    assert not list(data_dir(db).glob(f"attachments/{register}/{estate[key]}/*new.png"))


def test_attachment_services_serve_rows_of_the_users_community(db, estate, clerk, photos):
    [listed] = list_attachments(db, clerk, "households", estate["h2"])
    assert listed.id == photos["h2"]
    assert read_attachment(db, clerk, photos["o2"])[1] == PNG + b"o2"
    added = save_attachment(db, clerk, "owners", estate["o2"], "second.png", PNG + b"second")
    remove_attachment(db, clerk, photos["h2"])
    assert live_attachments(db) == {photos["h1"], photos["o1"], photos["o2"], added}


def test_attachment_grid_export_and_console_show_only_rows_in_scope(db, estate, clerk, photos):
    reg = registers.get("attachments")
    frame, total = fetch_page(db, clerk, reg, PageRequest(sort="id"))
    assert (list(frame["id"]), total) == ([photos["h2"], photos["o2"]], 2)
    assert count_rows(db, reg, PageRequest(), ADMIN_ACTOR) == 4
    assert fetch_row(db, clerk, reg, photos["h1"]) is None
    assert fetch_row(db, clerk, reg, photos["h2"])["文件名"] == "h2.png"
    assert excel.export_register(db, clerk, "attachments", io.BytesIO()) == 2
    rows = sql_console.run_query(db, clerk, "SELECT file_name FROM attachments ORDER BY id").rows()
    assert rows == [("h2.png",), ("o2.png",)]


def test_attachment_rows_changed_in_the_grid_keep_to_their_rows_community(db, estate, clerk, photos):
    for change in (RowChange("update", photos["h1"], {"note": "改"}), RowChange("delete", photos["o1"]),
                   RowChange("insert", values={
                       "register": "households", "row_id": estate["h1"], "file_name": "x.png",
                       "stored_path": "attachments/households/1/x.png", "sha256": "0" * 64, "size": 1})):
        with pytest.raises(ValidationFailed, match="小区范围内"):
            apply_changes(db, clerk, "attachments", [change])
    assert live_attachments(db) == set(photos.values())
    assert db.scalar("SELECT note FROM attachments WHERE id = ?", [photos["h1"]]) is None
    apply_changes(db, clerk, "attachments", [RowChange("update", photos["o2"], {"note": "业主照片"})])
    assert db.scalar("SELECT note FROM attachments WHERE id = ?", [photos["o2"]]) == "业主照片"


# -- (4) saved queries: private unless shared, changed by their owner ----------------------------
@pytest.fixture
def queries(db, estate):
    owner = Actor("王会计", "经理")
    private = analysis.save_query(db, owner, "我的查询", "SELECT count(*) AS n FROM households")
    shared = analysis.save_query(db, owner, "公用查询", "SELECT code FROM households", shared=True)
    return {"owner": owner, "private": private, "shared": shared}


def test_private_saved_queries_are_hidden_in_grid_export_and_analysis(db, queries):
    shipped = {s["name"] for s in analysis.SHIPPED}
    reg = registers.get("saved_queries")
    for other in (Actor("李师傅", "维修"), ADMIN_ACTOR):  # an administrator does not read them either
        frame, total = fetch_page(db, other, reg, PageRequest(page_size=100))
        assert set(frame["name"]) == shipped | {"公用查询"} and total == len(shipped) + 1
        assert fetch_row(db, other, reg, queries["private"]) is None
        assert excel.export_register(db, other, "saved_queries", io.BytesIO()) == len(shipped) + 1
        assert {s.name for s in analysis.saved_queries(db, other)} == shipped | {"公用查询"}
        found, _ = fetch_page(db, other, reg, PageRequest(search="我的"))
        assert found.empty
        history = audit.entries(db, other, "saved_queries")  # nor does the change history show it
        assert queries["private"] not in {e.row_id for e in history}
        assert queries["shared"] in {e.row_id for e in history}
    frame, total = fetch_page(db, queries["owner"], reg, PageRequest(page_size=100))
    assert "我的查询" in set(frame["name"]) and total == len(shipped) + 2


def test_saved_queries_are_changed_only_by_their_owner_whatever_the_page(db, queries):
    other = actor_for_role(db, "李师傅", "维修")
    refused = [
        (RowChange("update", queries["shared"], {"sql": "SELECT 1"}), "只能由创建人修改"),
        (RowChange("delete", queries["shared"]), "只能由创建人删除"),
        (RowChange("update", queries["private"], {"sql": "SELECT 1"}), "此行不存在或未共享"),
        (RowChange("delete", queries["private"]), "此行不存在或未共享"),
        (RowChange("insert", values={"name": "冒名", "sql": "SELECT 1", "owner": "王会计"}), "自己"),
    ]
    for change, words in refused:
        with pytest.raises(ValidationFailed, match=words):
            apply_changes(db, other, "saved_queries", [change])
    assert db.rows("SELECT sql FROM saved_queries WHERE id IN (?, ?) AND deleted_at IS NULL ORDER BY id",
                   [queries["private"], queries["shared"]]) == [("SELECT count(*) AS n FROM households",),
                                                               ("SELECT code FROM households",)]
    # added without an owner: the save path writes the adder's name
    [mine] = apply_changes(db, other, "saved_queries", [RowChange("insert", values={
        "name": "我的", "sql": "SELECT 1"})]).inserted
    assert db.scalar("SELECT owner FROM saved_queries WHERE id = ?", [mine]) == "李师傅"
    with pytest.raises(ValidationFailed, match="不可修改"):  # nor is a query handed to someone else
        apply_changes(db, other, "saved_queries", [RowChange("update", mine, {"owner": "王会计"})])
    # an administrator keeps a shared query in order, but may not make it private nor touch private ones
    apply_changes(db, ADMIN_ACTOR, "saved_queries", [RowChange("update", queries["shared"], {"sql": "SELECT 2"})])
    with pytest.raises(ValidationFailed, match="只能由创建人修改"):
        apply_changes(db, ADMIN_ACTOR, "saved_queries", [RowChange("update", queries["shared"], {"shared": False})])
    with pytest.raises(ValidationFailed, match="此行不存在或未共享"):
        apply_changes(db, ADMIN_ACTOR, "saved_queries", [RowChange("delete", queries["private"])])
    apply_changes(db, queries["owner"], "saved_queries", [RowChange("update", queries["private"], {"sql": "SELECT 3"})])
    assert db.rows("SELECT sql FROM saved_queries WHERE id IN (?, ?) ORDER BY id",
                   [queries["private"], queries["shared"]]) == [("SELECT 3",), ("SELECT 2",)]


def test_personal_saved_views_of_others_are_neither_listed_nor_removed(db, estate):
    """Saved views (the other register-like thing with an owner and a private flag)."""
    mine = saved_views.save_view(db, Actor("王会计", "经理"), saved_views.SavedView(
        None, "households", "我的视图", "", search="1-1"))
    other = Actor("李师傅", "维修")
    assert saved_views.views_for(db, other, "households") == []
    with pytest.raises(KeyError):
        saved_views.delete_view(db, other, mine.id)
    with pytest.raises(KeyError):
        saved_views.delete_view(db, ADMIN_ACTOR, mine.id)
    assert db.scalar("SELECT count(*) FROM saved_views") == 1


# -- (6) the console's result is capped in bytes while it is fetched -----------------------------
def set_console_limit(db, mb: str) -> None:
    [row_id] = db.rows("SELECT id FROM settings WHERE key = ? AND community_id IS NULL",
                       [sql_console.BYTE_LIMIT_SETTING])[0]
    apply_changes(db, ADMIN_ACTOR, "settings", [RowChange("update", row_id, {"value": mb})])


def test_console_byte_limit_defaults_to_50_mb(db):
    assert sql_console.byte_limit_of(db) == 50 * 1024 * 1024


def test_console_stops_fetching_at_the_byte_limit(db):
    set_console_limit(db, "1")
    # 1 000-byte rows, no row limit; row 1 000 000 fails the query if it is ever computed, as it
    # was when the whole result was read before anything was counted
    sql = ("SELECT CASE WHEN range < 1000000 THEN repeat('x', 1000) ELSE error('read too far ' || range) END AS s "
           "FROM range(2000000)")
    result = sql_console.run_query(db, ADMIN_ACTOR, sql, row_limit=None)
    # 1 MB = 1 048 576 bytes; a row takes 1 000 bytes and a 4-byte offset: 1 044 rows fit
    assert result.row_count == 1044 and result.truncated
    assert result.notice == "结果超过 1 MB，只保留前 1,044 行；请少选几列或加筛选条件缩小范围。"
    with pytest.raises(sql_console.QueryFailed, match="第一行就超过 1 MB"):
        sql_console.run_query(db, ADMIN_ACTOR, "SELECT repeat('x', 2000000) AS s")
    small = sql_console.run_query(db, ADMIN_ACTOR, "SELECT range FROM range(10)")
    assert (small.row_count, small.truncated, small.notice) == (10, False, "")


# -- (11) unknown columns are named ---------------------------------------------------------------
def test_an_unknown_filter_or_sort_column_is_named_in_chinese(db, estate):
    reg = registers.get("households")
    calls = [
        lambda: fetch_page(db, ADMIN_ACTOR, reg, PageRequest(filters={"colour": "红"})),
        lambda: fetch_page(db, ADMIN_ACTOR, reg, PageRequest(sort="colour")),
        lambda: excel.export_register(db, ADMIN_ACTOR, "households", io.BytesIO(),
                                      PageRequest(filters={"colour": "红"})),
        lambda: saved_views.save_view(db, ADMIN_ACTOR, saved_views.SavedView(
            None, "households", "坏视图", "", filters={"colour": "红"})),
        lambda: saved_views.save_view(db, ADMIN_ACTOR, saved_views.SavedView(
            None, "households", "坏视图", "", sort="colour")),
        lambda: saved_views.chart_data(db, ADMIN_ACTOR, "households", PageRequest(), "colour"),
    ]
    for call in calls:
        with pytest.raises(UnknownColumn) as caught:
            call()
        assert "「房屋档案」没有名为「colour」的列" in str(caught.value)
        assert not isinstance(caught.value, KeyError)
    assert db.scalar("SELECT count(*) FROM saved_views") == 0


# -- (15) a scoped user's update: the row's old and new community are both checked ----------------
@pytest.mark.parametrize("register, key, column, target", [
    ("households", "h1", "community_id", "lake"),  # another community's row taken into theirs
    ("owners", "o1", "household_id", "h2"),
    ("households", "h2", "community_id", "sunny"),  # one of theirs given to another community
    ("owners", "o2", "household_id", "h1"),
], ids=["take-household", "take-owner", "give-household", "give-owner"])
def test_a_scoped_user_can_neither_take_nor_give_away_a_row(db, estate, clerk, register, key, column, target):
    with pytest.raises(ValidationFailed) as caught:
        apply_changes(db, clerk, register, [RowChange("update", estate[key], {column: estate[target]})])
    assert [p.message for p in caught.value.problems] == [SCOPE]
    assert db.scalar(f"SELECT {column} FROM {register} WHERE id = ?", [estate[key]]) != estate[target]
