"""The field's reads of the operational store: where an account works, the office's teams
and cases, the addresses the index holds, the day's assignments and their outcomes.

Plain queries on a session; who may run them and what they may show is decided above
(``habeas.app.field``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from habeas.cases.flags import FLAGS
from habeas.field.confidence import AddressSeen
from habeas.store.models import (
    Assignment,
    Case,
    FieldMember,
    FieldOffice,
    FieldOutcome,
    FieldTeam,
    IndexFlag,
    IndexRecord,
    User,
)

CHUNK = 4000
"""Persons per query when reading addresses (a bound on the IN list)."""


def member(session: Session, username: str) -> FieldMember | None:
    """Where an account works (office, and team for a field officer), if anywhere."""
    return session.get(FieldMember, username)


def office_of(session: Session, username: str) -> FieldOffice | None:
    """The office an account works in."""
    m = member(session, username)
    return session.get(FieldOffice, m.office) if m else None


def team_of(session: Session, username: str) -> FieldTeam | None:
    """The team a field officer is on (a supervisor is on none)."""
    m = member(session, username)
    return session.get(FieldTeam, m.team) if m and m.team else None


def team(session: Session, code: str) -> FieldTeam | None:
    """A team by its code."""
    return session.get(FieldTeam, code)


def account(session: Session, username: str) -> User | None:
    """An account by its user name."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def teams(session: Session, office: str) -> list[FieldTeam]:
    """The office's teams, by code."""
    q = select(FieldTeam).where(FieldTeam.office == office).order_by(FieldTeam.code)
    return list(session.execute(q).scalars())


def addresses(
    session: Session, person_ids: Sequence[str], readable: ColumnElement[bool]
) -> dict[str, list[AddressSeen]]:
    """Each person's addresses from the records ``readable`` lets through."""
    out: dict[str, list[AddressSeen]] = {}
    has_address = (
        (IndexRecord.street.is_not(None))
        | (IndexRecord.zip.is_not(None))
        | (IndexRecord.lat.is_not(None))
    )
    cols = (
        IndexRecord.person_id,
        IndexRecord.record_id,
        IndexRecord.source,
        IndexRecord.street,
        IndexRecord.city,
        IndexRecord.state,
        IndexRecord.zip,
        IndexRecord.lat,
        IndexRecord.lon,
        IndexRecord.address_date,
    )
    for i in range(0, len(person_ids), CHUNK):
        part = person_ids[i : i + CHUNK]
        rows = session.execute(
            select(*cols).where(IndexRecord.person_id.in_(part), has_address, readable)
        ).all()
        for pid, rid, src, street, city, state, zip_, lat, lon, seen in rows:
            out.setdefault(pid, []).append(
                AddressSeen(rid, src, street, city, state, zip_, lat, lon, seen)
            )
    return out


def open_flags(session: Session, person_id: str | None = None) -> dict[str, list[str]]:
    """The open citizenship and lawful-status flags by person (one person's with
    ``person_id``), each as "flag: detail"."""
    q = select(IndexFlag.person_id, IndexFlag.flag, IndexFlag.detail).where(
        IndexFlag.status == "open", IndexFlag.flag.in_(FLAGS)
    )
    if person_id is not None:
        q = q.where(IndexFlag.person_id == person_id)
    out: dict[str, list[str]] = {}
    for pid, flag, detail in session.execute(q):
        out.setdefault(pid, []).append(f"{flag}: {detail}")
    return out


def plannable_cases(
    session: Session, states: Sequence[str], plannable: Sequence[str], tier: int | None
) -> list[Any]:
    """Cases in a plannable state whose person some record may place in ``states`` (a
    record without a state may, by its ZIP code): rows of id, person, state, counsel and
    tier, not whole cases (at 300k cases the difference is seconds)."""
    may_be_here = (
        select(IndexRecord.record_id)
        .where(
            IndexRecord.person_id == Case.person_id,
            func.upper(func.trim(func.coalesce(IndexRecord.state, ""))).in_([*states, ""]),
        )
        .exists()
    )
    q = select(Case.id, Case.person_id, Case.state, Case.counsel, Case.priority_tier).where(
        Case.state.in_(plannable), may_be_here
    )
    if tier is not None:
        q = q.where(Case.priority_tier == tier)
    return list(session.execute(q.order_by(Case.id)).all())


def not_located(session: Session, case_id: int | None = None) -> dict[int, int]:
    """Attempts that did not locate the person, by case (one case's with ``case_id``)."""
    q = select(FieldOutcome.case_id, func.count()).where(FieldOutcome.outcome == "not_located")
    if case_id is not None:
        q = q.where(FieldOutcome.case_id == case_id)
    return dict(session.execute(q.group_by(FieldOutcome.case_id)).all())


def open_assignments(session: Session, team: str, day: date) -> list[Assignment]:
    """A team's open assignments for a day, oldest first."""
    q = (
        select(Assignment)
        .where(Assignment.team == team, Assignment.day == day, Assignment.status == "open")
        .order_by(Assignment.id)
    )
    return list(session.execute(q).scalars())


def office_assignments(
    session: Session, office: str, day: date, team: str | None = None
) -> list[Assignment]:
    """An office's assignments for a day (one team's with ``team``), in route order."""
    q = (
        select(Assignment)
        .join(FieldTeam, FieldTeam.code == Assignment.team)
        .where(FieldTeam.office == office, Assignment.day == day)
    )
    if team:
        q = q.where(Assignment.team == team)
    q = q.order_by(Assignment.team, Assignment.route_seq, Assignment.id)
    return list(session.execute(q).scalars())


def team_day(session: Session, team: str, day: date) -> list[Assignment]:
    """A team's assignments for a day: open ones in route order, then the rest."""
    q = (
        select(Assignment)
        .where(Assignment.team == team, Assignment.day == day)
        .order_by(Assignment.status != "open", Assignment.route_seq, Assignment.id)
    )
    return list(session.execute(q).scalars())


def cases_by_id(session: Session, ids: Sequence[int]) -> dict[int, Case]:
    """Cases by id."""
    return {c.id: c for c in session.execute(select(Case).where(Case.id.in_(ids))).scalars()}


def subject_outcomes(session: Session, assignment_ids: Sequence[int]) -> dict[int, str]:
    """The outcome recorded about the subject, by assignment."""
    q = select(FieldOutcome.assignment_id, FieldOutcome.outcome).where(
        FieldOutcome.assignment_id.in_(assignment_ids), FieldOutcome.subject.is_(True)
    )
    return dict(session.execute(q).all())


def names_and_births(
    session: Session, person_id: str, readable: ColumnElement[bool]
) -> list[tuple[str | None, str | None]]:
    """The names and dates of birth of a person's records ``readable`` lets through."""
    q = select(IndexRecord.name, IndexRecord.dob).where(
        IndexRecord.person_id == person_id, readable
    )
    return list(session.execute(q).all())
