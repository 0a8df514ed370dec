"""Accounts, sign-in and credentials: passwords (argon2), API tokens and login sessions
(both hashed at rest, with expiry and revocation), sign-in attempts limited per account
and per address, and every sign-in, failure and credential change audited."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from habeas.errors import HabeasError, TooManyAttempts, Unauthenticated
from habeas.governance import accounts, audit
from habeas.governance.authz import PURPOSES, ROLES, USUAL_PURPOSE
from habeas.governance.disclosure import facade
from habeas.governance.identity import (
    authenticate,
    bootstrap_admin,
    create_user,
    require_directory,
    set_password,
)
from habeas.store.models import ApiToken, LoginSession

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal

CREDENTIAL_CACHE_SECONDS = 2.0
"""How long this process trusts a checked token or session before reading it again: a
revocation here takes effect at once, one made by another process within this time."""
TOKEN_DAYS = 90

"""Accounts and addresses whose failures are remembered at once (memory stays bounded)."""


class UserPublic(BaseModel):
    """An account as shown: never its password hash."""

    username: str
    role: str
    active: bool
    created_at: datetime


class Issued(BaseModel):
    """A new credential, shown once: only its hash is stored."""

    username: str
    secret: str
    label: str
    expires_at: datetime
    token_id: int | None = None


class SignedIn(BaseModel):
    """A login session: the cookie value (shown once), the account, the purpose chosen."""

    username: str
    role: str
    purpose: str
    session: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@facade
class Users:
    """Use cases on accounts and credentials."""

    def __init__(self, app: Habeas) -> None:
        self.app = app
        self._checked: dict[str, tuple[float, Any]] = {}

    def _cached(self, key: str) -> Any:
        hit = self._checked.get(key)
        if hit is not None and time.monotonic() - hit[0] < CREDENTIAL_CACHE_SECONDS:
            return hit[1]
        return None

    def _remember(self, key: str, value: Any) -> None:
        if len(self._checked) > 10_000:
            self._checked.clear()
        self._checked[key] = (time.monotonic(), value)

    def forget_credentials(self) -> None:
        """Drop every checked credential (after a revocation or a change of account)."""
        self._checked.clear()

    # -- principals ---------------------------------------------------------------------

    def local(self, username: str | None, origin: str) -> Principal | None:
        """The terminal's principal: the local user names the account with ``--as`` (who
        can run the CLI can read the data directory anyway); ``origin`` records the
        operating-system account beside it. The role is still the account's."""
        if not username:
            return None
        return self.app.issue_principal(username, "local", origin)

    def _throttled(self, keys: list[str]) -> bool:
        """Whether the account or the address failed too often in the window (counted
        in the store: every server process and a restart see the same count)."""

        cutoff = _now() - timedelta(minutes=self.app.settings.sign_in_window_minutes)
        with self.app.reader() as s:
            counts = accounts.failures_since(s, [k[:128] for k in keys], cutoff)
        return (
            counts.get(keys[0][:128], 0) >= self.app.settings.max_failures_account
            or counts.get(keys[1][:128], 0) >= self.app.settings.max_failures_address
        )

    def _fail(self, keys: list[str]) -> None:
        """Count a failed sign-in against the account and the address; failures older
        than the window are dropped (a spray of names cannot grow the table for long)."""

        now = _now()
        forget = now - timedelta(minutes=self.app.settings.sign_in_window_minutes)
        with self.app.engine.begin() as conn:
            accounts.count_failure(conn, [k[:128] for k in keys], now, forget)

    def _audit_login(
        self, username: str, role: str, purpose: str, address: str, ok: bool, detail: str
    ) -> None:
        with self.app.engine.begin() as conn:
            audit.append(
                conn,
                user=username[:64],
                role=role,
                purpose=purpose[:32],
                action="login",
                resources=[f"user:{username[:64]}", f"address:{address[:64]}"],
                decision="allow" if ok else "deny",
                detail=detail,
                request_id=f"http:{address}"[:44] + ":" + secrets.token_hex(8),
            )

    def login(self, username: str, password: str, purpose: str, address: str) -> SignedIn:
        """Check a password and open a login session for one purpose; failures are counted
        per account and per address, and refused for a while past the limit."""

        if purpose and purpose not in PURPOSES:
            why = f"unknown purpose {purpose[:32]!r}; purposes are {', '.join(PURPOSES)}"
            self._audit_login(username, "none", purpose, address, False, why)
            raise HabeasError(why)
        keys = [f"user:{username}", f"addr:{address}"]
        if self._throttled(keys):
            self._audit_login(
                username,
                "none",
                purpose,
                address,
                False,
                "refused: too many failed sign-ins; try again later",
            )
            raise TooManyAttempts("too many failed sign-ins: try again in 15 minutes")
        with self.app.sessions() as s:
            try:
                user = authenticate(s, username, password)
            except HabeasError:
                user = None
            if user is None:
                s.rollback()  # let go of the store before auditing the failure
                self._fail(keys)
                self._audit_login(
                    username, "none", purpose, address, False, "wrong user name or password"
                )
                raise Unauthenticated("wrong user name or password")
            purpose = purpose or USUAL_PURPOSE.get(user.role, "")
            if not purpose:
                s.rollback()
                why = f"a {user.role} account names the purpose of its session"
                self._audit_login(username, user.role, "none", address, False, why)
                raise HabeasError(why)
            secret = "hs_" + secrets.token_urlsafe(32)
            expires = _now() + timedelta(hours=self.app.settings.session_hours)
            s.add(
                LoginSession(
                    user_id=user.id,
                    token_hash=_hash(secret),
                    purpose=purpose,
                    created_at=_now(),
                    expires_at=expires,
                    revoked_at=None,
                )
            )
            audit.append(
                s,
                user=user.username,
                role=user.role,
                purpose=purpose,
                action="login",
                resources=[f"user:{user.username}", f"address:{address[:64]}"],
                decision="allow",
                detail=f"password sign-in; session until {expires:%Y-%m-%d %H:%M}",
            )
            s.commit()
            return SignedIn(
                username=user.username,
                role=user.role,
                purpose=purpose,
                session=secret,
                expires_at=expires,
            )

    def from_session(self, secret: str, address: str) -> tuple[Principal, str]:
        """The principal and purpose of a live login session."""
        with self.app.reader() as s:
            row = accounts.login_session_and_account(s, _hash(secret))
        if row is None:
            raise Unauthenticated("unknown session: sign in again")
        sess, user = row
        if sess.revoked_at is not None or sess.expires_at < _now() or not user.active:
            raise Unauthenticated("the session has ended: sign in again")
        return self.app.issue_principal(
            user.username, "session", f"http:{address}:s{sess.id}"
        ), sess.purpose

    def logout(self, secret: str) -> None:
        """End a login session."""
        with self.app.sessions() as s:
            row = accounts.login_session(s, _hash(secret))
            if row is not None and row.revoked_at is None:
                row.revoked_at = _now()
                s.commit()
        self.forget_credentials()

    def from_token(self, token: str, address: str) -> Principal:
        """The principal of an unexpired, unrevoked API token (its use is recorded in every
        audit entry of the request: the request id names the token)."""
        key = "t:" + _hash(token) + "@" + address
        hit = self._cached(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        principal = self._from_token(token, address)
        self._remember(key, principal)
        return principal

    def _from_token(self, token: str, address: str) -> Principal:
        with self.app.reader() as s:
            row = accounts.token_and_account(s, _hash(token))
        if row is None:
            raise Unauthenticated("unknown API token")
        tok, user = row
        if tok.revoked_at is not None:
            raise Unauthenticated("the API token was revoked")
        if tok.expires_at is not None and tok.expires_at < _now():
            raise Unauthenticated("the API token has expired")
        if not user.active:
            raise Unauthenticated("the token's account is not active")
        return self.app.issue_principal(user.username, "token", f"http:{address}:t{tok.id}")

    # -- accounts -----------------------------------------------------------------------

    def bootstrap(self, username: str) -> Issued:
        """The first account (an admin) on a new store; its password is shown once."""
        self.app.create_store()
        password = secrets.token_urlsafe(18)
        with self.app.sessions() as s:
            bootstrap_admin(s, username, password)
            s.commit()
        return Issued(username=username, secret=password, label="password", expires_at=datetime.max)

    def add(self, principal: Principal | None, username: str, role: str) -> Issued:
        """Create an account (admin only); its password is shown once."""
        if role not in ROLES:
            raise HabeasError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        password = secrets.token_urlsafe(18)
        with self.app.work(principal, "oversight", "create_user", write=True) as w:
            create_user(w.session, w.ctx, username, role, password)
            w.done(f"account {username} ({role})", [f"user:{username}"])
        return Issued(username=username, secret=password, label="password", expires_at=datetime.max)

    def reset_password(self, principal: Principal | None, username: str) -> Issued:
        """Give an account a new password (admin only, audited), shown once; the account's
        browser sessions end."""

        password = secrets.token_urlsafe(18)
        with self.app.work(principal, "oversight", "reset_password", write=True) as w:
            set_password(w.session, w.ctx, username, password)
            w.done(f"new password for {username}", [f"user:{username}"])
        self.forget_credentials()
        return Issued(username=username, secret=password, label="password", expires_at=datetime.max)

    def list_users(self, principal: Principal | None) -> list[UserPublic]:
        """Every account and its role (admin and oversight; audited)."""

        with self.app.work(principal, "oversight", "list_users") as w:
            require_directory(w.session, w.ctx, "list_users")
            rows = accounts.accounts(w.session)
            return [
                UserPublic(
                    username=u.username, role=u.role, active=u.active, created_at=u.created_at
                )
                for u in rows
            ]

    def whoami(self, principal: Principal | None) -> UserPublic:
        """The caller's own account, as the store holds it."""
        if principal is None:
            raise Unauthenticated("no credentials: pass --as ACCOUNT, or sign in")
        with self.app.sessions() as s:
            ctx = self.app.context(s, principal, "oversight")
            u = accounts.account(s, ctx.user)
            assert u is not None  # the context was just read from it
            return UserPublic(
                username=u.username, role=u.role, active=u.active, created_at=u.created_at
            )

    def create_token(
        self, principal: Principal | None, username: str, label: str, days: int = TOKEN_DAYS
    ) -> Issued:
        """A new API token for an account (admin only); shown once, stored as a hash."""
        if not 1 <= days <= 366:
            raise HabeasError(f"a token lasts 1 to 366 days, not {days}")
        with self.app.work(principal, "oversight", "issue_token", write=True) as w:
            require_directory(w.session, w.ctx, "issue_token", username)
            user = accounts.account(w.session, username)
            if user is None:
                raise HabeasError(f"no account {username!r}")
            token = "hab_" + secrets.token_urlsafe(32)
            expires = _now() + timedelta(days=days)
            row = ApiToken(
                user_id=user.id,
                token_hash=_hash(token),
                label=label[:128],
                created_at=_now(),
                revoked_at=None,
                expires_at=expires,
            )
            w.session.add(row)
            w.session.flush()
            w.done(
                f"token {row.id} ({label}) for {username}, until {expires:%Y-%m-%d}",
                [f"user:{username}", f"token:{row.id}"],
            )
        return Issued(
            username=username, secret=token, label=label, expires_at=expires, token_id=row.id
        )

    def revoke_token(self, principal: Principal | None, token_id: int) -> None:
        """Revoke an API token by its id (admin only)."""

        with self.app.work(principal, "oversight", "revoke_token", write=True) as w:
            require_directory(w.session, w.ctx, "revoke_token", f"token:{token_id}")
            row = w.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
            if row is None:
                raise HabeasError(f"no API token {token_id}")
            if row.revoked_at is None:
                row.revoked_at = _now()
            w.done(f"token {token_id} revoked", [f"token:{token_id}"])
        self.forget_credentials()
