"""The HTTP routes: each parses, makes one call on the application, returns its typed
result. Every route but sign-in needs credentials; every route on personal data needs a
purpose."""

import functools
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal, get_args

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from habeas.api.auth import CSRF_COOKIE, SESSION_COOKIE, Caller, address, caller, csrf_for
from habeas.api.field_routes import add_field_routes
from habeas.api.monitor_routes import add_monitor_routes
from habeas.app.audit_log import AuditEntryOut
from habeas.app.cases import (
    CaseList,
    CaseOpened,
    DateReview,
    DocumentOut,
    FlagResolved,
    StepDone,
    StepRequest,
    TaskRow,
    case_json,
)
from habeas.app.choices import PurposeName, RoleName
from habeas.app.core import Habeas
from habeas.app.custody import Booking, FacilityLoad, PlacementOut
from habeas.app.index import (
    DecisionRecorded,
    ExplanationOut,
    PersonFile,
    RecordOut,
    ReviewQueue,
    SearchResult,
)
from habeas.app.pipeline import SourceCheck, SourceOut
from habeas.app.users import UserPublic
from habeas.errors import HabeasError
from habeas.governance.audit_access import AuditFilter
from habeas.sources.registry import SourceVersion as SourceVersionOut
from habeas.store.canonical import Disposition

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_ID = 2_147_483_647
"""The largest id any store holds (a 32-bit integer)."""
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Login(BaseModel):
    """A password sign-in for one purpose."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    purpose: str = Field(
        min_length=1, max_length=32, description=f"one of {', '.join(get_args(PurposeName))}"
    )
    """Checked by the application, so an unknown purpose is refused *and audited*."""


class SessionOut(BaseModel):
    """A signed-in session (the cookie carries the secret)."""

    username: str
    role: str
    purpose: str
    expires_at: str


class Decide(BaseModel):
    """A reviewer's decision on a pair."""

    left: str = Field(min_length=1, max_length=64)
    right: str = Field(min_length=1, max_length=64)
    decision: Literal["same", "different", "unsure"]
    reason: Text


class SourceDecision(BaseModel):
    """Oversight's reason for approving or rejecting a version of a source."""

    reason: str = Field(min_length=1, max_length=2000)


class Unmerge(BaseModel):
    """Records to split off a person."""

    person_id: str = Field(min_length=1, max_length=64)
    records: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=1000
    )
    reason: Text


class Reason(BaseModel):
    """Why, in words a court can read."""

    reason: Text


class OpenCase(BaseModel):
    """A case to open on a person of the index."""

    person_id: str = Field(min_length=1, max_length=64)
    basis: str = Field(default="", max_length=500)
    on: date | None = None


class DocumentVerification(BaseModel):
    """The court a document is from, and its docket reference, as checked."""

    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(
        max_length=32, description="agency, immigration_judge, bia or federal_court"
    )
    docket_reference: str = Field(max_length=64)


class Counsel(BaseModel):
    """The counsel account to record on a case."""

    counsel: str = Field(min_length=1, max_length=64)


class FlagResolution(BaseModel):
    """A flag's resolution: the reason and the evidence examined."""

    reason: Text
    evidence: Text
    on: date | None = None


class Place(BaseModel):
    """A placement in a facility."""

    case_id: int = Field(ge=1, le=2_147_483_647)
    facility: str = Field(min_length=1, max_length=32)
    on: date | None = None
    reason: str = Field(default="placement", max_length=200)


class Day(BaseModel):
    """A day to plan for."""

    on: date | None = None


class Lock(BaseModel):
    """A flight's manifest to lock."""

    flight: str = Field(min_length=1, max_length=64)
    on: date | None = None


class NewUser(BaseModel):
    """An account to create."""

    username: str = Field(min_length=1, max_length=64)
    role: RoleName


class NewToken(BaseModel):
    """An API token to issue."""

    username: str = Field(min_length=1, max_length=64)
    label: str = Field(default="api", min_length=1, max_length=128)
    days: int = Field(default=90, ge=1, le=366)


class Secret(BaseModel):
    """A credential shown once."""

    username: str
    secret: str
    token_id: int | None = None
    expires_at: str


class PlanOut(BaseModel):
    """One transport plan."""

    method: str
    objective: int
    mean_wait: float
    transfers: int
    assigned: dict[str, str]
    unassigned: dict[str, str]


class TransportOut(BaseModel):
    """A transport plan beside its greedy baseline, and who is not ready and why."""

    ready: int
    flights: int
    plan: PlanOut
    greedy: PlanOut
    not_ready: dict[str, int]
    booking: Booking | None = None


class LockOut(BaseModel):
    """A locked manifest."""

    flight: str
    kept: list[int]
    taken_off: dict[int, list[str]]


class DocumentIn(BaseModel):
    """A document to keep on a case."""

    name: str = Field(min_length=1, max_length=200)
    content_base64: str = Field(min_length=4, max_length=1_300_000)


class Verified(BaseModel):
    """The chain recomputed."""

    ok: bool
    entries: int
    head: str
    first_break: str | None
    case_events: int = 0
    history_problem: str | None = None
    head_problem: str | None = None


class CheckpointOut(BaseModel):
    """A signed checkpoint for a witness to keep."""

    size: int
    root: str
    head: str
    time: str
    key_id: str
    signature: str


def _transport(report: Any, booking: Booking | None = None) -> TransportOut:
    def plan(p: Any) -> PlanOut:
        return PlanOut(
            method=p.method,
            objective=p.objective,
            mean_wait=p.mean_wait,
            transfers=p.transfers,
            assigned=p.assigned,
            unassigned=p.unassigned,
        )

    return TransportOut(
        ready=len(report.ready),
        flights=len(report.flights),
        plan=plan(report.plan),
        greedy=plan(report.greedy),
        not_ready=dict(report.not_ready),
        booking=booking,
    )


def build(app: Habeas) -> APIRouter:
    """Every route, over one application object."""
    r = APIRouter()
    inline = app.settings.operational_url.startswith("sqlite")

    def edge(fn: Callable[..., Any]) -> Callable[..., Any]:
        """Run a route's one call on the application: on SQLite inline on the event loop
        (the app serializes its units of work on that store anyway, and a hop to a thread
        costs more than the call), on PostgreSQL in a worker thread, so calls run at once."""

        @functools.wraps(fn)
        async def run(*args: Any, **kwargs: Any) -> Any:
            if inline:
                return fn(*args, **kwargs)
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

        return run

    @edge
    def who(request: Request) -> Caller:
        return caller(app, request)

    C = Annotated[Caller, Depends(who)]

    # -- sign-in ---------------------------------------------------------------------------

    @r.post("/auth/login", tags=["auth"])
    @edge
    def login(body: Login, request: Request, response: Response) -> SessionOut:
        """Sign in with a password for one purpose; the session cookie is HttpOnly,
        SameSite=Strict (and Secure under TLS); the CSRF cookie's value goes in the
        X-CSRF-Token header of every write."""

        got = app.users.login(body.username, body.password, body.purpose, address(request))
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE,
            got.session,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=8 * 3600,
            path="/",
        )
        response.set_cookie(
            CSRF_COOKIE,
            csrf_for(got.session),
            httponly=False,
            samesite="strict",
            secure=secure,
            max_age=8 * 3600,
            path="/",
        )
        return SessionOut(
            username=got.username,
            role=got.role,
            purpose=got.purpose,
            expires_at=got.expires_at.isoformat(),
        )

    @r.post("/auth/logout", tags=["auth"], status_code=204)
    @edge
    def logout(c: C, request: Request, response: Response) -> None:
        """End the login session."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            app.users.logout(cookie)
        response.delete_cookie(SESSION_COOKIE)
        del c

    @r.get("/whoami", tags=["auth"])
    @edge
    def whoami(c: C) -> UserPublic:
        """The account the credentials act as."""
        return app.users.whoami(c.principal)

    # -- sources and the pipeline -----------------------------------------------------------

    @r.get("/sources", tags=["sources"])
    @edge
    def sources(c: C) -> list[SourceOut]:
        """The registry: agency, legal authority, purposes, status of every source."""
        return app.pipeline.list_sources(c.principal, c.purpose)

    @r.get("/sources/check", tags=["sources"])
    @edge
    def sources_check(c: C, on: date | None = None) -> list[SourceCheck]:
        """Every source's legal basis re-checked as of ``on`` (agreements lapse)."""
        return app.pipeline.check(c.principal, c.purpose, on or date.today())

    SourceName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
    Version = Annotated[int, Path(ge=1, le=1_000_000)]

    @r.get("/sources/{name}/history", tags=["sources"])
    @edge
    def source_history(c: C, name: SourceName) -> list[SourceVersionOut]:
        """Every version of a source's declaration: hash, registrant, dates, what it
        widened, who decided."""
        return app.pipeline.source_history(c.principal, c.purpose, name)

    @r.post("/sources/{name}/versions/{version}/{decision}", tags=["sources"])
    @edge
    def source_decide(
        c: C,
        name: SourceName,
        version: Version,
        decision: Literal["approve", "reject"],
        body: SourceDecision,
    ) -> SourceVersionOut:
        """Approve a pending version that widens a source, or reject it so the version in
        force stays (oversight; not its registrant)."""
        return app.pipeline.decide_source(
            c.principal, c.purpose, name, version, decision == "approve", body.reason
        )

    @r.get("/quarantine", tags=["sources"])
    @edge
    def quarantine(
        c: C,
        source: Annotated[str | None, Query(max_length=64)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
        disposition: Disposition | None = None,
    ) -> dict[str, Any]:
        """Rows refused at ingest and values set aside from rows kept, with the file, row,
        field, rule and disposition."""
        page = app.pipeline.quarantine(c.principal, c.purpose, source, limit, offset, disposition)
        return {
            "rows": [asdict(x) for x in page.rows],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }

    # -- the person index ---------------------------------------------------------------------

    @r.get("/persons", tags=["persons"])
    @edge
    def search(
        c: C,
        name: Annotated[str | None, Query(max_length=200)] = None,
        dob: Annotated[str | None, Query(max_length=10)] = None,
        identifier: Annotated[str | None, Query(max_length=64)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> SearchResult:
        """Persons by name, date of birth or identifier, ranked."""
        return app.index.search(
            c.principal,
            c.purpose,
            name=name,
            dob=dob,
            identifier=identifier,
            limit=limit,
            offset=offset,
        )

    @r.get("/persons/{person_id}", tags=["persons"])
    @edge
    def person(c: C, person_id: Id) -> PersonFile:
        """One person's records, links, flags and decisions (what the purpose may see)."""
        return app.index.person(c.principal, c.purpose, person_id)

    @r.get("/records/{record_id}", tags=["persons"])
    @edge
    def record(c: C, record_id: Id) -> RecordOut:
        """One record with its source and legal authority."""
        return app.index.record(c.principal, c.purpose, record_id)

    @r.get("/explain", tags=["persons"])
    @edge
    def explain(
        c: C,
        left: Annotated[str, Query(min_length=1, max_length=64)],
        right: Annotated[str, Query(min_length=1, max_length=64)],
    ) -> ExplanationOut:
        """Why two records were linked or not: the waterfall of match weights."""
        return app.index.explain(c.principal, c.purpose, left, right)

    @r.get("/review/queue", tags=["review"])
    @edge
    def review_queue(c: C, limit: Limit = 20, offset: Offset = 0) -> ReviewQueue:
        """Pairs the model is unsure about, most uncertain first."""
        return app.index.review_queue(c.principal, c.purpose, limit, offset)

    @r.post("/review/decisions", tags=["review"], status_code=201)
    @edge
    def review_decide(c: C, body: Decide) -> DecisionRecorded:
        """Record a reviewer's decision on a pair."""
        return app.index.decide(
            c.principal, c.purpose, body.left, body.right, body.decision, body.reason
        )

    @r.post("/review/unmerges", tags=["review"], status_code=201)
    @edge
    def review_unmerge(c: C, body: Unmerge) -> DecisionRecorded:
        """Split records off a person."""
        return app.index.unmerge(c.principal, c.purpose, body.person_id, body.records, body.reason)

    @r.post("/review/unmerges/{decision_id}/undo", tags=["review"], status_code=201)
    @edge
    def review_undo(
        c: C, decision_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Reason
    ) -> DecisionRecorded:
        """Withdraw an unmerge."""
        return app.index.undo(c.principal, c.purpose, decision_id, body.reason)

    # -- cases ------------------------------------------------------------------------------

    @r.get("/cases", tags=["cases"])
    @edge
    def cases(
        c: C,
        tier: Annotated[int | None, Query(ge=0, le=10)] = None,
        state: Annotated[str | None, Query(max_length=32)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
        client: Annotated[str, Query(max_length=64)] = "",
    ) -> CaseList:
        """Cases by tier and score, with the rules that fired (counsel names ``client``)."""
        return app.cases.list_cases(
            c.principal, c.purpose, tier, state, limit, offset, client=client
        )

    @r.post("/cases", tags=["cases"], status_code=201)
    @edge
    def open_case(c: C, body: OpenCase) -> CaseOpened:
        """Open a case on a person of the index."""
        return app.cases.open_case(
            c.principal, c.purpose, body.person_id, body.on or date.today(), body.basis
        )

    @r.get("/cases/{case_id}", tags=["cases"])
    @edge
    def case(
        c: C,
        case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        on: date | None = None,
        client: Annotated[str, Query(max_length=64)] = "",
    ) -> dict[str, Any]:
        """A case: instruments, gates with their reasons, priority, history, deadlines."""

        view = app.cases.show(c.principal, c.purpose, case_id, on or date.today(), client=client)
        return JSONResponse(case_json(view))  # type: ignore[return-value]  # plain data already

    @r.post("/cases/{case_id}/steps", tags=["cases"], status_code=201)
    @edge
    def step(c: C, case_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: StepRequest) -> StepDone:
        """Record a step; 403 with every reason when policy or law refuses it, 409 when
        the case moved on since ``version``."""
        return app.cases.step(c.principal, c.purpose, case_id, body)

    @r.post("/cases/{case_id}/documents", tags=["cases"], status_code=201)
    @edge
    def attach(
        c: C, case_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DocumentIn
    ) -> DocumentOut:
        """Keep a document on the case (base64); a step cites it by ``document_sha256``."""
        import base64
        import binascii

        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise HabeasError("content_base64 is not base64") from None
        return app.cases.attach(c.principal, c.purpose, case_id, body.name, content)

    @r.get("/cases/{case_id}/documents/{sha256}", tags=["cases"])
    @edge
    def document(
        c: C,
        case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
        client: Annotated[str, Query(max_length=64)] = "",
    ) -> Response:
        """A document kept on the case, as it was attached."""
        name, content = app.cases.document(c.principal, c.purpose, case_id, sha256, client)
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:100]
        disposition = f'attachment; filename="{safe}"'
        return Response(content, media_type="application/octet-stream",
                        headers={"Content-Disposition": disposition})  # fmt: skip

    @r.post("/cases/{case_id}/documents/{sha256}/verification", tags=["cases"])
    @edge
    def verify_document(
        c: C,
        case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
        body: DocumentVerification,
    ) -> DocumentOut:
        """A supervisor who did not attach the document checks it against the court's
        docket: the issuing court and the docket reference (only a verified document may
        be cited as a court's act, and it takes that court as its authority)."""
        return app.cases.verify_document(c.principal, c.purpose, case_id, sha256, body.issuer,
                                         body.docket_reference)  # fmt: skip

    @r.put("/cases/{case_id}/counsel", tags=["cases"], status_code=204)
    @edge
    def counsel(c: C, case_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Counsel) -> None:
        """Record the person's counsel."""
        app.cases.counsel(c.principal, c.purpose, case_id, body.counsel)

    @r.post("/cases/{case_id}/flags/{flag}/resolve", tags=["cases"])
    @edge
    def resolve_flag(
        c: C,
        case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        flag: Literal["citizenship", "lawful_status"],
        body: FlagResolution,
    ) -> FlagResolved:
        """A supervisor resolves a flag on every open case of the person and in the index."""
        return app.cases.resolve_flag(
            c.principal,
            c.purpose,
            case_id,
            flag,
            body.reason,
            body.evidence,
            body.on or date.today(),
        )

    @r.get("/court-records/date-review", tags=["cases"])
    @edge
    def date_review(c: C, limit: Limit = 50, offset: Offset = 0) -> list[DateReview]:
        """Court records set aside because their dates contradict each other."""
        return app.cases.date_review(c.principal, c.purpose, limit, offset)

    @r.get("/tasks", tags=["cases"])
    @edge
    def tasks(
        c: C,
        on: date | None = None,
        within: Annotated[int, Query(ge=0, le=3650)] = 14,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[TaskRow]:
        """Deadlines due soon, missed ones first."""
        return app.cases.tasks(c.principal, c.purpose, on or date.today(), within, limit, offset)

    add_field_routes(r, app, edge, C)

    add_monitor_routes(r, app, edge, C)

    # -- custody and transport ---------------------------------------------------------------

    @r.post("/custody/placements", tags=["custody"], status_code=201)
    @edge
    def place(c: C, body: Place) -> PlacementOut:
        """Place or transfer a person; refused when the facility is full."""
        return app.custody.place(
            c.principal,
            c.purpose,
            body.case_id,
            body.facility,
            body.on or date.today(),
            body.reason,
        )

    @r.get("/custody/occupancy", tags=["custody"])
    @edge
    def occupancy(c: C) -> list[FacilityLoad]:
        """Beds held and free per facility."""
        return app.custody.occupancy(c.principal, c.purpose)

    @r.post("/transport/plan", tags=["custody"])
    @edge
    def transport_plan(c: C, body: Day) -> TransportOut:
        """Plan removal transport (min-cost flow, greedy beside)."""
        return _transport(app.custody.plan(c.principal, c.purpose, body.on or date.today()))

    @r.post("/transport/book", tags=["custody"])
    @edge
    def transport_book(c: C, body: Day) -> TransportOut:
        """Plan and book the seated people onto manifests (each gated again)."""
        report, booking = app.custody.book(c.principal, c.purpose, body.on or date.today())
        return _transport(report, booking)

    @r.post("/transport/lock", tags=["custody"])
    @edge
    def transport_lock(c: C, body: Lock) -> LockOut:
        """Lock a flight's manifest, taking off whoever no longer passes the gate."""
        lock = app.custody.lock(c.principal, c.purpose, body.flight, body.on or date.today())
        return LockOut(flight=lock.flight, kept=lock.kept, taken_off=lock.taken_off)

    # -- the audit log -------------------------------------------------------------------------

    @r.get("/audit", tags=["audit"])
    @edge
    def audit_show(
        c: C,
        user: Annotated[str | None, Query(max_length=64)] = None,
        for_purpose: Annotated[PurposeName | None, Query()] = None,
        person: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[str | None, Query(max_length=40)] = None,
        until: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Offset = 0,
    ) -> list[AuditEntryOut]:
        """Entries by user, purpose, person and time (oversight; the search is audited)."""

        return app.audit.show(
            c.principal,
            c.purpose,
            AuditFilter(user, for_purpose, person, since, until, limit, offset),
        )

    @r.get("/audit/verify", tags=["audit"])
    @edge
    def audit_verify(c: C) -> Verified:
        """Recompute the hash chain."""
        del c
        v, _ = app.audit.verify()
        b = v.first_break
        return Verified(
            ok=v.ok,
            entries=v.entries,
            head=v.head,
            first_break=f"entry {b.seq}: {b.reason}" if b else None,
            case_events=v.case_events,
            history_problem=v.history_problem,
            head_problem=v.head_problem,
        )

    @r.post("/audit/checkpoint", tags=["audit"])
    @edge
    def audit_checkpoint(c: C) -> CheckpointOut:
        """Sign a checkpoint of the log for a witness to keep (oversight)."""
        cp = app.audit.sign(c.principal, c.purpose)
        return CheckpointOut(**asdict(cp))

    # -- accounts -------------------------------------------------------------------------------

    @r.get("/users", tags=["admin"])
    @edge
    def users(c: C) -> list[UserPublic]:
        """Every account and its role (admin)."""
        return app.users.list_users(c.principal)

    @r.post("/users", tags=["admin"], status_code=201)
    @edge
    def add_user(c: C, body: NewUser) -> Secret:
        """Create an account (admin); its password is shown once."""
        got = app.users.add(c.principal, body.username, body.role)
        return Secret(username=got.username, secret=got.secret, expires_at="never")

    @r.post("/tokens", tags=["admin"], status_code=201)
    @edge
    def add_token(c: C, body: NewToken) -> Secret:
        """Issue an API token (admin); shown once, stored as a hash."""
        got = app.users.create_token(c.principal, body.username, body.label, body.days)
        return Secret(
            username=got.username,
            secret=got.secret,
            token_id=got.token_id,
            expires_at=got.expires_at.isoformat(),
        )

    @r.delete("/tokens/{token_id}", tags=["admin"], status_code=204)
    @edge
    def revoke_token(c: C, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> None:
        """Revoke an API token (admin)."""
        app.users.revoke_token(c.principal, token_id)

    return r
