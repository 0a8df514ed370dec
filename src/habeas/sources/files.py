"""Reading a file someone named: only regular files, never more than a cap, never hung.

Every file habeas reads on a user's word — a source file, a declaration, a tax request,
a policy — comes through ``read_bounded``. It opens without following the caller into a
device, a FIFO or a directory (``/dev/zero`` has size 0, a FIFO with no writer blocks
forever), counts the bytes it actually reads instead of trusting ``st_size``, and, for a
file a declaration names, refuses a path that resolves outside the declaration's folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from habeas.errors import UnreadableFile

MAX_SOURCE_BYTES = 8 * 1024**3
MAX_DECLARATION_BYTES = 1024**2
MAX_REQUEST_BYTES = 256 * 1024**2
MAX_POLICY_BYTES = 1024**2
SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Kernel and device trees: nothing in them is a file habeas should read as data."""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def check_path(path: Path, what: str, within: Path | None = None) -> Path:
    """The resolved path of a regular file that may be read, or UnreadableFile naming why.

    ``within``: the file must resolve inside this folder (a file a declaration names may
    not be a link to ``/etc/shadow``)."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise UnreadableFile(f"{path}: cannot be resolved ({exc.__class__.__name__})") from None
    if any(_inside(resolved, tree) for tree in SYSTEM_TREES):
        raise UnreadableFile(f"{path}: resolves to {resolved}, a system file, not {what}")
    if within is not None and not _inside(resolved, within.resolve()):
        raise UnreadableFile(
            f"{path}: resolves outside {within} (to {resolved}); {what} must lie in the "
            "declaration's folder"
        )
    mode = resolved.stat().st_mode
    if stat.S_ISDIR(mode):
        raise UnreadableFile(f"{path}: is a directory, not {what}")
    if not stat.S_ISREG(mode):
        raise UnreadableFile(
            f"{path}: is not a regular file (a device, FIFO or socket), not {what}"
        )
    return resolved


def read_bounded(path: Path, limit: int, what: str, within: Path | None = None) -> bytes:
    """Every byte of a regular file, refusing one larger than ``limit`` bytes as read."""
    resolved = check_path(path, what, within)
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot be opened ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the check and the open
            raise UnreadableFile(f"{path}: is not a regular file, not {what}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 24, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnreadableFile(f"{path}: larger than the {limit:,}-byte limit for {what}")
    finally:
        os.close(fd)
    return b"".join(chunks)


_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
    (b"\x7fELF", "a program"),
    (b"SQLite format", "a database"),
)


def preview(data: bytes) -> str:
    """What a file that is not what it claims looks like, never a byte of its contents
    (a link to a password file must not echo its first line): its kind, or the shape of
    its first line (how many characters, how many fields by common separators)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    first = data.split(b"\n", 1)[0][:4096]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    fields = {sep: text.count(sep) + 1 for sep in (",", ";", "|", "\t", ":") if sep in text}
    shape = ", ".join(f"{n} fields by {sep!r}" for sep, n in sorted(fields.items()))
    return f"a first line of {len(text)} characters" + (f" ({shape})" if shape else "")
