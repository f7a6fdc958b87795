"""The package's folders are its layers: each module imports only its own layer
and those below it, and no modules import each other in a circle (imports made
for typing only, or inside a function, count too)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "src" / "orm_modernize"
# Bottom to top; `orm_modernize/__init__.py` (the version) is below them all.
LAYERS = (
    "data",
    "syntax",
    "analysis",
    "rewrite",
    "rules",
    "engine",
    "workspace",
    "server",
    "cli",
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports, wherever in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names.append(node.module)
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("orm_modernize"):
                found.add(name)
    return found


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return -1  # the version
    if parts[1] == "__main__":
        return len(LAYERS)
    return LAYERS.index(parts[1])


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        assert name.count(".") == 0 or name.split(".")[1] in (*LAYERS, "__main__")


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if layer(target) > layer(module)
    )
    assert upward == []


def test_no_import_cycle() -> None:
    edges = graph()
    # A package imports its own modules (`rules` lists every rule): an edge from a
    # package to what is inside it is not a circle.
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not t.startswith(module + ".")}
    cycles = [c for c in _components(edges) if len(c) > 1]
    assert cycles == []


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
