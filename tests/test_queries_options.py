"""Select-box options of a register (app.reading.queries.options): every live row's label while there are
at most `limit` rows in the reader's scope, none beyond (a register of millions, such as bills at
company scale, is counted without building its labels)."""

from __future__ import annotations

from saving import add

from app import registers
from app.access.permissions import Actor
from app.reading.queries import options
from app.saving.changes import RowChange, apply_changes


def test_labels_up_to_the_limit_and_none_beyond(db, actor):
    ids = [add(db, actor, "communities", name=n) for n in ("阳光花园", "翠湖苑", "金桂园")]
    communities = registers.get("communities")
    assert options(db, communities, actor, limit=3) == dict(zip(ids, ["阳光花园", "翠湖苑", "金桂园"]))
    assert options(db, communities, actor, limit=2) == {}  # three rows: too many for two
    # a clerk of one 小区 sees its two households: within a limit of two, which all four exceed
    homes = [add(db, actor, "households", community_id=c, code=code, area="90.00", usage="住宅", status="已入住")
             for c, code in ((ids[0], "1-101"), (ids[0], "1-102"), (ids[1], "2-101"), (ids[2], "3-101"))]
    households = registers.get("households")
    clerk = Actor("kefu", role="客服", communities=(ids[0],))
    assert options(db, households, clerk, limit=2) == {homes[0]: "阳光花园/1-101", homes[1]: "阳光花园/1-102"}
    assert options(db, households, actor, limit=2) == {}
    assert len(options(db, households, actor, limit=4)) == 4

def test_deleted_rows_neither_listed_nor_counted(db, actor):
    ids = [add(db, actor, "communities", name=n) for n in ("阳光花园", "翠湖苑")]
    apply_changes(db, actor, "communities", [RowChange("delete", row_id=ids[1])])
    assert options(db, registers.get("communities"), actor, limit=1) == {ids[0]: "阳光花园"}
