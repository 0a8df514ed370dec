"""Persons as people read them: one person's file, search, one record. Every read is
decided by Cedar (the person, then each source's records) and is one audit entry naming
what was shown."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from habeas.app.index.grants import (
    check_page,
    entry,
    grants,
    latest_run,
    not_found,
    person_allowed,
    record_out,
    some_records,
)
from habeas.app.index.schemas import (
    DecisionOut,
    FlagOut,
    PersonFile,
    RecordOut,
    SearchHit,
    SearchResult,
)
from habeas.errors import HabeasError
from habeas.governance import audit
from habeas.governance.authz import IDENTIFIERS, Resource, authorize, whole_identifiers
from habeas.governance.disclosure import mask, normalized
from habeas.resolve import queries
from habeas.resolve.publish import name_key, sealed_sources
from habeas.store.models import IndexRecord

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal, Work


class Persons:
    """Use cases: persons, search, records."""

    app: Habeas

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
        person_allowed(ctx, "read_person", res)
        run = latest_run(s)
        rows = queries.person_records(s, person_id)
        if not rows:
            raise not_found(ctx, "read_person", res, f"person {person_id}", "no such person")
        flags = queries.person_flags(s, person_id)
        person = Resource("Person", person_id, {"flags": sorted({f.flag for f in flags})})
        decision = authorize(ctx, "read", person)
        if not decision.allowed:
            raise not_found(ctx, "read_person", res, f"person {person_id}", decision.why())
        sources = sealed_sources(s)
        allowed = grants(ctx, "read", sources)
        shown = [r for r in rows if allowed(r)]
        withheld = len(rows) - len(shown)
        whole = whole_identifiers(ctx)
        ids = {r.record_id for r in shown}
        decisions = queries.decisions_on(s, ids)
        detail = decision.why() + (
            f"; {withheld} record(s) withheld: their sources do not declare purpose {ctx.purpose}"
            if withheld
            else ""
        )
        audit.append(
            s,
            **entry(
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
        check_page(limit, offset)
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
            allowed = some_records(ctx, "search_persons", what, sealed_sources(s))
            scores: dict[str, float] = {}
            matched: dict[str, set[str]] = {}

            def add(persons: list[str], points: float, label: str) -> None:
                for pid in persons:
                    scores[pid] = scores.get(pid, 0.0) + points
                    matched.setdefault(pid, set()).add(label)

            readable_record = allowed.clause(IndexRecord.source, IndexRecord.source_version)
            cap = 2_000
            if identifier:
                # a whole identifier is looked for only among the kinds this caller may see
                # whole: a match on any other would tell them whose it is
                found = queries.persons_by_identifier(
                    s,
                    readable_record,
                    identifier.strip(),
                    normalized(identifier),
                    whole_identifiers(ctx),
                    cap,
                )
                add(found, 10.0, "identifier")
            if name:
                key = name_key(name)
                if "," in name:  # "Family, Given"
                    fam, _, giv = name.partition(",")
                    key = name_key(f"{giv} {fam}")
                words = key.split()
                if words:
                    add(queries.persons_by_name_key(s, readable_record, key, cap), 4.0, "name")
                    families = queries.persons_by_family(s, readable_record, set(words), cap)
                    add(families, 1.5, "family name")
            if dob:
                # a record known only to the month or year of birth can be this day
                born = queries.persons_by_birth(s, readable_record, dob, list(scores), cap)
                add(born, 2.0, "date of birth")
            ranked = sorted(scores, key=lambda p: (-scores[p], p))
            page = ranked[offset : offset + limit]
            hits = []
            if page:
                names: dict[str, set[str]] = {}
                dobs: dict[str, set[str]] = {}
                for pid, nm, d in queries.names_and_births(s, readable_record, page):
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
                **entry(
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
            allowed = some_records(ctx, "read_record", res, sources)
            r = s.get(IndexRecord, record_id)
            if r is None:
                raise not_found(ctx, "read_record", res, f"record {record_id}", "no such record")
            if not allowed(r):
                raise not_found(
                    ctx,
                    "read_record",
                    res,
                    f"record {record_id}",
                    f"source {r.source} does not declare purpose {ctx.purpose}",
                )
            audit.append(
                s,
                **entry(
                    ctx, "read_record", [*res, f"person:{r.person_id}"], True, f"source {r.source}"
                ),
            )
            auth = sources[r.source].legal_authority if r.source in sources else ""
            return record_out(r, auth, whole_identifiers(ctx))
