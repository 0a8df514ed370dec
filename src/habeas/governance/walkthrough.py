"""The demo's walk through purpose-bound access: accounts, cases, reads allowed and refused.

Every step goes through the same functions the CLI and the API use, so each leaves its
audit entry; the walk ends by verifying the chain.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from habeas.governance import audit
from habeas.governance.authz import AccessContext
from habeas.governance.cases_access import read_case
from habeas.governance.identity import AccessDenied, bootstrap_admin, create_user
from habeas.store.models import Case, User
from habeas.store.operational import session_factory, upgrade

DEMO_USERS = (
    ("demo_engineer", "integration_engineer"),
    ("demo_officer", "case_officer"),
    ("demo_counsel", "counsel"),
    ("demo_supervisor", "supervisor"),
    ("demo_field", "field_officer"),
    ("demo_custody", "custody_officer"),
)
DEMO_ENGINEER = AccessContext("demo_engineer", "integration_engineer", "identity_resolution")
"""The demo's ingest and resolution run as this account (their passwords are random and
never shown: the demo needs no login)."""


@dataclass(frozen=True)
class Walkthrough:
    """What happened, one line per step, and the audit verification at the end."""

    steps: list[str]
    verification: audit.Verification


def demo_accounts(engine: Engine) -> list[str]:
    """Migrate the store and create the demo accounts that are missing (admin first)."""
    upgrade(engine)
    steps: list[str] = []
    admin = AccessContext("demo_admin", "admin", "oversight")
    with session_factory(engine).begin() as s:
        if s.execute(select(User.id).limit(1)).first() is None:
            bootstrap_admin(s, "demo_admin", secrets.token_urlsafe(24))
            steps.append("bootstrap: first account demo_admin (admin)")
        for name, role in DEMO_USERS:
            if s.execute(select(User.id).where(User.username == name)).first() is None:
                create_user(s, admin, name, role, secrets.token_urlsafe(24))
                steps.append(f"admin created {name} ({role})")
    return steps


def walk(engine: Engine, person_ids: list[str]) -> Walkthrough:
    """Open two demo cases, then read them as different users for different purposes."""
    if len(person_ids) < 2:
        raise ValueError("the walkthrough needs two persons from the index")
    steps = demo_accounts(engine)
    sessions = session_factory(engine)
    admin = AccessContext("demo_admin", "admin", "oversight")
    with sessions.begin() as s:
        now = datetime.now(UTC).replace(tzinfo=None)
        mine = Case(person_id=person_ids[0], state="identified", note="",
                    counsel="demo_counsel", updated_at=now)  # fmt: skip
        other = Case(person_id=person_ids[1], state="identified", note="", updated_at=now)
        s.add_all([mine, other])
        s.flush()
        mine_id, other_id = mine.id, other.id
    attempts = [
        (AccessContext("demo_officer", "case_officer", "case_review"), mine_id),
        (AccessContext("demo_officer", "case_officer", "analytics"), mine_id),
        (admin, mine_id),
        (AccessContext("demo_counsel", "counsel", "redress", client=person_ids[0]), mine_id),
        (AccessContext("demo_counsel", "counsel", "redress", client=person_ids[0]), other_id),
    ]
    for ctx, case_id in attempts:
        who = f"{ctx.user} ({ctx.role}, purpose {ctx.purpose})"
        try:
            with sessions.begin() as s:
                read_case(s, ctx, case_id)
            steps.append(f"allowed: {who} read case {case_id}")
        except AccessDenied as exc:
            steps.append(f"refused: {who} on case {case_id}: {str(exc).split(': ', 1)[-1]}")
    return Walkthrough(steps, audit.verify(engine))
