"""Certifying a packet and checking one: the certification (the JSON's SHA-256, the build,
the moment, the requester, the production's Bates range) signed with the log's Ed25519
key; the manifest of every file's SHA-256 (a file cannot hold its own), signed in turn;
and the verification that recomputes all of it and names what differs.

In the spirit of FRE 902(13)/(14): a record produced by an electronic process, identified
by its hash, with a certification a court can check without habeas's help.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from habeas.errors import HabeasError
from habeas.governance.chain import key_id

PACKET = "packet.json"
CERTIFICATION = "certification.json"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PDF = "packet.pdf"
HTML = "packet.html"
DAT = "packet.dat"
OPT = "packet.opt"


def check_folder(folder: Path) -> None:
    """Refuse a folder a packet may not go into: a file, or one that holds anything (a
    production is never written over another)."""
    if folder.exists() and not folder.is_dir():
        raise HabeasError(f"{folder} is a file: name a folder for the packet")
    if folder.is_dir() and any(folder.iterdir()):
        raise HabeasError(f"{folder} is not empty: a packet goes into a new or empty folder")


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write a production's files (``exhibits/…`` in a subfolder) into a new or empty
    folder; a file that exists is never overwritten."""
    check_folder(folder)
    try:
        for name, data in sorted(files.items()):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
    except OSError as exc:
        raise HabeasError(f"cannot write the packet into {folder}: {exc.strerror}") from None


def canonical_json(value: Any) -> bytes:
    """Sorted keys, compact, UTF-8: the bytes that are hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    """SHA-256 as hex."""
    return hashlib.sha256(data).hexdigest()


def public_pem(key: Ed25519PublicKey) -> str:
    """A public key as PEM text."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def certify(statement: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The certification: the statement with the key's id and public half, signed."""
    body = {
        **statement,
        "key_id": key_id(key.public_key()),
        "public_key": public_pem(key.public_key()),
    }
    return {**body, "signature": base64.b64encode(key.sign(canonical_json(body))).decode()}


def manifest_of(files: dict[str, bytes]) -> dict[str, Any]:
    """Every file's SHA-256 and size, by name."""
    return {"files": {n: {"sha256": sha256(b), "bytes": len(b)} for n, b in sorted(files.items())}}


def sign_manifest(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    """The manifest's signature file: its hash, the key id, the Ed25519 signature."""
    digest = sha256(manifest)
    statement = f"habeas-packet-manifest\n{digest}\n".encode()
    return canonical_json(
        {
            "manifest_sha256": digest,
            "key_id": key_id(key.public_key()),
            "signature": base64.b64encode(key.sign(statement)).decode(),
        }
    )


@dataclass
class Check:
    """What ``packet verify`` found: each problem names its file."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    key_id: str = ""
    trusted_key: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return not self.problems


def _load_public(pem: str) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def _verifies(key: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _read(folder: Path, name: str, check: Check) -> bytes | None:
    path = folder / name
    if not path.is_file():
        check.problems.append(f"{name}: missing from {folder}")
        return None
    return path.read_bytes()


def _json(name: str, data: bytes | None, check: Check) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        check.problems.append(f"{name}: not readable JSON ({exc})")
        return None
    if not isinstance(value, dict):
        check.problems.append(f"{name}: not a JSON object")
        return None
    return value


def verify_folder(folder: Path, trusted: Ed25519PublicKey | None) -> Check:
    """Recompute every hash of a packet folder, check both signatures and the JSON the PDF
    carries; each problem names the file that differs."""
    check = Check()
    cert_bytes = _read(folder, CERTIFICATION, check)
    cert = _json(CERTIFICATION, cert_bytes, check)
    key: Ed25519PublicKey | None = trusted
    if cert is not None:
        embedded = _load_public(str(cert.get("public_key", "")))
        check.key_id = str(cert.get("key_id", ""))
        if trusted is not None:
            check.trusted_key = key_id(trusted) == check.key_id
            if not check.trusted_key:
                check.problems.append(
                    f"{CERTIFICATION}: signed with key {check.key_id}, not the trusted key "
                    f"{key_id(trusted)}"
                )
        elif embedded is None:
            check.problems.append(f"{CERTIFICATION}: its public key is not an Ed25519 key")
        key = key or embedded
    _check_signature(folder, key, check)
    manifest = _json(MANIFEST, _read(folder, MANIFEST, check), check)
    if manifest is not None:
        _check_files(folder, manifest, check)
    if cert is not None and key is not None:
        body = {k: v for k, v in cert.items() if k != "signature"}
        if not _verifies(key, str(cert.get("signature", "")), canonical_json(body)):
            check.problems.append(f"{CERTIFICATION}: its signature does not verify (altered)")
        check.checked.append(f"{CERTIFICATION}: signature")
        packet = (folder / PACKET).read_bytes() if (folder / PACKET).is_file() else None
        if packet is not None and sha256(packet) != cert.get("packet_sha256"):
            check.problems.append(
                f"{PACKET}: its SHA-256 is {sha256(packet)}, the certification names "
                f"{cert.get('packet_sha256')}"
            )
        if (folder / PDF).is_file() and packet is not None:
            _check_embedded(folder / PDF, packet, check)
    return check


def _check_signature(folder: Path, key: Ed25519PublicKey | None, check: Check) -> None:
    sig = _json(SIGNATURE, _read(folder, SIGNATURE, check), check)
    manifest = (folder / MANIFEST).read_bytes() if (folder / MANIFEST).is_file() else None
    if sig is None or manifest is None or key is None:
        return
    named = str(sig.get("manifest_sha256", ""))
    statement = f"habeas-packet-manifest\n{named}\n".encode()
    if not _verifies(key, str(sig.get("signature", "")), statement):
        check.problems.append(f"{SIGNATURE}: the signature does not verify (altered)")
    elif sha256(manifest) != named:
        check.problems.append(
            f"{MANIFEST}: its SHA-256 is {sha256(manifest)}, the signature names {named} (altered)"
        )
    check.checked.append(f"{SIGNATURE}: signature over {MANIFEST}")


def _check_files(folder: Path, manifest: dict[str, Any], check: Check) -> None:
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        check.problems.append(f"{MANIFEST}: no files listed")
        return
    for name, want in sorted(files.items()):
        path = folder / name
        if "/" in name.replace("exhibits/", "", 1) or ".." in name:
            check.problems.append(f"{MANIFEST}: names a file outside the packet ({name!r})")
            continue
        if not path.is_file():
            check.problems.append(f"{name}: listed in the manifest, missing")
            continue
        got = sha256(path.read_bytes())
        expected = want.get("sha256") if isinstance(want, dict) else None
        if got != expected:
            check.problems.append(f"{name}: its SHA-256 is {got}, the manifest says {expected}")
        check.checked.append(name)


def _check_embedded(pdf: Path, packet: bytes, check: Check) -> None:
    import pikepdf

    try:
        with pikepdf.open(pdf) as doc:
            attached = doc.attachments.get(PACKET)
            inner = attached.get_file().read_bytes() if attached is not None else None
    except (pikepdf.PdfError, OSError) as exc:
        check.problems.append(f"{PDF}: not a readable PDF ({exc})")
        return
    if inner is None:
        check.problems.append(f"{PDF}: does not carry {PACKET} as an attached file")
    elif inner != packet:
        check.problems.append(f"{PDF}: the {PACKET} it carries differs from {PACKET}")
    check.checked.append(f"{PDF}: embedded {PACKET}")
