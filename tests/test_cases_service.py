"""Cases in the operational store (SQLite and PostgreSQL): steps authorized per role and
step, refused by the gates with reasons, stored as events, audited; opened from the index."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from habeas.cases import lifecycle as lc
from habeas.cases.service import (
    GateRefused,
    assign_counsel,
    list_cases,
    open_case,
    record_event,
    show_case,
)
from habeas.governance import audit
from habeas.governance.authz import AccessContext
from habeas.governance.cases_access import Conflict
from habeas.governance.identity import AccessDenied
from habeas.store.models import AuditEntry, CaseEvent, Instrument
from habeas.store.operational import make_engine, session_factory, upgrade
from habeas.store.staging import StagingStore

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
    return e


def step(engine: Engine, ctx: AccessContext, case_id: int, event: lc.Event) -> lc.CaseFile:
    with session_factory(engine).begin() as s:
        return record_event(s, ctx, case_id, event)


def ev(cls: type[lc.Event], days: int = 0, **kw: object) -> lc.Event:
    return cls(D + timedelta(days=days), "ignored", "ignored", **kw)  # type: ignore[arg-type]


def test_a_case_moves_through_authorized_gated_audited_steps(engine: Engine) -> None:
    with session_factory(engine).begin() as s:
        case_id = open_case(s, OFFICER, "P1", D, basis="r-eoir-1").id
    step(engine, OFFICER, case_id, ev(lc.BeginReview))
    step(engine, OFFICER, case_id, ev(lc.Charge, 1, instrument="nta", reference="NTA-9"))
    step(engine, SUPER, case_id, ev(lc.IssueWarrant, 2, instrument="i200", reference="W-1"))
    step(engine, OFFICER, case_id, ev(lc.RequestFieldAction, 3))
    with pytest.raises(AccessDenied, match="supervisor-steps"):  # Cedar: not a supervisor
        step(engine, OFFICER, case_id, ev(lc.ApproveFieldAction, 4))
    with pytest.raises(GateRefused, match="no approval"):  # the law: nobody approved yet
        step(engine, SUPER, case_id, ev(lc.Assign, 4, team="t1"))
    step(engine, SUPER, case_id, ev(lc.ApproveFieldAction, 4))
    step(engine, SUPER, case_id, ev(lc.Assign, 5, team="t1"))
    with pytest.raises(AccessDenied, match="case-officer-no-field-or-custody-steps"):
        step(engine, OFFICER, case_id, ev(lc.RecordEncounter, 6, outcome="arrested"))
    after = step(engine, FIELD, case_id, ev(lc.RecordEncounter, 6, outcome="arrested"))
    assert after.state == lc.State.ENCOUNTERED
    with session_factory(engine).begin() as s:
        view = show_case(s, OFFICER, case_id, D + timedelta(days=7))
        events = list(s.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)).scalars())
        instruments = {i.reference: i.kind for i in s.execute(select(Instrument)).scalars()}
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
    assert view.case["state"] == "encountered" and view.file == after
    assert [h["kind"] for h in view.history] == [
        "opened", "begin_review", "charge", "issue_warrant", "request_field_action",
        "approve_field_action", "assign", "record_encounter",
    ]  # fmt: skip
    assert view.history[2]["actor"] == "officer1" and events[-1].actor == "field1"
    assert instruments == {"NTA-9": "nta", "W-1": "i200"}
    denied = [(e.user, e.action, e.detail) for e in entries if e.decision == "deny"]
    assert ("officer1", "case_approve_field_action", "forbidden by supervisor-steps") in denied
    assert any(a == "case_assign" and "no approval" in d for _, a, d in denied)
    assert audit.verify(engine).ok


def test_the_requester_cannot_approve_even_as_a_supervisor_and_actors_cannot_be_forged(
    engine: Engine,
) -> None:
    with session_factory(engine).begin() as s:
        case_id = open_case(s, OFFICER, "P2", D).id
    step(engine, OFFICER, case_id, ev(lc.BeginReview))
    step(engine, OFFICER, case_id, ev(lc.Charge, 1, instrument="nta", reference="N"))
    step(engine, SUPER, case_id, ev(lc.IssueWarrant, 2, instrument="i200", reference="W"))
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
    index: StagingStore, tmp_path: Path
) -> None:
    from habeas.cases.from_records import open_cases_from_index
    from habeas.store.models import Case

    engine = make_engine(f"sqlite:///{tmp_path / 'op.db'}")
    upgrade(engine)
    report = open_cases_from_index(engine, index, OFFICER, date(2026, 11, 1))
    assert report.opened > 100 and report.steps > report.opened * 3
    with session_factory(engine)() as s:
        states = dict(
            s.execute(select(Case.state, Case.id).order_by(Case.id)).all()  # state → a case
        )
        flagged = index.rows(
            "SELECT DISTINCT person_id FROM person_flags WHERE flag = 'citizenship' AND "
            "status = 'open'"
        )
        stuck = (
            s.execute(select(Case.state).where(Case.person_id.in_([r[0] for r in flagged])))
            .scalars()
            .all()
        )
    assert {"final_order", "appeal_pending"} <= set(states)
    assert stuck and set(stuck) <= {"under_review"}  # charging a flagged person is refused
    assert report.refused.get("charge", 0) >= 1  # those with a court record to charge on
    assert any("unresolved citizenship flag" in e for e in report.examples)
    again = open_cases_from_index(engine, index, OFFICER, date(2026, 11, 1))
    assert again.opened == 0 and again.already_open == report.opened
    assert again.flags_raised == 0
    # new records flag a person whose case is at a final order: the flag reaches the case
    with session_factory(engine)() as s:
        target = s.execute(select(Case).where(Case.state == "final_order")).scalars().first()
        assert target is not None
        case_id, pid = target.id, target.person_id
    index.con.execute(
        "DELETE FROM person_flags WHERE person_id = ? AND flag = 'citizenship'", [pid]
    )
    index.con.execute(
        "INSERT INTO person_flags VALUES (?, 'citizenship', 'birth record', ['r-new'], 'open', "
        "now(), NULL, NULL, NULL)",
        [pid],
    )
    third = open_cases_from_index(engine, index, OFFICER, date(2026, 11, 1))
    assert third.flags_raised == 1
    with pytest.raises(GateRefused, match=r"unresolved citizenship flag \(birth record\)"):
        step(engine, SUPER, case_id, ev(lc.IssueWarrant, instrument="i205", reference="R"))
    assert audit.verify(engine).ok


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
