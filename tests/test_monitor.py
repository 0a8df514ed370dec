"""The monitor through the application: a verified exit closes the case, cancels the
field assignment and takes the person off a flight in one audited effect; a near miss,
an ambiguity, an exit older than an entry, an entry after a departure each go to a
person instead; repeats do nothing; bad events are quarantined naming the field and the
rule; a feed nobody declared is refused; the feed's account can do nothing else."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from monitorkit import (
    PAST,
    TODAY,
    Subject,
    approved,
    assigned,
    audit_entries,
    crossing,
    exit_event,
    inbox,
    monitor_app,
    now,
    on_manifest,
    post,
    self_report,
    statuses,
    subjects,
)
from sqlalchemy import func, select

from habeas.app import Habeas
from habeas.errors import AccessDenied, HabeasError, UndeclaredFeed
from habeas.governance.disclosure import mask
from habeas.store.models import (
    Assignment,
    Case,
    CaseEvent,
    EventQuarantine,
    EventReview,
    Task,
)


@pytest.fixture
def mon(resolved: Path, world: Any, tmp_path: Path) -> Any:
    app = monitor_app(resolved, world.out, tmp_path / "data")
    yield app
    app.close()


@pytest.fixture
def mon_on(resolved: Path, world: Any, tmp_path: Path, store_url: str) -> Any:
    url = None if store_url.startswith("sqlite") else store_url
    app = monitor_app(resolved, world.out, tmp_path / "data", url)
    yield app
    app.close()


@pytest.fixture
def people(mon: Habeas, world: Any) -> list[Subject]:
    found = subjects(mon, world.out)
    assert len(found) >= 6
    return found


def state(app: Habeas, case_id: int) -> str:
    with app.reader() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.state


def steps(app: Habeas, case_id: int, kind: str) -> int:
    with app.reader() as s:
        return s.execute(
            select(func.count()).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        ).scalar_one()


def test_a_verified_exit_closes_the_case_and_cancels_the_assignment_at_once(
    mon_on: Habeas, world: Any
) -> None:
    """End to end, on SQLite and PostgreSQL: the exit is linked to the person above the
    threshold with its waterfall, the case closes as departure verified, the officer's
    open assignment is cancelled with the reason and their day shows it, and the event
    has one audit entry naming the event, the person and the case."""
    app = mon_on
    s = subjects(app, world.out)[0]
    case_id, assignment = assigned(app, s)
    receipt = post(app, "airline_exits", [exit_event(s, "AX-E2E-1")])
    assert statuses(receipt) == ["applied"]
    assert state(app, case_id) == "departure_verified"
    with app.reader() as ses:
        a = ses.get(Assignment, assignment)
        assert a is not None and a.status == "cancelled"
        assert "departure verified" in (a.reason or "") and "nobody is to be sent" in (
            a.reason or ""
        )
    day = app.field.today(app.users.local("field1", "t"), "field_operation", TODAY)
    shown = [x for x in day.items if x.id == assignment]
    assert (
        shown and shown[0].status == "cancelled" and "departure verified" in (shown[0].reason or "")
    )
    row = inbox(app, "airline_exits", "AX-E2E-1")
    assert row.status == "applied" and row.person_id == s.person_id and row.case_id == case_id
    assert row.match_probability >= 0.95
    waterfall = json.loads(row.explanation)
    assert {w["comparison"] for w in waterfall} >= {"given", "family", "dob"}
    assert "flight" in (row.dropped or "") and "destination" in (row.dropped or "")
    assert "flight" not in row.record and "AA100" not in row.record
    entries = [
        e for e in audit_entries(app, "monitor_event") if f"case:{case_id}" in e["resources"]
    ]
    assert len(entries) == 1 and entries[0]["user"] == "feed1"
    assert {"event:airline_exits:AX-E2E-1", f"person:{s.person_id}"} <= set(entries[0]["resources"])
    assert (
        "departure verified" in entries[0]["detail"]
        and "1 field assignment" in entries[0]["detail"]
    )
    proof = [
        e
        for e in audit_entries(app, "case_verify_departure")
        if f"case:{case_id}" in e["resources"]
    ]
    assert len(proof) == 1 and proof[0]["user"] == "feed1"
    verified, _ = app.audit.verify()
    assert verified.ok, verified


def test_a_verified_exit_takes_a_booked_person_off_the_flight(
    mon: Habeas, people: list[Subject]
) -> None:
    """On a manifest: taken off the flight first (the step says why), then the departure
    verified, saying that the final order counts as executed by self-departure."""
    s = people[1]
    case_id = on_manifest(mon, s)
    assert state(mon, case_id) == "on_manifest"
    assert statuses(post(mon, "airline_exits", [exit_event(s, "AX-FLY-1")])) == ["applied"]
    assert state(mon, case_id) == "departure_verified"
    assert steps(mon, case_id, "take_off_manifest") == 1
    with mon.reader() as ses:
        last = (
            ses.execute(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())
            )
            .scalars()
            .first()
        )
        assert last is not None and last.kind == "verify_departure" and last.actor == "feed1"
        proof = json.loads(last.payload)["proof"]
        assert "executed by self-departure (8 U.S.C. 1101(g))" in proof
        assert "airline_exits event AX-FLY-1" in proof and "8 CFR 231.2" in proof
    row = inbox(mon, "airline_exits", "AX-FLY-1")
    assert "taken off flight F-9" in row.effect


def test_a_near_miss_name_goes_to_review_and_closes_nothing(
    mon: Habeas, people: list[Subject]
) -> None:
    """No passport and a name spelled otherwise: the link falls short of the threshold,
    so the event waits for a person; the case and its assignment are untouched."""
    s = people[2]
    case_id, assignment = assigned(mon, s)
    near = crossing(s, "AX-NEAR-1", "EXIT", now())
    near.pop("document_number")
    near["surname"] = "ZZ" + s.truth.family_name.upper()[2:] + "Q"
    near["given_names"] = "X" + s.truth.given_name.upper()[1:]
    near["birth_date"] = s.truth.dob.replace(day=min(28, s.truth.dob.day % 28 + 1)).isoformat()
    receipt = post(mon, "land_border_crossings", [near])
    assert statuses(receipt) in (["review"], ["unmatched"])
    assert state(mon, case_id) == "assigned"
    with mon.reader() as ses:
        a = ses.get(Assignment, assignment)
        assert a is not None and a.status == "open"
        review = ses.execute(
            select(EventReview).where(EventReview.event_id == "AX-NEAR-1")
        ).scalar_one()
        assert review.kind == "match" and review.status == "open"
    row = inbox(mon, "land_border_crossings", "AX-NEAR-1")
    assert row.person_id is None and row.case_id is None


def test_an_identifier_that_conflicts_keeps_the_event_from_the_person(
    mon: Habeas, people: list[Subject]
) -> None:
    """Everything agrees but the A-number: two people, not one; to review."""
    s = people[3]
    case_id = approved(mon, s)
    other = str(int(s.truth.a_number or "100000000") + 5555).zfill(9)[-9:]
    receipt = post(mon, "departure_app_reports", [self_report(s, "SR-CONFLICT", a_number=other)])
    assert statuses(receipt) == ["review"]
    with mon.reader() as ses:
        review = ses.execute(
            select(EventReview).where(EventReview.event_id == "SR-CONFLICT")
        ).scalar_one()
        # the reason names the conflict; the numbers are stored masked (the event keeps them)
        assert "a number" in review.detail and mask(other) in review.detail
        assert other not in review.detail
    assert state(mon, case_id) == "approved_for_field_action"


def test_replays_and_repeats_do_nothing_the_second_time(mon: Habeas, people: list[Subject]) -> None:
    """A batch posted again, and an event twice in one batch: acknowledged as repeats;
    one step, one inbox row, one audit entry."""
    s = people[4]
    case_id = approved(mon, s)
    batch = [exit_event(s, "AX-REP-1"), exit_event(s, "AX-REP-1")]
    assert statuses(post(mon, "airline_exits", batch)) == ["applied", "duplicate"]
    again = post(mon, "airline_exits", batch)
    assert statuses(again) == ["duplicate", "duplicate"] and again.new == 0
    assert steps(mon, case_id, "verify_departure") == 1
    other_feed = post(mon, "land_border_crossings", [crossing(s, "LB-REP-2", "EXIT", now())])
    assert statuses(other_feed) == ["no_effect"]  # the second exit of the same departure
    assert steps(mon, case_id, "verify_departure") == 1
    mine = [e for e in audit_entries(mon, "monitor_event") if f"case:{case_id}" in e["resources"]]
    assert len(mine) == 2  # one per event: the exit that acted and the one that did not


def test_a_repeated_event_id_with_other_content_is_a_conflict_not_a_repeat(
    mon: Habeas, people: list[Subject]
) -> None:
    s = people[4]
    approved(mon, s)
    assert statuses(post(mon, "airline_exits", [exit_event(s, "AX-CONF-1")])) == ["applied"]
    changed = exit_event(s, "AX-CONF-1", airport="LAX")
    changed["surname"] = "SOMEBODY"
    got = post(mon, "airline_exits", [changed])
    assert statuses(got) == ["quarantined"]
    assert "received before with other content" in (got.results[0].reason or "")


def test_a_forged_or_rewritten_or_deleted_inbox_row_is_caught(
    mon: Habeas, people: list[Subject]
) -> None:
    """Someone who writes the store plants an inbox row for an event id before the real
    event arrives (so it would be swallowed as a 'duplicate'), rewrites a row, or deletes
    one: the real event is refused with the reason, and audit verify names each."""
    from sqlalchemy import create_engine, text

    s, t = people[4], people[5]
    case_id = approved(mon, s)
    real = exit_event(s, "AX-FORGE-1")
    raw = create_engine(mon.settings.operational_url)
    with raw.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO monitor_inbox (source, event_id, kind, occurred_at, received_at, "
                "committed_at, via, status, effect, record, retain_until) VALUES ('airline_exits', "
                "'AX-FORGE-1', 'exit', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', 'http', 'no_effect', 'nothing', :r, '2099-01-01')"
            ),
            {"r": json.dumps({"surname": "X"})},
        )
    got = post(mon, "airline_exits", [real])
    assert statuses(got) == ["quarantined"]
    assert "does not carry its seal" in (got.results[0].reason or "")
    assert state(mon, case_id) == "approved_for_field_action"
    v, _ = mon.audit.verify()
    assert not v.ok and "inbox row airline_exits:AX-FORGE-1 does not carry its seal" in (
        v.history_problem or ""
    )
    with raw.begin() as conn:
        conn.execute(text("DELETE FROM monitor_inbox WHERE event_id = 'AX-FORGE-1'"))
    approved(mon, t)
    assert statuses(post(mon, "airline_exits", [exit_event(t, "AX-FORGE-2")])) == ["applied"]
    assert mon.audit.verify()[0].ok
    with raw.begin() as conn:  # a rewrite: the event now says it did nothing
        conn.execute(
            text("UPDATE monitor_inbox SET status = 'no_effect' WHERE event_id = 'AX-FORGE-2'")
        )
    v, _ = mon.audit.verify()
    assert "inbox row airline_exits:AX-FORGE-2 does not carry its seal" in (v.history_problem or "")
    with raw.begin() as conn:
        conn.execute(text("DELETE FROM monitor_inbox WHERE event_id = 'AX-FORGE-2'"))
    v, _ = mon.audit.verify()
    assert (
        "airline_exits:AX-FORGE-2: the log recorded this event, the inbox no longer holds it"
        in (v.history_problem or "")
    )
    raw.dispose()


def test_an_exit_dated_before_birth_or_before_the_order_closes_nothing(
    mon: Habeas, people: list[Subject]
) -> None:
    from datetime import datetime as dt

    s, t = people[6], people[7]
    case_id = approved(mon, s)
    got = post(mon, "airline_exits", [exit_event(s, "AX-1901", at=dt(1901, 3, 4, 10, 0))])
    assert statuses(got) == ["review"]
    assert state(mon, case_id) == "approved_for_field_action"
    with mon.reader() as ses:
        why = ses.execute(
            select(EventReview.detail).where(EventReview.event_id == "AX-1901")
        ).scalar_one()
    assert "dated 1901-03-04, before the person was born" in why
    manifest = on_manifest(mon, t)  # an order decided on PAST + 10 days
    early = exit_event(t, "AX-EARLY", at=dt.combine(PAST + timedelta(days=3), dt.min.time()))
    assert statuses(post(mon, "airline_exits", [early])) == ["review"]
    assert state(mon, manifest) == "on_manifest"
    with mon.reader() as ses:
        why = ses.execute(
            select(EventReview.detail).where(EventReview.event_id == "AX-EARLY")
        ).scalar_one()
    assert "before the order of" in why and "does not execute it" in why


def test_events_out_of_order_close_nothing_a_later_entry_contradicts(
    mon: Habeas, people: list[Subject]
) -> None:
    """An entry received first, then an exit that happened before it: the person came
    back, so nothing closes and a person looks at it."""
    from datetime import timedelta

    s = people[5]
    case_id = approved(mon, s)
    t = now() - timedelta(hours=3)
    assert statuses(post(mon, "land_border_crossings", [crossing(s, "LB-ORD-2", "ENTRY", t)])) == [
        "no_effect"
    ]
    late = post(
        mon, "land_border_crossings", [crossing(s, "LB-ORD-1", "EXIT", t - timedelta(hours=1))]
    )
    assert statuses(late) == ["review"]
    assert state(mon, case_id) == "approved_for_field_action"
    with mon.reader() as ses:
        review = ses.execute(
            select(EventReview).where(EventReview.event_id == "LB-ORD-1")
        ).scalar_one()
        assert review.kind == "exit_before_entry"


def test_an_entry_after_a_verified_departure_reopens_nothing_and_raises_a_review(
    mon: Habeas, people: list[Subject]
) -> None:
    from datetime import timedelta

    s = people[0]
    case_id = approved(mon, s)
    t = now() - timedelta(hours=5)
    assert statuses(post(mon, "land_border_crossings", [crossing(s, "LB-AFT-1", "EXIT", t)])) == [
        "applied"
    ]
    back = post(
        mon, "land_border_crossings", [crossing(s, "LB-AFT-2", "ENTRY", t + timedelta(hours=4))]
    )
    assert statuses(back) == ["review"]
    assert state(mon, case_id) == "departure_verified"
    with mon.reader() as ses:
        review = ses.execute(
            select(EventReview).where(EventReview.event_id == "LB-AFT-2")
        ).scalar_one()
        assert review.kind == "entry_after_departure"
        assert json.loads(review.cites) == [
            "land_border_crossings:LB-AFT-2",
            "land_border_crossings:LB-AFT-1",
        ]


def test_a_self_report_holds_field_action_and_opens_a_verification_task(
    mon: Habeas, people: list[Subject]
) -> None:
    """Reported, not verified: the case stays open, field action is held (the open
    assignment cancelled, a new one refused with the reason), a task is due in 14 days;
    the photo and the phone's position are not kept. A verified exit then closes it."""
    s = people[1]
    case_id, assignment = assigned(mon, s)
    assert statuses(post(mon, "departure_app_reports", [self_report(s, "SR-HOLD-1")])) == [
        "applied"
    ]
    assert state(mon, case_id) == "assigned"
    with mon.reader() as ses:
        a = ses.get(Assignment, assignment)
        assert (
            a is not None and a.status == "cancelled" and "field action is held" in (a.reason or "")
        )
        task = ses.execute(
            select(Task).where(Task.case_id == case_id, Task.kind == "verify_reported_departure")
        ).scalar_one()
        assert task.status == "open" and (task.due_on - TODAY).days in (13, 14)
    row = inbox(mon, "departure_app_reports", "SR-HOLD-1")
    assert "selfie" not in row.record and "19.43" not in row.record
    assert row.dropped == "latitude, longitude, photo_ref"
    assert statuses(post(mon, "airline_exits", [exit_event(s, "AX-HOLD-2")])) == ["applied"]
    assert state(mon, case_id) == "departure_verified"


def test_bad_events_are_quarantined_naming_the_field_and_the_rule(
    mon: Habeas, people: list[Subject]
) -> None:
    from datetime import timedelta

    s = people[2]
    future = exit_event(
        s, "AX-BAD-FUT", departed_at=(now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    )
    no_id = exit_event(s, "x")
    no_id.pop("event_id")
    bad_time = exit_event(s, "AX-BAD-TIME", departed_at="yesterday")
    receipt = post(
        mon,
        "airline_exits",
        [
            b'{"broken',
            17,
            no_id,
            future,
            bad_time,
            exit_event(s, "AX-BAD-CTRL", surname="A\x1bB"),
            {"event_id": "AX-BIG", "pad": "x" * 70_000},
        ],
    )
    assert statuses(receipt) == ["quarantined"] * 7
    reasons = {r.position: r.reason for r in receipt.results}
    assert "malformed JSON" in reasons[1] and "not an object" in reasons[2]
    assert "event_id" in reasons[3] and "required" in reasons[3]
    assert "departed_at" in reasons[4] and "after now" in reasons[4]
    assert "departed_at" in reasons[5]
    assert "surname" in reasons[6] and "control" in reasons[6]
    assert "at most" in reasons[7]
    with mon.reader() as ses:
        kept = (
            ses.execute(select(EventQuarantine).order_by(EventQuarantine.position)).scalars().all()
        )
        assert [q.position for q in kept] == [1, 2, 3, 4, 5, 6, 7]
        assert all(q.value is None or len(q.value) <= 200 for q in kept)
        assert kept[0].rule == "structure" and kept[3].rule == "future"
    crossing_bad = crossing(s, "LB-BAD-DIR", "SIDEWAYS", now())
    assert statuses(post(mon, "land_border_crossings", [crossing_bad])) == ["quarantined"]


def test_a_feed_nobody_declared_is_refused(mon: Habeas, people: list[Subject]) -> None:
    with pytest.raises(UndeclaredFeed, match="not a declared source"):
        post(mon, "no_such_feed", [exit_event(people[0], "X1")])
    with pytest.raises(UndeclaredFeed, match="not an event feed"):
        post(mon, "cbp_crossings", [exit_event(people[0], "X1")])


def test_only_the_feed_account_posts_and_it_is_audited(mon: Habeas, people: list[Subject]) -> None:
    """An integration engineer, an officer: refused, with the policy, and audited."""
    for who in ("eng1", "officer1", "super1"):
        with pytest.raises(AccessDenied, match="may not post airline_exits events"):
            post(mon, "airline_exits", [exit_event(people[0], "X2")], who=who)
    denied = [e for e in audit_entries(mon, "monitor_receive")]
    assert len(denied) >= 3
    with pytest.raises(Exception, match="purpose"):
        mon.monitor.receive(
            mon.users.local("feed1", "t"),
            "case_review",
            "airline_exits",
            [exit_event(people[0], "X3")],
        )
    assert inbox(mon, "airline_exits", "X2") is None and inbox(mon, "airline_exits", "X3") is None


def test_a_reviewer_decides_same_or_different(mon: Habeas, people: list[Subject]) -> None:
    """``same`` applies the event's effect as the reviewer's step; ``different`` keeps
    the event's identity from that person: the next event like it waits again."""
    s = people[3]
    case_id = approved(mon, s)
    bad = self_report(
        s,
        "SR-REV-1",
        first_name="Q" + s.truth.given_name[1:],
        last_name=s.truth.family_name[:-1] + "q",
    )
    bad.pop("a_number")  # the app sent no A-number, the names are misspelt, the day is off
    bad["date_of_birth"] = s.truth.dob.replace(day=min(28, s.truth.dob.day % 28 + 1)).isoformat()
    bad["last_name"] = s.truth.family_name  # the family name is right: a candidate, unsure
    assert statuses(post(mon, "departure_app_reports", [bad]))[0] == "review"
    officer = mon.users.local("officer1", "t")
    [review] = [r for r in mon.monitor.reviews(officer, "case_review") if r.event_id == "SR-REV-1"]
    with pytest.raises(AccessDenied):
        mon.monitor.reviews(mon.users.local("feed1", "t"), "identity_resolution")
    # "same" names only a person the event was matched against, never an unrelated one
    unrelated = people[6].person_id
    with pytest.raises(HabeasError, match="only a person the event was matched against"):
        mon.monitor.decide(
            officer, "case_review", review.id, "same", "naming somebody else entirely", unrelated
        )
    said = mon.monitor.decide(
        officer,
        "case_review",
        review.id,
        "same",
        "A-number and birth date agree; the app misspelt the name",
        s.person_id,
    )
    assert "departure reported" in said
    with mon.reader() as ses:
        e = ses.execute(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "report_departure"
            )
        ).scalar_one()
        assert e.actor == "officer1"
    t, u = people[4], people[5]
    approved(mon, t)
    # t's A-number on a report naming someone else entirely: a reviewer says not t
    stranger = self_report(u, "SR-REV-2", a_number=t.truth.a_number)
    assert statuses(post(mon, "departure_app_reports", [stranger]))[0] == "review"
    [open_] = [r for r in mon.monitor.reviews(officer, "case_review") if r.event_id == "SR-REV-2"]
    mon.monitor.decide(
        officer,
        "case_review",
        open_.id,
        "different",
        "the photo and the consulate say this is another person",
        t.person_id,
    )
    # a report with that A-number now waits for a person, however well it matches
    again = self_report(t, "SR-REV-3")
    assert statuses(post(mon, "departure_app_reports", [again])) == ["review"]
    with mon.reader() as ses:
        review = ses.execute(
            select(EventReview).where(EventReview.event_id == "SR-REV-3")
        ).scalar_one()
        assert "a reviewer decided this identity is not person" in review.detail


def test_the_http_way_in_answers_each_event_and_refuses_what_is_wrong(
    mon: Habeas, people: list[Subject]
) -> None:
    """POST /events/{source} with the feed's token: one answer per event, no identity in
    it; an undeclared feed is a 404 naming it, another account's token a 403, a body
    that is no array a 422; the status (and its event stream) counts what happened."""
    from fastapi.testclient import TestClient

    from habeas.server import create_api

    s = people[0]
    case_id = approved(mon, s)
    root = mon.users.local("root", "t")
    feed = mon.users.create_token(root, "feed1", "test").secret
    officer = mon.users.create_token(root, "officer1", "test").secret
    ig = mon.users.create_token(root, "ig1", "test").secret

    def h(token: str, purpose: str = "identity_resolution") -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "X-Habeas-Purpose": purpose}

    with TestClient(create_api(mon)) as client:
        r = client.post(
            "/events/airline_exits", json=[exit_event(s, "AX-HTTP-1"), {"nope": 1}], headers=h(feed)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert [x["status"] for x in body["results"]] == ["applied", "quarantined"]
        assert s.person_id not in r.text and "case" not in json.dumps(body["results"])
        assert "event_id" in body["results"][1]["reason"]
        again = client.post(
            "/events/airline_exits", json=[exit_event(s, "AX-HTTP-1")], headers=h(feed)
        )
        assert again.json()["duplicates"] == 1
        missing = client.post("/events/no_such_feed", json=[{}], headers=h(feed))
        assert missing.status_code == 404 and "no_such_feed" in missing.json()["detail"]
        wrong = client.post(
            "/events/airline_exits",
            json=[exit_event(s, "AX-HTTP-2")],
            headers=h(officer, "case_review"),
        )
        assert wrong.status_code == 403
        shape = client.post("/events/airline_exits", json={"events": []}, headers=h(feed))
        assert shape.status_code == 422
        bad_name = client.post("/events/..%2Fetc", json=[], headers=h(feed))
        assert bad_name.status_code in (404, 422)
        st = client.get("/monitor/status", headers=h(ig, "oversight"))
        assert st.status_code == 200
        status = st.json()
        assert status["effects"]["applied"] == 1 and status["quarantined"] == 1
        assert status["latency_ms_p50"] is not None
        with client.stream("GET", "/monitor/stream", headers=h(ig, "oversight")) as sse:
            assert sse.headers["content-type"].startswith("text/event-stream")
            first = next(sse.iter_lines())
            assert first == "event: status"
    assert state(mon, case_id) == "departure_verified"


def test_synth_events_and_monitor_status_from_the_terminal(
    mon: Habeas, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from habeas.cli.main import execute

    data = str(mon.settings.data_dir)
    stream = tmp_path / "s.jsonl"
    ledger = tmp_path / "ledger.jsonl"
    assert (
        execute(
            [
                "--data-dir",
                data,
                "synth",
                "events",
                "--rate",
                "20",
                "--seconds",
                "3",
                "--people",
                "1500",
                "--seed",
                "11",
                "--out",
                str(stream),
                "--ledger",
                str(ledger),
            ]
        )
        == 0
    )
    lines = stream.read_text().splitlines()
    assert len(lines) == 60 and len(ledger.read_text().splitlines()) == 60
    assert execute(["--data-dir", data, "monitor", "post", str(stream), "--as", "feed1"]) == 0
    printed = capsys.readouterr().out
    assert "60 events:" in printed
    assert (
        execute(["--data-dir", data, "monitor", "status", "--as", "ig1", "--purpose", "oversight"])
        == 0
    )
    assert "effects:" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "airline_exits", "event": {}}\nnot json\n')
    assert execute(["--data-dir", data, "monitor", "post", str(bad), "--as", "feed1"]) != 0
    assert "line 2: not JSON" in capsys.readouterr().err


def test_an_event_naming_a_key_twice_is_refused_by_every_way_in(
    mon: Habeas, people: list[Subject]
) -> None:
    """Two values for one field: which is meant is not known. Over HTTP the batch is
    refused whole; in a file (the watched folder, NATS) the event is quarantined."""
    from fastapi.testclient import TestClient

    from habeas.server import create_api

    s = people[8]
    approved(mon, s)
    body = json.dumps(exit_event(s, "AX-TWICE"))
    twice = body[:-1] + ', "surname": "SOMEBODY ELSE"}'
    feed = mon.users.create_token(mon.users.local("root", "t"), "feed1", "test").secret
    headers = {
        "Authorization": f"Bearer {feed}",
        "X-Habeas-Purpose": "identity_resolution",
        "Content-Type": "application/json",
    }
    with TestClient(create_api(mon)) as client:
        r = client.post("/events/airline_exits", content=f"[{twice}]", headers=headers)
    assert r.status_code == 422 and "names the key 'surname' twice" in r.json()["detail"]
    assert inbox(mon, "airline_exits", "AX-TWICE") is None
    got = mon.monitor.receive(
        mon.users.local("feed1", "t"),
        "identity_resolution",
        "airline_exits",
        [twice.encode()],
        via="folder",
    )
    assert statuses(got) == ["quarantined"] and "repeats a key" in (got.results[0].reason or "")


def test_over_http_a_feed_closes_no_case_and_same_names_only_a_candidate(
    mon: Habeas, people: list[Subject]
) -> None:
    """A feed's token on the ordinary step route is refused (it reaches a case only as the
    effect of a matched event); a reviewer's "same" cannot name an unrelated person."""
    from fastapi.testclient import TestClient

    from habeas.server import create_api

    s, other = people[8], people[9]
    case_id = approved(mon, s)
    root = mon.users.local("root", "t")
    feed = mon.users.create_token(root, "feed1", "test").secret
    officer = mon.users.create_token(root, "officer1", "test").secret

    def h(token: str, purpose: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "X-Habeas-Purpose": purpose}

    with TestClient(create_api(mon)) as client:
        step = {"kind": "verify_departure", "fields": {"proof": "trust me"}}
        r = client.post(
            f"/cases/{case_id}/steps", headers=h(feed, "identity_resolution"), json=step
        )
        assert r.status_code == 403 and "monitor's intake" in r.json()["detail"]
        assert state(mon, case_id) == "approved_for_field_action"
        bad = self_report(s, "SR-HTTP-SAME", first_name="Q" + s.truth.given_name[1:])
        bad.pop("a_number")
        bad["date_of_birth"] = s.truth.dob.replace(
            day=min(28, s.truth.dob.day % 28 + 1)
        ).isoformat()
        assert statuses(post(mon, "departure_app_reports", [bad])) == ["review"]
        r = client.get("/monitor/reviews", headers=h(officer, "case_review"))
        [review] = [x for x in r.json() if x["event_id"] == "SR-HTTP-SAME"]
        r = client.post(
            f"/monitor/reviews/{review['id']}",
            headers=h(officer, "case_review"),
            json={
                "decision": "same",
                "reason": "another person entirely",
                "person_id": other.person_id,
            },
        )
        assert r.status_code == 422 and "matched against" in r.json()["detail"]
    assert state(mon, case_id) == "approved_for_field_action"
