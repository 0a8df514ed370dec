"""Accounts, purpose-bound case access and its audit trail, and concurrent writers."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError

from habeas.app.audit_log import verify_store
from habeas.cases.access import read_case, update_case_note
from habeas.errors import AccessDenied, Conflict, HabeasError, Unauthenticated
from habeas.governance.authz import AccessContext
from habeas.governance.identity import authenticate, bootstrap_admin
from habeas.store.keys import register as register_key
from habeas.store.models import ApiToken, AuditEntry, Case, User
from habeas.store.operational import make_engine, session_factory, upgrade

ADMIN = AccessContext("root", "admin", "oversight")
OFFICER = AccessContext("officer1", "case_officer", "case_review")


@pytest.fixture
def engine(store_url: str) -> Engine:
    e = make_engine(store_url)
    upgrade(e)
    register_key(e, b"test-history-key-of-32-bytes-xx!")
    with session_factory(e).begin() as s:
        bootstrap_admin(s, "root", "a long admin passphrase")
        s.add(Case(person_id="P1", state="identified", note="", updated_at=datetime(2026, 11, 2)))
    with e.begin() as conn:  # a row as habeas seals it (it has no history: the seal says so)
        from habeas.cases.history import case_seal

        token = case_seal(b"test-history-key-of-32-bytes-xx!", 1, "identified", "")
        conn.execute(text("UPDATE cases SET history_token = :t WHERE id = 1"), {"t": token})
    return e


def _entries(engine: Engine) -> list[AuditEntry]:
    with session_factory(engine)() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def test_admin_creates_users_with_argon2_hashes_and_hashed_tokens(
    engine: Engine, tmp_path: Path
) -> None:
    from habeas.app import Habeas
    from habeas.settings import Settings

    url = str(engine.url.render_as_string(hide_password=False))
    app = Habeas(Settings(data_dir=tmp_path, database_url=url))
    root = app.users.local("root", "test")
    app.users.add(root, "officer1", "case_officer")
    issued = app.users.create_token(root, "officer1", "laptop", days=30)
    token = issued.secret
    sessions = session_factory(engine)
    with sessions() as s:
        user = s.execute(select(User).where(User.username == "officer1")).scalar_one()
        assert user.password_hash.startswith("$argon2")
        stored = s.execute(select(ApiToken.token_hash)).scalar_one()
        assert token not in stored and len(stored) == 64
        with pytest.raises(HabeasError, match="wrong user name or password"):
            authenticate(s, "officer1", "wrong")
        with pytest.raises(HabeasError, match="wrong user name or password"):
            authenticate(s, "nobody", "correct horse battery")
    assert app.users.from_token(token, "127.0.0.1").username == "officer1"
    with pytest.raises(Unauthenticated, match="unknown API token"):
        app.users.from_token("hab_made_up", "127.0.0.1")
    app.users.revoke_token(root, issued.token_id or 0)
    with pytest.raises(Unauthenticated, match="revoked"):
        app.users.from_token(token, "127.0.0.1")
    app.close()


def test_only_an_admin_manages_users_and_the_refusal_is_audited(
    engine: Engine, tmp_path: Path
) -> None:
    from habeas.app import Habeas
    from habeas.settings import Settings

    url = str(engine.url.render_as_string(hide_password=False))
    app = Habeas(Settings(data_dir=tmp_path, database_url=url))
    app.users.add(app.users.local("root", "test"), "officer1", "case_officer")
    with pytest.raises(AccessDenied, match="may not create_user"):
        app.users.add(app.users.local("officer1", "test"), "sneaky", "admin")
    last = _entries(engine)[-1]
    assert (last.user, last.action, last.decision) == ("officer1", "create_user", "deny")
    with session_factory(engine)() as s:
        assert s.execute(select(User).where(User.username == "sneaky")).first() is None
    app.close()


def test_reads_are_audited_with_purpose_and_refusals_too(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        case = read_case(s, OFFICER, 1)
    assert case["person_id"] == "P1"
    entry = _entries(engine)[-1]
    assert (entry.user, entry.purpose, entry.action, entry.decision) == (
        "officer1",
        "case_review",
        "read_case",
        "allow",
    )
    assert "person:P1" in entry.resources
    wrong_purpose = AccessContext("officer1", "case_officer", "analytics")
    refusals = []
    for ctx, why in ((wrong_purpose, "deny by default"), (ADMIN, "admin-reads-no-personal-data")):
        with pytest.raises(AccessDenied, match=why) as caught, sessions.begin() as s:
            read_case(s, ctx, 1)
        refusals.append(caught.value.entry)
    # the refusal rolls back with the work and carries its entry, for the app to keep
    assert [(e["user"], e["purpose"], e["decision"]) for e in refusals if e] == [
        ("officer1", "analytics", "deny"),
        ("root", "oversight", "deny"),
    ]
    assert _entries(engine)[-1].decision == "allow"
    assert verify_store(engine).ok


def test_a_stale_version_is_a_conflict_and_changes_nothing(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        assert update_case_note(s, OFFICER, 1, 1, "first") == 2
    with pytest.raises(Conflict, match="version 2, not 1"), sessions.begin() as s:
        update_case_note(s, OFFICER, 1, 1, "from a stale copy")
    with sessions() as s:
        case = s.get(Case, 1)
        assert case is not None and (case.note, case.version) == ("first", 2)


def test_concurrent_writers_lose_no_update_and_every_conflict_is_reported(engine: Engine) -> None:
    sessions = session_factory(engine)
    done: list[str] = []
    conflicts: list[str] = []
    lock = threading.Lock()

    def writer(name: str) -> None:
        for attempt in range(3):
            try:
                with sessions() as s:
                    seen = read_case(s, OFFICER, 1)
                    s.commit()
                with sessions.begin() as s:
                    update_case_note(s, OFFICER, 1, seen["version"], seen["note"] + f"|{name}")
                with lock:
                    done.append(f"{name}#{attempt}")
                return
            except (Conflict, OperationalError):
                with lock:
                    conflicts.append(f"{name}#{attempt}")

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sessions() as s:
        case = s.get(Case, 1)
        assert case is not None
        marks = [m for m in case.note.split("|") if m]
    assert len(marks) == len(done) == case.version - 1  # every success is in the note
    assert len(set(marks)) == len(marks)
    assert len(done) + len(conflicts) >= 20  # each writer either succeeded or saw a conflict
    assert verify_store(engine).ok
