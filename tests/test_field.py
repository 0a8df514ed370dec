"""Field operations through the application: the planner shows only approved cases of the
supervisor's area at addresses the purpose may read; assignment checks the gate again;
an outcome moves the case once however often it is sent; a non-subject encounter moves
nothing; a departure, a stay or a flag cancels an open assignment at once. Each rule is
tried against, on SQLite and PostgreSQL where the store decides it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fieldkit import NYC, TODAY, approved_case, make_field_app, person, step, warrant_case
from sqlalchemy import func, select

from habeas.app import Habeas
from habeas.app.field.schemas import OutcomeIn
from habeas.errors import AccessDenied, Conflict, HabeasError, NotFound
from habeas.store.models import (
    Assignment,
    AuditEntry,
    CaseEvent,
    FieldOutcome,
    FieldTeam,
    IndexFlag,
    Task,
)

F = "field_operation"


@pytest.fixture
def field_app(tmp_path: Path) -> Any:
    app, _ = make_field_app(tmp_path / "data")
    yield app
    app.close()


@pytest.fixture
def field_app_on(store_url: str, tmp_path: Path) -> Any:
    url = None if store_url.startswith("sqlite") else store_url
    app, _ = make_field_app(tmp_path / "data", url)
    yield app
    app.close()


def me(app: Habeas, who: str) -> Any:
    return app.users.local(who, "t")


def assigned(app: Habeas, pid: str, team: str = "NE-1", **kw: Any) -> tuple[int, int]:
    """A case carried to approved and assigned to ``team`` today: (case, assignment)."""
    case_id = approved_case(app, pid, **kw)
    report = app.field.assign(me(app, "super1"), F, [case_id], team, TODAY)
    assert not report.refused, report.refused
    return case_id, report.assigned[0].id


def outcome(assignment: int, kind: str = "arrested", **kw: Any) -> OutcomeIn:
    return OutcomeIn(
        uuid=str(uuid.uuid4()),
        assignment_id=assignment,
        outcome=kind,
        occurred_at=datetime.now(UTC).replace(microsecond=0),
        **kw,
    )


def events(app: Habeas, case_id: int, kind: str) -> int:
    with app.sessions() as s:
        return s.execute(
            select(func.count()).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        ).scalar_one()


# -- the planner ----------------------------------------------------------------------------


def test_the_planner_shows_approved_cases_of_the_area_only(field_app: Habeas) -> None:
    ok = approved_case(field_app, "P-NY")
    west = approved_case(
        field_app,
        "P-CA",
        addresses=[
            dict(
                NYC, street="1 Main St", city="LA", state="CA", zip="90012", lat=34.05, lon=-118.24
            )
        ],
    )
    # a person at the same address without a case, and a case only requested: never shown
    person(field_app, "P-NEIGHBOUR", "Ben Nearby", [NYC])
    requested = warrant_case(field_app, "P-REQ")
    step(field_app, "officer1", "case_review", requested, "request_field_action")
    view = field_app.field.planner(me(field_app, "super1"), F)
    shown = set(view.points.case_id)
    assert ok in shown and west not in shown and requested not in shown
    assert len(view.points.case_id) == len(view.points.lat) == 1  # no neighbour, no request
    assert field_app.field.planner(me(field_app, "superwest"), F).points.case_id == [west]
    with pytest.raises(HabeasError, match="no address in office WE"):
        field_app.field.planner_case(me(field_app, "superwest"), F, ok)


def test_a_record_without_a_state_is_placed_by_its_zip_and_a_state_by_its_letters(
    field_app: Habeas,
) -> None:
    no_state = approved_case(field_app, "P-NOSTATE", addresses=[dict(NYC, state=None)])
    spaced = approved_case(field_app, "P-SPACED", addresses=[dict(NYC, state=" ny ")])
    elsewhere = approved_case(
        field_app,
        "P-NJ-ZIP-CA",
        addresses=[dict(NYC, state="CA", zip="90012", lat=34.0, lon=-118.2)],
    )
    shown = set(field_app.field.planner(me(field_app, "super1"), F).points.case_id)
    assert {no_state, spaced} <= shown and elsewhere not in shown


def test_a_case_not_approved_is_not_on_the_planner_and_cannot_be_assigned(
    field_app: Habeas,
) -> None:
    person(field_app, "P-Q", "Quinn Test", [NYC])
    case_id = field_app.cases.open_case(
        me(field_app, "officer1"), "case_review", "P-Q", TODAY - timedelta(days=5)
    ).case_id
    step(field_app, "officer1", "case_review", case_id, "begin_review", TODAY - timedelta(days=5))
    assert case_id not in field_app.field.planner(me(field_app, "super1"), F).points.case_id
    report = field_app.field.assign(me(field_app, "super1"), F, [case_id], "NE-1", TODAY)
    assert not report.assigned
    reasons = " ".join(report.refused[0].reasons)
    assert (
        "assign refused in state under_review" in str(report.refused[0].reasons)
        or "approval" in reasons
    )


def test_the_planner_is_a_supervisors_for_the_field_purpose(field_app: Habeas) -> None:
    approved_case(field_app, "P1")
    with pytest.raises(AccessDenied, match="no policy permits"):
        field_app.field.planner(me(field_app, "field1"), F)
    with pytest.raises(AccessDenied, match="no policy permits"):
        field_app.field.planner(me(field_app, "super1"), "case_review")
    with pytest.raises(AccessDenied, match="no policy permits"):
        field_app.field.planner(me(field_app, "officer1"), F)
    with field_app.sessions() as s:
        denied = s.execute(
            select(func.count()).where(
                AuditEntry.action == "field_planner", AuditEntry.decision == "deny"
            )
        ).scalar_one()
    assert denied == 3


def test_addresses_the_purpose_may_not_read_never_reach_the_map(field_app: Habeas) -> None:
    irs_newer = dict(
        NYC,
        source="irs_returns",
        street="99 Hidden Rd",
        zip="10301",
        lat=40.64,
        lon=-74.08,
        address_date=TODAY.isoformat(),
    )
    case_id = approved_case(field_app, "P-IRS", addresses=[NYC, irs_newer])
    only_irs = approved_case(field_app, "P-ONLYIRS", addresses=[irs_newer])
    view = field_app.field.planner(me(field_app, "super1"), F)
    shown = field_app.field.planner_case(me(field_app, "super1"), F, case_id)
    assert shown.address["street"] == NYC["street"]
    assert "irs_returns" not in shown.address["sources"]
    assert all("Hidden" not in str(o) for o in shown.address["others"])
    assert only_irs not in view.points.case_id
    assert view.no_address == 1 and view.withheld_sources == 1


def test_address_confidence_is_shown_in_its_parts(field_app: Habeas) -> None:
    far = dict(
        NYC,
        source="usms_warrants",
        street="1 Elm St",
        zip="12207",
        lat=42.65,
        lon=-73.75,
        address_date=(TODAY - timedelta(days=60)).isoformat(),
    )
    case_id = approved_case(field_app, "P-C", addresses=[NYC, far])
    c = field_app.field.planner_case(me(field_app, "super1"), F, case_id)
    parts = {p["name"]: p for p in c.address["parts"]}
    assert set(parts) == {"recency", "agreement", "spread"}
    assert c.address["confidence"] == sum(p["points"] for p in parts.values())
    assert parts["spread"]["points"] == 0 and "km away" in parts["spread"]["why"]
    assert "1 of 2" in parts["agreement"]["why"]
    assert c.address["others"][0]["km"] > 200
    assert (
        field_app.field.planner(me(field_app, "super1"), F, min_confidence=90).points.case_id == []
    )


# -- assignment -----------------------------------------------------------------------------


def test_assignment_checks_the_gate_again_and_names_every_reason(field_app: Habeas) -> None:
    case_id = approved_case(field_app, "P-FLAG")
    with field_app.sessions() as s:
        s.add(
            IndexFlag(
                person_id="P-FLAG",
                flag="citizenship",
                detail="birth record (synthetic)",
                record_ids="[]",
                status="open",
                raised_at=datetime.now(),
                run_id="test",
            )
        )
        s.commit()
    view = field_app.field.planner(me(field_app, "super1"), F)
    assert view.points.blocked[view.points.case_id.index(case_id)]
    assert (
        "citizenship"
        in field_app.field.planner_case(me(field_app, "super1"), F, case_id).blocked[0]
    )
    report = field_app.field.assign(me(field_app, "super1"), F, [case_id], "NE-1", TODAY)
    assert not report.assigned
    assert any("citizenship" in r for r in report.refused[0].reasons)
    with field_app.sessions() as s:
        assert s.execute(select(func.count()).select_from(Assignment)).scalar_one() == 0


def test_a_team_of_another_office_and_a_field_officer_cannot_assign(field_app: Habeas) -> None:
    case_id = approved_case(field_app, "P-T")
    with pytest.raises(AccessDenied, match="not a team of office NE"):
        field_app.field.assign(me(field_app, "super1"), F, [case_id], "WE-1", TODAY)
    with pytest.raises(AccessDenied):
        field_app.field.assign(me(field_app, "field1"), F, [case_id], "NE-1", TODAY)
    with pytest.raises(HabeasError, match="outside office WE"):
        # the west supervisor may not reach into the northeast by naming the case
        report = field_app.field.assign(me(field_app, "superwest"), F, [case_id], "WE-1", TODAY)
        raise HabeasError(report.refused[0].reasons[0])


def test_an_assigned_case_cannot_be_assigned_twice(field_app: Habeas) -> None:
    case_id, _ = assigned(field_app, "P-TWICE")
    again = field_app.field.assign(me(field_app, "super1"), F, [case_id], "NE-2", TODAY)
    assert not again.assigned and "not possible in state assigned" in again.refused[0].reasons[0]


def test_a_route_orders_the_stops_within_their_windows(field_app: Habeas) -> None:
    ids = []
    for k, (lat, lon) in enumerate([(40.75, -73.99), (40.80, -73.95), (40.70, -74.01)]):
        ids.append(
            approved_case(
                field_app,
                f"P-R{k}",
                addresses=[dict(NYC, lat=lat, lon=lon, street=f"{k} Route St")],
            )
        )
    field_app.field.assign(me(field_app, "super1"), F, ids, "NE-1", TODAY, (9 * 60, 12 * 60), 30)
    plan = field_app.field.route(me(field_app, "super1"), F, "NE-1", TODAY, seconds=1)
    assert sorted(s.case_id for s in plan.stops) == sorted(ids) and not plan.left_out
    for s in plan.stops:
        h, m = map(int, s.arrive.split(":"))
        assert 9 * 60 <= h * 60 + m <= 12 * 60
    assert plan.km > 0 and plan.nearest_neighbour_km > 0
    rows = field_app.field.assignments(me(field_app, "super1"), F, TODAY, "NE-1")
    assert [r.route_seq for r in rows] == [1, 2, 3]


# -- outcomes -------------------------------------------------------------------------------


def test_an_outcome_sent_twice_has_one_effect(field_app_on: Habeas) -> None:
    app = field_app_on
    case_id, a = assigned(app, "P-DUP")
    sent = outcome(a)
    first = app.field.report(me(app, "field1"), F, sent)
    again = app.field.report(me(app, "field1"), F, sent)
    assert not first.replayed and again.replayed and again.effect == first.effect
    assert events(app, case_id, "record_encounter") == 1
    with app.sessions() as s:
        assert s.execute(select(func.count()).select_from(FieldOutcome)).scalar_one() == 1
        assert s.get(Assignment, a).status == "done"
        task = s.execute(select(Task).where(Task.case_id == case_id)).scalar_one()
        assert task.kind == "custody_decision" and task.due_on == TODAY + timedelta(days=2)
    # the same UUID with other content is a conflict, not a second outcome
    changed = sent.model_copy(update={"outcome": "not_located"})
    with pytest.raises(Conflict, match="recorded with other content"):
        app.field.report(me(app, "field1"), F, changed)


def test_an_outcome_is_audited_with_what_it_did(field_app: Habeas) -> None:
    _, a = assigned(field_app, "P-AUD")
    sent = outcome(a, "located_not_detained", place="front door", notes="spoke briefly")
    field_app.field.report(me(field_app, "field1"), F, sent)
    with field_app.sessions() as s:
        detail = s.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "field_outcome:outcome")
        ).scalar_one()
    assert "located_not_detained" in detail and sent.uuid in detail


def test_another_teams_officer_may_not_report(field_app: Habeas) -> None:
    case_id, a = assigned(field_app, "P-OT")
    with pytest.raises(AccessDenied, match="team NE-1's"):
        field_app.field.report(me(field_app, "field2"), F, outcome(a))
    with pytest.raises(AccessDenied):
        field_app.field.report(me(field_app, "officer1"), "case_review", outcome(a))
    assert events(field_app, case_id, "record_encounter") == 0


def test_someone_who_is_not_the_subject_cannot_be_arrested_through_the_app(
    field_app: Habeas,
) -> None:
    case_id, a = assigned(field_app, "P-NS")
    for kind in ("arrested", "located_not_detained"):
        with pytest.raises(HabeasError, match="never as an arrest"):
            field_app.field.report(me(field_app, "field1"), F, outcome(a, kind, subject=False))
    got = field_app.field.report(
        me(field_app, "field1"), F, outcome(a, "not_subject", subject=False, notes="a relative")
    )
    assert "nothing else is started" in got.effect
    assert events(field_app, case_id, "record_encounter") == 0
    with field_app.sessions() as s:
        assert s.get(Assignment, a).status == "open"  # the subject is still to be found
    # the subject's own outcome still lands afterwards
    field_app.field.report(me(field_app, "field1"), F, outcome(a, "not_located"))
    assert events(field_app, case_id, "record_encounter") == 1


def test_not_located_sends_the_case_back_to_the_planner(field_app: Habeas) -> None:
    case_id, a = assigned(field_app, "P-NL")
    assert case_id not in field_app.field.planner(me(field_app, "super1"), F).points.case_id
    field_app.field.report(me(field_app, "field1"), F, outcome(a, "not_located"))
    back = field_app.field.planner(me(field_app, "super1"), F).points
    assert back.attempts[back.case_id.index(case_id)] == 1
    again = field_app.field.assign(me(field_app, "super1"), F, [case_id], "NE-2", TODAY)
    assert again.assigned and not again.refused


def test_an_arrest_is_checked_against_the_gate_when_it_is_reported(field_app: Habeas) -> None:
    case_id, a = assigned(field_app, "P-W")
    step(
        field_app,
        "super1",
        F,
        case_id,
        "withdraw_instrument",
        reference="I200-P-W",
        reason="recalled by the field office director",
    )
    with field_app.sessions() as s:
        row = s.get(Assignment, a)
        assert row.status == "cancelled" and "(withdrawn)" in row.reason
    with pytest.raises(Conflict, match="cancelled"):
        field_app.field.report(me(field_app, "field1"), F, outcome(a))
    assert events(field_app, case_id, "record_encounter") == 0


# -- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "why"),
    [
        ("verify_departure", {"proof": "airline exit record (synthetic)"}, "departure verified"),
        (
            "raise_flag",
            {"flag": "citizenship", "detail": "passport record (synthetic)"},
            "citizenship",
        ),
        (
            "grant_stay",
            {"stay_id": "BIA-STAY-1", "authority": "bia", "reason": "motion to reopen pending"},
            "stay",
        ),
    ],
)
def test_what_stops_the_field_action_cancels_the_open_assignment_at_once(
    field_app: Habeas, kind: str, fields: dict[str, Any], why: str
) -> None:
    case_id, a = assigned(field_app, f"P-{kind}")
    if kind == "grant_stay":  # a court's act cites its order
        doc = field_app.cases.attach(
            me(field_app, "officer1"),
            "case_review",
            case_id,
            "BIA stay order (synthetic)",
            b"stay order",
        )
        field_app.cases.verify_document(
            me(field_app, "super2"), "case_review", case_id, doc.sha256, "bia", "BIA-A-001"
        )
        fields = {**fields, "document": doc.name, "document_sha256": doc.sha256}
    try:
        step(field_app, "super1", F, case_id, kind, **fields)
    except HabeasError as exc:  # a step the lifecycle does not take from "assigned"
        pytest.fail(f"{kind} could not be recorded: {exc}")
    with field_app.sessions() as s:
        row = s.get(Assignment, a)
    assert row.status == "cancelled" and why in row.reason.lower()
    view = field_app.field.today(me(field_app, "field1"), F)
    item = next(i for i in view.items if i.id == a)
    assert item.status == "cancelled" and why in (item.reason or "").lower()
    with pytest.raises(Conflict, match="cancelled"):
        field_app.field.report(me(field_app, "field1"), F, outcome(a))


def test_a_published_flag_cancels_the_open_assignment(field_app: Habeas) -> None:
    from habeas.field.assignments import cancel_for_flags

    _, a = assigned(field_app, "P-PUB")
    with field_app.engine.begin() as conn:
        conn.execute(
            IndexFlag.__table__.insert().values(
                person_id="P-PUB",
                flag="citizenship",
                detail="naturalization record (synthetic)",
                record_ids="[]",
                status="open",
                raised_at=datetime.now(),
                run_id="run-2",
            )
        )
        assert cancel_for_flags(conn, "run-2") == 1
    with field_app.sessions() as s:
        row = s.get(Assignment, a)
        assert row.status == "cancelled" and "run-2" in row.reason
        assert (
            s.execute(
                select(func.count()).where(AuditEntry.action == "assignment_cancelled")
            ).scalar_one()
            == 1
        )


def test_the_officer_sees_only_the_teams_assignments(field_app: Habeas) -> None:
    _, a1 = assigned(field_app, "P-A1", team="NE-1")
    _, a2 = assigned(field_app, "P-A2", team="NE-2")
    one = field_app.field.today(me(field_app, "field1"), F)
    two = field_app.field.today(me(field_app, "field2"), F)
    assert [i.id for i in one.items] == [a1] and [i.id for i in two.items] == [a2]
    item = one.items[0]
    assert item.identity["name"] == "Ana Test" and "i200" in item.instrument.lower()
    assert "photo" in item.identity and item.address["confidence"] > 0
    with pytest.raises(AccessDenied, match="on no field team"):
        field_app.field.today(me(field_app, "super1"), F)


def test_bad_outcomes_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="uuid is not a UUID"):
        OutcomeIn(uuid="1", assignment_id=1, outcome="arrested", occurred_at=datetime.now(UTC))
    good = "0b8a3c4e-1f2d-4e5a-9b6c-7d8e9f0a1b2c"
    with pytest.raises(ValueError, match="needs its time zone"):  # a bare local time
        OutcomeIn(uuid=good, assignment_id=1, outcome="arrested", occurred_at=datetime.now())
    with pytest.raises(ValueError, match="ahead of the server's clock"):  # 11 hours ahead
        OutcomeIn(
            uuid=good,
            assignment_id=1,
            outcome="arrested",
            occurred_at=datetime.now(UTC) + timedelta(hours=11),
        )
    # a true report from UTC+14 (its local date may be the server's tomorrow) is accepted
    kiribati = timezone(timedelta(hours=14))
    sent = OutcomeIn(
        uuid=good,
        assignment_id=1,
        outcome="arrested",
        occurred_at=datetime.now(kiribati) - timedelta(minutes=1),
    )
    assert sent.occurred_at.utcoffset() == timedelta(hours=14)
    from habeas.field.rules import outcome_problems

    assert "is not one of" in outcome_problems("shot", True, "", "")[0]
    assert "control character" in outcome_problems("not_located", True, "a\x1b[2J", "")[0]
    assert "at most 2000" in outcome_problems("not_located", True, "x" * 2001, "")[0]


def test_sharing_case_decisions_changes_no_decision(field_app: Habeas) -> None:
    """Batch decisions shared per (state, counsel) equal the decisions made one by one; a
    policy that reads a case's person makes them per case again."""
    from habeas.cases.access import case_resource
    from habeas.governance.authz import AccessContext, authorize, authorize_batch, case_reads_shared
    from habeas.store.models import Case

    rows = [
        Case(id=i, person_id=f"P{i}", state=st, counsel=cn)
        for i, (st, cn) in enumerate(
            [
                ("assigned", ""),
                ("assigned", "counsel1"),
                ("approved_for_field_action", ""),
                ("assigned", ""),
            ]
            * 3,
            start=1,
        )
    ]
    for role, purpose in (
        ("supervisor", F),
        ("case_officer", "case_review"),
        ("field_officer", F),
        ("counsel", "redress"),
        ("admin", F),
    ):
        ctx = AccessContext("someone", role, purpose, client="P2" if role == "counsel" else "")
        batch = authorize_batch(ctx, "read", [case_resource(c) for c in rows])
        one = [authorize(ctx, "read", case_resource(c)) for c in rows]
        assert [d.allowed for d in batch] == [d.allowed for d in one], role
    assert case_reads_shared("supervisor") and not case_reads_shared("counsel")
    reads_person = """@id("x") permit (principal in Habeas::Role::"supervisor",
        action == Habeas::Action::"read", resource is Habeas::Case)
        when { resource.person_id == "P1" };"""
    assert not case_reads_shared("supervisor", reads_person)
    names_case = """@id("y") forbid (principal, action, resource == Habeas::Case::"case:3");"""
    assert not case_reads_shared("field_officer", names_case)


def test_a_field_set_up_names_what_is_wrong_and_is_the_admins(
    field_app: Habeas, tmp_path: Path
) -> None:
    from habeas.cli.field_cmds import read_set_up

    bad = [
        ('{"offices": [{"code": "X"}]}', "office 1: name: Field required"),
        ('{"offices": 3}', "offices: a list of objects"),
        ('{"offices": [], "members": {"field1": "X"}}', "members.field1"),
        ('{"offices": [], "extra": 1}', "nothing else"),
        ("{nope", "line 1: not JSON"),
    ]
    root = field_app.users.local("root", "t")
    for i, (text, why) in enumerate(bad):
        f = tmp_path / f"bad{i}.json"
        f.write_text(text)
        with pytest.raises(HabeasError, match=why):
            field_app.field.set_up(root, *read_set_up(f))
    shift = {
        "code": "Y",
        "name": "y",
        "states": ["NY"],
        "teams": [
            {
                "code": "Y-1",
                "start_label": "s",
                "start_lat": 40.0,
                "start_lon": -74.0,
                "shift_start": 600,
                "shift_end": 500,
            }
        ],
    }
    with pytest.raises(HabeasError, match="team Y-1: the shift must fall within a day"):
        field_app.field.set_up(root, [shift], {})
    shift["teams"][0]["shift_end"] = 900  # type: ignore[index]
    shift["states"] = ["New York"]
    with pytest.raises(HabeasError, match="states are two-letter codes"):
        field_app.field.set_up(root, [shift], {})
    shift["states"] = ["NY"]
    with pytest.raises(AccessDenied):
        field_app.field.set_up(field_app.users.local("super1", "t"), [shift], {})
    with pytest.raises(HabeasError, match="only supervisors and field officers"):
        field_app.field.set_up(root, [shift], {"officer1": ("Y", None)})
    with field_app.sessions() as s:
        assert s.get(FieldTeam, "Y-1") is None  # nothing of the refused set-ups was kept


def test_a_team_of_another_office_or_none_has_no_route_sheet_here(field_app: Habeas) -> None:
    sup = me(field_app, "super1")
    assert field_app.field.assignments(sup, F, TODAY, "NE-1") == []
    for team in ("WE-1", "NOPE"):
        with pytest.raises(NotFound, match=f"no team {team} in office NE"):
            field_app.field.assignments(sup, F, TODAY, team)
