"""A case's events as data (pure): what happened, on which day, recorded by whom, resting
on which record or document; their storage form, refused field by field when it does not
fit. The rules that apply them are ``habeas.cases.lifecycle``'s."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

__all__ = [
    "COURT_FACTS",
    "ENFORCEMENT",
    "EVENTS",
    "AddInstrument",
    "AddToManifest",
    "AlternateOrderEffective",
    "ApproveFieldAction",
    "Assign",
    "BeginProceedings",
    "BeginReview",
    "Charge",
    "CheckIn",
    "Close",
    "ConfirmRemoval",
    "Decide",
    "DecideAppeal",
    "DecideCustody",
    "DecideMotion",
    "DecidePetition",
    "DenyStay",
    "Event",
    "FileAppeal",
    "FileMotionToReconsider",
    "FileMotionToReopen",
    "FilePetitionForReview",
    "FinalizeOrder",
    "GrantAdministrativeStay",
    "GrantProtection",
    "GrantStay",
    "IssueWarrant",
    "LiftStay",
    "MarkFugitive",
    "MarkReady",
    "RaiseFlag",
    "RecordEncounter",
    "RefuseFieldAction",
    "RejectDepartureReport",
    "Release",
    "ReportDeparture",
    "RequestFieldAction",
    "ResolveFlag",
    "SetDestination",
    "TakeOffManifest",
    "VerifyDeparture",
    "WaiveAppeal",
    "WithdrawInstrument",
    "event_from_payload",
    "event_payload",
]


@dataclass(frozen=True)
class Event:
    """Something that happened to a case: the day it happened (``on``), who recorded it in
    which role, what it rests on (an ingested record's id, or an attached document with
    its SHA-256), and the day it was recorded (set by the store, never by the caller)."""

    on: date | None
    actor: str
    role: str
    basis: str = ""  # the ingested record the step rests on (e.g. a court record's id)
    document: str = ""  # an attached document's reference (an order, a decision, a form)
    document_sha256: str = ""
    recorded: date | None = None
    kind: ClassVar[str] = ""
    enforcement: ClassVar[bool] = False
    court_fact: ClassVar[bool] = False
    """A court's (or the Board's) act: it cites the court record or the order itself."""
    undated_ok: ClassVar[bool] = False
    """May be recorded from a cited record that does not give its date (``on`` None)."""


@dataclass(frozen=True)
class BeginReview(Event):
    """An officer opens the review of an identified person."""

    kind: ClassVar[str] = "begin_review"


@dataclass(frozen=True)
class Charge(Event):
    """A charging document: a notice to appear, or a summary removal order. Its number as
    issued (``reference``) and the issuing office (``authority``); the signer is the
    recording account. Seeded from a court record that shows no number, it cites the
    record instead, and its date may be unknown."""

    instrument: str = "nta"
    reference: str = ""
    authority: str = ""
    kind: ClassVar[str] = "charge"
    enforcement: ClassVar[bool] = True
    undated_ok: ClassVar[bool] = True


@dataclass(frozen=True)
class IssueWarrant(Event):
    """An I-200 (arrest) or I-205 (removal) warrant, signed by a supervisory officer."""

    instrument: str = "i200"
    reference: str = ""
    authority: str = ""
    expires_on: date | None = None
    kind: ClassVar[str] = "issue_warrant"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class AddInstrument(Event):
    """A travel document or a medical clearance, with its number and issuer."""

    instrument: str = "travel_document"
    reference: str = ""
    authority: str = ""
    expires_on: date | None = None
    country: str = ""
    kind: ClassVar[str] = "add_instrument"


@dataclass(frozen=True)
class WithdrawInstrument(Event):
    """An instrument withdrawn or cancelled (e.g. a warrant recalled)."""

    reference: str = ""
    reason: str = ""
    kind: ClassVar[str] = "withdraw_instrument"


@dataclass(frozen=True)
class RequestFieldAction(Event):
    """A case officer asks for a field action."""

    kind: ClassVar[str] = "request_field_action"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class ApproveFieldAction(Event):
    """A supervisor (never the requester) approves the requested field action."""

    kind: ClassVar[str] = "approve_field_action"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class RefuseFieldAction(Event):
    """A supervisor refuses the request, with a reason."""

    reason: str = ""
    kind: ClassVar[str] = "refuse_field_action"


@dataclass(frozen=True)
class Assign(Event):
    """The approved action is given to a field team."""

    team: str = ""
    kind: ClassVar[str] = "assign"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class RecordEncounter(Event):
    """The field team's outcome."""

    outcome: str = "arrested"
    kind: ClassVar[str] = "record_encounter"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class DecideCustody(Event):
    """Detention, bond, recognizance, alternatives to detention, order of supervision."""

    custody: str = "detained"
    kind: ClassVar[str] = "decide_custody"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class BeginProceedings(Event):
    """The notice to appear is filed with the immigration court."""

    kind: ClassVar[str] = "begin_proceedings"
    undated_ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Decide(Event):
    """The immigration judge's decision (``authority``: the judge or court)."""

    outcome: str = "removal_order"  # removal_order | voluntary_departure | relief_granted
    authority: str = ""
    in_absentia: bool = False
    departure_deadline: date | None = None
    kind: ClassVar[str] = "decide"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class WaiveAppeal(Event):
    """Both parties waive appeal before the judge: the order is final at once."""

    kind: ClassVar[str] = "waive_appeal"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class FileAppeal(Event):
    """An appeal to the Board within the window (undated only when a cited record shows
    the Board's decision on it but not the filing)."""

    kind: ClassVar[str] = "file_appeal"
    court_fact: ClassVar[bool] = True
    undated_ok: ClassVar[bool] = True


@dataclass(frozen=True)
class DecideAppeal(Event):
    """The Board's decision: dismissed (order final), sustained, or remanded."""

    outcome: str = "dismissed"
    kind: ClassVar[str] = "decide_appeal"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class FinalizeOrder(Event):
    """The appeal window has closed without an appeal: the order is final (``reason``: how
    its date follows, e.g. from the decision's date and the appeal period)."""

    reason: str = ""
    kind: ClassVar[str] = "finalize_order"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class GrantStay(Event):
    """A stay of removal by a judge, the Board, a federal court or the agency, as the
    cited record or order shows it (its date may be missing from a record)."""

    stay_id: str = ""
    authority: str = "bia"
    reason: str = ""
    until: date | None = None
    kind: ClassVar[str] = "grant_stay"
    court_fact: ClassVar[bool] = True
    undated_ok: ClassVar[bool] = True


@dataclass(frozen=True)
class GrantAdministrativeStay(Event):
    """An I-246 administrative stay of removal granted by the agency (a supervisory
    officer, with the signed decision attached), optionally for a period."""

    stay_id: str = ""
    reason: str = ""
    until: date | None = None
    kind: ClassVar[str] = "grant_administrative_stay"


@dataclass(frozen=True)
class DenyStay(Event):
    """A request for a stay denied: recorded for the history, it changes nothing."""

    authority: str = ""
    reason: str = ""
    kind: ClassVar[str] = "deny_stay"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class LiftStay(Event):
    """A stay lifted, by the authority that granted it or a higher one, its order cited."""

    stay_id: str = ""
    authority: str = ""
    kind: ClassVar[str] = "lift_stay"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class FileMotionToReopen(Event):
    """A motion to reopen: only one to reopen an in-absentia order before the immigration
    judge stays removal automatically (INA 240(b)(5)(C)); any other does not."""

    stay_id: str = ""
    body: str = "immigration_judge"  # immigration_judge | bia
    kind: ClassVar[str] = "file_motion_to_reopen"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class FileMotionToReconsider(Event):
    """A motion to reconsider (no automatic stay)."""

    body: str = "bia"
    kind: ClassVar[str] = "file_motion_to_reconsider"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class DecideMotion(Event):
    """The decision on a pending motion: granted (the order is vacated, proceedings
    resume) or denied (an automatic stay ends)."""

    outcome: str = "denied"
    kind: ClassVar[str] = "decide_motion"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class FilePetitionForReview(Event):
    """A petition for review of a final order in a federal court of appeals. It does not
    stay removal: only a stay the court grants does."""

    court: str = ""
    kind: ClassVar[str] = "file_petition_for_review"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class DecidePetition(Event):
    """The court of appeals' decision: denied, dismissed, or granted (order vacated)."""

    outcome: str = "denied"
    kind: ClassVar[str] = "decide_petition"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class AlternateOrderEffective(Event):
    """The voluntary departure deadline passed with no verified departure: the alternate
    order of removal takes effect (8 CFR 1240.26(d)), citing the deadline."""

    deadline: date | None = None
    kind: ClassVar[str] = "alternate_order_effective"


@dataclass(frozen=True)
class SetDestination(Event):
    """The country of removal."""

    country: str = ""
    kind: ClassVar[str] = "set_destination"


@dataclass(frozen=True)
class GrantProtection(Event):
    """Withholding of removal or torture-convention protection: the country is barred."""

    country: str = ""
    protection: str = "withholding"  # withholding | cat
    kind: ClassVar[str] = "grant_protection"
    court_fact: ClassVar[bool] = True


@dataclass(frozen=True)
class MarkReady(Event):
    """Ready for removal: final order, I-205, travel document, medical clearance."""

    kind: ClassVar[str] = "mark_ready"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class AddToManifest(Event):
    """Booked on a flight (the removal gate is checked again)."""

    flight: str = ""
    kind: ClassVar[str] = "add_to_manifest"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class TakeOffManifest(Event):
    """Taken off a flight, with a reason."""

    reason: str = ""
    kind: ClassVar[str] = "take_off_manifest"


@dataclass(frozen=True)
class ConfirmRemoval(Event):
    """Boarded and removed (the removal gate is checked a last time before boarding)."""

    kind: ClassVar[str] = "confirm_removal"
    enforcement: ClassVar[bool] = True


@dataclass(frozen=True)
class VerifyDeparture(Event):
    """Voluntary or self-departure, verified by an exit record or proof."""

    proof: str = ""
    kind: ClassVar[str] = "verify_departure"


@dataclass(frozen=True)
class ReportDeparture(Event):
    """The person reports having left (an app, a letter): not a verification by itself.
    Field action is held until the departure is verified or the report found false."""

    report: str = ""
    kind: ClassVar[str] = "report_departure"


@dataclass(frozen=True)
class RejectDepartureReport(Event):
    """A reported departure could not be verified, or was found false: the hold ends."""

    reason: str = ""
    kind: ClassVar[str] = "reject_departure_report"


@dataclass(frozen=True)
class MarkFugitive(Event):
    """Failed to depart by the deadline or to report."""

    reason: str = ""
    kind: ClassVar[str] = "mark_fugitive"


@dataclass(frozen=True)
class Release(Event):
    """Released from custody (or from the case's enforcement track)."""

    reason: str = ""
    kind: ClassVar[str] = "release"


@dataclass(frozen=True)
class Close(Event):
    """The case is closed, with a reason."""

    reason: str = ""
    kind: ClassVar[str] = "close"


@dataclass(frozen=True)
class CheckIn(Event):
    """A released person reported as required (alternatives to detention, supervision)."""

    kind: ClassVar[str] = "check_in"


@dataclass(frozen=True)
class RaiseFlag(Event):
    """The person index flags the person (citizenship or lawful status)."""

    flag: str = "citizenship"
    detail: str = ""
    record_ids: tuple[str, ...] = ()
    kind: ClassVar[str] = "raise_flag"


@dataclass(frozen=True)
class ResolveFlag(Event):
    """A supervisor resolves a flag with a written reason and the evidence examined."""

    flag: str = "citizenship"
    reason: str = ""
    evidence: str = ""
    kind: ClassVar[str] = "resolve_flag"


EVENTS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        BeginReview,
        Charge,
        IssueWarrant,
        AddInstrument,
        WithdrawInstrument,
        RequestFieldAction,
        ApproveFieldAction,
        RefuseFieldAction,
        Assign,
        RecordEncounter,
        DecideCustody,
        BeginProceedings,
        Decide,
        WaiveAppeal,
        FileAppeal,
        DecideAppeal,
        FinalizeOrder,
        GrantStay,
        GrantAdministrativeStay,
        DenyStay,
        LiftStay,
        FileMotionToReopen,
        FileMotionToReconsider,
        DecideMotion,
        FilePetitionForReview,
        DecidePetition,
        AlternateOrderEffective,
        SetDestination,
        GrantProtection,
        MarkReady,
        AddToManifest,
        TakeOffManifest,
        ConfirmRemoval,
        VerifyDeparture,
        ReportDeparture,
        RejectDepartureReport,
        MarkFugitive,
        Release,
        Close,
        CheckIn,
        RaiseFlag,
        ResolveFlag,
    )
}
"""Every event kind, by name (for storage and the CLI)."""

ENFORCEMENT = frozenset(k for k, cls in EVENTS.items() if cls.enforcement)
COURT_FACTS = frozenset(k for k, cls in EVENTS.items() if cls.court_fact)


def event_payload(event: Event) -> dict[str, Any]:
    """The event as JSON-ready data (dates as ISO strings, tuples as lists)."""
    out: dict[str, Any] = {"kind": event.kind}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def _field_value(kind: str, name: str, declared: str, value: Any) -> Any:
    """A field's value as its declaration types it; anything else is refused, naming the
    field (a step is never stored with a value its rules cannot read)."""
    if value is None and "None" in declared:
        return None
    if "date" in declared:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"{kind}: {name} must be a date (YYYY-MM-DD), not {value!r}")
    if declared.startswith("tuple"):
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ValueError(f"{kind}: {name} must be a list of strings, not {value!r}")
    if declared == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ValueError(f"{kind}: {name} must be true or false, not {value!r}")
    if declared == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
            return int(value)
        raise ValueError(f"{kind}: {name} must be a whole number, not {value!r}")
    if "str" in declared and not isinstance(value, str):
        raise ValueError(f"{kind}: {name} must be text, not {value!r}")
    if isinstance(value, str) and len(value) > 2000:
        raise ValueError(f"{kind}: {name} is longer than 2,000 characters")
    return value


def event_from_payload(data: dict[str, Any]) -> Event:
    """The event back from ``event_payload`` output; unknown kinds or fields are refused."""
    kind = data.get("kind")
    cls = EVENTS.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}; kinds are {', '.join(sorted(EVENTS))}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names) - {"kind"})
    if unknown:
        raise ValueError(f"{kind}: unknown field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, f in names.items():
        if name not in data:
            continue
        values[name] = _field_value(str(kind), name, str(f.type), data[name])
    return cls(**values)
