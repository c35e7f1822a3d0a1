"""The architecture, checked on the source: the import graph between engine packages has no
cycle, the domain packages use no SQL library, and the web app reaches the engine only
through its service API (engine.services, engine.views, engine.errors).

Every `import` and `from ... import` is read with `ast` (inside functions too, relative
imports resolved); each failure lists the offending imports as file:line.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE, WEBUI = ROOT / "engine", ROOT / "webui"
DOMAIN = ("engine.bpmn", "engine.runtime", "engine.sla")  # no I/O: no SQL library
WEBUI_MAY_IMPORT = ("engine.services", "engine.views", "engine.errors")
WEBUI_MAY_NOT_IMPORT = ("engine.store", "engine.runtime", "SpiffWorkflow")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file; `from a import b` gives a.b when
    a.b is a module of this repository, else a."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                is_module = any((ROOT / Path(*candidate.split("."))).with_suffix(suffix).exists()
                                for suffix in (".py", "")) if candidate.startswith(("engine", "webui")) else False
                found.append((candidate if is_module else target, node.lineno))
    return found


def edges(folder: Path) -> list[tuple[str, str, str]]:
    """(importing module, imported module, "file:line") for every import under `folder`."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        source = module_name(path)
        for target, line in imports(path):
            edge = (source, target, f"{path.relative_to(ROOT)}:{line}")
            if edge not in found:  # `from a import b, c` is one edge
                found.append(edge)
    return found


def engine_part(module: str) -> str | None:
    """The engine package (engine.bpmn, ...) or root module (engine.views, ...) a module is in."""
    parts = module.split(".")
    if parts[0] != "engine" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def report(offending: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"  {source} -> {target}  ({where})" for source, target, where in offending)


def test_the_graph_is_read():
    """A guard for the checks below: the walk finds the packages and their imports."""
    parts = {engine_part(source) for source, _, _ in edges(ENGINE)}
    assert {"engine.bpmn", "engine.runtime", "engine.sla", "engine.store", "engine.services",
            "engine.connectors", "engine.views", "engine.errors", "engine.clock"} <= parts
    assert any(target.startswith("engine.services") for _, target, _ in edges(WEBUI))


def test_no_import_cycle_between_engine_packages():
    by_pair: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for source, target, where in edges(ENGINE):
        a, b = engine_part(source), engine_part(target)
        if a and b and a != b:
            by_pair[(a, b)].append((source, target, where))
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in by_pair:
        graph[a].add(b)
    found = cycles(graph)
    lines = []
    for component in found:  # every package-level edge inside a strongly connected component is on a cycle
        lines.append(f"cycle between {', '.join(component)}:")
        for a in component:
            for b in component:
                if (a, b) in by_pair:
                    lines.append(f" {a} -> {b}:\n" + report(by_pair[(a, b)]))
    assert not found, "import cycles between engine packages:\n" + "\n".join(lines)


def test_the_domain_packages_import_no_sql_library():
    offending = [(s, t, w) for s, t, w in edges(ENGINE)
                 if within(s, DOMAIN) and within(t, ("sqlalchemy", "alembic", "psycopg", "sqlite3"))]
    assert not offending, "SQL imports in engine/bpmn, engine/runtime or engine/sla:\n" + report(offending)


def test_the_web_app_uses_only_the_service_api():
    offending = [(s, t, w) for s, t, w in edges(WEBUI)
                 if within(t, WEBUI_MAY_NOT_IMPORT) or (within(t, ("engine",)) and not within(t, WEBUI_MAY_IMPORT))]
    assert not offending, ("webui/ may import from the engine only engine.services*, engine.views and "
                           "engine.errors (never engine.store, engine.runtime or SpiffWorkflow):\n" + report(offending))
