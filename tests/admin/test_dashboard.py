"""The dashboard's numbers against receipts with known times, actions, devices and languages
(SQL aggregates on both backends), and the server-rendered SVG that shows them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tests.admin.helpers import add
from website.admin.chart import Series, axis, stacked_bars
from website.store.queries import (
    decisions_per_day,
    opt_in_by,
    opt_in_rates,
    revisions_in_force,
)

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 4, tzinfo=UTC)  # exclusive: the days 1, 2 and 3 March


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


ALL = ("statistics", "marketing", "media")


@pytest.fixture
def seeded(app, store):
    add(app, store, datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC), action="accept_all",
        grant=ALL)
    add(app, store, at(1, 0, 0), action="accept_all", grant=ALL)
    add(app, store, at(1, 8), action="reject_all", device="Mobile")
    add(app, store, at(1, 23, 59, 59, 999999), action="custom", grant=("statistics",),
        device="Mobile", language="en")
    add(app, store, at(2), action="withdraw", method="settings")
    add(app, store, at(2, 13), action="custom", grant=("media",), device="Tablet", language="en")
    add(app, store, at(3), action="accept_all", grant=ALL, language="en")
    add(app, store, at(4, 0, 0), action="reject_all")
    old = add(app, store, datetime(2026, 1, 10, tzinfo=UTC), action="reject_all",
              consent_id="old-visitor")
    store.engine.dispose()
    # An older catalog revision: the same receipt shape under another revision id.
    store.add(replace(old, receipt_id="old-receipt", revision="rev-2025", decision_id=None,
                      created_at=datetime(2025, 12, 1, tzinfo=UTC)),
              app.extensions["consent"].notices["de"])
    for day, views in ((date(2026, 3, 1), 5), (date(2026, 3, 3), 2), (date(2026, 3, 5), 9)):
        store.add_gpc_views(day, views)
    return store


def test_decisions_per_day_group_by_utc_day_and_action(seeded):
    assert decisions_per_day(seeded.engine, SINCE, UNTIL) == {
        "2026-03-01": {"accept_all": 1, "reject_all": 1, "custom": 1},
        "2026-03-02": {"withdraw": 1, "custom": 1},
        "2026-03-03": {"accept_all": 1},
    }


def test_opt_in_rates_per_category_and_service(app, seeded):
    rates = {r.key: (r.granted, r.total) for r in opt_in_rates(seeded.engine, "categories",
                                                                SINCE, UNTIL)}
    assert rates == {"essential": (6, 6), "statistics": (3, 6), "marketing": (2, 6),
                     "media": (3, 6)}
    catalog = app.extensions["consent"].catalog
    expected = {"statistics": 3, "marketing": 2, "media": 3, "essential": 6}
    services = {r.key: (r.granted, r.total) for r in opt_in_rates(seeded.engine, "services",
                                                                   SINCE, UNTIL)}
    assert services == {s.name: (expected[s.category], 6) for s in catalog.services}


def test_opt_in_per_device_class_and_language(seeded):
    optional = list(ALL)
    devices = {r.key: (r.granted, r.total)
               for r in opt_in_by(seeded.engine, "ua_device", optional, SINCE, UNTIL)}
    assert devices == {"Desktop": (2, 3), "Mobile": (1, 2), "Tablet": (1, 1)}
    languages = {r.key: (r.granted, r.total)
                 for r in opt_in_by(seeded.engine, "language", optional, SINCE, UNTIL)}
    assert languages == {"de": (1, 3), "en": (3, 3)}
    # Without optional categories nothing counts as an opt-in.
    assert {r.granted for r in opt_in_by(seeded.engine, "language", [], SINCE, UNTIL)} == {0}


def test_revisions_in_force_with_first_and_last_use(app, seeded):
    revisions = revisions_in_force(seeded.engine)
    current = app.extensions["consent"].catalog.revision
    assert [(r.revision, r.receipts) for r in revisions] == [("rev-2025", 1), (current, 9)]
    assert revisions[0].first_used == revisions[0].last_used == datetime(2025, 12, 1, tzinfo=UTC)
    assert revisions[1].first_used == datetime(2026, 1, 10, tzinfo=UTC)
    assert revisions[1].last_used == at(4, 0, 0)
    assert revisions[1].languages == "de, en"


def test_the_dashboard_draws_the_period_as_svg(app, seeded, logged_in):
    response = logged_in.get("/admin", query_string={"since": "2026-03-01",
                                                     "until": "2026-03-03"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    decisions = re.search(r'<svg[^>]*data-chart="decisions"[^>]*data-total="(\d+)"', page)
    gpc = re.search(r'<svg[^>]*data-chart="gpc"[^>]*data-total="(\d+)"', page)
    assert decisions and decisions.group(1) == "6"
    assert gpc and gpc.group(1) == "7"
    chart = page[decisions.start():page.index("</svg>", decisions.start())]
    bars = re.findall(r'<rect [^>]*class="bar bar-(\w+)"', chart)
    assert sorted(bars) == sorted(["accept_all", "reject_all", "custom", "withdraw", "custom",
                                   "accept_all"])
    # Labelled axes, x labels for each day, a title per bar, a table with the same values.
    for text in ("Decisions", "Day (UTC)", "01.03.", "02.03.", "03.03.",
                 "2026-03-02: Withdraw 1"):
        assert text in chart, text
    assert re.search(r"<th scope=\"row\">2026-03-01</th><td>1</td><td>1</td><td>1</td>"
                     r"<td>0</td>", page)
    # Rates: statistics 3 of 6 = 50 %, the Tablet row, the older revision with its dates.
    assert "50.0 %" in page and "Tablet" in page and "rev-2025" in page
    assert "2025-12-01 00:00" in page
    assert " style=" not in page and "<script" not in page


def test_the_default_period_is_the_last_30_days_by_the_clock(app, seeded, logged_in, clock):
    clock.advance(minutes=10)  # 2 March 2026, 09:10 UTC
    page = logged_in.get("/admin").get_data(as_text=True)
    assert 'value="2026-02-01"' in page and 'value="2026-03-02"' in page
    assert re.search(r'data-chart="decisions" data-total="6"', page)  # 28 Feb counts too


@pytest.mark.parametrize("query", [
    {"since": "2026-13-01"}, {"until": "yesterday"}, {"since": "2026-03-05", "until": "2026-03-01"},
    {"since": "2024-01-01", "until": "2026-03-01"}, {"since": "\x00"},
])
def test_bad_periods_are_a_clear_400(app, logged_in, query):
    response = logged_in.get("/admin", query_string=query)
    assert response.status_code == 400
    assert "date" in response.get_data(as_text=True) or "period" in response.get_data(
        as_text=True)


@pytest.mark.parametrize("largest,step,top", [(0, 1, 1), (3, 1, 3), (4, 1, 4), (7, 2, 8),
                                              (10, 5, 10), (23, 10, 30), (101, 50, 150),
                                              (4000, 1000, 4000)])
def test_the_y_axis_has_whole_round_ticks(largest, step, top):
    assert axis(largest) == (step, top)
    chart = stacked_bars("t", "y", "x", [date(2026, 3, 1)],
                         [Series("a", "A", "#000", [largest])])
    values = [t.value for t in chart.ticks]
    assert values == list(range(0, top + 1, step)) and values[-1] >= largest
    # Each tick sits where its value is: bottom minus its share of the plot's height.
    plot = chart.plot_bottom - chart.plot_top
    for tick in chart.ticks:
        assert tick.y == pytest.approx(chart.plot_bottom - plot * tick.value / top, abs=0.01)
