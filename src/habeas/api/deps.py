"""What every route depends on: the application (from the server's state, never a global),
the authenticated caller, and how a call on the application is run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, Path, Query, Request

from habeas.api.auth import Caller, caller
from habeas.app.core import Habeas

MAX_ID = 2_147_483_647
"""The largest id any store holds (a 32-bit integer)."""
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


async def habeas(request: Request) -> Habeas:
    """The application the server was built over (``create_api`` puts it in its state).
    Async on purpose: FastAPI runs a plain function dependency in a worker thread, and a
    hop to a thread on every request is what the SQLite edge avoids (``edge``)."""
    app: Habeas = request.app.state.habeas
    return app


H = Annotated[Habeas, Depends(habeas)]


def edge(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a route's one call on the application: on SQLite inline on the event loop (the
    app serializes its units of work on that store anyway, and a hop to a thread costs
    more than the call), on PostgreSQL in a worker thread, so calls run at once. The
    route takes the application as its ``h`` argument."""

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        if kwargs["h"].serializes_calls:
            return fn(*args, **kwargs)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    return run


@edge
def who(h: H, request: Request) -> Caller:
    """The authenticated caller of this request."""
    return caller(h, request)


C = Annotated[Caller, Depends(who)]
