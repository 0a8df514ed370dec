"""Sign-in and sign-out (the session cookie and its CSRF token), and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from habeas.api.auth import address, end_session, start_session
from habeas.api.deps import C, H, edge
from habeas.api.schemas import Login, SessionOut
from habeas.app.users import UserPublic

router = APIRouter()


@router.post("/auth/login", tags=["auth"])
@edge
def login(h: H, body: Login, request: Request, response: Response) -> SessionOut:
    """Sign in with a password for one purpose; the session cookie is HttpOnly,
    SameSite=Strict (and Secure under TLS); the CSRF cookie's value goes in the
    X-CSRF-Token header of every write."""

    got = h.users.login(body.username, body.password, body.purpose, address(request))
    start_session(request, response, got)
    return SessionOut(
        username=got.username,
        role=got.role,
        purpose=got.purpose,
        expires_at=got.expires_at.isoformat(),
    )


@router.post("/auth/logout", tags=["auth"], status_code=204)
@edge
def logout(h: H, c: C, request: Request, response: Response) -> None:
    """End the login session."""
    end_session(h, request, response)
    del c


@router.get("/whoami", tags=["auth"])
@edge
def whoami(h: H, c: C) -> UserPublic:
    """The account the credentials act as."""
    return h.users.whoami(c.principal)
