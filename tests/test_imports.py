"""Import boundaries: the lower layers load no HTTP framework; no import cycle between hub/ packages."""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

# Modules below the API: services, engines and guards raise HubErrors but must not need Flask.
NO_HTTP = ["hub.errors", "hub.context", "hub.sessions.engine", "hub.sessions.jids", "hub.urlguard",
           "hub.egress"]


def test_lower_layers_import_no_http_framework():
    probe = ("import sys\n" + "".join(f"import {name}\n" for name in NO_HTTP)
             + "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'flask_openapi3'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


# -- no import cycle between hub/ packages --------------------------------------------------------
# The graph is built from the source with ast: one node per package under hub/ (hub.sessions) or per
# top-level module (hub.app). Function-level imports count (a lazy import hides a cycle, it does not
# remove the dependency); imports under `if TYPE_CHECKING:` do not (they never run).
HUB = Path(__file__).resolve().parent.parent / "hub"


def node_of(module: str) -> str:
    """hub.sessions.manager -> hub.sessions; hub.app -> hub.app."""
    return ".".join(module.split(".")[:2])


def imported_modules(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """(imported hub module, line) of every import in the file, outside TYPE_CHECKING blocks."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in walk_outside_type_checking(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            if base == "hub":  # from hub import auth: the module hub.auth
                yield from ((f"hub.{alias.name}", node.lineno) for alias in node.names)
            else:
                yield base, node.lineno


def walk_outside_type_checking(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                yield child
                yield from walk_outside_type_checking(child)
            continue
        yield node
        yield from walk_outside_type_checking(node)


def import_graph() -> dict[str, dict[str, str]]:
    """{node: {imported node: "file:line" of one such import}} between different hub/ nodes."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(HUB.rglob("*.py")):
        module = ".".join(path.relative_to(HUB.parent).with_suffix("").parts).removesuffix(".__init__")
        source = node_of(module)
        for imported, line in imported_modules(path, module):
            target = node_of(imported)
            if imported.startswith("hub.") and target != source:
                graph.setdefault(source, {}).setdefault(target, f"{path.relative_to(HUB.parent)}:{line}")
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in graph.get(node, {}):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target, path + [target])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_no_import_cycle_between_hub_packages():
    graph = import_graph()
    cycle = find_cycle(graph)
    hops = [f"{a} -> {b} ({graph[a][b]})" for a, b in pairwise(cycle)] if cycle else []
    assert cycle is None, "import cycle: " + "; ".join(hops)


def test_the_cycle_check_sees_lazy_imports_and_ignores_type_checking():
    graph = import_graph()
    assert "hub.ws" in graph["hub.app"]  # only create_app imports it, inside the function
    assert "hub.sessions" not in graph.get("hub.context", {})  # annotations only
    assert find_cycle({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ""}, "b": {}}) is None
