"""Demo 专项维修资金: each household's first deposit at 交房, yearly interest, and applications
to use the fund in every state — one paid last year, one approved and waiting for the payment,
one waiting for the owners' vote, one raising that failed its vote (to-do: two items, both 低).

Scopes are real: a building's households and their area. Votes meet Civil Code Art. 278 where
the application went ahead, and fall short where it did not.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.access.permissions import Actor
from app.saving.changes import RowChange, apply_changes
from app.storage.db import Database

DEPOSIT_PER_M2 = Decimal("80.00")  # 首期 per ㎡ of the flat, paid at 交房
INTEREST_RATE = Decimal("0.015")  # a year, on the balance at the end of each year


def _insert(db: Database, actor: Actor, register: str, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    changes = [RowChange("insert", values={k: v for k, v in r.items() if v is not None}) for r in rows]
    return apply_changes(db, actor, register, changes).inserted


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _share(total, num: int, den: int, extra: int = 0):
    """Just over num/den of total (an integer count, or an area rounded up to the cent)."""
    if isinstance(total, int):
        return -(-total * num // den) + extra
    return (Decimal(total) * num / den).quantize(Decimal("0.01"), rounding="ROUND_UP") + extra


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    communities = db.rows("SELECT id FROM communities WHERE deleted_at IS NULL ORDER BY id")
    entries, applications = [], []
    for n, (cid,) in enumerate(communities):
        homes = db.rows("SELECT id, area, handover_date FROM households WHERE community_id = ? AND deleted_at IS NULL "
                        "AND handover_date IS NOT NULL AND handover_date <= ? ORDER BY id", [cid, as_of])
        for hid, area, handed in homes:
            entries.append({"community_id": cid, "entry_on": handed, "kind": "首期缴存", "household_id": hid,
                            "amount": _cents(Decimal(area) * DEPOSIT_PER_M2), "voucher_no": f"JC-{hid}"})
        first = min((h[2] for h in homes), default=None)
        if first is None:
            continue
        for year in range(first.year, as_of.year):
            held = sum((e["amount"] for e in entries
                        if e["community_id"] == cid and e["entry_on"] <= date(year, 12, 31)), Decimal(0))
            entries.append({"community_id": cid, "entry_on": date(year, 12, 31), "kind": "利息",
                            "amount": _cents(held * INTEREST_RATE), "note": f"{year} 年度结息"})
        buildings = db.rows("SELECT b.code, count(h.id), sum(h.area) FROM buildings b JOIN households h "
                            "ON h.building_id = b.id AND h.deleted_at IS NULL WHERE b.community_id = ? "
                            "AND b.deleted_at IS NULL GROUP BY b.id, b.code ORDER BY b.id", [cid])
        everyone = (sum(b[1] for b in buildings), sum(Decimal(b[2]) for b in buildings))
        (b1, o1, a1), (b2, o2, a2) = buildings[0], buildings[1]
        tag = "AB"[n % 2]
        last_year = date(as_of.year - 1, 5, 10)
        # the participation reaches 2/3 with a little to spare; the agreement is more than half
        applications.append(_vote({
            "community_id": cid, "application_no": f"WX{tag}-{last_year.year}-01", "project": f"{b1}幢屋面防水翻修",
            "amount": Decimal("86000.00"), "scope": f"{b1}幢全体业主", "applied_on": last_year,
            "vote_due_on": last_year + timedelta(days=30), "approved_on": last_year + timedelta(days=52),
            "approved_by": "区住房保障和房产管理局", "paid_on": last_year + timedelta(days=120),
            "paid_amount": Decimal("84500.00"), "payee": "杭州雨虹防水工程有限公司", "status": "已支付"},
            o1, Decimal(a1), 2, 3, 1, 2))
        if n == 0:
            applied = as_of - timedelta(days=70)
            applications.append(_vote({
                "community_id": cid, "application_no": f"WX{tag}-{applied.year}-02", "project": f"{b2}幢电梯更换",
                "amount": Decimal("420000.00"), "scope": f"{b2}幢全体业主", "applied_on": applied,
                "vote_due_on": applied + timedelta(days=30), "approved_on": as_of - timedelta(days=12),
                "approved_by": "区住房保障和房产管理局", "status": "已审批"}, o2, Decimal(a2), 3, 4, 2, 3))
            applied = as_of - timedelta(days=9)
            applications.append({
                "community_id": cid, "application_no": f"WX{tag}-{applied.year}-03", "project": "小区雨污分流改造",
                "amount": Decimal("260000.00"), "scope": "全体业主", "scope_area": everyone[1],
                "scope_owners": everyone[0], "applied_on": applied, "vote_due_on": applied + timedelta(days=30),
                "status": "待表决"})
        else:
            applied = as_of - timedelta(days=120)
            # raising the fund needs 3/4: two thirds agreed, so it failed
            applications.append(_vote({
                "community_id": cid, "application_no": f"WX{tag}-{applied.year}-02", "matter": "筹集维修资金",
                "project": "续筹维修资金（余额不足首期 30%）", "amount": Decimal("1200000.00"), "scope": "全体业主",
                "applied_on": applied, "vote_due_on": applied + timedelta(days=45), "status": "表决未通过"},
                everyone[0], everyone[1], 4, 5, 2, 3))
    return {"repair_fund_entries": len(_insert(db, actor, "repair_fund_entries", entries)),
            "repair_fund_applications": len(_insert(db, actor, "repair_fund_applications", applications))}


def _vote(row: dict, owners: int, area: Decimal, vote_num: int, vote_den: int, agree_num: int,
          agree_den: int) -> dict:
    """The scope, vote_num/vote_den of it voting and agree_num/agree_den of those agreeing (+1 owner)."""
    voted_owners, voted_area = _share(owners, vote_num, vote_den), _share(area, vote_num, vote_den)
    return row | {"scope_area": area, "scope_owners": owners, "voted_owners": voted_owners, "voted_area": voted_area,
                  "agreed_owners": min(voted_owners, _share(voted_owners, agree_num, agree_den, 1)),
                  "agreed_area": min(voted_area, _share(voted_area, agree_num, agree_den, 1))}
