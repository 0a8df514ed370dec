"""Who is calling, and why: the bearer token or the login session's cookie, and the
purpose named in ``X-Habeas-Purpose``. The principal comes from the store through the
application; nothing the caller sends names a role or an actor."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request

from habeas.app.core import Habeas, Principal
from habeas.errors import Unauthenticated
from habeas.governance.identity import AccessDenied

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
