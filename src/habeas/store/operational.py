"""The operational store: one SQLAlchemy engine from a URL, migrations with Alembic.

SQLite (the default, in the data directory) runs in WAL mode with foreign keys on and
a busy timeout, so readers never block writers and writers queue for the lock. Every
audited call writes (its audit entry), so a transaction takes the write lock when it
begins (``BEGIN IMMEDIATE``) and waits its turn, instead of failing when it upgrades a
stale read snapshot; only connections from ``reading(engine)`` begin as plain readers.
``synchronous=NORMAL`` in WAL mode: a crash of the process never loses a commit, a power
cut may lose the last ones, and the change and its audit entry always go together.
PostgreSQL is used when ``HABEAS_DATABASE_URL`` names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from habeas.errors import HabeasError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves


READ_ONLY = "habeas_read_only"


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(store: str | Engine | Connection) -> bool:
    """Whether an operational store (its URL, engine or connection) is SQLite: the one
    place habeas asks which database it talks to (the other is PostgreSQL)."""
    if isinstance(store, str):
        return store.startswith("sqlite")
    return store.dialect.name == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store's URL (None for any other store)."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """An engine for ``url`` holding up to ``pool_size`` connections (one per concurrent
    caller, ten more on overflow); for SQLite, WAL mode and transactions begun by us."""
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 60}, pool_size=pool_size, pool_timeout=120
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, pool_timeout=120)
    except ModuleNotFoundError as exc:
        raise HabeasError(
            f"{url.split(':', 1)[0]} needs its driver ({exc.name}): for PostgreSQL, "
            "pip install 'habeas[postgres]'"
        ) from None


def reading(engine: Engine) -> Engine:
    """The same engine for transactions that only read (on SQLite they take no write lock:
    ``audit verify`` over a long log never holds up writers)."""
    return engine.execution_options(**{READ_ONLY: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (rows are read back in reports)."""
    return sessionmaker(engine, expire_on_commit=False)


def _config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` on ``engine``'s database."""
    from alembic import command

    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Run the Alembic migrations down to ``revision`` ("base" empties the store)."""
    from alembic import command

    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def revisions() -> list[str]:
    """Every migration revision, oldest first; the last one is the head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with reading(engine).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
