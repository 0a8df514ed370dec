"""Documents on a case: attached, verified by a second person against the court's docket,
read back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from habeas.app.cases.common import CasesBase
from habeas.app.cases.schemas import DocumentOut
from habeas.cases.access import require_case
from habeas.cases.documents import attach_document, read_document, verify_document
from habeas.errors import HabeasError

if TYPE_CHECKING:
    from habeas.app.core import Principal


class Documents(CasesBase):
    """Use cases: documents."""

    def attach(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        name: str,
        content: bytes,
    ) -> DocumentOut:
        """Keep a document on the case, whole, so that a step may cite it by its SHA-256
        (``document_sha256``) and counsel and the court can read what was cited."""

        with self.app.work(principal, purpose, "case_attach_document", write=True) as w:
            require_case(w.session, w.ctx, case_id, "case_attach_document")
            digest, new = attach_document(w.session, w.ctx, case_id, name, content)
            w.done(f"document {digest[:16]}… on case {case_id}", [f"case:{case_id}"])
            return DocumentOut(
                case_id=case_id, sha256=digest, name=name.strip(), size=len(content), new=new
            )

    def verify_document(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        sha256: str,
        issuer: str,
        docket: str,
    ) -> DocumentOut:
        """A supervisor who did not attach a document checks it against the court's docket
        and records the issuing court and the docket reference: only then may a court's
        act cite it, with that court as its authority (audited)."""

        with self.app.work(principal, purpose, "case_verify_document", write=True) as w:
            require_case(w.session, w.ctx, case_id, "case_verify_document")
            doc = verify_document(w.session, w.ctx, case_id, sha256, issuer, docket)
            w.done(
                f"document {sha256[:16]}… verified as {issuer}'s (docket {docket})",
                [f"case:{case_id}", f"document:{sha256}"],
            )
            return DocumentOut(
                case_id=case_id,
                sha256=doc.sha256,
                name=doc.name,
                size=doc.size,
                new=False,
                issuer=doc.issuer,
                docket_reference=doc.docket_reference,
                verified_by=doc.verified_by,
            )

    def document(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        sha256: str,
        client: str = "",
    ) -> tuple[str, bytes]:
        """A document kept on the case (its name and bytes), for a reader of the case."""

        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise HabeasError(f"{sha256[:70]!r} is not a SHA-256 (64 lowercase hex digits)")
        with self.app.work(principal, purpose, "read_case_document", client=client) as w:
            require_case(w.session, w.ctx, case_id, "read_case_document")
            doc = read_document(w.session, w.ctx, case_id, sha256)
            return doc.name, bytes(doc.content)
