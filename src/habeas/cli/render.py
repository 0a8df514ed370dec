"""How the CLI shows results: Rich tables, no logic beyond formatting."""

from __future__ import annotations

from collections import Counter
from datetime import date

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from habeas.app.pipeline import SourceCheck, SourceOut
from habeas.pipeline import IntakeReport
from habeas.sources.ingest import IngestResult
from habeas.sources.quarantine import QuarantinedRow
from habeas.sources.registry import Registration
from habeas.sources.registry import SourceVersion as SourceVersionOut
from habeas.synth.world import WorldSummary


def world(out: Console, summary: WorldSummary, seconds: float) -> None:
    """What the generator wrote."""
    total = sum(summary.records.values())
    out.print(
        f"[bold]synthetic world[/] {summary.people:,} people, {total:,} records in "
        f"{len(summary.files)} source files → {summary.out} ({seconds:.1f} s)"
    )


def registration(out: Console, reg: Registration) -> None:
    """One line per registration, and the rules a refused one breaks."""
    d = reg.declaration
    name, agency = escape(d.name), escape(d.agency)
    if reg.status == "pending":
        out.print(
            f"[yellow]pending[/]    {name} version {reg.version}: awaits oversight's approval"
        )
        for change in reg.widens:
            out.print(f"    widens: {escape(change)}", highlight=False)
    elif reg.status == "unchanged":
        out.print(f"[green]unchanged[/]  {name} version {reg.version} is in force")
    elif reg.accepted:
        out.print(
            f"[green]registered[/] {name} version {reg.version}: {agency} — "
            f"{escape(d.legal_authority)}",
            highlight=False,
        )
    else:
        out.print(f"[red]refused[/]    {name}: {agency}", highlight=False)
        for refusal in reg.refusals:
            out.print(f"    [red]{refusal.rule}[/]: {escape(refusal.message)}", highlight=False)
    for w in reg.warnings:
        out.print(f"    [yellow]warning {w.rule}[/]: {escape(w.message)}", highlight=False)


def source_history(out: Console, versions: list[SourceVersionOut]) -> None:
    """A source's versions as a table."""
    table = Table(title=f"history of {escape(versions[0].name)}" if versions else "history")
    for col in (
        "version",
        "status",
        "sha256",
        "registrant",
        "registered",
        "in force",
        "decided by",
        "widens / refusals",
    ):
        table.add_column(col, overflow="fold")
    for v in versions:
        span = (
            f"{v.effective_from:%Y-%m-%d %H:%M} → "
            + (f"{v.effective_to:%Y-%m-%d %H:%M}" if v.effective_to else "")
            if v.effective_from
            else ""
        )
        table.add_row(
            str(v.version),
            v.status,
            v.sha256[:16],
            escape(v.registrant),
            f"{v.registered_at:%Y-%m-%d %H:%M}",
            span,
            escape(v.decided_by or ""),
            escape("; ".join(v.widens + v.refusals)),
        )
    out.print(table)


def source_list(out: Console, sources: list[SourceOut]) -> None:
    """The registry as a table."""
    table = Table(title="source registry")
    for col in (
        "source",
        "status",
        "category",
        "agency",
        "legal authority",
        "purposes",
        "retention",
    ):
        table.add_column(col, overflow="fold")
    for d in sources:
        status = "[green]registered[/]" if d.status == "registered" else "[red]refused[/]"
        table.add_row(
            d.name,
            status,
            d.category,
            escape(d.agency),
            escape(d.legal_authority or "—"),
            ", ".join(d.purposes),
            f"{d.retention_days} d",
        )
    out.print(table)
    for d in sources:
        for why in d.refusals:
            out.print(f"  {d.name}: {escape(why)}")


def source_check(out: Console, results: list[SourceCheck], today: date) -> None:
    """Which sources still have a legal basis on ``today``."""
    for r in results:
        if r.ok:
            out.print(f"[green]ok[/]      {r.name}")
        else:
            for p in r.problems:
                out.print(f"[red]lapsed[/]  {r.name}: {escape(p)}")
    out.print(f"checked {len(results)} sources as of {today}")


def ingest_result(out: Console, r: IngestResult) -> None:
    """One ingest's outcome."""
    if r.already_ingested:
        out.print(
            f"[yellow]unchanged[/] {r.source}: {r.path} (sha256 {r.file_sha256[:12]}…) was already "
            f"ingested as batch {r.batch_id}; nothing changed"
        )
        return
    verb = "[yellow]dry run[/] (nothing kept)" if r.dry_run else "[green]ingested[/]"
    out.print(
        f"{verb} {r.source}: {r.rows_read:,} rows read, {r.rows_accepted:,} accepted "
        f"({r.rows_new:,} new, {r.rows_updated:,} updated, {r.rows_unchanged:,} unchanged), "
        f"{r.rows_quarantined:,} quarantined — batch {r.batch_id} in {r.seconds:.2f} s"
    )
    for reason, n in r.reasons.most_common(8):
        out.print(f"    quarantined {n:>6,}  {escape(reason)}", highlight=False)
    if r.values_set_aside:
        out.print(
            f"    {r.values_set_aside:,} values set aside in records that were kept:",
            highlight=False,
        )
        for reason, n in r.set_aside.most_common(8):
            out.print(f"    set aside   {n:>6,}  {escape(reason)}", highlight=False)
    if r.dropped:
        dropped = ", ".join(f"{k} ({v:,})" for k, v in r.dropped.items())
        out.print(f"    dropped by minimization: {escape(dropped)}", highlight=False)
    if r.dry_run and r.rows_accepted:
        fill = ", ".join(
            f"{k} {v / r.rows_accepted:.0%}"
            for k, v in r.filled.items()
            if not k.endswith("_precision")
        )
        out.print(f"    fields filled: {escape(fill)}", highlight=False)


def quarantine(out: Console, rows: list[QuarantinedRow], total: int) -> None:
    """Quarantined rows as a table."""
    table = Table(title=f"quarantine: {len(rows):,} of {total:,} entries")
    for col in ("source", "row", "field", "value", "rule", "reason", "disposition"):
        table.add_column(col, overflow="fold")
    for q in rows:
        table.add_row(
            q.source,
            str(q.row_number or ""),
            q.field or "",
            q.value or "",
            q.rule,
            q.reason,
            q.disposition,
        )
    out.print(table)


def intake(out: Console, report: IntakeReport, seconds: float) -> None:
    """The demo's summary: per source records, quarantine, minimization, refusals, time."""
    table = Table(title="ingest by source")
    cols = ("source", "rows", "accepted", "quarantined", "set aside", "new", "updated", "s")
    for col in cols:
        table.add_column(col, justify="left" if col == "source" else "right")
    reasons: Counter[str] = Counter()
    set_aside: Counter[str] = Counter()
    for r in report.results:
        if r.already_ingested:
            table.add_row(
                r.source,
                "already ingested: nothing changed",
                "",
                "",
                "",
                "",
                "",
                f"{r.seconds:.2f}",
            )
            continue
        table.add_row(
            r.source,
            f"{r.rows_read:,}",
            f"{r.rows_accepted:,}",
            f"{r.rows_quarantined:,}",
            f"{r.values_set_aside:,}",
            f"{r.rows_new:,}",
            f"{r.rows_updated:,}",
            f"{r.seconds:.2f}",
        )
        for reason, n in r.reasons.items():
            reasons[f"{r.source} · {reason}"] += n
        for reason, n in r.set_aside.items():
            set_aside[f"{r.source} · {reason}"] += n
    out.print(table)
    _intake_reasons(out, report, reasons, set_aside)
    accepted = sum(r.rows_accepted for r in report.results)
    out.print(
        f"[bold]done[/] {len(report.results)} sources ingested, {len(report.refused)} refused, "
        f"{accepted:,} records staged in {seconds:.1f} s"
    )


def _intake_reasons(
    out: Console, report: IntakeReport, reasons: Counter[str], set_aside: Counter[str]
) -> None:
    """What minimization dropped, why rows were quarantined and values set aside, which
    sources were refused and which failed."""
    dropped = [r for r in report.results if r.dropped]
    if dropped:
        out.print("[bold]fields dropped by minimization (values dropped)[/]")
        for r in dropped:
            fields = ", ".join(f"{k} {v:,}" for k, v in r.dropped.items())
            out.print(f"  {r.source}: {escape(fields)}", highlight=False)
    if reasons:
        out.print("[bold]quarantined, by reason[/]")
        for reason, n in reasons.most_common():
            out.print(f"  {n:>7,}  {escape(reason)}", highlight=False)
    if set_aside:
        out.print("[bold]values set aside, their records kept, by reason[/]")
        for reason, n in set_aside.most_common():
            out.print(f"  {n:>7,}  {escape(reason)}", highlight=False)
    if report.refused:
        out.print("[bold]sources refused[/]")
        for reg in report.refused:
            for refusal in reg.refusals:
                name = reg.declaration.name
                out.print(f"  [red]{name}[/] {escape(str(refusal))}", highlight=False)
    for name, message in report.failures.items():
        out.print(f"  [red]failed[/] {name}: {escape(message)}", highlight=False)


def emit_json(out: Console, value: object) -> None:
    """Print a result as JSON (pydantic models, dataclasses, lists of either)."""
    import dataclasses
    import json

    from pydantic import BaseModel

    def plain(v: object) -> object:
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json")
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v

    print(json.dumps(plain(value), default=str, indent=2))
    del out
