"""No credit from the grader's own code: what the submission hands over must be its own.

The Part 2 worker holds the grader's models and loops (``trusted.py``). Three
layers keep a submission from passing them off as its own:

- once the runtime is loaded, the worker removes it from ``sys.path`` and
  ``sys.modules`` (:func:`hide_runtime`): ``import grader_runtime`` fails;
- every class or function the grader takes from the submission must be defined
  in the submission's files (:func:`own`): an alias, a subclass, or a class
  assembled from the grader's methods gets no credit, with a message saying why;
- the grader's models and loops refuse to run while code of the submission is
  on the stack, or off the main thread (:func:`refuse_student_callers`): a wrapper that
  delegates to them, however it found them (``gc``, frames, a fresh import by
  path), fails.

In-process checks can be defeated by code that rewrites the worker itself
(e.g. the code objects of these functions); the worker reports any rebinding of
the runtime's globals and the judge recomputes every scored value, so what is
left is documented in docs/security.md.
"""
from __future__ import annotations

import inspect
import os
import sys
import threading
from typing import Any

RUNTIME_DIR = os.path.dirname(os.path.realpath(__file__)) + os.sep
_student_dirs: list[str] = []  # set once by the worker; empty in the judge, where no student code runs


class BorrowedCode(TypeError):
    """The submission handed over (or ran) the grader's own code."""


def register_submission(submission_dir: str) -> None:
    _student_dirs[:] = [os.path.realpath(submission_dir) + os.sep]


def _is_student_file(filename: str) -> bool:
    if filename.startswith("<frozen"):
        return False
    return not os.path.isabs(filename) or os.path.realpath(filename).startswith(tuple(_student_dirs))  # exec'd strings too


def _is_grader_file(filename: str) -> bool:
    return os.path.realpath(filename).startswith(RUNTIME_DIR) if os.path.isabs(filename) else False


def refuse_student_callers(what: str) -> None:
    """Called first thing in a grader model or loop: refuse to go on for the submission's code.

    A call in the function's own body, not a decorator: a decorator would leave
    the undecorated function in memory, for ``gc`` to find.
    """
    if not _student_dirs:
        return
    if threading.current_thread() is not threading.main_thread():
        raise BorrowedCode(f"the grader's {what} cannot be run from another thread")
    frame = sys._getframe(2)
    while frame.f_back is not None:  # the outermost frame is the worker's own ``python -c`` boot line
        if _is_student_file(frame.f_code.co_filename):
            raise BorrowedCode(f"your code called the grader's own {what}: the grader's code earns no credit; write your own")
        frame = frame.f_back


def _code_files(namespace: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, file) of every function defined in a class body, properties and static/class methods included."""
    found = []
    for name, value in namespace.items():
        for candidate in (value, getattr(value, "__func__", None), getattr(value, "fget", None), getattr(value, "fset", None)):
            if callable(candidate) and hasattr(candidate, "__wrapped__"):  # a library's wrapper (reprlib around a dataclass's __repr__)
                candidate = inspect.unwrap(candidate)
            code = getattr(candidate, "__code__", None)
            if code is not None:
                found.append((name, code.co_filename))
    return found


def _foreign_class(cls: type) -> str | None:
    """Why ``cls`` is (or builds on) the grader's code, or None.

    Each class of its MRO is either the submission's (then all its methods are
    written in the submission's files) or a library's (torch.nn.Module), never
    the grader's.
    """
    if not _defined_in_submission(cls):
        return f"{cls.__qualname__} is not defined in your files (it comes from {cls.__module__})"
    for base in cls.__mro__:
        files = _code_files(vars(base))
        if base.__module__.startswith("grader_runtime") or any(_is_grader_file(file) for _, file in files):
            return f"it builds on the grader's {base.__qualname__}"
        foreign = next((name for name, file in files if not _is_student_file(file)), None) if _defined_in_submission(base) else None
        if foreign:
            return f"its {foreign} is not defined in your files"
    return None


def _defined_in_submission(cls: type) -> bool:
    try:
        return _is_student_file(inspect.getfile(cls))
    except (TypeError, OSError):
        return False


def _foreign_function(function: Any) -> str | None:
    code = getattr(function, "__code__", None)
    if code is None:
        return f"it is a {type(function).__name__}, not a function defined in your files"
    if _is_student_file(code.co_filename):
        return None
    inner = inspect.unwrap(function)  # a decorator of a library (torch.no_grad) around the student's function
    if inner is not function and not _is_grader_file(code.co_filename) and _foreign_function(inner) is None:
        return None
    return f"it is defined in {code.co_filename if not _is_grader_file(code.co_filename) else 'the grader'}, not in your files"


def own(value: Any, name: str) -> Any:
    """``value`` itself if it is the submission's own code (no checks outside the worker), else BorrowedCode."""
    if not _student_dirs:
        return value
    why = _foreign_class(value) if isinstance(value, type) else _foreign_function(value)
    if why:
        raise BorrowedCode(f"{name} gets no credit: {why}. Only code you wrote is graded.")
    return value


def hide_runtime(lib_dir: str) -> None:
    """Student code cannot import the runtime: off the import path and out of ``sys.modules`` (its modules keep working)."""
    while lib_dir in sys.path:
        sys.path.remove(lib_dir)
    for name in [name for name in sys.modules if name == "grader_runtime" or name.startswith("grader_runtime.")]:
        del sys.modules[name]
