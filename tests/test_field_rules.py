"""The field domain's pure rules, in memory: address confidence on messy and partial
addresses, routes that keep their windows, outcomes that cannot become what they are not."""

from __future__ import annotations

from datetime import date

import pytest

from habeas.field import rules
from habeas.field.confidence import AddressSeen, estimate
from habeas.field.routing import RouteError, Stop, Team, nearest_neighbour_km, plan

TODAY = date(2026, 12, 1)


def seen(
    source: str,
    street: str | None,
    zip_: str | None,
    when: str | None,
    lat: float | None = None,
    lon: float | None = None,
    state: str | None = "NY",
) -> AddressSeen:
    return AddressSeen(
        f"{source}-{street}", source, street, "New York", state, zip_, lat, lon, when
    )


def test_nothing_that_cannot_be_placed_is_an_address() -> None:
    assert estimate([], TODAY) is None
    assert estimate([seen("dmv", None, None, "2026-11")], TODAY) is None  # no street, no ZIP
    assert estimate([seen("dmv", "1 Main St", "00000", "2026-11")], TODAY) is None  # unknown ZIP


def test_recency_agreement_and_spread_are_scored_in_their_parts() -> None:
    one = estimate([seen("dmv", "12 W 31st St", "10001", "2026-11-20")], TODAY)
    assert one is not None and one.geocode == "ZIP centroid" and one.state == "NY"
    parts = {p.name: p for p in one.parts}
    assert parts["recency"].points == 40 and parts["agreement"].points == 12
    assert parts["spread"].points == 25 and one.confidence == 77
    # three sources on one address, written three ways: they agree
    three = estimate(
        [
            seen("dmv", "12 West 31st Street", "10001", "2026-10"),
            seen("irs", "12 W. 31ST ST", "10001-1234", "2026"),
            seen("usms", "12 w 31st st", "10001", None),
        ],
        TODAY,
    )
    assert three is not None and len(three.sources) == 3
    assert {p.name: p.points for p in three.parts}["agreement"] == 35
    # an old address far away, and a recent one: the recent one, with the spread counted
    split = estimate(
        [
            seen("dmv", "12 W 31st St", "10001", "2026-11-01"),
            seen("irs", "1 Main St", "90012", "2026-06", lat=34.05, lon=-118.24, state="CA"),
        ],
        TODAY,
    )
    assert split is not None and split.zip == "10001" and split.others[0]["zip"] == "90012"
    spread = {p.name: p for p in split.parts}["spread"]
    assert spread.points == 0 and "km away" in spread.why


def test_partial_and_bad_dates_are_read_only_as_far_as_they_go() -> None:
    year = estimate([seen("dmv", "1 A St", "10001", "2025")], TODAY)
    bad = estimate([seen("dmv", "1 A St", "10001", "2025-13-45")], TODAY)
    undated = estimate([seen("dmv", "1 A St", "10001", None)], TODAY)
    assert year and bad and undated
    r = {e: {p.name: p for p in e.parts}["recency"] for e in (year, bad, undated)}
    assert "335 days ago" in r[year].why  # 2025 means at the latest 2025-12-31
    assert r[bad].points == r[undated].points == 8  # an unreadable date earns what none does
    old = estimate([seen("dmv", "1 A St", "10001", "2019-01-01")], TODAY)
    assert old is not None and {p.name: p.points for p in old.parts}["recency"] == 0


def test_a_route_keeps_every_window_and_leaves_out_what_it_cannot_reach() -> None:
    team = Team("T1", 40.75, -73.99, 8 * 60, 12 * 60)
    stops = [
        Stop("a", 40.76, -73.98, (9 * 60, 10 * 60), 20),
        Stop("b", 40.70, -74.01, (8 * 60, 9 * 60), 20),
        Stop("far", 34.05, -118.24, (9 * 60, 11 * 60), 20),  # Los Angeles, within a morning
    ]
    p = plan([team], stops, 2)
    route = p.routes["T1"]
    assert [leg.key for leg in route] == ["b", "a"] and p.left_out == ["far"]
    by_key = {s.key: s for s in stops}
    for leg in route:
        lo, hi = by_key[leg.key].window
        assert lo <= leg.arrive <= hi
    assert nearest_neighbour_km(team, [by_key["b"], by_key["a"]]) > 0
    with pytest.raises(RouteError, match="window ends before it begins"):
        plan([team], [Stop("x", 40.7, -74.0, (600, 500))], 1)


def test_an_outcome_about_someone_else_is_never_an_arrest() -> None:
    assert rules.outcome_problems("arrested", False, "", "")
    assert rules.outcome_problems("located_not_detained", False, "", "")
    assert rules.outcome_problems("not_subject", True, "", "")
    assert not rules.outcome_problems("not_subject", False, "", "")
    assert rules.outcome_problems("shot", True, "", "")[0].startswith("outcome 'shot'")
    assert "control character" in rules.outcome_problems("not_located", True, "a\x1bb", "")[0]
    assert "at most 2000" in rules.outcome_problems("not_located", True, "x" * 2001, "")[0]
