"""The person index as people read it: persons, search, records, explanations and the
review of links. Reads come from the index published into the operational store, so they
never wait on a resolution run; reviewers' decisions are written to the batch engine,
where the next run applies them.

Every read is decided by Cedar (the person, then each source's records) and is one audit
entry naming what was shown. A refusal never says whether the person exists: a caller
the policies let read persons for the purpose gets "not found" for a person they may not
see, exactly as for one who does not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from habeas.errors import HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import (
    IDENTIFIERS,
    AccessContext,
    Resource,
    authorize,
    source_decisions,
    whole_identifiers,
)
from habeas.governance.disclosure import facade, mask, normalized
from habeas.governance.identity import AccessDenied
from habeas.resolve.explain import explain_features
from habeas.resolve.publish import name_key, sealed_sources
from habeas.resolve.review import decide, undo_unmerge, unmerge
from habeas.store.models import (
    IndexDecision,
    IndexFlag,
    IndexRecord,
    IndexReview,
    IndexRun,
    IndexSource,
)

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal, Work

MAX_PAGE = 500


class RecordOut(BaseModel):
    """One record as the caller may see it: identifiers masked unless the role x purpose
    needs them whole; its source and the legal authority it was gathered under."""

    record_id: str
    person_id: str
    source: str
    source_key: str = Field(
        description="the source's natural key; parts that are identifiers are masked as the "
        "purpose requires"
    )
    batch_id: str | None = Field(default=None, description="lineage: the ingest batch")
    file_sha256: str | None = Field(default=None, description="lineage: the file's SHA-256")
    row_number: int | None = Field(default=None, description="lineage: the row in that file")
    legal_authority: str
    name: str
    dob: str | None
    a_number: str | None
    ssn: str | None
    passport_number: str | None
    zip: str | None
    linked_via: str | None
    match_probability: float | None
    match_weight: float | None
    how: str
    run_id: str


class FlagOut(BaseModel):
    """A flag on the person and its resolution."""

    flag: str
    detail: str
    record_ids: list[str]
    status: str
    resolved_by: str | None
    resolution: str | None


class DecisionOut(BaseModel):
    """A reviewer's decision on the person's records."""

    decision_id: int
    kind: str
    decision: str
    record_ids: list[str]
    reviewer: str
    reason: str
    decided_at: datetime
    undone_by: int | None


class PersonFile(BaseModel):
    """Everything the caller may see of one person, and how much was withheld."""

    person_id: str
    records: list[RecordOut]
    flags: list[FlagOut]
    decisions: list[DecisionOut]
    withheld: int = Field(description="records whose sources do not declare this purpose")
    masked: list[str] = Field(description="identifier kinds shown masked for this purpose")
    run_id: str


class SearchHit(BaseModel):
    """A person found by a search, with the score that ranked them and why."""

    person_id: str
    score: float
    matched: list[str]
    names: list[str]
    dobs: list[str]


class SearchResult(BaseModel):
    """A page of ranked hits."""

    hits: list[SearchHit]
    total: int
    limit: int
    offset: int
    unsearched: list[str] = Field(
        default_factory=list,
        description="identifier kinds a whole identifier was not looked for among: this "
        "purpose sees them masked",
    )


class StepOut(BaseModel):
    """One bar of a link's waterfall."""

    comparison: str
    level: str
    values: str
    weight: float
    tf_adjustment: float


class ExplanationOut(BaseModel):
    """Why two records were linked or not: prior plus each comparison's weight."""

    left: str
    right: str
    prior_weight: float
    steps: list[StepOut]
    match_weight: float
    match_probability: float
    threshold: float
    person_left: str | None
    person_right: str | None
    decision: str | None
    run_id: str


class ReviewPair(BaseModel):
    """A pair the model is unsure about."""

    record_id_l: str
    record_id_r: str
    person_l: str
    person_r: str
    source_l: str
    source_r: str
    name_l: str
    name_r: str
    dob_l: str | None
    dob_r: str | None
    match_probability: float
    priority: float | None = None
    """How much a decision on this pair would change; the queue is read highest first."""
    why: str | None = None


class ReviewQueue(BaseModel):
    """A page of the review queue (pairs of sources the purpose may read)."""

    pairs: list[ReviewPair]
    total: int
    limit: int
    offset: int


class DecisionRecorded(BaseModel):
    """A reviewer's decision as recorded, and the warnings it raised."""

    decision_id: int
    warnings: list[str]
    applies: str = "from the next resolution run"


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise HabeasError(f"limit must be 1 to {MAX_PAGE}, not {limit}")
    if offset < 0:
        raise HabeasError(f"offset must be 0 or more, not {offset}")


def _latest_run(session: Session) -> IndexRun:
    run = session.execute(
        select(IndexRun).order_by(IndexRun.published_at.desc()).limit(1)
    ).scalar_one_or_none()
    if run is None:
        raise NotFound("no person index published yet: run `habeas resolve`")
    return run


def _entry(
    ctx: AccessContext, action: str, resources: list[str], allowed: bool, detail: str
) -> dict[str, Any]:
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


def _refuse(ctx: AccessContext, action: str, resources: list[str], why: str) -> AccessDenied:
    return AccessDenied(
        f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {why}",
        _entry(ctx, action, resources, False, why),
        why,
    )


def _not_found(
    ctx: AccessContext, action: str, resources: list[str], what: str, why: str
) -> NotFound:
    """Not found — said the same way whether the thing is missing or withheld; the audit
    entry keeps the real reason."""
    exc = NotFound(f"no {what}")
    exc.entry = _entry(ctx, action, resources, False, why)
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


def grants(ctx: AccessContext, action: str, sources: dict[str, IndexSource]) -> Grants:
    """Which sources' records, by declaration version, this caller may ``action`` for this
    purpose (one Cedar decision per source and version)."""
    keyed: dict[str, list[str]] = {}
    pair_of: dict[str, tuple[str, int]] = {}
    for name, src in sources.items():
        for version, purposes in version_purposes(src).items():
            key = f"{name}@v{version}"
            keyed[key], pair_of[key] = purposes, (name, version)
    anyone = Resource("Person", "*", {"flags": []})
    decided = source_decisions(ctx, action, keyed, anyone)
    return Grants(frozenset(pair_of[k] for k, d in decided.items() if d.allowed))


def _publish_decisions(session: Session, store: Any, ids: list[int]) -> None:
    """Show new reviewers' decisions in the published index at once (the next run applies
    them to the links)."""
    for i, k, dec, left, right, a, b, who, why, at, undone in store.con.execute(
        """SELECT decision_id, kind, decision, record_id_l, record_id_r, side_a, side_b,
                  reviewer, reason, decided_at, undone_by FROM review_decisions
           WHERE decision_id IN (SELECT unnest(?))""",
        [ids],
    ).fetchall():
        rec_ids = sorted({x for x in [left, right, *(a or []), *(b or [])] if x})
        session.merge(
            IndexDecision(
                decision_id=int(i),
                kind=k,
                decision=dec,
                record_ids=json.dumps(rec_ids),
                reviewer=who,
                reason=why,
                decided_at=at,
                undone_by=undone,
            )
        )


@facade
class PersonIndex:
    """Use cases on the published person index."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    def _person_allowed(self, ctx: AccessContext, action: str, resources: list[str]) -> None:
        general = authorize(ctx, "read", Resource("Person", "*", {"flags": []}))
        if not general.allowed:
            raise _refuse(ctx, action, resources, general.why())

    def _some_records(
        self,
        ctx: AccessContext,
        action: str,
        resources: list[str],
        sources: dict[str, IndexSource],
    ) -> Grants:
        """The sources (by version) whose records this caller may read for this purpose;
        refused (403) when there is none, whatever is asked for."""
        allowed = grants(ctx, "read", sources)
        if not allowed:
            raise _refuse(
                ctx,
                action,
                resources,
                "no source's records may be read by this role for this purpose",
            )
        return allowed

    def person(
        self, principal: Principal | None, purpose: str | None, person_id: str
    ) -> PersonFile:
        """One person: the records the purpose may read (with source and legal authority),
        the links between them, flags and reviewers' decisions (audited)."""
        with self.app.work(principal, purpose, "read_person") as w:
            return self._person(w, person_id)

    def _person(self, w: Work, person_id: str) -> PersonFile:
        ctx, s = w.ctx, w.session
        res = [f"person:{person_id}"]
        self._person_allowed(ctx, "read_person", res)
        run = _latest_run(s)
        rows = list(
            s.execute(
                select(IndexRecord)
                .where(IndexRecord.person_id == person_id)
                .order_by(IndexRecord.source, IndexRecord.source_key)
            ).scalars()
        )
        if not rows:
            raise _not_found(ctx, "read_person", res, f"person {person_id}", "no such person")
        flags = list(
            s.execute(
                select(IndexFlag).where(IndexFlag.person_id == person_id).order_by(IndexFlag.flag)
            ).scalars()
        )
        person = Resource("Person", person_id, {"flags": sorted({f.flag for f in flags})})
        decision = authorize(ctx, "read", person)
        if not decision.allowed:
            raise _not_found(ctx, "read_person", res, f"person {person_id}", decision.why())
        sources = sealed_sources(s)
        allowed = grants(ctx, "read", sources)
        shown = [r for r in rows if allowed(r)]
        withheld = len(rows) - len(shown)
        whole = whole_identifiers(ctx)
        ids = {r.record_id for r in shown}
        decisions = (
            [
                d
                for d in s.execute(
                    select(IndexDecision)
                    .where(or_(*(IndexDecision.record_ids.contains(f'"{r}"') for r in ids)))
                    .order_by(IndexDecision.decision_id)
                ).scalars()
                if ids & set(json.loads(d.record_ids))
            ]
            if ids
            else []
        )
        detail = decision.why() + (
            f"; {withheld} record(s) withheld: their sources do not declare purpose {ctx.purpose}"
            if withheld
            else ""
        )
        audit.append(
            s,
            **_entry(
                ctx, "read_person", [*res, *(f"record:{r.record_id}" for r in shown)], True, detail
            ),
        )
        return PersonFile(
            person_id=person_id,
            records=[
                record_out(
                    r, sources[r.source].legal_authority if r.source in sources else "", whole
                )
                for r in shown
            ],
            flags=[
                FlagOut(
                    flag=f.flag,
                    detail=f.detail,
                    record_ids=json.loads(f.record_ids),
                    status=f.status,
                    resolved_by=f.resolved_by,
                    resolution=f.resolution,
                )
                for f in flags
                if ids & set(json.loads(f.record_ids))
            ],
            decisions=[
                DecisionOut(
                    decision_id=d.decision_id,
                    kind=d.kind,
                    decision=d.decision,
                    record_ids=json.loads(d.record_ids),
                    reviewer=d.reviewer,
                    reason=d.reason,
                    decided_at=d.decided_at,
                    undone_by=d.undone_by,
                )
                for d in decisions
            ],
            withheld=withheld,
            masked=sorted(set(IDENTIFIERS) - whole),
            run_id=run.run_id,
        )

    def search(
        self,
        principal: Principal | None,
        purpose: str | None,
        *,
        name: str | None = None,
        dob: str | None = None,
        identifier: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResult:
        """Persons by name, date of birth or identifier, ranked: an identifier match counts
        most, then the whole name, the family name, the date of birth. Only records of
        sources the purpose may read are searched."""
        _page(limit, offset)
        terms = [t for t in (name, dob, identifier) if t]
        if not terms:
            raise HabeasError("a search needs a name, a date of birth or an identifier")
        if dob:
            try:
                dob = datetime.strptime(dob, "%Y-%m-%d").date().isoformat()
            except ValueError:
                raise HabeasError(f"dob {dob!r} is not a date (YYYY-MM-DD)") from None
        if (name is not None and len(name) > 200) or (
            identifier is not None and len(identifier) > 64
        ):
            raise HabeasError("search terms are at most 200 (name) and 64 (identifier) long")
        with self.app.work(principal, purpose, "search_persons") as w:
            ctx, s = w.ctx, w.session
            what = ["person_index"]
            allowed = self._some_records(ctx, "search_persons", what, sealed_sources(s))
            scores: dict[str, float] = {}
            matched: dict[str, set[str]] = {}

            def add(rows: Any, points: float, label: str) -> None:
                for (pid,) in rows:
                    scores[pid] = scores.get(pid, 0.0) + points
                    matched.setdefault(pid, set()).add(label)

            readable_record = allowed.clause(IndexRecord.source, IndexRecord.source_version)
            base = select(IndexRecord.person_id).where(readable_record).distinct()
            cap = 2_000
            if identifier:
                # a whole identifier is looked for only among the kinds this caller may see
                # whole: a match on any other would tell them whose it is
                ident = normalized(identifier)
                whole = whole_identifiers(ctx)
                columns = {"a_number": IndexRecord.a_number, "ssn": IndexRecord.ssn,
                           "passport_number": IndexRecord.passport_number}  # fmt: skip
                conds = [col == ident for kind, col in columns.items() if kind in whole]
                cond = or_(IndexRecord.record_id == identifier.strip(), *conds)
                add(s.execute(base.where(cond).limit(cap)), 10.0, "identifier")
            if name:
                key = name_key(name)
                if "," in name:  # "Family, Given"
                    fam, _, giv = name.partition(",")
                    key = name_key(f"{giv} {fam}")
                words = key.split()
                if words:
                    add(s.execute(base.where(IndexRecord.name_key == key).limit(cap)), 4.0, "name")
                    fams = set(words)
                    add(
                        s.execute(
                            base.where(
                                or_(
                                    IndexRecord.family_key.in_(fams),  # compound surnames, too
                                    *(IndexRecord.family_key.like(f"{w} %") for w in fams),
                                )
                            ).limit(cap)
                        ),
                        1.5,
                        "family name",
                    )
            if dob:
                # a record known only to the month or year of birth can be this day
                q = base.where(IndexRecord.dob.in_([dob, dob[:7], dob[:4]]))
                if scores:
                    q = q.where(IndexRecord.person_id.in_(list(scores)))
                add(s.execute(q.limit(cap)), 2.0, "date of birth")
            ranked = sorted(scores, key=lambda p: (-scores[p], p))
            page = ranked[offset : offset + limit]
            hits = []
            if page:
                names: dict[str, set[str]] = {}
                dobs: dict[str, set[str]] = {}
                for pid, nm, d in s.execute(
                    select(IndexRecord.person_id, IndexRecord.name, IndexRecord.dob).where(
                        IndexRecord.person_id.in_(page), readable_record
                    )
                ):
                    names.setdefault(pid, set()).add(nm)
                    if d:
                        dobs.setdefault(pid, set()).add(d)
                hits = [
                    SearchHit(
                        person_id=p,
                        score=scores[p],
                        matched=sorted(matched[p]),
                        names=sorted(names.get(p, ())),
                        dobs=sorted(dobs.get(p, ())),
                    )
                    for p in page
                ]
            audit.append(
                s,
                **_entry(
                    ctx,
                    "search_persons",
                    [*what, *(f"person:{h.person_id}" for h in hits)],
                    True,
                    f"search name={name!r} dob={dob} identifier="
                    f"{mask(identifier) if identifier else None}; "
                    f"{len(ranked)} found",
                ),
            )
            unsearched = (
                sorted({"a_number", "ssn", "passport_number"} - whole_identifiers(ctx))
                if identifier
                else []
            )
            return SearchResult(
                hits=hits, total=len(ranked), limit=limit, offset=offset, unsearched=unsearched
            )

    def record(self, principal: Principal | None, purpose: str | None, record_id: str) -> RecordOut:
        """One record, if its source declares the purpose and the role may read it."""
        with self.app.work(principal, purpose, "read_record") as w:
            ctx, s = w.ctx, w.session
            res = [f"record:{record_id}"]
            sources = sealed_sources(s)
            allowed = self._some_records(ctx, "read_record", res, sources)
            r = s.get(IndexRecord, record_id)
            if r is None:
                raise _not_found(ctx, "read_record", res, f"record {record_id}", "no such record")
            if not allowed(r):
                raise _not_found(
                    ctx,
                    "read_record",
                    res,
                    f"record {record_id}",
                    f"source {r.source} does not declare purpose {ctx.purpose}",
                )
            audit.append(
                s,
                **_entry(
                    ctx, "read_record", [*res, f"person:{r.person_id}"], True, f"source {r.source}"
                ),
            )
            auth = sources[r.source].legal_authority if r.source in sources else ""
            return record_out(r, auth, whole_identifiers(ctx))

    def explain(
        self, principal: Principal | None, purpose: str | None, left: str, right: str
    ) -> ExplanationOut:
        """Why two records were linked or not, with the published run's model: the prior,
        each comparison's level and weight, the total, and any reviewer's decision."""

        with self.app.work(principal, purpose, "explain_pair") as w:
            ctx, s = w.ctx, w.session
            res = [f"record:{left}", f"record:{right}"]
            allowed = self._some_records(ctx, "explain_pair", res, sealed_sources(s))
            run = _latest_run(s)
            recs = {
                r.record_id: r
                for r in s.execute(
                    select(IndexRecord).where(IndexRecord.record_id.in_([left, right]))
                ).scalars()
            }
            for rid in (left, right):
                if rid not in recs or not allowed(recs[rid]):
                    raise _not_found(
                        ctx,
                        "explain_pair",
                        res,
                        f"record {rid}",
                        "no such record"
                        if rid not in recs
                        else f"source {recs[rid].source} not readable",
                    )
            decision = None
            lo, hi = sorted((left, right))
            for d in s.execute(
                select(IndexDecision)
                .where(
                    IndexDecision.kind == "pair", IndexDecision.record_ids == json.dumps([lo, hi])
                )
                .order_by(IndexDecision.decision_id.desc())
            ).scalars():
                if json.loads(d.record_ids) == [lo, hi]:
                    decision = f"{d.decision} by {d.reviewer}: {d.reason}"
                    break
            e = explain_features(
                run.model_json,
                json.loads(run.input_schema),
                json.loads(recs[left].features),
                json.loads(recs[right].features),
                run.match_threshold,
            )
            named = ", ".join(sorted({recs[left].source, recs[right].source}))
            audit.append(s, **_entry(ctx, "explain_pair", res, True, f"sources: {named}"))
            return ExplanationOut(
                left=left,
                right=right,
                prior_weight=e.prior_weight,
                steps=[StepOut(**vars(x)) for x in e.steps],
                match_weight=e.match_weight,
                match_probability=e.match_probability,
                threshold=e.threshold,
                person_left=recs[left].person_id,
                person_right=recs[right].person_id,
                decision=decision,
                run_id=run.run_id,
            )

    def review_queue(
        self,
        principal: Principal | None,
        purpose: str | None,
        limit: int = 20,
        offset: int = 0,
    ) -> ReviewQueue:
        """Pairs the model is unsure about, the decisions that would change most first (see
        ``habeas.resolve.review.prioritized_sql``), of sources the purpose may review."""
        _page(limit, offset)
        with self.app.work(principal, purpose, "review_queue") as w:
            ctx, s = w.ctx, w.session
            sources = sealed_sources(s)
            allowed = grants(ctx, "review_link", sources)
            if not allowed:
                raise _refuse(
                    ctx,
                    "review_queue",
                    ["review_queue"],
                    "no source's records may be reviewed by this role for this purpose",
                )
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
                    allowed.clause(left.c.source, left.c.source_version),
                    allowed.clause(right.c.source, right.c.source_version),
                )
            )
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(
                q.order_by(
                    IndexReview.priority.desc().nulls_last(),
                    IndexReview.record_id_l,
                    IndexReview.record_id_r,
                )
                .limit(limit)
                .offset(offset)
            ).all()
            pairs = [
                ReviewPair(
                    record_id_l=p.record_id_l,
                    record_id_r=p.record_id_r,
                    person_l=p.person_l,
                    person_r=p.person_r,
                    source_l=sl,
                    source_r=sr,
                    name_l=nl,
                    name_r=nr,
                    dob_l=dl,
                    dob_r=dr,
                    match_probability=p.match_probability,
                    priority=p.priority,
                    why=p.why,
                )
                for p, sl, sr, nl, nr, dl, dr in rows
            ]
            audit.append(
                s,
                **_entry(
                    ctx,
                    "review_queue",
                    ["review_queue"],
                    True,
                    f"{len(pairs)} of {total} pairs; sources: {', '.join(allowed.names())}",
                ),
            )
            return ReviewQueue(pairs=pairs, total=total, limit=limit, offset=offset)

    def _review_records(self, w: Work, action: str, record_ids: list[str]) -> None:
        """Allow a review action only when every record's source may be reviewed."""
        s, ctx = w.session, w.ctx
        res = [f"record:{r}" for r in record_ids]
        sources = sealed_sources(s)
        recs = {
            r.record_id: r
            for r in s.execute(
                select(IndexRecord).where(IndexRecord.record_id.in_(record_ids))
            ).scalars()
        }
        missing = [r for r in record_ids if r not in recs]
        if missing:
            raise _not_found(ctx, action, res, f"record {missing[0]}", "no such record")
        ok = grants(ctx, "review_link", sources)
        refused = sorted({r.source for r in recs.values() if not ok(r)})
        if refused:
            raise _refuse(
                ctx,
                action,
                res,
                f"sources {', '.join(refused)} may not be reviewed by {ctx.role} for {ctx.purpose}",
            )
        named = sorted({r.source for r in recs.values()})
        audit.append(s, **_entry(ctx, action, res, True, "sources: " + ", ".join(named)))

    def decide(
        self,
        principal: Principal | None,
        purpose: str | None,
        left: str,
        right: str,
        decision: str,
        reason: str,
    ) -> DecisionRecorded:
        """Record a reviewer's decision on a pair (same, different, unsure); it overrides
        the model from the next run."""

        if decision not in ("same", "different", "unsure"):
            raise HabeasError(f"decision must be same, different or unsure, not {decision!r}")
        with self.app.work(principal, purpose, "review_decide", write=True) as w:
            self._review_records(w, "review_decide", [left, right])
            with self.app.staging() as st:
                rec = decide(st.con, left, right, decision, w.ctx.user, reason, datetime.now())
                _publish_decisions(w.session, st, [rec.decision_id])
            w.done(f"decision {rec.decision_id}: {decision}", [f"record:{left}", f"record:{right}"])
            return DecisionRecorded(decision_id=rec.decision_id, warnings=list(rec.warnings))

    def unmerge(
        self,
        principal: Principal | None,
        purpose: str | None,
        person_id: str,
        records: list[str],
        reason: str,
    ) -> DecisionRecorded:
        """Split records off a person; they stay apart in later runs until undone."""

        with self.app.work(principal, purpose, "review_unmerge", write=True) as w:
            members = list(
                w.session.execute(
                    select(IndexRecord.record_id).where(IndexRecord.person_id == person_id)
                ).scalars()
            )
            self._review_records(w, "review_unmerge", members or records)
            with self.app.staging() as st:
                rec = unmerge(st.con, person_id, records, w.ctx.user, reason, datetime.now())
                _publish_decisions(w.session, st, [rec.decision_id])
            w.done(f"unmerge decision {rec.decision_id}", [f"person:{person_id}"])
            return DecisionRecorded(decision_id=rec.decision_id, warnings=[])

    def undo(
        self, principal: Principal | None, purpose: str | None, decision_id: int, reason: str
    ) -> DecisionRecorded:
        """Withdraw an unmerge (recorded as a decision of its own)."""

        with self.app.work(principal, purpose, "review_undo", write=True) as w:
            d = w.session.get(IndexDecision, decision_id) if 0 < decision_id < 2**31 else None
            if d is None:
                raise NotFound(f"no published decision {decision_id}")
            self._review_records(w, "review_undo", json.loads(d.record_ids))
            with self.app.staging() as st:
                rec = undo_unmerge(st.con, decision_id, w.ctx.user, reason, datetime.now())
                _publish_decisions(w.session, st, [decision_id, rec.decision_id])
            w.done(
                f"unmerge {decision_id} undone by {rec.decision_id}", [f"decision:{decision_id}"]
            )
            return DecisionRecorded(decision_id=rec.decision_id, warnings=[])
