"""Does a shipped file hold a solution of a graded task, in any spelling? Compared by normalised syntax trees.

Every function and class of every Python file students get (the handout: the
template, the grader's runtime and public suites) is compared with every
function and class of the graded files of ``reference/``, after removing what
does not change behaviour: docstrings, type annotations, and names (variables,
parameters, attributes, functions and classes are numbered in order of first
use). A byte-for-byte check misses a renamed or re-commented copy; this does not.
"""
from __future__ import annotations

import ast
from pathlib import PurePosixPath

from ..worker.runtime.assignment import graded_files
from .package import REFERENCE_DIR, Entry


class _Normaliser(ast.NodeTransformer):
    """Names numbered by first use; docstrings and annotations dropped."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        return self.names.setdefault(name, f"n{len(self.names)}")

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST:
        node.name = self._name(node.name)
        body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None), ast.Constant) and isinstance(node.body[0].value.value, str) else node.body
        node.body = body or [ast.Pass()]
        if not isinstance(node, ast.ClassDef):
            node.returns = None
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(self._name(node.id), node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.arg(self._name(node.arg))

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        node.attr = self._name(node.attr)
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        return self.generic_visit(ast.Assign([node.target], node.value or ast.Constant(None)) if node.value else ast.Pass())


def fingerprints(source: str) -> dict[str, str]:
    """Normalised dump -> qualified name, for every function and class of ``source`` (unparsable source: none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = node.name
            copy = ast.parse(ast.unparse(node)).body[0]  # normalised on a copy: the walk goes on over the original
            found[ast.dump(_Normaliser().visit(copy), annotate_fields=False, include_attributes=False)] = name
    return found


def reference_fingerprints() -> dict[str, str]:
    """The graded functions and classes of ``reference/`` (the provided helpers there are shipped on purpose)."""
    found = {}
    for graded in graded_files():
        path = REFERENCE_DIR / graded
        if path.is_file():
            found.update({dump: f"{graded}: {name}" for dump, name in fingerprints(path.read_text()).items()})
    return found


def shipped_solutions(entries: list[Entry]) -> list[str]:
    """``file: name (= reference graded file: name)`` for each shipped function or class that is a graded solution."""
    solutions = reference_fingerprints()
    found = []
    for entry in entries:
        if PurePosixPath(entry.name).suffix == ".py":
            for dump, name in fingerprints(entry.data.decode("utf-8", errors="replace")).items():
                if dump in solutions:
                    found.append(f"{entry.name}: {name} (= reference/{solutions[dump]})")
    return found
