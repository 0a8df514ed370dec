"""Reading a person from the index, bound to a purpose and audited.

The user's role comes from the operational store; Cedar decides on the person and on
each record, so a record whose source does not declare the purpose is withheld (and
the answer says how many were). The read, or its refusal, is one audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, select

from habeas.errors import HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize, authorize_batch
from habeas.governance.identity import AccessDenied
from habeas.resolve.person import PersonView, person_view
from habeas.store.models import User
from habeas.store.operational import current_revision, session_factory
from habeas.store.staging import StagingStore


def context_for(
    engine: Engine, username: str | None, purpose: str | None, client: str = ""
) -> AccessContext:
    """The access context of an account in the operational store, for a declared purpose."""
    if not username or not purpose:
        raise HabeasError(
            "reading personal data needs --as USER (or HABEAS_USER) and --purpose PURPOSE"
        )
    if current_revision(engine) is None:
        raise HabeasError("the operational store is empty: run `habeas db upgrade` first")
    with session_factory(engine)() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        raise HabeasError(f"no active account {username!r} in the operational store")
    return AccessContext(username, user.role, purpose, client=client)


@dataclass(frozen=True)
class PersonRead:
    """What the user may see of the person, and how many records were withheld."""

    view: PersonView
    withheld: int


def _source_purposes(store: StagingStore) -> dict[str, list[str]]:
    return {
        name: list(json.loads(decl).get("purposes", []))
        for name, decl in store.rows("SELECT name, declaration FROM sources")
    }


def read_person(
    engine: Engine, store: StagingStore, ctx: AccessContext, person_id: str
) -> PersonRead:
    """The person's records that this user may read for this purpose; audited either way."""
    full = person_view(store, person_id)
    flags = sorted({f["flag"] for f in full.flags})
    decision = authorize(ctx, "read", Resource("Person", person_id, {"flags": flags}))
    sessions = session_factory(engine)
    if not decision.allowed:
        with sessions.begin() as s:
            audit.append(
                s,
                user=ctx.user,
                role=ctx.role,
                purpose=ctx.purpose,
                action="read_person",
                resources=[f"person:{person_id}"],
                decision="deny",
                detail=decision.why(),
                request_id=ctx.request_id or None,
            )
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not read person {person_id}: "
            f"{decision.why()}"
        )
    purposes = _source_purposes(store)
    person_ref = {"type": "Habeas::Person", "id": person_id}
    items = []
    for r in full.records:
        src = {"type": "Habeas::Source", "id": r["source"]}
        items.append(
            Resource(
                "Record",
                r["record_id"],
                {"source": {"__entity": src}, "person": {"__entity": person_ref}},
                (
                    {
                        "uid": src,
                        "attrs": {"purposes": purposes.get(r["source"], [])},
                        "parents": [],
                    },
                    {"uid": person_ref, "attrs": {"flags": flags}, "parents": []},
                ),
            )
        )
    allowed = [d.allowed for d in authorize_batch(ctx, "read", items)]
    shown = [r for r, ok in zip(full.records, allowed, strict=True) if ok]
    withheld = len(full.records) - len(shown)
    with sessions.begin() as s:
        audit.append(
            s, user=ctx.user, role=ctx.role, purpose=ctx.purpose, action="read_person",
            resources=[f"person:{person_id}", *(f"record:{r['record_id']}" for r in shown)],
            decision="allow",
            detail=decision.why() + (f"; {withheld} record(s) withheld: their sources do "
                                     f"not declare purpose {ctx.purpose}" if withheld else ""),
            request_id=ctx.request_id or None,
        )  # fmt: skip
    shown_ids = {r["record_id"] for r in shown}
    flags_shown = [f for f in full.flags if set(f["record_ids"]) & shown_ids]
    return PersonRead(PersonView(person_id, shown, flags_shown, full.decisions), withheld)
