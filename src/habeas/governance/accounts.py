"""Reads and writes of accounts and their credentials in the operational store: accounts
by name, login sessions and API tokens by their secret's hash, and the sign-in failures
counted against an account or an address. Who may do what with them is decided above
(``habeas.app.users``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from habeas.store.models import ApiToken, LoginSession, SignInFailure, User


def account(session: Session, username: str) -> User | None:
    """An account by its user name."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def accounts(session: Session) -> list[User]:
    """Every account, by user name."""
    return list(session.execute(select(User).order_by(User.username)).scalars())


def login_session(session: Session, secret_hash: str) -> LoginSession | None:
    """A login session by its secret's hash."""
    q = select(LoginSession).where(LoginSession.token_hash == secret_hash)
    return session.execute(q).scalar_one_or_none()


def login_session_and_account(session: Session, secret_hash: str) -> Any:
    """A login session and its account, by the secret's hash (None when unknown)."""
    q = (
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == secret_hash)
    )
    return session.execute(q).one_or_none()


def token_and_account(session: Session, token_hash: str) -> Any:
    """An API token and its account, by the token's hash (None when unknown)."""
    q = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash)
    )
    return session.execute(q).one_or_none()


def failures_since(session: Session, keys: Sequence[str], since: datetime) -> dict[str, int]:
    """Sign-in failures counted against each key (an account, an address) since ``since``."""
    q = (
        select(SignInFailure.key, func.count())
        .where(SignInFailure.key.in_(list(keys)), SignInFailure.at >= since)
        .group_by(SignInFailure.key)
    )
    return {str(k): int(n) for k, n in session.execute(q).all()}


def count_failure(conn: Connection, keys: Sequence[str], now: datetime, forget: datetime) -> None:
    """Count one failure against each key; failures before ``forget`` are dropped."""
    conn.execute(delete(SignInFailure).where(SignInFailure.at < forget))
    conn.execute(insert(SignInFailure), [{"key": k, "at": now} for k in keys])
