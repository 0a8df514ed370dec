"""Producing a packet's files from its JSON: the certification, the renderings, the load
files, the manifest and its signature; allocating Bates numbers; recording the production
(the accounting of disclosures)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, select, update

from habeas.errors import HabeasError
from habeas.packet import SCHEMA_VERSION
from habeas.packet.certify import (
    CERTIFICATION,
    DAT,
    HTML,
    MANIFEST,
    OPT,
    PACKET,
    PDF,
    SIGNATURE,
    canonical_json,
    certify,
    manifest_of,
    sha256,
    sign_manifest,
)
from habeas.packet.render import (
    Exhibit,
    bates,
    load_files,
    page_count,
    render_html,
    render_pdf,
    typst_version,
)
from habeas.store.keys import key_for
from habeas.store.models import BatesSequence, PacketProduction

FORMATS = ("json", "html", "pdf")
"""The renderings a production may hold (the JSON, certification and manifest always)."""

PREFIX = re.compile(r"[A-Z][A-Z0-9_-]{0,11}")


@dataclass(frozen=True)
class Request:
    """What is produced, for whom, as of when."""

    person_id: str
    case_id: int | None
    as_of: datetime
    produced_at: datetime
    requester: str
    role: str
    purpose: str
    recipient: str
    formats: tuple[str, ...]
    prefix: str


@dataclass
class Files:
    """A production's files by name, and what the record of it keeps."""

    files: dict[str, bytes] = field(default_factory=dict)
    packet_sha256: str = ""
    pdf_sha256: str | None = None
    manifest_sha256: str = ""
    bates_begin: int | None = None
    bates_end: int | None = None


def check_request(formats: tuple[str, ...], prefix: str, recipient: str) -> None:
    """Refuse an unknown format, a malformed Bates prefix or recipient."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise HabeasError(f"format {', '.join(unknown) or '(none)'}: formats are json, html, pdf")
    if not PREFIX.fullmatch(prefix):
        raise HabeasError(
            f"Bates prefix {prefix[:20]!r}: 1 to 12 capital letters, digits, - or _, "
            "starting with a letter"
        )
    if not recipient.strip() or len(recipient) > 200 or any(ord(c) < 32 for c in recipient):
        raise HabeasError("the recipient is 1 to 200 printable characters (who receives it)")


def statement(req: Request, packet_sha: str, production: str, begin: int | None) -> dict[str, Any]:
    """The certification's statement (signed by ``certify``)."""
    from importlib.metadata import version

    return {
        "title": "Certification of a record produced by an electronic process",
        "packet_sha256": packet_sha,
        "packet_id": f"packet:{req.person_id}:{req.as_of.isoformat()}",
        "as_of": req.as_of.isoformat(),
        "produced_at": req.produced_at.isoformat(),
        "production": production,
        "requester": {"user": req.requester, "role": req.role, "purpose": req.purpose},
        "recipient": req.recipient,
        "case_id": req.case_id,
        "bates": {
            "prefix": req.prefix if begin is not None else None,
            "begin": bates(req.prefix, begin) if begin is not None else None,
            "note": "numbered from begin on every page of packet.pdf; the range's end is in "
            "packet.dat (ENDBATES)"
            if begin is not None
            else "no PDF in this production: no Bates numbers",
        },
        "build": {
            "habeas": version("habeas"),
            "renderer": typst_version(),
            "schema": SCHEMA_VERSION,
        },
    }


def render_all(
    req: Request,
    packet: dict[str, Any],
    exhibits: list[Exhibit],
    production: str,
    key: Ed25519PrivateKey,
    first: Callable[[], int],
    claim: Callable[[int, int], bool],
) -> Files:
    """Every file of the production. The PDF is numbered from ``first()`` (the next free
    Bates number); ``claim(begin, pages)`` then takes that range, or answers False when
    another production took it meanwhile, and the PDF is numbered again from the next."""
    out = Files()
    packet_bytes = canonical_json(packet)
    out.packet_sha256 = sha256(packet_bytes)
    if "pdf" in req.formats:
        for _ in range(5):
            start = first()
            cert = certify(statement(req, out.packet_sha256, production, start), key)
            pdf = render_pdf(packet_bytes, canonical_json(cert), exhibits, req.prefix, start)
            pages = page_count(pdf)
            if claim(start, pages):
                break
        else:
            raise HabeasError("other productions kept taking these Bates numbers: try again")
        out.files[PDF] = pdf
        out.pdf_sha256 = sha256(pdf)
        dat, opt = load_files(req.prefix, start, pages, out.pdf_sha256, packet["id"])
        out.files[DAT], out.files[OPT] = dat, opt
        out.bates_begin, out.bates_end = start, start + pages - 1
    else:
        cert = certify(statement(req, out.packet_sha256, production, None), key)
    out.files[PACKET] = packet_bytes
    out.files[CERTIFICATION] = canonical_json(cert)
    if "html" in req.formats:
        out.files[HTML] = render_html(packet, cert)
    for x in exhibits:
        out.files[f"exhibits/{x.sha256}"] = x.content
    manifest = json.dumps(manifest_of(out.files), indent=1, sort_keys=True).encode()
    out.files[MANIFEST] = manifest
    out.manifest_sha256 = sha256(manifest)
    out.files[SIGNATURE] = sign_manifest(manifest, key)
    return out


def next_number(conn: Connection, prefix: str) -> int:
    """The next free Bates number of ``prefix`` (a new prefix's sequence starts at 1)."""
    row = conn.execute(
        select(BatesSequence.next_number).where(BatesSequence.prefix == prefix)
    ).scalar_one_or_none()
    if row is None:
        conn.execute(insert(BatesSequence), [{"prefix": prefix, "next_number": 1}])
        return 1
    return int(row)


def claim(conn: Connection, prefix: str, begin: int, pages: int) -> bool:
    """Take ``pages`` numbers of ``prefix`` from ``begin`` (in the production's
    transaction): False when the sequence moved since ``begin`` was read."""
    moved = conn.execute(
        update(BatesSequence)
        .where(BatesSequence.prefix == prefix, BatesSequence.next_number == begin)
        .values(next_number=begin + max(pages, 1))
    )
    return bool(moved.rowcount == 1)


def production_seal(key: bytes, row: dict[str, Any]) -> str:
    """HMAC (history key) over a production's record: a disclosure edited or written
    outside habeas does not carry it."""
    names = sorted(k for k in row if k != "seal")
    msg = json.dumps({k: str(row[k]) for k in names}, sort_keys=True).encode()
    return hmac.new(key, b"production\x00" + msg, hashlib.sha256).hexdigest()


def _row(req: Request, files: Files, record_ids: list[str]) -> dict[str, Any]:
    return {
        "person_id": req.person_id,
        "case_id": req.case_id,
        "produced_at": req.produced_at,
        "as_of": req.as_of,
        "requester": req.requester,
        "role": req.role,
        "purpose": req.purpose,
        "recipient": req.recipient,
        "formats": ",".join(req.formats),
        "bates_prefix": req.prefix if files.bates_begin is not None else None,
        "bates_begin": files.bates_begin,
        "bates_end": files.bates_end,
        "packet_sha256": files.packet_sha256,
        "pdf_sha256": files.pdf_sha256,
        "manifest_sha256": files.manifest_sha256,
        "record_ids": json.dumps(sorted(record_ids)),
    }


def reserve(conn: Connection, req: Request) -> int:
    """The production's number (its row, completed by ``finish`` in the same transaction:
    the certification names the production before its hashes are known)."""
    row = _row(req, Files(), [])
    row["seal"] = ""
    stmt = insert(PacketProduction).returning(PacketProduction.id)
    return int(conn.execute(stmt, row).scalar_one())


def finish(
    conn: Connection, production_id: int, req: Request, files: Files, record_ids: list[str]
) -> PacketProduction:
    """Complete the production's record: a disclosure with its recipient, purpose, the
    records it carried and its files' hashes, sealed."""
    row = _row(req, files, record_ids)
    row["seal"] = production_seal(key_for(conn), {"id": production_id, **row})
    conn.execute(update(PacketProduction).where(PacketProduction.id == production_id).values(**row))
    return PacketProduction(id=production_id, **row)


def sealed(conn: Connection, p: PacketProduction) -> bool:
    """Whether a production's record carries its seal."""
    row = {c.name: getattr(p, c.name) for c in PacketProduction.__table__.columns}
    return hmac.compare_digest(p.seal, production_seal(key_for(conn), row))
