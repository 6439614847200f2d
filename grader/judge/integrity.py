"""Source checks on Part 1 files: NumPy and the standard library only.

Runs in the judge on the file's AST (nothing is imported or executed), so a
violation is reported with its line even when the file would not import.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from ..worker.runtime.assignment import part1_may_import

# The builtins that import or run code: flagged when the builtin itself is called or aliased (a bare name the file does
# not bind itself, or an attribute of ``builtins``), never a method or attribute of that name (re.compile, model.eval).
CODE_BUILTINS = ("__import__", "exec", "eval", "compile")
BUILTINS_MODULES = ("builtins", "__builtins__")
IMPORTING_CALLS = ("__import__", "import_module")  # flagged wherever they appear, as names, attributes or strings
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


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the file binds itself (definitions, assignments, parameters, imports): those are not the builtins.

    What a class body binds (a method named ``eval``) is an attribute, not a name: it shadows nothing.
    """
    statements = [statement for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for statement in node.body]
    targets = [target for s in statements if isinstance(s, (ast.Assign, ast.AnnAssign)) for target in getattr(s, "targets", [getattr(s, "target", None)])]
    class_members = {id(node) for node in statements + targets}
    bound = set()
    for node in ast.walk(tree):
        if id(node) in class_members and not isinstance(node, ast.ClassDef):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return bound


def _dynamic_name(node: ast.AST, bound: set[str]) -> str | None:
    """The builtin or import function this name or attribute stands for, if it is one."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        return node.id if node.id in IMPORTING_CALLS or node.id in CODE_BUILTINS and node.id not in bound else None
    if isinstance(node, ast.Attribute):
        of_builtins = isinstance(node.value, ast.Name) and node.value.id in BUILTINS_MODULES
        return node.attr if node.attr in IMPORTING_CALLS or of_builtins and node.attr in CODE_BUILTINS else None
    return None


def find_violations(source: str) -> list[Violation]:
    """Forbidden imports and dynamic imports/exec, with their lines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the worker reports the syntax error when it imports the file
    found = []
    bound = _bound_names(tree)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call) and _dynamic_name(node.func, bound)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Violation(node.lineno, f"imports {alias.name}") for alias in node.names if not part1_may_import(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and not part1_may_import(node.module):
            found.append(Violation(node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.ImportFrom) and node.module in BUILTINS_MODULES and {alias.name for alias in node.names} & set(CODE_BUILTINS):
            found.append(Violation(node.lineno, "imports exec/eval/compile/__import__ from builtins (dynamic imports and exec are not allowed)"))
        elif isinstance(node, ast.Call) and _dynamic_name(node.func, bound):
            found.append(Violation(node.lineno, f"calls {_dynamic_name(node.func, bound)}() (dynamic imports and exec are not allowed)"))
        elif id(node) not in called and (_dynamic_name(node, bound) or _machinery(node)):
            found.append(Violation(node.lineno, f"uses {_dynamic_name(node, bound) or _machinery(node)} (dynamic imports and exec are not allowed)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_module(node.value):
            found.append(Violation(node.lineno, f"names the module '{node.value}' in a string (dynamic imports are not allowed)"))
    return sorted(found, key=lambda v: v.line)


def _machinery(node: ast.AST) -> str | None:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return name if name in IMPORT_MACHINERY else None


def _names_module(text: str) -> bool:
    """A string that is a forbidden package's name or a dotted path into it ("torch", "scipy.signal"), or an import function's name
    ("eval" and "exec" are ordinary words: only their calls count)."""
    return text in IMPORTING_CALLS + IMPORT_MACHINERY or text.split(".")[0] in FORBIDDEN_NAMES and all(part.isidentifier() for part in text.split("."))
