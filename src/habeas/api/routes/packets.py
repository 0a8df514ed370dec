"""Evidence packets: produce one (a disclosure, recorded), download an earlier production
rebuilt hash for hash, the accounting of disclosures, counsel's clients."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from habeas.api.deps import MAX_ID, C, H, Id, edge
from habeas.app.packets import ClientOut, DisclosureOut, parse_as_of
from habeas.errors import Conflict, NotFound

router = APIRouter()

MEDIA = {
    "json": ("packet.json", "application/json"),
    "html": ("packet.html", "text/html; charset=utf-8"),
    "pdf": ("packet.pdf", "application/pdf"),
    "dat": ("packet.dat", "text/plain; charset=utf-8"),
    "opt": ("packet.opt", "text/plain; charset=us-ascii"),
    "certification": ("certification.json", "application/json"),
    "manifest": ("manifest.json", "application/json"),
    "signature": ("manifest.sig", "application/json"),
}
"""What a packet's files are served as (by the name a request gives)."""

Part = Literal["json", "html", "pdf", "dat", "opt", "certification", "manifest", "signature"]


def _file(name: str, media: str, data: bytes, production: int, sha: str) -> Response:
    return Response(
        data,
        media_type=media,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "x-habeas-production": str(production),
            "x-habeas-packet-sha256": sha,
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
            "x-content-type-options": "nosniff",
        },
    )


@router.get("/persons/{person_id}/packet", tags=["packets"])
@edge
def packet(
    h: H,
    c: C,
    person_id: Id,
    recipient: Annotated[str, Query(min_length=1, max_length=200)],
    format: Annotated[Part, Query()] = "json",
    case: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
    bates_prefix: Annotated[str, Query(max_length=12)] = "HAB",
    client: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Produce an evidence packet about the person (recorded as a disclosure to
    ``recipient``) and answer with the file asked for; the production's number and the
    JSON's SHA-256 are in the response's headers."""
    formats: tuple[str, ...] = ("json", "html", "pdf")
    if format in ("json", "html"):
        formats = ("json", format)
    p = h.packets.produce(
        c.principal,
        c.purpose,
        person_id,
        recipient=recipient,
        case_id=case,
        as_of=parse_as_of(as_of),
        formats=formats,
        prefix=bates_prefix,
        client=client,
    )
    name, media = MEDIA[format]
    return _file(name, media, p.files[name], p.production_id, p.packet_sha256)


@router.get("/packets/{production}/{part}", tags=["packets"])
@edge
def production_file(
    h: H,
    c: C,
    production: Annotated[int, PathParam(ge=1, le=MAX_ID)],
    part: Part,
    client: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A file of an earlier production, rebuilt as of its moment: served only when the
    rebuild is identical to what was recorded (409 names what differs otherwise)."""
    r = h.packets.rebuild(c.principal, c.purpose, production, client=client)
    if not r.same:
        raise Conflict(f"production {production} no longer rebuilds: {'; '.join(r.differences)}")
    name, media = MEDIA[part]
    if name not in r.produced.files:
        raise NotFound(f"production {production} holds no {name}")
    return _file(name, media, r.produced.files[name], production, r.produced.packet_sha256)


@router.get("/persons/{person_id}/disclosures", tags=["packets"])
@edge
def disclosures(
    h: H, c: C, person_id: Id, client: Annotated[str, Query(max_length=64)] = ""
) -> list[DisclosureOut]:
    """The packets about the person given out (5 U.S.C. 552a(c))."""
    return h.packets.disclosures(c.principal, c.purpose, person_id, client=client)


@router.get("/counsel/clients", tags=["packets"])
@edge
def counsel_clients(h: H, c: C) -> list[ClientOut]:
    """Counsel's clients and the cases they are recorded on."""
    return h.packets.clients(c.principal, c.purpose)
