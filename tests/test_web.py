"""The pages in a real browser: Playwright driving Debian's Chromium against `habeas`'s
own server on loopback. A supervisor signs in, draws an area on the planner's map,
assigns and routes; a second supervisor approves what the first requested (and the first
is refused with the reason); an officer on a phone-sized screen reports an outcome
offline and sees it land once when the connection returns. Screenshots are kept under
``test-artifacts/`` (or $HABEAS_TEST_ARTIFACTS) for CI to keep."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from fieldkit import NYC, TODAY, approved_case, make_field_app, step, warrant_case
from sqlalchemy import func, select

from habeas.app import Habeas
from habeas.store.models import Assignment, CaseEvent, FieldOutcome

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("HABEAS_TEST_ARTIFACTS", "test-artifacts"))
F = "field_operation"


class Server:
    """`habeas`'s API and pages served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Habeas) -> None:
        import uvicorn

        from habeas.server import create_api

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_api(app), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Habeas, dict[str, str], Server]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-system.sh test (installs chromium)")
    app, passwords = make_field_app(tmp_path / "data")
    with Server(app) as server:
        yield app, passwords, server
    app.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, server: Server, who: str, password: str, purpose: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", password)
    page.select_option("select[name=purpose]", purpose)
    page.click("#login button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert purpose.replace("_", " ") in page.inner_text("#purpose")


def count(app: Habeas, model: Any, *where: Any) -> int:
    with app.sessions() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_a_supervisor_draws_an_area_assigns_and_routes(world: Any, browser: Any) -> None:
    app, pw, server = world
    ids = [
        approved_case(
            app,
            f"P-M{k}",
            addresses=[
                dict(NYC, lat=40.70 + k * 0.02, lon=-74.00 + k * 0.01, street=f"{k} Map Ave")
            ],
        )
        for k in range(4)
    ]
    outside = approved_case(
        app, "P-FAR", addresses=[dict(NYC, street="5 Far Rd", zip="14201", lat=42.89, lon=-78.87)]
    )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(page, server, "super1", pw["super1"], F)
    page.wait_for_selector("#planner[data-ready='1']")
    assert page.get_attribute("#planner", "data-loaded") == "5"
    # draw a box around the four New York cases (not the one in Buffalo)
    page.evaluate("habeasMap.setView([40.73, -73.985], 11) && null")
    page.wait_for_timeout(300)
    page.click("#draw")
    corners = [(40.66, -74.05), (40.66, -73.92), (40.80, -73.92), (40.80, -74.05)]
    box = page.locator("#map").bounding_box()
    for lat, lon in corners:
        p = page.evaluate(
            "([a, b]) => { const p = habeasMap.latLngToContainerPoint([a, b]);"
            " return [p.x, p.y]; }",
            [lat, lon],
        )
        page.mouse.click(box["x"] + p[0], box["y"] + p[1])
        page.wait_for_timeout(120)
    page.click("#finish")
    assert page.inner_text("#selected-count") == "4"
    page.select_option("#team", "NE-1")
    page.click("#assign")
    page.wait_for_selector("#result .notice")
    assert "4 assigned to NE-1" in page.inner_text("#result")
    assert count(app, Assignment, Assignment.status == "open") == 4
    assert count(app, Assignment, Assignment.case_id == outside) == 0
    page.click("#route")
    page.wait_for_selector("#route-stops li")
    assert page.locator("#route-stops li").count() == 4
    assert "nearest-neighbour" in page.inner_text("#result")
    shot(page, "planner-routed")
    with app.sessions() as s:
        seqs = sorted(
            s.execute(select(Assignment.route_seq).where(Assignment.case_id.in_(ids))).scalars()
        )
    assert seqs == [1, 2, 3, 4]
    sheet = browser.new_page()
    sheet.context.add_cookies(page.context.cookies())
    sheet.goto(f"{server.url}/planner/route?team=NE-1&day={TODAY.isoformat()}")
    assert sheet.locator("#route-sheet tbody tr").count() == 4
    shot(sheet, "route-sheet")


def test_a_second_person_approves_and_the_requester_is_refused(world: Any, browser: Any) -> None:
    app, pw, server = world
    case_id = warrant_case(app, "P-APPROVE")
    page = browser.new_page()
    sign_in(page, server, "super1", pw["super1"], F)
    page.goto(f"{server.url}/case/{case_id}")
    page.click("#step-request_field_action")
    page.wait_for_selector(".notice")
    assert "field action requested" in page.inner_text("#case-state")
    page.click("#step-approve_field_action")
    page.wait_for_selector("#refusal")
    refusal = page.inner_text("#refusal")
    assert "super1 requested this field action and may not approve it too" in refusal
    shot(page, "self-approval-refused")
    other = browser.new_context().new_page()
    sign_in(other, server, "super2", pw["super2"], F)
    other.goto(f"{server.url}/case/{case_id}")
    other.click("#step-approve_field_action")
    other.wait_for_selector(".notice")
    assert "approved for field action" in other.inner_text("#case-state")
    shot(other, "approved-by-second-person")


def test_an_officer_reports_offline_and_it_lands_once(world: Any, browser: Any) -> None:
    app, pw, server = world
    case_id = approved_case(app, "P-OFF")
    second = approved_case(app, "P-OFF2")
    app.field.assign(app.users.local("super1", "t"), F, [case_id, second], "NE-1", TODAY)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    sign_in(page, server, "field1", pw["field1"], F)
    page.wait_for_selector("body[data-ready='1'][data-kept='1']")  # kept for offline use
    card = page.locator(".item").first
    phone.set_offline(True)
    card.locator("input[value=arrested]").check()
    card.locator("input[name=place]").fill("front door")
    card.locator("button[type=submit]").click()
    page.wait_for_selector("body[data-pending='1']")
    assert "no connection" in page.inner_text("#pending-list") or "waiting" in page.inner_text(
        "#pending-list"
    )
    assert count(app, FieldOutcome) == 0
    # the phone loses the page too (the tab was closed, the phone restarted): with no
    # connection the list opens from the phone's copy, and the saved outcome is still there
    page.reload()
    page.wait_for_selector("body[data-ready='1'][data-pending='1'][data-copy='offline']")
    assert (
        page.is_visible("#offline-copy")
        and "no connection" in page.inner_text("#offline-copy").lower()
    )
    assert page.locator(".item").count() == 2
    card = page.locator(".item").first
    shot(page, "phone-offline-pending")
    # signing out with an unsent outcome warns; dismissing keeps the officer on the page
    messages: list[str] = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    page.click("#signout button")
    page.wait_for_timeout(300)
    assert messages and "not sent yet" in messages[0] and "/today" in page.url
    phone.set_offline(False)
    page.click("#send-now")
    page.wait_for_selector("body[data-pending='0']")
    assert "Recorded" in card.locator("[data-role=result]").inner_text()
    assert page.inner_text("#last-sync") != "never"
    shot(page, "phone-sent")
    # the device sends the same outcome again (a lost answer): one effect, answered as before
    again = page.evaluate(
        """async () => {
             const db = await idb.openDB('habeas-field', 1);
             const [d] = await db.getAll('done');
             const r = await window.habeasFetch('/field/outcomes', {method: 'POST', json: d.body});
             return [r.status, (await r.json()).replayed]; }"""
    )
    assert again == [201, True]
    with app.sessions() as s:
        outcomes = list(s.execute(select(FieldOutcome)).scalars())
        encounters = s.execute(
            select(func.count()).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "record_encounter"
            )
        ).scalar_one()
    assert len(outcomes) == 1 and encounters == 1 and outcomes[0].place == "front door"
    # signing out takes the day's list off the phone; nothing is waiting, so no warning
    assert page.evaluate(KEPT_PAGES) == [f"{server.url}/today"]
    page.click("#signout button")
    page.wait_for_url("**/login")
    assert page.evaluate(KEPT_PAGES) == []


KEPT_PAGES = """async () => { const c = await caches.open('habeas-pages');
                  return (await c.keys()).map(r => r.url); }"""


def test_a_resend_of_the_same_outcome_is_answered_as_recorded(world: Any, browser: Any) -> None:
    app, pw, server = world
    case_id = approved_case(app, "P-RESEND")
    app.field.assign(app.users.local("super1", "t"), F, [case_id], "NE-1", TODAY)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, server, "field1", pw["field1"], F)
    page.wait_for_selector("body[data-ready='1']")
    assignment = int(page.locator(".item").first.get_attribute("data-assignment"))
    statuses = page.evaluate(
        """async (a) => { const body = {uuid: crypto.randomUUID(), assignment_id: a,
             outcome: 'not_located', subject: true,
             occurred_at: new Date().toISOString(), place: '', notes: ''};
           const one = await window.habeasFetch('/field/outcomes', {method: 'POST', json: body});
           const two = await window.habeasFetch('/field/outcomes', {method: 'POST', json: body});
           const a1 = (await one.json()).replayed, a2 = (await two.json()).replayed;
           return [one.status, a1, two.status, a2]; }""",
        assignment,
    )
    assert statuses == [201, False, 201, True]
    assert (
        count(app, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "record_encounter")
        == 1
    )


def test_a_cancelled_assignment_says_why_and_refuses_an_outcome(world: Any, browser: Any) -> None:
    app, pw, server = world
    case_id = approved_case(app, "P-GONE")
    app.field.assign(app.users.local("super1", "t"), F, [case_id], "NE-1", TODAY)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, server, "field1", pw["field1"], F)
    page.wait_for_selector("body[data-ready='1']")
    # the person leaves while the officer's page is open
    step(
        app,
        "officer1",
        "case_review",
        case_id,
        "verify_departure",
        proof="airline exit manifest (synthetic)",
    )
    card = page.locator(".item").first
    card.locator("input[value=arrested]").check()
    card.locator("button[type=submit]").click()
    page.wait_for_selector(".item [data-role=result].refusal")
    assert "departure verified" in card.locator("[data-role=result]").inner_text()
    assert count(app, FieldOutcome) == 0
    page.reload()
    page.wait_for_selector(".item.cancelled")
    assert "departure verified" in page.inner_text(".item.cancelled [data-role=status]")
    shot(page, "phone-cancelled")


def test_a_non_subject_cannot_be_marked_arrested_on_the_phone(world: Any, browser: Any) -> None:
    app, pw, server = world
    case_id = approved_case(app, "P-OTHER")
    app.field.assign(app.users.local("super1", "t"), F, [case_id], "NE-1", TODAY)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, server, "field1", pw["field1"], F)
    page.wait_for_selector("body[data-ready='1']")
    card = page.locator(".item").first
    card.locator("input[name=not_subject]").check()
    assert card.locator("input[value=arrested]").is_disabled()
    card.locator("button[type=submit]").click()
    page.wait_for_selector("body[data-pending='0']")
    page.wait_for_selector(".item [data-role=result].ok")
    assert "nothing else is started" in card.locator("[data-role=result]").inner_text()
    with app.sessions() as s:
        row = s.execute(select(FieldOutcome)).scalar_one()
    assert row.outcome == "not_subject" and not row.subject
    assert (
        count(app, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "record_encounter")
        == 0
    )


def test_pages_load_nothing_from_another_host(world: Any, browser: Any) -> None:
    app, pw, server = world
    case_id = approved_case(app, "P-HOSTS")
    app.field.assign(app.users.local("super1", "t"), F, [case_id], "NE-1", TODAY)
    seen: list[str] = []
    hosts: set[str] = set()
    violations: list[str] = []
    for who, purpose, paths in (
        ("super1", F, ["/planner", f"/case/{case_id}", "/person/P-HOSTS", "/custody"]),
        ("field1", F, ["/today"]),
        ("officer1", "case_review", ["/search?name=Ana+Test", "/person/P-HOSTS"]),
    ):
        ctx = browser.new_context()
        page = ctx.new_page()
        page.on("request", lambda r: (seen.append(r.url), hosts.add(urlparse(r.url).netloc)))
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        sign_in(page, server, who, pw[who], purpose)
        for path in paths:
            resp = page.goto(server.url + path)
            assert resp.status == 200, (path, resp.status)
            assert "default-src 'self'" in resp.headers["content-security-policy"]
            html = page.content()
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), path
            assert ' style="' not in resp.text() if hasattr(resp, "text") else True
            page.wait_for_load_state("networkidle")
        ctx.close()
    assert seen and hosts == {f"127.0.0.1:{server.port}"}, hosts
    assert not violations, violations


def test_signing_in_refuses_a_forged_form_and_a_wrong_password(world: Any, browser: Any) -> None:
    _, pw, server = world
    page = browser.new_page()
    page.goto(server.url + "/login")
    page.evaluate("document.querySelector('input[name=csrf]').value = 'forged'")
    page.fill("input[name=username]", "super1")
    page.fill("input[name=password]", pw["super1"])
    page.click("#login button[type=submit]")
    assert "CSRF" in page.inner_text("#refusal")
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "super1")
    page.fill("input[name=password]", "not the password")
    page.click("#login button[type=submit]")
    assert "wrong user name or password" in page.inner_text("#refusal")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "habeas_session" not in cookies
    sign_in(page, server, "super1", pw["super1"], F)
    session = {c["name"]: c for c in page.context.cookies()}["habeas_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    # a field officer's session cannot open the planner
    other = browser.new_context().new_page()
    sign_in(other, server, "field1", pw["field1"], F)
    resp = other.goto(server.url + "/planner")
    assert resp.status == 403 and "no policy permits" in other.inner_text("#refusal")
