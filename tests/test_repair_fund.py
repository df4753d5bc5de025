"""专项维修资金: the owners' vote against Civil Code Art. 278, approval, payment, balance, disclosure
and to-do, on hand-built data on both backends.

The scope of every application here: 300.00 ㎡ of exclusive area held by 9 owners. Participation
needs ≥ 2/3 of both (200.00 ㎡ and 6 owners exactly); using the fund needs more than half of the
participating area and owners; raising it (筹集) or rebuilding needs ≥ 3/4 of both.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from saving import add

from app.saving.changes import RowChange, ValidationFailed, apply_changes

AS_OF = date(2026, 11, 25)


def rows(db, sql: str, params=()) -> list[dict]:
    res = db.cursor().execute(sql, list(params))
    names = [c[0] for c in res.description]
    return [dict(zip(names, r)) for r in res.fetchall()]


@pytest.fixture
def cid(db, actor) -> int:
    return add(db, actor, "communities", name="阳光花园")


def apply_for(db, actor, cid, no="WX-001", **values) -> int:
    base = {"community_id": cid, "application_no": no, "project": "3幢屋面防水", "amount": "60000.00",
            "scope": "3幢全体业主", "scope_area": "300.00", "scope_owners": 9, "applied_on": date(2026, 10, 8)}
    return add(db, actor, "repair_fund_applications", **{**base, **values})


def vote(db, aid) -> dict:
    return rows(db, "SELECT quorum, agreed, passed, result FROM v_repair_fund_vote "
                    "WHERE repair_fund_application_id = ?", [aid])[0]


def set_status(db, actor, aid, **values):
    version = db.scalar("SELECT row_version FROM repair_fund_applications WHERE id = ?", [aid])
    return apply_changes(db, actor, "repair_fund_applications",
                         [RowChange("update", aid, values, version=version)])


# -- participation: ≥ 2/3 of the area AND of the owners --------------------------------------------
@pytest.mark.parametrize("voted_area, voted_owners, quorum", [
    ("200.00", 6, True),    # exactly 2/3 of 300 ㎡ and of 9 owners
    ("199.99", 6, False),   # area just below 2/3
    ("200.00", 5, False),   # owners just below (5/9 < 2/3)
    ("300.00", 9, True),
])
def test_participation_needs_two_thirds_of_area_and_owners(db, actor, cid, voted_area, voted_owners, quorum):
    # everyone who took part agreed, so only the quorum decides
    aid = apply_for(db, actor, cid, voted_area=voted_area, voted_owners=voted_owners,
                    agreed_area=voted_area, agreed_owners=voted_owners)
    assert vote(db, aid)["quorum"] is quorum
    assert vote(db, aid)["result"] == ("通过" if quorum else "参与不足")


# -- using the fund: more than half of the participating area AND owners ----------------------------
@pytest.mark.parametrize("agreed_area, agreed_owners, agreed", [
    ("100.01", 4, True),    # just above half of 200 ㎡; 4 > 6/2
    ("100.00", 4, False),   # exactly half of the area is not more than half
    ("100.01", 3, False),   # exactly half of the owners is not more than half
])
def test_using_the_fund_needs_more_than_half(db, actor, cid, agreed_area, agreed_owners, agreed):
    aid = apply_for(db, actor, cid, voted_area="200.00", voted_owners=6,
                    agreed_area=agreed_area, agreed_owners=agreed_owners)
    assert vote(db, aid) == {"quorum": True, "agreed": agreed, "passed": agreed,
                             "result": "通过" if agreed else "同意不足"}


# -- raising the fund or rebuilding: at least 3/4 of both -------------------------------------------
@pytest.mark.parametrize("matter, agreed_area, agreed_owners, agreed", [
    ("筹集维修资金", "150.00", 5, True),     # exactly 3/4 of 200 ㎡; 5/6 ≥ 3/4
    ("筹集维修资金", "149.99", 5, False),    # area just below 3/4
    ("改建重建", "150.00", 4, False),        # 4/6 < 3/4
    ("改建重建", "200.00", 6, True),
])
def test_raising_or_rebuilding_needs_three_quarters(db, actor, cid, matter, agreed_area, agreed_owners, agreed):
    aid = apply_for(db, actor, cid, matter=matter, voted_area="200.00", voted_owners=6,
                    agreed_area=agreed_area, agreed_owners=agreed_owners)
    assert vote(db, aid)["agreed"] is agreed


def test_thresholds_are_settings(db, actor, cid):
    # a stricter participation rule for this community: 3/4 — 200 of 300 ㎡ no longer reaches it
    add(db, actor, "settings", key="fund.vote_participation", value="3/4", value_type="文本", community_id=cid)
    aid = apply_for(db, actor, cid, voted_area="225.00", voted_owners=6, agreed_area="200.00", agreed_owners=6)
    assert vote(db, aid)["result"] == "参与不足"  # 6/9 owners < 3/4 although 225/300 = 3/4


def test_a_vote_below_the_threshold_cannot_be_approved(db, actor, cid):
    aid = apply_for(db, actor, cid, voted_area="199.99", voted_owners=6, agreed_area="199.99", agreed_owners=6)
    with pytest.raises(ValidationFailed) as err:
        set_status(db, actor, aid, status="已审批", approved_on=date(2026, 10, 20))
    assert "参与表决的业主不足" in str(err.value) and "2/3" in str(err.value)
    assert db.scalar("SELECT status FROM repair_fund_applications WHERE id = ?", [aid]) == "待表决"


def test_agreement_cannot_exceed_participation(db, actor, cid):
    with pytest.raises(ValidationFailed) as err:
        apply_for(db, actor, cid, voted_area="200.00", voted_owners=6, agreed_area="200.00", agreed_owners=7)
    assert "同意人数不能大于参与表决人数" in str(err.value)


def test_approval_payment_balance_and_disclosure(db, actor, cid):
    add(db, actor, "repair_fund_entries", community_id=cid, entry_on=date(2026, 1, 10), kind="首期缴存",
        amount="50000.00")
    add(db, actor, "repair_fund_entries", community_id=cid, entry_on=date(2026, 3, 5), kind="首期缴存",
        amount="30000.00")
    add(db, actor, "repair_fund_entries", community_id=cid, entry_on=date(2026, 6, 30), kind="利息",
        amount="400.00")
    aid = apply_for(db, actor, cid, voted_area="210.00", voted_owners=7, agreed_area="180.00", agreed_owners=6,
                    status="表决通过")
    set_status(db, actor, aid, status="已审批", approved_on=date(2026, 10, 20))
    # paying more than the fund holds on that day (80 400.00) is refused
    with pytest.raises(ValidationFailed) as err:
        set_status(db, actor, aid, status="已支付", paid_on=date(2026, 11, 2), paid_amount="80400.01",
                   amount="90000.00")
    assert "维修资金余额不足" in str(err.value)
    set_status(db, actor, aid, status="已支付", paid_on=date(2026, 11, 2), paid_amount="58000.00", payee="杭州防水")
    # balance: 50 000 + 30 000 deposits, 400 interest, 58 000 spent -> 22 400.00
    bal = rows(db, "SELECT deposits, interest, spent, balance FROM repair_fund_balance_as_of(CAST(? AS DATE)) "
                   "WHERE community_id = ?", [AS_OF, cid])[0]
    assert bal == {"deposits": Decimal("80000.00"), "interest": Decimal("400.00"),
                   "spent": Decimal("58000.00"), "balance": Decimal("22400.00")}
    # before the payment the fund still held everything
    assert rows(db, "SELECT balance FROM repair_fund_balance_as_of(DATE '2026-11-01') WHERE community_id = ?",
                [cid])[0]["balance"] == Decimal("80400.00")
    lines = rows(db, "SELECT item, income, expense, balance FROM v_repair_fund_disclosure WHERE community_id = ? "
                     "ORDER BY balance DESC, item", [cid])
    assert [(r["item"], r["income"], r["expense"], r["balance"]) for r in lines] == [
        ("2026-06 利息（1 笔）", Decimal("400.00"), Decimal("0.00"), Decimal("80400.00")),
        ("2026-03 首期缴存（1 笔）", Decimal("30000.00"), Decimal("0.00"), Decimal("80000.00")),
        ("2026-01 首期缴存（1 笔）", Decimal("50000.00"), Decimal("0.00"), Decimal("50000.00")),
        ("支付 WX-001 3幢屋面防水（杭州防水）", Decimal("0.00"), Decimal("58000.00"), Decimal("22400.00")),
    ]


def test_todo_lists_applications_waiting_for_a_vote_or_a_payment(db, actor, cid):
    waiting = apply_for(db, actor, cid, "WX-001", vote_due_on=date(2026, 11, 20))
    apply_for(db, actor, cid, "WX-002", applied_on=date(2026, 11, 1), vote_due_on=date(2026, 12, 1))
    approved = apply_for(db, actor, cid, "WX-003", voted_area="300.00", voted_owners=9, agreed_area="300.00",
                         agreed_owners=9, status="已审批", approved_on=date(2026, 10, 15))
    apply_for(db, actor, cid, "WX-004", voted_area="300.00", voted_owners=9, agreed_area="300.00",
              agreed_owners=9, status="表决通过")  # waits for approval, not in the to-do
    todo = rows(db, "SELECT ref_id, item, days_overdue, severity FROM todo_as_of(CAST(? AS DATE)) "
                    "WHERE ref_table = 'repair_fund_applications' ORDER BY item", [AS_OF])
    assert [(t["item"], t["days_overdue"], t["severity"]) for t in todo] == [
        # vote due 11-20, as_of 11-25: 5 days overdue
        ("维修资金申请 WX-001 3幢屋面防水 待业主表决，已逾期 5 天", 5, "中"),
        ("维修资金申请 WX-002 3幢屋面防水 待业主表决，还有 6 天", -6, "低"),
        # approved 10-15: 41 days > 30 waiting for the payment
        ("维修资金申请 WX-003 3幢屋面防水 已审批，待支付，已逾期 41 天", 41, "中"),
    ]
    assert todo[0]["ref_id"] == waiting and todo[2]["ref_id"] == approved
