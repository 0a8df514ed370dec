"""Who is calling, and why: the bearer token or the login session's cookie, and the
purpose named in ``X-Habeas-Purpose``. The principal comes from the store through the
application; nothing the caller sends names a role or an actor."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response

from habeas.app.core import Habeas, Principal
from habeas.app.users import SignedIn
from habeas.errors import AccessDenied, Unauthenticated

SESSION_COOKIE = "habeas_session"
CSRF_COOKIE = "habeas_csrf"
CSRF_HEADER = "x-csrf-token"
PURPOSE_HEADER = "x-habeas-purpose"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """An authenticated request: its principal and its declared purpose."""

    principal: Principal
    purpose: str | None


def address(request: Request) -> str:
    """The caller's network address (for rate limits and the audit log)."""
    return request.client.host if request.client else "unknown"


def csrf_for(session: str) -> str:
    """The CSRF token of a login session: derived from its secret (which the HttpOnly
    cookie keeps from scripts), so a token planted beside another session's cookie, or
    a cookie planted by a sibling host, never matches."""
    return hashlib.sha256(b"habeas-csrf\x00" + session.encode()).hexdigest()[:43]


def start_session(request: Request, response: Response, got: SignedIn) -> None:
    """Set a signed-in session's cookies on ``response`` (the API's sign-in and the pages'
    both): the session's secret HttpOnly, its CSRF token readable by the pages' scripts;
    both SameSite=Strict, Secure under TLS, living as long as the session."""
    secure = request.url.scheme == "https"
    expires = got.expires_at if got.expires_at.tzinfo else got.expires_at.replace(tzinfo=UTC)
    max_age = max(0, int((expires - datetime.now(UTC)).total_seconds()))
    for name, value, httponly in (
        (SESSION_COOKIE, got.session, True),
        (CSRF_COOKIE, csrf_for(got.session), False),
    ):
        response.set_cookie(
            name,
            value,
            httponly=httponly,
            samesite="strict",
            secure=secure,
            max_age=max_age,
            path="/",
        )


def end_session(app: Habeas, request: Request, response: Response) -> None:
    """End the request's login session, if it has one, and clear its cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        app.users.logout(cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")


def caller(app: Habeas, request: Request) -> Caller:
    """Authenticate the request: a bearer token, else a login session's cookie (whose
    writes must carry the CSRF token). The purpose is the header's, else the session's."""
    header = request.headers.get("authorization", "")
    purpose = request.headers.get(PURPOSE_HEADER) or None
    where = address(request)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <API token>'")
        return Caller(app.users.from_token(token.strip(), where), purpose)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal, session_purpose = app.users.from_session(cookie, where)
        if request.method not in SAFE:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent, csrf_for(cookie)):
                raise AccessDenied(
                    "a write with a session cookie needs this session's X-CSRF-Token "
                    "header (the habeas_csrf cookie's value set at sign-in)",
                    None,
                    "csrf",
                )
        if purpose is not None and purpose != session_purpose:
            raise AccessDenied(
                f"this session was opened for purpose {session_purpose}; a signed-in "
                f"session cannot be used for {purpose[:32]!r} (sign in again for it)",
                None,
                "session purpose",
            )
        return Caller(principal, session_purpose)
    raise Unauthenticated("no credentials: send 'Authorization: Bearer <API token>' or sign in")
