"""Errors a user can act on. The CLI prints them as one line; --debug adds the traceback."""

from __future__ import annotations

from typing import Any


class HabeasError(Exception):
    """A problem in the user's input or request, stated so they can fix it.

    ``entry``, when set, is the audit entry of a refusal (``audit.append``'s keyword
    arguments): the application appends it after rolling the work back. ``refusal``,
    when set, is a refused case step's row for the case's list of refused attempts, kept
    the same way."""

    entry: dict[str, Any] | None = None
    refusal: dict[str, Any] | None = None


class NotFound(HabeasError):
    """What was asked for does not exist, or the caller may not know that it does."""


class Unauthenticated(HabeasError):
    """No credentials, or credentials that name no active account."""


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
