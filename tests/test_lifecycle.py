"""The case state machine and its gates, in memory: every gate reason, and invariants
driven by random event sequences (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.cases import lifecycle as lc
from habeas.cases.casefile import CaseFile, Refused, State
from habeas.cases.lifecycle import transition

D0 = date(2026, 1, 5)
OFFICER = ("officer1", "case_officer")
SUPERVISOR = ("super1", "supervisor")
OTHER_SUPERVISOR = ("super2", "supervisor")


COURT_RECORD = "eoir_cases:EOIR-1"


def court(cls: type[lc.Event], *args: object, **kw: object) -> lc.Event:
    """A court's act, citing a court record (the lifecycle needs a basis for it)."""
    kw.setdefault("basis", COURT_RECORD)
    if cls is lc.Decide:
        kw.setdefault("authority", "IJ Example Court")
    return cls(*args, **kw)  # type: ignore[arg-type]


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def ok(case: CaseFile, event: lc.Event) -> CaseFile:
    result = transition(case, event)
    assert not isinstance(result, Refused), str(result)
    return result


def refused(case: CaseFile, event: lc.Event) -> list[str]:
    result = transition(case, event)
    assert isinstance(result, Refused), f"{event.kind} was allowed in {case.state}"
    assert result.reasons and all(r.strip() for r in result.reasons)
    return list(result.reasons)


def run(case: CaseFile, *events: lc.Event) -> CaseFile:
    for e in events:
        case = ok(case, e)
    return case


def new() -> CaseFile:
    return CaseFile("c1", "P1")


def charged(n: int = 0) -> CaseFile:
    return run(
        new(),
        lc.BeginReview(day(n), *OFFICER),
        lc.Charge(day(n + 1), *OFFICER, instrument="nta", reference="NTA-1", authority="ICE ERO"),
    )


def with_warrant(n: int = 0, expires: date | None = None) -> CaseFile:
    return ok(
        charged(n),
        lc.IssueWarrant(
            day(n + 2),
            *SUPERVISOR,
            instrument="i200",
            reference="I200-1",
            authority="SDDO",
            expires_on=expires,
        ),
    )


def approved(n: int = 0) -> CaseFile:
    return run(
        with_warrant(n),
        lc.RequestFieldAction(day(n + 3), *OFFICER),
        lc.ApproveFieldAction(day(n + 4), *SUPERVISOR),
    )


def final_order(n: int = 0, **decide: object) -> CaseFile:
    """Detained, decided, appeal waived: a final order on day n+12."""
    case = run(
        approved(n),
        lc.Assign(day(n + 5), *OFFICER, team="team-7"),
        lc.RecordEncounter(day(n + 6), "fo1", "field_officer", outcome="arrested"),
        lc.DecideCustody(day(n + 7), "co1", "custody_officer", custody="detained"),
        lc.BeginProceedings(day(n + 8), *OFFICER),
        court(
            lc.Decide,
            day(n + 10),
            "ij1",
            "supervisor",
            outcome="removal_order",
            authority="IJ Example Court",
            **decide,
        ),  # type: ignore[arg-type]
        court(lc.WaiveAppeal, day(n + 12), *OFFICER),
    )
    assert case.state == State.FINAL_ORDER
    return case


def ready_papers(case: CaseFile, n: int, country: str = "MX") -> CaseFile:
    return run(
        case,
        lc.IssueWarrant(
            day(n),
            *SUPERVISOR,
            instrument="i205",
            reference="I205-1",
            authority="Field Office Director",
        ),
        lc.AddInstrument(
            day(n),
            "co1",
            "custody_officer",
            instrument="travel_document",
            reference="TD-1",
            authority="Consulate",
            country=country,
            expires_on=day(n + 60),
        ),
        lc.AddInstrument(
            day(n),
            "co1",
            "custody_officer",
            instrument="medical_clearance",
            reference="MED-1",
            authority="IHSC",
            expires_on=day(n + 30),
        ),
        lc.SetDestination(day(n), "co1", "custody_officer", country=country),
    )


def test_a_case_goes_from_identification_to_removal() -> None:
    case = ready_papers(final_order(), 13)
    case = run(
        case,
        lc.MarkReady(day(14), "co1", "custody_officer"),
        lc.AddToManifest(day(15), "co1", "custody_officer", flight="FL-1"),
        lc.ConfirmRemoval(day(16), "co1", "custody_officer"),
    )
    assert case.state == State.REMOVED and case.flight == "FL-1"
    assert refused(case, lc.Close(day(17), *OFFICER, reason="x")) == [
        "the case is removed: no further steps"
    ]


# ---- field action gate -------------------------------------------------------------------


def test_no_instrument_no_field_action() -> None:
    case = run(
        charged(),
        lc.IssueWarrant(
            day(2),
            *SUPERVISOR,
            instrument="i200",
            reference="W",
            authority="SDDO",
            expires_on=day(3),
        ),
    )
    reasons = refused(case, lc.RequestFieldAction(day(10), *OFFICER))
    assert any(r.startswith(f"no warrant valid on {day(10)}: i200 W") for r in reasons)
    bare = CaseFile("c2", "P2", state=State.FINAL_ORDER)
    reasons = refused(bare, lc.RequestFieldAction(day(10), *OFFICER))
    assert any("no valid instrument: neither an I-200" in r for r in reasons)


def test_the_requester_may_not_approve_and_only_a_supervisor_approves() -> None:
    case = run(with_warrant(), lc.RequestFieldAction(day(3), *SUPERVISOR))
    assert "super1 requested this field action and may not approve it too" in refused(
        case, lc.ApproveFieldAction(day(4), *SUPERVISOR)
    )
    assert "only a supervisor may approve field action (not a case_officer)" in refused(
        case, lc.ApproveFieldAction(day(4), *OFFICER)
    )
    assert ok(case, lc.ApproveFieldAction(day(4), *OTHER_SUPERVISOR)).state == State.APPROVED


def test_assignment_without_approval_is_refused_even_from_a_forged_state() -> None:
    forged = replace(with_warrant(), state=State.APPROVED)  # no request, no approval
    reasons = refused(forged, lc.Assign(day(5), *OFFICER, team="t"))
    assert "no approval: a supervisor other than the requester must approve first" in reasons


def test_a_lapsed_or_withdrawn_warrant_stops_the_assignment() -> None:
    case = run(
        charged(),
        lc.IssueWarrant(
            day(2),
            *SUPERVISOR,
            instrument="i200",
            reference="W1",
            authority="SDDO",
            expires_on=day(4),
        ),
        lc.RequestFieldAction(day(3), *OFFICER),
        lc.ApproveFieldAction(day(4), *SUPERVISOR),
    )
    assert any(
        "no warrant valid on" in r for r in refused(case, lc.Assign(day(9), *OFFICER, team="t"))
    )
    withdrawn = ok(
        approved(),
        lc.WithdrawInstrument(day(5), *SUPERVISOR, reference="I200-1", reason="recalled"),
    )
    assert any(
        "(withdrawn)" in r for r in refused(withdrawn, lc.Assign(day(6), *OFFICER, team="t"))
    )


def test_an_i205_needs_a_final_executable_order() -> None:
    case = run(
        new(),
        lc.BeginReview(day(0), *OFFICER),
        lc.Charge(day(1), *OFFICER, instrument="nta", reference="N", authority="ICE ERO"),
        lc.BeginProceedings(day(2), *OFFICER),
        court(lc.Decide, day(3), "ij", "supervisor", outcome="removal_order"),
    )
    assert "an I-205 warrant of removal needs a final order of removal" in refused(
        case, lc.IssueWarrant(day(4), *SUPERVISOR, instrument="i205")
    )
    case = run(
        case,
        court(lc.FinalizeOrder, day(40), *OFFICER),
        lc.IssueWarrant(day(41), *SUPERVISOR, instrument="i205", reference="R", authority="FOD"),
        court(
            lc.GrantStay,
            day(42),
            "bia",
            "supervisor",
            stay_id="s1",
            authority="bia",
            reason="motion pending",
        ),
    )
    reasons = refused(case, lc.RequestFieldAction(day(43), *OFFICER))
    assert reasons == [
        "the I-205 warrant of removal cannot be executed: stay granted "
        f"{day(42)} by bia (motion pending), not lifted"
    ]
    lifted = ok(
        case, court(lc.LiftStay, day(50), "bia", "supervisor", stay_id="s1", authority="bia")
    )
    assert ok(lifted, lc.RequestFieldAction(day(51), *OFFICER)).state == State.FIELD_REQUESTED


@pytest.mark.parametrize("flag", ["citizenship", "lawful_status"])
def test_a_flag_blocks_the_field_action_until_a_supervisor_resolves_it(flag: str) -> None:
    case = ok(
        with_warrant(),
        lc.RaiseFlag(
            day(3),
            "index",
            "integration_engineer",
            flag=flag,
            detail="U.S. passport",
            record_ids=("r9",),
        ),
    )
    reasons = refused(case, lc.RequestFieldAction(day(4), *OFFICER))
    assert any(
        r.startswith(f"unresolved {flag} flag (U.S. passport) from record(s) r9") for r in reasons
    )
    assert "only a supervisor may resolve flag (not a case_officer)" in refused(
        case, lc.ResolveFlag(day(5), *OFFICER, flag=flag, reason="checked it", evidence="x")
    )
    too_short = refused(case, lc.ResolveFlag(day(5), *SUPERVISOR, flag=flag, reason="ok"))
    assert "resolving a flag names the evidence examined" in too_short
    assert "resolving a flag needs a written reason (10 characters at least)" in too_short
    resolved = ok(
        case,
        lc.ResolveFlag(
            day(5),
            *SUPERVISOR,
            flag=flag,
            reason="passport record belongs to a namesake",
            evidence="State Department passport file",
        ),
    )
    assert resolved.flags[0].resolved_by == "super1"
    assert ok(resolved, lc.RequestFieldAction(day(6), *OFFICER)).state == State.FIELD_REQUESTED


def test_a_citizenship_flag_stops_every_enforcement_step_at_any_stage() -> None:
    flag = lc.RaiseFlag(
        day(20),
        "index",
        "integration_engineer",
        flag="citizenship",
        detail="born in the U.S.",
        record_ids=("r1", "r2"),
    )
    on_manifest = run(
        ready_papers(final_order(), 13),
        lc.MarkReady(day(14), "co1", "custody_officer"),
        lc.AddToManifest(day(15), "co1", "custody_officer", flight="FL-1"),
        flag,
    )
    reasons = refused(on_manifest, lc.ConfirmRemoval(day(21), "co1", "custody_officer"))
    assert any("unresolved citizenship flag (born in the U.S.)" in r for r in reasons)
    off = ok(
        on_manifest,
        lc.TakeOffManifest(day(21), "co1", "custody_officer", reason="citizenship claim"),
    )
    assert off.state == State.READY_FOR_REMOVAL and off.flight == ""
    assert refused(off, lc.AddToManifest(day(22), "co1", "custody_officer", flight="FL-2"))
    early = ok(charged(), flag)
    assert refused(early, lc.IssueWarrant(day(21), *SUPERVISOR, instrument="i200"))


# ---- removal gate ------------------------------------------------------------------------


def test_removal_gate_names_every_missing_piece() -> None:
    reasons = refused(final_order(), lc.MarkReady(day(13), "co1", "custody_officer"))
    assert set(reasons) == {
        "no destination country set",
        "no travel document",
        "no valid I-205 warrant of removal",
        "no valid medical clearance",
    }


def test_removal_waits_for_the_appeal_window_and_a_pending_appeal() -> None:
    decided = run(
        approved(),
        lc.Assign(day(5), *OFFICER, team="t"),
        lc.RecordEncounter(day(6), "fo1", "field_officer", outcome="arrested"),
        lc.DecideCustody(day(7), "co1", "custody_officer", custody="detained"),
        lc.BeginProceedings(day(8), *OFFICER),
        court(lc.Decide, day(10), "ij", "supervisor", outcome="removal_order"),
    )
    assert decided.state == State.APPEAL_WINDOW
    assert f"the appeal window is open until {day(40)}" in refused(
        decided, court(lc.FinalizeOrder, day(20), *OFFICER)
    )
    appealed = ok(decided, court(lc.FileAppeal, day(25), "counsel1", "counsel"))
    assert appealed.state == State.APPEAL_PENDING
    assert f"the appeal window closed on {day(40)}" in refused(
        decided, court(lc.FileAppeal, day(41), "counsel1", "counsel")
    )
    final = run(appealed, court(lc.DecideAppeal, day(90), "bia", "supervisor", outcome="dismissed"))
    assert final.state == State.FINAL_ORDER and final.final_on == day(90)
    forged = replace(appealed, state=State.READY_FOR_REMOVAL, final_on=day(30))
    reasons = refused(
        ready_papers_on(forged, 30), lc.AddToManifest(day(31), "co1", "custody_officer", flight="F")
    )
    assert f"appeal to the bia filed {day(25)}, pending" in reasons


def ready_papers_on(case: CaseFile, n: int) -> CaseFile:
    """Papers added directly (the forged state would refuse an I-205 event order check)."""
    from habeas.cases.instruments import Instrument

    docs = (
        Instrument("i205", "R", "FOD", day(n)),
        Instrument("travel_document", "TD", "Consulate", day(n), day(n + 60), country="MX"),
        Instrument("medical_clearance", "M", "IHSC", day(n), day(n + 30)),
    )
    return replace(case, instruments=(*case.instruments, *docs), destination="MX")


def test_a_stay_of_any_authority_holds_removal_and_takes_the_person_off_the_manifest() -> None:
    on_manifest = run(
        ready_papers(final_order(), 13),
        lc.MarkReady(day(14), "co1", "custody_officer"),
        lc.AddToManifest(day(15), "co1", "custody_officer", flight="FL-1"),
    )
    for authority in ("immigration_judge", "bia", "federal_court", "agency"):
        stayed = ok(
            on_manifest,
            court(
                lc.GrantStay,
                day(16),
                "x",
                "supervisor",
                stay_id="s",
                authority=authority,
                reason="pending review",
            ),
        )
        assert stayed.state == State.READY_FOR_REMOVAL and stayed.flight == ""
        reasons = refused(
            stayed, lc.AddToManifest(day(17), "co1", "custody_officer", flight="FL-2")
        )
        assert f"stay granted {day(16)} by {authority} (pending review), not lifted" in reasons


def test_a_motion_to_reopen_an_in_absentia_order_stays_removal_automatically() -> None:
    case = ready_papers(final_order(in_absentia=True), 13)
    moved = ok(case, court(lc.FileMotionToReopen, day(14), "counsel1", "counsel", stay_id="mtr"))
    reasons = refused(moved, lc.MarkReady(day(15), "co1", "custody_officer"))
    assert any("by automatic (motion to reopen an in-absentia order" in r for r in reasons)
    # denied: the automatic stay ends with the decision on the motion
    denied = ok(moved, court(lc.DecideMotion, day(20), *OFFICER, outcome="denied"))
    assert ok(denied, lc.MarkReady(day(21), "co1", "custody_officer")).state == (
        State.READY_FOR_REMOVAL
    )


def test_a_motion_on_an_order_not_in_absentia_is_recorded_and_stays_nothing() -> None:
    """A BIA motion to reopen or reconsider a final order carries no automatic stay."""
    case = ready_papers(final_order(), 13)
    for motion in (
        court(lc.FileMotionToReopen, day(14), "c", "counsel", body="bia"),
        court(lc.FileMotionToReconsider, day(14), "c", "counsel", body="bia"),
    ):
        moved = ok(case, motion)
        assert moved.motion is not None and moved.motion.pending and not moved.stays
        assert ok(moved, lc.MarkReady(day(15), "co1", "custody_officer")).state == (
            State.READY_FOR_REMOVAL
        )
    granted = ok(
        ok(case, court(lc.FileMotionToReopen, day(14), "c", "counsel", body="bia")),
        court(lc.DecideMotion, day(30), *OFFICER, outcome="granted"),
    )
    assert granted.state == State.IN_PROCEEDINGS and granted.final_on is None
    assert "no final order of removal" in refused(
        replace(granted, state=State.FINAL_ORDER),
        lc.MarkReady(day(31), "co1", "custody_officer"),
    )


def test_protection_bars_the_destination_and_documents_must_fit_it() -> None:
    case = ok(
        ready_papers(final_order(), 13),
        court(lc.GrantProtection, day(13), "ij", "supervisor", country="MX"),
    )
    assert any(
        "removal to MX is barred by a grant of protection" in r
        for r in refused(case, lc.MarkReady(day(14), "co1", "custody_officer"))
    )
    elsewhere = ok(case, lc.SetDestination(day(14), "co1", "custody_officer", country="GT"))
    assert any(
        r.startswith(f"no travel document valid on {day(15)} for GT")
        for r in refused(elsewhere, lc.MarkReady(day(15), "co1", "custody_officer"))
    )
    expired = ready_papers(final_order(), 13)
    assert any(
        r.startswith(f"no travel document valid on {day(80)} for MX")
        for r in refused(expired, lc.MarkReady(day(80), "co1", "custody_officer"))
    )


def test_voluntary_departure_runs_to_its_deadline() -> None:
    decided = run(
        charged(),
        lc.BeginProceedings(day(2), *OFFICER),
        court(
            lc.Decide,
            day(3),
            "ij",
            "supervisor",
            outcome="voluntary_departure",
            departure_deadline=day(63),
        ),
        court(lc.WaiveAppeal, day(3), *OFFICER),
    )
    assert f"inside the voluntary departure period, which runs until {day(63)}" in " ".join(
        refused(decided, lc.MarkFugitive(day(30), *OFFICER, reason="no show"))
    )
    # once the alternate order took effect (the deadline passed), a fugitive step dated
    # back inside the period is still refused, naming both dates
    after = ok(
        decided, lc.AlternateOrderEffective(day(64), lc.LIFECYCLE_ACTOR, "system", deadline=day(63))
    )
    why = " ".join(refused(after, lc.MarkFugitive(day(58), *OFFICER, reason="no show")))
    assert f"dated {day(58)}" in why and f"runs until {day(63)}" in why
    assert ok(decided, lc.MarkFugitive(day(64), *OFFICER, reason="did not depart")).state == (
        State.FUGITIVE
    )
    left = ok(decided, lc.VerifyDeparture(day(40), *OFFICER, proof="CBP exit record X1"))
    assert left.state == State.DEPARTURE_VERIFIED
    assert "voluntary departure is granted with a deadline after the decision" in refused(
        run(charged(), lc.BeginProceedings(day(2), *OFFICER)),
        court(lc.Decide, day(3), "ij", "supervisor", outcome="voluntary_departure"),
    )


def test_a_summary_order_is_final_without_proceedings() -> None:
    case = run(
        new(),
        lc.BeginReview(day(0), *OFFICER),
        lc.Charge(
            day(1), *OFFICER, instrument="reinstatement", reference="REIN-1", authority="ICE ERO"
        ),
    )
    assert case.final_on == day(1) and case.order is not None and case.order.summary
    assert ok(case, court(lc.FinalizeOrder, day(2), *OFFICER)).state == State.FINAL_ORDER
    nta = charged()
    assert any(
        "only a summary order" in r for r in refused(nta, court(lc.FinalizeOrder, day(2), *OFFICER))
    )


def test_refusals_are_specific_about_state() -> None:
    reasons = refused(new(), lc.ConfirmRemoval(day(1), "co1", "custody_officer"))
    assert reasons[0] == "not possible in state identified (only in: on_manifest)"


def test_every_event_kind_has_a_rule_and_round_trips_through_storage() -> None:
    assert set(lc.EVENTS) == set(lc._HANDLERS)
    for kind, cls in lc.EVENTS.items():
        event = cls(day(1), "someone", "case_officer")
        assert lc.event_from_payload(lc.event_payload(event)) == event, kind
    with pytest.raises(ValueError, match="unknown event kind"):
        lc.event_from_payload({"kind": "teleport"})
    with pytest.raises(ValueError, match="unknown field"):
        lc.event_from_payload(
            {"kind": "close", "on": "2026-01-01", "actor": "a", "role": "r", "race": "x"}
        )


# ---- invariants under random event sequences ---------------------------------------------

ACTORS = st.sampled_from(
    [OFFICER, SUPERVISOR, OTHER_SUPERVISOR, ("fo1", "field_officer"), ("co1", "custody_officer")]
)


FORWARD: dict[State, list[str]] = {
    State.IDENTIFIED: ["begin_review"],
    State.UNDER_REVIEW: ["charge"],
    State.CHARGED: ["issue_warrant", "begin_proceedings", "finalize_order"],
    State.WARRANT_ISSUED: ["request_field_action", "begin_proceedings"],
    State.FIELD_REQUESTED: ["approve_field_action"],
    State.APPROVED: ["assign"],
    State.ASSIGNED: ["record_encounter"],
    State.ENCOUNTERED: ["decide_custody", "assign"],
    State.CUSTODY_DECIDED: ["begin_proceedings", "mark_ready", "finalize_order"],
    State.IN_PROCEEDINGS: ["decide"],
    State.APPEAL_WINDOW: ["waive_appeal", "file_appeal", "finalize_order"],
    State.APPEAL_PENDING: ["decide_appeal"],
    State.FINAL_ORDER: [
        "issue_warrant",
        "add_instrument",
        "set_destination",
        "mark_ready",
        "request_field_action",
    ],
    State.READY_FOR_REMOVAL: ["add_to_manifest", "add_instrument"],
    State.ON_MANIFEST: ["confirm_removal", "confirm_removal", "take_off_manifest"],
    State.FUGITIVE: ["request_field_action"],
    State.RELEASED: ["begin_proceedings", "mark_fugitive"],
}
DISRUPTIVE = [
    "grant_stay",
    "lift_stay",
    "raise_flag",
    "resolve_flag",
    "file_motion_to_reopen",
    "grant_protection",
    "withdraw_instrument",
    "release",
]


def _missing_for_removal(case: CaseFile, today: date) -> str:
    """The next paper a final order still needs before the person can be made ready."""

    def has(kind: str) -> bool:
        return any(i.kind == kind and i.valid_on(today) for i in case.instruments)

    if not has("i205"):
        return "issue_warrant"
    if not (has("travel_document") and has("medical_clearance")):
        return "add_instrument"
    if not case.destination:
        return "set_destination"
    return "mark_ready"


def draw_event(data: st.DataObject, case: CaseFile, today: date, seen: list[lc.Event]) -> lc.Event:
    """The next event: mostly a forward step for the case's state, sometimes a disruption
    (stays, flags, protection, withdrawals), sometimes any event at all."""
    roll = data.draw(st.integers(0, 99))
    if roll < 72 and case.state == State.FINAL_ORDER:
        kind = _missing_for_removal(case, today)
    elif roll < 72 and case.state in FORWARD:
        kind = data.draw(st.sampled_from(FORWARD[case.state]))
    elif roll < 92:
        kind = data.draw(st.sampled_from(DISRUPTIVE))
    else:
        kind = data.draw(st.sampled_from(sorted(lc.EVENTS)))
    actor, role = data.draw(ACTORS)
    n = len(seen)
    extra: dict[str, object] = {}
    if kind == "charge":
        extra = {
            "instrument": data.draw(st.sampled_from(["nta", "nta", "reinstatement"])),
            "reference": f"N{n}",
            "authority": "ICE ERO",
        }
    elif kind == "issue_warrant":
        extra = {
            "instrument": "i205" if case.final_on else "i200",
            "reference": f"W{n}",
            "authority": "SDDO",
            "expires_on": data.draw(st.sampled_from([None, today + timedelta(days=30)])),
        }
    elif kind == "add_instrument":
        missing = [
            k
            for k in ("travel_document", "medical_clearance")
            if not any(i.kind == k and i.valid_on(today) for i in case.instruments)
        ]
        extra = {
            "instrument": data.draw(st.sampled_from(missing or ["travel_document"])),
            "reference": f"D{n}",
            "authority": "Consulate",
            "country": "MX",
            "expires_on": today + timedelta(days=data.draw(st.integers(1, 90))),
        }
    elif kind == "grant_stay":
        extra = {
            "stay_id": f"s{n}",
            "authority": data.draw(st.sampled_from(["bia", "federal_court", "agency"])),
        }
    elif kind == "file_motion_to_reopen":
        extra = {"stay_id": f"s{n}"}
    elif kind == "lift_stay":
        ids = [s.stay_id for s in case.stays] or ["none"]
        extra = {"stay_id": data.draw(st.sampled_from(ids)), "authority": "federal_court"}
    elif kind == "withdraw_instrument":
        refs = [i.reference for i in case.instruments] or ["none"]
        extra = {"reference": data.draw(st.sampled_from(refs)), "reason": "recalled"}
    elif kind == "decide":
        extra = {
            "outcome": data.draw(
                st.sampled_from(["removal_order", "removal_order", "voluntary_departure"])
            ),
            "in_absentia": data.draw(st.booleans()),
            "departure_deadline": today + timedelta(days=60),
            "authority": "IJ Example Court",
        }
    elif kind == "decide_appeal":
        extra = {"outcome": data.draw(st.sampled_from(["dismissed", "remanded"]))}
    elif kind == "record_encounter":
        extra = {"outcome": data.draw(st.sampled_from(["arrested", "arrested", "not_located"]))}
    elif kind == "decide_custody":
        extra = {"custody": data.draw(st.sampled_from(["detained", "atd"]))}
    elif kind == "raise_flag":
        extra = {
            "flag": data.draw(st.sampled_from(["citizenship", "lawful_status"])),
            "detail": "indicator",
            "record_ids": ("r1",),
        }
    elif kind == "resolve_flag":
        extra = {
            "flag": data.draw(st.sampled_from(["citizenship", "lawful_status"])),
            "reason": "records examined in full",
            "evidence": "passport file",
        }
    elif kind in ("set_destination", "grant_protection"):
        extra = {"country": data.draw(st.sampled_from(["MX", "MX", "GT"]))}
    elif kind == "assign":
        extra = {"team": "t1"}
    elif kind == "add_to_manifest":
        extra = {"flight": "F1"}
    elif kind in ("take_off_manifest", "release", "close", "mark_fugitive", "refuse_field_action"):
        extra = {"reason": "recorded reason"}
    elif kind == "verify_departure":
        extra = {"proof": "exit record"}
    if lc.EVENTS[kind].court_fact and data.draw(st.integers(0, 9)) > 0:
        extra["basis"] = COURT_RECORD  # mostly cited; sometimes an officer's word alone
    recorded = today + timedelta(days=data.draw(st.sampled_from([0, 0, 0, 3])))
    on = today - timedelta(days=data.draw(st.sampled_from([0, 0, 0, 0, 2, 9])))
    if data.draw(st.integers(0, 19)) == 0:
        on = recorded + timedelta(days=5)  # sometimes dated in the future
    return lc.EVENTS[kind](on, actor, role, recorded=recorded, **extra)  # type: ignore[arg-type]


def _history_facts(accepted: list[lc.Event], upto: date) -> tuple[bool, set[str]]:
    """From the accepted events alone (not the case file): is a citizenship flag open, and
    which stays are in force on ``upto``."""
    open_flag, in_absentia = False, False
    stays: set[str] = set()
    motion_stay = ""
    for e in accepted:
        if isinstance(e, lc.RaiseFlag) and e.flag == "citizenship":
            open_flag = True
        if isinstance(e, lc.ResolveFlag) and e.flag == "citizenship":
            open_flag = False
        if isinstance(e, lc.Decide):
            in_absentia = e.in_absentia
        if isinstance(e, lc.GrantStay) and (e.on is None or e.on <= upto):
            stays.add(e.stay_id)
        if isinstance(e, lc.FileMotionToReopen) and in_absentia and e.body == "immigration_judge":
            assert e.on is not None
            motion_stay = e.stay_id
            if e.on <= upto:
                stays.add(e.stay_id)
        if isinstance(e, lc.LiftStay) and e.on is not None and e.on <= upto:
            stays.discard(e.stay_id)
        if isinstance(e, lc.DecideMotion) and e.on is not None and e.on <= upto:
            stays.discard(motion_stay)
    return open_flag, stays


REACHED: dict[str, int] = {}

FOLLOWS: dict[str, tuple[str, ...]] = {
    "begin_proceedings": ("charge",),
    "decide": ("charge", "begin_proceedings"),
    "waive_appeal": ("decide",),
    "file_appeal": ("decide",),
    "decide_appeal": ("file_appeal",),
    "mark_ready": ("final",),
    "add_to_manifest": ("final", "mark_ready"),
    "confirm_removal": ("final", "add_to_manifest"),
    "record_encounter": ("assign",),
    "assign": ("approve_field_action",),
}
"""What each step follows, read from the accepted events alone ("final": the step that
made the order final)."""


def _assert_in_order(accepted: list[lc.Event], event: lc.Event) -> None:
    """No accepted event is dated before the latest accepted event it follows."""
    latest: dict[str, date] = {}
    for e in accepted:
        if e.on is None:
            continue
        latest[e.kind] = e.on
        made_final = isinstance(e, lc.WaiveAppeal | lc.FinalizeOrder) or (
            isinstance(e, lc.DecideAppeal) and e.outcome == "dismissed"
        )
        if made_final:
            latest["final"] = e.on
        if isinstance(e, lc.DecideAppeal | lc.DecideMotion | lc.DecidePetition) and (
            e.outcome in ("remanded", "granted")
        ):
            latest.pop("final", None)  # the order was vacated: a new one follows
    for before in FOLLOWS.get(event.kind, ()):
        then = latest.get(before)
        if event.on is not None and then is not None:
            assert event.on >= then, f"{event.kind} on {event.on} before {before} on {then}"


# 1,000 streams: at 500 the rarest guarded step (confirm_removal) was reached as few as
# once in some runs, which the reach test below rightly refuses
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_invariants_hold_for_any_event_sequence(data: st.DataObject) -> None:
    """Never removed with a stay in force, never assigned without an instrument and a
    second person's approval, never an enforcement step on a person with an open
    citizenship flag: checked against the accepted events, not the case file's fields."""
    case = new()
    accepted: list[lc.Event] = []
    today = D0
    for _ in range(data.draw(st.integers(10, 60))):
        today += timedelta(days=data.draw(st.integers(0, 5)))
        event = draw_event(data, case, today, accepted)
        before = case
        result = transition(case, event)
        if isinstance(result, Refused):
            assert result.reasons, event
            assert case == before  # a refusal changes nothing
            continue
        flag_open, stays = _history_facts(accepted, event.on)
        if event.enforcement:
            assert not flag_open, f"{event.kind} on a person with an open citizenship flag"
        if isinstance(event, lc.ConfirmRemoval | lc.AddToManifest | lc.MarkReady):
            assert not stays, f"{event.kind} with stay(s) {stays} in force"
            assert result.final_on is not None
        if isinstance(event, lc.Assign):
            requests = [e for e in accepted if isinstance(e, lc.RequestFieldAction)]
            approvals = [e for e in accepted if isinstance(e, lc.ApproveFieldAction)]
            assert requests and approvals, "assigned without a request and an approval"
            assert approvals[-1].actor != requests[-1].actor, "approved by the requester"
            assert approvals[-1].role == "supervisor"
            warrants = [e for e in accepted if isinstance(e, lc.IssueWarrant)]
            assert warrants, "assigned without an instrument"
        # dates: never after the recording, never before what the step follows
        assert event.on is None or event.recorded is None or event.on <= event.recorded
        _assert_in_order(accepted, event)
        for inst in result.instruments:
            assert inst.signed_by, f"{inst.kind} without a signer"
            assert inst.reference or inst.basis, f"{inst.kind} without a number"
        REACHED[event.kind] = REACHED.get(event.kind, 0) + 1
        accepted.append(event)
        case = result
    assert lc.replay(new(), accepted) == case  # the stored history rebuilds the same case


def test_the_random_streams_reach_the_guarded_steps() -> None:
    """The invariant test is only worth something if its streams get that far."""
    if not REACHED:
        pytest.skip("run together with the invariant test")
    for kind in (
        "assign",
        "approve_field_action",
        "mark_ready",
        "add_to_manifest",
        "confirm_removal",
        "resolve_flag",
        "lift_stay",
    ):
        assert REACHED.get(kind, 0) >= 3, (kind, REACHED)


def test_the_remaining_removal_gate_reasons_are_specific() -> None:
    from habeas.cases import gates
    from habeas.cases.instruments import Order

    none = CaseFile("c", "P")
    assert gates.final_order_reasons(none, day(1)) == ["no final order of removal"]
    window = replace(none, final_on=day(0), order=Order("removal_order", day(0), "ij"))
    assert gates.hold_reasons(window, day(5)) == [
        f"appeal window open until {day(30)} (removal is stayed meanwhile unless appeal is waived)"
    ]
    relief = replace(
        none, final_on=day(0), order=Order("relief_granted", day(0), "ij", appeal_waived=True)
    )
    assert gates.final_order_reasons(relief, day(40)) == [
        "relief was granted: there is no order of removal"
    ]
    vd = replace(
        none,
        final_on=day(0),
        order=Order(
            "voluntary_departure", day(0), "ij", departure_deadline=day(60), appeal_waived=True
        ),
    )
    assert gates.final_order_reasons(vd, day(10)) == [f"voluntary departure runs until {day(60)}"]
    assert gates.final_order_reasons(vd, day(61)) == []


def test_an_enforcement_step_cannot_be_backdated_past_a_stay_flag_or_protection() -> None:
    """Dating a step before a protection was recorded must not slip it past the gate."""
    ready = run(
        ready_papers(final_order(), 13),
        lc.MarkReady(day(14), "co1", "custody_officer"),
        lc.AddToManifest(day(15), "co1", "custody_officer", flight="FL-1"),
    )
    stayed = ok(
        ready, court(lc.GrantStay, day(20), "bia", "supervisor", stay_id="s", reason="motion")
    )
    back = lc.AddToManifest(day(16), "co1", "custody_officer", flight="FL-1")
    assert any(r.startswith(f"dated {day(16)}, before {day(20)}") for r in refused(stayed, back))
    flagged = ok(
        ready,
        lc.RaiseFlag(
            day(20), "index", "integration_engineer", detail="birth record", record_ids=("r1",)
        ),
    )
    resolved = ok(
        flagged,
        lc.ResolveFlag(
            day(21), *SUPERVISOR, reason="a namesake's record", evidence="birth registry"
        ),
    )
    board_early = lc.ConfirmRemoval(day(16), "co1", "custody_officer")
    assert any(
        r.startswith(f"dated {day(16)}, before {day(20)}") for r in refused(resolved, board_early)
    )
    assert ok(resolved, lc.ConfirmRemoval(day(22), "co1", "custody_officer")).state == State.REMOVED
    lift_first = court(lc.LiftStay, day(19), "bia", "supervisor", stay_id="s")
    assert any(
        "lifted on or after the day it was granted" in r for r in refused(stayed, lift_first)
    )
