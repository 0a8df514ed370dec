"""The main job: register a directory of sources and ingest each one's file."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from habeas.errors import HabeasError
from habeas.sources.ingest import IngestResult, ingest
from habeas.sources.registry import Registration, register
from habeas.store.staging import StagingStore

EXTENSIONS = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}


@dataclass
class IntakeReport:
    """Everything one intake run did: registrations, ingests, failures, time."""

    registrations: list[Registration] = field(default_factory=list)
    results: list[IngestResult] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def refused(self) -> list[Registration]:
        """Declarations the registry refused."""
        return [r for r in self.registrations if not r.accepted]


def data_file_for(declaration_path: Path, kind: str) -> Path:
    """The data file beside a declaration: same stem, the format's extension."""
    return declaration_path.with_suffix(EXTENSIONS[kind])


def intake_directory(
    store: StagingStore,
    directory: Path,
    today: date,
    on_source: Callable[[str, str], None] | None = None,
    ingest_one: Callable[[str, Path], IngestResult] | None = None,
    registrant: str = "system",
) -> IntakeReport:
    """Register every ``*.toml`` in ``directory`` and ingest each accepted source's file.

    One source's bad file (or a refused ingest) does not stop the others; its error is
    reported by name. ``ingest_one(source, path)`` ingests a file (default: ``ingest`` on
    ``today``; the CLI passes the governed ``ingest_as`` with the caller's context).
    """
    started = time.perf_counter()
    report = IntakeReport()
    note = on_source or (lambda name, stage: None)
    for decl_path in sorted(directory.glob("*.toml")):
        try:
            reg = register(store, decl_path, today, registrant=registrant)
        except HabeasError as exc:
            report.failures[decl_path.name] = str(exc)
            continue
        report.registrations.append(reg)
        name = reg.declaration.name
        if not reg.accepted:
            note(name, "refused")
            continue
        if not reg.effective:  # a widening waits for oversight: nothing is ingested under it
            note(name, "pending approval")
            continue
        note(name, "ingest")
        try:
            data = data_file_for(decl_path, reg.declaration.format.kind)
            if ingest_one is None:
                report.results.append(ingest(store, name, data, today))
            else:
                report.results.append(ingest_one(name, data))
        except HabeasError as exc:
            report.failures[name] = str(exc)
    report.seconds = time.perf_counter() - started
    return report
