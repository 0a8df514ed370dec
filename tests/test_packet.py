"""The evidence packet (safeguard 8): one JSON validated against the published schema,
rendered to HTML and a PDF/A-3b with a Bates number on every page, certified and signed,
verified file by file, reproducible as of its moment, recorded as a disclosure, and
produced only for those Cedar lets — counsel for their own client, never for anyone
else's, with no hint that the other person exists."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pikepdf
import pytest
from conftest import open_copy
from packetkit import act, attach, build_template, day
from sqlalchemy import text

from habeas.app import Habeas
from habeas.errors import AccessDenied, HabeasError, NotFound
from habeas.governance.chain import inclusion_ok
from habeas.packet.certify import write_folder

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
COURT = "Immigration Court (synthetic)"


@pytest.fixture(scope="module")
def packet_world(
    indexed_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, int]:
    """The indexed world with a case carried to a flight and counsel1 on it (built once)."""
    return build_template(indexed_template, tmp_path_factory.mktemp("packet") / "data")


@pytest.fixture
def packet_app(packet_world: tuple[Path, str, int], tmp_path: Path) -> Any:
    template, person, case_id = packet_world
    app = open_copy(template, tmp_path / "data")
    yield app, person, case_id
    app.close()


def as_(app: Habeas, who: str) -> Any:
    return app.users.local(who, "test")


def produce(app: Habeas, person: str, who: str = "counsel1", **kw: Any) -> Any:
    purpose = {"counsel1": "redress", "officer1": "case_review", "ig1": "oversight"}[who]
    client = person if who == "counsel1" else ""
    return app.packets.produce(
        as_(app, who), purpose, person, recipient=kw.pop("recipient", COURT), client=client, **kw
    )


def ids_in(value: Any) -> set[str]:
    """Every stable id in a packet's JSON."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            found.add(value["id"])
        for v in value.values():
            found |= ids_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= ids_in(v)
    return found


def pdf_text(pdf: bytes, tmp: Path) -> list[str]:
    """The text of each page (poppler's pdftotext)."""
    path = tmp / "p.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return out.split("\f")[:-1]


def test_the_golden_packet_is_schema_valid_and_every_id_is_in_the_html_and_the_pdf(
    packet_app: Any, tmp_path: Path
) -> None:
    app, person, case_id = packet_app
    p = produce(app, person)
    packet = json.loads(p.files["packet.json"])
    schema = json.loads((ROOT / "docs" / "packet.schema.json").read_text())
    jsonschema.validate(packet, schema, cls=jsonschema.Draft202012Validator)
    shipped = ROOT / "src" / "habeas" / "packet" / "packet.schema.json"
    assert shipped.read_text() == (ROOT / "docs" / "packet.schema.json").read_text()
    # what a court needs is there: records with lineage, links with waterfalls that add up,
    # the case's events with authority, refusals, instruments, gates, custody, accesses
    assert len(packet["person"]["records"]) >= 3
    for r in packet["person"]["records"]:
        assert r["legal_authority"] and r["file_sha256"] and r["row_number"] is not None
    assert packet["links"], "the records are joined by links"
    for link in packet["links"]:
        w = link["waterfall"]
        total = w["prior_weight"] + sum(b["weight"] + b["tf_adjustment"] for b in w["bars"])
        assert abs(total - w["match_weight"]) < 1e-3
        assert w["bars"][-1]["cumulative"] == w["sum_of_bars"]
    (case,) = packet["cases"]
    assert case["case_id"] == case_id and case["history_verified"]
    kinds = [e["kind"] for e in case["events"]]
    assert "approve_field_action" in kinds and "add_to_manifest" in kinds
    assert any(e["flight"] == "F-1" for e in case["events"])
    assert {i["kind"] for i in case["instruments"]} >= {"nta", "i205", "travel_document"}
    assert all(g["open"] for g in case["gates"]), "every enforcement step passed its gate"
    assert case["documents"] and case["documents"][0]["verified_by"] == "super2"
    assert any(a["action"] == "read_person" for a in packet["accesses"])
    # counsel sees the client's identifiers whole
    assert {"a_number", "passport_number", "ssn"} <= set(packet["view"]["identifiers_whole"])
    html = p.files["packet.html"].decode()
    pages = pdf_text(p.files["packet.pdf"], tmp_path)
    flat = re.sub(r"\s+", "", "".join(pages))
    for item in ids_in(packet):
        assert item in html, item
        assert re.sub(r"\s+", "", item) in flat, item
    # inclusion proofs against the signed checkpoint
    cp = packet["integrity"]["checkpoint"]
    assert packet["integrity"]["audit_chain"]["verified"]
    with app.sessions() as s:
        for a in packet["accesses"][:5]:
            row = s.execute(
                text(
                    "SELECT seq, at, user, role, purpose, action, resources, decision, "
                    "request_id, detail FROM audit_entries WHERE seq = :n"
                ),
                {"n": a["seq"]},
            ).one()
            from habeas.governance.chain import canonical_bytes

            leaf = canonical_bytes(*row)
            assert inclusion_ok(leaf, a["seq"] - 1, cp["size"], a["inclusion_proof"], cp["root"])
            assert not inclusion_ok(
                leaf + b" ", a["seq"] - 1, cp["size"], a["inclusion_proof"], cp["root"]
            )


def test_the_pdf_is_pdfa_3b_tagged_fonts_embedded_bates_on_every_page(
    packet_app: Any, tmp_path: Path
) -> None:
    app, person, _ = packet_app
    p = produce(app, person)
    pdf = p.files["packet.pdf"]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        meta = doc.open_metadata()
        assert str(meta.get("pdfaid:part")) == "3" and str(meta.get("pdfaid:conformance")) == "B"
        assert "/OutputIntents" in doc.Root and "/StructTreeRoot" in doc.Root
        assert "/Outlines" in doc.Root, "bookmarks"
        assert not doc.is_encrypted
        names = doc.Root.get("/Names", {})
        assert "/JavaScript" not in names and "/OpenAction" not in doc.Root
        attached = doc.attachments["packet.json"].get_file().read_bytes()
        assert attached == p.files["packet.json"]
        for page in doc.pages:
            for font in page.Resources.get("/Font", {}).values():
                desc = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
                assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        n = len(doc.pages)
    pages = pdf_text(pdf, tmp_path)
    assert len(pages) == n == p.pages
    first = int(p.bates.split("-")[0][3:])
    for i, page in enumerate(pages):
        assert f"HAB{first + i:07d}" in page, f"page {i + 1} lacks its Bates number"
    dat = p.files["packet.dat"].decode().split("\r\n")
    fields = [f.strip("\u00fe") for f in dat[1].split("\u0014")]
    assert fields[:3] == [f"HAB{first:07d}", f"HAB{first + n - 1:07d}", str(n)]
    assert fields[3] == p.pdf_sha256
    opt = [line for line in p.files["packet.opt"].decode().split("\r\n") if line]
    assert len(opt) == n and opt[0].split(",")[3] == "Y"


def test_bates_numbers_continue_and_are_never_given_twice(packet_app: Any) -> None:
    app, person, _ = packet_app
    a = produce(app, person)
    b = produce(app, person, recipient="BIA (synthetic)")
    end_a = int(a.bates.split("-")[1][3:])
    start_b = int(b.bates.split("-")[0][3:])
    assert start_b == end_a + 1


def test_the_same_production_rebuilds_byte_identical_after_new_facts(packet_app: Any) -> None:
    app, person, case_id = packet_app
    p = produce(app, person)
    again = app.packets.rebuild(as_(app, "counsel1"), "redress", p.production_id, client=person)
    assert again.same, again.differences
    assert again.produced.files["packet.pdf"] == p.files["packet.pdf"]
    # new facts: a step on the case, a document, reads of the person, a link changed
    act(app, "custody1", "custody", case_id, "take_off_manifest", day(19), reason="seat moved")
    attach(app, case_id, "motion (synthetic)", "A motion to reopen.", verify=False)
    app.index.person(as_(app, "officer1"), "case_review", person)
    with app.sessions() as s:
        s.execute(
            text("UPDATE index_records SET match_weight = match_weight + 1 WHERE person_id = :p"),
            {"p": person},
        )
        s.commit()
    later = produce(app, person)
    assert later.packet_sha256 != p.packet_sha256
    again = app.packets.rebuild(as_(app, "counsel1"), "redress", p.production_id, client=person)
    assert again.same, again.differences
    assert again.produced.packet_sha256 == p.packet_sha256
    assert again.produced.pdf_sha256 == p.pdf_sha256
    # as of a past moment, a new production shows what the system held then
    past = app.packets.produce(
        as_(app, "counsel1"),
        "redress",
        person,
        recipient=COURT,
        client=person,
        as_of=p.as_of,
        formats=("json",),
    )
    old, new = json.loads(p.files["packet.json"]), json.loads(past.files["packet.json"])
    assert new["person"] == old["person"] and new["links"] == old["links"]
    assert new["cases"] == old["cases"] and new["accesses"] == old["accesses"]
    assert len(new["disclosures"]) == len(old["disclosures"])


def test_verify_passes_then_names_each_file_edited(packet_app: Any, tmp_path: Path) -> None:
    app, person, _ = packet_app
    p = produce(app, person)
    good = tmp_path / "good"
    write_folder(good, p.files)
    assert app.packets.verify(good).ok
    for name in ("packet.pdf", "packet.json", "manifest.json", "manifest.sig"):
        folder = tmp_path / name.replace(".", "_")
        shutil.copytree(good, folder)
        data = bytearray((folder / name).read_bytes())
        at = len(data) // 2
        data[at] = (data[at] + 1) % 256 if data[at] not in (0x22, 0x5C) else 0x41
        (folder / name).write_bytes(bytes(data))
        check = app.packets.verify(folder)
        assert not check.ok, name
        assert any(problem.startswith(name) for problem in check.problems), (
            name,
            check.problems,
        )


def test_counsel_is_refused_for_anyone_but_their_client_with_no_hint(packet_app: Any) -> None:
    app, person, _ = packet_app
    counsel = as_(app, "counsel1")
    with app.sessions() as s:
        other = s.execute(
            text("SELECT person_id FROM index_persons WHERE person_id != :p LIMIT 1"),
            {"p": person},
        ).scalar_one()
    answers = []
    for target in (other, "P-NOBODY-0000"):
        with pytest.raises(NotFound) as exc:
            app.packets.produce(counsel, "redress", target, recipient=COURT, client=target)
        answers.append(str(exc.value).replace(target, "X"))
    assert answers[0] == answers[1] == "no person X"
    # naming the client but asking for another person
    with pytest.raises(NotFound):
        app.packets.produce(counsel, "redress", other, recipient=COURT, client=person)
    # a role that never may, and an administrator
    for who, purpose in (("field1", "field_operation"), ("eng1", "identity_resolution")):
        with pytest.raises(AccessDenied):
            app.packets.produce(as_(app, who), purpose, person, recipient=COURT)
    with pytest.raises(HabeasError):
        app.packets.produce(as_(app, "root"), "oversight", person, recipient=COURT)
    with pytest.raises(NotFound):
        app.packets.disclosures(counsel, "redress", other, client=other)


def test_a_case_officer_gets_the_packet_masked_as_their_purpose_allows(packet_app: Any) -> None:
    app, person, _ = packet_app
    p = produce(app, person, who="officer1")
    packet = json.loads(p.files["packet.json"])
    assert packet["view"]["identifiers_whole"] == ["a_number"]
    raw = json.loads(produce(app, person).files["packet.json"])
    hidden = {
        r["values"][kind]
        for r in raw["person"]["records"]
        for kind in ("ssn", "passport_number")
        if r["values"][kind]
    }
    assert hidden, "the person has an SSN or a passport on some record (or this checks nothing)"
    body = p.files["packet.json"].decode() + p.files["packet.html"].decode()
    for value in hidden:
        assert value not in body, "an identifier the case officer may not see whole left the packet"


def test_every_production_is_a_disclosure_audited_with_its_hash(packet_app: Any) -> None:
    app, person, _ = packet_app
    p = produce(app, person)
    rows = app.packets.disclosures(as_(app, "ig1"), "oversight", person)
    mine = [d for d in rows if d.production_id == p.production_id]
    assert mine and mine[0].recipient == COURT and mine[0].verified
    assert mine[0].record_ids and mine[0].packet_sha256 == p.packet_sha256
    with app.sessions() as s:
        detail = s.execute(
            text("SELECT detail FROM audit_entries WHERE action = 'produce_packet:outcome'")
        ).scalars()
        assert any(p.packet_sha256 in d for d in detail)
        s.execute(
            text("UPDATE packet_productions SET recipient = 'someone else' WHERE id = :i"),
            {"i": p.production_id},
        )
        s.commit()
    rows = app.packets.disclosures(as_(app, "ig1"), "oversight", person)
    assert not next(d for d in rows if d.production_id == p.production_id).verified


def test_a_forged_history_row_is_named_in_the_packet(packet_app: Any) -> None:
    app, person, _ = packet_app
    produce(app, person)
    with app.sessions() as s:
        s.execute(
            text(
                "UPDATE index_history SET content = replace(content, 'cbp', 'cbx') "
                "WHERE person_id = :p"
            ),
            {"p": person},
        )
        s.commit()
    p = produce(app, person, as_of=None)
    packet = json.loads(p.files["packet.json"])
    # the live index differs from the forged row: a fresh row is written and believed;
    # an as-of build on the forged row says it does not verify
    assert packet["person"]["index_state"]["verified"]
    with app.sessions() as s:
        first = (
            s.execute(
                text("SELECT valid_from FROM index_history WHERE person_id = :p ORDER BY id"),
                {"p": person},
            )
            .scalars()
            .first()
        )
    from datetime import datetime

    moment = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
    past = app.packets.produce(
        as_(app, "counsel1"),
        "redress",
        person,
        recipient=COURT,
        client=person,
        as_of=moment,
        formats=("json",),
    )
    assert not json.loads(past.files["packet.json"])["person"]["index_state"]["verified"]


def test_counsel_gets_the_packet_through_the_cli(packet_app: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from habeas.cli.main import app as cli

    app, person, _ = packet_app
    data = str(app.settings.data_dir)
    app.close()
    run = CliRunner()
    base = ["--data-dir", data, "packet"]
    who = ["--as", "counsel1", "--purpose", "redress", "--client", person]
    got = run.invoke(cli, [*base, person, *who, "--recipient", COURT, "--out", str(tmp_path / "p")])
    assert got.exit_code == 0, got.output
    assert "Bates HAB" in got.output and (tmp_path / "p" / "packet.pdf").is_file()
    ok = run.invoke(cli, [*base, "verify", str(tmp_path / "p")])
    assert ok.exit_code == 0 and "packet verify OK" in ok.output
    listed = run.invoke(cli, [*base, "disclosures", person, *who])
    assert listed.exit_code == 0 and COURT in listed.output
    same = run.invoke(cli, [*base, "rebuild", "1", *who])
    assert same.exit_code == 0 and "identical" in same.output, same.output
    other = run.invoke(
        cli,
        [
            *base,
            "P-NOBODY",
            "--as",
            "counsel1",
            "--purpose",
            "redress",
            "--client",
            "P-NOBODY",
            "--recipient",
            COURT,
            "--out",
            str(tmp_path / "q"),
        ],
    )
    # (the program's entry point turns these into one line and exit code 2)
    assert isinstance(other.exception, NotFound) and "no person P-NOBODY" in str(other.exception)
    bad = run.invoke(cli, [*base, person, *who, "--recipient", COURT, "--out", str(tmp_path / "p")])
    assert isinstance(bad.exception, HabeasError) and "not empty" in str(bad.exception)
    (tmp_path / "p" / "packet.json").write_bytes(b"{}")
    broken = run.invoke(cli, [*base, "verify", str(tmp_path / "p")])
    assert broken.exit_code == 4 and "packet.json" in broken.output


def test_counsel_gets_the_packet_through_the_api(packet_app: Any) -> None:
    from fastapi.testclient import TestClient

    from habeas.server import create_api

    app, person, _ = packet_app
    root = app.users.local("root", "test")
    token = app.users.create_token(root, "counsel1", "test").secret
    h = {"Authorization": f"Bearer {token}", "X-Habeas-Purpose": "redress"}
    with TestClient(create_api(app)) as c:
        q = {"recipient": COURT, "client": person, "format": "pdf"}
        r = c.get(f"/persons/{person}/packet", params=q, headers=h)
        assert r.status_code == 200, r.text
        assert r.content.startswith(b"%PDF") and r.headers["x-habeas-production"]
        n = r.headers["x-habeas-production"]
        again = c.get(f"/packets/{n}/pdf", params={"client": person}, headers=h)
        assert again.status_code == 200 and again.content == r.content
        d = c.get(f"/persons/{person}/disclosures", params={"client": person}, headers=h)
        assert d.status_code == 200 and d.json()[0]["recipient"] == COURT
        clients = c.get("/counsel/clients", headers=h)
        assert [x["person_id"] for x in clients.json()] == [person]
        nobody = c.get("/persons/P-NOBODY/packet", params={**q, "client": "P-NOBODY"}, headers=h)
        assert nobody.status_code == 404 and "P-NOBODY" in nobody.json()["detail"]
        bad = c.get(f"/persons/{person}/packet", params={**q, "format": "exe"}, headers=h)
        assert bad.status_code == 422


@pytest.mark.browser
def test_a_lawyer_reaches_the_clients_packet_in_three_clicks(packet_app: Any) -> None:
    from playwright.sync_api import sync_playwright
    from test_web import CHROMIUM, Server, shot

    app, person, _ = packet_app
    root = app.users.local("root", "test")
    password = app.users.reset_password(root, "counsel1").secret
    with Server(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(server.url + "/login")
        page.fill("input[name=username]", "counsel1")
        page.fill("input[name=password]", password)
        page.click("#login button[type=submit]")  # the usual purpose: redress
        page.wait_for_load_state("networkidle")
        assert "redress" in page.inner_text("#purpose")
        assert person in page.inner_text("#clients")
        page.click(f"a.client:has-text('{person}')")  # 1
        page.click("#produce")  # 2
        page.wait_for_load_state("networkidle")
        assert "Bates HAB" in page.inner_text("main")
        page.click("#open-html")  # 3
        page.wait_for_load_state("networkidle")
        assert "Evidence packet" in page.inner_text("h1") and person in page.content()
        shot(page, "counsel-packet")
        # someone else's person: not found, with nothing about them
        page.goto(f"{server.url}/client/P-NOBODY")
        assert "Not found" in page.inner_text("main") or "no person" in page.inner_text("main")
        browser.close()
