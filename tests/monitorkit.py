"""A monitor world for tests: the resolved synthetic world published, the four departure
feeds registered, a feed account, the field offices, and persons of the world picked by
what the tests need (a passport, an A-number), with their events built from the truth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from conftest import SESSION_DAY, copy_staging

from habeas.app import Habeas
from habeas.app.cases.schemas import StepRequest
from habeas.store.models import IndexRecord
from habeas.synth.declarations import to_toml
from habeas.synth.events import STAMP, feed_declarations
from habeas.synth.field import offices
from habeas.synth.people import Person
from habeas.synth.population import generate_people
from habeas.synth.world import HEADER, WORLD_DATE

TODAY = SESSION_DAY  # the applications' clock reads the same day
PAST = TODAY - timedelta(days=60)
MEMBERS = {"super1": ("NE", None), "super2": ("NE", None), "field1": ("NE", "NE-1")}
FEED = "identity_resolution"


@dataclass(frozen=True)
class Subject:
    """A person of the world as the index holds them."""

    truth: Person
    person_id: str


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def stamp(at: datetime | None = None) -> str:
    return (at or now() - timedelta(minutes=1)).strftime(STAMP)


def monitor_app(resolved: Path, world_dir: Path, data: Path, url: str | None = None) -> Habeas:
    """The application on the published world, with feeds, a feed account and offices."""
    from conftest import ROLES, make_app

    from habeas.resolve.publish import publish

    app = make_app(data, url, users={**ROLES, "feed1": "event_feed"})
    copy_staging(resolved, app.settings.staging_path)
    with app.staging() as st:
        publish(app.engine, st, st.rows("SELECT run_id FROM resolution_runs")[0][0])
    folder = data / "feeds"
    folder.mkdir()
    paths = []
    for name, decl in feed_declarations().items():
        path = folder / f"{name}.toml"
        path.write_text(to_toml(decl, HEADER), encoding="utf-8")
        paths.append(path)
    regs = app.pipeline.register(app.users.local("eng1", "t"), FEED, paths, TODAY)
    assert all(r.accepted for r in regs), [r.refusals for r in regs]
    app.field.set_up(app.users.local("root", "t"), offices(), MEMBERS)
    return app


def subjects(app: Habeas, world_dir: Path, people: int = 1500, seed: int = 11) -> list[Subject]:
    """Persons of the world the index holds as one person (their records all linked
    together and to nobody else), with a passport and an A-number, no flag, and a
    status that makes an enforcement case plausible."""
    truth = pq.read_table(world_dir / "truth.parquet").to_pydict()
    true_of = dict(zip(truth["record_id"], truth["person_id"], strict=True))
    from habeas.store.models import IndexFlag

    with app.reader() as s:
        rows = s.query(IndexRecord.record_id, IndexRecord.person_id).all()
        flagged = {f for (f,) in s.query(IndexFlag.person_id).all()}
    persons: dict[str, set[str]] = {}
    index_of: dict[str, set[str]] = {}
    for rid, pid in rows:
        t = true_of.get(rid)
        if t is None:
            continue
        persons.setdefault(pid, set()).add(t)
        index_of.setdefault(t, set()).add(pid)
    out = []
    for p in generate_people(people, seed, WORLD_DATE):
        mine = index_of.get(p.pid, set())
        if len(mine) != 1 or p.status not in ("final_order", "in_proceedings", "visa"):
            continue
        pid = next(iter(mine))
        if persons[pid] == {p.pid} and p.passport and p.a_number and pid not in flagged:
            out.append(Subject(p, pid))
    return out


def exit_event(
    s: Subject, event_id: str, at: datetime | None = None, **over: Any
) -> dict[str, Any]:
    """An airline's exit record of the subject, exactly as their passport reads."""
    p = s.truth
    body = {
        "event_id": event_id,
        "departed_at": stamp(at),
        "document_number": p.passport,
        "document_country": p.country[1],
        "surname": p.family_name.upper(),
        "given_names": p.given_name.upper(),
        "birth_date": p.dob.isoformat(),
        "sex": p.sex,
        "airport": "JFK",
        "flight": "AA100",
        "destination": p.country[1],
    }
    body.update(over)
    return body


def crossing(s: Subject, event_id: str, direction: str, at: datetime) -> dict[str, Any]:
    """A land-border crossing of the subject."""
    p = s.truth
    return {
        "crossing_id": event_id,
        "crossed_at": stamp(at),
        "direction": direction,
        "document_number": p.passport,
        "document_country": p.country[1],
        "surname": p.family_name.upper(),
        "given_names": p.given_name.upper(),
        "birth_date": p.dob.isoformat(),
        "port_code": "ELP",
    }


def self_report(s: Subject, event_id: str, **over: Any) -> dict[str, Any]:
    """A self-report through the app, with the photo and position the feed may not keep."""
    p = s.truth
    body = {
        "report_id": event_id,
        "reported_at": stamp(),
        "a_number": p.a_number,
        "first_name": p.given_name,
        "last_name": p.family_name,
        "date_of_birth": p.dob.isoformat(),
        "country_now": p.country[1],
        "photo_ref": "selfie-000000000001.jpg",
        "latitude": 19.43,
        "longitude": -99.13,
    }
    body.update(over)
    return body


def step(
    app: Habeas, who: str, purpose: str, case_id: int, kind: str, on: date, **fields: Any
) -> Any:
    return app.cases.step(
        app.users.local(who, "t"), purpose, case_id, StepRequest(kind=kind, on=on, fields=fields)
    )


NYC = {
    "street": "12 W 31st St",
    "city": "New York",
    "state": "NY",
    "zip": "10001",
    "lat": 40.7486,
    "lon": -73.9880,
}


def approved(app: Habeas, s: Subject) -> int:
    """The subject's case carried to approved for field action (an I-200, a second
    person's approval), with a current address in the NE office's area."""
    with app.sessions() as ses:
        ses.add(
            IndexRecord(
                record_id=f"addr-{s.person_id}",
                person_id=s.person_id,
                source="dmv_licenses",
                source_key=f"addr-{s.person_id}",
                name="",
                name_key="",
                family_key="",
                how="test",
                features="{}",
                run_id="test",
                address_date=(TODAY - timedelta(days=10)).isoformat(),
                **NYC,
            )
        )
        ses.commit()
    case_id = app.cases.open_case(
        app.users.local("officer1", "t"), "case_review", s.person_id, PAST
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
        reference=f"NTA-{s.person_id}",
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
        reference=f"I200-{s.person_id}",
        authority="FOD (synthetic)",
    )
    step(app, "officer1", "case_review", case_id, "request_field_action", PAST + timedelta(days=2))
    step(
        app, "super2", "field_operation", case_id, "approve_field_action", PAST + timedelta(days=3)
    )
    return case_id


def assigned(app: Habeas, s: Subject) -> tuple[int, int]:
    """The subject's approved case on team NE-1's list today: (case, assignment)."""
    case_id = approved(app, s)
    report = app.field.assign(
        app.users.local("super1", "t"), "field_operation", [case_id], "NE-1", TODAY
    )
    assert not report.refused, report.refused
    return case_id, report.assigned[0].id


def on_manifest(app: Habeas, s: Subject) -> int:
    """The subject's case through proceedings to a final order and a seat on flight F-9."""
    officer = ("officer1", "case_review")
    custody = ("custody1", "custody")
    case_id = app.cases.open_case(
        app.users.local("officer1", "t"), "case_review", s.person_id, PAST
    ).case_id

    def order() -> dict[str, str]:
        doc = app.cases.attach(
            app.users.local("officer1", "t"),
            "case_review",
            case_id,
            "IJ order (synthetic)",
            f"order {case_id} {now()}".encode(),
        )
        if doc.new:  # a second person checks it against the court's docket
            supervisor = app.users.local("super2", "t")
            app.cases.verify_document(
                supervisor,
                "case_review",
                case_id,
                doc.sha256,
                "immigration_judge",
                f"EOIR-{case_id}",
            )
        return {"document": doc.name, "document_sha256": doc.sha256}

    def d(n: int) -> date:
        return PAST + timedelta(days=n)

    step(app, *officer, case_id, "begin_review", d(0))
    step(
        app,
        *officer,
        case_id,
        "charge",
        d(1),
        instrument="nta",
        reference=f"NTA-{case_id}",
        authority="ICE ERO (synthetic)",
    )
    step(app, *officer, case_id, "begin_proceedings", d(2))
    step(app, *officer, case_id, "decide", d(10), authority="IJ (synthetic)", **order())
    step(app, *officer, case_id, "waive_appeal", d(10), **order())
    step(
        app,
        "super1",
        "field_operation",
        case_id,
        "issue_warrant",
        d(11),
        instrument="i205",
        reference=f"I205-{case_id}",
        authority="FOD (synthetic)",
    )
    step(app, *officer, case_id, "request_field_action", d(12))
    step(app, "super2", "field_operation", case_id, "approve_field_action", d(13))
    step(app, "super1", "field_operation", case_id, "assign", d(14), team="NE-1")
    step(app, "field1", "field_operation", case_id, "record_encounter", d(15), outcome="arrested")
    step(app, *custody, case_id, "decide_custody", d(15), custody="detained")
    step(
        app,
        *custody,
        case_id,
        "add_instrument",
        d(16),
        instrument="travel_document",
        reference=f"TD-{case_id}",
        authority="consulate of MX",
        country="MX",
        expires_on=(TODAY + timedelta(days=60)).isoformat(),
    )
    step(
        app,
        *custody,
        case_id,
        "add_instrument",
        d(16),
        instrument="medical_clearance",
        reference=f"MED-{case_id}",
        authority="IHSC",
        expires_on=(TODAY + timedelta(days=30)).isoformat(),
    )
    step(app, *custody, case_id, "set_destination", d(16), country="MX")
    step(app, *custody, case_id, "mark_ready", d(17))
    step(app, *custody, case_id, "add_to_manifest", d(18), flight="F-9")
    return case_id


def post(app: Habeas, source: str, events: list[Any], who: str = "feed1") -> Any:
    """Post a batch as ``who`` (the feed's account by default)."""
    return app.monitor.receive(app.users.local(who, "t"), FEED, source, events)


def statuses(receipt: Any) -> list[str]:
    return [r.status for r in receipt.results]


def inbox(app: Habeas, source: str, event_id: str) -> Any:
    from habeas.store.models import InboxEvent

    with app.reader() as s:
        row = s.get(InboxEvent, (source, event_id))
        if row is not None:
            s.expunge(row)
        return row


def audit_entries(app: Habeas, action: str) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with app.reader() as s:
        rows = s.execute(
            text(
                'SELECT action, resources, detail, "user" FROM audit_entries '
                "WHERE action = :a ORDER BY seq"
            ),
            {"a": action},
        ).all()
    return [
        {"action": a, "resources": json.loads(r), "detail": d, "user": u} for a, r, d, u in rows
    ]
