"""Field operations: each published record's address (for the planner's map), the field
offices and their teams, who works where, assignments and their outcomes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    """Add the address columns of ``index_records`` and the field tables."""
    with op.batch_alter_table("index_records") as batch:
        for name, kind in (
            ("street", sa.String(256)),
            ("city", sa.String(128)),
            ("state", sa.String(2)),
            ("lat", sa.Float),
            ("lon", sa.Float),
            ("address_date", sa.String(10)),
        ):
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_table(
        "field_offices",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("states", sa.Text, nullable=False),
    )
    op.create_table(
        "field_teams",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("office", sa.String(32), sa.ForeignKey("field_offices.code"), nullable=False),
        sa.Column("start_label", sa.String(128), nullable=False),
        sa.Column("start_lat", sa.Float, nullable=False),
        sa.Column("start_lon", sa.Float, nullable=False),
        sa.Column("shift_start", sa.Integer, nullable=False),
        sa.Column("shift_end", sa.Integer, nullable=False),
    )
    op.create_table(
        "field_members",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("office", sa.String(32), sa.ForeignKey("field_offices.code"), nullable=False),
        sa.Column("team", sa.String(32), sa.ForeignKey("field_teams.code"), nullable=True),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("team", sa.String(32), sa.ForeignKey("field_teams.code"), nullable=False),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        sa.Column("assigned_at", sa.DateTime, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("route_seq", sa.Integer, nullable=True),
        sa.Column("eta", sa.Integer, nullable=True),
        sa.Column("window_start", sa.Integer, nullable=False),
        sa.Column("window_end", sa.Integer, nullable=False),
        sa.Column("stop_minutes", sa.Integer, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_table(
        "field_outcomes",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column(
            "assignment_id", sa.Integer, sa.ForeignKey("assignments.id"), nullable=False, index=True
        ),
        sa.Column("case_id", sa.Integer, nullable=False, index=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("subject", sa.Boolean, nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("effect", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop them again."""
    for table in ("field_outcomes", "assignments", "field_members", "field_teams", "field_offices"):
        op.drop_table(table)
    with op.batch_alter_table("index_records") as batch:
        for name in ("address_date", "lon", "lat", "state", "city", "street"):
            batch.drop_column(name)
