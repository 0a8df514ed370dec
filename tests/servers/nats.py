"""A NATS server with JetStream for tests and benches: started on a free loopback port
with its store in a temporary folder, stopped (and the folder removed) at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from habeas.errors import HabeasError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_nats() -> Iterator[str]:
    """Yield the URL of a fresh ``nats-server -js`` on loopback."""
    binary = shutil.which("nats-server")
    if binary is None:
        raise HabeasError(
            "no nats-server: run `bash scripts/ensure-system.sh nats` (it "
            "installs Debian's nats-server)"
        )
    store = tempfile.mkdtemp(prefix="habeas-nats-")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode(errors="replace")[-400:] if proc.stderr else ""
                    raise HabeasError(f"nats-server did not start: {err}") from None
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(store, ignore_errors=True)
