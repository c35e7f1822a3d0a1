"""The architecture, checked on the source: the import graph between engine packages has no
cycle, the domain packages use no SQL library, and the web app reaches the engine only
through its service API (engine.services, engine.json_shapes, engine.errors) and the pure parts it shares
(engine.records, engine.statuses, engine.policy).

Every `import` and `from ... import` is read with `ast` (inside functions too, relative
imports resolved); each failure lists the offending imports as file:line.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE, WEBUI = ROOT / "engine", ROOT / "webui"
DOMAIN = ("engine.bpmn", "engine.runtime", "engine.sla", "engine.analytics", "engine.policy", "engine.records",
          "engine.statuses")  # no I/O: no SQL library
SQL_LIBRARIES = ("sqlalchemy", "alembic", "psycopg", "sqlite3")
WEBUI_MAY_IMPORT = ("engine.services", "engine.json_shapes", "engine.errors", "engine.records", "engine.statuses",
                    "engine.policy")
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
    """The engine package (engine.bpmn, ...) or root module (engine.json_shapes, ...) a module is in."""
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
            "engine.connectors", "engine.json_shapes", "engine.errors", "engine.clock"} <= parts
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
                 if within(s, DOMAIN) and within(t, SQL_LIBRARIES)]
    assert not offending, f"SQL imports in the domain packages {', '.join(DOMAIN)}:\n" + report(offending)


def test_the_services_reach_the_database_only_through_the_store():
    """Services open a unit of work and use its repositories and read models; SQL lives in engine.store."""
    offending = [(s, t, w) for s, t, w in edges(ENGINE) if within(s, ("engine.services",)) and within(t, SQL_LIBRARIES)]
    assert not offending, "SQL library imports in engine/services (move the SQL into engine/store):\n" + report(
        offending)


def private_uses(path: Path) -> list[tuple[str, str]]:
    """(name, "file:line") for each private name of another bankflow module this file uses: `from m import _x`,
    or `m._x` where `m` is an imported bankflow module. Dunder names are public."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = module_name(path)
    where = lambda node: f"{path.relative_to(ROOT)}:{node.lineno}"  # noqa: E731
    private = lambda name: name.startswith("_") and not name.startswith("__")  # noqa: E731
    modules: dict[str, str] = {}  # local name -> bankflow module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(("engine", "webui")):
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom):
            target = dict((t, line) for t, line in imports_of_node(path, node))
            for alias in node.names:
                if private(alias.name) and any(t.startswith(("engine", "webui")) and t != own for t in target):
                    found.append((alias.name, where(node)))
                elif any(t.endswith("." + alias.name) for t in target):
                    modules[alias.asname or alias.name] = next(t for t in target if t.endswith("." + alias.name))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and private(node.attr) and modules[node.value.id] != own):
            found.append((f"{node.value.id}.{node.attr}", where(node)))
    return found


def imports_of_node(path: Path, node: ast.ImportFrom) -> list[tuple[str, int]]:
    """What one `from ... import` statement imports (see `imports`)."""
    module = ast.Module(body=[node], type_ignores=[])
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    base = (".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([node.module] if node.module
                                                                                      else []))
            if node.level else node.module)
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        is_module = candidate.startswith(("engine", "webui")) and any(
            (ROOT / Path(*candidate.split("."))).with_suffix(suffix).exists() for suffix in (".py", ""))
        found.append((candidate if is_module else base, node.lineno))
    del module
    return found


def test_no_module_uses_another_modules_private_names():
    """A leading underscore means "only this module relies on it": shared helpers are made public in their
    right home instead of being reached into."""
    offending = [f"  {name}  ({where})" for folder in (ENGINE, WEBUI) for path in sorted(folder.rglob("*.py"))
                 for name, where in private_uses(path)]
    assert not offending, "private names used across modules:\n" + "\n".join(offending)


def test_no_import_cycle_between_modules():
    """Not even one hidden by an import inside a function: each such import is a cycle waiting for a
    module-level import to close it."""
    graph: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for folder in (ENGINE, WEBUI):
        for source, target, line in edges(folder):
            if target.startswith(("engine", "webui")) and source != target:
                graph[source].add(target)
                where.setdefault((source, target), line)
    lines = []
    for component in cycles(graph):
        lines.append(f"cycle between {', '.join(component)}:")
        lines += [f"  {a} -> {b}  ({where[(a, b)]})" for a in component for b in component if (a, b) in where]
    assert not lines, "import cycles between modules:\n" + "\n".join(lines)


def test_the_web_app_uses_only_the_service_api():
    offending = [(s, t, w) for s, t, w in edges(WEBUI)
                 if within(t, WEBUI_MAY_NOT_IMPORT) or (within(t, ("engine",)) and not within(t, WEBUI_MAY_IMPORT))]
    assert not offending, ("webui/ may import from the engine only engine.services*, engine.json_shapes, engine.errors, "
                           "engine.records, engine.statuses and engine.policy (never engine.store, engine.runtime "
                           "or SpiffWorkflow):\n" + report(offending))
