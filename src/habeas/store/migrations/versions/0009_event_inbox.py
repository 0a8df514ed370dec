"""The monitor: the event inbox (one row per feed and event id), quarantined events, the
review tasks events raise and what each consumer last reported.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    """Add the monitor's tables."""
    op.create_table(
        "monitor_inbox",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False, index=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("committed_at", sa.DateTime, nullable=False, index=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("person_id", sa.String(32), nullable=True, index=True),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("match_probability", sa.Float, nullable=True),
        sa.Column("match_weight", sa.Float, nullable=True),
        sa.Column("explanation", sa.Text, nullable=True),
        sa.Column("effect", sa.Text, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("dropped", sa.Text, nullable=True),
        sa.Column("retain_until", sa.Date, nullable=False),
    )
    op.create_table(
        "monitor_quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False, index=True),
        sa.Column("event_id", sa.String(128), nullable=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("field", sa.String(128), nullable=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("retain_until", sa.Date, nullable=False),
    )
    op.create_table(
        "monitor_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("person_id", sa.String(32), nullable=True),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("cites", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "monitor_consumers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("backlog", sa.Integer, nullable=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the monitor's tables."""
    for name in ("monitor_consumers", "monitor_reviews", "monitor_quarantine", "monitor_inbox"):
        op.drop_table(name)
