"""Alembic environment: runs on the connection habeas hands over (see operational.upgrade)."""

from __future__ import annotations

from alembic import context

from habeas.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
