"""Terminal output that data cannot take over.

Values come from files anyone may have written: a quarantined value holding ``ESC [2J``
or an OSC sequence would repaint the screen or retitle the window if printed raw.
``SafeConsole`` escapes every control character (C0, DEL, C1) and the bidirectional
overrides in the *text* it renders, while Rich's own styling, which travels outside the
text, still works.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (tab and newline aside) and the bidirectional overrides."""


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``)."""
    return CONTROL.sub(_escaped, text)


class SafeConsole(Console):
    """A Rich console whose rendered text never carries a control character of its own."""

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
        for seg in super().render(renderable, options):
            if seg.control is None and CONTROL.search(seg.text):
                yield Segment(clean(seg.text), seg.style, None)
            else:
                yield seg
