"""The field: a request for field action, its approval by a second person or its refusal,
an assignment, an encounter."""

from __future__ import annotations

from dataclasses import replace

from habeas.cases import gates
from habeas.cases.casefile import (
    CaseFile,
    FieldRequest,
)
from habeas.cases.casefile import State as S
from habeas.cases.events import (
    Assign,
    Event,
    RecordEncounter,
    RefuseFieldAction,
)
from habeas.cases.steps.common import dated


def request(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    reasons.extend(gates.instrument_reasons(case, dated(e)))
    reasons.extend(gates.flag_reasons(case, ("lawful_status",)))
    return replace(case, state=S.FIELD_REQUESTED, field_request=FieldRequest(e.actor, dated(e)))


def approve(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    req = case.field_request
    if req is not None and req.requested_by == e.actor:
        reasons.append(f"{e.actor} requested this field action and may not approve it too")
    reasons.extend(gates.instrument_reasons(case, dated(e)))
    reasons.extend(gates.flag_reasons(case, ("lawful_status",)))
    approved = replace(req, approved_by=e.actor, approved_on=e.on) if req else None
    return replace(case, state=S.APPROVED, field_request=approved)


def refuse_request(case: CaseFile, e: RefuseFieldAction, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("refusing a field action needs a reason")
    back = S.FINAL_ORDER if case.final_on else S.WARRANT_ISSUED
    return replace(case, state=back, field_request=None)


def assign(case: CaseFile, e: Assign, reasons: list[str]) -> CaseFile:
    if case.state == S.ENCOUNTERED and case.encounter != "not_located":
        reasons.append(f"the person was {case.encounter}: a new assignment needs a new request")
    reasons.extend(gates.field_action_reasons(case, dated(e)))
    if not e.team:
        reasons.append("an assignment names the field team")
    return replace(case, state=S.ASSIGNED, team=e.team, assigned_on=e.on)


def encounter(case: CaseFile, e: RecordEncounter, reasons: list[str]) -> CaseFile:
    if e.outcome not in ("arrested", "located_not_detained", "not_located"):
        reasons.append(
            f"outcome {e.outcome!r} is not arrested, located_not_detained or not_located"
        )
    if e.outcome == "arrested":
        reasons.extend(gates.field_action_reasons(case, dated(e)))
    return replace(case, state=S.ENCOUNTERED, encounter=e.outcome, encountered_on=e.on)
