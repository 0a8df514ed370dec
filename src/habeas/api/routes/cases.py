"""Cases: the list, opening one, its steps, documents, counsel, flags, court dates and deadlines."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from habeas.api.deps import MAX_ID, C, H, Limit, Offset, edge
from habeas.api.schemas import Counsel, DocumentIn, DocumentVerification, FlagResolution, OpenCase
from habeas.app.cases.priorities import PolicyCheck
from habeas.app.cases.schemas import (
    CaseList,
    CaseOpened,
    DateReview,
    DocumentOut,
    FlagResolved,
    StepDone,
    StepRequest,
    TaskRow,
    case_json,
)
from habeas.errors import HabeasError

router = APIRouter()


@router.get("/cases", tags=["cases"])
@edge
def cases(
    h: H,
    c: C,
    tier: Annotated[int | None, Query(ge=0, le=10)] = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
    client: Annotated[str, Query(max_length=64)] = "",
) -> CaseList:
    """Cases by tier and score, with the rules that fired (counsel names ``client``)."""
    return h.cases.list_cases(c.principal, c.purpose, tier, state, limit, offset, client=client)


@router.post("/cases", tags=["cases"], status_code=201)
@edge
def open_case(h: H, c: C, body: OpenCase) -> CaseOpened:
    """Open a case on a person of the index."""
    return h.cases.open_case(
        c.principal, c.purpose, body.person_id, body.on or h.today(), body.basis
    )


@router.get("/cases/{case_id}", tags=["cases"])
@edge
def case(
    h: H,
    c: C,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    on: date | None = None,
    client: Annotated[str, Query(max_length=64)] = "",
) -> dict[str, Any]:
    """A case: instruments, gates with their reasons, priority, history, deadlines."""

    view = h.cases.show(c.principal, c.purpose, case_id, on or h.today(), client=client)
    return JSONResponse(case_json(view))  # type: ignore[return-value]  # plain data already


@router.post("/cases/{case_id}/steps", tags=["cases"], status_code=201)
@edge
def step(h: H, c: C, case_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: StepRequest) -> StepDone:
    """Record a step; 403 with every reason when policy or law refuses it, 409 when
    the case moved on since ``version``."""
    return h.cases.step(c.principal, c.purpose, case_id, body)


@router.post("/cases/{case_id}/documents", tags=["cases"], status_code=201)
@edge
def attach(
    h: H, c: C, case_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DocumentIn
) -> DocumentOut:
    """Keep a document on the case (base64); a step cites it by ``document_sha256``."""
    import base64
    import binascii

    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HabeasError("content_base64 is not base64") from None
    return h.cases.attach(c.principal, c.purpose, case_id, body.name, content)


@router.get("/cases/{case_id}/documents/{sha256}", tags=["cases"])
@edge
def document(
    h: H,
    c: C,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    client: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A document kept on the case, as it was attached."""
    name, content = h.cases.document(c.principal, c.purpose, case_id, sha256, client)
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:100]
    disposition = f'attachment; filename="{safe}"'
    return Response(
        content, media_type="application/octet-stream", headers={"Content-Disposition": disposition}
    )


@router.post("/cases/{case_id}/documents/{sha256}/verification", tags=["cases"])
@edge
def verify_document(
    h: H,
    c: C,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    body: DocumentVerification,
) -> DocumentOut:
    """A supervisor who did not attach the document checks it against the court's
    docket: the issuing court and the docket reference (only a verified document may
    be cited as a court's act, and it takes that court as its authority)."""
    return h.cases.verify_document(
        c.principal, c.purpose, case_id, sha256, body.issuer, body.docket_reference
    )


@router.put("/cases/{case_id}/counsel", tags=["cases"], status_code=204)
@edge
def counsel(h: H, c: C, case_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Counsel) -> None:
    """Record the person's counsel."""
    h.cases.counsel(c.principal, c.purpose, case_id, body.counsel)


@router.post("/cases/{case_id}/flags/{flag}/resolve", tags=["cases"])
@edge
def resolve_flag(
    h: H,
    c: C,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    flag: Literal["citizenship", "lawful_status"],
    body: FlagResolution,
) -> FlagResolved:
    """A supervisor resolves a flag on every open case of the person and in the index."""
    return h.cases.resolve_flag(
        c.principal,
        c.purpose,
        case_id,
        flag,
        body.reason,
        body.evidence,
        body.on or h.today(),
    )


@router.get("/court-records/date-review", tags=["cases"])
@edge
def date_review(h: H, c: C, limit: Limit = 50, offset: Offset = 0) -> list[DateReview]:
    """Court records set aside because their dates contradict each other."""
    return h.cases.date_review(c.principal, c.purpose, limit, offset)


@router.get("/tasks", tags=["cases"])
@edge
def tasks(
    h: H,
    c: C,
    on: date | None = None,
    within: Annotated[int, Query(ge=0, le=3650)] = 14,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[TaskRow]:
    """Deadlines due soon, missed ones first."""
    return h.cases.tasks(c.principal, c.purpose, on or h.today(), within, limit, offset)


@router.get("/policy/check", tags=["cases"])
@edge
def policy_check(h: H, c: C) -> PolicyCheck:
    """The priority policy in force, checked: every tier reachable by some facts (with an
    example), the score's range, and any problem (a rigged policy is refused on load)."""
    return h.cases.policy_check(c.principal, c.purpose)
