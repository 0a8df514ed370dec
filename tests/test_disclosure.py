"""No whole identifier leaves habeas outside a grant that allows it.

The masking function is tried in memory; then a world is seeded with canary identifiers
(persons with an SSN-keyed and a licence-keyed record, a case, a departure event whose
passport conflicts, a quarantined identifier) and **every** GET route of the API, every
page and every read command of the CLI is called for every role x purpose. Any whole
identifier in any answer, outside the kinds the policy intends that role x purpose to see
whole, fails the test, naming the way in, the caller and the value's kind.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select

from habeas.app import Habeas
from habeas.governance.authz import PURPOSES, ROLES
from habeas.governance.disclosure import (
    COMPARED_KINDS,
    IDENTIFIER_KINDS,
    Disclosure,
    disclosed,
    mask,
    normalized,
)
from habeas.store.models import InboxEvent, IndexRecord
from habeas.synth.world import WorldSummary

# -- the masking function, in memory ---------------------------------------------------------


def test_mask_keeps_separators_and_the_last_four() -> None:
    assert mask("675-57-0385") == "***-**-0385"
    assert mask("U86155271") == "*****5271"
    assert mask("1234") == "****"
    assert mask("") == ""
    assert mask(None) is None


class _Out(BaseModel):
    key: str
    notes: list[str]
    nested: dict[str, str]


def test_a_noted_identifier_is_masked_however_it_is_written() -> None:
    d = Disclosure()
    d.saw("ssn", "675570385")
    d.saw("passport_number", "u86155271")
    d.saw("a_number", "012345678")
    d.bind(frozenset({"a_number"}))
    out = d.release(
        _Out(
            key="675-57-0385",
            notes=["taxpayer_id 675570385 vs 675 57 0385", "passport U86155271", "A012345678"],
            nested={"k": "ssn=675.57.0385"},
        )
    )
    assert out.key == "***-**-0385"
    assert out.notes[0] == "taxpayer_id *****0385 vs *** ** 0385"
    assert out.notes[1] == "passport *****5271"
    assert out.notes[2] == "A012345678"  # a kind this caller sees whole
    assert out.nested == {"k": "ssn=***.**.0385"}


def test_a_mixed_kind_is_whole_only_when_every_kind_is() -> None:
    d = Disclosure()
    d.saw("ssn+a_number", "123456789")
    d.bind(frozenset({"a_number"}))
    assert d.text("x 123456789") == "x *****6789"
    d.bind(frozenset({"a_number", "ssn"}))
    assert d.text("x 123456789") == "x 123456789"


def test_a_value_seen_as_two_kinds_is_whole_only_when_both_are() -> None:
    d = Disclosure()
    d.saw("a_number", "123456789")
    d.saw("ssn", "123-45-6789")  # the same digits, loaded as an SSN elsewhere
    d.bind(frozenset({"a_number"}))
    assert d.text("A123456789") == "A*****6789"


def test_a_dataclass_field_the_constructor_does_not_take_is_masked_too() -> None:
    @dataclasses.dataclass(frozen=True)
    class Out:
        shown: str
        derived: str = dataclasses.field(init=False, default="")

    out = Out("x")
    object.__setattr__(out, "derived", "key 675570385")
    d = Disclosure()
    d.saw("ssn", "675570385")
    got = d.release(out)
    assert got.derived == "key *****0385" and out.derived == "key 675570385"


def test_the_outer_use_case_releases_and_an_unbound_caller_sees_nothing_whole() -> None:
    from habeas.governance import disclosure

    @disclosed
    def inner() -> str:
        disclosure.saw("ssn", "675570385")
        return "inner 675570385"

    @disclosed
    def outer() -> list[str]:
        return [inner(), "outer 675570385"]

    assert outer() == ["inner *****0385", "outer *****0385"]


# -- the canary walk over every way in ---------------------------------------------------------

WHOLE: dict[tuple[str, str], frozenset[str]] = {
    ("integration_engineer", "identity_resolution"): frozenset(IDENTIFIER_KINDS),
    ("case_officer", "case_review"): frozenset({"a_number"}),
    ("supervisor", "case_review"): frozenset({"a_number"}),
    ("custody_officer", "custody"): frozenset({"a_number", "passport_number"}),
}
"""What the policy intends each role x purpose to see whole (every other: nothing)."""

ACCOUNTS = {
    "integration_engineer": "eng1",
    "case_officer": "officer1",
    "supervisor": "super1",
    "field_officer": "field1",
    "custody_officer": "custody1",
    "oversight": "ig1",
    "counsel": "counsel1",
    "admin": "root",
    "event_feed": "feed1",
}


@dataclass
class Canaries:
    """The world, and each identifier a leak would show (normalized value → kind)."""

    app: Habeas
    data: Path
    values: dict[str, str]
    persons: list[str]
    records: list[str]
    pairs: list[tuple[str, str]]
    case_id: int
    sha256: str
    ssn: str
    passport: str


def _identifiers_of(r: IndexRecord) -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, value in (
        ("a_number", r.a_number),
        ("ssn", r.ssn),
        ("passport_number", r.passport_number),
    ):
        if value:
            out[normalized(value)] = kind
    for column, value in json.loads(r.features or "{}").items():
        if column in COMPARED_KINDS and value not in (None, ""):
            out[normalized(value)] = COMPARED_KINDS[column]
    return out


@pytest.fixture(scope="module")
def canaries(
    world: WorldSummary, resolved: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Canaries]:
    import monitorkit as mk

    data = tmp_path_factory.mktemp("canary") / "data"
    app = mk.monitor_app(resolved, world.out, data)
    with app.reader() as s:
        # a person with an SSN-keyed record and a licence-keyed one (the natural key *is*
        # the identifier), and a subject of the monitor with a passport
        ssa = set(
            s.scalars(select(IndexRecord.person_id).where(IndexRecord.source == "ssa_numident"))
        )
        dmv = set(
            s.scalars(select(IndexRecord.person_id).where(IndexRecord.source == "dmv_licenses"))
        )
        both = sorted(ssa & dmv)
        assert both, "the world has nobody with an SSA and a DMV record"
        rich = s.execute(
            select(IndexRecord.person_id)
            .where(IndexRecord.person_id.in_(both))
            .group_by(IndexRecord.person_id)
            .order_by(func.count().desc(), IndexRecord.person_id)
            .limit(1)
        ).scalar_one()
    subject = mk.subjects(app, world.out)[0]
    case_id = mk.approved(app, subject)
    doc = app.cases.attach(
        app.users.local("officer1", "t"),
        "case_review",
        case_id,
        "note (synthetic)",
        b"a synthetic note",
    )
    # an exit whose passport conflicts with the subject's: sent to review, quoting both
    other = "X" + subject.truth.passport[1:][::-1]
    mk.post(app, "airline_exits", [mk.exit_event(subject, "EV-CANARY-1", document_number=other)])
    persons = [rich, subject.person_id]
    values: dict[str, str] = {}
    records: list[str] = []
    with app.reader() as s:
        for r in s.scalars(select(IndexRecord).where(IndexRecord.person_id.in_(persons))):
            mine = _identifiers_of(r)
            values.update(mine)
            records.append(r.record_id)
            for part in str(r.source_key).split("|"):
                if normalized(part) in mine:  # a natural key that is an identifier
                    values[normalized(part)] = mine[normalized(part)]
        for ev in s.scalars(select(InboxEvent)):
            for column, value in json.loads(ev.record).items():
                kind = {"passport_number": "passport_number", "a_number": "a_number"}.get(column)
                if kind and value:
                    values[normalized(value)] = kind
        rich_records = [r for r in records if s.get(IndexRecord, r).person_id == rich]
    values = {v: k for v, k in values.items() if len(v) >= 6}
    assert {"ssn", "license_number", "passport_number", "a_number"} <= set(values.values())
    with app.reader() as s:
        ssn = normalized(
            s.scalars(
                select(IndexRecord.ssn).where(
                    IndexRecord.person_id == rich, IndexRecord.ssn.is_not(None)
                )
            ).first()
        )
    passport = normalized(subject.truth.passport)
    pairs = [(a, b) for i, a in enumerate(rich_records) for b in rich_records[i + 1 :]][:6]
    yield Canaries(app, data, values, persons, records, pairs, case_id, doc.sha256, ssn, passport)
    app.close()


def _leaks(body: str, values: dict[str, str], whole: frozenset[str]) -> list[str]:
    flat = re.sub(r"[\s\-./]", "", body).upper()
    return sorted({f"{k} {mask(v)}" for v, k in values.items() if k not in whole and v in flat})


def _whole(role: str, purpose: str) -> frozenset[str]:
    return WHOLE.get((role, purpose), frozenset())


def test_every_role_has_an_account_in_the_walk() -> None:
    assert set(ACCOUNTS) == set(ROLES)


def _api_calls(c: Canaries) -> list[tuple[str, dict[str, Any]]]:
    from habeas.server import create_api

    fill: dict[str, list[str]] = {
        "person_id": c.persons,
        "record_id": c.records,
        "case_id": [str(c.case_id)],
        "sha256": [c.sha256],
        "name": ["ssa_numident", "dmv_licenses"],
        "production": ["1"],
        "part": ["json", "html"],
    }
    queries: dict[str, list[dict[str, Any]]] = {
        "/persons": [
            {"identifier": c.ssn},
            {"identifier": c.passport},
            {"name": "a"},
            {"identifier": c.records[0]},
        ],
        "/explain": [{"left": a, "right": b} for a, b in c.pairs],
        "/audit": [{"limit": 500}],
        "/quarantine": [{"limit": 500}],
        "/monitor/reviews": [{"limit": 1000}],
        "/cases": [{"limit": 500}],
        "/persons/{person_id}/packet": [{"recipient": "walk", "format": "json"}],
        "/field/planner": [{"office": "NE"}],
        "/field/today": [{"day": (mk_today()).isoformat()}],
    }
    skip = {"/docs", "/openapi.json", "/monitor/stream", "/docs/oauth2-redirect", "/redoc"}
    calls: list[tuple[str, dict[str, Any]]] = []
    schema = create_api(c.app).openapi()["paths"]
    for path, methods in schema.items():
        if "get" not in methods or path in skip:
            continue
        names = re.findall(r"{(\w+)}", path)
        missing = [n for n in names if n not in fill]
        assert not missing, f"the walk cannot fill {missing} of {path}: add them here"
        paths = [path]
        for n in names:
            paths = [p.replace("{" + n + "}", v) for p in paths for v in fill[n]]
        for p in paths:
            for q in queries.get(path, [{}]):
                calls.append((p, q))
    assert len(calls) > 20
    return calls


def mk_today() -> Any:
    import monitorkit as mk

    return mk.TODAY


@pytest.mark.slow
def test_no_route_shows_a_whole_identifier_outside_its_grant(canaries: Canaries) -> None:
    from habeas.server import create_api

    app = canaries.app
    root = app.users.local("root", "t")
    tokens = {a: app.users.create_token(root, a, "walk").secret for a in ACCOUNTS.values()}
    calls = _api_calls(canaries)
    found: list[str] = []
    statuses: dict[int, int] = {}
    answered = 0
    with TestClient(create_api(app)) as client:
        for role, account in ACCOUNTS.items():
            for purpose in PURPOSES:
                h = {"Authorization": f"Bearer {tokens[account]}", "X-Habeas-Purpose": purpose}
                for path, q in calls:
                    r = client.get(path, params=q, headers=h)
                    assert r.status_code < 500, (path, q, role, purpose, r.text[:300])
                    answered += r.status_code == 200
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    for leak in _leaks(r.text, canaries.values, _whole(role, purpose)):
                        found.append(f"GET {path} {q} as {role} for {purpose}: {leak}")
    assert not found, "\n".join(found[:40])
    assert answered > 100, (
        answered,
        len(calls),
        statuses,
    )  # the walk reached real answers, not only refusals


@pytest.mark.slow
def test_no_page_shows_a_whole_identifier_outside_its_grant(canaries: Canaries) -> None:
    from habeas.server import create_api

    app = canaries.app
    root = app.users.local("root", "t")
    c = canaries
    pages = [
        "/",
        "/search?name=a",
        f"/search?identifier={c.ssn}",
        f"/search?identifier={c.passport}",
        *(f"/person/{p}" for p in c.persons),
        f"/case/{c.case_id}",
        "/planner",
        "/planner/route",
        "/today",
        "/custody",
        *(f"/why?left={a}&right={b}" for a, b in c.pairs),
    ]
    found: list[str] = []
    shown = 0
    with TestClient(create_api(app), follow_redirects=True) as client:
        for role, account in ACCOUNTS.items():
            password = app.users.reset_password(root, account).secret
            for purpose in PURPOSES:
                try:
                    signed = app.users.login(account, password, purpose, "testclient")
                except Exception:
                    continue
                client.cookies.clear()
                client.cookies.set("habeas_session", signed.session)
                for page in pages:
                    r = client.get(page)
                    assert r.status_code < 500, (page, role, purpose, r.text[:300])
                    shown += r.status_code == 200
                    # the search form shows back what its user typed: that is not a leak
                    body = r.text.replace(f'value="{c.ssn}"', "").replace(
                        f'value="{c.passport}"', ""
                    )
                    for leak in _leaks(body, c.values, _whole(role, purpose)):
                        found.append(f"page {page} as {role} for {purpose}: {leak}")
    assert not found, "\n".join(found[:40])
    assert shown > 50


@pytest.mark.slow
def test_no_read_command_prints_a_whole_identifier_outside_its_grant(
    canaries: Canaries, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from habeas.cli import main

    main.out.width = main.err.width = 400
    c = canaries
    a, b = c.pairs[0]
    # the commands whose answers can carry identifiers (the rest call the same use cases
    # as the routes walked above), each as a person reads it in the terminal or as JSON
    commands: list[list[str]] = [
        ["search", "--identifier", c.ssn, "--json"],
        ["person", c.persons[0]],
        ["person", c.persons[1], "--json"],
        ["record", c.records[0], "--json"],
        ["explain", a, b],
        ["cases", "show", str(c.case_id)],
        ["monitor", "reviews"],
        ["quarantine", "list", "--limit", "500"],
        ["audit", "show", "--limit", "500"],
    ]
    found: list[str] = []
    printed = 0
    for role, account in ACCOUNTS.items():
        for purpose in PURPOSES:
            for cmd in commands:
                capsys.readouterr()
                code = main.execute(
                    ["--data-dir", str(c.data), *cmd, "--as", account, "--purpose", purpose]
                )
                out, err = capsys.readouterr()
                assert "Traceback" not in err, (cmd, role, purpose, err[-800:])
                printed += code == 0
                for leak in _leaks(out + err, c.values, _whole(role, purpose)):
                    found.append(f"habeas {' '.join(cmd)} as {role} for {purpose}: {leak}")
            # the export writes natural keys to a file
            out_file = tmp_path / f"{role}-{purpose}.csv"
            capsys.readouterr()
            main.execute(
                [
                    "--data-dir",
                    str(c.data),
                    "export",
                    "clusters",
                    str(out_file),
                    "--as",
                    account,
                    "--purpose",
                    purpose,
                ]
            )
            capsys.readouterr()
            if out_file.exists():
                for leak in _leaks(out_file.read_text(), c.values, _whole(role, purpose)):
                    found.append(f"export clusters as {role} for {purpose}: {leak}")
    assert not found, "\n".join(found[:40])
    assert printed > 30


def test_a_whole_identifier_finds_nobody_for_a_purpose_that_sees_it_masked(
    canaries: Canaries,
) -> None:
    app, c = canaries.app, canaries
    officer = app.users.local("officer1", "t")
    got = app.index.search(officer, "case_review", identifier=c.ssn)
    assert got.total == 0 and "ssn" in got.unsearched
    engineer = app.users.local("eng1", "t")
    found = app.index.search(engineer, "identity_resolution", identifier=c.ssn)
    assert found.total >= 1 and not found.unsearched
    # the A-number, which case review sees whole, still finds its person
    with app.reader() as s:
        a_num = s.scalars(
            select(IndexRecord.a_number).where(
                IndexRecord.person_id == c.persons[1], IndexRecord.a_number.is_not(None)
            )
        ).first()
    assert a_num
    assert app.index.search(officer, "case_review", identifier=a_num).total >= 1


def test_lineage_names_the_batch_file_and_row(canaries: Canaries) -> None:
    app, c = canaries.app, canaries
    view = app.index.person(app.users.local("officer1", "t"), "case_review", c.persons[0])
    ssa = [r for r in view.records if r.source == "ssa_numident"]
    assert ssa
    for r in view.records:
        assert r.batch_id and r.file_sha256 and len(r.file_sha256) == 64 and r.row_number
    for r in ssa:  # the SSA's key is the SSN: masked for case review
        assert "*" in r.source_key and normalized(r.source_key) not in c.values
    eng = app.users.local("eng1", "t")
    whole = app.index.record(eng, "identity_resolution", ssa[0].record_id)
    assert normalized(whole.source_key) in c.values  # the engineer's grant sees it whole
