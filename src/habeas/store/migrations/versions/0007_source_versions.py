"""Versioned source declarations: each published record carries the declaration version
it was ingested under, and each source its purposes per version.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    """Add ``index_records.source_version`` (1 for records published before) and
    ``index_sources.version_purposes`` (filled by the next publish)."""
    with op.batch_alter_table("index_records") as batch:
        batch.add_column(
            sa.Column("source_version", sa.Integer, nullable=False, server_default="1")
        )
    with op.batch_alter_table("index_sources") as batch:
        batch.add_column(sa.Column("version_purposes", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("index_sources") as batch:
        batch.drop_column("version_purposes")
    with op.batch_alter_table("index_records") as batch:
        batch.drop_column("source_version")
