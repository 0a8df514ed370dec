"""Custody: capacity never exceeded under concurrent placements (SQLite and PostgreSQL),
transfers counted; transport plans keep every constraint and never lose to greedy;
deadlines."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from habeas.app.audit_log import verify_store
from habeas.cases import lifecycle as lc
from habeas.cases.deadlines import tasks_for
from habeas.cases.instruments import Order
from habeas.cases.service import open_case
from habeas.custody.facilities import ensure_facilities, occupancy, place
from habeas.custody.transport import (
    TRANSFER_COST,
    Flight,
    Ready,
    check_plan,
    plan_greedy,
    plan_min_cost,
)
from habeas.errors import AccessDenied, CapacityFull
from habeas.governance.authz import AccessContext
from habeas.store.keys import register as register_key
from habeas.store.operational import make_engine, session_factory, upgrade

CUSTODY = AccessContext("custody1", "custody_officer", "custody")
OFFICER = AccessContext("officer1", "case_officer", "case_review")
D = date.today() - timedelta(days=30)  # every step dated in the past, whenever this runs
ORDER = b"reinstatement decision (synthetic)"
SMALL = (
    ("TINY", "A small facility (synthetic)", 5, "NDS 2019", "ELP", 31.8, -106.4),
    ("OTHER", "Another facility (synthetic)", 50, "NDS 2019", "SAT", 29.4, -98.5),
)


@pytest.fixture
def engine(store_url: str) -> Engine:
    e = make_engine(store_url, pool_size=25)
    upgrade(e)
    register_key(e, b"test-history-key-of-32-bytes-xx!")
    with session_factory(e).begin() as s:
        ensure_facilities(s, SMALL)
        for i in range(20):
            open_case(s, OFFICER, f"P{i}", D)
        for case_id in range(1, 21):
            _arrest(s, case_id)
        open_case(s, OFFICER, "P-not-arrested", D)  # case 21: nobody arrested it
    return e


def _arrest(s: object, case_id: int) -> None:
    """A reinstated order: warrant, approval, assignment, arrest (each by its role)."""
    from habeas.cases.service import record_event

    supervisor = AccessContext("super1", "supervisor", "field_operation")
    field_officer = AccessContext("field1", "field_officer", "field_operation")
    steps: list[tuple[AccessContext, lc.Event]] = [
        (OFFICER, lc.BeginReview(D, "", "")),
        (
            OFFICER,
            lc.Charge(
                D,
                "",
                "",
                instrument="reinstatement",
                reference=f"R-{case_id}",
                authority="ICE ERO (synthetic)",
            ),
        ),
        (OFFICER, lc.FinalizeOrder(D, "", "", **_order_doc(s, case_id))),
        (
            supervisor,
            lc.IssueWarrant(
                D,
                "",
                "",
                instrument="i205",
                reference=f"I205-{case_id}",
                authority="Field Office Director (synthetic)",
            ),
        ),
        (OFFICER, lc.RequestFieldAction(D, "", "")),
        (supervisor, lc.ApproveFieldAction(D, "", "")),
        (supervisor, lc.Assign(D, "", "", team="t")),
        (field_officer, lc.RecordEncounter(D, "", "", outcome="arrested")),
    ]
    for ctx, event in steps:
        record_event(s, ctx, case_id, event)  # type: ignore[arg-type]


def _order_doc(s: object, case_id: int) -> dict[str, str]:
    """The reinstatement decision, attached to the case (what its finality cites)."""
    from habeas.cases.documents import attach_document, verify_document

    digest, _ = attach_document(s, OFFICER, case_id, "reinstatement decision", ORDER)  # type: ignore[arg-type]
    checker = AccessContext("super2", "supervisor", "case_review")  # a second person
    verify_document(s, checker, case_id, digest, "agency", f"A-FILE-{case_id}")  # type: ignore[arg-type]
    return {"document": "reinstatement decision", "document_sha256": digest}


def test_nobody_is_held_without_an_arrest_or_a_decision_to_detain(engine: Engine) -> None:
    """A case still being identified (no arrest, no custody decision) is not placed."""
    from habeas.errors import GateRefused

    with session_factory(engine)() as s, pytest.raises(GateRefused) as refused:
        place(s, CUSTODY, 21, "TINY", D)
    assert "held only after an arrest or a decision to detain" in str(refused.value)
    assert "the case is identified" in str(refused.value)
    with session_factory(engine)() as s:
        tiny = next(r for r in occupancy(s) if r["code"] == "TINY")
    assert tiny["held"] == 0


def test_capacity_is_never_exceeded_under_concurrent_placements(engine: Engine) -> None:
    sessions = session_factory(engine)
    placed, full, other = [], [], []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def worker(case_id: int) -> None:
        start.wait()
        try:
            with sessions() as s:
                place(s, CUSTODY, case_id, "TINY", D)
                s.commit()
            with lock:
                placed.append(case_id)
        except CapacityFull:
            with lock:
                full.append(case_id)
        except Exception as exc:  # anything else is a failure of the test
            with lock:
                other.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    assert len(placed) == 5 and len(full) == 15
    with sessions() as s:
        tiny = next(r for r in occupancy(s) if r["code"] == "TINY")
    assert tiny["held"] == 5 == tiny["capacity"]
    assert verify_store(engine).ok


def test_a_transfer_ends_the_old_placement_and_is_counted(engine: Engine) -> None:
    with session_factory(engine)() as s:
        place(s, CUSTODY, 1, "TINY", D)
        place(s, CUSTODY, 1, "OTHER", D + timedelta(days=3), reason="bed space")
        s.commit()
        rows = {r["code"]: r for r in occupancy(s)}
    assert rows["TINY"]["held"] == 0 and rows["OTHER"]["held"] == 1
    assert rows["OTHER"]["transfers_in"] == 1
    with (
        pytest.raises(AccessDenied, match="no policy permits it"),
        session_factory(engine)() as s,
    ):
        place(s, OFFICER, 2, "TINY", D)


# ---- transport ---------------------------------------------------------------------------


def test_the_exact_plan_waits_instead_of_transferring_when_that_is_cheaper() -> None:
    people = [Ready("a", "ELP", "GTM", D), Ready("b", "ELP", "GTM", D)]
    flights = [
        Flight("far-today", D, "SAT", "GTM", 1),
        Flight("near-later", D + timedelta(days=1), "ELP", "GTM", 2),
    ]
    exact, greedy = plan_min_cost(people, flights), plan_greedy(people, flights)
    assert exact.assigned == {"a": "near-later", "b": "near-later"}
    assert exact.objective == 2 and greedy.objective == TRANSFER_COST + 1  # a transfers, b waits
    assert check_plan(exact, people, flights) == [] == check_plan(greedy, people, flights)


def test_nobody_flies_before_ready_or_over_capacity_and_the_rest_are_explained() -> None:
    people = [Ready(f"p{i}", "ELP", "HND", D + timedelta(days=i)) for i in range(4)]
    flights = [
        Flight("early", D, "ELP", "HND", 10),
        Flight("mid", D + timedelta(days=2), "ELP", "HND", 1),
    ]
    plan = plan_min_cost(people, flights)
    assert check_plan(plan, people, flights) == []
    assert plan.assigned == {"p0": "early", "p1": "mid"} or plan.assigned == {
        "p0": "early",
        "p2": "mid",
    }
    assert len(plan.unassigned) == 2
    assert all(
        r.startswith("no flight capacity to HND on or after") for r in plan.unassigned.values()
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Ready], list[Flight]]:
    hubs = ["ELP", "SAT", "MIA"]
    countries = ["GTM", "HND", "MEX"]
    n = draw(st.integers(0, 60))
    rng = random.Random(draw(st.integers(0, 10_000)))
    people = [
        Ready(
            f"p{i}", rng.choice(hubs), rng.choice(countries), D + timedelta(days=rng.randint(0, 10))
        )
        for i in range(n)
    ]
    flights = [
        Flight(
            f"f{i}",
            D + timedelta(days=rng.randint(0, 14)),
            rng.choice(hubs),
            rng.choice(countries),
            rng.randint(1, 8),
        )
        for i in range(draw(st.integers(0, 15)))
    ]
    return people, flights


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_plans_keep_every_constraint_and_the_exact_one_never_loses_to_greedy(
    world: tuple[list[Ready], list[Flight]],
) -> None:
    people, flights = world
    exact, greedy = plan_min_cost(people, flights), plan_greedy(people, flights)
    assert check_plan(exact, people, flights) == []
    assert check_plan(greedy, people, flights) == []
    assert exact.objective <= greedy.objective
    assert len(exact.unassigned) <= len(greedy.unassigned)


# ---- deadlines ---------------------------------------------------------------------------


def test_deadlines_from_a_case_history() -> None:
    vd = lc.CaseFile(
        "1",
        "P1",
        state=lc.State.FINAL_ORDER,
        final_on=D,
        order=Order("voluntary_departure", D, "ij", departure_deadline=D + timedelta(days=60)),
    )
    (task,) = tasks_for(vd)
    assert task.kind == "voluntary_departure_due" and task.due_on == D + timedelta(days=60)
    assert task.status(D + timedelta(days=61)) == "missed" and task.status(D) == "open"
    detained = replace(
        vd,
        order=Order("removal_order", D, "ij"),
        custody="detained",
        custody_on=D + timedelta(days=10),
    )
    assert [(t.kind, t.due_on) for t in tasks_for(detained)] == [
        ("custody_review_90", D + timedelta(days=100)),
        ("custody_review_180", D + timedelta(days=190)),
    ]
    atd = replace(detained, custody="atd", check_ins=(D + timedelta(days=38),))
    checks = [t for t in tasks_for(atd) if t.kind == "check_in"]
    assert len(checks) == 6 and checks[0].due_on == D + timedelta(days=40)
    assert checks[0].status(D + timedelta(days=90)) == "done"
    assert checks[1].status(D + timedelta(days=74)) == "missed"  # due day 70, 3 days' grace
    assert checks[1].status(D + timedelta(days=73)) == "open"
    closed = replace(atd, state=lc.State.CLOSED)
    assert tasks_for(closed) == []


def _make_ready(s: object, case_id: int, papers_until: date) -> None:
    """An arrested person carried by each role from custody to ready for removal."""
    from habeas.cases.service import record_event

    steps: list[tuple[AccessContext, lc.Event]] = [
        (CUSTODY, lc.DecideCustody(D, "", "", custody="detained")),
        (
            CUSTODY,
            lc.AddInstrument(
                D,
                "",
                "",
                instrument="travel_document",
                reference=f"TD-{case_id}",
                country="GTM",
                authority="consulate of GTM",
                expires_on=papers_until,
            ),
        ),
        (
            CUSTODY,
            lc.AddInstrument(
                D,
                "",
                "",
                instrument="medical_clearance",
                reference=f"M-{case_id}",
                authority="IHSC",
                expires_on=D + timedelta(days=30),
            ),
        ),
        (CUSTODY, lc.SetDestination(D, "", "", country="GTM")),
        (CUSTODY, lc.MarkReady(D, "", "")),
    ]
    for ctx, event in steps:
        record_event(s, ctx, case_id, event)  # type: ignore[arg-type]


def test_from_arrest_to_removal_flight_in_the_store(engine: Engine) -> None:
    """A reinstated order carried by each role to a seat on a planned flight, booked on
    the manifest, boarded; the placement ends with the removal."""
    from habeas.cases.service import record_event
    from habeas.custody.removal import book, plan_transport

    with session_factory(engine)() as s:
        _make_ready(s, 1, D + timedelta(days=60))
        place(s, CUSTODY, 1, "TINY", D)
        s.commit()
        flights = [Flight("F-GTM", D + timedelta(days=2), "ELP", "GTM", 10)]
        report = plan_transport(s, CUSTODY, D, flights)
        assert report.plan.assigned == {"1": "F-GTM"} and report.plan.transfers == 0
        assert book(s, CUSTODY, report, D) == []
        removed = record_event(s, CUSTODY, 1, lc.ConfirmRemoval(D + timedelta(days=2), "", ""))
        s.commit()
        assert removed.state == lc.State.REMOVED and removed.flight == "F-GTM"
        assert next(r for r in occupancy(s) if r["code"] == "TINY")["held"] == 0
    assert verify_store(engine).ok


def test_locking_a_manifest_takes_off_whoever_no_longer_passes_the_gate(engine: Engine) -> None:
    from habeas.cases.service import record_event
    from habeas.custody.removal import lock_manifest

    with session_factory(engine)() as s:
        _make_ready(s, 1, D + timedelta(days=60))
        _make_ready(s, 2, D + timedelta(days=2))  # papers expire before the flight
        for cid in (1, 2):
            record_event(s, CUSTODY, cid, lc.AddToManifest(D, "", "", flight="F-GTM"))
        s.commit()
        lock = lock_manifest(s, CUSTODY, "F-GTM", D + timedelta(days=5))
        s.commit()
        assert lock.kept == [1] and list(lock.taken_off) == [2]
        assert lock.taken_off[2][0].startswith(
            f"no travel document valid on {D + timedelta(days=5)}"
        )
        with pytest.raises(Exception, match="not possible in state ready_for_removal"):
            record_event(s, CUSTODY, 2, lc.ConfirmRemoval(D + timedelta(days=5), "", ""))


def test_a_flight_schedule_file_is_checked_row_by_row(tmp_path: Path) -> None:
    from habeas.custody.removal import read_flights
    from habeas.errors import HabeasError

    good = tmp_path / "f.csv"
    good.write_text("flight,day,hub,country,capacity\nF1,2026-12-03,ELP,GTM,40\n")
    assert read_flights(good) == [Flight("F1", date(2026, 12, 3), "ELP", "GTM", 40)]
    for body, message in (
        ("flight,day,hub\n", "the header must be"),
        ("flight,day,hub,country,capacity\nF1,12/03/2026,ELP,GTM,40\n", "row 2, field day"),
        ("flight,day,hub,country,capacity\nF1,2026-12-03,ELP,GTM,many\n", "row 2, field capacity"),
        ("flight,day,hub,country,capacity\nF1,2026-12-03,ELP,GTM,0\n", "must be at least 1"),
        ("flight,day,hub,country,capacity\nF1,2026-12-03,,GTM,4\n", "row 2, field hub: empty"),
        (
            "flight,day,hub,country,capacity\nF1,2026-12-03,ELP,GTM,4\nF1,2026-12-04,ELP,GTM,4\n",
            "row 3, field flight: 'F1' listed twice",
        ),
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(body)
        with pytest.raises(HabeasError, match=message):
            read_flights(bad)
    with pytest.raises(HabeasError, match="cannot read the flights"):
        read_flights(tmp_path / "missing.csv")
