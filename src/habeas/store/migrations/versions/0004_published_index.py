"""The published person index, token expiry and login sessions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    """Add the index tables (runs, sources, persons, records, flags, review queue,
    decisions), ``api_tokens.expires_at`` and the login sessions table."""
    op.create_table(
        "index_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("match_threshold", sa.Float, nullable=False),
        sa.Column("model_json", sa.Text, nullable=False),
        sa.Column("input_schema", sa.Text, nullable=False),
    )
    op.create_table(
        "index_sources",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(128), nullable=False),
        sa.Column("legal_authority", sa.Text, nullable=False),
        sa.Column("purposes", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "index_persons",
        sa.Column("person_id", sa.String(32), primary_key=True),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "index_records",
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("name_key", sa.String(256), nullable=False, index=True),
        sa.Column("family_key", sa.String(128), nullable=False, index=True),
        sa.Column("dob", sa.String(10), index=True),
        sa.Column("a_number", sa.String(16), index=True),
        sa.Column("ssn", sa.String(16), index=True),
        sa.Column("passport_number", sa.String(32), index=True),
        sa.Column("zip", sa.String(10)),
        sa.Column("linked_via", sa.String(64)),
        sa.Column("match_probability", sa.Float),
        sa.Column("match_weight", sa.Float),
        sa.Column("how", sa.String(32), nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "index_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("flag", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_at", sa.DateTime, nullable=False),
        sa.Column("resolved_by", sa.String(64)),
        sa.Column("resolution", sa.Text),
        sa.Column("resolved_at", sa.DateTime),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "index_review",
        sa.Column("record_id_l", sa.String(64), primary_key=True),
        sa.Column("record_id_r", sa.String(64), primary_key=True),
        sa.Column("person_l", sa.String(32), nullable=False),
        sa.Column("person_r", sa.String(32), nullable=False),
        sa.Column("match_probability", sa.Float, nullable=False),
        sa.Column("match_weight", sa.Float, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "index_decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.Column("undone_by", sa.Integer),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime))
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
    )


def downgrade() -> None:
    """Drop what ``upgrade`` added."""
    op.drop_table("login_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    for table in (
        "index_decisions",
        "index_review",
        "index_flags",
        "index_records",
        "index_persons",
        "index_sources",
        "index_runs",
    ):
        op.drop_table(table)
