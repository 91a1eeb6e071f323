"""The package layering (models ← optimizer ← api) and the absence of import cycles, read from the source.

Every `import` and `from … import` in models/, optimizer/ and api/ is collected with `ast` — at the
top of a module and inside functions alike, so a cycle hidden in a function-level import counts —
and resolved to the project's modules. models may import only models; optimizer never imports api;
and the graph of each package (edges into other packages included) has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "optimizer", "api")
ALLOWED = {"models": {"models"}, "optimizer": {"models", "optimizer"}, "api": {"models", "optimizer", "api"}}


def project_modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the three packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def imported_modules(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules that importing `name` may execute (its parents' __init__ included)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):  # a.b.c runs a, a.b and a.b.c
                candidate = ".".join(parts[:i])
                if candidate in modules and candidate != name:
                    found.add(candidate)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported_modules(path, name, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]], start_in: str) -> list[str] | None:
    """One import cycle through a module of package `start_in`, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module.split(".")[0] == start_in and module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_graph_sees_the_project():
    graph = import_graph()
    assert "optimizer.plan.lp" in graph and "api.main" in graph and "models.dataset" in graph
    assert "optimizer.solve" in graph["optimizer.plan.arrays"]  # imports are resolved, not just listed


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_the_layers_below_it(package):
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in import_graph().items() if module.split(".")[0] == package
                   for target in targets if target.split(".")[0] not in ALLOWED[package])
    assert not wrong, wrong


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    cycle = find_cycle(import_graph(), package)
    assert cycle is None, " → ".join(cycle)


def test_a_cycle_is_found_when_there_is_one():
    graph = {"optimizer.a": {"optimizer.b"}, "optimizer.b": {"optimizer.c"}, "optimizer.c": {"optimizer.a"}}
    assert find_cycle(graph, "optimizer") == ["optimizer.a", "optimizer.b", "optimizer.c", "optimizer.a"]
    assert find_cycle({"optimizer.a": {"optimizer.b"}, "optimizer.b": set()}, "optimizer") is None
