"""The application object: one ``Habeas`` built from ``Settings``, the only thing the edges
call. It owns the operational store's engine, opens the staging store, turns an
authenticated principal into an access context (role from the account, never from the
caller), and runs every use case in a unit of work that commits or rolls back whole.

A refusal rolls the work back and is then audited in a short transaction of its own;
a use case that fails for any other reason is audited too, with the error, so the log
records what happened and not only what was allowed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError as _SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from habeas.app import wiring
from habeas.app.audit_log import AuditLog
from habeas.app.cases import Cases
from habeas.app.custody import Custody
from habeas.app.field import Field
from habeas.app.index import PersonIndex
from habeas.app.monitor import Monitor
from habeas.app.packets import Packets
from habeas.app.pipeline import Pipeline
from habeas.app.redress import Redress
from habeas.app.users import Users
from habeas.cases.common import keep_refused_attempt
from habeas.errors import AccessDenied, HabeasError, Unauthenticated
from habeas.governance import accounts, audit, disclosure
from habeas.governance.authz import PURPOSES, AccessContext, whole_identifiers
from habeas.settings import Settings
from habeas.store import keys
from habeas.store.operational import (
    current_revision,
    is_sqlite,
    make_engine,
    reading,
    revisions,
    session_factory,
    sqlite_path,
    upgrade,
)
from habeas.store.staging import StagingStore

if TYPE_CHECKING:
    from habeas.app.audit_log import AuditLog
    from habeas.app.cases import Cases
    from habeas.app.custody import Custody
    from habeas.app.field import Field
    from habeas.app.index import PersonIndex
    from habeas.app.pipeline import Pipeline
    from habeas.app.users import Users
    from habeas.store.staging import StagingStore

log = logging.getLogger(__name__)
SLOW_WORK = 2.0
"""Seconds after which a unit of work is logged as slow (at INFO)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated account, as the application issued it (by password, token, login
    session or the local terminal). Only the application that issued it accepts it: the
    seal is keyed by a secret of that application object."""

    username: str
    via: str
    origin: str
    seal: str = field(repr=False, compare=False)


class Clock(Protocol):
    """What the application asks the time of: the legal day, and the moment."""

    def today(self) -> date:
        """The day, in the agency's zone (this machine's)."""
        ...

    def now(self) -> datetime:
        """The moment, in this machine's zone, naive (as the batch engine keeps it)."""
        ...


class SystemClock:
    """The machine's clock."""

    def today(self) -> date:
        """Today on this machine."""
        return date.today()

    def now(self) -> datetime:
        """Now on this machine."""
        return datetime.now()


@dataclass
class Work:
    """One use case's unit of work: the session, the caller's context, its outcome."""

    session: Session
    ctx: AccessContext
    action: str
    outcome: str = ""
    resources: list[str] = field(default_factory=list)

    def done(self, outcome: str, resources: list[str] | None = None) -> None:
        """Record what the use case did (counts, ids): audited with the work."""
        self.outcome = outcome
        self.resources = list(resources or [])


@dataclass
class StagingWork:
    """One batch use case's unit of work on the staging store: the store, the caller's
    context (the batch engine's writes are its own transactions; what reaches the
    operational store is audited there)."""

    store: StagingStore
    ctx: AccessContext
    action: str


def redact_url(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class Habeas:
    """The application: built from settings, with nothing done at import or construction
    beyond remembering them; the stores open on first use."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        """Where use cases read the day and the moment (a test passes a fixed one)."""
        disclosure.install()
        wiring.install()
        self._secret = secrets.token_bytes(32)
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._readers: sessionmaker[Session] | None = None
        self._migrated = False
        # SQLite takes its one write lock at the start of every transaction here (audited
        # reads write too); this process queues its own units of work on a lock of its own
        # rather than have them poll SQLite's busy handler against each other
        self._queue: threading.RLock | None = (
            threading.RLock() if is_sqlite(settings.operational_url) else None
        )

        self.users: Users = Users(self)
        self.pipeline: Pipeline = Pipeline(self)
        self.sources = self.pipeline
        self.index: PersonIndex = PersonIndex(self)
        self.cases: Cases = Cases(self)
        self.priorities = self.cases
        self.custody: Custody = Custody(self)
        self.field: Field = Field(self)
        self.audit: AuditLog = AuditLog(self)
        self.monitor: Monitor = Monitor(self)
        self.packets: Packets = Packets(self)
        self.redress: Redress = Redress(self)

    def today(self) -> date:
        """The day use cases act on unless told another (``clock``)."""
        return self.clock.today()

    @property
    def serializes_calls(self) -> bool:
        """True when this process runs its units of work one at a time (SQLite's one
        writer): an edge then calls in place rather than hop to a worker thread."""
        return self._queue is not None

    # -- stores -------------------------------------------------------------------------

    def _sqlite_path(self) -> Path | None:
        return sqlite_path(self.settings.operational_url)

    def store_exists(self) -> bool:
        """True when the operational store exists and is migrated."""
        path = self._sqlite_path()
        if path is not None and not path.exists():
            return False
        return current_revision(self._connect()) is not None

    def _connect(self) -> Engine:
        if self._engine is None:
            url = self.settings.operational_url
            engine = make_engine(url)
            try:
                with engine.connect():
                    pass
            except OperationalError as exc:
                engine.dispose()
                first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise HabeasError(
                    f"cannot reach the operational store at {redact_url(url)}: {first}"
                ) from None

            keys.register(engine, keys.load_or_create(self.settings.data_dir))
            self._engine = engine
            self._sessions = session_factory(engine)
            self._readers = session_factory(reading(engine))
        return self._engine

    @property
    def engine(self) -> Engine:
        """The operational store's engine; refuses a store that does not exist yet (so a
        command run from the wrong folder never creates an empty one)."""
        if self._migrated and self._engine is not None:
            return self._engine
        path = self._sqlite_path()
        if path is not None and not path.exists():
            raise HabeasError(
                f"no operational store at {path}: run `habeas demo` or `habeas db upgrade` "
                "there first, or pass --data-dir"
            )
        engine = self._connect()
        if not self._migrated:
            at, head = current_revision(engine), revisions()[-1]
            if at is None:
                raise HabeasError(
                    "the operational store is empty: run `habeas db upgrade` (or `habeas demo`)"
                )
            if at != head:
                raise HabeasError(
                    f"the operational store is at revision {at} and this habeas needs {head}: "
                    "run `habeas db upgrade`"
                )
            self._migrated = True
        return engine

    def create_store(self) -> tuple[str | None, str | None]:
        """Create or migrate the operational store; (revision before, revision after)."""

        engine = self._connect()
        before = current_revision(engine)
        upgrade(engine)
        return before, current_revision(engine)

    def sessions(self) -> Session:
        """A new session on the operational store."""
        self.engine  # noqa: B018 - refuses a missing store with the fix to run
        assert self._sessions is not None
        return self._sessions()

    def reader(self) -> Session:
        """A session that only reads (on SQLite it takes no write lock)."""
        self.engine  # noqa: B018
        assert self._readers is not None
        return self._readers()

    @contextmanager
    def staging(self, create: bool = False) -> Iterator[StagingStore]:
        """The DuckDB staging store (the batch engine); refuses a missing one unless
        ``create``."""

        path = self.settings.staging_path
        if not create and not path.exists():
            raise HabeasError(
                f"no staging store at {path}: register and ingest sources first "
                "(`habeas sources add`, `habeas ingest`), or pass --data-dir"
            )
        with StagingStore(path, threads=self.settings.threads) as store:
            yield store

    def close(self) -> None:
        """Release the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- identity -----------------------------------------------------------------------

    def _seal(self, username: str, via: str, origin: str) -> str:
        msg = f"{username}\x00{via}\x00{origin}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def issue_principal(self, username: str, via: str, origin: str) -> Principal:
        """A principal for an account the caller has authenticated (internal: the edges
        get principals from ``users.login``, ``users.from_token`` or ``users.local``)."""
        return Principal(username, via, origin, self._seal(username, via, origin))

    def _authentic(self, principal: Principal) -> bool:
        expected = self._seal(principal.username, principal.via, principal.origin)
        return hmac.compare_digest(expected, principal.seal)

    def context(
        self,
        session: Session,
        principal: Principal | None,
        purpose: str | None,
        client: str = "",
    ) -> AccessContext:
        """The access context of an authenticated principal: the role is the account's, as
        the store holds it now; the actor is the account."""
        if principal is None:
            raise Unauthenticated("no credentials: sign in, or send an API token")
        if not isinstance(principal, Principal) or not self._authentic(principal):
            raise Unauthenticated("credentials not issued by this application")
        if not purpose:
            raise HabeasError(
                "no purpose: every request names one (X-Habeas-Purpose header, --purpose); "
                f"purposes are {', '.join(PURPOSES)}"
            )
        if purpose not in PURPOSES:
            raise HabeasError(f"unknown purpose {purpose!r}; purposes are {', '.join(PURPOSES)}")
        user = accounts.account(session, principal.username)
        if user is None or not user.active:
            raise Unauthenticated(f"no active account {principal.username!r}")
        request_id = f"{principal.origin[:44]}:{uuid.uuid4().hex[:16]}"
        ctx = AccessContext(user.username, user.role, purpose, client=client, request_id=request_id)
        disclosure.bind(whole_identifiers(ctx))
        return ctx

    # -- units of work ------------------------------------------------------------------

    @contextmanager
    def work(
        self,
        principal: Principal | None,
        purpose: str | None,
        action: str,
        client: str = "",
        write: bool = False,
    ) -> Iterator[Work]:
        """Run one use case: commit on success (with its outcome audited when ``write``),
        roll back on any failure and audit the refusal or the error on its own."""
        with (
            self._queue or nullcontext(),
            self._unit(principal, purpose, action, client, write) as w,
        ):
            yield w

    @contextmanager
    def _unit(
        self,
        principal: Principal | None,
        purpose: str | None,
        action: str,
        client: str,
        write: bool,
    ) -> Iterator[Work]:
        session = self.sessions()
        audit.defer_until_commit(session)
        ctx: AccessContext | None = None
        started = time.perf_counter()
        try:
            ctx = self.context(session, principal, purpose, client)
            w = Work(session, ctx, action)
            yield w
            if write or w.outcome:
                audit.append(
                    session,
                    user=ctx.user,
                    role=ctx.role,
                    purpose=ctx.purpose,
                    action=f"{action}:outcome",
                    resources=w.resources,
                    decision="allow",
                    detail=f"succeeded: {w.outcome or 'done'}",
                    request_id=ctx.request_id,
                )
            session.commit()
        except BaseException as exc:
            session.rollback()
            session.close()
            if not isinstance(exc, HabeasError):  # not a refusal: the store or a bug
                log.warning("%s failed: %s: %s", action, type(exc).__name__, str(exc)[:300])
            self.record_failure(ctx, principal, purpose, action, exc)
            raise
        finally:
            session.close()
            spent = time.perf_counter() - started
            if spent >= SLOW_WORK:
                log.info("%s took %.1f s", action, spent)

    def batch_context(
        self, principal: Principal | None, purpose: str | None, action: str
    ) -> AccessContext:
        """The caller's context for a batch use case, read in a short session (a batch job
        holds no session of the operational store open); a refusal is audited."""
        try:
            with self.sessions() as s:
                return self.context(s, principal, purpose)
        except HabeasError as exc:  # audited once the session has let go of the store
            self.record_failure(None, principal, purpose, action, exc)
            raise

    @contextmanager
    def staging_work(
        self,
        principal: Principal | None,
        purpose: str | None,
        action: str,
        create: bool = False,
        ctx: AccessContext | None = None,
    ) -> Iterator[StagingWork]:
        """Run one batch use case on the staging store, as ``work`` runs one on the
        operational store: the caller's context (``batch_context``, unless the use case
        read it first to decide something), the store opened (a missing one refused
        unless ``create``), and any failure audited once. A refusal (403) raised inside
        is the use case's to audit, with its reasons."""
        ctx = ctx or self.batch_context(principal, purpose, action)
        try:
            with self.staging(create) as st:
                yield StagingWork(st, ctx, action)
        except AccessDenied:
            raise
        except Exception as exc:
            self.record_failure(ctx, None, ctx.purpose, action, exc)
            raise

    def record_failure(
        self,
        ctx: AccessContext | None,
        principal: Principal | None,
        purpose: str | None,
        action: str,
        exc: BaseException,
    ) -> None:
        """Audit a refused or failed use case in a transaction of its own: the refusal's own
        entry when it carries one, else an entry naming the error."""
        entry = getattr(exc, "entry", None)
        try:
            with self.engine.begin() as conn:
                if entry:
                    audit.append(conn, **entry)
                    refusal = getattr(exc, "refusal", None)
                    if refusal:
                        keep_refused_attempt(conn, refusal)
                    if entry.get("decision") == "deny":
                        return
                user = ctx.user if ctx else (principal.username if principal else "anonymous")
                audit.append(
                    conn,
                    user=user,
                    role=ctx.role if ctx else "none",
                    purpose=ctx.purpose if ctx else (purpose or "none")[:32],
                    action=f"{action}:outcome",
                    resources=[],
                    decision="deny",
                    detail=f"failed: {type(exc).__name__}: {str(exc)[:500]}",
                    request_id=ctx.request_id if ctx else None,
                )
        except (HabeasError, _SQLAlchemyError) as second:  # the store itself is failing
            log.error("could not audit the failure of %s: %s", action, second)

    def describe(self) -> dict[str, Any]:
        """Where the stores are (for `habeas whoami` and the API's root)."""
        return {
            "data_dir": str(self.settings.data_dir),
            "operational_store": redact_url(self.settings.operational_url),
        }
