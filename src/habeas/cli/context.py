"""What every command shares: the terminal's consoles and this invocation (the
application built from the global options, and whether a SIGTERM stopped it), carried on
Typer's context object rather than in a module global."""

from __future__ import annotations

from contextvars import ContextVar

from pydantic import ValidationError

from habeas.app.core import Habeas
from habeas.cli.console import SafeConsole
from habeas.errors import HabeasError
from habeas.settings import Settings

out = SafeConsole()
"""Standard output: tables, JSON, results."""
err = SafeConsole(stderr=True)
"""Standard error: refusals, errors, progress."""


class Invocation:
    """One run of the CLI: its global options, and the application built from them on
    first use (closed when the run ends)."""

    def __init__(self) -> None:
        self.app: Habeas | None = None
        self.stopped = False
        self.quiet = False
        self.overrides: dict[str, object] = {}

    def application(self) -> Habeas:
        """The application of this run, built from the options and HABEAS_* variables."""
        if self.app is None:
            try:
                settings = Settings(**self.overrides)  # type: ignore[arg-type]
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'settings'} "
                    f"(--{str(e['loc'][0]).replace('_', '-')} or "
                    f"HABEAS_{str(e['loc'][0]).upper()}): {e['msg']}"
                    for e in exc.errors()
                )
                raise HabeasError(f"bad setting: {problems}") from None
            self.app = Habeas(settings)
        return self.app

    def close(self) -> None:
        """Let go of the stores."""
        if self.app is not None:
            self.app.close()
            self.app = None


_RUNNING: ContextVar[Invocation] = ContextVar("habeas_invocation")


def begin(run: Invocation) -> None:
    """Make ``run`` (the root Typer context's object) the one commands see."""
    _RUNNING.set(run)


def invocation() -> Invocation:
    """The running command's invocation."""
    run = _RUNNING.get(None)
    if run is None:
        raise HabeasError("no habeas command is running")
    return run


def application() -> Habeas:
    """The application object of this invocation (built on first use)."""
    return invocation().application()


def quiet() -> bool:
    """True when the run was asked for errors only (--quiet)."""
    return invocation().quiet
