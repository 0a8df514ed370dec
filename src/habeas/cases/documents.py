"""Documents on a case: attached (their SHA-256 recorded), verified by a supervisor against
the issuing court and docket (sealed), and read back."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from habeas.cases.access import case_resource
from habeas.cases.common import audit_case, denied, get_case, utc_now
from habeas.cases.lifecycle import Event
from habeas.errors import HabeasError, NotFound
from habeas.governance.authz import AccessContext, authorize
from habeas.store.keys import key_for, seal
from habeas.store.models import CaseDocument

ATTACHED = text("SELECT 1 FROM case_documents WHERE case_id = :case AND sha256 = :sha")


MAX_DOCUMENT = 10 * 1024 * 1024
"""The largest document a case keeps (bytes)."""


def attach_document(
    session: Session, ctx: AccessContext, case_id: int, name: str, content: bytes
) -> tuple[str, bool]:
    """Keep a document on the case, whole (an order, a decision, a signed form), so that
    a step may cite it by its SHA-256 and counsel and the court can read exactly what was
    cited. Returns the hash and whether it was new (attaching it again changes nothing)."""
    import hashlib

    case = get_case(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="attach_document")
    if not decision.allowed:
        raise denied(
            session,
            ctx,
            "case_attach_document",
            case,
            f"attach a document to case {case_id}",
            decision.why(),
        )
    clean = name.strip()
    if not clean or len(clean) > 200 or any(ord(ch) < 32 for ch in clean):
        raise HabeasError("a document's name is 1 to 200 printable characters")
    if not content:
        raise HabeasError(f"document {clean!r} is empty")
    if len(content) > MAX_DOCUMENT:
        raise HabeasError(
            f"document {clean!r} is {len(content):,} bytes; a case keeps "
            f"documents of {MAX_DOCUMENT:,} bytes at most"
        )
    digest = hashlib.sha256(content).hexdigest()
    if session.get(CaseDocument, (case_id, digest)) is not None:
        return digest, False
    session.add(
        CaseDocument(
            case_id=case_id,
            sha256=digest,
            name=clean,
            size=len(content),
            content=content,
            added_by=ctx.user,
            added_at=utc_now(),
        )
    )
    session.flush()
    audit_case(
        session,
        ctx,
        "case_attach_document",
        case,
        True,
        f"document {clean!r}, {len(content):,} bytes",
        [f"document:{digest}"],
    )
    return digest, True


ISSUERS: tuple[str, ...] = ("agency", "immigration_judge", "bia", "federal_court")
"""Who a verified document can be from (``agency``: an order the agency itself issues, a
reinstatement or an expedited removal order, checked against its file): a court's act
citing it takes this one as its authority, so an agency's paper never outranks a court."""


_DOCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./#:_()-]{2,63}")


def verification_seal(
    key: bytes,
    case_id: int,
    sha256: str,
    issuer: str,
    docket: str,
    verified_by: str,
    verified_at: datetime,
) -> str:
    """The seal of a document's verification (a verifier written in by hand lacks it)."""
    return seal(
        key,
        "document_verified",
        case_id,
        sha256,
        issuer,
        docket,
        verified_by,
        verified_at.strftime("%Y-%m-%d %H:%M:%S"),
    )


def verify_document(
    session: Session, ctx: AccessContext, case_id: int, sha256: str, issuer: str, docket: str
) -> Any:
    """A second person vouches that a document attached to the case is the court's act it
    says it is: a supervisor who did not attach it checks it against the court's docket
    and records the issuing court and the docket reference (audited, sealed). Only then
    may a court's act cite it, and it takes this court as its authority."""

    case = get_case(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="verify_document")
    if not decision.allowed:
        raise denied(
            session,
            ctx,
            "case_verify_document",
            case,
            f"verify a document on case {case_id}",
            decision.why(),
        )
    if issuer not in ISSUERS:
        raise HabeasError(f"issuer must be one of {', '.join(ISSUERS)}, not {issuer[:40]!r}")
    docket = docket.strip()
    if not _DOCKET.fullmatch(docket):
        raise HabeasError(
            "the docket reference is 3 to 64 letters, digits and . / # : _ ( ) -, "
            "as the court's docket shows it"
        )
    doc = session.get(CaseDocument, (case_id, sha256))
    if doc is None:
        raise NotFound(f"no document {sha256[:64]!r} on case {case_id}")
    if doc.added_by == ctx.user:
        why = (
            "the person who attached a document does not verify it: a second person "
            "checks it against the docket"
        )
        raise denied(
            session, ctx, "case_verify_document", case, f"verify document {sha256[:16]}…", why
        )
    if doc.verified_by is not None:
        on = f"{doc.verified_at:%Y-%m-%d}" if doc.verified_at else "?"
        raise HabeasError(
            f"document {sha256[:16]}… was verified by {doc.verified_by} on {on} "
            f"(docket {doc.docket_reference})"
        )
    at = utc_now().replace(microsecond=0)
    doc.issuer, doc.docket_reference, doc.verified_by, doc.verified_at = (
        issuer,
        docket,
        ctx.user,
        at,
    )
    doc.verification_seal = verification_seal(
        key_for(session.connection()), case_id, sha256, issuer, docket, ctx.user, at
    )
    session.flush()
    audit_case(
        session,
        ctx,
        "case_verify_document",
        case,
        True,
        f"document {doc.name!r} verified as {issuer}'s against docket {docket}",
        [f"document:{sha256}"],
    )
    return doc


_VERIFIED = text(
    """SELECT added_by, issuer, docket_reference, verified_by, verified_at, verification_seal
       FROM case_documents WHERE case_id = :case AND sha256 = :sha"""
)


def verified_issuer(conn: Any, case_id: int, event: Event) -> tuple[str | None, str]:
    """For a court's act that cites a document and no court record: the court the document
    was verified as (None when it was not, or its verification lacks its seal), and what
    to say about it."""
    import hmac

    if not type(event).court_fact or event.basis.strip() or not event.document_sha256:
        return None, ""
    row = conn.execute(_VERIFIED, {"case": case_id, "sha": event.document_sha256}).one_or_none()
    if row is None:
        return None, ""  # not attached: evidence_problems says so
    if row.verified_by is None:
        return None, (
            f"document {event.document_sha256[:16]}… is cited as a court's act, but "
            "nobody has verified it against the court's docket: a supervisor who did "
            "not attach it verifies it first (cases verify-document, with the docket "
            "reference); a text an officer attached is not a court's act"
        )
    at = (
        row.verified_at
        if isinstance(row.verified_at, datetime)
        else datetime.fromisoformat(str(row.verified_at))
    )
    expected = verification_seal(
        key_for(conn),
        case_id,
        event.document_sha256,
        row.issuer,
        row.docket_reference,
        row.verified_by,
        at,
    )
    if row.verification_seal is None or not hmac.compare_digest(expected, row.verification_seal):
        return None, (
            f"the verification of document {event.document_sha256[:16]}… does not "
            "carry its seal (written outside habeas): it is not believed"
        )
    return str(row.issuer), ""


def read_document(session: Session, ctx: AccessContext, case_id: int, sha256: str) -> Any:
    """A document attached to the case, for a reader of the case (audited read)."""

    case = get_case(session, case_id)
    decision = authorize(ctx, "read", case_resource(case))
    if not decision.allowed:
        raise denied(
            session,
            ctx,
            "read_case_document",
            case,
            f"read case {case_id}",
            decision.why(),
            [f"document:{sha256[:64]}"],
        )
    audit_case(
        session, ctx, "read_case_document", case, True, decision.why(), [f"document:{sha256[:64]}"]
    )
    doc = session.get(CaseDocument, (case_id, sha256))
    if doc is None:
        raise NotFound(f"no document {sha256[:64]!r} on case {case_id}")
    return doc
