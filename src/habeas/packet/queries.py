"""Reads the packets' use cases make: the productions about a person, the cases an account
is recorded as counsel on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.store.models import Case, PacketProduction


def productions_of(session: Session, person_id: str) -> list[PacketProduction]:
    """The packets about a person given out, oldest first."""
    q = (
        select(PacketProduction)
        .where(PacketProduction.person_id == person_id)
        .order_by(PacketProduction.id)
    )
    return list(session.execute(q).scalars())


def counselled_cases(session: Session, username: str) -> list[Case]:
    """The cases whose row names ``username`` as counsel (callers check the seal)."""
    q = select(Case).where(Case.counsel == username).order_by(Case.person_id, Case.id)
    return list(session.execute(q).scalars())
