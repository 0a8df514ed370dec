"""Facts that change: disputes on a person's records, links and flags (with the clocks of
5 U.S.C. 552a(d)), corrections that supersede a value (the old one kept), the notices sent
to earlier recipients of a corrected record, redirects from a person id a split or a
correction retired, and the trigger of each change of a case's priority.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    """Add the four tables and the priority history's trigger."""
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(160), nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
        sa.Column("field", sa.String(32), nullable=True),
        sa.Column("claimed_value", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("documents", sa.Text, nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_role", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("acknowledge_by", sa.Date, nullable=False),
        sa.Column("decide_by", sa.Date, nullable=False),
        sa.Column("acknowledged_at", sa.DateTime, nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.Column("statement", sa.Text, nullable=True),
        sa.Column("statement_by", sa.String(64), nullable=True),
        sa.Column("statement_at", sa.DateTime, nullable=True),
        sa.Column("seal", sa.String(64), nullable=False),
    )
    op.create_table(
        "dispute_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dispute_id", sa.Integer, nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "record_corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dispute_id", sa.Integer, nullable=False, index=True),
        sa.Column("record_id", sa.String(64), nullable=False, index=True),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", sa.String(1000), nullable=True),
        sa.Column("new_value", sa.String(1000), nullable=True),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("corrected_by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("corrected_at", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("seal", sa.String(64), nullable=False),
    )
    op.create_table(
        "correction_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dispute_id", sa.Integer, nullable=False, index=True),
        sa.Column("production_id", sa.Integer, nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("notified_at", sa.DateTime, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "person_redirects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("old_person_id", sa.String(32), nullable=False, index=True),
        sa.Column("new_person_id", sa.String(32), nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("priority_history") as t:
        t.add_column(sa.Column("trigger", sa.String(200), nullable=True))
        t.add_column(sa.Column("old_tier", sa.Integer, nullable=True))
        t.add_column(sa.Column("old_score", sa.Float, nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("priority_history") as t:
        for name in ("old_score", "old_tier", "trigger"):
            t.drop_column(name)
    for name in (
        "person_redirects",
        "correction_notices",
        "record_corrections",
        "dispute_documents",
        "disputes",
    ):
        op.drop_table(name)
