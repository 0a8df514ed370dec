"""The source registry and the data pipeline: register, check, ingest, resolve (then
publish the index into the operational store), evaluate, quarantine and export.

These are batch jobs over two stores. Each is decided by Cedar for the caller's role and
purpose; the decision is audited before the work (a refusal stops it there) and the
outcome after it. A resolution publishes its index in one operational transaction at the
end, so readers see the old index or the new one, never half of either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from habeas.errors import AccessDenied, HabeasError
from habeas.governance.authz import AccessContext, Resource, authorize, whole_identifiers
from habeas.governance.disclosure import facade, field_kinds, natural_key_kinds, saw
from habeas.pipeline import intake_directory
from habeas.resolve.access import evaluate_as, ingest_as, resolve_as
from habeas.resolve.export import export_clusters
from habeas.resolve.publish import publish, refresh_index_purposes
from habeas.sources.access import allowed_source_list, record
from habeas.sources.quarantine import purge, quarantined
from habeas.sources.registry import (
    check_sources,
    decide,
    effective_purposes,
    history,
    list_sources,
    register,
    retire,
)
from habeas.store.canonical import DISPOSITIONS

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal
    from habeas.pipeline import IntakeReport
    from habeas.resolve.quality import Evaluation
    from habeas.resolve.run import Resolution
    from habeas.sources.ingest import IngestResult
    from habeas.sources.quarantine import QuarantinedRow
    from habeas.sources.registry import RegisteredSource, Registration
    from habeas.sources.registry import SourceVersion as SourceVersionOut

Engine = Literal["duckdb", "spark"]


class SourceOut(BaseModel):
    """A source of the registry: agency, system, legal basis, purposes, status."""

    name: str
    agency: str
    system: str
    category: str
    legal_authority: str
    purposes: list[str]
    retention_days: int
    status: str
    refusals: list[str]
    registered_at: datetime


class SourceCheck(BaseModel):
    """A source's legal basis re-checked on a day: what no longer holds."""

    name: str
    ok: bool
    problems: list[str]


@dataclass(frozen=True)
class QuarantinePage:
    """Rows refused at ingest, of sources the purpose may read."""

    rows: list[QuarantinedRow]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Published:
    """A resolution run and the index it published into the operational store."""

    resolution: Resolution
    published_records: int


def source_out(entry: RegisteredSource) -> SourceOut:
    """A registry row as shown."""
    d = entry.declaration
    authority = (
        d.legal_authority
        or (d.agreement.citation if d.agreement else "")
        or (f"26 U.S.C. 6103 {d.tax.exception}" if d.tax else "")
    )
    return SourceOut(
        name=d.name,
        agency=d.agency,
        system=d.system,
        category=str(d.category),
        legal_authority=authority,
        purposes=list(d.purposes),
        retention_days=d.retention_days,
        status=entry.status,
        refusals=list(entry.refusals),
        registered_at=entry.registered_at,
    )


@facade
class Pipeline:
    """Use cases on sources and the index's batch runs."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    def list_sources(self, principal: Principal | None, purpose: str | None) -> list[SourceOut]:
        """Every registered or refused source (the registry is not personal data, but only
        an authenticated account reads it)."""

        ctx = self.app.batch_context(principal, purpose, "list_sources")
        if not self.app.settings.staging_path.exists():
            return []
        with self.app.staging_work(principal, purpose, "list_sources", ctx=ctx) as w:
            return [source_out(e) for e in list_sources(w.store)]

    def check(
        self, principal: Principal | None, purpose: str | None, on: date
    ) -> list[SourceCheck]:
        """Re-apply the legal-basis rules to every source as of ``on`` (agreements lapse)."""

        ctx = self.app.batch_context(principal, purpose, "check_sources")
        if not self.app.settings.staging_path.exists():
            return []
        with self.app.staging_work(principal, purpose, "check_sources", ctx=ctx) as w:
            results = check_sources(w.store, on)
        return [
            SourceCheck(name=n, ok=not r, problems=[str(x) for x in r])
            for n, r in sorted(results.items())
        ]

    def _require_register(self, ctx: AccessContext, what: str) -> None:
        decision = authorize(ctx, "register", Resource("Source", what, {"purposes": []}))
        record(
            self.app.engine,
            ctx,
            "register_source",
            [f"declaration:{what}"],
            decision.allowed,
            decision.why(),
        )
        if not decision.allowed:
            raise AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not "
                f"register sources: {decision.why()}",
                None,
                decision.why(),
            )

    def register(
        self, principal: Principal | None, purpose: str | None, paths: list[Path], today: date
    ) -> list[Registration]:
        """Register declarations (integration engineers) as new versions of their sources.

        A refused one is kept with the rules it breaks; one that widens what its source
        may be used for waits for oversight's approval. Each is audited with the
        declaration's hash before and after."""

        ctx = self.app.batch_context(principal, purpose, "register_source")
        self._require_register(ctx, ",".join(p.name for p in paths)[:200])
        with self.app.staging_work(
            principal, purpose, "register_source", create=True, ctx=ctx
        ) as w:
            out = [register(w.store, path, today, registrant=ctx.user) for path in paths]
            self._sync_index_purposes(w.store)
        self._record_registrations(ctx, out)
        return out

    def _record_registrations(self, ctx: AccessContext, regs: list[Registration]) -> None:
        """One outcome entry per registration: the version, its status, the declaration's
        hash before and after, what it widens, why it was refused."""
        for r in regs:
            record(
                self.app.engine,
                ctx,
                "register_source:outcome",
                [f"source:{r.declaration.name}", f"version:{r.version}"],
                True,
                f"{r.declaration.name} version {r.version} {r.status}; sha256 before "
                f"{(r.previous_sha256 or 'none')[:16]}, after {r.sha256[:16]}"
                + (f"; widens: {'; '.join(r.widens)} (awaits oversight)" if r.widens else "")
                + (f"; refused: {'; '.join(str(x) for x in r.refusals)}" if r.refusals else ""),
            )

    def _sync_index_purposes(self, st: Any) -> None:
        """The published index reads each source's purposes as the registry now has them (a
        narrowing applies at once, not at the next resolution)."""

        refresh_index_purposes(self.app.engine, st)

    def decide_source(
        self,
        principal: Principal | None,
        purpose: str | None,
        name: str,
        version: int,
        approve: bool,
        reason: str,
    ) -> SourceVersionOut:
        """Approve or reject a pending version that widens a source (oversight, and not the
        engineer who registered it); audited with its hash."""

        if not reason.strip():
            raise HabeasError("give the reason for the decision (--reason)")
        action = "approve_source" if approve else "reject_source"
        ctx = self.app.batch_context(principal, purpose, action)
        decision = authorize(ctx, "approve_source", Resource("Source", name, {"purposes": []}))
        what = [f"source:{name}", f"version:{version}"]
        if not decision.allowed:
            record(self.app.engine, ctx, action, what, False, decision.why())
            raise AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not approve source "
                f"changes: {decision.why()}",
                None,
                decision.why(),
            )
        with self.app.staging_work(principal, purpose, action, ctx=ctx) as w:
            decide(w.store, name, version, ctx.user, approve, reason.strip())
            self._sync_index_purposes(w.store)
            [v] = [v for v in history(w.store, name) if v.version == version]
        done = f"{name} version {version} {v.status} (sha256 {v.sha256[:16]}): {reason}"
        record(self.app.engine, ctx, action, what, True, done)
        return v

    def retire_source(
        self, principal: Principal | None, purpose: str | None, name: str, reason: str
    ) -> int:
        """Retire a source (integration engineer): no more ingests; audited."""

        if not reason.strip():
            raise HabeasError("give the reason for retiring the source (--reason)")
        ctx = self.app.batch_context(principal, purpose, "retire_source")
        self._require_register(ctx, name)
        with self.app.staging_work(principal, purpose, "retire_source", ctx=ctx) as w:
            version = retire(w.store, name, ctx.user, reason.strip())
        record(
            self.app.engine,
            ctx,
            "retire_source:outcome",
            [f"source:{name}"],
            True,
            f"{name} version {version} retired: {reason}",
        )
        return version

    def source_history(
        self, principal: Principal | None, purpose: str | None, name: str
    ) -> list[SourceVersionOut]:
        """Every version of a source's declaration: hash, registrant, dates, what it widened,
        who decided (an authenticated account; the registry is not personal data)."""

        ctx = self.app.batch_context(principal, purpose, "source_history")
        if not self.app.settings.staging_path.exists():
            raise HabeasError("no source is registered yet")
        with self.app.staging_work(principal, purpose, "source_history", ctx=ctx) as w:
            return history(w.store, name)

    def ingest(
        self,
        principal: Principal | None,
        purpose: str | None,
        source: str,
        path: Path,
        today: date,
        progress: Callable[[str, float], None] | None = None,
        dry_run: bool = False,
    ) -> IngestResult:
        """Validate, minimize and stage one file of a source; rejected rows go to
        quarantine, values that fail their field's check are set aside. ``dry_run``
        reports all of it and keeps nothing."""

        with self.app.staging_work(principal, purpose, "ingest", create=True) as w:
            return ingest_as(
                self.app.engine, w.store, w.ctx, source, path, today, progress, dry_run=dry_run
            )

    def intake(
        self,
        principal: Principal | None,
        purpose: str | None,
        directory: Path,
        today: date,
        on_source: Callable[[str, str], None] | None = None,
    ) -> IntakeReport:
        """Register every declaration in a folder and ingest each accepted source's file
        (one bad file does not stop the others)."""

        ctx = self.app.batch_context(principal, purpose, "intake")
        self._require_register(ctx, str(directory.name))
        with self.app.staging_work(principal, purpose, "intake", create=True, ctx=ctx) as w:
            report = intake_directory(
                w.store,
                directory,
                today,
                on_source=on_source,
                ingest_one=lambda name, p: ingest_as(self.app.engine, w.store, ctx, name, p, today),
                registrant=ctx.user,
            )
            self._sync_index_purposes(w.store)
        self._record_registrations(ctx, report.registrations)
        return report

    def resolve(
        self,
        principal: Principal | None,
        purpose: str | None,
        *,
        incremental: bool = False,
        engine: Engine = "duckdb",
        reuse_model: bool = False,
        progress: Callable[[str], None] | None = None,
        learn: bool = False,
    ) -> Published:
        """Resolve the staged records into persons, then publish the index into the
        operational store (one transaction). ``learn`` re-estimates the model from
        reviewers' decisions first (a full run on the duckdb engine)."""

        if engine not in ("duckdb", "spark"):
            raise HabeasError(f"engine must be duckdb or spark, not {engine!r}")
        if incremental and engine != "duckdb":
            raise HabeasError("incremental resolution runs on the duckdb engine")
        if learn and (incremental or engine != "duckdb"):
            raise HabeasError("learning from reviews is a full run on the duckdb engine")
        with self.app.staging_work(principal, purpose, "resolve") as w:
            ctx = w.ctx
            result = resolve_as(
                self.app.engine,
                w.store,
                ctx,
                self.app.clock.now(),
                incremental=incremental,
                resolver=engine,
                reuse_model=reuse_model,
                progress=progress,
                learn=learn,
            )
            if progress:
                progress("publishing the index into the operational store")
            n = publish(self.app.engine, w.store, result.run_id)
        record(
            self.app.engine,
            ctx,
            "publish_index",
            ["person_index", f"run:{result.run_id}"],
            True,
            f"succeeded: {n:,} records published",
        )
        return Published(result, n)

    def evaluate(self, principal: Principal | None, purpose: str | None, truth: Path) -> Evaluation:
        """Score the index against a truth file (needs ``resolve`` on every indexed source)."""

        if not truth.exists():
            raise HabeasError(f"{truth}: no such file")
        ctx = self.app.batch_context(principal, purpose, "evaluate_index")
        with self.app.staging_work(principal, purpose, "evaluate_index", ctx=ctx) as w:
            return evaluate_as(self.app.engine, w.store, ctx, truth)

    def quarantine(
        self,
        principal: Principal | None,
        purpose: str | None,
        source: str | None = None,
        limit: int = 50,
        offset: int = 0,
        disposition: str | None = None,
    ) -> QuarantinePage:
        """Rows refused and values set aside at ingest, with their reasons (raw values:
        purpose-bound, audited). ``disposition`` keeps only ``row refused`` or ``value set
        aside; record kept`` entries."""

        if not 1 <= limit <= 500 or offset < 0:
            raise HabeasError("limit must be 1 to 500 and offset 0 or more")
        if disposition is not None and disposition not in DISPOSITIONS:
            raise HabeasError(f"disposition must be one of {', '.join(map(repr, DISPOSITIONS))}")
        ctx = self.app.batch_context(principal, purpose, "quarantine_list")
        d = authorize(ctx, "read_quarantine", Resource("Source", "quarantine", {"purposes": []}))
        if not d.allowed:
            record(self.app.engine, ctx, "quarantine_list", ["quarantine"], False, d.why())
            raise AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not read the quarantine: "
                f"{d.why()} (intake's engineers and oversight read it)",
                None,
                d.why(),
            )
        with self.app.staging_work(principal, purpose, "quarantine_list", ctx=ctx) as w:
            sources = allowed_source_list(
                self.app.engine, w.store, ctx, "quarantine_list", "quarantine"
            )
            rows, total = quarantined(w.store, source, limit, sources, offset, disposition)
            kinds = {
                name: field_kinds(json.loads(decl))
                for name, decl in w.store.rows("SELECT name, declaration FROM sources")
            }
        for row in rows:  # a quarantined identifier is masked like any other
            kind = kinds.get(row.source, {}).get(row.field or "")
            if kind:
                saw(kind, row.value)
        return QuarantinePage(rows, total, limit, offset)

    def purge_quarantine(
        self, principal: Principal | None, purpose: str | None, on: date
    ) -> dict[str, int]:
        """Delete quarantine entries past their retention as of ``on`` (an integration
        engineer); audited with the count per source."""

        ctx = self.app.batch_context(principal, purpose, "purge_quarantine")
        decision = authorize(ctx, "purge", Resource("Source", "quarantine", {"purposes": []}))
        if not decision.allowed:
            record(self.app.engine, ctx, "purge_quarantine", ["quarantine"], False, decision.why())
            raise AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not purge the "
                f"quarantine: {decision.why()}",
                None,
                decision.why(),
            )
        if not self.app.settings.staging_path.exists():
            return {}
        with self.app.staging_work(principal, purpose, "purge_quarantine", ctx=ctx) as w:
            purged = purge(w.store, on)
        record(
            self.app.engine,
            ctx,
            "purge_quarantine",
            ["quarantine"],
            True,
            f"as of {on}: " + (", ".join(f"{s} {n}" for s, n in sorted(purged.items())) or "none"),
        )
        return purged

    def export(self, principal: Principal | None, purpose: str | None, path: Path) -> int:
        """Write source, source key, record id and person id of the records of sources this
        role may export for this purpose (the ``export`` policies)."""

        if path.suffix not in (".csv", ".parquet"):
            raise HabeasError(f"{path}: export to a .csv or .parquet file")
        if not path.parent.exists():
            raise HabeasError(f"{path.parent}: no such folder")
        ctx = self.app.batch_context(principal, purpose, "export_clusters")
        with self.app.staging_work(principal, purpose, "export_clusters", ctx=ctx) as w:
            allowed: list[str] = []
            refused: list[str] = []
            for name, purposes in sorted(effective_purposes(w.store).items()):
                res = Resource("Source", name, {"purposes": purposes})
                (allowed if authorize(ctx, "export", res).allowed else refused).append(name)
            if not allowed:
                why = "no source may be exported by this role for this purpose"
                record(self.app.engine, ctx, "export_clusters", [str(path.name)], False, why)
                raise AccessDenied(
                    f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not export: {why}",
                    None,
                    why,
                )
            record(
                self.app.engine,
                ctx,
                "export_clusters",
                [str(path.name)],
                True,
                "sources: "
                + ", ".join(allowed)
                + (f"; withheld: {', '.join(refused)}" if refused else ""),
            )
            whole = whole_identifiers(ctx)
            masked = [
                name
                for name, decl in w.store.rows("SELECT name, declaration FROM sources")
                if name in allowed
                and any(
                    k not in whole
                    for part in natural_key_kinds(json.loads(decl)).split("|")
                    for k in part.split("+")
                    if k
                )
            ]
            n = export_clusters(w.store, path, allowed, masked)
        record(
            self.app.engine,
            ctx,
            "export_clusters:outcome",
            [str(path.name)],
            True,
            f"succeeded: {n:,} records written",
        )
        return n
