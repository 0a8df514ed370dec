"""Tax disclosure requests: the persons a 26 U.S.C. 6103 request names.

The requester must supply each person's name and address; an entry without them
authorizes nothing. Only rows of requested persons may be ingested.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from habeas.errors import DeclarationError, UnreadableFile
from habeas.sources.files import MAX_REQUEST_BYTES, read_bounded

REQUEST_COLUMNS = ("given_name", "family_name", "street", "city", "state", "zip")


@dataclass(frozen=True)
class RequestEntry:
    """One person named in a tax disclosure request."""

    entry_no: int
    given_name: str
    family_name: str
    street: str
    city: str
    state: str
    zip: str
    problem: str | None

    @property
    def valid(self) -> bool:
        """True when the requester supplied a name and an address."""
        return self.problem is None


def entry_problem(row: dict[str, str]) -> str | None:
    """Why an entry authorizes nothing, or None when it names a person at an address."""
    missing_name = [c for c in ("given_name", "family_name") if not row.get(c, "").strip()]
    missing_addr = [c for c in ("street", "zip") if not row.get(c, "").strip()]
    if missing_name:
        return f"requester supplied no {' or '.join(missing_name)}"
    if missing_addr:
        return f"requester supplied no address ({' and '.join(missing_addr)} missing)"
    return None


def read_request(path: Path, declaration_path: str) -> list[RequestEntry]:
    """Read a request file (CSV with a header naming the request columns): a regular file
    inside the declaration's folder, of at most 256 MiB."""

    key = "tax.request_file"
    try:
        raw = read_bounded(
            path, MAX_REQUEST_BYTES, "a tax request (CSV)", within=Path(declaration_path).parent
        )
    except UnreadableFile as exc:
        raise DeclarationError(declaration_path, key, str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeclarationError(
            declaration_path, key, f"{path} is not UTF-8 ({exc.reason})"
        ) from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in REQUEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DeclarationError(declaration_path, key, f"{path} lacks columns {missing}")
        entries = []
        for n, row in enumerate(reader, start=1):
            clean = {c: (row.get(c) or "").strip() for c in REQUEST_COLUMNS}
            entries.append(RequestEntry(n, **clean, problem=entry_problem(clean)))
    except csv.Error as exc:
        raise DeclarationError(declaration_path, key, f"{path} is not CSV ({exc})") from None
    return entries
