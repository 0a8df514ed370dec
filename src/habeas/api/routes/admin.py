"""Accounts and API tokens (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from habeas.api.deps import MAX_ID, C, H, edge
from habeas.api.schemas import NewToken, NewUser, Secret
from habeas.app.users import UserPublic

router = APIRouter()


@router.get("/users", tags=["admin"])
@edge
def users(h: H, c: C) -> list[UserPublic]:
    """Every account and its role (admin)."""
    return h.users.list_users(c.principal)


@router.post("/users", tags=["admin"], status_code=201)
@edge
def add_user(h: H, c: C, body: NewUser) -> Secret:
    """Create an account (admin); its password is shown once."""
    got = h.users.add(c.principal, body.username, body.role)
    return Secret(username=got.username, secret=got.secret, expires_at="never")


@router.post("/tokens", tags=["admin"], status_code=201)
@edge
def add_token(h: H, c: C, body: NewToken) -> Secret:
    """Issue an API token (admin); shown once, stored as a hash."""
    got = h.users.create_token(c.principal, body.username, body.label, body.days)
    return Secret(
        username=got.username,
        secret=got.secret,
        token_id=got.token_id,
        expires_at=got.expires_at.isoformat(),
    )


@router.delete("/tokens/{token_id}", tags=["admin"], status_code=204)
@edge
def revoke_token(h: H, c: C, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> None:
    """Revoke an API token (admin)."""
    h.users.revoke_token(c.principal, token_id)
