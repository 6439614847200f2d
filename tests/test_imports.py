"""grader/ has no import circles: every module imports on its own, and no module needs one that needs it."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "grader"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def runtime_imports(name: str) -> set[str]:
    """The grader modules ``name`` imports when it runs (at the top or inside functions), not those for type checkers only."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    nodes = list(ast.parse(path.read_text()).body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module or ""
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        nodes.extend(ast.iter_child_nodes(node))
    return {module for module in found if module in MODULES and module != name}


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = {name: runtime_imports(name) for name in MODULES}
    circles = []

    def visit(name: str, path: list[str]) -> None:
        for imported in graph[name]:
            if imported == path[0]:
                circles.append(" -> ".join([*path, imported]))
            elif imported not in path and len(path) < 8:
                visit(imported, [*path, imported])

    for name in graph:
        visit(name, [name])
    assert circles == []


@pytest.mark.parametrize("name", [name for name in MODULES if ".runtime" not in name and not name.endswith("__main__")])
def test_each_module_imports_on_its_own(name: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
