"""Setting up field offices, their teams and who works in them (administrators)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from habeas.app.field.schemas import OfficeIn
from habeas.errors import HabeasError, NotFound
from habeas.field import queries
from habeas.governance.identity import require_directory
from habeas.store.models import FieldMember, FieldOffice, FieldTeam

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal


class SetUp:
    """Use cases: field offices and teams."""

    app: Habeas

    def set_up(
        self,
        principal: Principal | None,
        offices: list[dict[str, Any]],
        members: dict[str, tuple[str, str | None]],
    ) -> int:
        """Create or replace field offices with their teams, and place accounts in them
        (``members``: username → (office, team or None)); administrators only."""
        parsed = []
        for i, o in enumerate(offices, start=1):
            try:
                parsed.append(OfficeIn.model_validate(o))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"]) or "(the office)"
                raise HabeasError(f"office {i}: {where}: {first['msg']}") from None
        offices = [o.model_dump() for o in parsed]
        with self.app.work(principal, "oversight", "field_set_up", write=True) as w:
            require_directory(w.session, w.ctx, "field_set_up")
            for o in offices:
                states = sorted({s.strip().upper() for s in o["states"]})
                if not states or not all(re.fullmatch(r"[A-Z]{2}", s) for s in states):
                    raise HabeasError(f"office {o['code']}: states are two-letter codes")
                w.session.merge(
                    FieldOffice(code=o["code"], name=o["name"], states=",".join(states))
                )
                for t in o["teams"]:
                    if not 0 <= t["shift_start"] < t["shift_end"] <= 24 * 60:
                        raise HabeasError(f"team {t['code']}: the shift must fall within a day")
                    w.session.merge(FieldTeam(office=o["code"], **t))
            w.session.flush()
            for username, (office, team) in members.items():
                user = queries.account(w.session, username)
                if user is None:
                    raise NotFound(f"no account {username}")
                if team is not None:
                    t = queries.team(w.session, team)
                    if t is None or t.office != office:
                        raise HabeasError(f"team {team} is not a team of office {office}")
                if user.role not in ("supervisor", "field_officer"):
                    raise HabeasError(
                        f"{username} is a {user.role}: only supervisors and "
                        "field officers work in a field office"
                    )
                w.session.merge(FieldMember(username=username, office=office, team=team))
            w.done(f"{len(offices)} office(s), {len(members)} member(s)")
            return len(offices)
