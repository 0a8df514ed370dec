"""What every page does around its one call: who is signed in, the CSRF token its forms
carry, rendering a template with the security headers, and answering a refusal."""

from __future__ import annotations

import hmac
import secrets
from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from habeas.api.auth import CSRF_COOKIE, SESSION_COOKIE, address, csrf_for
from habeas.app.core import Habeas, Principal
from habeas.errors import AccessDenied, GateRefused, HabeasError
from habeas.web import CSP, TEMPLATES


class Me:
    """The signed-in account as a page shows it."""

    def __init__(self, principal: Principal, username: str, role: str, purpose: str) -> None:
        self.principal, self.username, self.role, self.purpose = principal, username, role, purpose


ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
"""The pages' templates (autoescaped)."""


def _secured(resp: HTMLResponse) -> HTMLResponse:
    resp.headers["content-security-policy"] = CSP
    resp.headers["x-frame-options"] = "DENY"
    resp.headers["referrer-policy"] = "no-referrer"
    return resp


def refusal_fragment(message: str) -> HTMLResponse:
    """A refusal as a fragment a page's script puts in place (escaped)."""
    return _secured(HTMLResponse(f"<p class='refusal'>{escape(message)}</p>"))


def csrf_of(request: Request) -> str:
    """The token a form must carry: the session's own once signed in (derived from
    its secret), else the sign-in page's double-submit cookie."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return csrf_for(session)
    return request.cookies.get(CSRF_COOKIE, "")


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """The template rendered with the form token, the security headers and, where the
    request has none yet, the double-submit cookie."""
    token = csrf_of(request) or secrets.token_urlsafe(24)
    body = ENV.get_template(name).render(csrf=token, **ctx)
    resp = _secured(HTMLResponse(body, status_code=status))
    if not request.cookies.get(CSRF_COOKIE) or (
        request.cookies.get(SESSION_COOKIE) and request.cookies.get(CSRF_COOKIE) != token
    ):
        resp.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=False,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return resp


def me(app: Habeas, request: Request) -> Me | None:
    """The signed-in account of the request, or None (then the page sends to sign-in)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        principal, purpose = app.users.from_session(cookie, address(request))
        user = app.users.whoami(principal)
    except HabeasError:
        return None
    return Me(principal, user.username, user.role, purpose)


def to_login() -> RedirectResponse:
    """Send the browser to the sign-in page."""
    return RedirectResponse("/login", status_code=303)


def failed(request: Request, who: Me | None, exc: HabeasError) -> HTMLResponse:
    """The error page for a refusal or failure, with the status it deserves."""
    titles = {401: "Sign in again", 403: "Refused", 404: "Not found"}
    status = exc.status if exc.status in titles else 422
    title = "Refused by law" if isinstance(exc, GateRefused) else titles.get(status, "Not possible")
    return render(request, "error.html", status, me=who, title=title, message=str(exc))


async def form_of(request: Request) -> dict[str, str]:
    """The form, after its CSRF field matched the cookie."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = csrf_of(request)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise AccessDenied(
            "the form's CSRF token does not match: reload the page and try again", None, "csrf"
        )
    return {k: str(v)[:2000] for k, v in form.items()}
