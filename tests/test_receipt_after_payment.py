"""收银台 after a payment: the receipt shown, printed and downloaded is the one just issued.

The receipt picker used to keep its earlier value, so 下载收据 handed the owner the household's
previous receipt. Here one household pays twice in a row under AppTest; after each payment the
picker, the amount in words and the download are the new receipt's.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from apptest import app_test
from saving import add

from app.fees import billing

D = Decimal


@pytest.fixture
def desk(db, actor, monkeypatch) -> dict:
    """One household with two monthly bills (100.00 each), in the database the page opens."""
    c = add(db, actor, "communities", name="阳光花园")
    b = add(db, actor, "buildings", community_id=c, code="1")
    home = add(db, actor, "households", community_id=c, building_id=b, code="1-1-101", area="50.00",
               status="已入住")
    add(db, actor, "owners", household_id=home, name="张三", phone="13800001111")
    add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
        status="已审批", effective_from="2026-01-01")
    for period in ("2026-05", "2026-06"):
        billing.generate_bills(db, actor, c, period)
    url = db.url
    db.close()
    monkeypatch.setenv("WUYE_DB", url)
    from app.ui import session

    session._database.clear()
    yield {"url": url, "household": home}
    session._database.clear()


def _receipts(url: str) -> list[tuple[int, str, Decimal]]:
    """(id, number, total) of every receipt, newest first, read from the page's database."""
    from app.ui import session

    return [(int(i), no, D(t)) for i, no, t in session._database(url).rows(
        "SELECT id, receipt_no, total FROM receipts ORDER BY id DESC")]


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every download the page offers, newest last.

    AppTest's media storage lives only for one run; this records what goes into it (the real
    storage still gets every file).
    """
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    offered: list[tuple[str, bytes]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes):
            offered.append((filename, path_or_data))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return offered


def _pay(at, amount: str):
    form = [t for t in at.text_input if t.label == "收款金额(元)"][0]
    form.input(amount)
    return at.button(key="FormSubmitter:cashier-pay-收款并开收据").click().run()


def test_each_payment_offers_its_own_receipt(desk, downloads):
    import io

    import openpyxl

    at = app_test("pages/cashier.py")
    at.run()
    at.text_input(key="cashier-find").input("1-1-101").run()
    assert not at.exception
    picker = f"cashier-receipt-{desk['household']}"
    for amount, words in (("100.00", "人民币壹佰元整"), ("150.00", "人民币壹佰伍拾元整")):
        _pay(at, amount)
        assert not at.exception and not at.error, [e.value for e in at.error]
        newest_id, newest_no, newest_total = _receipts(desk["url"])[0]
        assert newest_total == D(amount)
        assert at.selectbox(key=picker).value == newest_id
        assert at.selectbox(key=picker).format_func(newest_id) == newest_no
        assert f"金额大写：{words}" in [c.value for c in at.caption]
        assert any(s.value.startswith(f"已收款 {D(amount):,.2f} 元，收据号 {newest_no}") for s in at.success)
        name, data = [d for d in downloads if d[0] and d[0].startswith("收据_")][-1]
        assert name == f"收据_{newest_no}.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert sheet["B2"].value == newest_no
        totals = [r for r in sheet.iter_rows(values_only=True) if r[0] == "合计"]
        assert totals and D(str(totals[0][2])) == D(amount)
    assert len(_receipts(desk["url"])) == 2
