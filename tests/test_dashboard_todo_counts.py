"""The home page's 今日待办 tile counts today's to-do list from the list the page shows (one run of
the to-do rules, not two): the same counts as the rule in SQL, for every scope.

Two 小区, a household in each with one bill unpaid: 阳光花园's due 200 days ago (欠费待办, 高:
over 180 days), 翠湖苑's due 100 days ago (中: 90 days or more, not over 180).
"""

from __future__ import annotations

from datetime import timedelta

from saving import add

from app.access.permissions import Actor
from app.analysis import dashboard
from app.analysis.figure_cache import clear


def sql_counts(db, today, communities: list[int] | None) -> tuple[int, int]:
    if communities == []:
        return 0, 0
    where = "" if communities is None else " AND community_id IN (" + ", ".join("?" * len(communities)) + ")"
    return tuple(db.rows("SELECT count(*), count(*) FILTER (WHERE severity = '高') FROM todo_as_of(CAST(? AS DATE)) "
                         "WHERE TRUE" + where, [today, *(communities or [])])[0])


def test_todo_tile_counts_today_as_the_rule_does(db, actor):
    today = db.now().date()
    places = {}
    for name, days in (("阳光花园", 200), ("翠湖苑", 100)):
        c = add(db, actor, "communities", name=name)
        h = add(db, actor, "households", community_id=c, code="1-101", area="90.00", usage="住宅", status="已入住")
        item = add(db, actor, "fee_items", community_id=c, name="物业费", method="按面积", unit_price="2.0000",
                   cycle="月", status="已审批", effective_from="2020-01-01")
        due = today - timedelta(days=days)
        add(db, actor, "bills", household_id=h, fee_item_id=item, period=f"{due:%Y-%m}", amount="180.00",
            due_date=due.isoformat())
        places[name] = c
    sun, lake = places["阳光花园"], places["翠湖苑"]
    month = f"{today:%Y-%m}"
    clerk = Actor("kefu", role="客服", communities=(lake,))
    for who, community, communities in ((actor, None, None), (actor, sun, [sun]), (clerk, None, [lake]),
                                        (clerk, sun, [])):
        clear()
        k = dashboard.kpis(db, who, month, community, today)
        assert (k.todo, k.todo_high) == sql_counts(db, today, communities), (who.role, community)
    # the arrears items themselves, by hand: 高 in 阳光花园, 中 in 翠湖苑
    clear()
    fees = dashboard.todo_for(db, actor, None, {"收费管理"})
    assert sorted(zip(fees["community_id"], fees["severity"])) == sorted([(sun, "高"), (lake, "中")])
    assert dashboard.kpis(db, actor, month, sun, today).todo_high >= 1
    assert dashboard.kpis(db, clerk, month, None, today).todo_high == sql_counts(db, today, [lake])[1]
