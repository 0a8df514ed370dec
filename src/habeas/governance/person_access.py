"""Reading a person from the index, bound to a purpose and audited.

The user's role comes from the operational store; Cedar decides on the person and on
each record, so a record whose source does not declare the purpose is withheld (and
the answer says how many were). The read, or its refusal, is one audit entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, select

from habeas.errors import HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize, source_decisions
from habeas.governance.identity import AccessDenied
from habeas.resolve.person import PersonView, person_view
from habeas.store.models import User
from habeas.store.operational import current_revision, reading, session_factory
from habeas.store.staging import StagingStore


def context_for(
    engine: Engine,
    username: str | None,
    purpose: str | None,
    client: str = "",
    origin: str = "",
) -> AccessContext:
    """The access context of an account in the operational store, for a declared purpose.

    ``origin`` (e.g. ``cli:alice@host``) starts the request id, so every audit entry of
    this request says where it came from."""
    if not username or not purpose:
        raise HabeasError(
            "reading personal data needs --as USER (or HABEAS_USER) and --purpose PURPOSE"
        )
    if current_revision(engine) is None:
        raise HabeasError("the operational store is empty: run `habeas db upgrade` first")
    with session_factory(reading(engine))() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        raise HabeasError(f"no active account {username!r} in the operational store")
    request_id = f"{origin[:44]}:{uuid.uuid4().hex[:16]}" if origin else ""
    return AccessContext(username, user.role, purpose, client=client, request_id=request_id)


@dataclass(frozen=True)
class PersonRead:
    """What the user may see of the person, and how many records were withheld."""

    view: PersonView
    withheld: int


def read_person(
    engine: Engine, store: StagingStore, ctx: AccessContext, person_id: str
) -> PersonRead:
    """The person's records that this user may read for this purpose; audited either way.

    Cedar decides the person, and the records per source holding records about them
    (``source_decisions``: every record of one source shares its decision).
    """
    full = person_view(store, person_id)
    flags = sorted({f["flag"] for f in full.flags})
    person = Resource("Person", person_id, {"flags": flags})
    purposes = {r["source"]: list(r["source_purposes"] or []) for r in full.records}
    decision = authorize(ctx, "read", person)
    by_source = source_decisions(ctx, "read", purposes, person) if decision.allowed else {}
    shown = [r for r in full.records if decision.allowed and by_source[r["source"]].allowed]
    withheld = len(full.records) - len(shown)
    detail = decision.why()
    if decision.allowed and withheld:
        detail += (f"; {withheld} record(s) withheld: their sources do not declare purpose "
                   f"{ctx.purpose}")  # fmt: skip
    with engine.begin() as conn:
        audit.append(
            conn, user=ctx.user, role=ctx.role, purpose=ctx.purpose, action="read_person",
            resources=[f"person:{person_id}", *(f"record:{r['record_id']}" for r in shown)],
            decision="allow" if decision.allowed else "deny", detail=detail,
            request_id=ctx.request_id or None,
        )  # fmt: skip
    if not decision.allowed:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not read person {person_id}: "
            f"{decision.why()}"
        )
    shown_ids = {r["record_id"] for r in shown}
    flags_shown = [f for f in full.flags if set(f["record_ids"]) & shown_ids]
    return PersonRead(PersonView(person_id, shown, flags_shown, full.decisions), withheld)
