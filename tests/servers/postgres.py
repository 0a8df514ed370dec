"""A throwaway PostgreSQL server in a temporary directory, for tests and benchmarks.

The binaries come from Debian's postgresql package (``scripts/ensure-system.sh`` installs
it when missing). PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` account. Nothing here is used by the product at run time.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from habeas.errors import HabeasError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_postgres(fsync: bool = False, synchronous_commit: bool = True) -> Iterator[str]:
    """Start a server, yield its SQLAlchemy URL (database ``postgres``), stop and delete it.

    ``synchronous_commit=False`` is PostgreSQL's counterpart of SQLite's WAL mode with
    ``synchronous=NORMAL``: a crash may lose the last commits, never half of one."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise HabeasError(
            "PostgreSQL is not installed: run `bash scripts/ensure-system.sh postgres` "
            "(`make test` runs it)"
        )
    bindir = Path(found[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="habeas-pg-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise HabeasError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-400:]}")

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "habeas", "--no-sync")
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not fsync:
        opts += " -c fsync=off"
    if not synchronous_commit:
        opts += " -c synchronous_commit=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(base / "log"), "start")
    try:
        yield f"postgresql+psycopg://habeas@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """Create an empty database ``name`` on the server at ``url``; return its URL."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"
