"""Shared fixtures: a small synthetic world (built once) and a fresh staging store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from habeas.store.staging import StagingStore
from habeas.synth.world import WORLD_DATE, WorldSummary, generate_world

TODAY = WORLD_DATE + timedelta(days=30)
"""Tests run 'on' a fixed day inside the world's agreements, never on the wall clock."""


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    """A 1,500-person world, generated once per test session (read-only: copy to modify)."""
    return generate_world(tmp_path_factory.mktemp("world"), 1500, seed=11)


@pytest.fixture
def world_copy(world: WorldSummary, tmp_path: Path) -> Path:
    """A private copy of the world directory that a test may change."""
    dest = tmp_path / "world"
    shutil.copytree(world.out, dest)
    return dest


@pytest.fixture
def store(tmp_path: Path) -> StagingStore:
    """An empty staging store in a temporary data directory."""
    s = StagingStore(tmp_path / "data" / "staging.duckdb")
    yield s
    s.close()


@pytest.fixture
def today() -> date:
    """The fixed 'today' of the tests."""
    return TODAY


RESOLVE_NOW = datetime(2026, 11, 1, 9, 0)


@pytest.fixture(scope="session")
def resolved(world: WorldSummary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A staging store with the whole world ingested and resolved once (copy to modify)."""
    from habeas.pipeline import intake_directory
    from habeas.resolve.run import resolve

    path = tmp_path_factory.mktemp("resolved") / "staging.duckdb"
    with StagingStore(path) as st:
        intake_directory(st, world.out, TODAY)
        resolve(st, RESOLVE_NOW)
    return path


@pytest.fixture
def index(resolved: Path, tmp_path: Path) -> StagingStore:
    """A private copy of the resolved store."""
    dest = tmp_path / "staging.duckdb"
    shutil.copy(resolved, dest)
    s = StagingStore(dest)
    yield s
    s.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server started for this test session (and stopped after it).

    The binaries come from Debian's postgresql package (scripts/ensure-system.sh installs
    it). PostgreSQL refuses to run as root, so as root the server runs as ``postgres``.
    """
    import glob
    import os
    import subprocess
    import tempfile

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL is not installed: `make` runs scripts/ensure-system.sh")
    bindir = Path(found[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="habeas-pg-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "habeas", "--no-sync"], **run)  # type: ignore[call-overload]  # fmt: skip
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                    "-l", str(base / "log"), "start"], **run)  # type: ignore[call-overload]  # fmt: skip
    try:
        yield f"postgresql+psycopg://habeas@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty operational store on SQLite and, in a second run, on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'habeas.db'}"
    url: str = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    db = "t" + tmp_path.name.replace("-", "_").lower()[-40:]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{db}"
