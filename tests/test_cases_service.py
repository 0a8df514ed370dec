"""Cases in the operational store (SQLite and PostgreSQL): steps authorized per role and
step, refused by the gates with reasons, stored as events, audited; opened from the index."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import copy_staging
from sqlalchemy import Engine, select

from habeas.app import Habeas
from habeas.app.cases.schemas import StepDone, StepRequest
from habeas.cases import lifecycle as lc
from habeas.cases.queries import list_cases, show_case
from habeas.cases.service import assign_counsel, open_case, record_event
from habeas.errors import AccessDenied, Conflict, GateRefused
from habeas.governance.authz import AccessContext
from habeas.store.keys import register as register_key
from habeas.store.models import AuditEntry, CaseEvent, Instrument
from habeas.store.operational import make_engine, session_factory, upgrade

D = date(2026, 3, 2)
OFFICER = AccessContext("officer1", "case_officer", "case_review")
SUPER = AccessContext("super1", "supervisor", "field_operation")
SUPER2 = AccessContext("super2", "supervisor", "case_review")
FIELD = AccessContext("field1", "field_officer", "field_operation")
CUSTODY = AccessContext("custody1", "custody_officer", "custody")


@pytest.fixture
def engine(store_url: str) -> Engine:
    e = make_engine(store_url)
    upgrade(e)
    register_key(e, b"test-history-key-of-32-bytes-xx!")
    return e


def step(engine: Engine, ctx: AccessContext, case_id: int, event: lc.Event) -> lc.CaseFile:
    with session_factory(engine).begin() as s:
        return record_event(s, ctx, case_id, event)


def ev(cls: type[lc.Event], days: int = 0, **kw: object) -> lc.Event:
    return cls(D + timedelta(days=days), "ignored", "ignored", **kw)  # type: ignore[arg-type]


def _person(app: Habeas, person_id: str) -> None:
    """A person of the published index (what a resolution run would publish)."""
    from habeas.store.models import IndexPerson

    with app.sessions() as s:
        s.add(IndexPerson(person_id=person_id, records=1, sources="[]", run_id="test"))
        s.commit()


def act(
    app: Habeas, who: str, purpose: str, case_id: int, kind: str, days: int = 0, **fields: object
) -> StepDone:
    return app.cases.step(
        app.users.local(who, "test"),
        purpose,
        case_id,
        StepRequest(kind=kind, on=D + timedelta(days=days), fields=fields),
    )  # type: ignore[arg-type]


def test_a_case_moves_through_authorized_gated_audited_steps(app_on: Habeas) -> None:
    app = app_on
    _person(app, "P1")
    officer = app.users.local("officer1", "test")
    case_id = app.cases.open_case(officer, "case_review", "P1", D, basis="r-eoir-1").case_id
    act(app, "officer1", "case_review", case_id, "begin_review")
    act(
        app,
        "officer1",
        "case_review",
        case_id,
        "charge",
        1,
        instrument="nta",
        reference="NTA-9",
        authority="ICE ERO",
    )
    act(
        app,
        "super1",
        "field_operation",
        case_id,
        "issue_warrant",
        2,
        instrument="i200",
        reference="W-1",
        authority="SDDO",
    )
    act(app, "officer1", "case_review", case_id, "request_field_action", 3)
    with pytest.raises(AccessDenied, match="supervisor-steps"):  # Cedar: not a supervisor
        act(app, "officer1", "case_review", case_id, "approve_field_action", 4)
    with pytest.raises(GateRefused, match="no approval"):  # the law: nobody approved yet
        act(app, "super1", "field_operation", case_id, "assign", 4, team="NE-1")
    act(app, "super1", "field_operation", case_id, "approve_field_action", 4)
    act(app, "super1", "field_operation", case_id, "assign", 5, team="NE-1")
    with pytest.raises(AccessDenied, match="no policy permits it"):
        act(app, "officer1", "case_review", case_id, "record_encounter", 6, outcome="arrested")
    after = act(
        app, "field1", "field_operation", case_id, "record_encounter", 6, outcome="arrested"
    )
    assert after.state == "encountered"
    view = app.cases.show(officer, "case_review", case_id, D + timedelta(days=7))
    with app.sessions() as s:
        events = list(s.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)).scalars())
        instruments = {i.reference: i.kind for i in s.execute(select(Instrument)).scalars()}
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
    assert view.case["state"] == "encountered"
    assert [h["kind"] for h in view.history] == [
        "opened",
        "begin_review",
        "charge",
        "issue_warrant",
        "request_field_action",
        "approve_field_action",
        "assign",
        "record_encounter",
    ]
    assert view.history[2]["actor"] == "officer1" and events[-1].actor == "field1"
    assert instruments == {"NTA-9": "nta", "W-1": "i200"}
    denied = [(e.user, e.action, e.detail) for e in entries if e.decision == "deny"]
    assert ("officer1", "case_approve_field_action", "forbidden by supervisor-steps") in denied
    assert any(a == "case_assign" and "no approval" in d for _, a, d in denied)
    # each success records its outcome; no refused step left anything but its refusal
    outcomes = [e.detail for e in entries if e.action == "case_record_encounter:outcome"]
    assert outcomes == [f"succeeded: case {case_id} now encountered"]
    assert len(events) == 8
    assert app.audit.verify()[0].ok


def test_the_requester_cannot_approve_even_as_a_supervisor_and_actors_cannot_be_forged(
    engine: Engine,
) -> None:
    with session_factory(engine).begin() as s:
        case_id = open_case(s, OFFICER, "P2", D).id
    step(engine, OFFICER, case_id, ev(lc.BeginReview))
    step(
        engine,
        OFFICER,
        case_id,
        ev(lc.Charge, 1, instrument="nta", reference="N", authority="ICE ERO"),
    )
    step(
        engine,
        SUPER,
        case_id,
        ev(lc.IssueWarrant, 2, instrument="i200", reference="W", authority="SDDO"),
    )
    step(engine, SUPER, case_id, ev(lc.RequestFieldAction, 3))
    forged = lc.ApproveFieldAction(D + timedelta(days=4), "super2", "supervisor")
    with pytest.raises(GateRefused, match="super1 requested this field action"):
        step(engine, SUPER, case_id, forged)  # the event's actor is the caller, not 'super2'
    assert step(engine, SUPER2, case_id, forged).field_request.approved_by == "super2"  # type: ignore[union-attr]


def test_a_stale_version_is_a_conflict(engine: Engine) -> None:
    with session_factory(engine).begin() as s:
        case = open_case(s, OFFICER, "P3", D)
        case_id, version = case.id, case.version
    step(engine, OFFICER, case_id, ev(lc.BeginReview))
    with pytest.raises(Conflict, match="reload it"), session_factory(engine).begin() as s:
        record_event(s, OFFICER, case_id, ev(lc.Charge, 1, reference="N"), version)


def test_one_open_case_per_person_and_reads_need_a_purpose(engine: Engine) -> None:
    from habeas.errors import HabeasError

    with session_factory(engine).begin() as s:
        open_case(s, OFFICER, "P4", D)
    with (
        pytest.raises(HabeasError, match="already has open case"),
        session_factory(engine).begin() as s,
    ):
        open_case(s, OFFICER, "P4", D)
    with pytest.raises(AccessDenied), session_factory(engine).begin() as s:
        show_case(s, AccessContext("officer1", "case_officer", "analytics"), 1, D)
    with session_factory(engine).begin() as s:
        assert [c["person_id"] for c in list_cases(s, OFFICER)] == ["P4"]
        assert list_cases(s, AccessContext("a", "admin", "oversight")) == []


def test_cases_open_from_the_index_with_court_history_and_flags_stop_them(
    resolved: Path, tmp_path: Path
) -> None:
    import json

    from conftest import make_app

    from habeas.resolve.publish import publish
    from habeas.store.models import Case, IndexFlag

    app = make_app(tmp_path / "data", users={"officer1": "case_officer", "super1": "supervisor"})
    copy_staging(resolved, app.settings.staging_path)
    with app.staging() as st:
        publish(app.engine, st, st.rows("SELECT run_id FROM resolution_runs")[0][0])
    engine = app.engine
    officer = app.users.local("officer1", "test")
    report = app.cases.open_from_records(officer, "case_review", date(2026, 11, 1))
    assert report.opened > 100 and report.steps > report.opened * 3
    with session_factory(engine)() as s:
        states = dict(
            s.execute(select(Case.state, Case.id).order_by(Case.id)).all()  # state → a case
        )
        flagged = s.execute(
            select(IndexFlag.person_id).where(
                IndexFlag.flag == "citizenship", IndexFlag.status == "open"
            )
        ).all()
        stuck = (
            s.execute(select(Case.state).where(Case.person_id.in_([r[0] for r in flagged])))
            .scalars()
            .all()
        )
    assert {"final_order", "appeal_pending"} <= set(states)
    assert stuck and set(stuck) <= {"under_review"}  # charging a flagged person is refused
    assert report.refused.get("charge", 0) >= 1  # those with a court record to charge on
    assert any("unresolved citizenship flag" in e for e in report.examples)
    again = app.cases.open_from_records(officer, "case_review", date(2026, 11, 1))
    assert again.opened == 0 and again.already_open == report.opened
    assert again.flags_raised == 0
    # a run publishes a new citizenship flag on a person whose case is at a final order:
    # the very next step is refused, with no other command run in between
    with session_factory(engine)() as s:
        target = s.execute(select(Case).where(Case.state == "final_order")).scalars().first()
        assert target is not None
        case_id, pid = target.id, target.person_id
        s.add(
            IndexFlag(
                person_id=pid,
                flag="citizenship",
                detail="birth record",
                record_ids=json.dumps(["r-new"]),
                status="open",
                raised_at=datetime(2026, 11, 1),
                run_id="run-new",
            )
        )
        s.commit()
    with pytest.raises(GateRefused, match=r"unresolved citizenship flag \(birth record\)"):
        app.cases.step(
            app.users.local("super1", "test"),
            "field_operation",
            case_id,
            StepRequest(
                kind="issue_warrant",
                on=date(2026, 11, 1),
                fields={"instrument": "i205", "reference": "R"},
            ),
        )
    assert app.audit.verify()[0].ok
    app.close()


def test_a_rolled_back_step_is_forgotten_when_someone_else_writes_the_same_version(
    engine: Engine,
) -> None:
    """The per-session case-file cache is keyed by version; a rollback must empty it, or a
    version number reused by another writer would show a history that never happened."""
    with session_factory(engine).begin() as s:
        case_id = open_case(s, OFFICER, "P5", D).id
    a = session_factory(engine)()
    record_event(a, OFFICER, case_id, ev(lc.BeginReview))  # version 1 → 2, not committed
    a.rollback()
    step(engine, SUPER2, case_id, ev(lc.Close, reason="opened in error"))  # someone else's v2
    with pytest.raises(GateRefused, match="the case is closed"):
        record_event(a, OFFICER, case_id, ev(lc.BeginReview))
    a.close()


def test_counsel_is_assigned_by_an_officer_and_then_reads_only_that_case(engine: Engine) -> None:
    from habeas.errors import HabeasError
    from habeas.governance.identity import bootstrap_admin, create_user
    from habeas.store.operational import session_factory as sf

    with sf(engine).begin() as s:
        bootstrap_admin(s, "root", "a long admin passphrase")
        admin = AccessContext("root", "admin", "oversight")
        create_user(s, admin, "lawyer1", "counsel", "a long counsel passphrase")
        mine, other = open_case(s, OFFICER, "P6", D).id, open_case(s, OFFICER, "P7", D).id
    counsel = AccessContext("lawyer1", "counsel", "redress", client="P6")
    with pytest.raises(AccessDenied), sf(engine).begin() as s:
        show_case(s, counsel, mine, D)  # not yet their client's case
    with (
        pytest.raises(HabeasError, match="not an active counsel account"),
        sf(engine).begin() as s,
    ):
        assign_counsel(s, OFFICER, mine, "root")
    with pytest.raises(AccessDenied), sf(engine).begin() as s:
        assign_counsel(s, FIELD, mine, "lawyer1")
    with sf(engine).begin() as s:
        assign_counsel(s, OFFICER, mine, "lawyer1")
    with sf(engine).begin() as s:
        assert show_case(s, counsel, mine, D).case["person_id"] == "P6"
    with pytest.raises(AccessDenied), sf(engine).begin() as s:
        show_case(s, counsel, other, D)
