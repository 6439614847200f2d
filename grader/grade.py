"""Grade one submission: stage it, start the workers, run the suites, write results.json.

Whatever the submission does, this writes a valid results file; only a failure
of the harness itself gives a non-zero exit code (with a score-0 results file
that explains it).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from .config import GraderConfig, load_config
from .discover import GRADED_FILES, add_provided_files, discover
from .judge import leaderboard
from .judge.integrity import find_violations
from .judge.plugin import GradingPlugin, GradingState
from .report import html, results
from .worker.client import RUNTIME_DIR, Worker
from .worker.sandbox import Sandbox

GRADER_DIR = Path(__file__).parent
PROJECT_DIR = GRADER_DIR.parent
SUITES_DIR = GRADER_DIR / "judge" / "suites"
TEMPLATE_DIR = PROJECT_DIR / "submission_template"
PROTECTED = [GRADER_DIR, PROJECT_DIR / "reference", PROJECT_DIR / ".git"]  # unreadable by the worker user
FAULT_VARIABLE = "GRADER_INJECT_FAULT"  # "1": fail inside grading, after the workers start (tests of the fallback)
JUDGE_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")  # would change how the judge's own pytest runs


def stage_submission(submission: Path, stage: Path, sandbox: Sandbox):  # -> Discovery
    """Copy the graded files and the grader's provided files and runtime into ``stage``, readable by this grading's worker only."""
    discovery = discover(submission, stage / "submission")
    add_provided_files(TEMPLATE_DIR, stage / "submission")
    shutil.copytree(RUNTIME_DIR, stage / "lib" / "grader_runtime", ignore=shutil.ignore_patterns("__pycache__"))
    sandbox.share(stage)
    return discovery


def part1_violations(stage: Path) -> dict[str, list]:
    found = {}
    for path in GRADED_FILES:
        if path.startswith("part1_scratch/") and (stage / "submission" / path).exists():
            source = (stage / "submission" / path).read_text(encoding="utf-8", errors="replace")
            found[Path(path).stem] = find_violations(source)
    return found


@contextlib.contextmanager
def judge_environment():  # -> Iterator[None]
    """The judge's pytest takes its options from its own pytest.ini only, not from PYTEST_ADDOPTS and the like."""
    saved = {name: os.environ.pop(name) for name in JUDGE_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def pytest_arguments(progress: str) -> list[str]:
    """"tests": pytest's own line per test and closing line (what ``bench`` times); otherwise pytest says nothing (-qq) and the plugin shows progress."""
    return [str(SUITES_DIR), "-c", str(SUITES_DIR / "pytest.ini"), "--rootdir", str(SUITES_DIR), "--tb=no", "--no-header", "-rN", "-v" if progress == "tests" else "-qq"]


def run_suites(config: GraderConfig, submission: Path, sandbox: Sandbox, progress: str) -> tuple[GradingState, int]:
    with tempfile.TemporaryDirectory(prefix="grader-", ignore_cleanup_errors=True) as temporary:
        stage = Path(temporary)
        discovery = stage_submission(submission, stage, sandbox)
        workers: dict[str, Worker] = {}
        try:
            for part in ("part1", "part2"):
                workers[part] = Worker(part, stage, sandbox, config.worker_start_seconds)
                workers[part].start()  # imports overlap with the judge's own start-up
            state = GradingState(config, discovery, workers, part1_violations(stage))
            if os.environ.get(FAULT_VARIABLE) == "1":
                raise RuntimeError(f"fault injected into the harness ({FAULT_VARIABLE}=1)")
            with judge_environment():
                exit_code = pytest.main(pytest_arguments(progress), plugins=[GradingPlugin(state, progress=progress == "components")])
            if exit_code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
                leaderboard.measure(state)  # never scored
        finally:
            for worker in workers.values():
                worker.stop()
            sandbox.kill_everything()  # results are written only after this: no worker process is left
            sandbox.remove_leftovers()
    return state, int(exit_code)


def grade(submission: Path, results_path: Path, config_path: str | None = None, progress: str = "components", report_path: Path | None = None) -> int:
    """Grade and write ``results_path`` (and ``report_path``, the HTML report, unless None); 0 when grading completed, whatever the score."""
    started = time.monotonic()
    state = None
    try:
        config = load_config(config_path)
        sandbox = Sandbox.for_this_machine(config.limits, [*PROTECTED, config.path])
        state, exit_code = run_suites(config, Path(submission), sandbox, progress)
        if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            raise RuntimeError(f"the test suites could not run (pytest exit code {exit_code})")
        notes = [state.discovery.summary()]
        if not sandbox.confined:
            notes.append("Unofficial run: the worker was not confined (that needs root on Linux), time limits only. The official grade comes from Gradescope.")
        if state.missing_suites:
            notes.append(f"{len(state.missing_suites)} hidden tests are not part of this copy of the grader; they run on Gradescope.")
        board = leaderboard.entries(state)
        if board:
            notes.append("Leaderboard (not part of the score): " + "; ".join(f"{entry['name']}: {entry['value']:g}" for entry in board))
        document = results.build_document(state.outcomes.values(), "\n".join(notes), time.monotonic() - started, board)
        code = 0
    except Exception:
        document = results.fallback_document(traceback.format_exc(limit=5), time.monotonic() - started)
        print(document["output"])
        code = 2
    results.validate(document)
    results.write_atomically(results_path, document)
    html.publish(results_path, document, state, report_path)
    return code
