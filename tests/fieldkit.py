"""A small field world for tests: an application with one account per role (and a second
supervisor, a second field officer on another team), the synthetic field offices, persons
with addresses from sources a field purpose may and may not read, and cases carried to
"approved for field action" through the application, each step by its role."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import SESSION_DAY

from habeas.app import Habeas
from habeas.app.cases.schemas import StepRequest
from habeas.store.models import IndexPerson, IndexRecord, IndexRun, IndexSource
from habeas.synth.field import offices

TODAY = SESSION_DAY  # the applications' clock reads the same day
PAST = TODAY - timedelta(days=30)
ROLES = {
    "officer1": "case_officer",
    "super1": "supervisor",
    "super2": "supervisor",
    "superwest": "supervisor",
    "field1": "field_officer",
    "field2": "field_officer",
    "custody1": "custody_officer",
    "ig1": "oversight",
    "counsel1": "counsel",
    "eng1": "integration_engineer",
}
MEMBERS = {
    "super1": ("NE", None),
    "super2": ("NE", None),
    "superwest": ("WE", None),
    "field1": ("NE", "NE-1"),
    "field2": ("NE", "NE-2"),
}
FIELD_SOURCES = ("dmv_licenses", "usms_warrants")
"""Sources whose records a field purpose may read; ``irs_returns`` may not be."""


def make_field_app(data_dir: Path, url: str | None = None) -> tuple[Habeas, dict[str, str]]:
    """The application with accounts (and their passwords), offices, teams and members
    (no cases yet)."""
    from conftest import make_app

    app = make_app(data_dir, url)
    root = app.users.local("root", "t")
    passwords = {name: app.users.add(root, name, role).secret for name, role in ROLES.items()}
    app.field.set_up(root, offices(), MEMBERS)
    everyone = [
        "identity_resolution",
        "case_review",
        "field_operation",
        "custody",
        "oversight",
        "redress",
    ]
    from habeas.resolve.publish import source_seal
    from habeas.store.keys import key_for

    key = key_for(app.engine)  # the rows as habeas seals them when it publishes
    with app.sessions() as s:
        s.add(
            IndexRun(
                run_id="test",
                mode="full",
                engine="duckdb",
                published_at=datetime.now(),
                records=0,
                persons=0,
                match_threshold=0.9,
                model_json="{}",
                input_schema="[]",
            )
        )
        for name in FIELD_SOURCES:
            s.add(
                IndexSource(
                    name=name,
                    agency="synthetic",
                    legal_authority="8 U.S.C. 1357",
                    purposes=json.dumps(everyone),
                    run_id="test",
                    seal=source_seal(
                        key, name, "synthetic", "8 U.S.C. 1357", json.dumps(everyone), None
                    ),
                )
            )
        s.add(
            IndexSource(
                name="irs_returns",
                agency="IRS (synthetic)",
                legal_authority="26 U.S.C. 6103(i)(2)",
                purposes=json.dumps(["case_review"]),
                run_id="test",
                seal=source_seal(
                    key,
                    "irs_returns",
                    "IRS (synthetic)",
                    "26 U.S.C. 6103(i)(2)",
                    json.dumps(["case_review"]),
                    None,
                ),
            )
        )
        s.commit()
    return app, passwords


def person(app: Habeas, pid: str, name: str, addresses: list[dict[str, Any]]) -> None:
    """A published person with one record per address (``source`` in each, default DMV)."""
    with app.sessions() as s:
        s.add(IndexPerson(person_id=pid, records=len(addresses), sources="[]", run_id="test"))
        for k, a in enumerate(addresses):
            a = dict(a)
            source = a.pop("source", "dmv_licenses")
            rid = f"{pid}-{k}"
            s.add(
                IndexRecord(
                    record_id=rid,
                    person_id=pid,
                    source=source,
                    source_key=rid,
                    name=name,
                    name_key=name.lower(),
                    family_key=name.split()[-1].lower(),
                    dob="1980-04-02",
                    how="test",
                    features="{}",
                    run_id="test",
                    **a,
                )
            )
        s.commit()


def step(
    app: Habeas,
    who: str,
    purpose: str,
    case_id: int,
    kind: str,
    on: date | None = None,
    **fields: Any,
) -> Any:
    """One case step by ``who`` through the application."""
    return app.cases.step(
        app.users.local(who, "t"),
        purpose,
        case_id,
        StepRequest(kind=kind, on=on or TODAY, fields=fields),
    )


NYC = {
    "street": "12 W 31st St",
    "city": "New York",
    "state": "NY",
    "zip": "10001",
    "lat": 40.7486,
    "lon": -73.9880,
    "address_date": (TODAY - timedelta(days=20)).isoformat(),
}


def warrant_case(
    app: Habeas, pid: str, name: str = "Ana Test", addresses: list[dict[str, Any]] | None = None
) -> int:
    """A case on a new person, charged and with an I-200 warrant (no request yet)."""
    person(app, pid, name, addresses if addresses is not None else [NYC])
    case_id = app.cases.open_case(
        app.users.local("officer1", "t"), "case_review", pid, PAST
    ).case_id
    step(app, "officer1", "case_review", case_id, "begin_review", PAST)
    step(
        app,
        "officer1",
        "case_review",
        case_id,
        "charge",
        PAST,
        instrument="nta",
        reference=f"NTA-{pid}",
        authority="ICE ERO (synthetic)",
    )
    step(
        app,
        "super1",
        "field_operation",
        case_id,
        "issue_warrant",
        PAST + timedelta(days=1),
        instrument="i200",
        reference=f"I200-{pid}",
        authority="FOD (synthetic)",
    )
    return case_id


def approved_case(
    app: Habeas, pid: str, name: str = "Ana Test", addresses: list[dict[str, Any]] | None = None
) -> int:
    """A case on a new person, carried to approved for field action on an I-200."""
    case_id = warrant_case(app, pid, name, addresses)
    step(app, "officer1", "case_review", case_id, "request_field_action", PAST + timedelta(days=2))
    step(
        app, "super2", "field_operation", case_id, "approve_field_action", PAST + timedelta(days=3)
    )
    return case_id
