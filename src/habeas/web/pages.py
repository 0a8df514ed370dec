"""The page routes: each parses, makes one call on the application and renders a template.

Sign-in opens the API's login session (the same HttpOnly, SameSite=Strict cookie, Secure
under TLS) for the purpose chosen on the form; every page shows it. Every form carries
the CSRF token (double submit: the form's field must equal the habeas_csrf cookie), and
the fetches the pages' scripts make send it in X-CSRF-Token as the API requires.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from habeas.api.auth import CSRF_COOKIE, SESSION_COOKIE, address, csrf_for
from habeas.app.cases import StepRequest
from habeas.app.core import Habeas, Principal
from habeas.errors import HabeasError, NotFound, Unauthenticated
from habeas.governance.authz import PURPOSES
from habeas.governance.identity import AccessDenied
from habeas.web import CSP, STATIC, TEMPLATES

HOME = {
    "supervisor": "/planner",
    "field_officer": "/today",
    "custody_officer": "/custody",
}
STEPS = {
    "case_officer": {
        "warrant_issued": [("request_field_action", "Request field action")],
        "final_order": [("request_field_action", "Request field action")],
        "fugitive": [("request_field_action", "Request field action")],
    },
    "supervisor": {
        "warrant_issued": [("request_field_action", "Request field action")],
        "final_order": [("request_field_action", "Request field action")],
        "field_action_requested": [
            ("approve_field_action", "Approve field action"),
            ("refuse_field_action", "Refuse field action"),
        ],
    },
}
"""The field steps each role is offered on a case page; the server decides the rest."""
PAGE_STEPS = frozenset({"request_field_action", "approve_field_action", "refuse_field_action"})


class Me:
    """The signed-in account as a page shows it."""

    def __init__(self, principal: Principal, username: str, role: str, purpose: str) -> None:
        self.principal, self.username, self.role, self.purpose = principal, username, role, purpose


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def add_pages(api: FastAPI, app: Habeas) -> None:
    """Serve the pages and their assets from ``api``, over ``app``."""
    env = _env()
    r = APIRouter(include_in_schema=False)
    api.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def csrf_of(request: Request) -> str:
        """The token a form must carry: the session's own once signed in (derived from
        its secret), else the sign-in page's double-submit cookie."""
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            return csrf_for(session)
        return request.cookies.get(CSRF_COOKIE, "")

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        token = csrf_of(request) or secrets.token_urlsafe(24)
        body = env.get_template(name).render(csrf=token, **ctx)
        resp = HTMLResponse(body, status_code=status)
        resp.headers["content-security-policy"] = CSP
        resp.headers["x-frame-options"] = "DENY"
        resp.headers["referrer-policy"] = "no-referrer"
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

    def me(request: Request) -> Me | None:
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
        return RedirectResponse("/login", status_code=303)

    def failed(request: Request, who: Me | None, exc: HabeasError) -> HTMLResponse:
        status, title = 422, "Not possible"
        if isinstance(exc, Unauthenticated):
            status, title = 401, "Sign in again"
        elif isinstance(exc, AccessDenied):
            status, title = 403, "Refused"
        elif isinstance(exc, NotFound):
            status, title = 404, "Not found"
        elif getattr(exc, "refused", None) is not None:
            status, title = 403, "Refused by law"
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

    @r.get("/sw.js")
    def service_worker() -> Response:
        """The phone view's service worker, at the root so that it covers /today."""
        return Response(
            (STATIC / "sw.js").read_bytes(),
            media_type="text/javascript",
            headers={"cache-control": "no-cache", "content-security-policy": CSP},
        )

    @r.get("/")
    def home(request: Request) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        return RedirectResponse(HOME.get(who.role, "/search"), status_code=303)

    @r.get("/login")
    def login_page(request: Request) -> Response:
        return render(request, "login.html", me=None, purposes=PURPOSES, purpose="case_review")

    @r.post("/login")
    async def login(request: Request) -> Response:
        try:
            form = await form_of(request)
        except HabeasError as exc:
            return render(
                request,
                "login.html",
                403,
                me=None,
                purposes=PURPOSES,
                refusal=str(exc),
                purpose="case_review",
            )
        username, purpose = form.get("username", "")[:64], form.get("purpose", "")
        try:
            got = app.users.login(username, form.get("password", ""), purpose, address(request))
        except HabeasError as exc:
            return render(
                request,
                "login.html",
                401,
                me=None,
                purposes=PURPOSES,
                refusal=str(exc),
                username=username,
                purpose=purpose,
            )
        resp = RedirectResponse(HOME.get(got.role, "/search"), status_code=303)
        secure = request.url.scheme == "https"
        resp.set_cookie(
            SESSION_COOKIE,
            got.session,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=8 * 3600,
            path="/",
        )
        resp.set_cookie(
            CSRF_COOKIE,
            csrf_for(got.session),
            httponly=False,
            samesite="strict",
            secure=secure,
            max_age=8 * 3600,
            path="/",
        )
        return resp

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        try:
            await form_of(request)
        except HabeasError as exc:
            return failed(request, me(request), exc)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            app.users.logout(cookie)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @r.get("/search")
    def search(
        request: Request, name: str = "", dob: str = "", identifier: str = "", case: str = ""
    ) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        q = {"name": name[:200], "dob": dob[:10], "identifier": identifier[:64], "case": case[:12]}
        try:
            if q["case"]:
                if not re.fullmatch(r"[0-9]{1,10}", q["case"]):
                    raise HabeasError(f"case number {q['case']!r} is not a number")
                return RedirectResponse(f"/case/{int(q['case'])}", status_code=303)
            result = None
            if q["name"] or q["dob"] or q["identifier"]:
                result = app.index.search(
                    who.principal,
                    who.purpose,
                    name=q["name"] or None,
                    dob=q["dob"] or None,
                    identifier=q["identifier"] or None,
                    limit=50,
                )
        except HabeasError as exc:
            return render(
                request,
                "search.html",
                422 if not isinstance(exc, AccessDenied) else 403,
                me=who,
                q=q,
                result=None,
                refusal=str(exc),
            )
        return render(request, "search.html", me=who, q=q, result=result)

    @r.get("/person/{person_id}")
    def person(request: Request, person_id: str) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            p = app.index.person(who.principal, who.purpose, person_id[:64])
            cases = app.cases.for_person(who.principal, who.purpose, person_id[:64])
            view = None
            if cases:
                view = app.cases.show(who.principal, who.purpose, cases[0].id, date.today())
        except HabeasError as exc:
            return failed(request, who, exc)
        steps = STEPS.get(who.role, {}).get(view.file.state.value, []) if view else []
        return render(request, "person.html", me=who, p=p, cases=cases, view=view, steps=steps)

    @r.get("/why")
    def explain(request: Request, left: str, right: str) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            e = app.index.explain(who.principal, who.purpose, left[:64], right[:64])
        except HabeasError as exc:
            fragment = HTMLResponse(f"<p class='refusal'>{_escape(str(exc))}</p>")
            fragment.headers["content-security-policy"] = CSP
            fragment.headers["x-frame-options"] = "DENY"
            fragment.headers["referrer-policy"] = "no-referrer"
            return fragment
        return render(request, "explain.html", e=e)

    @r.get("/case/{case_id}")
    def case(request: Request, case_id: int, notice: str = "") -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            view = app.cases.show(who.principal, who.purpose, case_id, date.today())
        except HabeasError as exc:
            return failed(request, who, exc)
        steps = STEPS.get(who.role, {}).get(view.file.state.value, [])
        return render(request, "case.html", me=who, view=view, steps=steps, notice=notice[:200])

    @r.post("/case/{case_id}/steps")
    async def case_step(request: Request, case_id: int) -> Response:

        who = me(request)
        if who is None:
            return to_login()
        try:
            form = await form_of(request)
            kind = form.get("kind", "")
            if kind not in PAGE_STEPS:
                raise HabeasError(f"step {kind[:40]!r} is not taken from this page")
            fields: dict[str, Any] = {"reason": form["reason"]} if form.get("reason") else {}
            sent = form.get("version", "")
            version = int(sent) if re.fullmatch(r"[0-9]{1,10}", sent) else None
            done = app.cases.step(
                who.principal,
                who.purpose,
                case_id,
                StepRequest(kind=kind, fields=fields, version=version),
            )
        except HabeasError as exc:
            try:
                view = app.cases.show(who.principal, who.purpose, case_id, date.today())
            except HabeasError:
                return failed(request, who, exc)
            steps = STEPS.get(who.role, {}).get(view.file.state.value, [])
            return render(
                request, "case.html", 403, me=who, view=view, steps=steps, refusal=str(exc)
            )
        note = f"{kind.replace('_', ' ')} recorded: the case is now {done.state.replace('_', ' ')}"
        from urllib.parse import quote

        return RedirectResponse(f"/case/{case_id}?notice={quote(note)}", status_code=303)

    @r.get("/planner")
    def planner(request: Request) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            view = app.field.office(who.principal, who.purpose)
        except HabeasError as exc:
            return failed(request, who, exc)
        return render(
            request,
            "planner.html",
            me=who,
            office=view.office_name,
            teams=view.teams,
            today=date.today().isoformat(),
        )

    @r.get("/planner/route")
    def route_sheet(request: Request, team: str, day: date) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            rows = app.field.assignments(who.principal, who.purpose, day, team[:32])
        except HabeasError as exc:
            return failed(request, who, exc)
        return render(request, "route.html", me=who, team=team, day=day, rows=rows)

    @r.get("/today")
    def today(request: Request) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            view = app.field.today(who.principal, who.purpose)
        except HabeasError as exc:
            return failed(request, who, exc)
        rendered = datetime.now().astimezone().strftime("%H:%M %Z")
        return render(request, "today.html", me=who, view=view, rendered=rendered)

    @r.get("/custody")
    def custody(request: Request) -> Response:
        who = me(request)
        if who is None:
            return to_login()
        try:
            board = app.custody.board(who.principal, who.purpose, date.today())
        except HabeasError as exc:
            return failed(request, who, exc)
        return render(request, "custody.html", me=who, board=board)

    api.include_router(r)


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
