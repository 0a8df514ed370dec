"""Failed sign-ins counted in the store (every server process, and a restart, see the same
count), and: a document cited as a court's act is verified first: a supervisor who did not attach it
checks it against the court's docket and records the issuing court and the docket
reference; the verification is sealed with the history key.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    """Add the verification columns to the case documents, and the sign-in failures."""
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(128), nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
    )
    with op.batch_alter_table("case_documents") as t:
        t.add_column(sa.Column("issuer", sa.String(32), nullable=True))
        t.add_column(sa.Column("docket_reference", sa.String(64), nullable=True))
        t.add_column(sa.Column("verified_by", sa.String(64), nullable=True))
        t.add_column(sa.Column("verified_at", sa.DateTime, nullable=True))
        t.add_column(sa.Column("verification_seal", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop them."""
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("case_documents") as t:
        for name in (
            "verification_seal",
            "verified_at",
            "verified_by",
            "docket_reference",
            "issuer",
        ):
            t.drop_column(name)
