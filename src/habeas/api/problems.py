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

from habeas.errors import HabeasError

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


def problem(
    status: int, title: str, detail: str, request: Request | None = None, **extra: Any
) -> JSONResponse:
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
    """The problem for an application error: its status and title are the error's own
    (``habeas.errors``); anything else is a 500 that says the request was rolled back."""
    if isinstance(exc, HabeasError):
        extra = {k: v for k, v in exc.problem().items() if v is not None}
        return problem(exc.status, exc.title, str(exc), request, **extra)
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
