"""The source registry: which sources habeas may ingest, and on what legal basis.

A declaration is versioned, never replaced: each version is kept with its hash, its
registrant and its dates; the one in force is the registry's row in ``sources``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
from pydantic import BaseModel

from habeas.errors import HabeasError, SourceRefused, TwoPersonRule, UnknownSource
from habeas.sources.declaration import SourceDeclaration, load_declaration
from habeas.sources.rules import Refusal, legal_basis_refusals, legal_basis_warnings
from habeas.sources.tax_request import RequestEntry, read_request
from habeas.store.staging import StagingStore

RegistrationStatus = Literal["registered", "refused", "pending", "unchanged"]


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one declaration: a new version registered, refused, or
    pending oversight's approval (it widens what the source may be used for), or the
    version in force unchanged."""

    declaration: SourceDeclaration
    path: Path
    refusals: list[Refusal]
    request_entries: list[RequestEntry]
    warnings: list[Refusal] = field(default_factory=list)
    status: RegistrationStatus = "registered"
    version: int = 1
    sha256: str = ""
    previous_sha256: str | None = None
    widens: list[str] = field(default_factory=list)
    """What this version widens over the one in force (purposes, fields, retention, legal
    basis, tax request): a second person must approve it before it takes effect."""

    @property
    def accepted(self) -> bool:
        """True when no rule refuses the source."""
        return not self.refusals

    @property
    def effective(self) -> bool:
        """True when this declaration is the one in force (new or unchanged)."""
        return self.status in ("registered", "unchanged")


def evaluate(path: Path, today: date) -> Registration:
    """Load a declaration and apply every legal-basis rule, without storing anything."""
    decl = load_declaration(path)
    refusals = legal_basis_refusals(decl, today)
    entries: list[RequestEntry] = []
    request_bytes = b""
    if decl.tax is not None and not refusals:
        request = path.parent / decl.tax.request_file
        entries = read_request(request, str(path))
        request_bytes = "\n".join(repr(e) for e in entries).encode()
        if not any(e.valid for e in entries):
            refusals.append(
                Refusal(
                    "tax-6103-request",
                    f"request {decl.tax.request_id} names no person with both a name and an "
                    "address supplied by the requester",
                )
            )
    # the version's identity: the declaration as understood, and the request it carries
    digest = hashlib.sha256(decl.model_dump_json().encode() + b"\0" + request_bytes).hexdigest()
    return Registration(
        decl, path, refusals, entries, legal_basis_warnings(decl, today), sha256=digest
    )


def widening(
    old: SourceDeclaration,
    new: SourceDeclaration,
    old_entries: set[tuple[str, ...]],
    new_entries: set[tuple[str, ...]],
) -> list[str]:
    """What ``new`` allows that ``old`` did not: each item needs oversight's approval."""
    out: list[str] = []
    added = sorted(set(new.purposes) - set(old.purposes))
    if added:
        out.append(f"purposes {added} added")
    old_fields = {(c, f.to, tuple(f.kinds or ())) for c, f in old.fields.items()}
    more = sorted(
        c for c, f in new.fields.items() if (c, f.to, tuple(f.kinds or ())) not in old_fields
    )
    if more:
        out.append(f"fields {more} added or mapped anew")
    if new.retention_days > old.retention_days:
        out.append(f"retention {old.retention_days} → {new.retention_days} days")
    if (new.legal_authority, new.category, new.agency) != (
        old.legal_authority,
        old.category,
        old.agency,
    ):
        out.append("legal authority, category or agency changed")
    if new.agreement != old.agreement:
        out.append("data-sharing agreement changed")
    if new.tax != old.tax:
        out.append("tax basis changed")
    if new_entries - old_entries:
        out.append(f"tax request names {len(new_entries - old_entries)} more person(s)")
    return out


def _entries(entries: list[RequestEntry]) -> set[tuple[str, ...]]:
    return {
        (e.given_name, e.family_name, e.street, e.city, e.state, e.zip) for e in entries if e.valid
    }


def _stored_entries(
    con: duckdb.DuckDBPyConnection, name: str, version: int
) -> set[tuple[str, ...]]:
    rows = con.execute(
        "SELECT given_name, family_name, street, city, state, zip FROM tax_requests "
        "WHERE source = ? AND version = ? AND valid",
        [name, version],
    ).fetchall()
    return {tuple(str(x or "") for x in r) for r in rows}


def register(
    store: StagingStore, path: Path, today: date, registrant: str = "system"
) -> Registration:
    """Record a declaration as a new version of its source, never replacing an old one.

    A first version, or one that narrows or keeps what the source may do, takes effect at
    once. One that widens it (purposes, fields, retention, legal basis, the tax request)
    waits as ``pending`` until oversight approves it (``approve``). A refused declaration
    is kept (with why) so the registry shows what was turned away; it never displaces
    the version in force. The same declaration again is ``unchanged``.
    """
    reg = evaluate(path, today)
    decl = reg.declaration
    now = datetime.now()
    with store.transaction() as con:
        current = con.execute(
            "SELECT version, status, declaration, declaration_sha256 FROM sources WHERE name = ?",
            [decl.name],
        ).fetchall()
        last = con.execute(
            "SELECT coalesce(max(version), 0), arg_max(declaration_sha256, version), "
            "arg_max(status, version) FROM source_versions WHERE name = ?",
            [decl.name],
        ).fetchall()[0]
        version = int(last[0]) + 1
        in_force = current[0] if current and current[0][1] == "registered" else None
        previous = in_force[3] if in_force else None
        status: RegistrationStatus
        if reg.accepted and in_force is not None and previous == reg.sha256:
            return replace(
                reg, status="unchanged", version=int(in_force[0]), previous_sha256=previous
            )
        if reg.accepted and last[1] == reg.sha256 and last[2] == "pending":
            return replace(reg, status="pending", version=version - 1, previous_sha256=previous)
        widens: list[str] = []
        if not reg.accepted:
            status = "refused"
        elif in_force is None:
            status = "registered"
        else:
            old = SourceDeclaration.model_validate(json.loads(in_force[2]))
            widens = widening(
                old,
                decl,
                _stored_entries(con, decl.name, int(in_force[0])),
                _entries(reg.request_entries),
            )
            status = "pending" if widens else "registered"
        con.execute(
            "INSERT INTO source_versions (name, version, status, refusals, declaration, "
            "declaration_path, declaration_sha256, registrant, registered_at, widens) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                decl.name,
                version,
                status,
                [str(r) for r in reg.refusals],
                decl.model_dump_json(),
                str(path.resolve()),
                reg.sha256,
                registrant,
                now,
                widens,
            ],
        )
        if decl.tax is not None and reg.request_entries:
            _store_request(con, decl, version, reg.request_entries)
        if status == "registered":
            _put_in_force(con, decl.name, version, now)
        elif status == "refused" and in_force is None:
            # nothing in force: the registry shows the source as refused, with why
            con.execute("DELETE FROM sources WHERE name = ?", [decl.name])
            con.execute(
                "INSERT INTO sources (name, status, refusals, declaration, declaration_path, "
                "declaration_sha256, registered_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    decl.name,
                    "refused",
                    [str(r) for r in reg.refusals],
                    decl.model_dump_json(),
                    str(path.resolve()),
                    reg.sha256,
                    now,
                    version,
                ],
            )
        store.reseal_source(decl.name)
    return replace(reg, status=status, version=version, previous_sha256=previous, widens=widens)


def _store_request(
    con: duckdb.DuckDBPyConnection,
    decl: SourceDeclaration,
    version: int,
    entries: list[RequestEntry],
) -> None:
    assert decl.tax is not None
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
            "version": [version] * len(entries),
        }
    )
    con.register("request_entries", table)
    con.execute("INSERT INTO tax_requests SELECT * FROM request_entries")
    con.unregister("request_entries")


def _put_in_force(con: duckdb.DuckDBPyConnection, name: str, version: int, now: datetime) -> None:
    """Make ``version`` the source's declaration in force; the one before is superseded."""
    con.execute(
        "UPDATE source_versions SET status = 'superseded', effective_to = ? "
        "WHERE name = ? AND status = 'registered' AND version <> ?",
        [now, name, version],
    )
    con.execute(
        "UPDATE source_versions SET status = 'registered', effective_from = ? "
        "WHERE name = ? AND version = ?",
        [now, name, version],
    )
    row = con.execute(
        "SELECT refusals, declaration, declaration_path, declaration_sha256 FROM source_versions "
        "WHERE name = ? AND version = ?",
        [name, version],
    ).fetchall()[0]
    con.execute("DELETE FROM sources WHERE name = ?", [name])
    con.execute(
        "INSERT INTO sources (name, status, refusals, declaration, declaration_path, "
        "declaration_sha256, registered_at, version) "
        "VALUES (?, 'registered', ?, ?, ?, ?, ?, ?)",
        [name, row[0], row[1], row[2], row[3], now, version],
    )


def decide(
    store: StagingStore, name: str, version: int, approver: str, approve: bool, reason: str
) -> None:
    """Approve (it takes effect now) or reject a pending version. The approver may not be
    the engineer who registered it: a widening needs a second person."""
    with store.transaction() as con:
        rows = con.execute(
            "SELECT status, registrant FROM source_versions WHERE name = ? AND version = ?",
            [name, version],
        ).fetchall()
        if not rows:
            raise HabeasError(f"source {name!r} has no version {version} (see 'sources history')")
        status, registrant = rows[0]
        if status != "pending":
            raise HabeasError(f"{name} version {version} is {status}, not pending approval")
        if registrant == approver:
            raise TwoPersonRule(
                f"{approver} registered {name} version {version}; a second person must "
                "approve a change that widens what a source may be used for"
            )
        now = datetime.now()
        con.execute(
            "UPDATE source_versions SET status = ?, decided_by = ?, decided_at = ?, "
            "decision_reason = ? WHERE name = ? AND version = ?",
            ["registered" if approve else "rejected", approver, now, reason, name, version],
        )
        if approve:
            _put_in_force(con, name, version, now)
            store.reseal_source(name)


def retire(store: StagingStore, name: str, by: str, reason: str) -> int:
    """Retire a source: nothing more may be ingested from it (its staged records keep their
    retention); returns the version retired."""
    with store.transaction() as con:
        rows = con.execute("SELECT version, status FROM sources WHERE name = ?", [name]).fetchall()
        if not rows or rows[0][1] != "registered":
            raise HabeasError(f"source {name!r} has no version in force to retire")
        version = int(rows[0][0])
        now = datetime.now()
        con.execute(
            "UPDATE source_versions SET status = 'retired', effective_to = ?, decided_by = ?, "
            "decided_at = ?, decision_reason = ? WHERE name = ? AND version = ?",
            [now, by, now, reason, name, version],
        )
        con.execute(
            "UPDATE sources SET status = 'retired', refusals = ? WHERE name = ?",
            [[f"[retired] retired by {by} on {now:%Y-%m-%d}: {reason}"], name],
        )
        store.reseal_source(name)
    return version


class SourceVersion(BaseModel):
    """One version of a source's declaration, as the history shows it."""

    name: str
    version: int
    status: str
    sha256: str
    registrant: str
    registered_at: datetime
    effective_from: datetime | None
    effective_to: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    widens: list[str]
    refusals: list[str]
    purposes: list[str]


def history(store: StagingStore, name: str) -> list[SourceVersion]:
    """Every version of a source's declaration, oldest first."""
    rows = store.rows(
        "SELECT name, version, status, declaration_sha256, registrant, registered_at, "
        "effective_from, effective_to, decided_by, decided_at, widens, refusals, declaration "
        "FROM source_versions WHERE name = ? ORDER BY version",
        [name],
    )
    if not rows:
        get_source(store, name)  # names what is registered
    return [
        SourceVersion(
            name=r[0],
            version=int(r[1]),
            status=r[2],
            sha256=r[3],
            registrant=r[4],
            registered_at=r[5],
            effective_from=r[6],
            effective_to=r[7],
            decided_by=r[8],
            decided_at=r[9],
            widens=list(r[10] or []),
            refusals=list(r[11] or []),
            purposes=list(json.loads(r[12]).get("purposes", [])),
        )
        for r in rows
    ]


def version_purposes(store: StagingStore) -> dict[str, dict[int, list[str]]]:
    """Source → declaration version → the purposes its staged records may be read for.

    A record keeps the purposes of the version it was ingested under, narrowed by the
    version in force: a widening reaches only records ingested under the widened version,
    a narrowing applies to every record at once. Covers the version in force and every
    version still holding records."""
    current: dict[str, tuple[int, set[str]]] = {
        # a row edited outside habeas (a purpose widened by hand) grants nothing
        name: (
            int(version or 1),
            set(json.loads(decl).get("purposes", []))
            if store.source_sealed(name, status, decl, version, seal)
            else set(),
        )
        for name, status, decl, version, seal in store.rows(
            "SELECT name, status, declaration, version, seal FROM sources"
        )
    }
    out: dict[str, dict[int, list[str]]] = {
        name: {version: sorted(p)} for name, (version, p) in current.items()
    }
    held = store.rows(
        "SELECT v.name, v.version, v.declaration FROM source_versions v "
        "WHERE EXISTS (SELECT 1 FROM records r WHERE r.source = v.name "
        "AND coalesce(r.source_version, 1) = v.version)"
    )
    for name, version, decl in held:
        if name in current:
            declared = set(json.loads(decl).get("purposes", []))
            out[name][int(version)] = sorted(declared & current[name][1])
    return out


def shared_purposes(versions: dict[str, dict[int, list[str]]]) -> dict[str, list[str]]:
    """Source → the purposes *all* its records may be read for (those every version
    holding records allows), from ``version_purposes``."""
    return {
        name: sorted(set.intersection(*(set(p) for p in by_version.values())))
        for name, by_version in versions.items()
    }


def effective_purposes(store: StagingStore) -> dict[str, list[str]]:
    """What a command that decides per source, not per record, may rely on: the purposes
    all of each source's staged records may be read for."""
    return shared_purposes(version_purposes(store))


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
        "SELECT declaration, status, refusals, declaration_path, registered_at, version, seal "
        "FROM sources WHERE name = ?",
        [name],
    )
    if not rows:
        known = [r[0] for r in store.rows("SELECT name FROM sources ORDER BY name")]
        hint = f"; registered: {', '.join(known)}" if known else "; none registered yet"
        raise UnknownSource(f"unknown source {name!r}{hint} (register it with 'sources add')")
    decl_json, status, refusals, decl_path, at, version, seal = rows[0]
    decl = SourceDeclaration.model_validate(json.loads(decl_json))
    if not store.source_sealed(name, status, decl_json, version, seal):
        status = "unsealed"
        refusals = [
            f"[unsealed] the registry row of {name} does not carry its seal (edited "
            "outside habeas): nothing is ingested or read under it; report it to "
            "oversight and register the declaration again"
        ]
    return RegisteredSource(decl, status, list(refusals), decl_path, at)


def list_sources(store: StagingStore) -> list[RegisteredSource]:
    """Every source in the registry, registered or refused, by name."""
    names = [r[0] for r in store.rows("SELECT name FROM sources ORDER BY name")]
    return [get_source(store, n) for n in names]


def usable_source(store: StagingStore, name: str, today: date) -> SourceDeclaration:
    """The declaration of a source that may be ingested today, re-checking every rule."""
    entry = get_source(store, name)
    if entry.status != "registered":
        raise SourceRefused(name, entry.refusals or [f"[{entry.status}] not in force"])
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
