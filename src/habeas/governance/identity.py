"""Local accounts: users with one role, argon2 password hashes, API tokens hashed at rest.

Managing users is itself an authorized, audited action: only a principal whose role the
policies allow to ``manage_users`` (the admin) may create users or issue tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.errors import HabeasError
from habeas.governance import audit
from habeas.governance.authz import ROLES, AccessContext, Resource, authorize
from habeas.store.models import ApiToken, User

_HASHER = PasswordHasher()
MIN_PASSWORD = 12
DIRECTORY = Resource("UserDirectory", "users")


class AccessDenied(HabeasError):
    """A request the policies refuse; the refusal has been audited."""


def _require_admin(session: Session, ctx: AccessContext, action: str, target: str) -> None:
    decision = authorize(ctx, "manage_users", DIRECTORY)
    audit.append(
        session, user=ctx.user, role=ctx.role, purpose=ctx.purpose, action=action,
        resources=[f"user:{target}"], decision="allow" if decision.allowed else "deny",
        detail=decision.why(), request_id=ctx.request_id or None,
    )  # fmt: skip
    if not decision.allowed:
        session.commit()  # the denial is recorded even though nothing else happens
        raise AccessDenied(f"{ctx.user} ({ctx.role}) may not {action}: {decision.why()}")


def create_user(
    session: Session, ctx: AccessContext, username: str, role: str, password: str
) -> User:
    """Create a local account (admin only); the password is kept only as an argon2 hash."""
    if role not in ROLES:
        raise HabeasError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise HabeasError(f"a password needs at least {MIN_PASSWORD} characters")
    if not username.isidentifier():
        raise HabeasError(f"user name {username!r}: letters, digits and _ only")
    _require_admin(session, ctx, "create_user", username)
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise HabeasError(f"user {username!r} already exists")
    user = User(
        username=username,
        role=role,
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )
    session.add(user)
    session.flush()
    return user


def bootstrap_admin(session: Session, username: str, password: str) -> User:
    """The first account (an admin) on an empty store; refused once any user exists."""
    if session.execute(select(User.id).limit(1)).first() is not None:
        raise HabeasError("users exist already: an admin creates further accounts")
    if len(password) < MIN_PASSWORD:
        raise HabeasError(f"a password needs at least {MIN_PASSWORD} characters")
    user = User(
        username=username, role="admin", password_hash=_HASHER.hash(password), active=True,
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )  # fmt: skip
    session.add(user)
    audit.append(
        session, user=username, role="admin", purpose="oversight", action="bootstrap_admin",
        resources=[f"user:{username}"], decision="allow", detail="first account of the store",
    )  # fmt: skip
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with this password; one error for every failure (no user probing)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    try:
        if user is None or not user.active:
            raise VerificationError("no such active user")
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise HabeasError("wrong user name or password") from None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, ctx: AccessContext, username: str, label: str) -> str:
    """A new API token for ``username`` (admin only); only its SHA-256 is stored."""
    _require_admin(session, ctx, "issue_token", username)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise HabeasError(f"no user {username!r}")
    token = "hab_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id, token_hash=_token_hash(token), label=label,
            created_at=datetime.now(UTC).replace(tzinfo=None), revoked_at=None,
        )
    )  # fmt: skip
    return token


def user_for_token(session: Session, token: str) -> User:
    """The active user an unrevoked token belongs to."""
    row = session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not row.active:
        raise HabeasError("unknown or revoked token")
    return row
