"""Purpose-bound access to staged records by source, for commands that list or compare
records (explain, review queue, export, quarantine): Cedar decides once per source, the
command keeps only what the purpose allows, and the access is one audit entry.
"""

from __future__ import annotations

from sqlalchemy import Engine

from habeas.errors import AccessDenied, HabeasError
from habeas.governance import audit
from habeas.governance.authz import (
    AccessContext,
    Resource,
    records_independent_of_person,
    source_decisions,
)
from habeas.sources.registry import effective_purposes
from habeas.store.staging import StagingStore


def readable_sources(
    store: StagingStore, ctx: AccessContext, action: str = "read"
) -> dict[str, str]:
    """Source name → why, for every registered source; the permitted ones say 'allowed'.

    Listing commands decide per source, which is sound only while no policy reads a
    record's person; should one ever do, they refuse to run rather than guess."""
    if not records_independent_of_person(role=ctx.role):
        raise HabeasError(
            "the authorization policies read a record's person: records can no longer be "
            "listed per source (decide them record by record)"
        )

    sources = effective_purposes(store)
    anyone = Resource("Person", "*", {"flags": []})
    decisions = source_decisions(ctx, action, sources, anyone)
    return {name: ("allowed" if d.allowed else d.why()) for name, d in decisions.items()}


def record(
    engine: Engine,
    ctx: AccessContext,
    action: str,
    resources: list[str],
    allowed: bool,
    detail: str,
) -> None:
    """One audit entry for a command's access (committed on its own)."""
    with engine.begin() as conn:
        audit.append(
            conn,
            user=ctx.user,
            role=ctx.role,
            purpose=ctx.purpose,
            action=action,
            resources=resources,
            decision="allow" if allowed else "deny",
            detail=detail,
            request_id=ctx.request_id or None,
        )


def require_sources(
    engine: Engine,
    store: StagingStore,
    ctx: AccessContext,
    action: str,
    needed: set[str],
    resources: list[str],
    cedar_action: str = "read",
) -> None:
    """Allow only if Cedar permits ``cedar_action`` on every needed source's records for this
    purpose; audit either way."""
    why = readable_sources(store, ctx, cedar_action)
    refused = sorted(s for s in needed if why.get(s) != "allowed")
    if refused:
        reason = "; ".join(f"{s}: {why.get(s, 'unknown source')}" for s in refused)
        record(engine, ctx, action, resources, False, reason)
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {reason}"
        )
    record(engine, ctx, action, resources, True, "sources: " + ", ".join(sorted(needed)))


def allowed_source_list(
    engine: Engine, store: StagingStore, ctx: AccessContext, action: str, resource: str
) -> list[str]:
    """The sources this purpose may read (refused and audited when there is none)."""
    why = readable_sources(store, ctx)
    allowed = sorted(s for s, w in why.items() if w == "allowed")
    if not allowed:
        record(engine, ctx, action, [resource], False, "no source may be read for this purpose")
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: no source's "
            "records may be read by this role for this purpose"
        )
    withheld = sorted(set(why) - set(allowed))
    record(
        engine,
        ctx,
        action,
        [resource],
        True,
        "sources: "
        + ", ".join(allowed)
        + (f"; withheld: {', '.join(withheld)}" if withheld else ""),
    )
    return allowed
