"""The structure between modules, as specifications (docs/architecture.md).

The app layers and "domain modules never import interface modules" are import-linter contracts
in pyproject.toml (`lint-imports` runs first in `make test`). These tests add what a contract
cannot say: no import cycles at all, no function-local imports dodging one, no `_private` names
borrowed from another module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["evently", "venues", "events", "ticketing", "checkin"]

# TEMPORARY: known offenders in files the lead is refactoring at the same time (issue 10, the
# seat-state half). Entries are "module" (cycles: any module of the cycle), "module:line" (local
# imports) or "module:name" (private imports). The lead empties this list when merging.
LEAD_OWNED_PENDING: set[str] = set()


def project_modules() -> dict[str, Path]:
    """Module name → file, for every non-test, non-migration module of the project."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or path.name.startswith("test_") or "tests" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def is_project_module(name: str | None) -> bool:
    return bool(name) and name.split(".")[0] in PACKAGES


def strongly_connected_components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the module graph is deep enough to matter)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = lowlink[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def test_no_import_cycles_among_project_modules():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    considered = set(project_modules())
    edges = {module: {imported for imported in graph.find_modules_directly_imported_by(module)
                      if imported in considered}
             for module in considered if module in graph.modules}
    cycles = [sorted(component) for component in strongly_connected_components(edges) if len(component) > 1]
    cycles = [cycle for cycle in cycles if not set(cycle) & LEAD_OWNED_PENDING]
    assert cycles == []


def local_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of project imports below module level, outside `if TYPE_CHECKING:` and
    outside an AppConfig's `ready()` (Django loads apps.py before any model exists)."""
    found = []

    def visit(node, depth: int, in_ready: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and depth and not in_ready:
                names = [alias.name for alias in child.names] if isinstance(child, ast.Import) else [child.module]
                if child.__class__ is ast.ImportFrom and child.level:
                    names = ["relative"]
                found.extend((child.lineno, name) for name in names if name == "relative" or is_project_module(name))
            is_function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, depth + (1 if is_function or isinstance(child, ast.ClassDef) else 0),
                  in_ready or (isinstance(child, ast.FunctionDef) and child.name == "ready"))

    visit(tree, 0, False)
    return found


def test_no_function_local_imports_of_project_modules():
    offenders = []
    for module, path in project_modules().items():
        for line, imported in local_imports(ast.parse(path.read_text(), str(path))):
            if f"{module}:{line}" not in LEAD_OWNED_PENDING and module not in LEAD_OWNED_PENDING:
                offenders.append(f"{module}:{line} imports {imported}")
    assert offenders == []


def test_no_private_names_imported_from_another_module():
    offenders = []
    for module, path in project_modules().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and is_project_module(node.module) and node.module != module:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__") \
                            and f"{module}:{alias.name}" not in LEAD_OWNED_PENDING:
                        offenders.append(f"{module} imports {alias.name} from {node.module}")
    assert offenders == []


def test_the_checks_catch_what_they_look_for():
    """The scanners themselves: a local import and a cycle are found, a TYPE_CHECKING import and ready() are not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ticketing.models import Booking\n"
        "def f():\n    from events.models import Event\n"
        "class C:\n    def ready(self):\n        from checkin.signals import signals_connect\n"
    )
    assert local_imports(ast.parse(source)) == [(5, "events.models")]
    assert sorted(map(sorted, strongly_connected_components({"a": {"b"}, "b": {"a"}, "c": {"a"}}))) == [
        ["a", "b"], ["c"]]
