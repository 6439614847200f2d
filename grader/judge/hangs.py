"""Where student code was when a call ran out of time, so that one endless loop costs one time limit.

On a time-out the worker dumps its Python stack into its output (faulthandler,
on SIGUSR1). The innermost frame of a graded class or function (``ReLU.forward``,
``train_epoch``) names the function that did not return; later tests that
would call it fail at once instead of waiting for the same time limit again.
A hang outside any graded object (a module that loops while it is imported)
is kept for the whole file.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..worker.runtime.assignment import component, components_in, module_of

DUMP_HEADER = re.compile(r"^(?:Current thread|Thread) 0x[0-9a-f]+ (?:\[[^\]]*\] )?\(most recent call first\):$")
DUMP_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line (?P<line>\d+) in (?P<name>\S+)$')


@dataclass(frozen=True)
class Hang:
    """A student function that did not return, and the test in which it did not."""

    file: str  # graded path, e.g. part1_scratch/relu.py
    function: str  # qualified name, e.g. ReLU.forward; "" for the module itself
    line: int
    test: str  # the test's number, e.g. 1.42
    seconds: float

    @property
    def target(self) -> str:
        """How the worker finds the function: ``module:qualname``."""
        return f"{module_of(self.file)}:{self.function}"

    @property
    def shown(self) -> str:
        return self.function or f"code in {PurePosixPath(self.file).name}"

    def refusal(self) -> str:
        return f"`{self.shown}` did not return within {self.seconds:.0f} s in test {self.test}; not called again."


def split_dump(output: str) -> tuple[str, list[tuple[str, int]]]:
    """The output without the stack dump, and the dump's frames (innermost first): (path, line)."""
    kept: list[str] = []
    frames: list[tuple[str, int]] = []
    in_dump = False
    for line in output.splitlines():
        if DUMP_HEADER.match(line):
            in_dump, frames = True, []  # the last dump is the one of the time-out
            continue
        frame = DUMP_FRAME.match(line)
        if in_dump and frame:
            frames.append((frame["path"], int(frame["line"])))
            continue
        in_dump = in_dump and not line.strip()
        kept.append(line)
    return "\n".join(kept).strip("\n"), frames


def enclosing_names(source: str, line: int) -> list[str]:
    """The classes and functions around ``line``, outermost first."""
    try:
        node: ast.AST = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    while True:
        inner = [
            child for child in ast.iter_child_nodes(node)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and child.lineno <= line <= (child.end_lineno or child.lineno)
        ]
        if not inner:
            return names
        node = inner[0]
        names.append(node.name)


def graded_function(graded_path: str, names: list[str]) -> str | None:
    """``Class.method`` or ``function`` when ``names`` lie in a graded object of that file; None for helpers."""
    objects = {graded.object for graded in components_in(graded_path)}
    if not names or names[0] not in objects:
        return None
    return ".".join(names[:2])


def locate(output: str, submission: Path, test: str, seconds: float) -> tuple[str, Hang | None]:
    """The output without the dump, and the hang it shows (None when there is no readable dump)."""
    cleaned, frames = split_dump(output)
    root = str(submission.resolve()) + "/"
    module_hang = None
    for path, line in frames:
        if not path.startswith(root):
            continue
        graded_path = path[len(root):]
        try:
            source = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        names = enclosing_names(source, line)
        function = graded_function(graded_path, names)
        if function:
            hang = Hang(graded_path, function, line, test, seconds)
            where = f"[your code was in {function} ({PurePosixPath(graded_path).name}, line {line}) when the time ran out]"
            return "\n".join(filter(None, [cleaned, where])), hang
        if not names and module_hang is None:
            module_hang = Hang(graded_path, "", line, test, seconds)
    return cleaned, module_hang


def component_hang(name: str, graded_path: str, test: str, seconds: float) -> Hang:
    """When the stack names no graded function (a wrapper, no dump): the component's class or function is not used again."""
    return Hang(graded_path, component(name).object, 0, test, seconds)
