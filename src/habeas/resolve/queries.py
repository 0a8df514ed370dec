"""Reads of the person index as published into the operational store: runs, a person's
records and flags, reviewers' decisions, the review queue, and the lookups search makes.

Plain queries on a session; which records a caller may see is passed in as a clause
(``readable``) decided above, by Cedar (``habeas.app.index``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from habeas.store.models import IndexDecision, IndexFlag, IndexRecord, IndexReview, IndexRun

Readable = Callable[[Any, Any], ColumnElement[bool]]
"""Given a record's source and version columns: the clause of the records a caller may
act on (``Grants.clause``)."""


def latest_run(session: Session) -> IndexRun | None:
    """The last run published, if any."""
    q = select(IndexRun).order_by(IndexRun.published_at.desc()).limit(1)
    return session.execute(q).scalar_one_or_none()


def person_records(session: Session, person_id: str) -> list[IndexRecord]:
    """A person's records, by source and natural key."""
    q = (
        select(IndexRecord)
        .where(IndexRecord.person_id == person_id)
        .order_by(IndexRecord.source, IndexRecord.source_key)
    )
    return list(session.execute(q).scalars())


def person_record_ids(session: Session, person_id: str) -> list[str]:
    """The ids of a person's records."""
    q = select(IndexRecord.record_id).where(IndexRecord.person_id == person_id)
    return list(session.execute(q).scalars())


def person_flags(session: Session, person_id: str) -> list[IndexFlag]:
    """A person's flags, by kind."""
    q = select(IndexFlag).where(IndexFlag.person_id == person_id).order_by(IndexFlag.flag)
    return list(session.execute(q).scalars())


def records_by_id(session: Session, record_ids: Iterable[str]) -> dict[str, IndexRecord]:
    """Records by id (the ones that exist)."""
    q = select(IndexRecord).where(IndexRecord.record_id.in_(list(record_ids)))
    return {r.record_id: r for r in session.execute(q).scalars()}


def decisions_on(session: Session, record_ids: set[str]) -> list[IndexDecision]:
    """Reviewers' decisions naming any of the records, oldest first."""
    if not record_ids:
        return []
    q = (
        select(IndexDecision)
        .where(or_(*(IndexDecision.record_ids.contains(f'"{r}"') for r in record_ids)))
        .order_by(IndexDecision.decision_id)
    )
    return [d for d in session.execute(q).scalars() if record_ids & set(json.loads(d.record_ids))]


def pair_decision(session: Session, left: str, right: str) -> IndexDecision | None:
    """The latest reviewer's decision on a pair, if any."""
    lo, hi = sorted((left, right))
    q = (
        select(IndexDecision)
        .where(IndexDecision.kind == "pair", IndexDecision.record_ids == json.dumps([lo, hi]))
        .order_by(IndexDecision.decision_id.desc())
    )
    for d in session.execute(q).scalars():
        if json.loads(d.record_ids) == [lo, hi]:
            return d
    return None


def review_pairs(
    session: Session, readable: Readable, limit: int, offset: int
) -> tuple[int, list[Any]]:
    """The pairs waiting for review whose two records are readable, the decisions that
    would change most first: the total, and one page of (pair, sources, names, dates)."""
    left = IndexRecord.__table__.alias("l")
    right = IndexRecord.__table__.alias("r")
    q = (
        select(
            IndexReview,
            left.c.source,
            right.c.source,
            left.c.name,
            right.c.name,
            left.c.dob,
            right.c.dob,
        )
        .join(left, left.c.record_id == IndexReview.record_id_l)
        .join(right, right.c.record_id == IndexReview.record_id_r)
        .where(
            readable(left.c.source, left.c.source_version),
            readable(right.c.source, right.c.source_version),
        )
    )
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(
        q.order_by(
            IndexReview.priority.desc().nulls_last(),
            IndexReview.record_id_l,
            IndexReview.record_id_r,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


def _persons(
    session: Session, readable: ColumnElement[bool], condition: ColumnElement[bool], cap: int
) -> list[str]:
    q = select(IndexRecord.person_id).where(readable).distinct().where(condition).limit(cap)
    return list(session.execute(q).scalars())


def persons_by_identifier(
    session: Session,
    readable: ColumnElement[bool],
    record_id: str,
    value: str,
    kinds: frozenset[str],
    cap: int,
) -> list[str]:
    """Persons with a record of this id, or with ``value`` as an identifier of one of
    ``kinds`` (no other kind is looked at)."""
    columns = {
        "a_number": IndexRecord.a_number,
        "ssn": IndexRecord.ssn,
        "passport_number": IndexRecord.passport_number,
    }
    conds = [col == value for kind, col in columns.items() if kind in kinds]
    return _persons(session, readable, or_(IndexRecord.record_id == record_id, *conds), cap)


def persons_by_name_key(
    session: Session, readable: ColumnElement[bool], key: str, cap: int
) -> list[str]:
    """Persons with a record of this whole name (its key)."""
    return _persons(session, readable, IndexRecord.name_key == key, cap)


def persons_by_family(
    session: Session, readable: ColumnElement[bool], families: set[str], cap: int
) -> list[str]:
    """Persons with a record whose family name is one of these (or starts one: compound
    surnames)."""
    cond = or_(
        IndexRecord.family_key.in_(families),
        *(IndexRecord.family_key.like(f"{w} %") for w in families),
    )
    return _persons(session, readable, cond, cap)


def persons_by_birth(
    session: Session, readable: ColumnElement[bool], dob: str, among: Sequence[str], cap: int
) -> list[str]:
    """Persons with a record born on this day, or known only to its month or year (among
    ``among`` when it names any)."""
    cond: ColumnElement[bool] = IndexRecord.dob.in_([dob, dob[:7], dob[:4]])
    if among:
        cond = cond & IndexRecord.person_id.in_(list(among))
    return _persons(session, readable, cond, cap)


def names_and_births(
    session: Session, readable: ColumnElement[bool], person_ids: Sequence[str]
) -> list[tuple[str, str, str | None]]:
    """(person, name, date of birth) of the readable records of these persons."""
    q = select(IndexRecord.person_id, IndexRecord.name, IndexRecord.dob).where(
        IndexRecord.person_id.in_(list(person_ids)), readable
    )
    return list(session.execute(q).all())
