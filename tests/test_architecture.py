"""The shape of the code, checked from its imports: areas form no cycle, no module reaches
into another's private names, no import hides in a function body, the edges stay thin,
the sign-in cookie is set in one place, and the architecture document's diagram is the
import graph."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "habeas"
EDGES_DIR = ("api", "web", "cli")
LONGEST = 60
"""The longest function an edge (api, web, cli) may hold, in lines."""
KERNEL = frozenset({"errors", "ids", "settings", "logs", "follow_ups"})
"""Modules every area may use; they use only each other."""


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def area(module: str) -> str:
    """A module's area: its top-level package under habeas (migrations, which alembic loads
    by path and which may read any area, are their own)."""
    if module.startswith("habeas.store.migrations"):
        return "migrations"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "habeas"


def _type_checking(parents: list[ast.AST]) -> bool:
    return any(isinstance(p, ast.If) and "TYPE_CHECKING" in ast.unparse(p.test) for p in parents)


def imports() -> list[tuple[str, str, bool, ast.AST]]:
    """Every runtime import of a habeas module: (importer, imported, in a function, node)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module(path)
        stack: list[tuple[ast.AST, list[ast.AST]]] = [(ast.parse(path.read_text()), [])]
        while stack:
            node, parents = stack.pop()
            stack.extend((c, [*parents, node]) for c in ast.iter_child_nodes(node))
            if not isinstance(node, ast.Import | ast.ImportFrom) or _type_checking(parents):
                continue
            if isinstance(node, ast.ImportFrom):
                targets = [node.module or ""] if not node.level else []
                targets += [f"{node.module}.{a.name}" for a in node.names if node.module]
            else:
                targets = [a.name for a in node.names]
            in_function = any(
                isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef) for p in parents
            )
            for t in targets:
                if t == "habeas" or t.startswith("habeas."):
                    found.append((module, t, in_function, node))
    return found


def area_graph() -> dict[str, set[str]]:
    """Area → the areas it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported, _, _ in imports():
        a, b = area(importer), area(imported)
        if a != b and b != "habeas":
            graph[a].add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one area (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_areas_form_no_cycle() -> None:
    graph = area_graph()
    assert graph["cases"], "the graph is empty: the walk found no imports"
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_hides_in_a_function_body() -> None:
    hidden = [
        f"{importer} imports {imported} inside a function (line {node.lineno})"  # type: ignore[attr-defined]
        for importer, imported, in_function, node in imports()
        if in_function and area(importer) != "migrations"
    ]
    assert hidden == []


def test_no_module_reaches_into_another_s_private_names() -> None:
    private = [
        f"{importer} imports {imported}"
        for importer, imported, _, _ in imports()
        if imported.rsplit(".", 1)[-1].startswith("_") and not imported.endswith("__")
    ]
    reached = [
        f"{path.relative_to(ROOT)}: {m.group()}"
        for path in SRC.rglob("*.py")
        for m in re.finditer(r"\.app\.\w+\._[a-z]\w*", path.read_text())
    ]
    assert private == [] and reached == []


def test_edges_hold_no_long_function() -> None:
    long = []
    for edge in EDGES_DIR:
        for path in sorted((SRC / edge).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > LONGEST:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {lines}")
    assert long == []


def test_the_session_cookie_is_set_in_one_place() -> None:
    setters = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if re.search(r"set_cookie\(\s*(SESSION_COOKIE|name)", path.read_text())
        or "max_age=8 * 3600" in path.read_text()
    ]
    assert setters == ["api/auth.py"]


def test_follow_ups_are_registered_in_their_order() -> None:
    from habeas.app import wiring
    from habeas.cases.follow_ups import AFTER_STEP
    from habeas.resolve.publish import AFTER_PUBLISH

    wiring.install()
    wiring.install()  # idempotent
    assert AFTER_STEP.names() == [
        "custody: end the open placement",
        "field: settle open assignments",
    ]
    assert AFTER_PUBLISH.names() == [
        "cases: re-score where facts changed",
        "field: cancel assignments of flagged people",
    ]


def test_a_follow_up_list_with_nothing_registered_refuses() -> None:
    import pytest

    from habeas.errors import HabeasError
    from habeas.follow_ups import FollowUps

    with pytest.raises(HabeasError, match="no follow-ups are registered after a test"):
        FollowUps[int]("a test").run(1)


def diagram_edges(text: str) -> set[tuple[str, str]]:
    """The edges of the architecture document's area diagram (a mermaid block)."""
    block = re.search(r"```mermaid\n(graph [^\n]*\n(?:.*\n)*?)```", text)
    assert block, "docs/architecture.md has no mermaid diagram of the areas"
    return set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", block.group(1), re.M))


def test_the_kernel_uses_only_the_kernel() -> None:
    graph = area_graph()
    assert {(a, b) for a in KERNEL for b in graph.get(a, ()) if b not in KERNEL} == set()


def drawn_graph() -> set[tuple[str, str]]:
    """The edges the diagram should draw: every import between areas, the kernel aside."""
    return {
        (a, b)
        for a, targets in area_graph().items()
        for b in targets
        if a not in KERNEL | {"__main__"} and b not in KERNEL
    }


def mermaid() -> str:
    """The diagram's block as it should read."""
    edges = "".join(f"  {a} --> {b}\n" for a, b in sorted(drawn_graph()))
    return f"```mermaid\ngraph TD\n{edges}```\n"


def test_the_architecture_diagram_is_the_import_graph() -> None:
    actual = drawn_graph()
    drawn = diagram_edges((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    fix = "; redraw it: python tests/test_architecture.py"
    assert drawn - actual == set(), "the diagram draws imports the code does not make" + fix
    assert actual - drawn == set(), "the code makes imports the diagram does not draw" + fix


if __name__ == "__main__":  # redraw the diagram in docs/architecture.md
    doc = ROOT / "docs" / "architecture.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(
        re.sub(r"```mermaid\ngraph TD\n(?:.*\n)*?```\n", lambda _: mermaid(), text, count=1),
        encoding="utf-8",
    )


def test_every_use_case_of_every_facade_leaves_through_the_masking_exit() -> None:
    import inspect

    from habeas.app.core import Habeas
    from habeas.governance.disclosure import is_disclosed
    from habeas.settings import Settings

    app = Habeas(Settings(data_dir=ROOT / "no-such-dir"))  # nothing opens until first use
    facades = {n: f for n, f in vars(app).items() if hasattr(f, "app") and f.app is app}
    assert {"users", "pipeline", "index", "cases", "custody", "field", "audit", "monitor"} <= set(
        facades
    )
    bare = [
        f"{name}.{method}"
        for name, f in facades.items()
        for method in dir(type(f))
        if not method.startswith("_")
        and inspect.isfunction(inspect.getattr_static(type(f), method))
        and not is_disclosed(inspect.getattr_static(type(f), method))
    ]
    assert bare == []
    # the use-case groups a facade is built of are covered too
    assert is_disclosed(inspect.getattr_static(type(app.field), "planner"))
    assert is_disclosed(inspect.getattr_static(type(app.index), "search"))


def test_use_cases_read_the_day_from_the_application_s_clock(app_on: Any) -> None:
    from datetime import date, datetime

    import pytest

    from habeas.app.core import Habeas
    from habeas.errors import HabeasError

    class Fixed:
        def today(self) -> date:
            return date(2030, 1, 2)

        def now(self) -> datetime:
            return datetime(2030, 1, 2, 9, 0)

    app = Habeas(app_on.settings, clock=Fixed())
    assert app.today() == date(2030, 1, 2)
    supervisor = app.users.local("super1", "test")
    with pytest.raises(HabeasError, match="today to 14 days ahead, not 2030-01-20"):
        app.field.assign(supervisor, "field_operation", [1], "NE-1", date(2030, 1, 20))
    # within the clock's window the day passes; the case (there is none) is refused alone
    report = app.field.assign(supervisor, "field_operation", [1], "NE-1", date(2030, 1, 3))
    assert report.assigned == [] and [r.case_id for r in report.refused] == [1]
    app.close()


def test_the_application_layer_holds_no_sql() -> None:
    """Use cases call a domain or query function; the SQL lives in the areas below."""
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((SRC / "app").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\b(select|insert|update|delete|text)\(|\.execute\(", line)
    ]
    assert found == []
