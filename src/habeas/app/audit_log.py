"""The audit log: search it (oversight; the search is itself audited), verify the chain,
and sign checkpoints for a witness to keep."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from habeas.errors import HabeasError

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal
    from habeas.governance.audit import Verification
    from habeas.governance.audit_access import AuditFilter
    from habeas.governance.chain import Checkpoint


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


class AuditLog:
    """Use cases on the audit log."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    def show(
        self, principal: Principal | None, purpose: str | None, f: AuditFilter
    ) -> list[AuditEntryOut]:
        """Entries matching the filter, oldest first (oversight only; audited)."""
        import json

        from habeas.governance.audit_access import search

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
        self, checkpoint: Path | None = None, public_key: Path | None = None
    ) -> tuple[Verification, Checkpoint | None]:
        """Recompute the chain; check it against a witness's checkpoint when given (the
        chain holds no personal data to read: it is hashes, so anyone may verify)."""
        from habeas.governance import audit
        from habeas.governance.chain import Checkpoint

        cp = key = None
        if checkpoint is not None:
            try:
                cp = Checkpoint.from_json(checkpoint.read_text())
            except (OSError, ValueError, KeyError) as exc:
                raise HabeasError(f"{checkpoint}: not a checkpoint ({exc})") from None
            key = audit.load_public(public_key or self.app.settings.data_dir / audit.PUBLIC_FILE)
        return audit.verify(self.app.engine, cp, key), cp

    def sign(self, principal: Principal | None, purpose: str | None) -> Checkpoint:
        """Sign a checkpoint of the log as it stands (oversight; the signing is audited)."""
        from habeas.governance import audit

        with self.app.work(principal, purpose, "audit_checkpoint", write=True) as w:
            from habeas.governance.authz import Resource, authorize
            from habeas.governance.identity import AccessDenied

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

    def checkpoint(self, path: Path) -> Checkpoint:
        """Sign the log's size, Merkle root and head with the log's key; write it to
        ``path`` (whose folder must exist)."""
        from habeas.governance import audit

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
        return cp
