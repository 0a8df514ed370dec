"""A packet's renderings, from its JSON and nothing else: the HTML (Jinja2, one file, no
script), the PDF/A-3b (Typst, fonts bundled, a Bates number on every page, the JSON
attached), and the load files e-discovery platforms read (Concordance DAT, Opticon OPT).

The PDF is byte-identical on rebuild: a fixed timestamp (the packet's moment), Typst's own
fonts only, and the same inputs.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from habeas.errors import HabeasError

TEMPLATES = Path(str(resources.files("habeas.packet") / "templates"))

WIDTH = 7
"""Digits of a Bates number (zero-padded after the prefix)."""


@dataclass(frozen=True)
class Exhibit:
    """A document the packet cites, with its place among the exhibits."""

    label: str
    id: str
    case_id: int
    sha256: str
    name: str
    size: int
    added_by: str
    content: bytes

    def kind(self) -> tuple[str, str]:
        """How it is rendered (text, image, or attached whole) and its MIME type."""
        head = self.content[:8]
        if head.startswith(b"%PDF"):
            return "attached", "application/pdf"
        if head.startswith(b"\x89PNG"):
            return "image", "image/png"
        if head.startswith(b"\xff\xd8\xff"):
            return "image", "image/jpeg"
        try:
            text = self.content.decode("utf-8")
        except UnicodeDecodeError:
            return "attached", "application/octet-stream"
        if any(ord(c) < 9 for c in text):
            return "attached", "application/octet-stream"
        return "text", "text/plain"


def bates(prefix: str, number: int) -> str:
    """A Bates number: the prefix and the zero-padded number."""
    return f"{prefix}{number:0{WIDTH}d}"


def typst_version() -> str:
    """The renderer's version (named in the certification)."""
    from importlib.metadata import version

    return version("typst")


def render_pdf(
    packet: bytes, certification: bytes, exhibits: list[Exhibit], prefix: str, start: int
) -> bytes:
    """The PDF/A-3b, Bates-numbered from ``start``; the JSON attached as its source."""
    import typst

    moment = json.loads(packet)["as_of"]
    stamp = datetime.fromisoformat(moment)
    with tempfile.TemporaryDirectory(prefix="habeas-packet-") as tmp:
        root = Path(tmp)
        (root / "main.typ").write_text((TEMPLATES / "packet.typ").read_text(), encoding="utf-8")
        (root / "packet.json").write_bytes(packet)
        (root / "certification.json").write_bytes(certification)
        listed = []
        (root / "exhibits").mkdir()
        for x in exhibits:
            kind, mime = x.kind()
            path = f"exhibits/{x.sha256}"
            (root / path).write_bytes(x.content)
            listed.append(
                {
                    "label": x.label,
                    "id": x.id,
                    "case_id": x.case_id,
                    "sha256": x.sha256,
                    "name": x.name,
                    "size": x.size,
                    "added_by": x.added_by,
                    "kind": kind,
                    "mime": mime,
                    "path": path,
                    "attach": kind == "attached",
                }
            )
        (root / "exhibits.json").write_text(json.dumps(listed), encoding="utf-8")
        try:
            pdf: bytes = typst.compile(
                str(root / "main.typ"),
                root=str(root),
                ignore_system_fonts=True,
                pdf_standards="a-3b",
                timestamp=int(stamp.timestamp()) if stamp.tzinfo else _utc_seconds(stamp),
                sys_inputs={"bates_prefix": prefix, "bates_start": str(start)},
            )
        except RuntimeError as exc:
            raise HabeasError(f"the packet's PDF could not be rendered: {exc}") from None
    return pdf


def _utc_seconds(naive: datetime) -> int:
    return math.floor(naive.replace(tzinfo=UTC).timestamp())


def page_count(pdf: bytes) -> int:
    """How many pages a PDF has."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def waterfall_svg(w: dict[str, Any], width: int = 360, row: int = 16) -> dict[str, Any]:
    """A cumulative waterfall's geometry for the HTML's inline SVG: one bar per step from
    the running sum before it to the sum after it, the prior first and the total last."""
    points: list[float] = [
        0.0,
        w["prior_weight"],
        *(b["cumulative"] for b in w["bars"]),
        w["match_weight"],
    ]
    lo, hi = min(points), max(points)
    span = max(hi - lo, 1.0)

    def x(v: float) -> float:
        return round((v - lo) / span * width, 2)

    bars = [{"label": "prior", "from": 0.0, "to": w["prior_weight"], "kind": "prior"}]
    before = w["prior_weight"]
    for b in w["bars"]:
        kind = "up" if b["cumulative"] >= before else "down"
        bars.append({"label": b["comparison"], "from": before, "to": b["cumulative"], "kind": kind})
        before = b["cumulative"]
    bars.append({"label": "final", "from": 0.0, "to": w["match_weight"], "kind": "total"})
    shapes = []
    for i, b in enumerate(bars):
        left, right = sorted((x(b["from"]), x(b["to"])))
        shapes.append(
            {
                "y": i * row,
                "x": left,
                "w": max(right - left, 1.0),
                "kind": b["kind"],
                "label": b["label"],
                "value": round(b["to"] - b["from"], 3),
            }
        )
    return {"width": width, "height": len(bars) * row, "zero": x(0.0), "bars": shapes}


def render_html(packet: dict[str, Any], certification: dict[str, Any]) -> bytes:
    """The packet as one HTML page (no script, no outside asset)."""
    charts = {
        link["id"]: waterfall_svg(link["waterfall"])
        for link in packet["links"]
        if link.get("waterfall")
    }
    text = _ENV.get_template("packet.html").render(p=packet, cert=certification, charts=charts)
    return text.encode("utf-8")


def load_files(
    prefix: str, begin: int, pages: int, pdf_sha256: str, packet_id: str
) -> tuple[bytes, bytes]:
    """The Concordance DAT (one document: BEGBATES, ENDBATES, page count, hash) and the
    Opticon OPT (one row per page, the first marking the document break)."""
    end = begin + pages - 1
    q, d = "\u00fe", "\u0014"  # Concordance's quote (þ) and field delimiter (DC4)
    fields = ["BEGBATES", "ENDBATES", "PGCOUNT", "SHA256", "DOCID", "FILENAME"]
    values = [bates(prefix, begin), bates(prefix, end), str(pages), pdf_sha256, packet_id]
    values.append("packet.pdf")
    header = d.join(f"{q}{f}{q}" for f in fields)
    row = d.join(f"{q}{v}{q}" for v in values)
    dat = (header + "\r\n" + row + "\r\n").encode("utf-8")
    lines = []
    for i in range(pages):
        first = "Y" if i == 0 else ""
        count = str(pages) if i == 0 else ""
        lines.append(f"{bates(prefix, begin + i)},PACKET,packet.pdf,{first},,,{count}")
    opt = ("\r\n".join(lines) + "\r\n").encode("ascii")
    return dat, opt
