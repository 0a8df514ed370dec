"""Custody and deadlines: facilities, placements, tasks; the facts a priority was scored on.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """Add facilities, placements and tasks; cases.facts_hash and cases.history_token."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("facts_hash", sa.String(64)))
        batch.add_column(sa.Column("history_token", sa.String(32)))
    op.create_table(
        "facilities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("standard", sa.String(32), nullable=False),
        sa.Column("hub", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column(
            "facility_id", sa.Integer, sa.ForeignKey("facilities.id"), nullable=False, index=True
        ),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("reason", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("done_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("case_id", "kind", "due_on", name="uq_task_case_kind_due"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("tasks")
    op.drop_table("placements")
    op.drop_table("facilities")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("history_token")
        batch.drop_column("facts_hash")
