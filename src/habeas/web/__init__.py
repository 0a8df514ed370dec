"""The pages: server-rendered (Jinja2, htmx), served by the API over the same application
object, the same login session and the same access context. Every asset is shipped in
the package (from npm packages, ``scripts/vendor-assets.sh``); no page loads anything from
another host, and the Content-Security-Policy forbids inline scripts and styles."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; worker-src 'self'; manifest-src 'self'"
)
"""The pages' Content-Security-Policy: only this server, no inline script or style."""
