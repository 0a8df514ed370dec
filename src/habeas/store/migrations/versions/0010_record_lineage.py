"""Published records carry their lineage (ingest batch, file hash, row) and the identifier
kind of each part of their natural key, so the key is shown only as the purpose allows.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    """Add the lineage columns to the published index's records."""
    with op.batch_alter_table("index_records") as t:
        t.add_column(sa.Column("batch_id", sa.String(64), nullable=True))
        t.add_column(sa.Column("file_sha256", sa.String(64), nullable=True))
        t.add_column(sa.Column("row_number", sa.BigInteger, nullable=True))
        t.add_column(sa.Column("key_kinds", sa.String(128), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("index_records") as t:
        for name in ("key_kinds", "row_number", "file_sha256", "batch_id"):
            t.drop_column(name)
