"""`habeas packet PERSON …` (an evidence packet for counsel or a court), `habeas packet
verify DIR`, `habeas packet rebuild N`, `habeas packet disclosures PERSON` and `habeas
packet clients`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from habeas.app.packets import Produced, parse_as_of
from habeas.cli.access import AsUser, Json, Purpose, acting, refusals
from habeas.cli.context import application, err, out
from habeas.cli.render import emit_json
from habeas.packet.certify import check_folder, write_folder


class PacketGroup(TyperGroup):
    """``habeas packet PERSON …`` is ``habeas packet build PERSON …``: a first word that is
    not a subcommand names the person."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Route a person id to ``build``."""
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["build", *args]
        return super().parse_args(ctx, args)


packet_app = typer.Typer(
    cls=PacketGroup,
    help="Evidence packets: everything behind the decisions about a person, for counsel "
    "and a court (certified, reproducible, Bates-numbered).",
    no_args_is_help=True,
)

commands = typer.Typer()
"""This module's top-level commands (none: the group holds them)."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = ((packet_app, "packet"),)
"""This module's command groups and their names."""

Client = Annotated[
    str, typer.Option(help="Counsel: the client (a person id) you act for.", show_default=False)
]


def _summary(p: Produced, folder: Path) -> dict[str, Any]:
    return {
        "production": p.production_id,
        "person_id": p.person_id,
        "as_of": p.as_of.isoformat(),
        "folder": str(folder),
        "files": sorted(p.files),
        "packet_sha256": p.packet_sha256,
        "pdf_sha256": p.pdf_sha256,
        "manifest_sha256": p.manifest_sha256,
        "bates": p.bates,
        "pages": p.pages,
    }


@packet_app.command("build")
def build(
    person: Annotated[str, typer.Argument(help="The person (id in the index).")],
    out_dir: Annotated[Path, typer.Option("--out", help="A new or empty folder for the files.")],
    recipient: Annotated[str, typer.Option(help="Who receives it (a court, counsel, the person).")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    case: Annotated[int | None, typer.Option("--case", help="Only this case.")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="As the system saw it then: a day or an ISO moment.")
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", help="json, html, pdf (repeat; default: all three)."),
    ] = None,
    bates_prefix: Annotated[str, typer.Option(help="The Bates numbers' prefix.")] = "HAB",
    client: Client = "",
    json_out: Json = False,
) -> None:
    """Produce a packet: packet.json (the single source), packet.html, packet.pdf
    (PDF/A-3b, Bates-numbered, the JSON attached), packet.dat and packet.opt (load files),
    certification.json (signed), manifest.json and manifest.sig. Recorded as a disclosure."""
    app, who = acting(as_user)
    formats = tuple(f.strip().lower() for f in (fmt or ["json", "html", "pdf"]))
    check_folder(out_dir)  # before the production is recorded as a disclosure
    with refusals(err):
        produced = app.packets.produce(
            who,
            purpose,
            person,
            recipient=recipient,
            case_id=case,
            as_of=parse_as_of(as_of),
            formats=formats,
            prefix=bates_prefix,
            client=client,
        )
    write_folder(out_dir, produced.files)
    summary = _summary(produced, out_dir)
    if json_out:
        emit_json(out, summary)
        return
    out.print(
        f"packet of {escape(person)} as of {summary['as_of']}: production "
        f"{produced.production_id}, {len(produced.files)} files in {escape(str(out_dir))}"
    )
    out.print(f"  packet.json sha256 {produced.packet_sha256}")
    if produced.pdf_sha256:
        out.print(f"  packet.pdf  sha256 {produced.pdf_sha256} ({produced.pages} pages)")
        out.print(f"  Bates {produced.bates}")
    out.print(f"  check it: habeas packet verify {escape(str(out_dir))}")


@packet_app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="A packet's folder.")],
    public_key: Annotated[
        Path | None, typer.Option(help="The agency's public key (PEM); default: data dir.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Recompute every file's SHA-256 against the manifest, check the manifest's and the
    certification's signatures and the JSON the PDF carries; name each file that differs
    (exit 4)."""
    check = application().packets.verify(folder, public_key)
    if json_out:
        emit_json(out, check)
    elif check.ok:
        trust = "the trusted key" if check.trusted_key else "its own key (compare its id)"
        out.print(
            f"packet verify OK: {len(check.checked)} checks, signed by key {check.key_id} ({trust})"
        )
    else:
        for problem in check.problems:
            out.print(f"packet verify FAILED: {escape(problem)}", soft_wrap=True)
    if not check.ok:
        raise typer.Exit(code=4)


@packet_app.command("rebuild")
def rebuild(
    production: Annotated[int, typer.Argument(help="The production's number.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write the rebuilt files here too.")
    ] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
    client: Client = "",
    json_out: Json = False,
) -> None:
    """Build an earlier production again, as of its moment, and compare it hash for hash
    with what was recorded then (exit 4 when anything differs)."""
    app, who = acting(as_user)
    if out_dir is not None:
        check_folder(out_dir)
    with refusals(err):
        result = app.packets.rebuild(who, purpose, production, client=client)
    if out_dir is not None:
        write_folder(out_dir, result.produced.files)
    if json_out:
        emit_json(out, {"same": result.same, "differences": result.differences})
    elif result.same:
        out.print(
            f"production {production} rebuilt: identical (packet.json "
            f"{result.produced.packet_sha256[:16]}…, packet.pdf "
            f"{(result.produced.pdf_sha256 or '-')[:16]}…)"
        )
    else:
        for d in result.differences:
            out.print(f"production {production} differs: {escape(d)}")
    if not result.same:
        raise typer.Exit(code=4)


@packet_app.command("disclosures")
def disclosures(
    person: Annotated[str, typer.Argument(help="The person (id in the index).")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    client: Client = "",
    json_out: Json = False,
) -> None:
    """The packets about a person given out: when, to whom, for what purpose, by whom,
    and the records each carried (5 U.S.C. 552a(c))."""
    app, who = acting(as_user)
    with refusals(err):
        rows = app.packets.disclosures(who, purpose, person, client=client)
    if json_out:
        emit_json(out, rows)
        return
    if not rows:
        out.print(f"no packet about {escape(person)} has been given out")
    for d in rows:
        mark = "" if d.verified else " [bold red](record edited: does not carry its seal)[/]"
        out.print(
            f"production {d.production_id}: {d.produced_at:%Y-%m-%d %H:%M} to "
            f"{escape(d.recipient)} ({d.purpose}) by {d.requester} ({d.role}), as of "
            f"{d.as_of.isoformat()}, {len(d.record_ids)} records"
            + (f", Bates {d.bates}" if d.bates else "")
            + mark
        )


@packet_app.command("clients")
def clients(as_user: AsUser = None, purpose: Purpose = None, json_out: Json = False) -> None:
    """Counsel: your clients and the cases you are recorded on."""
    app, who = acting(as_user)
    with refusals(err):
        rows = app.packets.clients(who, purpose)
    if json_out:
        emit_json(out, rows)
        return
    if not rows:
        out.print("no client: no case records you as counsel")
    for c in rows:
        cases = ", ".join(f"{i} ({s})" for i, s in zip(c.case_ids, c.states, strict=True))
        out.print(f"{c.person_id}: cases {cases}")
