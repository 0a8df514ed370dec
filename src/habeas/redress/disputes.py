"""Disputes, corrections, notices and redirects in the operational store.

A dispute names what it is about (a record, a link ``L~R`` or a flag of the person) and
the records behind it; its clocks are set when it arrives. Every row that decides
something is sealed with the history key, so a row edited outside habeas shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from habeas.errors import HabeasError, NotFound
from habeas.redress.clocks import clocks_for
from habeas.redress.rules import MAX_DOCUMENT_BYTES, TARGET_KINDS
from habeas.store.keys import key_for, seal
from habeas.store.models import (
    CorrectionNotice,
    Dispute,
    DisputeDocument,
    IndexFlag,
    IndexRecord,
    PacketProduction,
    PersonRedirect,
    RecordCorrection,
)

MAX_DOCUMENTS = 10


def dispute_seal(key: bytes, d: Dispute) -> str:
    """The seal of a dispute row as it stands."""
    return seal(
        key,
        d.id,
        d.person_id,
        d.target_kind,
        d.target,
        d.record_ids,
        d.field,
        d.claimed_value,
        d.reason,
        d.documents,
        d.opened_by,
        d.opened_role,
        d.opened_at.isoformat(),
        d.acknowledge_by.isoformat(),
        d.decide_by.isoformat(),
        d.acknowledged_by,
        d.decided_by,
        d.decision,
        d.decision_reason,
        d.outcome,
        d.statement,
        d.statement_by,
    )


def reseal(s: Session, d: Dispute) -> None:
    """Seal the dispute as it now stands (after habeas changed it)."""
    s.flush()
    d.seal = dispute_seal(key_for(s.connection()), d)


def sealed(s: Session, d: Dispute) -> bool:
    """True when the row carries its seal."""
    return d.seal == dispute_seal(key_for(s.connection()), d)


def target_records(s: Session, person_id: str, kind: str, target: str) -> list[str]:
    """The records a dispute on ``target`` is about; refuses a target that is not the
    person's."""
    if kind not in TARGET_KINDS:
        raise HabeasError(f"a dispute is on a {', '.join(TARGET_KINDS)}, not {kind[:20]!r}")
    target = (target or "").strip()
    if not target or len(target) > 160:
        raise HabeasError(f"a dispute on a {kind} names it (1 to 160 characters)")
    if kind == "flag":
        if not target.isdigit() or len(target) > 9:
            raise HabeasError(f"flag {target[:20]!r}: a flag is named by its number")
        flag = s.get(IndexFlag, int(target))
        if flag is None or flag.person_id != person_id:
            raise NotFound(f"no flag {target} on person {person_id}")
        return sorted(json.loads(flag.record_ids))
    ids = target.split("~") if kind == "link" else [target]
    if kind == "link" and (len(ids) != 2 or ids[0] == ids[1]):
        raise HabeasError("a link is named by its two records, as LEFT~RIGHT")
    rows = s.execute(
        select(IndexRecord.record_id, IndexRecord.person_id).where(IndexRecord.record_id.in_(ids))
    ).all()
    mine = {r for r, p in rows if p == person_id}
    missing = [r for r in ids if r not in mine]
    if missing:
        raise NotFound(f"no record {missing[0][:64]} of person {person_id}")
    return sorted(ids)


def open_dispute(
    s: Session,
    *,
    person_id: str,
    kind: str,
    target: str,
    record_ids: list[str],
    field: str | None,
    claimed_value: str | None,
    reason: str,
    documents: list[tuple[str, bytes]],
    user: str,
    role: str,
    now: datetime,
    today: date,
) -> Dispute:
    """Store a new dispute with its clocks and its documents."""
    if len(documents) > MAX_DOCUMENTS:
        raise HabeasError(f"at most {MAX_DOCUMENTS} documents with a dispute")
    named = []
    for name, content in documents:
        if len(content) > MAX_DOCUMENT_BYTES:
            raise HabeasError(f"document {name[:60]!r} is over {MAX_DOCUMENT_BYTES:,} bytes")
        named.append((name.strip()[:200] or "document", content))
    clocks = clocks_for(today)
    d = Dispute(
        person_id=person_id,
        target_kind=kind,
        target=target,
        record_ids=json.dumps(record_ids),
        field=field,
        claimed_value=claimed_value,
        reason=reason,
        documents=json.dumps(
            [{"name": n, "sha256": hashlib.sha256(c).hexdigest()} for n, c in named]
        ),
        opened_by=user,
        opened_role=role,
        opened_at=now,
        acknowledge_by=clocks.acknowledge_by,
        decide_by=clocks.decide_by,
        seal="",
    )
    s.add(d)
    s.flush()
    for n, c in named:
        s.add(
            DisputeDocument(
                dispute_id=d.id, name=n, sha256=hashlib.sha256(c).hexdigest(), content=c
            )
        )
    reseal(s, d)
    return d


def get_dispute(s: Session, dispute_id: int) -> Dispute:
    """A dispute by number, or NotFound."""
    d = s.get(Dispute, dispute_id) if 0 < dispute_id < 2**31 else None
    if d is None:
        raise NotFound(f"no dispute {dispute_id}")
    return d


def disputes(s: Session, person_id: str | None = None, open_only: bool = False) -> list[Dispute]:
    """Disputes (of a person), oldest first; ``open_only``: not yet decided."""
    q = select(Dispute).order_by(Dispute.id)
    if person_id is not None:
        q = q.where(Dispute.person_id == person_id)
    if open_only:
        q = q.where(Dispute.decided_at.is_(None))
    return list(s.execute(q).scalars())


def _naming(column: Any, record_ids: Iterable[str]) -> list[Any]:
    """Conditions, one per chunk of records, for a JSON list column naming any of them
    (a prefilter; callers check the parsed list)."""
    ids = sorted(set(record_ids))
    return [
        or_(*(column.contains(json.dumps(r)) for r in ids[i : i + 200]))
        for i in range(0, len(ids), 200)
    ]


def disputes_on_records(s: Session, record_ids: Iterable[str]) -> list[Dispute]:
    """Disputes about any of these records (a record's statement travels with it)."""
    wanted = set(record_ids)
    found: dict[int, Dispute] = {}
    for cond in _naming(Dispute.record_ids, wanted):
        for d in s.execute(select(Dispute).where(cond)).scalars():
            if wanted & set(json.loads(d.record_ids)):
                found[d.id] = d
    return [found[k] for k in sorted(found)]


def add_correction(
    s: Session,
    *,
    dispute_id: int,
    record_id: str,
    field: str,
    old: str | None,
    new: str | None,
    evidence: str,
    user: str,
    role: str,
    now: datetime,
) -> RecordCorrection:
    """Store a correction beside the value it supersedes, sealed; ``run_id`` is set once
    the re-link has run."""
    c = RecordCorrection(
        dispute_id=dispute_id,
        record_id=record_id,
        field=field,
        old_value=old,
        new_value=new,
        evidence=evidence,
        corrected_by=user,
        role=role,
        corrected_at=now,
        run_id="",
        seal="",
    )
    s.add(c)
    s.flush()
    return c


def seal_correction(s: Session, c: RecordCorrection) -> None:
    """Seal a correction as it stands."""
    c.seal = seal(
        key_for(s.connection()),
        c.id,
        c.dispute_id,
        c.record_id,
        c.field,
        c.old_value,
        c.new_value,
        c.evidence,
        c.corrected_by,
        c.corrected_at.isoformat(),
        c.run_id,
    )


def corrections_of(s: Session, record_ids: Iterable[str]) -> list[RecordCorrection]:
    """Corrections of these records, oldest first."""
    ids = sorted(set(record_ids))
    if not ids:
        return []
    q = select(RecordCorrection).where(RecordCorrection.record_id.in_(ids))
    return list(s.execute(q.order_by(RecordCorrection.id)).scalars())


def earlier_recipients(s: Session, record_ids: Iterable[str]) -> list[PacketProduction]:
    """Productions that carried any of these records (the accounting of disclosures)."""
    wanted = set(record_ids)
    found: dict[int, PacketProduction] = {}
    for cond in _naming(PacketProduction.record_ids, wanted):
        for p in s.execute(select(PacketProduction).where(cond)).scalars():
            if wanted & set(json.loads(p.record_ids or "[]")):
                found[p.id] = p
    return [found[k] for k in sorted(found)]


def notify(
    s: Session, dispute_id: int, productions: list[PacketProduction], detail: str, now: datetime
) -> list[CorrectionNotice]:
    """One notice per earlier production of the record."""
    out = []
    for p in productions:
        n = CorrectionNotice(
            dispute_id=dispute_id,
            production_id=p.id,
            person_id=p.person_id,
            recipient=p.recipient,
            notified_at=now,
            detail=detail[:2000],
        )
        s.add(n)
        out.append(n)
    s.flush()
    return out


def notices_of(s: Session, dispute_id: int) -> list[CorrectionNotice]:
    """The notices a dispute's decision sent."""
    q = select(CorrectionNotice).where(CorrectionNotice.dispute_id == dispute_id)
    return list(s.execute(q.order_by(CorrectionNotice.id)).scalars())


def add_redirects(
    s: Session, moved: list[tuple[str, str, int]], cause: str, reason: str, now: datetime
) -> list[PersonRedirect]:
    """Record where the records of a person went (old id → new id, how many)."""
    out = [
        PersonRedirect(
            old_person_id=a, new_person_id=b, records=n, cause=cause[:64], reason=reason, at=now
        )
        for a, b, n in moved
    ]
    s.add_all(out)
    s.flush()
    return out


def redirects_from(s: Session, person_id: str) -> list[PersonRedirect]:
    """Where records of ``person_id`` went, oldest first."""
    q = select(PersonRedirect).where(PersonRedirect.old_person_id == person_id)
    return list(s.execute(q.order_by(PersonRedirect.id)).scalars())
