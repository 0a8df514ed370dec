"""A case record a court can rely on: the case history chained and dated, refused
attempts kept, court records whose dates contradict each other set aside for review,
the court facts of published records, and the documents attached to cases.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    """Add ``case_events.seq / on_date / prev_hash / event_hash`` (existing events are
    chained in their stored order), ``case_refusals``, ``court_record_review``,
    ``index_records.court_facts`` and an index on instrument numbers."""
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer))
        batch.add_column(sa.Column("on_date", sa.Date))
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("event_hash", sa.String(64)))
    _chain_existing()
    with op.batch_alter_table("instruments") as batch:  # a court record may not date it
        batch.alter_column("issued_on", existing_type=sa.Date, nullable=True)
    op.create_index("ix_case_events_case_seq", "case_events", ["case_id", "seq"], unique=True)
    op.drop_index("ix_case_events_case_id", "case_events")  # the pair above serves it
    op.create_index("ix_instruments_kind_reference", "instruments", ["kind", "reference"])
    op.create_table(
        "case_refusals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("on_date", sa.Date),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("refused_by", sa.String(16), nullable=False),
    )
    op.create_table(
        "court_record_review",
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("found_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    with op.batch_alter_table("index_records") as batch:
        batch.add_column(sa.Column("court_facts", sa.Text))
    op.create_table(
        "case_documents",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )


def _chain_existing() -> None:
    """Number and hash the events already stored, in their stored order."""
    from habeas.cases.history import GENESIS, StoredEvent
    from habeas.governance import audit

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("""SELECT id, case_id, at, kind, actor, role, state_after, payload
                   FROM case_events ORDER BY case_id, id""")
    ).all()
    head: dict[int, tuple[int, str]] = {}
    refs: dict[int, list[str]] = {}
    for id_, case_id, at, kind, actor, role, state, payload in rows:
        if isinstance(at, str):
            from datetime import datetime

            at = datetime.fromisoformat(at)
        seq, prev = head.get(case_id, (0, GENESIS))
        event = StoredEvent(case_id, seq + 1, at, kind, actor, role, state, payload)
        digest = event.hashed(prev, None)
        on = json.loads(payload).get("on")
        conn.execute(
            sa.text("""UPDATE case_events SET seq = :seq, prev_hash = :prev, event_hash = :h,
                                              on_date = :on WHERE id = :id"""),
            {"seq": seq + 1, "prev": prev, "h": digest, "on": on, "id": id_},
        )
        head[case_id] = (seq + 1, digest)
        refs.setdefault(case_id, []).append(audit.event_ref(case_id, seq + 1, digest))
    for case_id, (_, digest) in head.items():  # the case row names its last event
        conn.execute(
            sa.text("UPDATE cases SET history_token = :t WHERE id = :id"),
            {"t": digest[:32], "id": case_id},
        )
    for case_id, cited in sorted(refs.items()):
        # from here on the log vouches for these events as they stood at the upgrade
        audit.append(
            conn,
            user="habeas-migration",
            role="system",
            purpose="oversight",
            action="case_history_chained",
            resources=[f"case:{case_id}", *cited],
            decision="allow",
            detail="events recorded before revision 0005, chained as they stood at the upgrade",
        )


def downgrade() -> None:
    """Drop what ``upgrade`` added."""
    with op.batch_alter_table("index_records") as batch:
        batch.drop_column("court_facts")
    op.drop_table("case_documents")
    op.drop_table("court_record_review")
    op.drop_table("case_refusals")
    op.drop_index("ix_instruments_kind_reference", "instruments")
    with op.batch_alter_table("instruments") as batch:
        batch.alter_column("issued_on", existing_type=sa.Date, nullable=False)
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.drop_index("ix_case_events_case_seq", "case_events")
    with op.batch_alter_table("case_events") as batch:
        for column in ("event_hash", "prev_hash", "on_date", "seq"):
            batch.drop_column(column)
