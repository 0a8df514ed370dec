"""Follow-ups: what a fact recorded in one area sets in motion in another.

The area that records the fact (a case step, a publish) names a list of follow-ups; the
areas that act on it register their handler once, at application start, in the order
they run (``habeas.app.wiring.install``). A reader of the recording code sees every
effect in one place, and no area imports the ones above it to reach them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from habeas.errors import HabeasError

T = TypeVar("T")


class FollowUps(Generic[T]):
    """An ordered list of named handlers run, in the recording transaction, after a fact."""

    def __init__(self, after: str) -> None:
        self.after = after
        self._handlers: list[tuple[str, Callable[[T], object]]] = []

    def register(self, name: str, handler: Callable[[T], object]) -> None:
        """Add a handler at the end (registering the same name again changes nothing)."""
        if all(existing != name for existing, _ in self._handlers):
            self._handlers.append((name, handler))

    def names(self) -> list[str]:
        """The registered follow-ups, in the order they run."""
        return [name for name, _ in self._handlers]

    def run(self, fact: T) -> None:
        """Run every handler on the fact, in order. Refuses when none is registered: a
        step recorded without its follow-ups (a placement left open, an assignment left
        standing) would be a quiet safety failure."""
        if not self._handlers:
            raise HabeasError(
                f"no follow-ups are registered after {self.after}: "
                "call habeas.app.wiring.install() at start"
            )
        for _, handler in self._handlers:
            handler(fact)
