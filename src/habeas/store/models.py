"""Rows of the operational store (SQLAlchemy 2, typed ``Mapped[]`` columns).

Mutable rows carry a ``version`` column used for optimistic concurrency: an update
names the version it read, and a stale one is refused instead of applied.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every operational table."""


class User(Base):
    """A local account: one role, an argon2 password hash, never the password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's API


class ApiToken(Base):
    """An API token, stored as a SHA-256 hash (the token itself is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class LoginSession(Base):
    """A browser session after a password login: the cookie's SHA-256, purpose, expiry."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Case(Base):
    """A case about one person (the lifecycle itself comes with the case issue)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    counsel: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    priority_tier: Mapped[int | None]
    priority_score: Mapped[float | None] = mapped_column(Float)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    priority_explanation: Mapped[str | None] = mapped_column(Text)
    facts_hash: Mapped[str | None] = mapped_column(String(64))
    history_token: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Instrument(Base):
    """A legal instrument on a case: its kind, issuer, dates and status."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))
    issuing_authority: Mapped[str] = mapped_column(String(128))
    issued_on: Mapped[date | None]
    expires_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseEvent(Base):
    """One step in a case's history (append-only): what happened, who did it, the state after."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))  # (case_id, seq) is unique
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    state_after: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    seq: Mapped[int | None] = mapped_column(Integer)
    on_date: Mapped[date | None]
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    event_hash: Mapped[str | None] = mapped_column(String(64))


class SignInFailure(Base):
    """A failed sign-in, by account (``user:NAME``) and by address (``addr:IP``): counted
    in the store, so every server process and a restart see the same count."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class CaseRefusal(Base):
    """A step refused on a case, by policy or by law, with every reason (the audit log
    holds the same refusal; this is its index by case, for the court's view)."""

    __tablename__ = "case_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[date | None]
    reasons: Mapped[str] = mapped_column(Text)
    refused_by: Mapped[str] = mapped_column(String(16))  # policy | law


class CaseDocument(Base):
    """A document attached to a case (an order, a decision, a signed form), kept whole:
    a step that cites a document cites one of these, by its SHA-256."""

    __tablename__ = "case_documents"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]
    issuer: Mapped[str | None] = mapped_column(String(32), default=None)
    """The court that issued it, as a second person verified it (immigration_judge, bia,
    federal_court): a court's act citing the document takes this authority."""
    docket_reference: Mapped[str | None] = mapped_column(String(64), default=None)
    verified_by: Mapped[str | None] = mapped_column(String(64), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    verification_seal: Mapped[str | None] = mapped_column(String(64), default=None)


class CourtRecordReview(Base):
    """A court record whose dates contradict each other: set aside, with the reasons,
    instead of seeding a case history nobody could believe."""

    __tablename__ = "court_record_review"

    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))


class AuditEntry(Base):
    """One entry of the hash-chained audit log; never updated, never deleted."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    user: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(64))
    resources: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(8))
    request_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head (one row): appends lock it, so entries never fork."""

    __tablename__ = "audit_head"
    __table_args__ = (UniqueConstraint("id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))


class Facility(Base):
    """A detention facility: capacity, detention standard, the airport hub it uses."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    capacity: Mapped[int]
    standard: Mapped[str] = mapped_column(String(32))
    hub: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Placement(Base):
    """A person (by case) held in a facility from one day until another (open: still held)."""

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Task(Base):
    """A deadline on a case: voluntary departure, custody review, check-in."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("case_id", "kind", "due_on", name="uq_task_case_kind_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    done_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class IndexRun(Base):
    """A resolution run published into the operational store (the model it scored with)."""

    __tablename__ = "index_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime]
    records: Mapped[int]
    persons: Mapped[int]
    match_threshold: Mapped[float] = mapped_column(Float)
    model_json: Mapped[str] = mapped_column(Text)
    input_schema: Mapped[str] = mapped_column(Text)


class IndexSource(Base):
    """A source as the published index names it: agency, legal authority, purposes (JSON)."""

    __tablename__ = "index_sources"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(128))
    legal_authority: Mapped[str] = mapped_column(Text)
    purposes: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(String(64))
    version_purposes: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    """JSON: declaration version → the purposes its records may be read for."""
    seal: Mapped[str | None] = mapped_column(String(64), default=None)
    """HMAC (history key) over the row: a widened purpose written by hand does not carry it."""


class IndexPerson(Base):
    """A person of the published index."""

    __tablename__ = "index_persons"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    records: Mapped[int]
    sources: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(String(64))


class IndexRecord(Base):
    """A record of the published index, its person, the link behind it, and the prepared
    values the model compared (``features``, JSON) for explanations."""

    __tablename__ = "index_records"

    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(64))
    source_version: Mapped[int] = mapped_column(default=1, server_default="1")
    """The declaration version the record was ingested under (its purposes follow it)."""
    source_key: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    name_key: Mapped[str] = mapped_column(String(256), index=True)
    family_key: Mapped[str] = mapped_column(String(128), index=True)
    dob: Mapped[str | None] = mapped_column(String(10), index=True)
    a_number: Mapped[str | None] = mapped_column(String(16), index=True)
    ssn: Mapped[str | None] = mapped_column(String(16), index=True)
    passport_number: Mapped[str | None] = mapped_column(String(32), index=True)
    zip: Mapped[str | None] = mapped_column(String(10))
    linked_via: Mapped[str | None] = mapped_column(String(64))
    match_probability: Mapped[float | None] = mapped_column(Float)
    match_weight: Mapped[float | None] = mapped_column(Float)
    how: Mapped[str] = mapped_column(String(32))
    features: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(String(64))
    court_facts: Mapped[str | None] = mapped_column(Text)
    street: Mapped[str | None] = mapped_column(String(256))
    city: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str | None] = mapped_column(String(2))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address_date: Mapped[str | None] = mapped_column(String(10))
    """The day, month or year the address was last known good (as precise as the source)."""
    batch_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """Lineage: the ingest batch the record came in."""
    file_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    row_number: Mapped[int | None] = mapped_column(BigInteger, default=None)
    key_kinds: Mapped[str | None] = mapped_column(String(128), default=None)
    """The identifier kind of each ``|``-part of ``source_key`` ('' for a part that is not
    an identifier), from the declaration: the key is masked as those kinds are."""


class IndexFlag(Base):
    """A citizenship, lawful-status or conflict flag on a person, and its resolution."""

    __tablename__ = "index_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    flag: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    record_ids: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    run_id: Mapped[str] = mapped_column(String(64))


class IndexReview(Base):
    """A pair awaiting human review."""

    __tablename__ = "index_review"

    record_id_l: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id_r: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_l: Mapped[str] = mapped_column(String(32))
    person_r: Mapped[str] = mapped_column(String(32))
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    priority: Mapped[float | None] = mapped_column(Float)
    """How much a decision would change (``habeas.resolve.review.prioritized_sql``)."""
    why: Mapped[str | None] = mapped_column(String(200))
    run_id: Mapped[str] = mapped_column(String(64))


class IndexDecision(Base):
    """A reviewer's decision as published with the index (the records it names, JSON)."""

    __tablename__ = "index_decisions"

    decision_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    record_ids: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime]
    undone_by: Mapped[int | None]


class FieldOffice(Base):
    """A field office and the states of its area of responsibility (codes, comma-separated)."""

    __tablename__ = "field_offices"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    states: Mapped[str] = mapped_column(Text)


class FieldTeam(Base):
    """A team of a field office: where its day starts and its shift (minutes after midnight)."""

    __tablename__ = "field_teams"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    office: Mapped[str] = mapped_column(ForeignKey("field_offices.code"))
    start_label: Mapped[str] = mapped_column(String(128))
    start_lat: Mapped[float] = mapped_column(Float)
    start_lon: Mapped[float] = mapped_column(Float)
    shift_start: Mapped[int]
    shift_end: Mapped[int]


class FieldMember(Base):
    """Where an account works: a supervisor's office, a field officer's office and team
    (set by an administrator; the pages and the API read it, never the caller)."""

    __tablename__ = "field_members"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    office: Mapped[str] = mapped_column(ForeignKey("field_offices.code"))
    team: Mapped[str | None] = mapped_column(ForeignKey("field_teams.code"))


class Assignment(Base):
    """An approved case given to a team for a day: the address it was given with (JSON,
    with its confidence and sources), its place in the route, and how it ended (done,
    cancelled with the reason, or handed back)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(32))
    team: Mapped[str] = mapped_column(ForeignKey("field_teams.code"))
    day: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | done | cancelled
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(Text)
    route_seq: Mapped[int | None]
    eta: Mapped[int | None]
    window_start: Mapped[int]
    window_end: Mapped[int]
    stop_minutes: Mapped[int]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


class FieldOutcome(Base):
    """What a team found, as the officer's device sent it: keyed by the UUID the device
    made, so a second submission of it is the same outcome, never a second one."""

    __tablename__ = "field_outcomes"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    subject: Mapped[bool]
    occurred_at: Mapped[datetime]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    effect: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of what was sent: a resend of the UUID with other content is refused."""


class InboxEvent(Base):
    """An event of a departure feed as the monitor received it, keyed by the feed and the
    feed's own event id: a repeat finds the row and does nothing. The row commits with
    the event's effect, in one transaction. ``record`` keeps the allowed fields only
    (JSON); ``explanation`` the match's waterfall (JSON)."""

    __tablename__ = "monitor_inbox"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # exit | entry | self_report | …
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime]
    committed_at: Mapped[datetime] = mapped_column(index=True)
    via: Mapped[str] = mapped_column(String(16))  # http | folder | nats
    status: Mapped[str] = mapped_column(String(24), index=True)
    """applied | no_case | no_effect | review | unmatched"""
    person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    record_id: Mapped[str | None] = mapped_column(String(64))
    """The published record the event linked through (its strongest pair)."""
    case_id: Mapped[int | None]
    match_probability: Mapped[float | None] = mapped_column(Float)
    match_weight: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    effect: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)
    dropped: Mapped[str | None] = mapped_column(Text)
    """The fields the declaration does not allow, named (their values were not kept)."""
    retain_until: Mapped[date]
    seal: Mapped[str | None] = mapped_column(String(64), default=None)
    """HMAC (history key) over the row: rewritten or forged rows do not carry it."""


class EventQuarantine(Base):
    """An event refused at intake, with the reason; only values of allowed fields kept."""

    __tablename__ = "monitor_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str | None] = mapped_column(String(128))
    via: Mapped[str] = mapped_column(String(16))
    position: Mapped[int]
    """The event's place in its batch, file line or stream sequence."""
    received_at: Mapped[datetime]
    field: Mapped[str | None] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    retain_until: Mapped[date]


class EventReview(Base):
    """An event that may not act alone: an ambiguous or unmatched departure, an exit older
    than an entry already seen, an entry after a verified departure. A person decides."""

    __tablename__ = "monitor_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    """match | entry_after_departure | exit_before_entry"""
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | decided
    person_id: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text)
    cites: Mapped[str] = mapped_column(Text)
    """JSON: the records (feed:event id, published record ids) the task is about."""
    opened_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class EventConsumer(Base):
    """A consumer of a feed (a folder watcher, a stream consumer) as it last reported:
    what it has delivered and what waits for it."""

    __tablename__ = "monitor_consumers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    via: Mapped[str] = mapped_column(String(16))
    backlog: Mapped[int]
    delivered: Mapped[int]
    seen_at: Mapped[datetime]


class IndexHistory(Base):
    """The person index as it stood for one person with a case, from ``valid_from`` until
    the person's next row (append-only): their records, the links between them, flags and
    reviewers' decisions, as canonical JSON. A packet "as of" a past moment reads the row
    that was valid then; the seal (HMAC, history key) shows a row written outside habeas."""

    __tablename__ = "index_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    valid_from: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(32))
    """publish | review | packet: what made the index change, or a packet saw it first."""
    run_id: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str] = mapped_column(String(64))


class PriorityHistory(Base):
    """A case's priority each time it changed (append-only): the policy version, tier,
    score, the rules that fired with the records they read, and the facts' fingerprint."""

    __tablename__ = "priority_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    valid_from: Mapped[datetime]
    policy_version: Mapped[str] = mapped_column(String(64))
    tier: Mapped[int | None]
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    facts_hash: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str | None] = mapped_column(String(200), default=None)
    """What changed a fact the policy reads: ``publish run-…``, ``correction 3 (dispute 5)``,
    ``departure …``, ``step …``, or ``prioritize`` when someone ran it."""
    old_tier: Mapped[int | None] = mapped_column(default=None)
    old_score: Mapped[float | None] = mapped_column(Float, default=None)


class BatesSequence(Base):
    """The next Bates number of a prefix: a production takes a range and moves it on, so
    no number is ever given twice."""

    __tablename__ = "bates_sequences"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_number: Mapped[int] = mapped_column(BigInteger)


class PacketProduction(Base):
    """A packet given out: a disclosure (5 U.S.C. 552a(c)) kept with its recipient, purpose,
    requester, the moment it is "as of", its Bates range, the records it carried and the
    hashes of its files, so it can be rebuilt later and compared hash for hash."""

    __tablename__ = "packet_productions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    case_id: Mapped[int | None]
    produced_at: Mapped[datetime]
    as_of: Mapped[datetime]
    requester: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(200))
    formats: Mapped[str] = mapped_column(String(32))
    bates_prefix: Mapped[str | None] = mapped_column(String(16))
    bates_begin: Mapped[int | None] = mapped_column(BigInteger)
    bates_end: Mapped[int | None] = mapped_column(BigInteger)
    packet_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    record_ids: Mapped[str] = mapped_column(Text)
    """JSON: the records the packet carried (what a later correction must reach)."""
    seal: Mapped[str] = mapped_column(String(64))


class Dispute(Base):
    """A dispute on a person's record, link or flag (5 U.S.C. 552a(d)): who opened it and
    why, its clocks (acknowledge within 10 working days, decide within 30), the decision
    (corrected, split, denied) and, after a denial, the subject's statement of disagreement,
    which travels with the record. Sealed (history key): an edit outside habeas shows."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    """record | link | flag"""
    target: Mapped[str] = mapped_column(String(160))
    record_ids: Mapped[str] = mapped_column(Text)
    """JSON: the records the dispute is about."""
    field: Mapped[str | None] = mapped_column(String(32), default=None)
    claimed_value: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str] = mapped_column(Text)
    documents: Mapped[str] = mapped_column(Text)
    """JSON: [{name, sha256}] of the documents filed with it."""
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_role: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    acknowledge_by: Mapped[date]
    decide_by: Mapped[date]
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    """JSON: what the decision set in motion (links, flags, cases, notices)."""
    statement: Mapped[str | None] = mapped_column(Text, default=None)
    statement_by: Mapped[str | None] = mapped_column(String(64), default=None)
    statement_at: Mapped[datetime | None] = mapped_column(default=None)
    seal: Mapped[str] = mapped_column(String(64))


class DisputeDocument(Base):
    """A document filed with a dispute (kept whole, named by its SHA-256)."""

    __tablename__ = "dispute_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RecordCorrection(Base):
    """A verified correction of one field of a record: the new value beside the old one
    (superseded, never overwritten), its evidence, who made it and the re-resolution run
    it started. Sealed (history key)."""

    __tablename__ = "record_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(Integer, index=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(1000))
    new_value: Mapped[str | None] = mapped_column(String(1000))
    evidence: Mapped[str] = mapped_column(Text)
    corrected_by: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    corrected_at: Mapped[datetime]
    run_id: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str] = mapped_column(String(64))


class CorrectionNotice(Base):
    """A notice of a correction to an earlier recipient of the record (5 U.S.C. 552a(c)(4);
    GDPR Art. 19 the model): the production that carried it and its recipient."""

    __tablename__ = "correction_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(Integer, index=True)
    production_id: Mapped[int]
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    notified_at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text)


class PersonRedirect(Base):
    """A person id a split, an undone merge or a correction retired or divided: where its
    records went, so whoever holds the old id can follow it."""

    __tablename__ = "person_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_person_id: Mapped[str] = mapped_column(String(32), index=True)
    new_person_id: Mapped[str] = mapped_column(String(32))
    records: Mapped[int]
    cause: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
