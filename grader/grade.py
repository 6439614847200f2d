"""Grade one submission: stage it, start the workers, run the suites, write results.json.

Whatever the submission does, this writes a valid results file; only a failure
of the harness itself gives a non-zero exit code (with a score-0 results file
that explains it).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .config import ConfigError, GraderConfig, load_config
from .discover import Discovery, add_provided_files, discover
from .judge import leaderboard, numpy_removals
from .judge.integrity import find_violations
from .judge.plugin import GradingPlugin, GradingState, Interrupted, Stop, stop_summary
from .report import html, results
from .worker import isolation
from .worker.client import RUNTIME_DIR, Worker
from .worker.runtime.assignment import in_part
from .worker.sandbox import Sandbox
from .worker.zygote import Zygote

GRADER_DIR = Path(__file__).parent
PROJECT_DIR = GRADER_DIR.parent
SUITES_DIR = GRADER_DIR / "judge" / "suites"
TEMPLATE_DIR = PROJECT_DIR / "submission_template"
PROTECTED = [GRADER_DIR, PROJECT_DIR / "reference", PROJECT_DIR / ".git"]  # unreadable by the worker user
FAULT_VARIABLE = "GRADER_INJECT_FAULT"  # "1": fail inside grading, after the workers start (tests of the fallback)
JUDGE_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")  # would change how the judge's own pytest runs
RESULTS_SECONDS = 10  # kept from the grading's budget to stop the workers and write results.json
BUDGET_EXIT_CODE = 124  # the grading's budget ran out (like coreutils' timeout); results.json keeps the tests that finished


def stage_submission(submission: Path, stage: Path, sandbox: Sandbox) -> Discovery:
    """Copy the graded files and the grader's provided files and runtime into ``stage``, readable by this grading's worker only."""
    discovery = discover(submission, stage / "submission")
    add_provided_files(TEMPLATE_DIR, stage / "submission")
    shutil.copytree(RUNTIME_DIR, stage / "lib" / "grader_runtime", ignore=shutil.ignore_patterns("__pycache__"))
    sandbox.share(stage)
    return discovery


def part1_sources(stage: Path) -> dict[str, str]:
    """Graded path -> source of each staged Part 1 file."""
    files = dict.fromkeys(component.file for component in in_part(1))
    return {path: (stage / "submission" / path).read_text(encoding="utf-8", errors="replace") for path in files if (stage / "submission" / path).exists()}


def part1_violations(sources: dict[str, str]) -> dict[str, list]:
    """Component -> what its file (in ``sources``, by graded path) does against Part 1's rule: no credit for it."""
    return {component.name: find_violations(sources[component.file]) for component in in_part(1) if component.file in sources}


def warm_up_torch() -> None:
    """Import what the judge's oracle and the Part 2 workers use, once, before the zygote is forked.

    The first torch.optim optimizer imports torch._dynamo (about 1 s); paid
    here, every Part 2 worker starts with it loaded.
    """
    import torch

    torch.set_num_threads(1)  # the judge computes on tiny tensors; more threads take the workers' cores
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


@contextlib.contextmanager
def judge_environment() -> Iterator[None]:
    """The judge's pytest takes its options from its own pytest.ini only, not from PYTEST_ADDOPTS and the like."""
    saved = {name: os.environ.pop(name) for name in JUDGE_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def pytest_arguments(progress: str) -> list[str]:
    """"tests": pytest's own line per test and closing line (what ``bench`` times); otherwise pytest says nothing (-qq) and the plugin shows progress."""
    return [str(SUITES_DIR), "-c", str(SUITES_DIR / "pytest.ini"), "--rootdir", str(SUITES_DIR), "--tb=no", "--no-header", "-rN", "-v" if progress == "tests" else "-qq"]


def run_suites(config: GraderConfig, submission: Path, sandbox: Sandbox, progress: str, stop: Stop, deadline: float) -> tuple[GradingState, int]:
    with tempfile.TemporaryDirectory(prefix="grader-", ignore_cleanup_errors=True) as temporary:
        stage = Path(temporary)
        discovery = stage_submission(submission, stage, sandbox)
        workers: dict[str, Worker] = {}
        zygote = None
        try:
            workers["part1"] = Worker("part1", stage, sandbox, config.worker_start_seconds)
            workers["part1"].start()  # its imports overlap with the judge's
            warm_up_torch()
            zygote = Zygote.start()  # Part 2 workers share the judge's torch: one copy in memory
            workers["part2"] = Worker("part2", stage, sandbox, config.worker_start_seconds, zygote)
            workers["part2"].start()
            sources = part1_sources(stage)
            state = GradingState(config, discovery, workers, part1_violations(sources), stop=stop, deadline=deadline)
            state.notes += numpy_removals.warnings_for({Path(path).name: source for path, source in sources.items()})
            for note in state.notes:
                print(note, flush=True)  # before the tests: a NumPy difference explains failures to come
            if os.environ.get(FAULT_VARIABLE) == "1":
                raise RuntimeError(f"fault injected into the harness ({FAULT_VARIABLE}=1)")
            with judge_environment():
                exit_code = pytest.main(pytest_arguments(progress), plugins=[GradingPlugin(state, progress=progress == "components")])
            if exit_code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not stop.reason:
                leaderboard.measure(state)  # never scored
        finally:
            for worker in workers.values():
                worker.stop()
            if zygote is not None:
                zygote.stop()
            sandbox.finish()  # results are written only after this: no worker process is left
    if stop.reason and exit_code == pytest.ExitCode.INTERRUPTED:
        exit_code = pytest.ExitCode.TESTS_FAILED  # stopped on purpose: the tests that ran are graded
    return state, int(exit_code)


@contextlib.contextmanager
def stopped_by_signals(stop: Stop, sandbox: list[Sandbox], started: float) -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM stop the grading within a second or two; a second one exits at once.

    The running worker is killed at once, the test it was running and those
    not yet run are reported as not run, and results.json is still written.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(number: int, frame: Any) -> None:
        if stop.reason:
            os._exit(128 + number)  # a second signal while stopping: at once (the reaper and the kernel kill the workers)
        stop.request(f"interrupted by {signal.Signals(number).name} after {time.monotonic() - started:.0f} s", number)
        for box in sandbox:
            for pid in list(box.live):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if stop.session is None:  # still setting up: nothing to keep, stop now
            raise Interrupted(stop.reason)

    saved = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def grade(submission: Path, results_path: Path, config_path: str | None = None, progress: str = "components",
          report_path: Path | None = None, budget: float | None = None) -> int:
    """Grade and write ``results_path`` (and ``report_path``, the HTML report, unless None): 0 when grading completed, whatever the score.

    124 when the grading's time budget ran out, 128 + N when signal N stopped
    it (results.json keeps the tests that finished), 2 when the harness failed.
    """
    started = time.monotonic()
    state = None
    stop = Stop()
    sandboxes: list[Sandbox] = []
    with stopped_by_signals(stop, sandboxes, started):
        try:
            config = load_config(config_path)
            if budget is not None:
                config = dataclasses.replace(config, budget_seconds=budget)
            sandbox = Sandbox.for_this_machine(config.limits, [*PROTECTED, config.path])
            sandboxes.append(sandbox)
            deadline = started + config.budget_seconds - RESULTS_SECONDS
            state, exit_code = run_suites(config, Path(submission), sandbox, progress, stop, deadline)
            if state.faults:
                raise RuntimeError("the grader failed (not the submission):\n" + "\n".join(state.faults))
            if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
                raise RuntimeError(f"the test suites could not run (pytest exit code {exit_code})")
            board = leaderboard.entries(state)
            document = results.build_document(state.outcomes.values(), "\n".join(notes(state, sandbox, board)), time.monotonic() - started, board)
            code = 128 + stop.signal if stop.signal else BUDGET_EXIT_CODE if stop.reason else 0
        except Interrupted:
            document = results.interrupted_document(f"Grading {stop.reason}, before any test ran; run it again.", time.monotonic() - started)
            code = 128 + stop.signal
        except Exception as failure:  # whatever failed, a results file is written
            # A config error names the key and the fix; any other failure is a grader bug, shown with its lines.
            error = f"{type(failure).__name__}: {failure}" if isinstance(failure, ConfigError) else traceback.format_exc(limit=5)
            document = results.fallback_document(error, time.monotonic() - started)
            print(document["output"], error, sep="\n")  # the console: instructors only on Gradescope
            code = 2
        results.validate(document)
        results.write_atomically(results_path, document)
        html.publish(results_path, document, state, report_path)
    return code


def notes(state: GradingState, sandbox: Sandbox, board: list[dict[str, Any]]) -> list[str]:
    """The top of the results: what was found, how it was graded, what did not run."""
    lines = [state.discovery.summary(), *state.notes]
    if state.stop.reason:
        lines.append(stop_summary(state))
    lines.extend(sandbox.problems)
    if not sandbox.confined:
        lines.append("Unofficial run: not confined as on Gradescope (the worker user and its limits need root on Linux). The official grade comes from Gradescope.")
    lines.append(isolation.summary(sandbox.confined, [worker.confinement for worker in state.workers.values()]))
    if state.missing_suites:
        lines.append(f"{len(state.missing_suites)} hidden tests are not part of this copy of the grader; they run on Gradescope.")
    if board:
        lines.append("Leaderboard (not part of the score): " + "; ".join(f"{entry['name']}: {entry['value']:g}" for entry in board))
    return lines
