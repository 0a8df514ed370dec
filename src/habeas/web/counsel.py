"""Counsel's pages: the client list (counsel's home), a client's cases and packets, a
production with its files (the HTML view, the PDF, the load files), the disclosures made.

Counsel acts for a named client: every call names the client (a person id) and Cedar
decides on it; a person who is not counsel's client is "not found", as one who does not
exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from habeas.api.deps import H
from habeas.errors import Conflict, HabeasError, NotFound
from habeas.web.render import failed, form_of, me, render, to_login

router = APIRouter(include_in_schema=False)

FILES = {
    "html": ("packet.html", "text/html; charset=utf-8", "inline"),
    "pdf": ("packet.pdf", "application/pdf", "attachment"),
    "json": ("packet.json", "application/json", "attachment"),
    "dat": ("packet.dat", "text/plain; charset=utf-8", "attachment"),
    "opt": ("packet.opt", "text/plain; charset=us-ascii", "attachment"),
}
"""A production's files as the pages serve them."""


@router.get("/clients")
def clients(request: Request, h: H) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        rows = h.packets.clients(who.principal, who.purpose)
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(request, "clients.html", me=who, clients=rows)


@router.get("/client/{person_id}")
def client(request: Request, h: H, person_id: str, notice: str = "") -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        cases = h.cases.list_cases(who.principal, who.purpose, client=person_id).cases
        shown = h.packets.disclosures(who.principal, who.purpose, person_id, client=person_id)
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(
        request,
        "client.html",
        me=who,
        person_id=person_id,
        cases=cases,
        disclosures=shown,
        notice=notice[:200],
    )


@router.get("/client/{person_id}/case/{case_id}")
def client_case(request: Request, h: H, person_id: str, case_id: int) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        view = h.cases.show(who.principal, who.purpose, case_id, h.today(), client=person_id)
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(request, "client_case.html", me=who, view=view, person_id=person_id, steps=[])


@router.post("/client/{person_id}/packet")
async def produce(request: Request, h: H, person_id: str) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        form = await form_of(request)
        recipient = form.get("recipient", "").strip() or f"{who.username} (counsel)"
        p = h.packets.produce(
            who.principal, who.purpose, person_id, recipient=recipient, client=person_id
        )
    except HabeasError as exc:
        return failed(request, who, exc)
    return RedirectResponse(f"/client/{person_id}/packets/{p.production_id}", status_code=303)


@router.get("/client/{person_id}/packets/{production}")
def production(request: Request, h: H, person_id: str, production: int) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        rows = h.packets.disclosures(who.principal, who.purpose, person_id, client=person_id)
        found = [d for d in rows if d.production_id == production]
        if not found:
            raise NotFound(f"no production {production} about {person_id}")
    except HabeasError as exc:
        return failed(request, who, exc)
    return render(request, "production.html", me=who, person_id=person_id, d=found[0])


@router.get("/client/{person_id}/packets/{production}/{part}")
def production_file(request: Request, h: H, person_id: str, production: int, part: str) -> Response:
    who = me(h, request)
    if who is None:
        return to_login()
    try:
        if part not in FILES:
            raise NotFound(f"a packet has no {part[:20]!r} file (html, pdf, json, dat, opt)")
        r = h.packets.rebuild(who.principal, who.purpose, production, client=person_id)
        if r.produced.person_id != person_id:
            raise NotFound(f"no production {production} about {person_id}")
        if not r.same:
            raise Conflict("the production no longer rebuilds: " + "; ".join(r.differences))
        name, media, disposition = FILES[part]
        data = r.produced.files.get(name)
        if data is None:
            raise NotFound(f"production {production} holds no {name}")
    except HabeasError as exc:
        return failed(request, who, exc)
    headers = {
        "content-disposition": f'{disposition}; filename="{name}"',
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
    }
    return Response(data, media_type=media, headers=headers)
