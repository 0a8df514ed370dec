"""A watched folder: files of a feed's events in its declared format (JSON lines), one
sub-folder per feed (``<folder>/<feed>/*.jsonl``).

A file is read in chunks and each chunk goes through the same call as an HTTP batch;
only when every chunk is committed is the file moved to ``done/``. A crash part-way
leaves the file where it was: read again, the events already in the inbox are repeats
and do nothing, so nothing is lost and nothing done twice. A file that cannot be read
(too large, not a regular file) is moved to ``refused/`` beside a note saying why; a
folder named for no declared feed is left alone and reported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 256 * 1024**2
"""The largest file of events read (the folder is for batches, not archives)."""
CHUNK = 200
"""Events per call."""
SETTLE = 2.0
"""Seconds a file must be unchanged before it is read (its writer may not be done)."""


@dataclass
class FolderPass:
    """What one look at the folder did."""

    files: int = 0
    events: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    refused: list[str] = field(default_factory=list)
    waiting: int = 0


Receive = Callable[[str, list[Any], int], Any]
"""(feed, events, position of the first) → a Receipt."""


def _chunks(path: Path) -> Any:
    """The file's lines in chunks, as bytes (never decoded or parsed here)."""
    batch: list[bytes] = []
    first = 1
    with path.open("rb") as handle:
        for n, line in enumerate(handle, start=1):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            if not batch:
                first = n
            batch.append(line)
            if len(batch) >= CHUNK:
                yield first, batch
                batch = []
    if batch:
        yield first, batch


def waiting(root: Path) -> int:
    """Files waiting in the folder's feed sub-folders."""
    if not root.is_dir():
        return 0
    return sum(1 for d in root.iterdir() if d.is_dir() for f in d.glob("*.jsonl") if f.is_file())


def watch_once(
    root: Path, feeds: list[str], receive: Receive, settle: float = SETTLE
) -> FolderPass:
    """Read every settled file of every declared feed once; move each file when done."""
    import time

    out = FolderPass()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    for sub in sorted(
        p for p in root.iterdir() if p.is_dir() and p.name not in ("done", "refused")
    ):
        if sub.name not in feeds:
            out.refused.append(f"{sub.name}/: not a declared feed; its files are left alone")
            continue
        for path in sorted(sub.glob("*.jsonl")):
            why = _unreadable(path)
            if why:
                _move(path, sub / "refused", why)
                out.refused.append(f"{sub.name}/{path.name}: {why}")
                continue
            before = path.stat()
            if time.time() - before.st_mtime < settle:
                continue  # its writer may not be done: next time
            for first, lines in _chunks(path):
                receipt = receive(sub.name, list(lines), first)
                out.events += receipt.received
                out.new += receipt.new
                out.duplicates += receipt.duplicates
                out.quarantined += receipt.quarantined
            after = path.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                continue  # written to while it was read: read again (repeats do nothing)
            _move(path, sub / "done", None)
            out.files += 1
    out.waiting = waiting(root)
    return out


def _unreadable(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return "not a regular file"
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return f"{size:,} bytes; a file of events is at most {MAX_FILE_BYTES:,}"
    return None


def _move(path: Path, to: Path, why: str | None) -> None:
    to.mkdir(exist_ok=True)
    target = to / path.name
    k = 1
    while target.exists():
        k += 1
        target = to / f"{path.stem}.{k}{path.suffix}"
    os.replace(path, target)
    if why:
        target.with_suffix(target.suffix + ".why").write_text(why + "\n", encoding="utf-8")
