"""The declared departure feeds, read from the source registry.

A feed is a source whose declaration has an ``[event]`` section and is in force today
(registered, its legal basis current). The registry lives in the staging store; the
monitor reads it read-only, so a consumer never takes DuckDB's write lock, and keeps
what it read for a while (a feed retired or refused is refused by the next read).
"""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from habeas.errors import HabeasError, UndeclaredFeed
from habeas.sources.declaration import SourceDeclaration
from habeas.sources.rules import legal_basis_refusals
from habeas.store.keys import load_or_create_key_file
from habeas.store.staging import registry_seal, staging_key_path

REREAD_SECONDS = 30.0
"""How long a read of the registry is trusted before it is read again."""


@dataclass(frozen=True)
class Feed:
    """A departure feed in force: its declaration and the version events are kept under."""

    declaration: SourceDeclaration
    version: int

    @property
    def name(self) -> str:
        """The feed's source name."""
        return self.declaration.name


def read_feeds(staging: Path, today: date) -> tuple[dict[str, Feed], dict[str, str]]:
    """The feeds in force (by name) and, for every other source with an ``[event]``
    section or none, why it is not one."""
    import duckdb

    if not staging.exists():
        return {}, {}
    last: Exception | None = None
    for attempt in range(20):  # a writer holds the file for a moment: wait for it
        try:
            with duckdb.connect(str(staging), read_only=True) as con:
                rows = con.execute(
                    "SELECT name, status, refusals, declaration, version, seal FROM sources"
                ).fetchall()
            break
        except duckdb.CatalogException:
            return {}, {}
        except duckdb.Error as exc:
            last = exc
            time.sleep(0.05 * (attempt + 1))
    else:
        raise HabeasError(f"the source registry cannot be read now ({last}); try again")
    feeds: dict[str, Feed] = {}
    refused: dict[str, str] = {}

    key = load_or_create_key_file(staging_key_path(staging))
    for name, status, refusals, decl_json, version, seal in rows:
        decl = SourceDeclaration.model_validate(json.loads(decl_json))
        expected = registry_seal(key, name, status, decl_json, version)
        if seal is None or not hmac.compare_digest(expected, seal):
            refused[name] = (
                "its registry row does not carry its seal (edited outside habeas): "
                "no event of it is taken"
            )
        elif decl.event is None:
            refused[name] = (
                "a source of records, not an event feed (its declaration has no [event])"
            )
        elif status != "registered":
            refused[name] = f"not in force ({status}: {'; '.join(refusals) or 'refused'})"
        else:
            problems = legal_basis_refusals(decl, today)
            if problems:
                refused[name] = "its legal basis does not hold today: " + "; ".join(
                    str(p) for p in problems
                )
            else:
                feeds[name] = Feed(decl, int(version or 1))
    return feeds, refused


class FeedRegistry:
    """The feeds as last read, read again when stale or when a name is not found."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self._feeds: dict[str, Feed] = {}
        self._refused: dict[str, str] = {}
        self._read_at = float("-inf")

    def _refresh(self, today: date) -> None:
        self._feeds, self._refused = read_feeds(self.staging, today)
        self._read_at = time.monotonic()

    def get(self, name: str, today: date) -> Feed:
        """The feed ``name``, or UndeclaredFeed saying why it is not one."""
        stale = time.monotonic() - self._read_at > REREAD_SECONDS
        if stale or name not in self._feeds:
            self._refresh(today)
        feed = self._feeds.get(name)
        if feed is not None:
            return feed
        why = self._refused.get(name)
        known = ", ".join(sorted(self._feeds)) or "none"
        if why is None:
            raise UndeclaredFeed(
                f"{name[:64]!r} is not a declared source (declared feeds: {known}); a feed is "
                "registered like any source, with an [event] section"
            )
        raise UndeclaredFeed(f"source {name!r} is not a departure feed in force: {why}")

    def names(self, today: date) -> list[str]:
        """The feeds in force."""
        self._refresh(today)
        return sorted(self._feeds)
