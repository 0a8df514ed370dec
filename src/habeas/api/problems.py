"""Errors as RFC 9457 problem details: what went wrong, for which field, by which rule.

401 without credentials, 403 with the reason and the deciding policy, 404 for what does
not exist (or may not be known to exist), 409 for a stale version, 413 for a body too
large, 422 for bad input naming the field, 429 for too many sign-ins.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from habeas.app.users import TooManyAttempts
from habeas.cases.access import Conflict
from habeas.cases.service import GateRefused, HistoryBroken
from habeas.errors import HabeasError, NotFound, Unauthenticated
from habeas.governance.identity import AccessDenied

PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem: ``type``, ``title``, ``status``, ``detail``, plus the fields
    and the policy where they help."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    policy: str | None = None
    reasons: list[str] | None = None
    errors: list[dict[str, Any]] | None = None


def problem(status: int, title: str, detail: str, request: Request | None = None,
            **extra: Any) -> JSONResponse:  # fmt: skip
    """A problem-details response."""
    body = Problem(
        type=f"https://habeas.invalid/problems/{title.lower().replace(' ', '-')}",
        title=title,
        status=status,
        detail=detail,
        instance=str(request.url.path) if request else None,
        **extra,
    )
    headers = {"WWW-Authenticate": 'Bearer realm="habeas"'} if status == 401 else None
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM, headers=headers
    )


def for_error(exc: Exception, request: Request) -> JSONResponse:
    """The problem for an application error."""

    if isinstance(exc, Unauthenticated):
        return problem(401, "Unauthenticated", str(exc), request)
    if isinstance(exc, AccessDenied):
        return problem(403, "Forbidden", str(exc), request, policy=exc.policy or None)
    if isinstance(exc, GateRefused):
        return problem(
            403,
            "Refused by law",
            str(exc),
            request,
            reasons=list(exc.refused.reasons),
            policy="lifecycle gate",
        )
    if isinstance(exc, NotFound):
        return problem(404, "Not found", str(exc), request)
    if isinstance(exc, Conflict):
        return problem(409, "Conflict", str(exc), request)
    if isinstance(exc, HistoryBroken):
        return problem(409, "Case history does not verify", str(exc), request)
    if isinstance(exc, TooManyAttempts):
        return problem(429, "Too many attempts", str(exc), request)
    if isinstance(exc, HabeasError):
        return problem(422, "Unprocessable request", str(exc), request)
    return problem(500, "Internal error", "the request failed; it was rolled back", request)


def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field that is wrong and why."""
    errors = [
        {
            "field": ".".join(str(x) for x in e.get("loc", ()) if x != "body"),
            "problem": e.get("msg", "invalid"),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['problem']}" for e in errors) or "invalid request"
    return problem(422, "Unprocessable request", detail, request, errors=errors)


def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Framework errors (404 for an unknown path, 405 …) as problems too."""
    titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
    return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), request)
