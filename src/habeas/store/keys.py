"""The history key: the secret that seals case histories, case rows, source registry rows
and the monitor's inbox, kept outside the operational store.

A hash chain that anyone can recompute protects against accidents, not against someone
with write access to the store: they insert an approval, delete a stay, recompute every
hash after it, and the next step acts on the forgery. An HMAC keyed by a secret the store
does not hold cannot be recomputed by them. The key is a file (mode 0600) beside the
audit log's signing key in the data directory, or the file ``HABEAS_HISTORY_KEY_FILE``
names (for a deployment whose database server is elsewhere: the database's writers never
see it).

The application registers the key for its store's URL when it connects; the pure code
that seals and checks asks for the key of the connection it works on.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from habeas.errors import HabeasError

KEY_FILE = "history.key"
ENV = "HABEAS_HISTORY_KEY_FILE"

_KEYS: dict[str, bytes] = {}


def _url_of(bind: Any) -> str:
    engine = getattr(bind, "engine", bind)
    return str(engine.url.render_as_string(hide_password=False))


def load_or_create(data_dir: Path) -> bytes:
    """The history key: the file ``HABEAS_HISTORY_KEY_FILE`` names, else ``history.key``
    in the data directory, created (32 random bytes, mode 0600) on first use."""
    named = os.environ.get(ENV)
    if named and not Path(named).exists():
        raise HabeasError(f"{named} ({ENV}): no such file")
    return load_or_create_key_file(Path(named) if named else data_dir / KEY_FILE)


def load_or_create_key_file(path: Path) -> bytes:
    """A key kept in its own file (32 random bytes, mode 0600, made on first use)."""
    if path.exists():
        key = path.read_bytes()
        if len(key) < 32:
            raise HabeasError(f"{path}: a key is 32 bytes or more")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def register(bind: Any, key: bytes) -> None:
    """Use ``key`` for the store ``bind`` (an engine or connection) reaches."""
    _KEYS[_url_of(bind)] = key


def key_for(bind: Any) -> bytes:
    """The history key of the store ``bind`` reaches; refused when none was loaded."""
    key = _KEYS.get(_url_of(bind))
    if key is None:
        raise HabeasError(
            "the history key of this store is not loaded (the application loads it when it "
            "connects)"
        )
    return key


def seal(key: bytes, *parts: object) -> str:
    """HMAC-SHA256 over the parts (each as text, NUL-separated), hex."""
    msg = "\x00".join("" if p is None else str(p) for p in parts).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()
