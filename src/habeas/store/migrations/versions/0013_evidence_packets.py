"""Evidence packets: the person index's history for persons with cases, each case's
priority history, Bates sequences and the packets produced (the accounting of
disclosures).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    """Add the four tables."""
    op.create_table(
        "index_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("valid_from", sa.DateTime, nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("seal", sa.String(64), nullable=False),
    )
    op.create_table(
        "priority_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False, index=True),
        sa.Column("valid_from", sa.DateTime, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("tier", sa.Integer, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("facts_hash", sa.String(64), nullable=True),
    )
    op.create_table(
        "bates_sequences",
        sa.Column("prefix", sa.String(16), primary_key=True),
        sa.Column("next_number", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "packet_productions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("produced_at", sa.DateTime, nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("formats", sa.String(32), nullable=False),
        sa.Column("bates_prefix", sa.String(16), nullable=True),
        sa.Column("bates_begin", sa.BigInteger, nullable=True),
        sa.Column("bates_end", sa.BigInteger, nullable=True),
        sa.Column("packet_sha256", sa.String(64), nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
        sa.Column("seal", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    for name in ("packet_productions", "bates_sequences", "priority_history", "index_history"):
        op.drop_table(name)
