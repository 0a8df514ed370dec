"""The source registry: which sources habeas may ingest, and on what legal basis."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from habeas.errors import SourceRefused, UnknownSource
from habeas.sources.declaration import SourceDeclaration, load_declaration
from habeas.sources.rules import Refusal, legal_basis_refusals
from habeas.sources.tax_request import RequestEntry, read_request
from habeas.store.staging import StagingStore


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one declaration."""

    declaration: SourceDeclaration
    path: Path
    refusals: list[Refusal]
    request_entries: list[RequestEntry]

    @property
    def accepted(self) -> bool:
        """True when no rule refuses the source."""
        return not self.refusals


def evaluate(path: Path, today: date) -> Registration:
    """Load a declaration and apply every legal-basis rule, without storing anything."""
    decl = load_declaration(path)
    refusals = legal_basis_refusals(decl, today)
    entries: list[RequestEntry] = []
    if decl.tax is not None and not refusals:
        entries = read_request(path.parent / decl.tax.request_file, str(path))
        if not any(e.valid for e in entries):
            refusals.append(
                Refusal(
                    "tax-6103-request",
                    f"request {decl.tax.request_id} names no person with both a name and an "
                    "address supplied by the requester",
                )
            )
    return Registration(decl, path, refusals, entries)


def register(store: StagingStore, path: Path, today: date) -> Registration:
    """Record a declaration in the registry, as registered or as refused with its reasons.

    A refused declaration is kept (with why) so the registry shows what was turned away.
    """
    reg = evaluate(path, today)
    decl = reg.declaration
    status = "registered" if reg.accepted else "refused"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.transaction() as con:
        con.execute("DELETE FROM sources WHERE name = ?", [decl.name])
        con.execute("DELETE FROM tax_requests WHERE source = ?", [decl.name])
        con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                decl.name,
                status,
                [str(r) for r in reg.refusals],
                decl.model_dump_json(),
                str(path.resolve()),
                digest,
                datetime.now(),
            ],
        )
        if decl.tax is not None and reg.request_entries:
            entries = reg.request_entries
            table = pa.table(
                {
                    "source": [decl.name] * len(entries),
                    "request_id": [decl.tax.request_id] * len(entries),
                    "entry_no": [e.entry_no for e in entries],
                    "given_name": [e.given_name for e in entries],
                    "family_name": [e.family_name for e in entries],
                    "street": [e.street for e in entries],
                    "city": [e.city for e in entries],
                    "state": [e.state for e in entries],
                    "zip": [e.zip for e in entries],
                    "valid": [e.valid for e in entries],
                    "problem": [e.problem for e in entries],
                }
            )
            con.register("request_entries", table)
            con.execute("INSERT INTO tax_requests SELECT * FROM request_entries")
            con.unregister("request_entries")
    return reg


@dataclass(frozen=True)
class RegisteredSource:
    """A row of the registry."""

    declaration: SourceDeclaration
    status: str
    refusals: list[str]
    declaration_path: str
    registered_at: datetime


def get_source(store: StagingStore, name: str) -> RegisteredSource:
    """The registry entry for ``name``; raises UnknownSource naming what is registered."""
    rows = store.rows(
        "SELECT declaration, status, refusals, declaration_path, registered_at "
        "FROM sources WHERE name = ?",
        [name],
    )
    if not rows:
        known = [r[0] for r in store.rows("SELECT name FROM sources ORDER BY name")]
        hint = f"; registered: {', '.join(known)}" if known else "; none registered yet"
        raise UnknownSource(f"unknown source {name!r}{hint} (register it with 'sources add')")
    decl_json, status, refusals, decl_path, at = rows[0]
    decl = SourceDeclaration.model_validate(json.loads(decl_json))
    return RegisteredSource(decl, status, list(refusals), decl_path, at)


def list_sources(store: StagingStore) -> list[RegisteredSource]:
    """Every source in the registry, registered or refused, by name."""
    names = [r[0] for r in store.rows("SELECT name FROM sources ORDER BY name")]
    return [get_source(store, n) for n in names]


def usable_source(store: StagingStore, name: str, today: date) -> SourceDeclaration:
    """The declaration of a source that may be ingested today, re-checking every rule."""
    entry = get_source(store, name)
    if entry.status != "registered":
        raise SourceRefused(name, entry.refusals)
    refusals = legal_basis_refusals(entry.declaration, today)
    if refusals:
        raise SourceRefused(name, [str(r) for r in refusals])
    return entry.declaration


def check_sources(store: StagingStore, today: date) -> dict[str, list[Refusal]]:
    """Re-apply the rules to every registered source as of ``today`` (agreements lapse)."""
    return {
        entry.declaration.name: legal_basis_refusals(entry.declaration, today)
        for entry in list_sources(store)
    }
