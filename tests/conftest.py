"""Shared fixtures: a small synthetic world (built once) and a fresh staging store."""

from __future__ import annotations

import inspect
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from habeas.app import wiring
from habeas.store.staging import StagingStore
from habeas.synth.world import WORLD_DATE, WorldSummary, generate_world

wiring.install()  # the follow-ups of a case step and a publish, as the application has them

SESSION_DAY = date.today()
"""The day this test session began: the tests' "today", and the day the applications they
build read from their clock, so that a run crossing midnight keeps one day."""


class SessionClock:
    """The applications' clock in the tests: the session's day, the machine's moment."""

    def today(self) -> date:
        """The day the session began."""
        return SESSION_DAY

    def now(self) -> datetime:
        """Now on this machine."""
        return datetime.now()


LANES = {
    "postgres": "postgres_url",
    "nats": "nats_url",
    "browser": "browser",
    "resolution": "resolved",
}
"""A lane's marker → the fixture that starts its server: a test that uses the fixture is
in the lane whether or not it says so."""


RESOLVES = re.compile(r'(?<![\w.])resolve(?:_as|_incremental)?\(|pipeline\.resolve\(|"resolve"')
"""A test body that runs a resolution (Splink) itself."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the lanes of the servers it starts (PostgreSQL through the
    ``store_url`` parameter too), so that a plain ``pytest`` starts none."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        for marker, fixture in LANES.items():
            if fixture in fixtures:
                item.add_marker(getattr(pytest.mark, marker))
        if params.get("store_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        function = getattr(item, "function", None)
        if function is not None and RESOLVES.search(inspect.getsource(function)):
            item.add_marker(pytest.mark.resolution)


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
    copy_staging(resolved, dest)
    s = StagingStore(dest)
    yield s
    s.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server started for this test session (and stopped after it);
    a missing installation fails the tests that need it, naming the fix."""
    from servers.postgres import scratch_postgres

    with scratch_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty operational store on SQLite and, in a second run, on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'habeas.db'}"
    from servers.postgres import fresh_database

    url: str = request.getfixturevalue("postgres_url")
    return fresh_database(url, "t" + tmp_path.name.replace("-", "_").lower()[-40:])


def copy_staging(src: Path, dest: Path) -> None:
    """Copy a staging store with the key that seals its registry (a file beside it)."""
    shutil.copy(src, dest)
    key = src.with_suffix(".key")
    if key.exists():
        shutil.copy(key, Path(dest).with_suffix(".key"))


def make_app(data_dir: Path, url: str | None = None, users: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """An application on a new operational store in ``data_dir`` (or at ``url``), with an
    admin ``root`` and the given accounts (name → role)."""
    from habeas.app import Habeas
    from habeas.settings import Settings

    app = Habeas(Settings(data_dir=data_dir, database_url=url), clock=SessionClock())
    data_dir.mkdir(parents=True, exist_ok=True)
    app.users.bootstrap("root")
    root = app.users.local("root", "test")
    for name, role in (users or {}).items():
        app.users.add(root, name, role)
    return app


def open_copy(template: Path, data_dir: Path):  # type: ignore[no-untyped-def]
    """An application on a private copy of a data directory built once for the session
    (its stores and keys), as if built here: each test still gets stores of its own."""
    from habeas.app import Habeas
    from habeas.settings import Settings

    shutil.copytree(template, data_dir)
    return Habeas(Settings(data_dir=data_dir), clock=SessionClock())


@pytest.fixture(scope="session")
def roles_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a migrated SQLite store, one account per role and the field
    offices set up (copied per test by ``app_on``)."""
    data = tmp_path_factory.mktemp("roles") / "data"
    app = make_app(data, None, ROLES)
    field_set_up(app)
    app.close()
    return data


@pytest.fixture
def app_on(store_url: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """An application on an empty store (SQLite, then PostgreSQL) with one account per role."""
    if store_url.startswith("sqlite"):
        app = open_copy(request.getfixturevalue("roles_template"), tmp_path / "data")
    else:
        app = make_app(tmp_path / "data", store_url, ROLES)
        field_set_up(app)
    yield app
    app.close()


FIELD_TEAM = "NE-1"
"""The team field1 is on (office NE, which super1 and super2 supervise)."""


def field_set_up(app):  # type: ignore[no-untyped-def]
    """The synthetic field offices, with super1 and super2 supervising NE and field1 on
    its team NE-1 (an assignment names a real team of an office its supervisor runs)."""
    from habeas.synth.field import offices

    members = {"super1": ("NE", None), "super2": ("NE", None), "field1": ("NE", FIELD_TEAM)}
    app.field.set_up(app.users.local("root", "t"), offices(), members)


ROLES = {
    "officer1": "case_officer",
    "super1": "supervisor",
    "super2": "supervisor",
    "field1": "field_officer",
    "custody1": "custody_officer",
    "ig1": "oversight",
    "counsel1": "counsel",
    "eng1": "integration_engineer",
}
"""One account per role (and a second supervisor), for tests through the application."""


@pytest.fixture(scope="session")
def indexed_template(resolved: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose staging store is the resolved world and whose operational
    store holds its published index, with one account per role (copied per test)."""
    from habeas.resolve.publish import publish

    data = tmp_path_factory.mktemp("indexed") / "data"
    app = make_app(data, users=ROLES)
    copy_staging(resolved, app.settings.staging_path)
    with app.staging() as st:
        publish(app.engine, st, st.rows("SELECT run_id FROM resolution_runs")[0][0])
    app.close()
    return data


@pytest.fixture
def indexed_app(indexed_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An application whose staging store is the resolved world and whose operational store
    holds its published index, with one account per role."""
    app = open_copy(indexed_template, tmp_path / "data")
    yield app
    app.close()
