"""A person of the resolved world with a case carried to a removal flight, counsel on it
and documents attached: what the packet tests build once and copy per test."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from conftest import SESSION_DAY, open_copy
from sqlalchemy import select

from habeas.app import Habeas
from habeas.app.cases.schemas import StepRequest
from habeas.store.models import IndexFlag, IndexPerson

PAST = SESSION_DAY - timedelta(days=200)


def day(n: int) -> date:
    """A day of the case's history (all in the past)."""
    return PAST + timedelta(days=n)


def act(app: Habeas, who: str, purpose: str, case_id: int, kind: str, on: date, **f: Any) -> None:
    """One step on the case as ``who``."""
    app.cases.step(
        app.users.local(who, "t"), purpose, case_id, StepRequest(kind=kind, on=on, fields=f)
    )


def linked_person(app: Habeas) -> str:
    """A person of the index with the most records (several sources linked) and no flag."""
    with app.sessions() as s:
        flagged = select(IndexFlag.person_id)
        q = (
            select(IndexPerson.person_id)
            .where(IndexPerson.person_id.not_in(flagged))
            .order_by(IndexPerson.records.desc(), IndexPerson.person_id)
        )
        return str(s.execute(q.limit(1)).scalar_one())


def attach(app: Habeas, case_id: int, name: str, text: str, verify: bool = True) -> dict[str, str]:
    """A document on the case (verified by a second person as the court's)."""
    doc = app.cases.attach(
        app.users.local("officer1", "t"), "case_review", case_id, name, text.encode()
    )
    if verify and doc.new:
        app.cases.verify_document(
            app.users.local("super2", "t"),
            "case_review",
            case_id,
            doc.sha256,
            "immigration_judge",
            f"DOCKET-{case_id}-{doc.sha256[:6]}",
        )
    return {"document": doc.name, "document_sha256": doc.sha256}


def carry_case(app: Habeas, person: str) -> int:
    """A case on ``person`` to a seat on a flight, with counsel1 recorded as counsel."""
    officer = app.users.local("officer1", "t")
    case_id = app.cases.open_case(officer, "case_review", person, PAST).case_id
    app.cases.counsel(officer, "case_review", case_id, "counsel1")
    act(app, "officer1", "case_review", case_id, "begin_review", day(0))
    nta = dict(instrument="nta", reference=f"NTA-{case_id}", authority="ICE ERO (synthetic)")
    act(app, "officer1", "case_review", case_id, "charge", day(1), **nta)
    act(app, "officer1", "case_review", case_id, "begin_proceedings", day(2))
    order = attach(app, case_id, "IJ order (synthetic)", f"Order of removal, case {case_id}.")
    act(app, "officer1", "case_review", case_id, "decide", day(10), authority="IJ", **order)
    act(app, "officer1", "case_review", case_id, "waive_appeal", day(10), **order)
    warrant = dict(instrument="i205", reference=f"I205-{case_id}", authority="FOD (synthetic)")
    act(app, "super1", "field_operation", case_id, "issue_warrant", day(11), **warrant)
    act(app, "officer1", "case_review", case_id, "request_field_action", day(12))
    act(app, "super2", "field_operation", case_id, "approve_field_action", day(13))
    act(app, "super1", "field_operation", case_id, "assign", day(14), team="NE-1")
    act(app, "field1", "field_operation", case_id, "record_encounter", day(15), outcome="arrested")
    act(app, "custody1", "custody", case_id, "decide_custody", day(15), custody="detained")
    until = (SESSION_DAY + timedelta(days=60)).isoformat()
    travel = dict(instrument="travel_document", reference=f"TD-{case_id}", country="MX")
    act(app, "custody1", "custody", case_id, "add_instrument", day(16), **travel,
        authority="consulate of MX", expires_on=until)  # fmt: skip
    medical = dict(instrument="medical_clearance", reference=f"MED-{case_id}", authority="IHSC")
    act(app, "custody1", "custody", case_id, "add_instrument", day(16), **medical,
        expires_on=until)  # fmt: skip
    act(app, "custody1", "custody", case_id, "set_destination", day(16), country="MX")
    act(app, "custody1", "custody", case_id, "mark_ready", day(17))
    act(app, "custody1", "custody", case_id, "add_to_manifest", day(18), flight="F-1")
    return case_id


def build_template(indexed: Path, dest: Path) -> tuple[Path, str, int]:
    """A data directory (copied from the indexed one) with the case carried; returns it,
    the person and the case."""
    from conftest import field_set_up

    app = open_copy(indexed, dest)
    try:
        field_set_up(app)
        person = linked_person(app)
        case_id = carry_case(app, person)
        # someone looked at the person, and someone was refused
        app.index.person(app.users.local("officer1", "t"), "case_review", person)
    finally:
        app.close()
    return dest, person, case_id
