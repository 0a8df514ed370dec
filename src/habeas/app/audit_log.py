"""The audit log: search it (oversight; the search is itself audited), verify the chain,
and sign checkpoints for a witness to keep."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel
from sqlalchemy import Engine

from habeas.cases.integrity import history_problem
from habeas.errors import AccessDenied, HabeasError
from habeas.governance import audit
from habeas.governance.audit import Refs, Verification
from habeas.governance.audit_access import search
from habeas.governance.authz import Resource, authorize
from habeas.governance.chain import Checkpoint
from habeas.governance.disclosure import facade
from habeas.monitor.inbox import inbox_problem
from habeas.resolve.publish import sources_problem

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal
    from habeas.governance.audit_access import AuditFilter


class AuditEntryOut(BaseModel):
    """One entry of the log as oversight reads it."""

    seq: int
    at: str
    user: str
    role: str
    purpose: str
    action: str
    resources: list[str]
    decision: str
    detail: str
    request_id: str


def store_problems(engine: Engine, refs: Refs) -> tuple[int, str | None]:
    """Every store the log vouches for, checked in turn: case histories against the events
    the entries recorded, then the sealed rows (case rows, the monitor's inbox, published
    sources). Returns the case events read and the first problem."""
    events, problem = history_problem(engine, refs)
    return events, (problem or inbox_problem(engine) or sources_problem(engine))


def verify_store(
    engine: Engine, checkpoint: Checkpoint | None = None, public: Ed25519PublicKey | None = None
) -> Verification:
    """``audit verify``: the log's chain (against a checkpoint when given), then every
    store it vouches for."""
    return audit.verify(engine, checkpoint, public, store_problems)


@facade
class AuditLog:
    """Use cases on the audit log."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    def show(
        self, principal: Principal | None, purpose: str | None, f: AuditFilter
    ) -> list[AuditEntryOut]:
        """Entries matching the filter, oldest first (oversight only; audited)."""
        import json

        if not 1 <= f.limit <= 1000 or f.offset < 0:
            raise HabeasError("limit must be 1 to 1000 and offset 0 or more")
        try:
            with self.app.sessions() as s:
                ctx = self.app.context(s, principal, purpose)
        except HabeasError as exc:  # audited once the session has let go of the store
            self.app.record_failure(None, principal, purpose, "read_audit", exc)
            raise
        rows = search(self.app.engine, ctx, f)
        return [
            AuditEntryOut(
                seq=r.seq,
                at=r.at,
                user=r.user,
                role=r.role,
                purpose=r.purpose,
                action=r.action,
                resources=json.loads(r.resources),
                decision=r.decision,
                detail=r.detail,
                request_id=r.request_id,
            )
            for r in rows
        ]

    def verify(
        self,
        checkpoint: Path | None = None,
        public_key: Path | None = None,
        witness: Path | None = None,
    ) -> tuple[Verification, Checkpoint | None]:
        """Recompute the chain; check it against a witness's checkpoint when given, or the
        latest one in the witness's folder (the chain holds no personal data to read: it
        is hashes, so anyone may verify)."""

        cp = key = None
        if witness is not None:
            if checkpoint is not None:
                raise HabeasError("give a checkpoint file or a witness folder, not both")
            checkpoint = latest_checkpoint(witness)
        if checkpoint is not None:
            try:
                cp = Checkpoint.from_json(checkpoint.read_text())
            except (OSError, ValueError, KeyError) as exc:
                raise HabeasError(f"{checkpoint}: not a checkpoint ({exc})") from None
            key = audit.load_public(public_key or self.app.settings.data_dir / audit.PUBLIC_FILE)
        return verify_store(self.app.engine, cp, key), cp

    def sign(self, principal: Principal | None, purpose: str | None) -> Checkpoint:
        """Sign a checkpoint of the log as it stands (oversight; the signing is audited)."""

        with self.app.work(principal, purpose, "audit_checkpoint", write=True) as w:
            d = authorize(w.ctx, "read_audit", Resource("AuditLog", "log", {}))
            if not d.allowed:
                raise AccessDenied(
                    f"{w.ctx.user} ({w.ctx.role}) may not sign the audit log: {d.why()}",
                    None,
                    d.why(),
                )
            cp = audit.make_checkpoint(
                self.app.engine, audit.load_or_create_key(self.app.settings.data_dir)
            )
            w.done(f"checkpoint of {cp.size} entries, root {cp.root[:16]}")
            return cp

    def checkpoint(self, path: Path | None = None, witness: Path | None = None) -> Path:
        """Sign the log's size, Merkle root and head with the log's key; write it to
        ``path`` (whose folder must exist), or into the witness's folder, where an
        outside party keeps every checkpoint (``checkpoint-<size>-<time>.json``)."""

        if (path is None) == (witness is None):
            raise HabeasError("name the checkpoint file or the witness folder (one of them)")
        if witness is not None:
            if not witness.is_dir():
                raise HabeasError(f"{witness}: no such witness folder")
            cp = audit.make_checkpoint(
                self.app.engine, audit.load_or_create_key(self.app.settings.data_dir)
            )
            stamp = cp.time.replace(":", "").replace("-", "").split(".")[0]
            target = witness / f"checkpoint-{cp.size:012d}-{stamp}.json"
            _write_new(target, cp.to_json())
            return target
        assert path is not None
        if not path.parent.exists():
            raise HabeasError(f"cannot write the checkpoint to {path}: no folder {path.parent}")
        if path.is_dir():
            raise HabeasError(f"{path} is a folder: name the checkpoint file")
        cp = audit.make_checkpoint(
            self.app.engine, audit.load_or_create_key(self.app.settings.data_dir)
        )
        try:
            path.write_text(cp.to_json())
        except OSError as exc:
            raise HabeasError(f"cannot write the checkpoint to {path}: {exc.strerror}") from None
        return path


def _write_new(path: Path, text: str) -> None:
    """Write a file that must not exist yet (a witness's checkpoint is never overwritten)."""
    import os

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise HabeasError(f"{path} exists: a witness's checkpoint is never overwritten") from None
    except OSError as exc:
        raise HabeasError(f"cannot write the checkpoint to {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def latest_checkpoint(witness: Path) -> Path:
    """The witness's checkpoint covering the most entries (the latest of equals)."""

    if not witness.is_dir():
        raise HabeasError(f"{witness}: no such witness folder")
    best: tuple[int, str, Path] | None = None
    for path in witness.glob("*.json"):
        try:
            cp = Checkpoint.from_json(path.read_text(encoding="utf-8")[:100_000])
        except (OSError, ValueError, KeyError, UnicodeDecodeError):
            continue
        key = (cp.size, cp.time, path)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        raise HabeasError(f"{witness}: holds no checkpoint")
    return best[2]
