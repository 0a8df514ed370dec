"""The application object: no use case without an account and a purpose, the role always
the account's, every use case whole or not at all, and reads that never wait on a
resolution run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from habeas.app import Habeas, Principal
from habeas.app.cases.schemas import StepRequest
from habeas.errors import AccessDenied, HabeasError, NotFound, Unauthenticated
from habeas.governance.audit_access import AuditFilter
from habeas.store.models import AuditEntry, Case, CaseEvent, IndexFlag, IndexRecord, User

TODAY = date(2026, 11, 1)


def _ids(app: Habeas) -> tuple[str, str, str, int]:
    """A person, two of their records, and a case on them."""
    with app.sessions() as s:
        flagged = select(IndexFlag.person_id)
        pid = (
            s.execute(
                select(IndexRecord.person_id)
                .where(IndexRecord.person_id.not_in(flagged))
                .group_by(IndexRecord.person_id)
                .having(func.count() >= 2)
                .order_by(IndexRecord.person_id)
            )
            .scalars()
            .first()
        )
        recs = list(
            s.execute(
                select(IndexRecord.record_id)
                .where(IndexRecord.person_id == pid)
                .order_by(IndexRecord.record_id)
            ).scalars()
        )
    assert pid is not None
    officer = app.users.local("officer1", "test")
    case_id = app.cases.open_case(officer, "case_review", pid, TODAY, "test").case_id
    return pid, recs[0], recs[1], case_id


UseCase = Callable[[Habeas, Principal | None, str | None, tuple[str, str, str, int]], Any]

USE_CASES: dict[str, UseCase] = {
    "index.person": lambda a, p, u, x: a.index.person(p, u, x[0]),
    "index.search": lambda a, p, u, x: a.index.search(p, u, identifier=x[1]),
    "index.record": lambda a, p, u, x: a.index.record(p, u, x[1]),
    "index.explain": lambda a, p, u, x: a.index.explain(p, u, x[1], x[2]),
    "index.review_queue": lambda a, p, u, x: a.index.review_queue(p, u),
    "index.decide": lambda a, p, u, x: a.index.decide(p, u, x[1], x[2], "same", "a reason"),
    "index.unmerge": lambda a, p, u, x: a.index.unmerge(p, u, x[0], [x[2]], "a reason"),
    "cases.open_case": lambda a, p, u, x: a.cases.open_case(p, u, x[0], TODAY),
    "cases.open_from_records": lambda a, p, u, x: a.cases.open_from_records(p, u, TODAY, 1),
    "cases.list": lambda a, p, u, x: a.cases.list_cases(p, u),
    "cases.show": lambda a, p, u, x: a.cases.show(p, u, x[3], TODAY),
    "cases.step": lambda a, p, u, x: a.cases.step(
        p, u, x[3], StepRequest(kind="begin_review", on=TODAY)
    ),
    "cases.counsel": lambda a, p, u, x: a.cases.counsel(p, u, x[3], "counsel1"),
    "cases.resolve_flag": lambda a, p, u, x: a.cases.resolve_flag(
        p, u, x[3], "citizenship", "a written reason here", "the file", TODAY
    ),
    "cases.tasks": lambda a, p, u, x: a.cases.tasks(p, u, TODAY),
    "cases.date_review": lambda a, p, u, x: a.cases.date_review(p, u),
    "cases.settle_deadlines": lambda a, p, u, x: a.cases.settle_deadlines(p, u),
    "cases.attach": lambda a, p, u, x: a.cases.attach(p, u, x[3], "an order", b"the order"),
    "cases.document": lambda a, p, u, x: a.cases.document(p, u, x[3], "ab" * 32),
    "cases.take_due_effects": lambda a, p, u, x: a.cases.take_due_effects(p, u, [x[3]]),
    "cases.prioritize": lambda a, p, u, x: a.cases.prioritize(p, u, TODAY),
    "custody.place": lambda a, p, u, x: a.custody.place(p, u, x[3], "FAC-1", TODAY),
    "custody.plan": lambda a, p, u, x: a.custody.plan(p, u, TODAY),
    "custody.book": lambda a, p, u, x: a.custody.book(p, u, TODAY),
    "custody.lock": lambda a, p, u, x: a.custody.lock(p, u, "F1", TODAY),
    "pipeline.quarantine": lambda a, p, u, x: a.pipeline.quarantine(p, u),
    "pipeline.resolve": lambda a, p, u, x: a.pipeline.resolve(p, u, incremental=True),
    "pipeline.ingest": lambda a, p, u, x: a.pipeline.ingest(
        p, u, "eoir_cases", Path("missing.csv"), TODAY
    ),
    "pipeline.export": lambda a, p, u, x: a.pipeline.export(p, u, a.settings.data_dir / "x.csv"),
    "audit.show": lambda a, p, u, x: a.audit.show(p, u, AuditFilter()),
    "audit.sign": lambda a, p, u, x: a.audit.sign(p, u),
}
"""Every use case on personal data, with arguments that would succeed for the right caller."""

ADMIN_CASES: dict[str, Callable[[Habeas, Principal | None], Any]] = {
    "users.add": lambda a, p: a.users.add(p, "newcomer", "case_officer"),
    "users.list": lambda a, p: a.users.list_users(p),
    "users.create_token": lambda a, p: a.users.create_token(p, "officer1", "x"),
    "users.revoke_token": lambda a, p: a.users.revoke_token(p, 1),
    "users.whoami": lambda a, p: a.users.whoami(p),
}


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_every_use_case_refuses_no_principal_an_unknown_account_and_a_wrong_purpose(
    indexed_app: Habeas, name: str
) -> None:
    app = indexed_app
    ids = _ids(app)
    use = USE_CASES[name]
    with app.sessions() as s:
        before = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with pytest.raises(Unauthenticated, match="no credentials"):
        use(app, None, "case_review", ids)
    with pytest.raises(Unauthenticated, match="no active account 'ghost'"):
        use(app, app.users.local("ghost", "test"), "case_review", ids)
    # analytics is a declared purpose no policy grants to a case officer for any of these
    with pytest.raises((AccessDenied, NotFound)):
        use(app, app.users.local("officer1", "test"), "analytics", ids)
    with pytest.raises(HabeasError, match="unknown purpose 'gossip'"):
        use(app, app.users.local("officer1", "test"), "gossip", ids)
    with app.sessions() as s:
        entries = list(
            s.execute(
                select(AuditEntry).where(AuditEntry.seq > before).order_by(AuditEntry.seq)
            ).scalars()
        )
    # every refusal is in the log, and nothing else was done by these calls
    assert [e.decision for e in entries] == ["deny"] * len(entries) and len(entries) >= 4
    assert {e.user for e in entries} >= {"anonymous", "ghost", "officer1"}
    assert app.audit.verify()[0].ok


@pytest.mark.parametrize("name", sorted(ADMIN_CASES))
def test_account_use_cases_need_an_account_and_the_admin_role(
    indexed_app: Habeas, name: str
) -> None:
    app = indexed_app
    use = ADMIN_CASES[name]
    with pytest.raises(Unauthenticated):
        use(app, None)
    with pytest.raises(Unauthenticated):
        use(app, app.users.local("ghost", "test"))
    if name != "users.whoami":
        with pytest.raises(AccessDenied):
            use(app, app.users.local("officer1", "test"))


def test_a_principal_is_accepted_only_from_the_application_that_issued_it(
    indexed_app: Habeas, tmp_path: Path
) -> None:
    app = indexed_app
    pid, *_ = _ids(app)
    forged = Principal("super1", "token", "http:1.2.3.4", seal="0" * 64)
    with pytest.raises(Unauthenticated, match="not issued by this application"):
        app.index.person(forged, "case_review", pid)
    other = Habeas(app.settings)  # another application object: another secret
    foreign = other.users.local("super1", "test")
    assert foreign is not None
    with pytest.raises(Unauthenticated, match="not issued by this application"):
        app.index.person(foreign, "case_review", pid)
    other.close()


def test_the_role_is_the_accounts_as_the_store_holds_it_now(indexed_app: Habeas) -> None:
    app = indexed_app
    _, _, _, case_id = _ids(app)
    officer = app.users.local("officer1", "test")
    app.cases.step(officer, "case_review", case_id, StepRequest(kind="begin_review", on=TODAY))
    app.cases.step(
        officer,
        "case_review",
        case_id,
        StepRequest(
            kind="charge",
            on=TODAY,
            fields={"instrument": "nta", "reference": "NTA-1", "authority": "ICE ERO"},
        ),
    )
    super1 = app.users.local("super1", "test")
    # the step's actor and role are never the caller's to choose
    with pytest.raises(HabeasError, match="actor and role are the account's"):
        app.cases.step(
            officer,
            "case_review",
            case_id,
            StepRequest(
                kind="approve_field_action",
                on=TODAY,
                fields={"actor": "super1", "role": "supervisor"},
            ),
        )
    with app.sessions() as s:  # the admin demotes super1: the very next call sees it
        s.execute(update(User).where(User.username == "super1").values(role="field_officer"))
        s.commit()
    with pytest.raises(AccessDenied):
        app.cases.step(
            super1,
            "field_operation",
            case_id,
            StepRequest(
                kind="issue_warrant",
                on=TODAY,
                fields={"instrument": "i200", "reference": "W", "authority": "SDDO"},
            ),
        )
    with app.sessions() as s:
        s.execute(update(User).where(User.username == "super1").values(active=False))
        s.commit()
    with pytest.raises(Unauthenticated, match="no active account"):
        app.cases.show(super1, "case_review", case_id, TODAY)


def test_a_use_case_that_fails_half_way_leaves_nothing_and_is_audited(
    indexed_app: Habeas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from habeas.cases import service

    app = indexed_app
    _, _, _, case_id = _ids(app)
    officer = app.users.local("officer1", "test")
    with app.sessions() as s:
        version = s.get(Case, case_id).version  # type: ignore[union-attr]
        events = s.execute(select(func.count()).select_from(CaseEvent)).scalar_one()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "_sync_instruments", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        app.cases.step(officer, "case_review", case_id, StepRequest(kind="begin_review", on=TODAY))
    with app.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None and (case.version, case.state) == (version, "identified")
        assert s.execute(select(func.count()).select_from(CaseEvent)).scalar_one() == events
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
    assert last is not None and last.action == "case_begin_review:outcome"
    assert last.decision == "deny" and "disk on fire" in last.detail
    assert app.audit.verify()[0].ok


def test_a_failed_review_decision_and_a_lock_of_no_flight_are_audited_as_failures(
    indexed_app: Habeas,
) -> None:
    app = indexed_app
    _, left, _, _ = _ids(app)
    engineer = app.users.local("eng1", "test")
    with pytest.raises(NotFound):
        app.index.decide(engineer, "identity_resolution", left, "r-missing", "same", "why")
    with pytest.raises(NotFound, match="nobody is on a manifest"):
        app.custody.lock(app.users.local("custody1", "test"), "custody", "NO-SUCH", TODAY)
    with app.sessions() as s:
        last = list(
            s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2)).scalars()
        )
    assert last[0].action == "transport_lock:outcome" and "failed" in last[0].detail
    assert last[1].action == "review_decide" and last[1].decision == "deny"


def test_identifiers_are_masked_unless_the_role_and_purpose_need_them(
    indexed_app: Habeas,
) -> None:
    """Who sees which identifier whole (the rest see the last four)."""
    app = indexed_app
    with app.sessions() as s:
        rec = (
            s.execute(
                select(IndexRecord).where(
                    IndexRecord.a_number.is_not(None), IndexRecord.source == "uscis_benefits"
                )
            )
            .scalars()
            .first()
        )
        assert rec is not None
    whole = {  # (account, purpose) → identifier kinds shown whole
        ("eng1", "identity_resolution"): {"a_number", "ssn", "passport_number"},
        ("officer1", "case_review"): {"a_number"},
        ("super1", "case_review"): {"a_number"},
        ("super1", "field_operation"): set(),
        ("field1", "field_operation"): set(),
        ("custody1", "custody"): {"a_number", "passport_number"},
        ("ig1", "oversight"): set(),
    }
    for (who, purpose), kinds in whole.items():
        try:
            got = app.index.record(app.users.local(who, "test"), purpose, rec.record_id)
        except (AccessDenied, NotFound):
            continue  # this purpose may not read the source at all
        for kind in ("a_number", "ssn", "passport_number"):
            value, stored = getattr(got, kind), getattr(rec, kind)
            if stored:
                assert (value == stored) == (kind in kinds), (who, purpose, kind)
                if kind not in kinds:
                    assert value is not None and value.endswith(stored[-4:]) and "*" in value


def test_export_is_limited_by_policy(indexed_app: Habeas) -> None:
    app = indexed_app
    out = app.settings.data_dir / "clusters.csv"
    with pytest.raises(AccessDenied, match="may not export"):
        app.pipeline.export(app.users.local("officer1", "test"), "case_review", out)
    n = app.pipeline.export(app.users.local("eng1", "test"), "identity_resolution", out)
    assert n > 0 and out.exists()


@pytest.mark.slow
def test_reads_never_wait_on_a_resolution_run_in_another_process(indexed_app: Habeas) -> None:
    app = indexed_app
    pid, left, right, case_id = _ids(app)
    officer, engineer = app.users.local("officer1", "t"), app.users.local("eng1", "t")
    cmd = [
        sys.executable,
        "-c",
        "from habeas.cli.main import run; run()",
        "--data-dir",
        str(app.settings.data_dir),
        "resolve",
        "--as",
        "eng1",
        "--purpose",
        "identity_resolution",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reads = 0
    target = str(app.settings.staging_path.resolve())

    def holds_staging() -> bool:
        """Whether the run has the batch store open (read from /proc, which takes no lock:
        probing with DuckDB itself would take one and get in the run's way)."""
        try:
            fds = list(Path(f"/proc/{proc.pid}/fd").iterdir())
        except OSError:
            return False
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    return True
            except OSError:
                continue
        return False

    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if holds_staging():
                app.index.person(officer, "case_review", pid)
                app.cases.show(officer, "case_review", case_id, TODAY)
                app.index.explain(engineer, "identity_resolution", left, right)
                if proc.poll() is None and holds_staging():
                    reads += 1
            time.sleep(0.05)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert reads >= 1  # reads answered while the run held the staging store


def test_a_flag_resolved_as_a_step_checks_the_version_and_reaches_the_index(
    indexed_app: Habeas,
) -> None:
    from habeas.errors import Conflict

    app = indexed_app
    with app.sessions() as s:
        pid = (
            s.execute(
                select(IndexFlag.person_id).where(
                    IndexFlag.flag == "citizenship", IndexFlag.status == "open"
                )
            )
            .scalars()
            .first()
        )
    assert pid is not None
    officer, super1 = app.users.local("officer1", "t"), app.users.local("super1", "t")
    case_id = app.cases.open_case(officer, "case_review", pid, TODAY).case_id
    seen = app.cases.step(
        officer, "case_review", case_id, StepRequest(kind="begin_review", on=TODAY)
    )  # raises the flag
    fields = {
        "flag": "citizenship",
        "reason": "checked against the passport file",
        "evidence": "passport file (synthetic)",
    }
    with pytest.raises(Conflict, match="reload it"):
        app.cases.step(
            super1,
            "case_review",
            case_id,
            StepRequest(kind="resolve_flag", fields=fields, version=seen.version - 1),
        )
    done = app.cases.step(
        super1,
        "case_review",
        case_id,
        StepRequest(kind="resolve_flag", fields=fields, version=seen.version),
    )
    assert done.version > seen.version and done.state == "under_review"
    with app.sessions() as s:
        statuses = set(
            s.execute(
                select(IndexFlag.status).where(
                    IndexFlag.person_id == pid, IndexFlag.flag == "citizenship"
                )
            ).scalars()
        )
    assert statuses == {"resolved"}


def test_a_password_reset_is_the_admins_and_ends_the_old_password_and_sessions(
    tmp_path: Path,
) -> None:
    from conftest import make_app

    app = make_app(tmp_path, users={"officer1": "case_officer", "ig1": "oversight"})
    root, ig = app.users.local("root", "test"), app.users.local("ig1", "test")
    first = app.users.reset_password(root, "officer1").secret
    signed = app.users.login("officer1", first, "case_review", "127.0.0.1")
    assert app.users.from_session(signed.session, "127.0.0.1")[0].username == "officer1"
    with pytest.raises(AccessDenied):
        app.users.reset_password(ig, "officer1")  # oversight reads accounts, sets nothing
    with pytest.raises(AccessDenied):
        app.users.reset_password(app.users.local("officer1", "test"), "officer1")
    second = app.users.reset_password(root, "officer1").secret
    assert second != first
    with pytest.raises(Unauthenticated):
        app.users.from_session(signed.session, "127.0.0.1")  # the old session ended
    with pytest.raises(HabeasError, match="wrong user name or password"):
        app.users.login("officer1", first, "case_review", "127.0.0.2")
    assert app.users.login("officer1", second, "case_review", "127.0.0.2").username == "officer1"
    with pytest.raises(NotFound):
        app.users.reset_password(root, "nobody")
    with app.sessions() as s:
        resets = s.execute(
            select(AuditEntry.decision).where(AuditEntry.action == "reset_password")
        ).scalars()
        decisions = list(resets)
    assert decisions.count("deny") == 2, decisions  # both refusals are on the record
