"""Errors a user can act on, in one place: each says what went wrong so it can be fixed,
and carries how every edge answers it — the HTTP status and problem title
(``api/problems.py``), the CLI's exit code (2 for an error, 3 for a refusal) and the
pages' status. A refusal's audit entry is passed to the constructor: the application rolls
the work back and appends it in a transaction of its own."""

from __future__ import annotations

from typing import Any


class HabeasError(Exception):
    """A problem in the user's input or request, stated so they can fix it (422).

    ``entry``, when given, is the audit entry of a refusal (``audit.append``'s keyword
    arguments): the application appends it after rolling the work back. ``refusal``,
    when given, is a refused case step's row for the case's list of refused attempts, kept
    the same way."""

    status = 422
    title = "Unprocessable request"
    exit_code = 2

    def __init__(
        self,
        *args: Any,
        entry: dict[str, Any] | None = None,
        refusal: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(*args)
        self.entry = entry
        self.refusal = refusal

    def problem(self) -> dict[str, Any]:
        """What a problem-details answer adds to the title and the message."""
        return {}


class NotFound(HabeasError):
    """What was asked for does not exist, or the caller may not know that it does (404)."""

    status = 404
    title = "Not found"


class Unauthenticated(HabeasError):
    """No credentials, or credentials that name no active account (401)."""

    status = 401
    title = "Unauthenticated"
    exit_code = 3


class AccessDenied(HabeasError):
    """A request the policies refuse (403). ``entry`` is the refusal's audit entry;
    ``policy`` names the deciding policy (or the default deny)."""

    status = 403
    title = "Forbidden"
    exit_code = 3

    def __init__(
        self,
        message: str,
        entry: dict[str, Any] | None = None,
        policy: str = "",
        refusal: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, entry=entry, refusal=refusal)
        self.policy = policy

    def problem(self) -> dict[str, Any]:
        """The deciding policy."""
        return {"policy": self.policy or None}


class GateRefused(HabeasError):
    """The law (a gate of the lifecycle) refuses the step (403); ``refused.reasons`` names
    every why."""

    status = 403
    title = "Refused by law"
    exit_code = 3

    def __init__(
        self,
        refused: Any,
        entry: dict[str, Any] | None = None,
        refusal: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(refused), entry=entry, refusal=refusal)
        self.refused = refused

    def problem(self) -> dict[str, Any]:
        """Every reason, and that a gate of the lifecycle decided."""
        return {"reasons": list(self.refused.reasons), "policy": "lifecycle gate"}


class Conflict(HabeasError):
    """The request cannot be applied as sent (409): a write based on a stale read, an
    outcome's UUID resent with other content, an outcome for an assignment that was
    cancelled or closed."""

    status = 409
    title = "Conflict"


class HistoryBroken(HabeasError):
    """A case's stored history does not verify: no step is taken on it (409)."""

    status = 409
    title = "Case history does not verify"


class CapacityFull(HabeasError):
    """The facility is full: the placement is refused, never squeezed in."""


class TooManyAttempts(HabeasError):
    """Sign-in refused for a while: too many failures for the account or the address (429)."""

    status = 429
    title = "Too many attempts"


class TwoPersonRule(HabeasError):
    """The same person may not both register and approve a widening of a source."""


class UndeclaredFeed(NotFound):
    """No departure feed of that name is declared and in force."""


class UnreadableFile(HabeasError):
    """A named file that is not a regular file habeas may read, or is too large."""


class DeclarationError(HabeasError):
    """A source declaration is malformed: names the file, the key and the problem."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.problems = [(key, problem)]
        super().__init__(f"{path}: {key}: {problem}")

    @classmethod
    def many(cls, path: str, problems: list[tuple[str, str]]) -> DeclarationError:
        """One error carrying every problem found in the file."""
        err = cls(path, *problems[0])
        err.problems = list(problems)
        err.args = ("; ".join(f"{path}: {key}: {problem}" for key, problem in problems),)
        return err


class SourceRefused(HabeasError):
    """A source's legal basis does not hold; carries every rule it breaks."""

    def __init__(self, source: str, reasons: list[str]) -> None:
        self.source, self.reasons = source, reasons
        super().__init__(f"source {source!r} refused: " + "; ".join(reasons))


class UnknownSource(HabeasError):
    """No source of that name is registered."""


class IngestError(HabeasError):
    """A file cannot be ingested as a whole (missing, wrong format, wrong shape)."""
