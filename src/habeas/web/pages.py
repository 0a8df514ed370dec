"""The page routes: each parses, makes one call on the application and renders a template.

Sign-in opens the API's login session (``api.auth.start_session``: the same HttpOnly,
SameSite=Strict cookie, Secure under TLS) for the purpose chosen on the form; every page
shows it. Every form carries the CSRF token (double submit: the form's field must equal
the habeas_csrf cookie), and the fetches the pages' scripts make send it in
X-CSRF-Token as the API requires.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from habeas.api.auth import address, end_session, start_session
from habeas.api.deps import H
from habeas.app.cases.schemas import StepRequest
from habeas.errors import AccessDenied, HabeasError
from habeas.governance.authz import PURPOSES
from habeas.web import CSP, STATIC
from habeas.web.render import failed, form_of, me, refusal_fragment, render, to_login

HOME = {
    "supervisor": "/planner",
    "field_officer": "/today",
    "custody_officer": "/custody",
    "counsel": "/clients",
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


STATIC_FILES = StaticFiles(directory=str(STATIC))
"""The pages' scripts, styles and map outlines (served at /static)."""

router = APIRouter(include_in_schema=False)


@router.get("/sw.js")
def service_worker() -> Response:
    """The phone view's service worker, at the root so that it covers /today."""
    return Response(
        (STATIC / "sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"cache-control": "no-cache", "content-security-policy": CSP},
    )


@router.get("/")
def home(request: Request, h: H) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    return RedirectResponse(HOME.get(who.role, "/search"), status_code=303)


@router.get("/login")
def login_page(request: Request, h: H) -> Response:
    return render(request, "login.html", me=None, purposes=PURPOSES, purpose="")


@router.post("/login")
async def login(request: Request, h: H) -> Response:
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
            purpose="",
        )
    username, purpose = form.get("username", "")[:64], form.get("purpose", "")
    try:
        got = h.users.login(username, form.get("password", ""), purpose, address(request))
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
    start_session(request, resp, got)
    return resp


@router.post("/logout")
async def logout(request: Request, h: H) -> Response:
    try:
        await form_of(request)
    except HabeasError as exc:
        return failed(request, me(h, request), exc)
    resp = RedirectResponse("/login", status_code=303)
    end_session(h, request, resp)
    return resp


@router.get("/search")
def search(
    request: Request, h: H, name: str = "", dob: str = "", identifier: str = "", case: str = ""
) -> Response:
    who = me(h, request)
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
            result = h.index.search(
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


@router.get("/person/{person_id}")
def person(request: Request, h: H, person_id: str) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        p = h.index.person(who.principal, who.purpose, person_id[:64])
        cases = h.cases.for_person(who.principal, who.purpose, person_id[:64])
        view = None
        if cases:
            view = h.cases.show(who.principal, who.purpose, cases[0].id, h.today())
    except HabeasError as exc:
        return failed(request, who, exc)
    steps = STEPS.get(who.role, {}).get(view.file.state.value, []) if view else []
    return render(request, "person.html", me=who, p=p, cases=cases, view=view, steps=steps)


@router.get("/why")
def explain(request: Request, h: H, left: str, right: str) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        e = h.index.explain(who.principal, who.purpose, left[:64], right[:64])
    except HabeasError as exc:
        return refusal_fragment(str(exc))
    return render(request, "explain.html", e=e)


@router.get("/case/{case_id}")
def case(request: Request, h: H, case_id: int, notice: str = "") -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        view = h.cases.show(who.principal, who.purpose, case_id, h.today())
    except HabeasError as exc:
        return failed(request, who, exc)
    steps = STEPS.get(who.role, {}).get(view.file.state.value, [])
    return render(request, "case.html", me=who, view=view, steps=steps, notice=notice[:200])


@router.post("/case/{case_id}/steps")
async def case_step(request: Request, h: H, case_id: int) -> Response:

    who = me(h, request)
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
        done = h.cases.step(
            who.principal,
            who.purpose,
            case_id,
            StepRequest(kind=kind, fields=fields, version=version),
        )
    except HabeasError as exc:
        try:
            view = h.cases.show(who.principal, who.purpose, case_id, h.today())
        except HabeasError:
            return failed(request, who, exc)
        steps = STEPS.get(who.role, {}).get(view.file.state.value, [])
        return render(request, "case.html", 403, me=who, view=view, steps=steps, refusal=str(exc))
    note = f"{kind.replace('_', ' ')} recorded: the case is now {done.state.replace('_', ' ')}"

    return RedirectResponse(f"/case/{case_id}?notice={quote(note)}", status_code=303)


@router.get("/planner")
def planner(request: Request, h: H) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        view = h.field.office(who.principal, who.purpose)
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(
        request,
        "planner.html",
        me=who,
        office=view.office_name,
        teams=view.teams,
        today=h.today().isoformat(),
    )


@router.get("/planner/route")
def route_sheet(request: Request, h: H, team: str, day: date) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        rows = h.field.assignments(who.principal, who.purpose, day, team[:32])
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(request, "route.html", me=who, team=team, day=day, rows=rows)


@router.get("/today")
def today(request: Request, h: H) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        view = h.field.today(who.principal, who.purpose)
    except HabeasError as exc:
        return failed(request, who, exc)
    rendered = datetime.now().astimezone().strftime("%H:%M %Z")
    return render(request, "today.html", me=who, view=view, rendered=rendered)


@router.get("/custody")
def custody(request: Request, h: H) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        board = h.custody.board(who.principal, who.purpose, h.today())
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(request, "custody.html", me=who, board=board)
