"""The HTTP API's routes by area, each a module-level router over ``api.deps``: each
route parses, makes one call on the application, returns its typed result. Every route
but sign-in needs credentials; every route on personal data needs a purpose."""

from __future__ import annotations

from fastapi import APIRouter

from habeas.api.routes import (
    admin,
    audit,
    auth,
    cases,
    custody,
    disputes,
    field,
    monitor,
    packets,
    persons,
    sources,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    sources.router,
    persons.router,
    cases.router,
    field.router,
    monitor.router,
    custody.router,
    audit.router,
    packets.router,
    disputes.router,
    admin.router,
)
"""Every router, in the order the API serves (and documents) them."""
