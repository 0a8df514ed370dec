"""Logging, configured once per process: the ``habeas`` loggers to stderr at the level
``--quiet``/``--verbose`` chose, and to a file when ``--log-file`` names one, so a long
job leaves a record of its stages."""

from __future__ import annotations

import logging
from pathlib import Path

from habeas.errors import HabeasError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLERS: list[logging.Handler] = []


def configure(verbosity: int = 0, log_file: Path | None = None) -> None:
    """Set the ``habeas`` loggers: -1 quiet (errors only), 0 warnings, 1 info, 2 debug.
    Calling it again replaces what the last call set (one configuration per process)."""
    root = logging.getLogger("habeas")
    for handler in _HANDLERS:
        root.removeHandler(handler)
        handler.close()
    _HANDLERS.clear()
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    console = logging.StreamHandler()
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    _HANDLERS.append(console)
    if log_file is not None:
        if not log_file.parent.is_dir():
            raise HabeasError(f"--log-file {log_file}: no folder {log_file.parent}")
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setLevel(min(level, logging.INFO))
        to_file.setFormatter(logging.Formatter(FORMAT))
        _HANDLERS.append(to_file)
    for handler in _HANDLERS:
        root.addHandler(handler)
    root.setLevel(min(h.level for h in _HANDLERS))
    root.propagate = False
