"""The one typed settings object: read from arguments and HABEAS_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where habeas keeps its data and how hard it may work.

    Built explicitly by the CLI, the tests and (later) the API; nothing reads the
    environment at import time.
    """

    model_config = SettingsConfigDict(env_prefix="HABEAS_", extra="forbid")

    data_dir: Path = Field(default=Path("habeas-data"), description="Local data directory.")
    database_url: str | None = Field(
        default=None,
        description="Operational store URL; defaults to SQLite in the data directory.",
    )
    threads: int = Field(default=2, ge=1, le=256, description="Worker threads for DuckDB.")
    forwarded_allow_ips: str = Field(
        default="",
        max_length=1000,
        description="Proxies whose X-Forwarded-For is believed (comma-separated addresses); "
        "empty: none, and the caller's address is the connection's (sign-in limits and the "
        "audit log count it).",
    )

    serve_threads: int = Field(
        default=8, ge=1, le=256, description="Requests one server process serves at once."
    )
    session_hours: int = Field(
        default=8, ge=1, le=24, description="How long a signed-in session lasts (hours)."
    )
    sign_in_window_minutes: int = Field(
        default=15, ge=1, le=1440, description="The window sign-in failures are counted in."
    )
    max_failures_account: int = Field(
        default=5, ge=1, le=1000, description="Failures that lock an account for the window."
    )
    max_failures_address: int = Field(
        default=20, ge=1, le=100_000, description="Failures that lock an address for the window."
    )

    @property
    def staging_path(self) -> Path:
        """The DuckDB file holding the source registry, staged records and quarantine."""
        return self.data_dir / "staging.duckdb"

    @property
    def operational_url(self) -> str:
        """The SQLAlchemy URL of the operational store (SQLite in WAL mode by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'habeas.db').as_posix()}"
