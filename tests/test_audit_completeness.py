"""Nothing escapes the audit log: refusals for a missing or unknown account, an unknown
purpose, a probe for a person who does not exist, a failed ingest — each leaves an
entry, because they are exactly what an inspector looks for. And a witness's folder of
checkpoints makes verify use the latest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from habeas.app import Habeas
from habeas.errors import HabeasError
from habeas.store.models import AuditEntry


def entries(app: Habeas) -> list[AuditEntry]:
    with app.sessions() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def count(app: Habeas) -> int:
    with app.sessions() as s:
        return int(s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


@pytest.mark.parametrize(
    ("who", "purpose", "user"),
    [
        (None, "case_review", "anonymous"),
        ("nobody", "case_review", "nobody"),
        ("officer1", "gossip", "officer1"),
        ("officer1", None, "officer1"),
    ],
)
def test_a_refused_caller_leaves_an_entry(
    indexed_app: Habeas, who: str | None, purpose: str | None, user: str
) -> None:
    app = indexed_app
    before = count(app)
    principal = app.users.local(who, "test") if who else None
    with pytest.raises(HabeasError):
        app.index.person(principal, purpose, "P0000000000")
    new = entries(app)[before:]
    assert len(new) == 1
    assert (
        new[0].user == user
        and new[0].decision == "deny"
        and new[0].action.startswith("read_person")
    )


def test_a_probe_for_a_person_who_does_not_exist_leaves_an_entry(indexed_app: Habeas) -> None:
    app = indexed_app
    before = count(app)
    with pytest.raises(HabeasError):
        app.index.person(app.users.local("officer1", "test"), "case_review", "Pdoesnotexist")
    new = entries(app)[before:]
    assert new and any("Pdoesnotexist" in (e.resources + e.detail) for e in new)
    assert new[-1].decision == "deny"


def test_a_failed_ingest_leaves_its_failure_not_only_the_allow(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    bad = tmp_path / "ssa.csv"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    before = count(app)
    with pytest.raises(HabeasError, match="gzip"):
        app.pipeline.ingest(
            app.users.local("eng1", "test"),
            "identity_resolution",
            "ssa_numident",
            bad,
            date(2026, 10, 31),
        )
    new = entries(app)[before:]
    assert [e.decision for e in new] == ["allow", "deny"]
    assert "gzip" in new[-1].detail


def test_verify_uses_the_latest_checkpoint_in_the_witness_folder(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    witness = tmp_path / "witness"
    witness.mkdir()
    first = app.audit.checkpoint(witness=witness)
    with pytest.raises(HabeasError):
        app.index.person(None, "case_review", "P1")  # one more entry
    second = app.audit.checkpoint(witness=witness)
    assert first != second and len(list(witness.glob("*.json"))) == 2
    v, cp = app.audit.verify(witness=witness)
    assert v.ok and cp is not None and cp.size == count(app) and v.beyond_checkpoint == 0
    with pytest.raises(HabeasError, match="holds no checkpoint"):
        app.audit.verify(witness=tmp_path)
