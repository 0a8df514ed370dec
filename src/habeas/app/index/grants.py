"""Who may see what of the index: the (source, version) pairs a caller may act on, records
as they may see them, and the refusals (which never say whether a person exists)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.orm import Session

from habeas.app.index.schemas import RecordOut
from habeas.cases.access import sealed_counsel
from habeas.errors import AccessDenied, HabeasError, NotFound
from habeas.governance.authz import AccessContext, Resource, authorize, source_decisions
from habeas.governance.disclosure import mask
from habeas.resolve import queries
from habeas.store.models import Case, IndexRecord, IndexRun, IndexSource

MAX_PAGE = 500


def check_page(limit: int, offset: int) -> None:
    """Refuse a page size or offset out of bounds."""
    if not 1 <= limit <= MAX_PAGE:
        raise HabeasError(f"limit must be 1 to {MAX_PAGE}, not {limit}")
    if offset < 0:
        raise HabeasError(f"offset must be 0 or more, not {offset}")


def entry(
    ctx: AccessContext, action: str, resources: list[str], allowed: bool, detail: str
) -> dict[str, Any]:
    """The audit entry of a decision on the index."""
    return {
        "user": ctx.user,
        "role": ctx.role,
        "purpose": ctx.purpose,
        "action": action,
        "resources": resources,
        "decision": "allow" if allowed else "deny",
        "detail": detail,
        "request_id": ctx.request_id or None,
    }


def refuse(ctx: AccessContext, action: str, resources: list[str], why: str) -> AccessDenied:
    """A refusal (403) carrying its audit entry."""
    return AccessDenied(
        f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {why}",
        entry(ctx, action, resources, False, why),
        why,
    )


def not_found(
    ctx: AccessContext, action: str, resources: list[str], what: str, why: str
) -> NotFound:
    """Not found — said the same way whether the thing is missing or withheld; the audit
    entry keeps the real reason."""
    exc = NotFound(f"no {what}", entry=entry(ctx, action, resources, False, why))
    return exc


def record_out(r: IndexRecord, authority: str, whole: frozenset[str]) -> RecordOut:
    """A stored record as the caller may see it (identifiers masked as decided)."""

    def shown(kind: str, value: str | None) -> str | None:
        return value if kind in whole else mask(value)

    return RecordOut(
        record_id=r.record_id,
        person_id=r.person_id,
        source=r.source,
        source_key=r.source_key,  # its identifier parts are masked at the exit (disclosure)
        batch_id=r.batch_id,
        file_sha256=r.file_sha256,
        row_number=r.row_number,
        legal_authority=authority,
        name=r.name,
        dob=r.dob,
        a_number=shown("a_number", r.a_number),
        ssn=shown("ssn", r.ssn),
        passport_number=shown("passport_number", r.passport_number),
        zip=r.zip,
        linked_via=r.linked_via,
        match_probability=r.match_probability,
        match_weight=r.match_weight,
        how=r.how,
        run_id=r.run_id,
    )


@dataclass(frozen=True)
class Grants:
    """The (source, declaration version) pairs whose records a caller may act on: records
    keep the purposes of the version they were ingested under (narrowed by the version in
    force), so two records of one source may be read for different purposes."""

    pairs: frozenset[tuple[str, int]]

    def __call__(self, r: IndexRecord) -> bool:
        """Whether this record may be acted on."""
        return (r.source, r.source_version or 1) in self.pairs

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def names(self) -> list[str]:
        """The sources some of whose records may be acted on."""
        return sorted({n for n, _ in self.pairs})

    def clause(self, source: Any, version: Any) -> Any:
        """SQL: the record (its source and version columns) is one the caller may act on."""
        by_source: dict[str, list[int]] = {}
        for n, v in sorted(self.pairs):
            by_source.setdefault(n, []).append(v)
        if not by_source:
            return false()
        return or_(*(and_(source == n, version.in_(vs)) for n, vs in by_source.items()))


def version_purposes(src: IndexSource) -> dict[int, list[str]]:
    """A published source's purposes per declaration version (an index published before
    versions were recorded holds one version, 1)."""
    if src.version_purposes:
        return {int(v): list(p) for v, p in json.loads(src.version_purposes).items()}
    return {1: list(json.loads(src.purposes))}


def grants(
    ctx: AccessContext,
    action: str,
    sources: dict[str, IndexSource],
    person: Resource | None = None,
) -> Grants:
    """Which sources' records, by declaration version, this caller may ``action`` for this
    purpose (one Cedar decision per source and version); about ``person`` when given (a
    policy may read who the records are about), else about anyone."""
    keyed: dict[str, list[str]] = {}
    pair_of: dict[str, tuple[str, int]] = {}
    for name, src in sources.items():
        for version, purposes in version_purposes(src).items():
            key = f"{name}@v{version}"
            keyed[key], pair_of[key] = purposes, (name, version)
    subject = person or Resource("Person", "*", {"flags": []})
    decided = source_decisions(ctx, action, keyed, subject)
    return Grants(frozenset(pair_of[k] for k, d in decided.items() if d.allowed))


def latest_run(session: Session) -> IndexRun:
    """The last run published (refused when there is none yet)."""
    run = queries.latest_run(session)
    if run is None:
        raise NotFound("no person index published yet: run `habeas resolve`")
    return run


def person_allowed(ctx: AccessContext, action: str, resources: list[str]) -> None:
    """Refuse (403) a caller the policies let read no person for this purpose."""
    general = authorize(ctx, "read", Resource("Person", "*", {"flags": []}))
    if not general.allowed:
        raise refuse(ctx, action, resources, general.why())


def some_records(
    ctx: AccessContext, action: str, resources: list[str], sources: dict[str, IndexSource]
) -> Grants:
    """The sources (by version) whose records this caller may read for this purpose;
    refused (403) when there is none, whatever is asked for."""
    allowed = grants(ctx, "read", sources)
    if not allowed:
        raise refuse(
            ctx, action, resources, "no source's records may be read by this role for this purpose"
        )
    return allowed


def person_resource(s: Session, person_id: str, cases: list[Case]) -> Resource:
    """The Cedar view of a person: their open flags' kinds and the counsel its cases'
    sealed rows name."""
    flags = sorted({f.flag for f in queries.person_flags(s, person_id)})
    counsel = sorted({sealed_counsel(c) for c in cases} - {""})
    return Resource("Person", person_id, {"flags": flags, "counsel": counsel})
