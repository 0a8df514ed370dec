"""Case records: legal instruments, the append-only case history, priority columns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Add instruments and case events; give cases their opening time and priority."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("opened_at", sa.DateTime))
        batch.add_column(sa.Column("priority_tier", sa.Integer))
        batch.add_column(sa.Column("priority_score", sa.Float))
        batch.add_column(sa.Column("policy_version", sa.String(64)))
        batch.add_column(sa.Column("priority_explanation", sa.Text))
    op.execute("UPDATE cases SET opened_at = updated_at WHERE opened_at IS NULL")
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("issuing_authority", sa.String(128), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("state_after", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop them again (case history is lost: downgrade only a copy)."""
    op.drop_table("case_events")
    op.drop_table("instruments")
    with op.batch_alter_table("cases") as batch:
        for column in (
            "priority_explanation",
            "policy_version",
            "priority_score",
            "priority_tier",
            "opened_at",
        ):
            batch.drop_column(column)
