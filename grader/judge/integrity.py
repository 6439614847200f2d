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
# Other handles on the import system: a file that touches them is loading code the checks above cannot see.
IMPORT_MACHINERY = ("__builtins__", "__loader__", "meta_path", "path_hooks", "exec_module", "load_module", "spec_from_file_location", "run_path", "run_module")
# Well-known packages Part 1 must not use, so that getattr(importlib, "import_module")("torch") is caught too.
FORBIDDEN_NAMES = ("torch", "torchvision", "jax", "jaxlib", "tensorflow", "keras", "cupy", "scipy", "sklearn", "numba", "mlx", "autograd")


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
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call) and _called_name(node) in DYNAMIC_CALLS}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Violation(node.lineno, f"imports {alias.name}") for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _forbidden(node.module):
            found.append(Violation(node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Call) and _called_name(node) in DYNAMIC_CALLS:
            found.append(Violation(node.lineno, f"calls {_called_name(node)}() (dynamic imports and exec are not allowed)"))
        elif isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in called and _referenced_name(node) in DYNAMIC_CALLS + IMPORT_MACHINERY:
            found.append(Violation(node.lineno, f"uses {_referenced_name(node)} (dynamic imports and exec are not allowed)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_module(node.value):
            found.append(Violation(node.lineno, f"names the module '{node.value}' in a string (dynamic imports are not allowed)"))
    return sorted(found, key=lambda v: v.line)


def _referenced_name(node: ast.Name | ast.Attribute) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr


def _names_module(text: str) -> bool:
    """A string that is a forbidden package's name or a dotted path into it ("torch", "scipy.signal"), or a dynamic import's name."""
    return text in DYNAMIC_CALLS + IMPORT_MACHINERY or text.split(".")[0] in FORBIDDEN_NAMES and all(part.isidentifier() for part in text.split("."))
