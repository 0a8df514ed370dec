"""Custody: the decision after an arrest, release, check-ins."""

from __future__ import annotations

from dataclasses import replace

from habeas.cases.casefile import (
    CaseFile,
)
from habeas.cases.casefile import State as S
from habeas.cases.events import (
    CheckIn,
    DecideCustody,
    Release,
)
from habeas.cases.steps.common import dated

CUSTODY_KINDS = ("detained", "bond", "recognizance", "atd", "order_of_supervision")


def custody(case: CaseFile, e: DecideCustody, reasons: list[str]) -> CaseFile:
    if e.custody not in CUSTODY_KINDS:
        reasons.append(f"custody {e.custody!r} is not one of {', '.join(CUSTODY_KINDS)}")
    if case.encounter == "not_located":
        reasons.append("the person was not located: nobody to decide custody for")
    if e.custody == "detained" and case.encounter != "arrested":
        reasons.append("detention follows an arrest")
    return replace(case, state=S.CUSTODY_DECIDED, custody=e.custody, custody_on=e.on)


def release(case: CaseFile, e: Release, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("a release needs a reason")
    custody = "" if case.custody == "detained" else case.custody  # reporting duties remain
    return replace(case, state=S.RELEASED, custody=custody)


def check_in(case: CaseFile, e: CheckIn, reasons: list[str]) -> CaseFile:
    if case.custody not in ("atd", "order_of_supervision", "recognizance", "bond"):
        reasons.append(f"no reporting duty: custody is {case.custody or 'not decided'}")
    return replace(case, check_ins=(*case.check_ins, dated(e)))
