"""``python -m grader corpus``: grade the harness's corpus of correct and buggy submissions, print the matrix.

The corpus (``tests/corpus/``) measures the grader's two error rates:

* ``correct/<case>/``: a correct submission in one of the styles students write
  (loops, im2col, einsum, float32, other SGD forms, other model layouts); it
  must get full marks.
* ``mutants/<case>/``: a submission with ONE realistic bug; it must lose points,
  and only in tests tagged with the component(s) its ``case.toml`` names, and,
  when it names them (``tests``), only in the tests of the property it breaks.
  Its first failing message must be short and say what differs and why it might;
  ``cause`` is a phrase that message should contain (the figure of the matrix).

Each case folder holds only the graded file(s) it changes, in the template's
layout, and a ``case.toml``; the case is graded as an overlay on ``reference/``.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .config import tomllib  # tomli on Python 3.10
from .judge.feedback import GENERIC_HIDDEN
from .worker.runtime import assignment
from .worker.sandbox import THREAD_VARIABLES

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR / "tests" / "corpus"
REFERENCE_DIR = PROJECT_DIR / "reference"
KINDS = {"correct": "correct", "mutants": "mutant"}
COMPONENTS = assignment.names()
# What a student reads first: the graded object's name must be in it.
COMPONENT_NAMES = {component.name: component.object for component in assignment.COMPONENTS}
MAX_FEEDBACK_LINES = 10
MAX_CHANGED_LINES = 8  # a mutant is its base with ONE bug
GRADING_TIMEOUT = 900.0


class CorpusError(ValueError):
    """A malformed case folder; the message names it."""


@dataclass(frozen=True)
class Case:
    """One corpus entry: the files it lays over the reference and what grading it must give."""

    name: str
    kind: str  # "correct" or "mutant"
    description: str
    folder: Path
    files: tuple[str, ...]
    components: tuple[str, ...] = ()  # mutants: the components that must lose points
    base: str = "reference"  # mutants: what the bug was made in ("reference" or "correct/<case>")
    tests: tuple[str, ...] = ()  # mutants: the only test functions it may fail ("suite: function"), when given
    cause: str = ""  # mutants: a phrase naming the bug, expected in the first failing message

    def __repr__(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def expected(self) -> str:
        return "full marks" if self.kind == "correct" else "loses " + "+".join(self.components)

    def base_source(self, relative: str) -> str:
        """The file the mutant was made from, for the one-bug check."""
        if self.base == "reference":
            return (REFERENCE_DIR / relative).read_text()
        candidate = self.folder.parent.parent / self.base / relative
        return (candidate if candidate.exists() else REFERENCE_DIR / relative).read_text()

    def changed_lines(self) -> int:
        """Lines added or removed with respect to the base, over all files."""
        total = 0
        for relative in self.files:
            diff = difflib.unified_diff(self.base_source(relative).splitlines(), (self.folder / relative).read_text().splitlines(), n=0, lineterm="")
            total += sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
        return total


def load_case(folder: Path, kind: str) -> Case:
    where = f"{folder.parent.name}/{folder.name}"
    try:
        spec = tomllib.loads((folder / "case.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CorpusError(f"{where}/case.toml: {error}") from None
    allowed = {"description", "expected"} if kind == "correct" else {"description", "component", "base", "tests", "cause"}
    unknown = set(spec) - allowed
    if unknown or not isinstance(spec.get("description"), str):
        raise CorpusError(f"{where}/case.toml: needs a description string and only {sorted(allowed)} (found {sorted(spec)})")
    files = tuple(sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file() and path.name != "case.toml" and "__pycache__" not in path.parts))
    strays = [path for path in files if path not in assignment.graded_files()]
    if strays or not files:
        raise CorpusError(f"{where}: holds {strays or 'no graded file'}; a case holds only graded files in the template's layout")
    if kind == "correct":
        if spec.get("expected") != "full":
            raise CorpusError(f"{where}/case.toml: a correct case says expected = \"full\"")
        return Case(folder.name, "correct", spec["description"], folder, files)
    named = spec.get("component")
    components = tuple([named] if isinstance(named, str) else named or ())
    touched = {component.name for path in files for component in assignment.components_in(path)}
    if not components or not set(components) <= touched:
        raise CorpusError(f"{where}/case.toml: component must name the component(s) of its files {sorted(touched)}, not {named!r}")
    base = spec.get("base", "reference")
    if base != "reference" and not (folder.parent.parent / base / "case.toml").exists():
        raise CorpusError(f"{where}/case.toml: base {base!r} is neither \"reference\" nor a corpus case")
    tests, cause = spec.get("tests", []), spec.get("cause", "")
    if not isinstance(cause, str) or not isinstance(tests, list) or not all(isinstance(test, str) and ": " in test for test in tests):
        raise CorpusError(f"{where}/case.toml: tests is a list of \"suite: function\" names and cause a string")
    return Case(folder.name, "mutant", spec["description"], folder, files, components, base, tuple(tests), cause)


def load_corpus(root: Path = CORPUS_DIR) -> list[Case]:
    """Every case, correct ones first, each kind sorted by name."""
    cases = []
    for folder_name, kind in KINDS.items():
        for folder in sorted((root / folder_name).iterdir()) if (root / folder_name).is_dir() else []:
            if folder.is_dir() and not folder.name.startswith((".", "_")):
                cases.append(load_case(folder, kind))
    return cases


def build(case: Case, destination: Path) -> Path:
    """The reference with the case's files written over it."""
    shutil.copytree(REFERENCE_DIR, destination, ignore=shutil.ignore_patterns("__pycache__"))
    for relative in case.files:
        shutil.copyfile(case.folder / relative, destination / relative)
    return destination


@dataclass
class Grading:
    """What grading one case gave, and whether that is what the case expects."""

    case: Case
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    failed: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def lost(self) -> dict[str, int]:
        """Failed tests per student component."""
        counts: dict[str, int] = {}
        for test in self.failed:
            for tag in test["tags"]:
                if tag in COMPONENTS:
                    counts[tag] = counts.get(tag, 0) + 1
        return counts

    @property
    def lost_tests(self) -> dict[str, int]:
        """Failed tests per suite ("conv", "scratch_training", ...), as the report names them."""
        counts: dict[str, int] = {}
        for test in self.failed:
            suite = test["name"].split(":")[0]
            counts[suite] = counts.get(suite, 0) + 1
        return counts

    @property
    def failed_functions(self) -> list[str]:
        """The distinct test functions that failed ("conv: forward matches torch"), parametrized cases counted once."""
        return sorted({function_of(test["name"]) for test in self.failed})

    @property
    def names_cause(self) -> bool:
        """Whether what the grader says in the first visible failure contains the mutant's cause phrase, in any case.

        Neither the first line (the call) nor the student's own lines quoted under
        "in your code:" (indented by four spaces) count: the cause must be said, not quoted.
        """
        said = [line for line in self.first_feedback.split("\n")[1:] if not line.startswith("    ")]
        return bool(self.case.cause) and self.case.cause.lower() in "\n".join(said).lower()

    @property
    def first_feedback(self) -> str:
        visible = [test["output"] for test in self.failed if test.get("visibility", "visible") == "visible"]
        return visible[0].split("\n--- your code printed ---")[0] if visible else ""

    def problems(self) -> list[str]:
        """Why the grading is not what the case expects; empty when it is."""
        if self.error:
            return [self.error]
        if self.case.kind == "correct":
            return [] if self.score >= self.max_score else [f"lost {self.max_score - self.score:g} points: " + ", ".join(t["name"] for t in self.failed)]
        if self.score >= self.max_score:
            return ["not caught: full marks"]
        found = []
        for test in self.failed:
            if not set(test["tags"]) & set(self.case.components):
                found.append(f"lost points outside {'+'.join(self.case.components)}: {test['name']} (tags {test['tags']})")
        found += [f"{component} kept full points" for component in self.case.components if component not in self.lost]
        if self.case.tests:
            found += [f"failed a test of another property: {name}" for name in self.failed_functions if name not in self.case.tests]
        return found + self.feedback_problems()

    def feedback_problems(self) -> list[str]:
        """The first visible failure is short and names the component; hidden failures say nothing more."""
        found = []
        message = self.first_feedback
        names = [COMPONENT_NAMES[component] for component in self.case.components]
        if not message:
            found.append("feedback: no visible test failed")
        elif len(message.splitlines()) > MAX_FEEDBACK_LINES:
            found.append(f"feedback: the first failure has {len(message.splitlines())} lines (at most {MAX_FEEDBACK_LINES})")
        elif not any(name in message for name in names):
            found.append(f"feedback: the first failure does not name {' or '.join(names)}")
        for test in self.failed:
            if test.get("visibility", "visible") != "visible" and test["output"] != GENERIC_HIDDEN:
                found.append(f"feedback: hidden test {test['name']} shows details")
        return found

    def row(self) -> dict[str, Any]:
        problems = self.problems()
        return {
            "case": self.case.name,
            "kind": self.case.kind,
            "expected": self.case.expected,
            "score": self.score,
            "max_score": self.max_score,
            "lost": self.lost,
            "lost_tests": self.lost_tests,
            "failed": [{"name": test["name"], "tags": test["tags"]} for test in self.failed],
            "failed_tests": [test["name"] for test in self.failed],
            "failed_functions": self.failed_functions,
            "names_cause": self.names_cause,
            "first_feedback": self.first_feedback,
            "seconds": round(self.seconds, 1),
            "cpu_seconds": round(self.cpu_seconds, 1),
            "verdict": "OK" if not problems else "WRONG",
            "problems": problems,
        }


def function_of(name: str) -> str:
    """A result's test name without its parametrization: "conv: forward shape [k3_s1_p0]" -> "conv: forward shape"."""
    return name.split(" [")[0]


def grading_environment(threads: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    if threads:
        env.update({name: str(threads) for name in THREAD_VARIABLES})  # the judge's torch reads OMP_NUM_THREADS
    return env


def run_with_usage(command: list[str], log: Path, env: dict[str, str], timeout: float) -> tuple[int | None, float]:
    """Exit code (None on timeout) and the CPU seconds of the process and all it waited for."""
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=output, stderr=subprocess.STDOUT, env=env)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, expire)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return (None if expired.is_set() else process.returncode), usage.ru_utime + usage.ru_stime


def grade_case(case: Case, scratch: Path, threads: int | None) -> Grading:
    """Build the overlay, run ``python -m grader`` on it as a student would, read results.json."""
    folder = scratch / f"{case.kind}-{case.name}"
    submission = build(case, folder / "submission")
    results_path = folder / "results.json"
    command = [sys.executable, "-m", "grader", str(submission), "--results", str(results_path), "--quiet"]
    grading = Grading(case)
    began = time.monotonic()
    code, grading.cpu_seconds = run_with_usage(command, folder / "grader.log", grading_environment(threads), GRADING_TIMEOUT)
    grading.seconds = time.monotonic() - began
    if code is None:
        grading.error = f"grading did not finish within {GRADING_TIMEOUT:.0f} s"
        return grading
    try:
        results = json.loads(results_path.read_text())
    except (OSError, ValueError) as error:
        grading.error = f"no results.json ({error}); exit code {code}: {(folder / 'grader.log').read_text()[-500:]}"
        return grading
    if code != 0:
        grading.error = f"the grader failed (exit code {code}): {results.get('output', '')[-500:]}"
    grading.score = float(results["score"])
    grading.max_score = round(sum(float(test["max_score"]) for test in results["tests"]), 2)
    grading.failed = [test for test in results["tests"] if test.get("status") == "failed"]
    return grading


def grade_all(cases: list[Case], jobs: int, progress: bool = True) -> list[Grading]:
    """Grade every case, ``jobs`` at a time; with more than one job each grading uses one thread."""
    threads = 1 if jobs > 1 else None
    with tempfile.TemporaryDirectory(prefix="grader-corpus-") as scratch, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_case, case, Path(scratch), threads) for case in cases]
        gradings = []
        for index, future in enumerate(futures, start=1):
            grading = future.result()
            gradings.append(grading)
            if progress:
                verdict = "OK" if not grading.problems() else "WRONG"
                print(f"[{index}/{len(cases)}] {grading.case!r}: {grading.score:g} in {grading.seconds:.1f} s {verdict}", file=sys.stderr, flush=True)
    return gradings


def lost_text(grading: Grading) -> str:
    return ", ".join(f"{suite} {count}" for suite, count in grading.lost_tests.items()) or "-"


def render(gradings: list[Grading]) -> str:
    rows = [
        [g.case.name, g.case.kind, g.case.expected, f"{g.score:g}/{g.max_score:g}", lost_text(g), *mutant_columns(g),
         f"{g.seconds:.1f}", f"{g.cpu_seconds:.1f}", "OK" if not g.problems() else "WRONG"]
        for g in gradings
    ]
    headers = ["case", "kind", "expected", "score", "failed tests per suite", "functions", "names cause", "seconds", "cpu s", "verdict"]
    table = tabulate(rows, headers=headers, disable_numparse=True)
    return "\n".join([table, "", *summary_lines(gradings)])


def mutant_columns(grading: Grading) -> list[str]:
    """Distinct test functions failed, and whether the first message names the cause (mutants only)."""
    if grading.case.kind != "mutant":
        return ["", ""]
    return [str(len(grading.failed_functions)), ("yes" if grading.names_cause else "no") if grading.case.cause else "-"]


def mutant_figures(mutants: list[Grading]) -> str:
    """The two figures the README states for the corpus."""
    functions = statistics.mean(len(g.failed_functions) for g in mutants)
    with_cause = [g for g in mutants if g.case.cause]
    named = sum(g.names_cause for g in with_cause)
    return (f"mutants: {functions:.2f} distinct test functions failed on average; first message names the cause: "
            f"{named}/{len(with_cause)} ({named / max(1, len(with_cause)):.0%})")


def summary_lines(gradings: list[Grading]) -> list[str]:
    correct = [g for g in gradings if g.case.kind == "correct"]
    mutants = [g for g in gradings if g.case.kind == "mutant"]
    lines = [
        f"correct submissions with full marks: {sum(not g.problems() for g in correct)}/{len(correct)}",
        f"mutants that lose points: {sum(0 < g.max_score and g.score < g.max_score for g in mutants)}/{len(mutants)}; "
        f"lost only in their component(s), with short feedback: {sum(not g.problems() for g in mutants)}/{len(mutants)}",
    ]
    if mutants:
        lines.append(mutant_figures(mutants))
    seconds = [g.seconds for g in gradings]
    if seconds:
        lines.append(f"seconds per grading: median {statistics.median(seconds):.1f}, max {max(seconds):.1f} ({max(gradings, key=lambda g: g.seconds).case!r}), total {sum(seconds):.0f}")
    for g in gradings:
        lines += [f"WRONG {g.case!r}: {problem}" for problem in g.problems()]
    return lines


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m grader corpus",
        description="Grade every case of tests/corpus/ as an overlay on reference/ and print the matrix; exit 1 if a verdict is WRONG.",
    )
    result.add_argument("cases", nargs="*", help="only these cases (names, or kind:name)")
    result.add_argument("--jobs", type=int, default=1, help="gradings in parallel (each then uses one thread; default 1)")
    result.add_argument("--json", dest="json_path", default=None, help="also write the matrix as JSON here")
    result.add_argument("--feedback", action="store_true", help="print each mutant's first failing message")
    result.add_argument("--list", action="store_true", help="list the cases and check their folders; grade nothing")
    result.add_argument("--corpus", default=str(CORPUS_DIR), help=argparse.SUPPRESS)
    return result


def select(cases: list[Case], names: list[str]) -> list[Case]:
    if not names:
        return cases
    chosen = [case for case in cases if case.name in names or repr(case) in names]
    unknown = set(names) - {case.name for case in chosen} - {repr(case) for case in chosen}
    if unknown:
        raise CorpusError(f"no such case: {', '.join(sorted(unknown))}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        cases = select(load_corpus(Path(args.corpus)), args.cases)
    except CorpusError as error:
        print(f"corpus: {error}", file=sys.stderr)
        return 2
    if args.list:
        print(tabulate([[c.name, c.kind, c.expected, ", ".join(c.files), c.description] for c in cases], headers=["case", "kind", "expected", "files", "description"]))
        return 0
    gradings = grade_all(cases, max(1, args.jobs))
    print(render(gradings))
    if args.feedback:
        for grading in gradings:
            if grading.case.kind == "mutant":
                print(f"\n=== {grading.case.name} ({'+'.join(grading.case.components)})\n{grading.first_feedback}")
    if args.json_path:
        document = {"cases": [g.row() for g in gradings], "summary": summary_lines(gradings)}
        Path(args.json_path).write_text(json.dumps(document, indent=2))
    return 0 if all(not g.problems() for g in gradings) else 1
