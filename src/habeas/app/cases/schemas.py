"""Cases' requests and results, and a case view as JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from habeas.cases.casefile import State
from habeas.cases.lifecycle import EVENTS
from habeas.errors import HabeasError

if TYPE_CHECKING:
    from habeas.cases.queries import CaseView


STATES: tuple[str, ...] = tuple(s.value for s in State)
"""Every case state, for choices in the CLI and the API."""

STEP_KINDS: tuple[str, ...] = tuple(sorted(EVENTS))
"""Every step kind a case may record."""


def step_fields(kind: str) -> dict[str, str]:
    """The fields a step of ``kind`` takes (name → type), without who and when."""
    cls = EVENTS.get(kind)
    if cls is None:
        raise HabeasError(f"unknown step {kind!r}; steps are {', '.join(STEP_KINDS)}")
    return {
        f.name: str(f.type)
        for f in dataclasses.fields(cls)
        if f.name not in ("on", "actor", "role", "recorded")
    }


class StepRequest(BaseModel):
    """One step to record on a case: its kind, its fields, the day it carries and the
    version of the case it was decided on (a stale one is a conflict)."""

    kind: str = Field(description="the step, e.g. request_field_action")
    on: date | None = Field(default=None, description="the day the step carries")
    fields: dict[str, str | bool | int | list[str]] = Field(default_factory=dict, max_length=40)
    version: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="refuse if the case moved on"
    )


class StepDone(BaseModel):
    """The case after a step."""

    case_id: int
    kind: str
    state: str
    version: int


class CaseRow(BaseModel):
    """A case in a list: state, tier, score and the rules that fired."""

    id: int
    person_id: str
    state: str
    verified: bool = True
    """False when the case row's state does not carry its history's seal (edited)."""
    tier: int | None
    score: float | None
    policy_version: str | None
    explanation: list[dict[str, Any]]


class CaseList(BaseModel):
    """A page of cases."""

    cases: list[CaseRow]
    limit: int
    offset: int


class TaskRow(BaseModel):
    """A deadline on a case."""

    case_id: int
    person_id: str
    kind: str
    due_on: date
    status: str
    detail: str
    state: str


class FlagResolved(BaseModel):
    """The cases a flag resolution was recorded on, and the first one's state after it."""

    flag: str
    cases: list[int]
    state: str
    version: int


class DateReview(BaseModel):
    """A court record set aside because its dates contradict each other."""

    record_id: str
    person_id: str
    reasons: list[str]
    found_at: datetime
    status: str


class DocumentOut(BaseModel):
    """A document kept on a case: what a step cites as its ``document_sha256``."""

    case_id: int
    sha256: str
    name: str
    size: int
    new: bool
    issuer: str | None = None
    """The court a second person verified it as (None: not verified, no court's act)."""
    docket_reference: str | None = None
    verified_by: str | None = None


class CaseOpened(BaseModel):
    """A case opened on a person."""

    case_id: int
    person_id: str
    state: str


def history_payload(view: CaseView) -> list[dict[str, Any]]:
    """A case's history as plain data (for JSON)."""
    return [
        {
            **h,
            "recorded_at": h["recorded_at"].isoformat()
            if isinstance(h["recorded_at"], datetime)
            else h["recorded_at"],
        }
        for h in view.history
    ]


def case_json(view: CaseView) -> dict[str, Any]:
    """A case view as JSON-ready data."""
    from dataclasses import asdict

    data: dict[str, Any] = json.loads(
        json.dumps(
            {
                "case": view.case,
                "file": asdict(view.file),
                "gates": view.gates,
                "history": history_payload(view),
                "refused": view.refused,
                "instruments": view.instruments,
                "tasks": view.tasks,
            },
            default=str,
        )
    )
    return data
