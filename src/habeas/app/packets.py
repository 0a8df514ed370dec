"""Evidence packets (safeguard 8): produce one for counsel or a court, rebuild an earlier
production and compare it hash for hash, verify a packet's folder, list the disclosures
made, and counsel's clients.

Cedar decides who may (``produce_packet`` on the person); counsel names their client and
sees the client's identifiers whole. Every production is audited with its hash and kept as
a disclosure (recipient, purpose, the records it carried).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
from pydantic import BaseModel

from habeas.app.index.grants import entry, grants, person_resource
from habeas.cases.access import case_resource, sealed_counsel
from habeas.cases.queries import cases_of_person
from habeas.errors import AccessDenied, HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import (
    AccessContext,
    Resource,
    authorize,
    authorize_batch,
    whole_identifiers,
)
from habeas.governance.disclosure import COMPARED_KINDS, Disclosure, current, facade
from habeas.packet import assemble as asm
from habeas.packet.certify import Check, verify_folder
from habeas.packet.production import (
    FORMATS,
    Request,
    check_request,
    claim,
    finish,
    next_number,
    render_all,
    reserve,
    sealed,
)
from habeas.packet.queries import counselled_cases, productions_of
from habeas.packet.render import Exhibit
from habeas.packet.render import bates as number_of
from habeas.resolve.history import record_changes, state_as_of
from habeas.resolve.publish import sealed_sources
from habeas.store.models import Case, PacketProduction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from habeas.app.core import Habeas, Principal, Work

PERSON_ID = re.compile(r"[A-Za-z0-9_.:-]{1,32}")


class Produced(BaseModel):
    """A production: its number, its files (name → bytes) and their hashes."""

    production_id: int
    person_id: str
    as_of: datetime
    files: dict[str, bytes]
    packet_sha256: str
    pdf_sha256: str | None
    manifest_sha256: str
    bates: str | None
    pages: int | None


class DisclosureOut(BaseModel):
    """A packet given out (an entry of the accounting of disclosures)."""

    production_id: int
    person_id: str
    case_id: int | None
    produced_at: datetime
    as_of: datetime
    requester: str
    role: str
    purpose: str
    recipient: str
    formats: str
    bates: str | None
    packet_sha256: str
    pdf_sha256: str | None
    record_ids: list[str]
    verified: bool
    """False when the record of the disclosure does not carry its seal (edited)."""


class Rebuilt(BaseModel):
    """An earlier production built again, and what differs from what was recorded."""

    produced: Produced
    same: bool
    differences: list[str]


class ClientOut(BaseModel):
    """A client of counsel: the person and the cases counsel is recorded on."""

    person_id: str
    case_ids: list[int]
    states: list[str]


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of``: a day (its end, UTC) or a moment (ISO 8601; naive is UTC)."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            day = datetime.fromisoformat(raw)
            return day.replace(hour=23, minute=59, second=59, microsecond=999999)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise HabeasError(f"as-of {raw[:40]!r} is not a day (YYYY-MM-DD) or a moment") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _refusal(ctx: AccessContext, action: str, person_id: str, why: str) -> NotFound:
    """No hint that the person exists: the same answer as for a person who does not."""
    return NotFound(
        f"no person {person_id}", entry=entry(ctx, action, [f"person:{person_id}"], False, why)
    )


def _mask(packet: dict[str, Any], view: asm.View, raw: list[dict[str, Any]]) -> dict[str, Any]:
    """The packet as it may leave: every identifier the requester may not see whole is
    masked wherever it appears (values, waterfalls, free text)."""
    d = current() or Disclosure()
    d.bind(view.whole)
    for r in raw:
        for kind in ("a_number", "ssn", "passport_number"):
            d.saw(kind, r.get(kind))
        d.saw_fields(r.get("features", {}), COMPARED_KINDS)
        kinds = str(r.get("key_kinds") or "").split("|")
        for part, kind in zip(str(r.get("source_key") or "").split("|"), kinds, strict=False):
            if kind:
                d.saw(kind, part)
    released: dict[str, Any] = d.release(packet)
    return released


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((resources.files("habeas.packet") / "packet.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate(packet: dict[str, Any]) -> None:
    """Refuse a packet that does not follow the published schema (a bug, never input)."""
    for exc in _validator().iter_errors(packet):
        where = "/".join(str(p) for p in exc.absolute_path)
        raise HabeasError(f"the packet does not follow its schema at {where}: {exc.message}")


@facade
class Packets:
    """Use cases: evidence packets."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    def produce(
        self,
        principal: Principal | None,
        purpose: str | None,
        person_id: str,
        *,
        recipient: str,
        case_id: int | None = None,
        as_of: datetime | None = None,
        formats: tuple[str, ...] = FORMATS,
        prefix: str = "HAB",
        client: str = "",
    ) -> Produced:
        """A new production: the packet as of ``as_of`` (now when not given), its files,
        a Bates range from the store's sequence, recorded as a disclosure and audited with
        its hash."""
        if not PERSON_ID.fullmatch(person_id):
            raise HabeasError(f"person {person_id[:40]!r} is not a person id")
        formats = tuple(dict.fromkeys(formats))
        check_request(formats, prefix, recipient)
        now = _utc_now()
        if as_of is not None and as_of > now:
            raise HabeasError(f"as-of {as_of.isoformat()} is in the future")
        moment = as_of or now
        with self.app.work(principal, purpose, "produce_packet", client=client, write=True) as w:
            built = self._build(w, person_id, case_id, moment, live=as_of is None)
            packet, raw_ids, cases, exhibits = built
            conn = w.session.connection()
            req = Request(
                person_id=person_id,
                case_id=case_id,
                as_of=moment,
                produced_at=now,
                requester=w.ctx.user,
                role=w.ctx.role,
                purpose=w.ctx.purpose,
                recipient=recipient.strip(),
                formats=formats,
                prefix=prefix,
            )
            number = reserve(conn, req)
            files = render_all(
                req,
                packet,
                exhibits,
                f"production:{number}",
                self._key(),
                lambda: next_number(conn, prefix),
                lambda begin, pages: claim(conn, prefix, begin, pages),
            )
            finish(conn, number, req, files, raw_ids)
            out = _produced(number, req, files)
            w.done(
                f"packet of person {person_id} as of {moment.isoformat()} for {req.recipient}: "
                f"production {number}, packet sha256 {files.packet_sha256}"
                + (f", pdf sha256 {files.pdf_sha256}, Bates {out.bates}" if out.bates else ""),
                [
                    f"person:{person_id}",
                    f"production:{number}",
                    *(f"case:{c}" for c in cases),
                    *(f"record:{r}" for r in raw_ids),
                ],
            )
            return out

    def _key(self) -> Any:
        return audit.load_or_create_key(self.app.settings.data_dir)

    def _build(
        self, w: Work, person_id: str, case_id: int | None, as_of: datetime, live: bool
    ) -> tuple[dict[str, Any], list[str], list[int], list[Exhibit]]:
        """Decide, gather, mask and validate: the packet, the records it carries, its
        cases and exhibits."""
        ctx, s = w.ctx, w.session
        if ctx.role == "counsel" and ctx.client != person_id:
            raise _refusal(ctx, "produce_packet", person_id, "counsel names this person as client")
        every = cases_of_person(s, person_id)
        person = person_resource(s, person_id, every)
        decision = authorize(ctx, "produce_packet", person)
        if not decision.allowed:
            anyone = Resource("Person", "*", {"flags": [], "counsel": [ctx.user]})
            if not authorize(ctx, "produce_packet", anyone).allowed:
                raise AccessDenied(
                    f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not produce an "
                    f"evidence packet: {decision.why()}",
                    entry(ctx, "produce_packet", [f"person:{person_id}"], False, decision.why()),
                    decision.why(),
                )
            raise _refusal(ctx, "produce_packet", person_id, decision.why())
        conn = s.connection()
        if live:
            record_changes(conn, [person_id], as_of, "packet")
        state = state_as_of(conn, person_id, as_of)
        if live and state is not None and not state.sealed:
            # the last row was written or edited outside habeas: the live index is
            # recorded again (the forged row stays, and a packet as of its time names it)
            record_changes(conn, [person_id], as_of, "packet: the last row did not verify", True)
            state = state_as_of(conn, person_id, as_of)
        readable = [
            c
            for c, d in zip(
                every, authorize_batch(ctx, "read", [_case_res(c) for c in every]), strict=True
            )
            if d.allowed and (case_id is None or c.id == case_id)
        ]
        readable = sorted(
            (c for c in readable if c.opened_at is None or c.opened_at <= as_of), key=lambda c: c.id
        )
        if state is None and not readable:
            raise _refusal(ctx, "produce_packet", person_id, "no such person (as of then)")
        if case_id is not None and not readable:
            raise NotFound(
                f"no case {case_id} of person {person_id}",
                entry=entry(ctx, "produce_packet", [f"case:{case_id}"], False, "no such case"),
            )
        view = asm.View(
            ctx.role,
            ctx.purpose,
            whole_identifiers(ctx),
            grants(ctx, "read", sealed_sources(s), person).pairs,
        )
        packet = asm.assemble(s, person_id, readable, state, view, as_of, self._key())
        shown = {x["record_id"] for x in packet["person"]["records"]}
        raw = [
            r
            for r in (state.content.get("records", []) if state else [])
            if r["record_id"] in shown
        ]
        packet = _mask(packet, view, raw)
        validate(packet)
        exhibits = _exhibits(s, packet)
        return packet, [r["record_id"] for r in raw], [c.id for c in readable], exhibits

    def rebuild(
        self,
        principal: Principal | None,
        purpose: str | None,
        production_id: int,
        client: str = "",
    ) -> Rebuilt:
        """An earlier production built again as of its moment, for its requester's view,
        with its Bates range; compared hash for hash with what was recorded then."""
        with self.app.work(principal, purpose, "rebuild_packet", client=client, write=True) as w:
            p = (
                w.session.get(PacketProduction, production_id)
                if 0 < production_id < 2**31
                else None
            )
            if p is None:
                raise NotFound(
                    f"no production {production_id}",
                    entry=entry(
                        w.ctx, "rebuild_packet", [f"production:{production_id}"], False, "none"
                    ),
                )
            if (w.ctx.role, w.ctx.purpose) != (p.role, p.purpose):
                raise AccessDenied(
                    f"production {production_id} was made for a {p.role} ({p.purpose}); rebuild "
                    "it in that role and purpose, or produce a new packet",
                    entry(
                        w.ctx,
                        "rebuild_packet",
                        [f"production:{production_id}"],
                        False,
                        "role or purpose differs from the production's",
                    ),
                    "role or purpose differs",
                )
            packet, _, _, exhibits = self._build(w, p.person_id, p.case_id, p.as_of, live=False)
            req = Request(
                person_id=p.person_id,
                case_id=p.case_id,
                as_of=p.as_of,
                produced_at=p.produced_at,
                requester=p.requester,
                role=p.role,
                purpose=p.purpose,
                recipient=p.recipient,
                formats=tuple(p.formats.split(",")),
                prefix=p.bates_prefix or "HAB",
            )
            begin, end = p.bates_begin, p.bates_end

            def recorded() -> int:
                if begin is None or end is None:
                    raise HabeasError(f"production {production_id} recorded no Bates range")
                return int(begin)

            # the range is the production's own: nothing to claim (a new length shows as a
            # PDF that differs below)
            files = render_all(
                req,
                packet,
                exhibits,
                f"production:{production_id}",
                self._key(),
                recorded,
                lambda start, pages: True,
            )
            differences = [
                f"{name}: recorded {want}, rebuilt {got}"
                for name, want, got in (
                    ("packet.json", p.packet_sha256, files.packet_sha256),
                    ("packet.pdf", p.pdf_sha256, files.pdf_sha256),
                    ("manifest.json", p.manifest_sha256, files.manifest_sha256),
                )
                if want != got
            ]
            if not sealed(w.session.connection(), p):
                differences.append(
                    f"the record of production {production_id} does not carry its seal (edited)"
                )
            w.done(
                f"rebuilt production {production_id}: "
                + ("identical" if not differences else "; ".join(differences)),
                [f"production:{production_id}", f"person:{p.person_id}"],
            )
            return Rebuilt(
                produced=_produced(production_id, req, files),
                same=not differences,
                differences=differences,
            )

    def verify(self, folder: Path, public_key: Path | None = None) -> Check:
        """Check a packet's folder: every file's hash, both signatures, the JSON the PDF
        carries (against this store's key, or the public key given)."""
        if not folder.is_dir():
            raise HabeasError(f"{folder}: no such folder")
        path = public_key or self.app.settings.data_dir / audit.PUBLIC_FILE
        trusted = audit.load_public(path) if path.exists() else None
        return verify_folder(folder, trusted)

    def disclosures(
        self, principal: Principal | None, purpose: str | None, person_id: str, client: str = ""
    ) -> list[DisclosureOut]:
        """The packets about a person given out, oldest first (whoever may produce one may
        read the accounting; audited)."""
        if not PERSON_ID.fullmatch(person_id):
            raise HabeasError(f"person {person_id[:40]!r} is not a person id")
        with self.app.work(principal, purpose, "packet_disclosures", client=client) as w:
            ctx, s = w.ctx, w.session
            if ctx.role == "counsel" and ctx.client != person_id:
                raise _refusal(ctx, "packet_disclosures", person_id, "not counsel's named client")
            person = person_resource(s, person_id, cases_of_person(s, person_id))
            decision = authorize(ctx, "produce_packet", person)
            if not decision.allowed:
                raise _refusal(ctx, "packet_disclosures", person_id, decision.why())
            rows = productions_of(s, person_id)
            conn = s.connection()
            audit.append(
                s,
                **entry(
                    ctx,
                    "packet_disclosures",
                    [f"person:{person_id}", *(f"production:{p.id}" for p in rows)],
                    True,
                    f"{len(rows)} disclosure(s) listed",
                ),
            )
            return [_disclosure(p, sealed(conn, p)) for p in rows]

    def clients(self, principal: Principal | None, purpose: str | None) -> list[ClientOut]:
        """Counsel's clients: the persons of the cases this account is recorded (and
        sealed) as counsel on (audited)."""
        with self.app.work(principal, purpose, "counsel_clients") as w:
            ctx, s = w.ctx, w.session
            if ctx.role != "counsel" or ctx.purpose != "redress":
                raise AccessDenied(
                    f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}): a client list is "
                    "counsel's, for redress",
                    entry(ctx, "counsel_clients", [], False, "not counsel for redress"),
                    "not counsel",
                )
            rows = counselled_cases(s, ctx.user)
            by_person: dict[str, ClientOut] = {}
            for c in rows:
                if sealed_counsel(c) != ctx.user:
                    continue
                out = by_person.setdefault(
                    c.person_id, ClientOut(person_id=c.person_id, case_ids=[], states=[])
                )
                out.case_ids.append(c.id)
                out.states.append(c.state)
            audit.append(
                s,
                **entry(
                    ctx,
                    "counsel_clients",
                    [f"person:{p}" for p in by_person],
                    True,
                    f"{len(by_person)} client(s)",
                ),
            )
            return list(by_person.values())


def _case_res(c: Case) -> Resource:
    return case_resource(c)


def _exhibits(s: Session, packet: dict[str, Any]) -> list[Exhibit]:
    out = []
    n = 0
    for c in packet["cases"]:
        for d in c["documents"]:
            n += 1
            out.append(
                Exhibit(
                    label=str(n),
                    id=d["id"],
                    case_id=int(c["case_id"]),
                    sha256=d["sha256"],
                    name=d["name"],
                    size=int(d["size"]),
                    added_by=d["added_by"],
                    content=asm.document_bytes(s, int(c["case_id"]), d["sha256"]),
                )
            )
    return out


def _produced(number: int, req: Request, files: Any) -> Produced:
    bates = None
    pages = None
    if files.bates_begin is not None:
        first, last = (
            number_of(req.prefix, files.bates_begin),
            number_of(req.prefix, files.bates_end),
        )
        bates = f"{first}-{last}"
        pages = files.bates_end - files.bates_begin + 1
    return Produced(
        production_id=number,
        person_id=req.person_id,
        as_of=req.as_of,
        files=files.files,
        packet_sha256=files.packet_sha256,
        pdf_sha256=files.pdf_sha256,
        manifest_sha256=files.manifest_sha256,
        bates=bates,
        pages=pages,
    )


def _disclosure(p: PacketProduction, ok: bool) -> DisclosureOut:
    return DisclosureOut(
        production_id=p.id,
        person_id=p.person_id,
        case_id=p.case_id,
        produced_at=p.produced_at,
        as_of=p.as_of,
        requester=p.requester,
        role=p.role,
        purpose=p.purpose,
        recipient=p.recipient,
        formats=p.formats,
        bates=(
            f"{number_of(p.bates_prefix, p.bates_begin)}-{number_of(p.bates_prefix, p.bates_end)}"
            if p.bates_prefix and p.bates_begin is not None and p.bates_end is not None
            else None
        ),
        packet_sha256=p.packet_sha256,
        pdf_sha256=p.pdf_sha256,
        record_ids=json.loads(p.record_ids),
        verified=ok,
    )
