"""Review that teaches the model: each pair in the published review queue carries the
priority of a decision on it and why.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    """Add ``index_review.priority`` and ``index_review.why`` (filled by the next publish)."""
    with op.batch_alter_table("index_review") as batch:
        batch.add_column(sa.Column("priority", sa.Float))
        batch.add_column(sa.Column("why", sa.String(200)))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("index_review") as batch:
        batch.drop_column("why")
        batch.drop_column("priority")
