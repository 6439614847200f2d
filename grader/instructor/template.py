"""``python -m grader build-template [--check]``: ``submission_template/`` generated from ``reference/``.

``reference/`` is the one source of the assignment's files. The provided files
(``network.py``, the demos, the ``__init__.py`` files) are copied as they are;
in the graded files, the solution sits between markers, as in otter-grader::

    def forward(self, x):
        \"\"\"The contract and hints students read.\"\"\"
        # BEGIN SOLUTION relu
        self._mask = x > 0
        return np.maximum(x, 0)
        # END SOLUTION

A block is left out of the template. In its place, ``# BEGIN SOLUTION <task>``
leaves ``# TODO: Task <task>.`` and ``raise NotImplementedError("Task <task>:
implement <function>")``, so that the stub says what is missing when it is
called. ``# BEGIN SOLUTION <task>: <note>`` leaves ``# TODO: Task <task>: <note>.``
only: the code around it is provided and must run (``SGD.__init__``, where
students add the state ``step`` keeps). A plain ``# BEGIN SOLUTION`` (helpers,
imports, state the solution keeps) leaves nothing. Every task of a graded file
(its components) has a block, and only those.

Docstrings are written once, for students (the contract, with hints): the
reference shares them. Notes on how the reference itself works are comments
inside its blocks, so they never reach the template.
"""
from __future__ import annotations

import argparse
import ast
import re
from dataclasses import dataclass
from pathlib import Path

from ..grade import TEMPLATE_DIR
from ..worker.runtime.assignment import components_in, graded_files
from .package import REFERENCE_DIR, Entry, PackageError, shipped, skipped

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?: (?P<task>\w+)(?::\s*(?P<note>.*\S))?)?\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
BLANK_RUN = re.compile(r"\n{4,}")  # more than two blank lines: what a block between two definitions leaves
COMMAND = "python -m grader build-template"


class MarkerError(PackageError):
    """A graded file's solution markers are unbalanced or missing; the message names the file and line."""


@dataclass(frozen=True)
class Block:
    """One solution block: its marker lines (1-based, inclusive) and what it leaves behind."""

    begin: int
    end: int
    indent: str
    task: str | None
    note: str | None


def blocks(source: str, name: str) -> list[Block]:
    """The solution blocks of ``source``, in order.

    Raises:
        MarkerError: a block inside a block, an END without a BEGIN, a BEGIN never ended.
    """
    found: list[Block] = []
    start: tuple[int, re.Match[str]] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        if begin := BEGIN.match(line):
            if start is not None:
                raise MarkerError(f"{name}:{number}: # BEGIN SOLUTION inside the block begun on line {start[0]}")
            start = (number, begin)
        elif END.match(line):
            if start is None:
                raise MarkerError(f"{name}:{number}: # END SOLUTION without a # BEGIN SOLUTION")
            first, match = start
            found.append(Block(first, number, match["indent"], match["task"], match["note"]))
            start = None
    if start is not None:
        raise MarkerError(f"{name}:{start[0]}: # BEGIN SOLUTION is never ended")
    return found


def function_name(tree: ast.Module, line: int) -> str | None:
    """The qualified name (``ReLU.forward``) of the innermost function around ``line``."""
    found = None
    todo: list[tuple[str, ast.AST]] = [("", tree)]
    while todo:
        prefix, node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child.lineno <= line <= (child.end_lineno or 0):
                if not isinstance(child, ast.ClassDef):
                    found = prefix + child.name
                todo.append((f"{prefix}{child.name}.", child))
    return found


def stub(block: Block, tree: ast.Module, name: str) -> list[str]:
    """The lines the template has in place of ``block``."""
    if block.task is None:
        return []
    if block.note:
        return [f"{block.indent}# TODO: Task {block.task}: {block.note}."]
    function = function_name(tree, block.begin)
    if function is None:
        raise MarkerError(f"{name}:{block.begin}: # BEGIN SOLUTION {block.task} is outside any function; it leaves a raise, so it must be inside one")
    return [
        f"{block.indent}# TODO: Task {block.task}.",
        f'{block.indent}raise NotImplementedError("Task {block.task}: implement {function}")',
    ]


def student_version(source: str, name: str) -> str:
    """``source`` without its solution blocks, each replaced by its stub."""
    tree = ast.parse(source, name)
    lines = source.splitlines()
    for block in reversed(blocks(source, name)):
        lines[block.begin - 1 : block.end] = stub(block, tree, name)
    return BLANK_RUN.sub("\n\n\n", "\n".join(lines).rstrip("\n") + "\n")


def folder_files(folder: Path) -> list[str]:
    """The relative paths of the files under ``folder`` that would ship (no caches), sorted."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file() and not skipped(path.relative_to(folder)))


def template_files(reference: Path = REFERENCE_DIR) -> dict[str, str]:
    """Relative path -> text of every file of the template, generated from ``reference``.

    Raises:
        MarkerError: unbalanced markers, or blocks that do not match the file's tasks (``check_tasks``).
    """
    files = {}
    for relative in folder_files(reference):
        source = (reference / relative).read_text(encoding="utf-8")
        check_tasks(relative, {block.task for block in blocks(source, relative)})
        files[relative] = student_version(source, relative) if relative in graded_files() else source
    return files


def check_tasks(relative: str, tasks: set[str | None]) -> None:
    """A graded file has a block for each of its components and none for another; a provided file has none.

    Raises:
        MarkerError: naming the file and what is wrong.
    """
    components = {component.name for component in components_in(relative)}
    if not components and tasks:
        raise MarkerError(f"{relative}: a provided file has a # BEGIN SOLUTION block; students would never see that code")
    if unknown := sorted(str(task) for task in tasks - components - {None}):
        raise MarkerError(f"{relative}: # BEGIN SOLUTION names task {', '.join(unknown)}, not a component of this file ({', '.join(sorted(components))})")
    if missing := sorted(components - tasks):
        raise MarkerError(f"{relative}: no # BEGIN SOLUTION block for task {', '.join(missing)}; the file would ship without its stub")


def stale_files(template: Path = TEMPLATE_DIR, reference: Path = REFERENCE_DIR) -> list[str]:
    """The template's files that differ from the generated ones or are missing, then those that should not be there."""
    expected = template_files(reference)
    present = folder_files(template) if template.is_dir() else []
    changed = [name for name in expected if name not in present or (template / name).read_text(encoding="utf-8") != expected[name]]
    return changed + [name for name in present if name not in expected]


def out_of_date(stale: list[str]) -> str:
    """What the zips and ``--check`` say about a stale template."""
    return f"submission_template/ is out of date with reference/ ({', '.join(stale)}); run {COMMAND}"


def write(template: Path = TEMPLATE_DIR, reference: Path = REFERENCE_DIR) -> list[str]:
    """Regenerate ``template`` from ``reference``; returns the files it changed or removed."""
    changed = stale_files(template, reference)
    expected = template_files(reference)
    for name in changed:
        target = template / name
        if name in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(expected[name], encoding="utf-8")
        else:
            target.unlink()
    return changed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Generate submission_template/ from reference/ (solution blocks become stubs).")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when submission_template/ is out of date")
    args = parser.parse_args(argv)
    try:
        changed = stale_files() if args.check else write()
    except MarkerError as error:
        print(f"build-template: {error}")
        return 1
    if args.check and changed:
        print(f"build-template: {out_of_date(changed)}")
        return 1
    print("submission_template/ is up to date" if not changed else f"wrote {', '.join(changed)}")
    return 0


def template_entries(prefix: str, template: Path = TEMPLATE_DIR) -> list[Entry]:
    """``template`` whole, as the zips carry it: the stubs students edit (and the autograder's self-check grades), the provided files.

    Raises:
        PackageError: the folder is missing, or out of date with ``reference/``.
    """
    if not template.is_dir():
        raise PackageError(f"{template} is missing: students have nothing to edit and the autograder nothing to check itself with")
    stale = stale_files(template)
    if stale:
        raise PackageError(out_of_date(stale))
    return [shipped(f"{prefix}submission_template/{name}", (template / name).read_bytes()) for name in folder_files(template)]
