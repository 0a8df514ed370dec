"""What a linked event may do, in memory: the threshold, a rival, a conflicting
identifier, a reviewer's "different"; the wording of an executed order; order of events;
and the synthetic stream's own promises (repeats marked, strangers, malformed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from habeas.cases.casefile import CaseFile
from habeas.cases.instruments import Order
from habeas.monitor.rules import (
    Candidate,
    decide_link,
    entry_after_departure,
    executed_order,
    exit_is_stale,
    identifier_conflicts,
)

PASS = frozenset({("passport", "X1234567")})


def cand(pid: str, p: float, ids: frozenset[tuple[str, str]] = PASS) -> Candidate:
    return Candidate(pid, f"r-{pid}-{p}", p, 10.0, ids)


def test_one_person_above_the_threshold_links() -> None:
    link = decide_link([cand("P1", 0.999), cand("P1", 0.6), cand("P2", 0.2)], PASS, 0.95)
    assert link.linked and link.person_id == "P1" and link.probability == 0.999
    assert link.rivals[0] == ("P1", 0.999)


def test_below_the_threshold_a_rival_or_nobody_does_not_link() -> None:
    low = decide_link([cand("P1", 0.94)], PASS, 0.95)
    assert not low.linked and "below the threshold 0.95" in low.reasons[0]
    rival = decide_link([cand("P1", 0.999), cand("P2", 0.7)], PASS, 0.95)
    assert not rival.linked and "person P2 is linked too" in rival.reasons[0]
    nobody = decide_link([], PASS, 0.95)
    assert not nobody.linked and nobody.person_id is None


def test_a_conflicting_identifier_or_a_reviewers_different_does_not_link() -> None:
    theirs = frozenset({("a_number", "123456789")})
    mine = frozenset({("a_number", "987654321")})
    link = decide_link([cand("P1", 0.9999, theirs)], mine, 0.95)
    # the reason names the conflict with the numbers masked (reasons are stored and shown)
    assert not link.linked and "a number *****4321 on the event" in link.reasons[0]
    apart = decide_link([cand("P1", 0.9999)], PASS, 0.95, frozenset({"P1"}))
    assert not apart.linked and "a reviewer decided" in apart.reasons[0]


def test_a_number_keyed_in_one_digit_off_is_the_same_number() -> None:
    person = frozenset({("a_number", "123456789"), ("passport", "AB123456")})
    assert identifier_conflicts(frozenset({("a_number", "123456798")}), person) == []
    assert identifier_conflicts(frozenset({("a_number", "123450000")}), person)
    assert identifier_conflicts(frozenset({("passport", "ZZ999999")}), person)
    assert identifier_conflicts(frozenset({("passport", "ZZ999999")}), frozenset()) == []


def test_what_a_departure_does_to_the_order_is_said_plainly() -> None:
    base = CaseFile("1", "P1")
    assert executed_order(base) == ""
    removal = Order("removal_order", date(2026, 1, 5), "IJ")
    final = CaseFile("1", "P1", order=removal, final_on=date(2026, 1, 5))
    assert "executed by self-departure (8 U.S.C. 1101(g))" in executed_order(final)
    assert executed_order(CaseFile("1", "P1", order=removal)) == ""  # not final yet
    vd = Order("voluntary_departure", date(2026, 1, 5), "IJ", departure_deadline=date(2026, 3, 1))
    assert "voluntary departure granted 2026-01-05 is complied with" in executed_order(
        CaseFile("1", "P1", order=vd)
    )


def test_order_of_events() -> None:
    t = datetime(2026, 11, 1, 12)
    assert exit_is_stale(t, t + timedelta(hours=1))
    assert not exit_is_stale(t, t - timedelta(hours=1)) and not exit_is_stale(t, None)
    assert entry_after_departure(date(2026, 11, 2), date(2026, 11, 1))
    assert not entry_after_departure(date(2026, 10, 30), date(2026, 11, 1))
    assert not entry_after_departure(date(2026, 11, 2), None)


def test_the_synthetic_stream_keeps_its_promises() -> None:
    from habeas.synth.events import plan_stream
    from habeas.synth.world import WORLD_DATE

    stream = plan_stream(800, 3, 1500, datetime(2026, 11, 1), 100, WORLD_DATE)
    assert len(stream) == 1500
    seen: set[tuple[str, str]] = set()
    for e in stream:
        key = (e.feed, e.event_id)
        assert e.repeat == (key in seen)
        seen.add(key)
    kinds = {e.kind for e in stream}
    assert {"exit", "entry", "self_report", "removal_verification"} <= kinds
    assert any(e.person is None for e in stream)  # strangers
    assert any(e.repeat for e in stream)
    times = [e.body.get("departed_at") for e in stream if e.feed == "airline_exits"]
    assert times != sorted(times)  # some delivered out of order
    again = plan_stream(800, 3, 1500, datetime(2026, 11, 1), 100, WORLD_DATE)
    assert [e.body for e in again] == [e.body for e in stream]
