"""Flags from the person index: raised on the case, resolved with a reason and the evidence."""

from __future__ import annotations

from dataclasses import replace

from habeas.cases.casefile import (
    CaseFile,
    Flag,
)
from habeas.cases.events import (
    RaiseFlag,
    ResolveFlag,
)
from habeas.cases.steps.court import later


def raise_flag(case: CaseFile, e: RaiseFlag, reasons: list[str]) -> CaseFile:
    if e.flag not in ("citizenship", "lawful_status"):
        reasons.append(f"flag {e.flag!r} is not citizenship or lawful_status")
    if any(f.kind == e.flag and f.open for f in case.flags):
        return case  # already open: the records behind it are the person index's to show
    # a citizenship flag stops every enforcement step, so nothing is backdated past it; a
    # lawful-status flag holds field action only (and is checked there, whatever the date)
    protected = later(case.protected_on, e.on) if e.flag == "citizenship" else case.protected_on
    return replace(
        case,
        flags=(*case.flags, Flag(e.flag, e.detail, e.record_ids, raised_on=e.on)),
        protected_on=protected,
    )


def resolve_flag(case: CaseFile, e: ResolveFlag, reasons: list[str]) -> CaseFile:
    if not any(f.kind == e.flag and f.open for f in case.flags):
        reasons.append(f"no open {e.flag} flag on the case")
    if len(e.reason.strip()) < 10:
        reasons.append("resolving a flag needs a written reason (10 characters at least)")
    if not e.evidence.strip():
        reasons.append("resolving a flag names the evidence examined")
    flags = tuple(
        replace(f, resolved_by=e.actor, reason=e.reason, evidence=e.evidence)
        if f.kind == e.flag and f.open
        else f
        for f in case.flags
    )
    return replace(case, flags=flags)
