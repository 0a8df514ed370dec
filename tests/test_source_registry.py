"""The governed source registry: versions kept, never replaced; a widening waits for a
second person (oversight); records keep the purposes of the version they came under; tax
rows outside the request leave no values behind. Each hole is tried as an attacker would,
through the application and through the HTTP API."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from habeas.app import Habeas
from habeas.errors import AccessDenied, HabeasError, TwoPersonRule
from habeas.sources.registry import decide, effective_purposes
from habeas.store.models import AuditEntry, IndexRecord, IndexSource

TAX = "irs_returns"


def tax_copy(app: Habeas, tmp_path: Path, purposes: list[str]) -> Path:
    """The tax source's declaration, request and file in a folder of their own, with
    ``purposes``."""
    with app.staging() as st:
        [(decl_path,)] = st.rows("SELECT declaration_path FROM sources WHERE name = ?", [TAX])
    src = Path(decl_path).parent
    dest = tmp_path / "changed"
    dest.mkdir(exist_ok=True)
    for name in ("irs_returns.jsonl", "irs_request.csv"):
        shutil.copy(src / name, dest / name)
    lines = (src / "irs_returns.toml").read_text(encoding="utf-8").splitlines()
    lines = [
        f"purposes = {json.dumps(purposes)}" if ln.startswith("purposes") else ln for ln in lines
    ]
    (dest / "irs_returns.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest / "irs_returns.toml"


def who(app: Habeas, name: str):  # type: ignore[no-untyped-def]
    return app.users.local(name, "test")


def tax_purposes_in_index(app: Habeas) -> list[str]:
    with app.sessions() as s:
        src = s.get(IndexSource, TAX)
        assert src is not None
        return list(json.loads(src.purposes))


def field_officer_sees_tax(app: Habeas, pid: str) -> bool:
    person = app.index.person(who(app, "field1"), "field_operation", pid)
    return any(r.source == TAX for r in person.records)


def tax_person(app: Habeas) -> str:
    with app.sessions() as s:
        pid = s.execute(
            select(IndexRecord.person_id).where(IndexRecord.source == TAX).limit(1)
        ).scalar()
    assert pid
    return pid


def test_a_widening_waits_for_oversight_and_old_records_keep_their_purposes(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    today = date.today()
    pid = tax_person(app)
    assert not field_officer_sees_tax(app, pid)
    widened = tax_copy(
        app,
        tmp_path,
        ["identity_resolution", "case_review", "oversight", "redress", "field_operation"],
    )
    [reg] = app.pipeline.register(who(app, "eng1"), "identity_resolution", [widened], today)
    assert reg.status == "pending" and reg.version == 2
    assert any("field_operation" in w for w in reg.widens)
    assert not field_officer_sees_tax(app, pid)  # nothing changed yet
    # the registrant's role may not approve; oversight may
    with pytest.raises(AccessDenied):
        app.pipeline.decide_source(who(app, "eng1"), "identity_resolution", TAX, 2, True, "ok")
    with pytest.raises(AccessDenied):
        app.pipeline.decide_source(who(app, "officer1"), "case_review", TAX, 2, True, "ok")
    v = app.pipeline.decide_source(who(app, "ig1"), "oversight", TAX, 2, True, "request 2026-7")
    assert v.status == "registered" and v.decided_by == "ig1"
    # records staged under version 1 keep version 1's purposes
    assert "field_operation" not in tax_purposes_in_index(app)
    assert not field_officer_sees_tax(app, pid)
    # re-ingesting the file under version 2 validates it again (not "already ingested")
    data = widened.parent / "irs_returns.jsonl"
    result = app.pipeline.ingest(who(app, "eng1"), "identity_resolution", TAX, data, today)
    assert not result.already_ingested and result.batch_id.endswith("-v2")
    with app.staging() as st:
        assert (
            st.scalar("SELECT count(*) FROM records WHERE source = ? AND source_version = 1", [TAX])
            == 0
        )
        assert "field_operation" in effective_purposes(st)[TAX]
    history = app.pipeline.source_history(who(app, "officer1"), "case_review", TAX)
    assert [(h.version, h.status) for h in history] == [(1, "superseded"), (2, "registered")]
    assert history[1].registrant == "eng1" and history[1].sha256 != history[0].sha256
    with app.sessions() as s:
        details = [
            e.detail
            for e in s.execute(select(AuditEntry)).scalars()
            if e.action == "register_source:outcome"
        ]
    assert any("sha256 before" in d and "awaits oversight" in d for d in details)


def test_a_narrowing_takes_effect_at_once_in_the_published_index(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    assert "case_review" in tax_purposes_in_index(app)
    narrowed = tax_copy(app, tmp_path, ["identity_resolution", "oversight"])
    [reg] = app.pipeline.register(who(app, "eng1"), "identity_resolution", [narrowed], date.today())
    assert reg.status == "registered" and not reg.widens
    assert tax_purposes_in_index(app) == ["identity_resolution", "oversight"]
    pid = tax_person(app)
    person = app.index.person(who(app, "officer1"), "case_review", pid)
    assert all(r.source != TAX for r in person.records)


def test_a_refused_change_never_displaces_the_version_in_force(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    bad = tax_copy(app, tmp_path, ["case_review"])
    bad.write_text(bad.read_text(encoding="utf-8").replace("6103(i)(2)", "6103"), encoding="utf-8")
    [reg] = app.pipeline.register(who(app, "eng1"), "identity_resolution", [bad], date.today())
    assert reg.status == "refused"
    with app.staging() as st:
        assert st.rows("SELECT status, version FROM sources WHERE name = ?", [TAX]) == [
            ("registered", 1)
        ]
    again = app.pipeline.register(who(app, "eng1"), "identity_resolution", [bad], date.today())
    assert again[0].version == 3  # every attempt is kept


def test_the_registrant_may_not_approve_their_own_widening(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    widened = tax_copy(app, tmp_path, ["case_review", "field_operation", "identity_resolution"])
    app.pipeline.register(who(app, "eng1"), "identity_resolution", [widened], date.today())
    with app.staging() as st, pytest.raises(TwoPersonRule):
        decide(st, TAX, 2, "eng1", True, "mine")
    with pytest.raises(HabeasError, match="not pending"):
        app.pipeline.decide_source(who(app, "ig1"), "oversight", TAX, 1, True, "old")


def test_registering_needs_an_account_and_the_engineer_role(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    widened = tax_copy(app, tmp_path, ["field_operation"])
    with pytest.raises(HabeasError):
        app.pipeline.register(None, "identity_resolution", [widened], date.today())
    with pytest.raises(AccessDenied):
        app.pipeline.register(who(app, "field1"), "identity_resolution", [widened], date.today())
    with app.staging() as st:
        assert st.scalar("SELECT count(*) FROM source_versions WHERE name = ?", [TAX]) == 1


def test_tax_rows_outside_the_request_keep_no_values(indexed_app: Habeas) -> None:
    app = indexed_app
    with app.staging() as st:
        rows = st.rows(
            "SELECT row_number, field, value FROM quarantine WHERE source = ? AND row_number IN "
            "(SELECT row_number FROM quarantine WHERE rule = 'tax-6103-request-scope')",
            [TAX],
        )
    assert rows and all(field is None and value is None for _, field, value in rows)
    assert len({r[0] for r in rows}) == len(rows)  # one entry per refused row, nothing else


def test_the_attacks_through_http(indexed_app: Habeas, tmp_path: Path) -> None:
    from habeas.server import create_api

    app = indexed_app
    root = who(app, "root")
    tokens = {
        n: app.users.create_token(root, n, "test").secret
        for n in ("eng1", "ig1", "field1", "officer1")
    }

    def h(name: str, purpose: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[name]}", "X-Habeas-Purpose": purpose}

    widened = tax_copy(app, tmp_path, ["case_review", "field_operation", "identity_resolution"])
    app.pipeline.register(who(app, "eng1"), "identity_resolution", [widened], date.today())
    pid = tax_person(app)
    with TestClient(create_api(app)) as c:
        url = f"/sources/{TAX}/versions/2/approve"
        r = c.post(url, json={"reason": "self"}, headers=h("eng1", "identity_resolution"))
        assert r.status_code == 403, r.text
        r = c.get(f"/persons/{pid}", headers=h("field1", "field_operation"))
        assert r.status_code in (200, 403)
        assert TAX not in r.text
        r = c.post(url, json={"reason": "checked"}, headers=h("ig1", "oversight"))
        assert r.status_code == 200 and r.json()["status"] == "registered", r.text
        r = c.get(f"/persons/{pid}", headers=h("field1", "field_operation"))
        assert TAX not in r.text  # still: its records came under version 1
        hist = c.get(f"/sources/{TAX}/history", headers=h("officer1", "case_review"))
        assert [v["status"] for v in hist.json()] == ["superseded", "registered"]
        # a case officer reads no quarantine; intake's engineer reading the tax quarantine
        # sees row numbers, never a taxpayer's name
        q = c.get(
            "/quarantine",
            params={"source": TAX, "limit": 500},
            headers=h("officer1", "case_review"),
        )
        assert q.status_code == 403, q.text
        q = c.get(
            "/quarantine",
            params={"source": TAX, "limit": 500},
            headers=h("eng1", "identity_resolution"),
        )
        assert q.status_code == 200, q.text
        scope = [e for e in q.json()["rows"] if e["rule"] == "tax-6103-request-scope"]
        assert scope and all(e["value"] is None and e["row_number"] for e in scope)


def test_the_same_declaration_again_is_unchanged_and_adds_no_version(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    with app.staging() as st:
        [(decl_path,)] = st.rows("SELECT declaration_path FROM sources WHERE name = ?", [TAX])
    eng = who(app, "eng1")
    [again] = app.pipeline.register(eng, "identity_resolution", [Path(decl_path)], date.today())
    assert again.status == "unchanged" and again.version == 1
    widened = tax_copy(app, tmp_path, ["case_review", "field_operation", "identity_resolution"])
    first = app.pipeline.register(eng, "identity_resolution", [widened], date.today())[0]
    second = app.pipeline.register(eng, "identity_resolution", [widened], date.today())[0]
    assert (first.status, second.status, first.version, second.version) == (
        "pending",
        "pending",
        2,
        2,
    )
    with app.staging() as st:
        assert st.scalar("SELECT count(*) FROM source_versions WHERE name = ?", [TAX]) == 2


def test_records_ingested_under_a_widened_version_are_read_for_it_and_older_ones_not(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    eng = who(app, "eng1")
    widened = tax_copy(
        app,
        tmp_path,
        ["identity_resolution", "case_review", "oversight", "redress", "field_operation"],
    )
    app.pipeline.register(eng, "identity_resolution", [widened], date.today())
    app.pipeline.decide_source(who(app, "ig1"), "oversight", TAX, 2, True, "request 2026-8")
    with app.sessions() as s:
        old = s.execute(select(IndexRecord).where(IndexRecord.source == TAX).limit(1)).scalar()
        assert old is not None
        pid, key, old_id = old.person_id, old.source_key, old.record_id
    tin = key.split("|")[0]
    line = next(
        ln
        for ln in (widened.parent / "irs_returns.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(ln)["tin"] == tin
    )
    row = json.loads(line) | {"tax_year": 2011}
    newer = tmp_path / "irs_2024.jsonl"
    newer.write_text(json.dumps(row) + "\n", encoding="utf-8")
    got = app.pipeline.ingest(eng, "identity_resolution", TAX, newer, date.today())
    assert got.rows_new == 1, (got.rows_read, got.rows_quarantined, got.reasons)
    app.pipeline.resolve(eng, "identity_resolution", incremental=True)
    with app.sessions() as s:
        in_v2 = select(IndexRecord).where(
            IndexRecord.source == TAX, IndexRecord.source_version == 2
        )
        new = s.execute(in_v2).scalars().all()
    assert [r.source_key for r in new] == [f"{tin}|2011"]
    person = app.index.person(who(app, "field1"), "field_operation", new[0].person_id)
    shown = {r.record_id for r in person.records}
    assert new[0].record_id in shown  # ingested under version 2: field_operation
    assert old_id not in shown  # ingested under version 1: not
    # the key is the taxpayer number: shown masked for field operations
    [mine] = [r for r in person.records if r.record_id == new[0].record_id]
    assert mine.source_key.endswith(f"{tin[-4:]}|2011") and tin not in mine.source_key
    officer = app.index.person(who(app, "officer1"), "case_review", pid)
    assert old_id in {r.record_id for r in officer.records}
