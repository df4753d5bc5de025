"""Attachments (stored under the data folder with a checksum, audited) and the global search box."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from saving import add

from app.access.permissions import Actor
from app.analysis.search import global_search
from app.saving.attachments import (
    MAX_BYTES,
    AttachmentRejected,
    data_dir,
    list_attachments,
    read_attachment,
    remove_attachment,
    save_attachment,
)
from app.saving.changes import RowChange, ValidationFailed, apply_changes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"photo of a leaking valve"
PDF = b"%PDF-1.7\n" + b"scan of a contract" * 10


@pytest.fixture
def files(tmp_path, monkeypatch, db) -> Path:
    """Where attachments go: the DuckDB file's folder; for PostgreSQL, WUYE_DATA_DIR."""
    monkeypatch.setenv("WUYE_DATA_DIR", str(tmp_path / "pgdata"))
    return data_dir(db)


@pytest.fixture
def drawing(db, actor) -> int:
    community = add(db, actor, "communities", name="阳光花园")
    return add(
        db,
        actor,
        "archives",
        archive_no="GC-0001",
        community_id=community,
        category="工程图纸",
        title="3号楼给排水竣工图",
    )


# -- attachments --------------------------------------------------------------------------------
def test_data_dir_is_the_database_folder(db, files):
    if db.backend == "duckdb":
        assert files == Path(db.url).resolve().parent
    else:
        assert files.name == "pgdata"


def test_upload_is_stored_with_its_checksum_listed_read_and_audited(db, actor, files, drawing):
    attachment_id = save_attachment(
        db, actor, "archives", drawing, "竣工图 扫描.pdf", PDF, note="第 1 页"
    )
    digest = hashlib.sha256(PDF).hexdigest()
    stored = files / "attachments" / "archives" / str(drawing) / f"{digest}-竣工图 扫描.pdf"
    assert stored.read_bytes() == PDF
    [listed] = list_attachments(db, actor, "archives", drawing)
    assert (
        listed.id,
        listed.file_name,
        listed.sha256,
        listed.size,
        listed.content_type,
        listed.note,
    ) == (attachment_id, "竣工图 扫描.pdf", digest, len(PDF), "application/pdf", "第 1 页")
    assert listed.stored_path == f"attachments/archives/{drawing}/{digest}-竣工图 扫描.pdf"
    found, data = read_attachment(db, actor, attachment_id)
    assert found == listed and data == PDF
    assert db.rows(
        "SELECT register, row_id, action FROM audit_log WHERE register = 'attachments'"
    ) == [("attachments", attachment_id, "新增")]


def test_the_same_file_twice_is_stored_once(db, actor, files, drawing):
    first = save_attachment(db, actor, "archives", drawing, "a.png", PNG)
    assert save_attachment(db, actor, "archives", drawing, "a.png", PNG) == first
    assert len(list_attachments(db, actor, "archives", drawing)) == 1


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("big.pdf", b"%PDF-" + b"0" * MAX_BYTES, "「big.pdf」大小 20.0 MB，超过上限 20 MB"),
        (
            "setup.exe",
            b"MZ\x90\x00",
            "「setup.exe」类型不允许，只能上传 jpg、png、pdf、xlsx、docx 文件",
        ),
        ("photo", PNG, "「photo」类型不允许，只能上传 jpg、png、pdf、xlsx、docx 文件"),
        ("fake.pdf", PNG, "「fake.pdf」的内容不是 pdf 文件（可能改过扩展名）"),
        ("empty.png", b"", "「empty.png」是空文件"),
    ],
)
def test_uploads_are_limited_in_size_and_type(db, actor, files, drawing, name, data, message):
    with pytest.raises(AttachmentRejected) as err:
        save_attachment(db, actor, "archives", drawing, name, data)
    assert str(err.value) == message
    assert db.scalar("SELECT count(*) FROM attachments") == 0
    assert not (files / "attachments").exists()


def test_attachment_of_a_missing_row_is_refused_and_its_file_removed(db, actor, files, drawing):
    with pytest.raises(ValidationFailed) as err:
        save_attachment(db, actor, "archives", 999, "a.png", PNG)
    assert [str(p) for p in err.value.problems] == ["新增第 1 行「行编号」：档案编号 999 不存在"]
    assert not any(p.is_file() for p in (files / "attachments").rglob("*"))


def test_a_file_name_cannot_leave_its_folder(db, actor, files, drawing):
    attachment_id = save_attachment(db, actor, "archives", drawing, "../../etc/pass:wd.png", PNG)
    found, _ = read_attachment(db, actor, attachment_id)
    assert found.file_name == "pass_wd.png"
    assert (files / found.stored_path).resolve().is_relative_to(files / "attachments" / "archives")


def test_a_changed_file_is_detected_on_read(db, actor, files, drawing):
    attachment_id = save_attachment(db, actor, "archives", drawing, "a.png", PNG)
    found, _ = read_attachment(db, actor, attachment_id)
    (files / found.stored_path).write_bytes(PNG + b"tampered")
    with pytest.raises(AttachmentRejected, match="与登记的校验值不符"):
        read_attachment(db, actor, attachment_id)


def test_removing_an_attachment_is_audited(db, actor, files, drawing):
    attachment_id = save_attachment(db, actor, "archives", drawing, "a.png", PNG)
    remove_attachment(db, actor, attachment_id)
    assert list_attachments(db, actor, "archives", drawing) == []
    assert db.rows("SELECT action FROM audit_log WHERE register = 'attachments' ORDER BY id") == [
        ("新增",),
        ("删除",),
    ]


# -- global search ------------------------------------------------------------------------------
@pytest.fixture
def place(db, actor) -> dict[str, int]:
    sunny = add(db, actor, "communities", name="阳光花园")
    lake = add(db, actor, "communities", name="翠湖苑")
    ids = {"sunny": sunny, "lake": lake}
    ids["flat"] = add(
        db, actor, "households", community_id=sunny, code="3-2-1201", area="89.5", status="已入住"
    )
    ids["flat_next"] = add(
        db, actor, "households", community_id=sunny, code="3-2-1202", area="89.5"
    )
    ids["lake_flat"] = add(db, actor, "households", community_id=lake, code="3-2-1201", area="120")
    ids["owner"] = add(
        db, actor, "owners", household_id=ids["flat"], name="张伟", phone="13812345678"
    )
    ids["lift"] = add(
        db, actor, "assets", asset_no="DT-3", community_id=sunny, name="3号楼客梯", category="电梯"
    )
    ids["lift2"] = add(
        db,
        actor,
        "assets",
        asset_no="DT-3-2",
        community_id=sunny,
        name="3号楼2单元客梯",
        category="电梯",
    )
    ids["spare"] = add(
        db,
        actor,
        "assets",
        asset_no="BY-1",
        community_id=sunny,
        name="备用 DT-3 门机",
        category="其他",
    )
    ids["contract"] = add(
        db,
        actor,
        "contracts",
        contract_no="HT-2026-001",
        community_id=sunny,
        title="电梯维护保养合同",
        kind="分包",
        counterparty="杭州安达电梯工程有限公司",
        start_on="2026-01-01",
        end_on="2026-12-31",
    )
    ids["archive"] = add(
        db,
        actor,
        "archives",
        archive_no="GC-0001",
        community_id=sunny,
        category="工程图纸",
        title="3号楼给排水竣工图",
    )
    ids["valve"] = add(
        db, actor, "stock_items", community_id=sunny, code="WZ-025", name="阀门 DN25", unit="个"
    )
    return ids


def test_search_finds_each_kind_by_code_or_name(db, actor, place):
    assert global_search(db, actor, "3-2-1201", 10) == [
        ("households", place["lake_flat"], "翠湖苑/3-2-1201", "住宅 空置 120.00㎡"),
        ("households", place["flat"], "阳光花园/3-2-1201", "住宅 已入住 89.50㎡"),
    ]
    assert global_search(db, actor, "张伟", 10) == [
        ("owners", place["owner"], "阳光花园/3-2-1201/张伟", "业主 13812345678")
    ]
    assert [h.row_id for h in global_search(db, actor, "1381234", 10)] == [place["owner"]]
    assert global_search(db, actor, "保养合同", 10) == [
        (
            "contracts",
            place["contract"],
            "阳光花园/HT-2026-001/电梯维护保养合同",
            "分包 杭州安达电梯工程有限公司 履行中 2026-12-31 到期",
        )
    ]
    assert global_search(db, actor, "gc-0001", 10) == [
        ("archives", place["archive"], "阳光花园/GC-0001/3号楼给排水竣工图", "工程图纸 内部")
    ]
    assert global_search(db, actor, "dn25", 10) == [
        ("stock_items", place["valve"], "阳光花园/WZ-025/阀门 DN25", "个")
    ]


def test_search_ranks_exact_then_prefix_then_contains(db, actor, place):
    hits = global_search(db, actor, "DT-3", 10)
    assert [(h.register, h.row_id) for h in hits] == [
        ("assets", place["lift"]),
        ("assets", place["lift2"]),
        ("assets", place["spare"]),
    ]
    assert len(global_search(db, actor, "3", 3)) == 3


def test_search_respects_community_scope_and_deleted_rows(db, actor, place):
    lake_clerk = Actor("翠湖客服", role="客服", communities=(place["lake"],))
    assert [h.row_id for h in global_search(db, lake_clerk, "3-2-1201", 10)] == [place["lake_flat"]]
    assert global_search(db, lake_clerk, "张伟", 10) == []
    apply_changes(db, actor, "households", [RowChange("delete", row_id=place["flat_next"])])
    assert global_search(db, actor, "3-2-1202", 10) == []


def test_a_user_without_personal_data_rights_finds_owners_only_by_the_full_phone(db, place):
    guard = Actor("门岗", role="保安")
    assert global_search(db, guard, "1381234", 10) == []
    assert global_search(db, guard, "13812345678", 10) == [
        ("owners", place["owner"], "阳光花园/3-2-1201/张伟", "业主 138****5678")
    ]
    assert global_search(db, guard, "张伟", 10)[0].snippet == "业主 138****5678"


@pytest.mark.parametrize("text", ["%", "_", "' OR 1=1 --", "  ", ""])
def test_search_text_is_a_value_never_sql(db, actor, place, text):
    assert global_search(db, actor, text, 10) == []
