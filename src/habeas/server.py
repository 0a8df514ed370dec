"""The HTTP server: ``create_api(app)`` serves one ``Habeas`` object, the API's routers
(``habeas.api.routes``) and the pages (``habeas.web``).

Every route but sign-in needs credentials (a bearer API token or a login session's
cookie); the purpose of each request is in ``X-Habeas-Purpose``. Errors are RFC 9457
problem details. The OpenAPI document is at ``/openapi.json`` and a docs page that loads
nothing from another host at ``/docs``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from habeas.api import problems
from habeas.api.routes import ROUTERS
from habeas.app.core import Habeas
from habeas.errors import HabeasError
from habeas.settings import Settings
from habeas.web.counsel import router as counsel_pages
from habeas.web.pages import STATIC_FILES
from habeas.web.pages import router as pages

MAX_BODY = 1_000_000
"""The largest request body accepted (bytes): larger ones are refused before reading."""


def from_environment() -> FastAPI:
    """The API over an application built from HABEAS_* variables (for server processes
    that uvicorn starts itself: `habeas serve --processes N`)."""

    settings = Settings()
    return create_api(Habeas(settings), workers=settings.serve_threads)


def create_api(app: Habeas, workers: int = 8) -> FastAPI:
    """The API over ``app`` (``workers``: threads serving requests at once)."""
    from importlib.metadata import version

    api = FastAPI(
        title="habeas",
        version=version("habeas"),
        description="Immigration case work where every action shows its lawful basis and "
        "every decision carries its evidence. Send `Authorization: Bearer <token>` and "
        "`X-Habeas-Purpose: <purpose>` with every request.",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(workers),
    )

    @api.exception_handler(HabeasError)
    def _habeas(request: Request, exc: HabeasError) -> JSONResponse:
        return problems.for_error(exc, request)

    api.add_exception_handler(RequestValidationError, problems.validation)  # type: ignore[arg-type]
    api.add_exception_handler(StarletteHTTPException, problems.http)  # type: ignore[arg-type]

    api.state.habeas = app
    for router in ROUTERS:
        api.include_router(router)
    api.mount("/static", STATIC_FILES, name="static")
    api.include_router(pages)
    api.include_router(counsel_pages)
    api.add_middleware(Limits)

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_docs_page(api.openapi()))

    return api


class Limits:
    """Pure ASGI middleware: refuse a body larger than ``MAX_BODY`` before reading it, and
    add the security, caching and timing headers to every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                from starlette.requests import Request

                response = problems.problem(
                    413,
                    "Payload too large",
                    f"request bodies are at most {MAX_BODY:,} bytes",
                    Request(scope),
                )
                await response(scope, receive, send)
                return
        started = time.perf_counter()
        received = 0
        overflow = False

        async def counted() -> Any:
            # Content-Length may be absent (a chunked body): count what arrives, stop at
            # the limit rather than read a body of any size
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    overflow = True
                    raise BodyTooLarge
            return message

        async def too_large() -> None:
            from starlette.requests import Request

            response = problems.problem(
                413,
                "Payload too large",
                f"request bodies are at most {MAX_BODY:,} bytes",
                Request(scope),
            )
            await response(scope, receive, send)

        replaced = False

        async def stamped(message: Any) -> None:
            nonlocal replaced
            if overflow:  # whatever the app made of the cut body, the answer is 413
                if not replaced:
                    replaced = True
                    await too_large()
                return
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                message["headers"] = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={spent:.1f}".encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cache-control", b"no-store"),
                ]
            await send(message)

        try:
            await self.app(scope, counted, stamped)
        except BodyTooLarge:
            if not replaced:
                replaced = True
                await too_large()


class BodyTooLarge(Exception):
    """A request body passed ``MAX_BODY`` while it was being read."""


def _lifespan(workers: int) -> Any:
    """Set how many requests are served at once (threads), when the server starts."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        # what is loaded at start (policies, mappers, modules) lives as long as the server:
        # keep it out of the collector's full passes, which otherwise pause every request
        gc.collect()
        gc.freeze()
        yield

    return lifespan


def _docs_page(spec: dict[str, Any]) -> str:
    """The API's routes as one self-contained page (no script, no asset from elsewhere)."""
    from html import escape

    rows = []
    for path, ops in sorted(spec.get("paths", {}).items()):
        for method, op in ops.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td><td><code>{escape(path)}"
                f"</code></td><td>{escape(op.get('summary', ''))}</td><td>"
                f"{escape(op.get('description', '') or '')}</td><td>{escape(params)}</td></tr>"
            )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>habeas API</title>"
        "<style>body{font:14px system-ui;margin:2em}td{vertical-align:top;padding:4px 8px;"
        "border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>habeas API {escape(spec['info']['version'])}</h1>"
        f"<p>{escape(spec['info'].get('description', ''))}</p>"
        "<p>The machine-readable document: <a href=/openapi.json>/openapi.json</a>.</p>"
        "<table><tr><th>method</th><th>path</th><th>summary</th><th>what it does</th>"
        "<th>parameters</th></tr>" + "".join(rows) + "</table></body></html>"
    )
