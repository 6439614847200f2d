"""Names NumPy removed from its main namespace: found in Part 1 files before grading, and named in the hint of the AttributeError.

A student's laptop may run NumPy 1.x, where ``np.product`` still works, while Gradescope
grades with NumPy 2: the same file passes here and fails there. The table lists the names
a layer or optimizer might use; tests/test_numpy_removals.py checks each against the
installed NumPy.
"""
from __future__ import annotations

import ast
import re
from typing import NamedTuple

from ..requirements import version_tuple

GRADESCOPE_NUMPY = (2, 2)  # the oldest NumPy pinned in requirements.txt (Python 3.10's; a harness test checks it)


class Removal(NamedTuple):
    removed_in: str  # the NumPy version without the name
    replacement: str  # what to write instead, valid in every supported NumPy
    restored_in: str | None = None  # the name came back (with another meaning) in this version


REMOVED: dict[str, Removal] = {
    # NumPy 2.0 (NEP 52)
    "product": Removal("2.0", "np.prod"),
    "cumproduct": Removal("2.0", "np.cumprod"),
    "alltrue": Removal("2.0", "np.all"),
    "sometrue": Removal("2.0", "np.any"),
    "asfarray": Removal("2.0", "np.asarray(x, dtype=np.float64)"),
    "NaN": Removal("2.0", "np.nan"),
    "Inf": Removal("2.0", "np.inf"),
    "Infinity": Removal("2.0", "np.inf"),
    "infty": Removal("2.0", "np.inf"),
    "PINF": Removal("2.0", "np.inf"),
    "NINF": Removal("2.0", "-np.inf"),
    "PZERO": Removal("2.0", "0.0"),
    "NZERO": Removal("2.0", "-0.0"),
    "float_": Removal("2.0", "np.float64"),
    "complex_": Removal("2.0", "np.complex128"),
    "cfloat": Removal("2.0", "np.complex128"),
    "longfloat": Removal("2.0", "np.longdouble"),
    "unicode_": Removal("2.0", "np.str_"),
    "string_": Removal("2.0", "np.bytes_"),
    "round_": Removal("2.0", "np.round"),
    "msort": Removal("2.0", "np.sort(a, axis=0)"),
    "find_common_type": Removal("2.0", "np.result_type"),
    "cast": Removal("2.0", "np.asarray(x, dtype=...)"),
    "mat": Removal("2.0", "np.asarray"),
    "issubclass_": Removal("2.0", "issubclass"),
    # NumPy 2.4 (np.trapz too, but its replacement np.trapezoid is missing before 2.0: no advice fits every NumPy)
    "in1d": Removal("2.4", "np.isin"),
    # NumPy 1.24: the aliases of Python's builtin types
    "float": Removal("1.24", "float or np.float64"),
    "int": Removal("1.24", "int or np.int64"),
    "object": Removal("1.24", "object"),
    "str": Removal("1.24", "str"),
    "complex": Removal("1.24", "complex or np.complex128"),
    "unicode": Removal("1.24", "str"),
    "bool": Removal("1.24", "np.bool_", restored_in="2.0"),
    "long": Removal("1.24", "np.int64", restored_in="2.0"),
}


def advice(name: str) -> str:
    """One sentence: what happened to ``np.<name>`` and what to write instead."""
    removal = REMOVED[name]
    if removal.restored_in:
        return (f"np.{name} is missing from NumPy {removal.removed_in} until {removal.restored_in} brought it back: "
                f"write {removal.replacement}, which works in every NumPy")
    on_gradescope = f" (Gradescope grades with NumPy {GRADESCOPE_NUMPY[0]})" if version_tuple(removal.removed_in) <= GRADESCOPE_NUMPY else ""
    return f"np.{name} was removed in NumPy {removal.removed_in}{on_gradescope}: write {removal.replacement}"


def _numpy_aliases(tree: ast.AST) -> set[str]:
    """The names under which the module binds numpy: ``import numpy``, ``import numpy as xp``, ``import numpy.linalg``."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy" or (alias.name.startswith("numpy.") and alias.asname is None):
                    aliases.add(alias.asname or "numpy")
    return aliases


def find_removed_names(source: str) -> list[tuple[int, str]]:
    """(line, name) of every removed NumPy name the source uses, as ``<alias>.name`` or ``from numpy import name``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the worker reports the syntax error itself
    aliases = _numpy_aliases(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in REMOVED and isinstance(node.value, ast.Name) and node.value.id in aliases:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom) and node.module == "numpy":
            found += [(node.lineno, alias.name) for alias in node.names if alias.name in REMOVED]
    return sorted(set(found))


def warnings_for(sources: dict[str, str]) -> list[str]:
    """One line per removed name used, per file: ``conv.py line 12: np.product was removed ...``."""
    return [f"Warning: {path} line {line}: {advice(name)}."
            for path, source in sources.items() for line, name in find_removed_names(source)]


_MISSING_ATTRIBUTE = re.compile(r"module 'numpy' has no attribute '(\w+)'|`np\.(\w+)` was removed")


def hint_for_error(message: str) -> str:
    """The advice for an AttributeError about a removed NumPy name, else ''."""
    match = _MISSING_ATTRIBUTE.search(message)
    name = match and (match.group(1) or match.group(2))
    return advice(name) if name in REMOVED else ""
