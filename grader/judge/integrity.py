"""Source checks on Part 1 files: NumPy and the standard library only.

Runs in the judge on the file's AST (nothing is imported or executed), so a
violation is reported with its line even when the file would not import.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

ALLOWED_PACKAGES = ("numpy", "part1_scratch")
DYNAMIC_CALLS = ("__import__", "exec", "eval", "compile", "import_module")


@dataclass(frozen=True)
class Violation:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def _forbidden(module: str) -> bool:
    top = module.split(".")[0]
    return top not in ALLOWED_PACKAGES and top not in sys.stdlib_module_names


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def find_violations(source: str) -> list[Violation]:
    """Forbidden imports and dynamic imports/exec, with their lines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the worker reports the syntax error when it imports the file
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Violation(node.lineno, f"imports {alias.name}") for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _forbidden(node.module):
            found.append(Violation(node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Call) and _called_name(node) in DYNAMIC_CALLS:
            found.append(Violation(node.lineno, f"calls {_called_name(node)}() (dynamic imports and exec are not allowed)"))
    return sorted(found, key=lambda v: v.line)
