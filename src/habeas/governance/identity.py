"""Local accounts: users with one role, argon2 password hashes, API tokens hashed at rest.

Managing users is itself an authorized, audited action: only a principal whose role the
policies allow to ``manage_users`` (the admin) may create users or issue tokens.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.errors import AccessDenied, HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import ROLES, AccessContext, Resource, authorize
from habeas.store.models import LoginSession, User

_HASHER = PasswordHasher()
MIN_PASSWORD = 12
DIRECTORY = Resource("UserDirectory", "users")


def refusal(
    ctx: AccessContext,
    action: str,
    resources: list[str],
    why: str,
    kept: dict[str, Any] | None = None,
) -> AccessDenied:
    """A refusal of ``action`` with its audit entry (appended when the work rolls back) and,
    for a refused case step, the attempt ``kept`` on the case."""
    entry: dict[str, Any] = {
        "user": ctx.user,
        "role": ctx.role,
        "purpose": ctx.purpose,
        "action": action,
        "resources": resources,
        "decision": "deny",
        "detail": why,
        "request_id": ctx.request_id or None,
    }
    return AccessDenied(
        f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {why}",
        entry,
        why,
        refusal=kept,
    )


def require_directory(
    session: Session, ctx: AccessContext, action: str, target: str = "users"
) -> None:
    """Allow only a principal the policies let ``manage_users`` (the admin); audited."""
    decision = authorize(ctx, "manage_users", DIRECTORY)
    entry: dict[str, Any] = dict(
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=action,
        resources=[f"user:{target}"],
        decision="allow" if decision.allowed else "deny",
        detail=decision.why(),
        request_id=ctx.request_id or None,
    )
    audit.append(session, **entry)
    if not decision.allowed:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}) may not {action}: {decision.why()}",
            entry,
            decision.why(),
        )


USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s", "2": "z", "8": "b", "_": ""})


def check_username(username: str) -> None:
    """A user name is ASCII letters, digits and ``_``, starting with a letter: a name in
    another script (Cyrillic ``о`` for Latin ``o``) would read as someone else's."""
    if unicodedata.normalize("NFKC", username) != username or not USERNAME.fullmatch(username):
        raise HabeasError(
            f"user name {username.encode('unicode_escape').decode()[:80]!r}: ASCII letters, "
            "digits and _ only, starting with a letter, at most 64 (look-alike letters from "
            "other scripts are refused)"
        )


def username_skeleton(username: str) -> str:
    """What a name looks like: case-folded, with look-alike characters (0/o, 1/l/i, 5/s,
    rn/m, vv/w) made one; two accounts may not share a skeleton."""
    t = unicodedata.normalize("NFKC", username).casefold().translate(_LOOKALIKE)
    return t.replace("rn", "m").replace("vv", "w")


def create_user(
    session: Session, ctx: AccessContext, username: str, role: str, password: str
) -> User:
    """Create a local account (admin only); the password is kept only as an argon2 hash."""
    if role not in ROLES:
        raise HabeasError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise HabeasError(f"a password needs at least {MIN_PASSWORD} characters")
    check_username(username)
    require_directory(session, ctx, "create_user", username)
    twin = next(
        (
            u
            for u in session.execute(select(User.username)).scalars()
            if username_skeleton(u) == username_skeleton(username)
        ),
        None,
    )
    if twin == username:
        raise HabeasError(f"user {username!r} already exists")
    if twin is not None:
        raise HabeasError(
            f"user name {username!r} is too like the existing {twin!r} (same letters once "
            "case and look-alike characters are set aside): choose another"
        )
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


def set_password(session: Session, ctx: AccessContext, username: str, password: str) -> User:
    """Give an account a new password (admin only, audited): the old one and every open
    browser session of the account end with it."""
    if len(password) < MIN_PASSWORD:
        raise HabeasError(f"a password needs at least {MIN_PASSWORD} characters")
    require_directory(session, ctx, "reset_password", username)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no account {username}")
    user.password_hash = _HASHER.hash(password)
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in session.execute(
        select(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
        )
    ).scalars():
        row.revoked_at = now
    session.flush()
    return user


def bootstrap_admin(session: Session, username: str, password: str) -> User:
    """The first account (an admin) on an empty store; refused once any user exists."""
    if session.execute(select(User.id).limit(1)).first() is not None:
        raise HabeasError("users exist already: an admin creates further accounts")
    check_username(username)
    if len(password) < MIN_PASSWORD:
        raise HabeasError(f"a password needs at least {MIN_PASSWORD} characters")
    user = User(
        username=username,
        role="admin",
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )
    session.add(user)
    audit.append(
        session,
        user=username,
        role="admin",
        purpose="oversight",
        action="bootstrap_admin",
        resources=[f"user:{username}"],
        decision="allow",
        detail="first account of the store",
    )
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
