"""What habeas writes cannot be turned against its reader: control sequences from a
quarantined value never reach the terminal, a CSV cell never reaches a spreadsheet as a
formula, a look-alike account name is refused, a YAML bomb is refused unexpanded."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from pathlib import Path

import pytest

from habeas.app import Habeas
from habeas.cli import render
from habeas.cli.console import SafeConsole, clean
from habeas.errors import AccessDenied, HabeasError
from habeas.prioritize.policy import load_policy
from habeas.resolve.export import export_clusters
from habeas.sources.quarantine import QuarantinedRow
from habeas.store.staging import StagingStore

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\u202eevil\x9b[1m[link=http://x.test]click[/link]"


@pytest.mark.parametrize("terminal", [True, False])
def test_a_quarantined_value_cannot_repaint_the_terminal(terminal: bool) -> None:
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=terminal, width=200)
    row = QuarantinedRow("s", "f.csv", 3, "name", HOSTILE, "control-character", HOSTILE)
    render.quarantine(console, [row], 1)
    console.print(f"error: {HOSTILE}", markup=False)
    shown = buffer.getvalue()
    for sequence in ("\x1b]", "\x1b[2J", "\x1b[31mred", "\x07", "\x9b", "\u202e", "]8;"):
        assert sequence not in shown
    assert "\\x1b" in shown and "owned" in shown  # shown, escaped, not obeyed
    if not terminal:
        assert "\x1b" not in shown


def test_clean_escapes_every_control_character() -> None:
    assert clean("a\x00b\x1bc\td\ne\x7f\x85") == "a\\x00b\\x1bc\td\ne\\x7f\\x85"


def test_a_csv_export_never_hands_a_spreadsheet_a_formula(
    index: StagingStore, tmp_path: Path
) -> None:
    keys = ['=HYPERLINK("http://x.test","a")', "+SUM(A1:A9)", "@SUM(1)", "-2+3", "\tx"]
    ids = [r[0] for r in index.rows("SELECT record_id FROM person_records ORDER BY 1 LIMIT 5")]
    for rid, key in zip(ids, keys, strict=True):
        index.con.execute("UPDATE records SET source_key = ? WHERE record_id = ?", [key, rid])
    out = tmp_path / "clusters.csv"
    export_clusters(index, out)
    with out.open(encoding="utf-8", newline="") as fh:
        cells = {r["record_id"]: r["source_key"] for r in csv.DictReader(fh)}
    for rid, key in zip(ids, keys, strict=True):
        assert cells[rid] == "'" + key
    assert all(v[:1] not in "=+-@\t\r" for v in cells.values() if v)


@pytest.mark.parametrize("name", ["Off1", "OFF1", "\u043eff1", "0ff1", "of_f1", "ｏff1"])
def test_look_alike_account_names_are_refused(indexed_app: Habeas, name: str) -> None:
    app = indexed_app
    root = app.users.local("root", "test")
    app.users.add(root, "off1", "case_officer")
    with pytest.raises(HabeasError, match=r"too like|ASCII"):
        app.users.add(root, name, "case_officer")


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(HabeasError, match="aliases"):
        load_policy(bomb)
    assert time.monotonic() - started < 5
    with pytest.raises(HabeasError, match="system file"):
        load_policy(Path("/dev/zero"))


def test_quarantine_is_purged_after_its_retention(indexed_app: Habeas) -> None:
    app = indexed_app
    with app.staging() as st:
        total = st.scalar("SELECT count(*) FROM quarantine")
        last = st.scalar("SELECT max(retain_until) FROM quarantine")
    assert total and last
    with pytest.raises(AccessDenied):
        app.pipeline.purge_quarantine(app.users.local("officer1", "test"), "case_review", last)
    eng = app.users.local("eng1", "test")
    assert app.pipeline.purge_quarantine(eng, "identity_resolution", date(2000, 1, 1)) == {}
    purged = app.pipeline.purge_quarantine(
        eng, "identity_resolution", date.fromordinal(last.toordinal() + 1)
    )
    assert sum(purged.values()) == total
    with app.staging() as st:
        assert st.scalar("SELECT count(*) FROM quarantine") == 0


def test_a_case_id_beyond_64_bits_is_no_case(indexed_app: Habeas) -> None:
    app = indexed_app
    with pytest.raises(HabeasError, match="no case"):
        app.cases.show(app.users.local("officer1", "test"), "case_review", 2**70, date.today())


def test_counsel_lists_and_reads_their_own_clients_case_only(indexed_app: Habeas) -> None:
    from test_app import _ids

    app = indexed_app
    pid, _, _, case_id = _ids(app)
    officer = app.users.local("officer1", "test")
    app.cases.counsel(officer, "case_review", case_id, "counsel1")
    counsel = app.users.local("counsel1", "test")
    listed = app.cases.list_cases(counsel, "redress", client=pid)
    assert [c.id for c in listed.cases] == [case_id]
    assert app.cases.show(counsel, "redress", case_id, date.today(), client=pid)
    with pytest.raises(AccessDenied):
        app.cases.list_cases(counsel, "redress")  # without naming a client: nothing to read
    assert app.cases.list_cases(counsel, "redress", client="P0000000000").cases == []


def test_a_counsel_written_into_the_store_by_hand_reads_nothing(indexed_app: Habeas) -> None:
    """Someone with write access to the store names their own counsel account on a case:
    the row no longer carries its seal, so the counsel is not believed, and audit verify
    names the row."""
    from sqlalchemy import create_engine, text
    from test_app import _ids

    app = indexed_app
    pid, _, _, case_id = _ids(app)
    raw = create_engine(app.settings.operational_url)
    with raw.begin() as conn:
        conn.execute(text("UPDATE cases SET counsel = 'counsel1' WHERE id = :c"), {"c": case_id})
    raw.dispose()
    counsel = app.users.local("counsel1", "test")
    assert app.cases.list_cases(counsel, "redress", client=pid).cases == []
    with pytest.raises(HabeasError):
        app.cases.show(counsel, "redress", case_id, date.today(), client=pid)
    v, _ = app.audit.verify()
    assert not v.ok and "(counsel counsel1)" in (v.history_problem or "")


def test_the_quarantine_is_read_by_intake_and_oversight_not_by_case_work(
    indexed_app: Habeas,
) -> None:
    """Quarantined rows are raw values as they arrived: a case officer may not list them
    (for any purpose), the engineers who run intake and oversight may; a refusal is
    audited."""
    from habeas.errors import AccessDenied
    from habeas.governance.authz import PURPOSES

    app = indexed_app
    for purpose in PURPOSES:
        with pytest.raises(AccessDenied, match="may not read the quarantine"):
            app.pipeline.quarantine(app.users.local("officer1", "t"), purpose)
    assert app.pipeline.quarantine(app.users.local("eng1", "t"), "identity_resolution").total
    assert app.pipeline.quarantine(app.users.local("ig1", "t"), "oversight").total
    from habeas.governance.audit_access import AuditFilter

    last = app.audit.show(
        app.users.local("ig1", "t"), "oversight", AuditFilter(user="officer1", limit=500)
    )
    assert any(
        e.action == "quarantine_list" and e.decision == "deny" and e.user == "officer1"
        for e in last
    )
