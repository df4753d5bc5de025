"""Home dashboard figures (app.analysis.dashboard) on the estate of test_reports: September 2026, by hand."""

from __future__ import annotations

from datetime import date

import pytest
from test_reports import estate  # noqa: F401  (fixture)

from app.access.permissions import Actor
from app.analysis import dashboard


def test_kpis_of_a_month_are_the_as_of_views_at_its_end(db, actor, estate):  # noqa: F811
    k = dashboard.kpis(db, actor, "2026-09", today=date(2026, 11, 25))
    assert k.as_of == date(2026, 9, 30)
    assert (k.billed, k.collected) == (900.0, 400.0)
    assert k.collection_rate == pytest.approx(4 / 9)
    assert (k.arrears, k.arrears_households) == (500.0, 2)
    assert (k.repairs_over_limit, k.complaints_handled, k.complaint_timely_rate) == (0, 0, None)
    assert k.todo == db.scalar("SELECT count(*) FROM todo_as_of(DATE '2026-11-25')")


def test_the_running_month_is_taken_at_today_and_other_communities_are_filtered_out(db, actor, estate):  # noqa: F811
    k = dashboard.kpis(db, actor, "2026-09", today=date(2026, 9, 16))
    assert k.as_of == date(2026, 9, 16)
    assert k.collected == 300.0  # 1-1-102's 100.00 came on 09-20
    assert k.arrears == 600.0  # due 09-15: 1-1-102 and 1-1-103 owe 300.00 each on 09-16
    other = dashboard.kpis(db, actor, "2026-09", community_id=estate["community"] + 1, today=date(2026, 9, 30))
    assert (other.billed, other.arrears, other.collection_rate) == (0.0, 0.0, None)
    scoped = Actor("外人", role="客服", communities=(estate["community"] + 1,))
    assert dashboard.kpis(db, scoped, "2026-09", today=date(2026, 9, 30)).billed == 0.0


def test_reporting_month_and_month_list(db, estate):  # noqa: F811
    assert dashboard.reporting_month(db, date(2026, 11, 25)) == "2026-09"
    assert dashboard.months(db, date(2026, 11, 25)) == ["2026-11", "2026-09"]
    trend = dashboard.collection_trend(db, Actor("a"), "2026-09", today=date(2026, 11, 25))
    # every period of the twelve is on the axis; those without bills bill 0 and have no rate
    assert list(trend["period"]) == [f"2025-{m}" for m in ("10", "11", "12")] + [f"2026-0{m}" for m in range(1, 10)]
    assert trend["rate"].iloc[-1] == pytest.approx(4 / 9)
    assert list(trend["billed"].iloc[:-1]) == [0.0] * 11 and trend["rate"].iloc[:-1].isna().all()
