"""Case histories keyed with the history key (HMAC-SHA256), case rows sealed with their
state, and seals on the monitor's inbox and the published source registry.

A chain stored before this revision is re-keyed only when its unkeyed chain still holds
(a history already broken stays broken, for audit verify to name); the log then vouches
for the re-keyed events, as it did when revision 0005 first chained them. The history
key must be loaded for the store (the application loads it when it connects).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    """Add the seals; key the existing histories and seal every case row."""
    with op.batch_alter_table("monitor_inbox") as t:
        t.add_column(sa.Column("seal", sa.String(64), nullable=True))
    with op.batch_alter_table("index_sources") as t:
        t.add_column(sa.Column("seal", sa.String(64), nullable=True))
    _key_existing()


def _key_existing() -> None:
    from habeas.cases.history import GENESIS, StoredEvent, case_seal, chain_problem
    from habeas.governance import audit
    from habeas.store.keys import key_for

    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() == 0:
        return  # a new store: nothing to key
    key = key_for(conn)
    rows = conn.execute(
        sa.text("""SELECT id, case_id, seq, at, kind, actor, role, state_after, payload,
                          prev_hash, event_hash FROM case_events ORDER BY case_id, seq""")
    ).all()
    by_case: dict[int, list[tuple[int, StoredEvent]]] = {}
    for id_, case_id, seq, at, kind, actor, role, state, payload, prev, digest in rows:
        when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        stored = StoredEvent(
            case_id, seq or 0, when, kind, actor, role, state, payload, prev or "", digest or ""
        )
        by_case.setdefault(case_id, []).append((id_, stored))
    heads: dict[int, str] = {}
    for case_id, events in sorted(by_case.items()):
        if chain_problem([e for _, e in events], None) is not None:
            continue  # broken before the upgrade: left as it is
        prev, cited = GENESIS, []
        for id_, e in events:
            digest = e.hashed(prev, key)
            conn.execute(
                sa.text("UPDATE case_events SET prev_hash = :p, event_hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": id_},
            )
            cited.append(audit.event_ref(case_id, e.seq, digest))
            prev = digest
        heads[case_id] = prev
        audit.append(
            conn,
            user="habeas-migration",
            role="system",
            purpose="oversight",
            action="case_history_keyed",
            resources=[f"case:{case_id}", *cited],
            decision="allow",
            detail="a history whose unkeyed chain held, keyed "
            "with the history key at revision 0011",
        )
    for case_id, state, counsel in conn.execute(
        sa.text("SELECT id, state, counsel FROM cases")
    ).all():
        if case_id in by_case and case_id not in heads:
            continue  # its history does not verify: its row is not sealed either
        token = case_seal(key, case_id, state, heads.get(case_id, ""), counsel)
        conn.execute(
            sa.text("UPDATE cases SET history_token = :t WHERE id = :id"),
            {"t": token, "id": case_id},
        )


def downgrade() -> None:
    """Drop the seal columns (keyed histories stay keyed)."""
    with op.batch_alter_table("index_sources") as t:
        t.drop_column("seal")
    with op.batch_alter_table("monitor_inbox") as t:
        t.drop_column("seal")
