"""A case record a court can rely on: true dates, real instruments, cited authority, no way
around a gate. Each finding of the outside trial is reproduced here, through the
application on SQLite and PostgreSQL (the store tampered with from outside habeas), or on
the pure lifecycle where the rule lives there."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import SESSION_DAY
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy import create_engine, select, text

from habeas.app import Habeas
from habeas.app.cases.schemas import StepDone, StepRequest
from habeas.cases import lifecycle as lc
from habeas.cases.casefile import CaseFile, Refused, State
from habeas.cases.from_records import contradictions, court_events
from habeas.cases.history import GENESIS, StoredEvent
from habeas.cases.instruments import Instrument as CaseInstrument
from habeas.cases.lifecycle import transition
from habeas.errors import AccessDenied, GateRefused, HistoryBroken
from habeas.store.models import (
    Case,
    CaseEvent,
    CourtRecordReview,
    IndexPerson,
    IndexRecord,
    Instrument,
    Task,
)

TODAY = SESSION_DAY  # the applications' clock reads the same day
PAST = TODAY - timedelta(days=200)
"""Every step below is dated in the past, whenever the suite runs."""
ORDER = {"document": "IJ order (synthetic)", "document_sha256": "ab" * 32}
"""An attached order: its reference and SHA-256."""


def order(
    app: Habeas, text: str = "IJ order (synthetic)", issuer: str = "immigration_judge"
) -> dict[str, str]:
    """The order itself, attached to the newest case by officer1 and verified against the
    court's docket by super2 (a second person): what a court's act may cite."""
    with app.sessions() as s:
        case_id = s.execute(select(Case.id).order_by(Case.id.desc())).scalars().first()
    assert case_id is not None
    doc = app.cases.attach(
        app.users.local("officer1", "t"),
        "case_review",
        case_id,
        text,
        f"{text} for case {case_id}".encode(),
    )
    if doc.new:
        docket = f"DOCKET-{case_id}-{doc.sha256[:8]}"
        app.cases.verify_document(
            app.users.local("super2", "t"), "case_review", case_id, doc.sha256, issuer, docket
        )
    return {"document": doc.name, "document_sha256": doc.sha256}


def day(n: int) -> date:
    return PAST + timedelta(days=n)


def act(
    app: Habeas, who: str, purpose: str, case_id: int, kind: str, on: date | None, **fields: Any
) -> StepDone:
    return app.cases.step(
        app.users.local(who, "t"), purpose, case_id, StepRequest(kind=kind, on=on, fields=fields)
    )


def officer(app: Habeas, case_id: int, kind: str, on: date | None, **fields: Any) -> StepDone:
    return act(app, "officer1", "case_review", case_id, kind, on, **fields)


def supervisor(app: Habeas, case_id: int, kind: str, on: date | None, **fields: Any) -> StepDone:
    return act(app, "super1", "field_operation", case_id, kind, on, **fields)


def custody(app: Habeas, case_id: int, kind: str, on: date | None, **fields: Any) -> StepDone:
    return act(app, "custody1", "custody", case_id, kind, on, **fields)


def new_case(app: Habeas, person: str) -> int:
    with app.sessions() as s:
        s.add(IndexPerson(person_id=person, records=1, sources="[]", run_id="test"))
        s.commit()
    return app.cases.open_case(
        app.users.local("officer1", "t"), "case_review", person, PAST
    ).case_id


def court_record(app: Habeas, record_id: str, person: str, **facts: str) -> None:
    """A published court record of ``person`` with these court facts."""
    with app.sessions() as s:
        s.add(
            IndexRecord(
                record_id=record_id,
                person_id=person,
                source="eoir_cases",
                source_key=record_id,
                name="",
                name_key="",
                family_key="",
                how="test",
                features="{}",
                run_id="test",
                court_facts=json.dumps(facts),
            )
        )
        s.commit()


def to_final_order(app: Habeas, person: str, **decide: Any) -> int:
    """A case through proceedings to a final order, each court act with its order."""
    case_id = new_case(app, person)
    officer(app, case_id, "begin_review", day(0))
    officer(
        app,
        case_id,
        "charge",
        day(1),
        instrument="nta",
        reference=f"NTA-{person}",
        authority="ICE ERO (synthetic)",
    )
    officer(app, case_id, "begin_proceedings", day(2))
    officer(app, case_id, "decide", day(10), authority="IJ (synthetic)", **order(app), **decide)
    officer(app, case_id, "waive_appeal", day(10), **order(app))
    return case_id


def to_manifest(app: Habeas, person: str) -> int:
    """A final order carried by each role to a seat on flight F-1."""
    case_id = to_final_order(app, person)
    supervisor(
        app,
        case_id,
        "issue_warrant",
        day(11),
        instrument="i205",
        reference=f"I205-{person}",
        authority="FOD (synthetic)",
    )
    officer(app, case_id, "request_field_action", day(12))
    act(app, "super2", "field_operation", case_id, "approve_field_action", day(13))
    supervisor(app, case_id, "assign", day(14), team="NE-1")
    act(app, "field1", "field_operation", case_id, "record_encounter", day(15), outcome="arrested")
    custody(app, case_id, "decide_custody", day(15), custody="detained")
    custody(
        app,
        case_id,
        "add_instrument",
        day(16),
        instrument="travel_document",
        reference=f"TD-{person}",
        authority="consulate of MX",
        country="MX",
        expires_on=(TODAY + timedelta(days=60)).isoformat(),
    )
    custody(
        app,
        case_id,
        "add_instrument",
        day(16),
        instrument="medical_clearance",
        reference=f"MED-{person}",
        authority="IHSC",
        expires_on=(TODAY + timedelta(days=30)).isoformat(),
    )
    custody(app, case_id, "set_destination", day(16), country="MX")
    custody(app, case_id, "mark_ready", day(17))
    custody(app, case_id, "add_to_manifest", day(18), flight="F-1")
    return case_id


def version(app: Habeas, case_id: int) -> int:
    with app.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.version


# ---- 1. dates nobody can believe -------------------------------------------------------


def test_a_step_dated_after_today_is_refused_naming_both_dates(app_on: Habeas) -> None:
    """The removal chain dated weeks ahead and recorded today: refused at the first step,
    and the case is where it was."""
    app = app_on
    case_id = to_final_order(app, "P-future")
    before = version(app, case_id)
    ahead = TODAY + timedelta(days=21)
    with pytest.raises(GateRefused) as refused:
        supervisor(
            app,
            case_id,
            "issue_warrant",
            ahead,
            instrument="i205",
            reference="I205-F",
            authority="FOD",
        )
    # (the recording day is read when the step is taken: a run past midnight moves it)
    assert f"dated {ahead}, after {date.today()}, the day it is recorded" in str(refused.value)
    with pytest.raises(GateRefused, match=f"dated {ahead}, after 20"):
        custody(
            app,
            case_id,
            "add_instrument",
            ahead,
            instrument="travel_document",
            reference="TD-F",
            authority="consulate",
            country="MX",
        )
    with pytest.raises(GateRefused, match=f"dated {ahead}, after 20"):
        officer(app, case_id, "close", ahead, reason="ahead of time")
    assert version(app, case_id) == before
    with pytest.raises(Exception, match="after today"):
        app.cases.open_case(app.users.local("officer1", "t"), "case_review", "P-future", ahead)


def test_a_step_out_of_order_is_refused_naming_both_dates() -> None:
    """No decision before proceedings began, no final order before the decision, no
    removal before the final order."""
    case = CaseFile("c", "P")
    for e in (
        lc.BeginReview(day(0), "o", "case_officer"),
        lc.Charge(day(5), "o", "case_officer", instrument="nta", reference="N", authority="ICE"),
        lc.BeginProceedings(day(8), "o", "case_officer"),
    ):
        result = transition(case, e)
        assert isinstance(result, CaseFile), result
        case = result
    early = transition(case, lc.Decide(day(7), "o", "case_officer", authority="IJ", **ORDER))
    assert isinstance(early, Refused)
    assert f"dated {day(7)}, before the start of proceedings of {day(8)} it follows" in (
        early.reasons
    )
    decided = transition(case, lc.Decide(day(20), "o", "case_officer", authority="IJ", **ORDER))
    assert isinstance(decided, CaseFile)
    waived = transition(decided, lc.WaiveAppeal(day(19), "o", "case_officer", **ORDER))
    assert isinstance(waived, Refused)
    assert f"dated {day(19)}, before the decision of {day(20)} it follows" in waived.reasons
    final = transition(decided, lc.WaiveAppeal(day(20), "o", "case_officer", **ORDER))
    assert isinstance(final, CaseFile)
    ready = transition(
        replace(final, state=State.FINAL_ORDER), lc.MarkReady(day(18), "c", "custody_officer")
    )
    assert isinstance(ready, Refused)
    assert f"dated {day(18)}, before the final order of {day(20)} it follows" in ready.reasons


def test_court_records_give_each_event_only_its_own_date() -> None:
    """The hearing date is not the charge's; a missing date stays missing (citing the
    record); contradictory dates are found, each named."""
    rec = {
        "record_id": "r1",
        "source_key": "EOIR-1",
        "charge_date": None,
        "location": "ATL",
        "hearing_date": TODAY + timedelta(days=100),
        "order_type": "removal",
        "order_date": day(50),
        "departure_deadline": None,
        "appeal_status": "none",
        "appeal_date": None,
        "stay_status": "lifted",
        "stay_date": day(90),
        "stay_authority": "BIA",
    }
    events = court_events(rec, TODAY, "o", "case_officer")
    kinds = [(e.kind, e.on) for e in events]
    assert kinds[0] == ("charge", None) and kinds[1] == ("begin_proceedings", None)
    assert ("decide", day(50)) in kinds and ("finalize_order", day(81)) in kinds
    final = next(e for e in events if isinstance(e, lc.FinalizeOrder))
    assert f"after the decision of {day(50)}" in final.reason and "1241.1(c)" in final.reason
    assert ("grant_stay", None) in kinds and ("lift_stay", day(90)) in kinds
    assert all(e.basis == "r1" for e in events)
    assert all(getattr(e, "reference", "") == "" for e in events)  # no number made up
    assert not any(e.on == rec["hearing_date"] for e in events)
    assert contradictions(rec, TODAY) == []
    bad = {
        **rec,
        "charge_date": day(60),
        "appeal_status": "pending",
        "appeal_date": day(40),
        "stay_status": "denied",
        "stay_date": TODAY + timedelta(days=3),
    }
    found = contradictions(bad, TODAY)
    assert f"the decision of {day(50)} is dated before the charge of {day(60)}" in found
    assert f"the appeal is dated {day(40)}, before the decision of {day(50)}" in found
    assert f"stay_date {TODAY + timedelta(days=3)} is after today ({TODAY})" in found
    denied = court_events({**rec, "stay_status": "denied"}, TODAY, "o", "case_officer")
    assert [e.kind for e in denied][-1] == "deny_stay"


def test_seeded_histories_are_in_order_and_contradictions_go_to_review(
    indexed_app: Habeas,
) -> None:
    from conftest import TODAY as WORLD_TODAY

    app = indexed_app
    report = app.cases.open_from_records(
        app.users.local("officer1", "t"), "case_review", WORLD_TODAY
    )
    assert report.opened > 100
    with app.sessions() as s:
        rows = s.execute(select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)).scalars()
        histories: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            histories.setdefault(r.case_id, []).append({**json.loads(r.payload), "kind": r.kind})
        review = list(s.execute(select(CourtRecordReview)).scalars())
        numbers = [i.reference for i in s.execute(select(Instrument)).scalars()]
    assert len(review) == report.to_review
    assert all(json.loads(r.reasons) for r in review)
    assert numbers and all(n == "" for n in numbers)  # the court feed gives no NTA number
    seen = 0
    for events in histories.values():
        dated = {e["kind"]: date.fromisoformat(e["on"]) for e in events if e.get("on")}
        for e in events:
            if e.get("on"):
                assert date.fromisoformat(e["on"]) <= TODAY
                assert "recorded" not in e or e["on"] <= e["recorded"]
        if "decide" in dated and "charge" in dated:
            assert dated["charge"] <= dated["decide"]
            seen += 1
        for final in ("waive_appeal", "finalize_order"):
            if final in dated:
                assert dated["decide"] <= dated[final]
    assert seen > 10  # the order checks above did run on seeded decisions


def test_the_court_view_shows_dates_authority_basis_flight_refusals_and_signers(
    app_on: Habeas,
) -> None:
    from habeas.cli.cases_cmds import case_view

    app = app_on
    case_id = to_manifest(app, "P-view")
    with pytest.raises(GateRefused):
        officer(app, case_id, "close", TODAY + timedelta(days=5), reason="ahead of time")
    view = app.cases.show(app.users.local("officer1", "t"), "case_review", case_id, TODAY)
    out = Console(record=True, width=400)
    case_view(out, view)
    shown = out.export_text()
    assert f"#5 {day(10)} decide → appeal_window; recorded {TODAY:%Y-%m-%d}" in shown
    # the authority is the verified order's court, not the text the step typed
    assert "authority immigration_judge" in shown and "document IJ order (synthetic)" in shown
    assert "add_to_manifest → on_manifest" in shown and "flight F-1" in shown
    assert "Warrant of removal/deportation (Form I-205) no. I205-P-view" in shown
    assert "signed by super1" in shown
    assert "refused attempts (1):" in shown and f"dated {TODAY + timedelta(days=5)}" in shown
    assert view.refused[0]["refused_by"] == "law"


# ---- 2. instruments are documents --------------------------------------------------------


def test_an_instrument_has_a_number_an_issuer_and_a_signer_with_the_authority(
    app_on: Habeas,
) -> None:
    app = app_on
    case_id = new_case(app, "P-inst")
    officer(app, case_id, "begin_review", day(0))
    with pytest.raises(GateRefused) as bare:
        officer(app, case_id, "charge", day(1))
    assert "the document's number as issued is missing" in str(bare.value)
    assert "name the office or authority that issued it" in str(bare.value)
    officer(
        app, case_id, "charge", day(1), instrument="nta", reference="NTA-77", authority="ICE ERO"
    )
    with pytest.raises(AccessDenied, match="supervisor-steps"):  # Cedar: not a signer
        officer(
            app,
            case_id,
            "issue_warrant",
            day(2),
            instrument="i200",
            reference="W-77",
            authority="SDDO",
        )
    warrant = {"instrument": "i200", "reference": "W-77", "authority": "SDDO"}
    supervisor(app, case_id, "issue_warrant", day(2), **warrant)
    with pytest.raises(GateRefused, match="number W-77 is already on the case"):
        supervisor(app, case_id, "issue_warrant", day(3), **warrant)
    other = new_case(app, "P-inst-2")
    officer(app, other, "begin_review", day(0))
    officer(app, other, "charge", day(1), instrument="nta", reference="NTA-78", authority="ICE ERO")
    with pytest.raises(GateRefused, match=f"i200 number W-77 is already on case {case_id}"):
        supervisor(app, other, "issue_warrant", day(2), **warrant)
    with app.sessions() as s:
        signed = s.execute(select(Instrument).where(Instrument.reference == "W-77")).scalar_one()
    assert json.loads(signed.detail)["signed_by"] == "super1"


def test_a_case_officer_cannot_sign_a_warrant_even_past_the_policy() -> None:
    """The lifecycle refuses it too: a forged role never gets a warrant signed."""
    case = CaseFile(
        "c",
        "P",
        state=State.CHARGED,
        instruments=(CaseInstrument("nta", "N", "ICE", day(0), signed_by="o"),),
    )
    result = transition(
        case,
        lc.IssueWarrant(
            day(1), "o", "case_officer", instrument="i200", reference="W", authority="SDDO"
        ),
    )
    assert isinstance(result, Refused)
    assert any(
        "signed by an authorized supervisory officer, not a case_officer" in r
        for r in result.reasons
    )


# ---- 3. an officer's word does not override a court --------------------------------------


def test_a_court_act_cites_a_court_record_that_says_so_or_the_order(app_on: Habeas) -> None:
    app = app_on
    case_id = new_case(app, "P-court")
    officer(app, case_id, "begin_review", day(0))
    officer(app, case_id, "charge", day(1), instrument="nta", reference="NTA-C", authority="ICE")
    officer(app, case_id, "begin_proceedings", day(2))
    court_record(
        app,
        "r-court",
        "P-court",
        order_type="removal",
        order_date=str(day(10)),
        appeal_status="pending",
    )
    court_record(
        app,
        "r-other",
        "P-somebody-else",
        order_type="removal",
        order_date=str(day(10)),
        appeal_status="waived",
    )
    officer(app, case_id, "decide", day(10), authority="IJ", basis="r-court")
    with pytest.raises(GateRefused, match="an officer's word is not a court's"):
        officer(app, case_id, "waive_appeal", day(12))
    with pytest.raises(GateRefused, match="shows appeal_status 'pending', not waived"):
        officer(app, case_id, "waive_appeal", day(12), basis="r-court")
    with pytest.raises(GateRefused, match="another person's"):
        officer(app, case_id, "waive_appeal", day(12), basis="r-other")
    with pytest.raises(GateRefused, match="not a record of the published person index"):
        officer(app, case_id, "waive_appeal", day(12), basis="made-up")
    # ten days after the order, there is still no final order to remove anyone on
    view = app.cases.show(app.users.local("officer1", "t"), "case_review", case_id, day(20))
    assert view.case["state"] == "appeal_window"
    assert "no final order of removal" in view.gates["removal"]


def test_a_courts_stay_is_lifted_only_by_that_court_or_a_higher_one_citing_its_order(
    app_on: Habeas,
) -> None:
    app = app_on
    case_id = to_final_order(app, "P-stay")
    officer(
        app,
        case_id,
        "grant_stay",
        day(20),
        stay_id="s1",
        authority="federal_court",
        reason="stay pending the petition",
        **order(app, "9th Cir. stay (synthetic)", "federal_court"),
    )
    with pytest.raises(GateRefused) as refused:
        officer(app, case_id, "lift_stay", day(30), stay_id="s1", authority="agency")
    reasons = refused.value.refused.reasons
    assert any("an officer's word is not a court's" in r for r in reasons)
    assert any(
        "lifted by the federal_court or a higher authority, not the agency" in r for r in reasons
    )
    with pytest.raises(GateRefused, match="not the bia"):
        officer(
            app,
            case_id,
            "lift_stay",
            day(30),
            stay_id="s1",
            authority="bia",
            **order(app, "BIA order (synthetic)", "bia"),
        )
    # the authority is the verified document's court, whatever the step types
    with pytest.raises(GateRefused, match="not the bia"):
        officer(
            app,
            case_id,
            "lift_stay",
            day(30),
            stay_id="s1",
            authority="federal_court",
            **order(app, "BIA order (synthetic)", "bia"),
        )
    with pytest.raises(GateRefused, match="not the immigration_judge"):
        officer(
            app,
            case_id,
            "lift_stay",
            day(30),
            stay_id="s1",
            authority="my supervisor",
            **order(app),
        )
    # an officer's own text, cited with its hash and a typed court: not a court's act
    written = app.cases.attach(
        app.users.local("officer1", "t"),
        "case_review",
        case_id,
        "order.txt",
        b"The stay is lifted. -- officer1",
    )
    cite = {"document": written.name, "document_sha256": written.sha256}
    with pytest.raises(GateRefused, match="nobody has verified it against the court's docket"):
        officer(app, case_id, "lift_stay", day(30), stay_id="s1", authority="federal_court", **cite)
    with pytest.raises(AccessDenied, match="no policy permits it"):  # an officer verifies nothing
        app.cases.verify_document(
            app.users.local("officer1", "t"),
            "case_review",
            case_id,
            written.sha256,
            "federal_court",
            "9TH-CIR-1",
        )
    own = app.cases.attach(
        app.users.local("super1", "t"), "case_review", case_id, "lift.txt", b"Lifted. -- super1"
    )
    with pytest.raises(AccessDenied, match="does not verify it"):  # nor who attached it
        app.cases.verify_document(
            app.users.local("super1", "t"),
            "case_review",
            case_id,
            own.sha256,
            "federal_court",
            "9TH-CIR-1",
        )
    # a verification written into the store by hand does not carry its seal
    with _raw(app) as conn:
        conn.execute(
            text(
                "UPDATE case_documents SET issuer = 'federal_court', "
                "docket_reference = 'X-1', verified_by = 'super2', "
                "verified_at = '2026-01-01 00:00:00', verification_seal = :s "
                "WHERE sha256 = :h"
            ),
            {"s": "0" * 64, "h": written.sha256},
        )
    with pytest.raises(GateRefused, match="does not carry its seal"):
        officer(app, case_id, "lift_stay", day(30), stay_id="s1", authority="federal_court", **cite)
    view = app.cases.show(app.users.local("officer1", "t"), "case_review", case_id, TODAY)
    assert any("stay granted" in r for r in view.gates["removal"])
    with pytest.raises(GateRefused, match="is not a document attached to case"):
        officer(
            app,
            case_id,
            "lift_stay",
            day(30),
            stay_id="s1",
            authority="federal_court",
            document="an order nobody attached",
            document_sha256="cd" * 32,
        )
    lifted = order(app, "9th Cir. order lifting stay (synthetic)", "federal_court")
    officer(app, case_id, "lift_stay", day(30), stay_id="s1", authority="federal_court", **lifted)
    name, content = app.cases.document(
        app.users.local("officer1", "t"), "case_review", case_id, lifted["document_sha256"]
    )
    assert name == "9th Cir. order lifting stay (synthetic)"
    assert content == f"{name} for case {case_id}".encode()
    view = app.cases.show(app.users.local("officer1", "t"), "case_review", case_id, TODAY)
    assert not any("stay granted" in r for r in view.gates["removal"])


# ---- 4. paths that skip the law ----------------------------------------------------------


def _raw(app: Habeas) -> Any:
    """A connection to the store that is not habeas's: what someone editing the database
    file or the server directly would hold."""
    return create_engine(app.settings.operational_url).begin()


def _history(app: Habeas, case_id: int) -> list[tuple[int, str, str]]:
    with app.sessions() as s:
        return list(
            s.execute(
                select(CaseEvent.seq, CaseEvent.kind, CaseEvent.event_hash)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.seq)
            ).all()
        )  # type: ignore[arg-type]


def test_an_approval_inserted_by_sql_is_caught_by_the_next_step_and_by_audit_verify(
    app_on: Habeas,
) -> None:
    app = app_on
    case_id = to_final_order(app, "P-forge")
    supervisor(
        app,
        case_id,
        "issue_warrant",
        day(11),
        instrument="i205",
        reference="I205-X",
        authority="FOD",
    )
    officer(app, case_id, "request_field_action", day(12))
    assert app.audit.verify()[0].ok
    seq, _, _ = _history(app, case_id)[-1]
    payload = json.dumps(
        {
            "kind": "approve_field_action",
            "on": str(day(13)),
            "actor": "super2",
            "role": "supervisor",
        },
        sort_keys=True,
    )
    with _raw(app) as conn:  # a naive insert: no hash
        conn.execute(
            text(
                "INSERT INTO case_events (case_id, seq, at, kind, actor, role, "
                "state_after, payload) VALUES (:c, :s, :at, 'approve_field_action', "
                "'super2', 'supervisor', 'approved_for_field_action', :p)"
            ),
            {"c": case_id, "s": seq + 1, "at": "2026-01-01 00:00:00", "p": payload},
        )
    with pytest.raises(HistoryBroken):
        supervisor(app, case_id, "assign", day(14), team="NE-1")
    v, _ = app.audit.verify()
    assert not v.ok and f"case {case_id}" in (v.history_problem or "")


def test_an_approval_forged_with_a_recomputed_chain_is_refused_at_the_next_step(
    app_on: Habeas,
) -> None:
    """Whoever can write the store but not read the history key recomputes the chain as
    SHA-256 and the case row's token after inserting an approval: the next step refuses
    to act on it (the chain is keyed), and audit verify names the forged event."""
    from datetime import datetime

    from habeas.errors import HistoryBroken

    app = app_on
    case_id = to_final_order(app, "P-forge2")
    supervisor(
        app,
        case_id,
        "issue_warrant",
        day(11),
        instrument="i205",
        reference="I205-Y",
        authority="FOD",
    )
    officer(app, case_id, "request_field_action", day(12))
    seq, _, prev = _history(app, case_id)[-1]
    payload = json.dumps(
        {
            "kind": "approve_field_action",
            "on": str(day(13)),
            "actor": "super2",
            "role": "supervisor",
            "basis": "",
            "document": "",
            "document_sha256": "",
            "recorded": str(TODAY),
        },
        sort_keys=True,
    )
    at = datetime(2026, 1, 1, 0, 0, 0, 1)
    forged = StoredEvent(
        case_id,
        seq + 1,
        at,
        "approve_field_action",
        "super2",
        "supervisor",
        "approved_for_field_action",
        payload,
    )
    for guess in (None, b"\x00" * 32):  # unkeyed, or keyed with a guessed key
        digest = forged.hashed(prev, guess)
        with _raw(app) as conn:
            conn.execute(
                text("DELETE FROM case_events WHERE case_id = :c AND seq = :s"),
                {"c": case_id, "s": seq + 1},
            )
            conn.execute(
                text(
                    "INSERT INTO case_events (case_id, seq, at, kind, actor, role, "
                    "state_after, payload, prev_hash, event_hash) VALUES (:c, :s, "
                    ":at, 'approve_field_action', 'super2', 'supervisor', "
                    "'approved_for_field_action', :p, :prev, :h)"
                ),
                {"c": case_id, "s": seq + 1, "at": at, "p": payload, "prev": prev, "h": digest},
            )
            conn.execute(
                text(
                    "UPDATE cases SET history_token = :t, "
                    "state = 'approved_for_field_action' WHERE id = :c"
                ),
                {"t": digest[:32], "c": case_id},
            )
        with pytest.raises(HistoryBroken):
            supervisor(app, case_id, "assign", day(14), team="NE-1")
        v, _ = app.audit.verify()
        assert not v.ok
        assert v.history_problem == (
            f"case {case_id}: event {seq + 1} (approve_field_action) "
            "does not match its hash (edited)"
        )


def test_a_case_state_edited_alone_is_not_believed(app_on: Habeas) -> None:
    """``UPDATE cases SET state = 'removed'``: the list marks the row as not verifying,
    no step acts on it, and audit verify names the row."""
    from habeas.errors import HistoryBroken

    app = app_on
    case_id = to_final_order(app, "P-state")
    with _raw(app) as conn:
        conn.execute(text("UPDATE cases SET state = 'removed' WHERE id = :c"), {"c": case_id})
    listed = app.cases.list_cases(
        app.users.local("officer1", "t"), "case_review", state="removed"
    ).cases
    assert [c.verified for c in listed if c.id == case_id] == [False]
    assert "does not verify" in next(c.state for c in listed if c.id == case_id)
    with pytest.raises(HistoryBroken):
        supervisor(
            app,
            case_id,
            "issue_warrant",
            day(11),
            instrument="i205",
            reference="I205-S",
            authority="FOD",
        )
    v, _ = app.audit.verify()
    assert not v.ok and v.history_problem == (
        f"case {case_id}: its row says removed, which is not what its history sealed "
        "(the case row was edited)"
    )


def test_deleting_a_stay_or_editing_an_event_is_caught(app_on: Habeas) -> None:
    app = app_on
    stayed = to_final_order(app, "P-del")
    officer(
        app,
        stayed,
        "grant_stay",
        day(20),
        stay_id="s1",
        authority="bia",
        reason="motion",
        **order(app),
    )
    edited = to_final_order(app, "P-edit")  # a later case: checked after the stayed one
    # first an edit alone: the edited event is named
    with _raw(app) as conn:
        conn.execute(
            text(
                "UPDATE case_events SET payload = replace(payload, "
                "'immigration_judge', 'federal_court') "
                "WHERE case_id = :c AND kind = 'decide'"
            ),
            {"c": edited},
        )
    v, _ = app.audit.verify()
    assert not v.ok
    assert v.history_problem == f"case {edited}: event 5 (decide) does not match its hash (edited)"
    # then a deleted stay on the earlier case: the next step and audit verify both catch it
    seq, kind, _ = _history(app, stayed)[-1]
    assert kind == "grant_stay"
    with _raw(app) as conn:
        conn.execute(
            text("DELETE FROM case_events WHERE case_id = :c AND seq = :s"), {"c": stayed, "s": seq}
        )
    with pytest.raises(HistoryBroken, match="row does not carry the seal of its state"):
        custody(app, stayed, "mark_ready", day(21))
    v2, _ = app.audit.verify()
    assert not v2.ok
    assert re.fullmatch(
        rf"case {stayed}: event {seq}, recorded by audit entry \d+, is missing "
        r"from the case's history: it was deleted",
        v2.history_problem or "",
    )


def test_a_case_history_deleted_whole_is_named(app_on: Habeas) -> None:
    """Every event of a case deleted (the row left): audit verify names the case, even when
    later cases are whole."""
    app = app_on
    gone = to_final_order(app, "P-gone")
    to_final_order(app, "P-kept")
    with _raw(app) as conn:
        conn.execute(text("DELETE FROM case_events WHERE case_id = :c"), {"c": gone})
    v, _ = app.audit.verify()
    assert re.fullmatch(
        rf"case {gone}: event 1, recorded by audit entry \d+, is missing from "
        r"the case's history: it was deleted",
        v.history_problem or "",
    )


def test_a_history_token_copied_to_another_case_serves_nothing(app_on: Habeas) -> None:
    """The stayed case's token on another case: that case is refused as tampered, never
    given the stayed case's history (nor the stayed case the other's)."""
    app = app_on
    stayed = to_final_order(app, "P-tok-a")
    officer(
        app,
        stayed,
        "grant_stay",
        day(20),
        stay_id="s1",
        authority="bia",
        reason="motion",
        **order(app),
    )
    other = to_final_order(app, "P-tok-b")
    with app.sessions() as s:
        token = s.get(Case, stayed).history_token  # type: ignore[union-attr]
    with _raw(app) as conn:
        conn.execute(
            text("UPDATE cases SET history_token = :t WHERE id = :c"), {"t": token, "c": other}
        )
    with pytest.raises(HistoryBroken):
        officer(app, other, "close", day(21), reason="closing on a copied token")
    view = app.cases.show(app.users.local("officer1", "t"), "case_review", stayed, TODAY)
    assert view.file.stays and view.file.case_id == str(stayed)
    with pytest.raises(GateRefused, match="stay granted"):
        custody(app, stayed, "mark_ready", day(21))


# ---- 5. legal events that could not be recorded -------------------------------------------


def _final(**order: Any) -> CaseFile:
    from habeas.cases.instruments import Instrument as Inst
    from habeas.cases.instruments import Order

    docs = (
        Inst("i205", "R", "FOD", day(0), signed_by="s"),
        Inst(
            "travel_document",
            "TD",
            "Consulate",
            day(0),
            TODAY + timedelta(days=60),
            country="MX",
            signed_by="c",
        ),
        Inst("medical_clearance", "M", "IHSC", day(0), TODAY + timedelta(days=30), signed_by="c"),
    )
    return CaseFile(
        "c",
        "P",
        state=State.FINAL_ORDER,
        final_on=day(10),
        destination="MX",
        order=Order("removal_order", day(5), "IJ", appeal_waived=True, **order),
        instruments=docs,
    )


def ok(case: CaseFile, event: lc.Event) -> CaseFile:
    result = transition(case, event)
    assert isinstance(result, CaseFile), result
    return result


def test_a_petition_for_review_stays_nothing_only_the_courts_stay_does() -> None:
    case = ok(
        _final(), lc.FilePetitionForReview(day(20), "o", "case_officer", court="9th Cir.", **ORDER)
    )
    assert case.petition is not None and case.petition.pending
    assert ok(case, lc.MarkReady(day(21), "c", "custody_officer")).state == State.READY_FOR_REMOVAL
    stayed = ok(
        case,
        lc.GrantStay(
            day(22),
            "o",
            "case_officer",
            stay_id="pfr",
            authority="federal_court",
            reason="stay pending review",
            **ORDER,
        ),
    )
    refused = transition(stayed, lc.MarkReady(day(23), "c", "custody_officer"))
    assert isinstance(refused, Refused) and any("federal_court" in r for r in refused.reasons)
    granted = ok(case, lc.DecidePetition(day(40), "o", "case_officer", outcome="granted", **ORDER))
    assert granted.state == State.IN_PROCEEDINGS and granted.final_on is None


def test_an_i246_stay_is_the_agencys_granted_by_a_supervisor_with_the_decision() -> None:
    grant = lc.GrantAdministrativeStay(
        day(20), "s", "supervisor", stay_id="i246", until=day(50), reason="humanitarian", **ORDER
    )
    stayed = ok(_final(), grant)
    for d in (day(25), day(50)):
        held = transition(stayed, lc.MarkReady(d, "c", "custody_officer"))
        assert isinstance(held, Refused), d
    assert ok(stayed, lc.MarkReady(day(51), "c", "custody_officer")).state == (
        State.READY_FOR_REMOVAL
    )  # the stay ran out
    by_officer = transition(_final(), replace(grant, role="case_officer"))
    assert isinstance(by_officer, Refused)
    assert "only a supervisor may grant administrative stay (not a case_officer)" in (
        by_officer.reasons
    )
    bare = transition(_final(), replace(grant, document="", document_sha256=""))
    assert isinstance(bare, Refused) and any("I-246" in r for r in bare.reasons)


def test_a_missed_departure_deadline_puts_the_alternate_order_in_effect(app_on: Habeas) -> None:
    """Recorded as the lifecycle's, citing the deadline, as soon as the case is read; the
    task is settled as missed; the order is now one of removal."""
    app = app_on
    deadline = day(70)
    case_id = to_final_order(
        app, "P-vd", outcome="voluntary_departure", departure_deadline=deadline.isoformat()
    )
    reader = app.users.local("officer1", "t")
    view = app.cases.show(reader, "case_review", case_id, TODAY)
    last = view.history[-1]
    assert last["kind"] == "alternate_order_effective" and last["actor"] == "habeas-lifecycle"
    assert last["on"] == str(deadline + timedelta(days=1))
    assert f"deadline {deadline} passed with no verified departure" in last["basis"]
    assert "8 CFR 1240.26(d)" in last["basis"]
    assert view.file.order is not None and view.file.order.kind == "removal_order"
    assert view.file.order.alternate
    with app.sessions() as s:
        task = s.execute(select(Task).where(Task.case_id == case_id)).scalar_one()
    assert (task.kind, task.status) == ("voluntary_departure_due", "missed")
    again = app.cases.show(reader, "case_review", case_id, TODAY)
    assert len(again.history) == len(view.history)  # recorded once
    assert app.audit.verify()[0].ok


def test_tasks_due_also_puts_a_passed_deadline_into_effect(app_on: Habeas) -> None:
    app = app_on
    case_id = to_final_order(
        app,
        "P-vd2",
        outcome="voluntary_departure",
        departure_deadline=(TODAY - timedelta(days=2)).isoformat(),
    )
    rows = app.cases.tasks(app.users.local("officer1", "t"), "case_review", TODAY, within=30)
    assert not any(r.case_id == case_id for r in rows)  # settled: no longer due
    with app.sessions() as s:
        kinds = list(
            s.execute(
                select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
            ).scalars()
        )
    assert kinds[-1] == "alternate_order_effective"


def test_the_genesis_of_every_history_is_the_zero_hash(app_on: Habeas) -> None:
    app = app_on
    case_id = new_case(app, "P-gen")
    with app.sessions() as s:
        first = s.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)).scalar_one()
        case = s.get(Case, case_id)
    assert first.prev_hash == GENESIS and first.seq == 1
    # the row's token seals its state and its last event's hash with the history key
    from habeas.cases.history import case_seal
    from habeas.store.keys import key_for

    key = key_for(app.engine)
    assert case is not None
    assert case.history_token == case_seal(key, case_id, "identified", first.event_hash or "")


@given(st.text(), st.text(), st.text())
def test_an_events_canonical_bytes_are_sorted_compact_json(
    kind: str, actor: str, body: str
) -> None:
    """The hand-built bytes equal json.dumps of the same fields, for any text."""
    from datetime import datetime

    e = StoredEvent(3, 7, datetime(2026, 1, 2, 3, 4, 5), kind, actor, "role", "state", body)
    fields = {
        "case_id": 3,
        "seq": 7,
        "at": "2026-01-02T03:04:05.000000",
        "kind": kind,
        "actor": actor,
        "role": "role",
        "state_after": "state",
        "payload": body,
    }
    assert (
        e.canonical()
        == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_two_officers_stepping_on_one_case_at_once_leave_one_whole_history(
    app_on: Habeas,
) -> None:
    """Concurrent steps on one case: one lands, the other is a conflict (or, serialized,
    refused by the law), never a half-written or forked history."""
    import threading

    from habeas.cases.service import record_event
    from habeas.errors import Conflict
    from habeas.governance.authz import AccessContext

    app = app_on
    case_id = new_case(app, "P-race")
    officer(app, case_id, "begin_review", day(0))
    start, results = threading.Barrier(2), []
    lock = threading.Lock()

    def close(who: str) -> None:
        ctx = AccessContext(who, "case_officer", "case_review")
        start.wait()
        try:
            with app.sessions() as s:
                record_event(s, ctx, case_id, lc.Close(day(1), "", "", reason=f"closed by {who}"))
                s.commit()
            outcome = "closed"
        except (Conflict, GateRefused) as exc:
            outcome = type(exc).__name__
        except Exception as exc:  # anything else (a duplicate event number …) fails the test
            outcome = repr(exc)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=close, args=(w,)) for w in ("officer1", "officer2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("closed") == 1, results
    assert set(results) - {"closed"} <= {"Conflict", "GateRefused"}, results
    assert [k for _, k, _ in _history(app, case_id)] == ["opened", "begin_review", "close"]
    assert app.audit.verify()[0].ok
