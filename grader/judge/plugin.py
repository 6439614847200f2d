"""The pytest plugin that turns the suites into a grade.

It reads each test's policy from the config, gives tests a ``student`` fixture
that runs scenarios in the worker under the test's time limit, merges the
setup/call/teardown phases into one outcome per test, and renders the report.
The CLI writes results.json after pytest returns and every worker is dead.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..calibration import Band, reference_bands
from ..config import GraderConfig
from ..discover import Discovery
from ..worker.client import CallOutcome, Worker
from ..worker.runtime import scenarios
from . import error_hints, evidence, feedback, hangs
from .integrity import Violation
from .outcome import TestMeta, TestOutcome

NOT_RUN = "not run: "


@dataclass
class Stop:
    """Why a grading ends before every test has run: a signal (Ctrl-C, a kill) or its time budget."""

    reason: str = ""
    signal: int = 0
    session: pytest.Session | None = None  # told to stop after the current test

    def request(self, reason: str, signal: int = 0) -> None:
        if not self.reason:
            self.reason, self.signal = reason, signal
        if self.session is not None and self.session.items:  # collected: stop after the current test
            self.session.shouldstop = self.reason


class GraderFault(Exception):
    """A mistake in the grader's own code: the grading fails as a whole (exit 2), no student loses points for it."""


class Interrupted(BaseException):
    """A signal arrived before any test ran: the grading's set-up is abandoned."""


@dataclass
class GradingState:
    """What the grading of one submission shares between tests."""

    config: GraderConfig
    discovery: Discovery
    workers: dict[str, Worker]
    violations: dict[str, list[Violation]]
    outcomes: dict[str, TestOutcome] = field(default_factory=dict)
    missing_suites: list[str] = field(default_factory=list)
    cache: dict[Any, Any] = field(default_factory=dict)
    measurements: dict[str, float] = field(default_factory=dict)  # for the leaderboard, never scored
    stop: Stop = field(default_factory=Stop)
    deadline: float = float("inf")  # time.monotonic() by which every call must have ended
    hangs: list[hangs.Hang] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # the grader's own mistakes: the grading fails, nobody loses points
    notes: list[str] = field(default_factory=list)  # printed before grading, and in results.json's output

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    @functools.cached_property
    def reference_bands(self) -> dict[str, Band]:
        """The reference's learning curves over the calibration seeds, read once per grading (figures only)."""
        return reference_bands(self.config)

    def worker_for(self, scenario: str) -> Worker:
        """The worker of the part the scenario is registered with."""
        part = scenarios.part_of(scenario)
        if part is None:
            raise GraderFault(f"unknown scenario {scenario!r}")
        return self.workers[f"part{part}"]

    def not_again(self) -> dict[str, str]:
        """The student functions that did not return earlier: the worker refuses to call them."""
        return {hang.target: hang.refusal() for hang in self.hangs if hang.function}

    def refuse_if_stopped_or_hung(self, meta: TestMeta) -> None:
        """Fail at once when the grading is stopping, or a file this test needs hung while it was imported."""
        __tracebackhide__ = True
        if self.stop.reason:
            feedback.refuse(f"{NOT_RUN}{self.stop.reason}")
        files = {self.discovery.file_of(component) for component in meta.components}
        for hang in self.hangs:
            if not hang.function and hang.file in files:
                feedback.refuse(hang.refusal())


META_KEY = pytest.StashKey[TestMeta]()


class Student:
    """A test's handle on the submission: runs scenarios within the test's time budget."""

    def __init__(self, state: GradingState, meta: TestMeta, outcome: TestOutcome) -> None:
        self.state, self.meta, self.outcome = state, meta, outcome
        self.budget = meta.timeout

    def run(self, scenario: str, call: str, *, cache_key: Any = None, **args: Any) -> dict[str, Any]:
        """The scenario's result, or a failed test saying what went wrong."""
        __tracebackhide__ = True
        key = (scenario, cache_key)
        if cache_key is not None and key in self.state.cache:
            outcome = self.state.cache[key]
        else:
            outcome = self._call(scenario, args)
            if cache_key is not None and not outcome.timed_out:  # a time-out is not repeated: the hang is remembered
                self.state.cache[key] = outcome
        if outcome.internal:
            raise GraderFault(f"{scenario}: {outcome.internal}")
        if outcome.failure:
            feedback.worker_failure(call, outcome.failure)
        if outcome.error:
            feedback.student_error(call, outcome.error, error_hints.hint_for(scenario, args, outcome.error))
        evidence.keep(evidence.from_scenario, scenario, args, outcome.result, self.state.config.thresholds, self.state.reference_bands)
        return outcome.result  # type: ignore[return-value]

    def _call(self, scenario: str, args: dict[str, Any]) -> CallOutcome:
        """One call in the worker, within this test's time and the grading's; a time-out is remembered."""
        __tracebackhide__ = True
        state = self.state
        state.refuse_if_stopped_or_hung(self.meta)
        worker = state.worker_for(scenario)
        grading_left = state.seconds_left()
        timeout = max(min(self.budget, grading_left), 0.1)
        outcome = worker.call(scenario, args, timeout=timeout, not_again=state.not_again())
        if outcome.timed_out:
            self._timed_out(outcome, worker.stage / "submission", timeout, budget_ran_out=grading_left < self.budget)
        self.budget -= outcome.seconds
        self.outcome.output += outcome.output
        state.refuse_if_stopped_or_hung(self.meta)
        return outcome

    def _timed_out(self, outcome: CallOutcome, submission: Path, timeout: float, budget_ran_out: bool) -> None:
        """Remember which function did not return (later tests do not call it again), or stop when the grading's time is up."""
        meta, state = self.meta, self.state
        outcome.output, hang = hangs.locate(outcome.output, submission, meta.number, timeout)
        if hang is None and meta.components:  # no graded function on the stack: the component is not called again
            hang = hangs.component_hang(meta.components[0], state.discovery.file_of(meta.components[0]), meta.number, timeout)
        if budget_ran_out:
            what = hang.shown if hang else " and ".join(meta.components) or "code"
            state.stop.request(f"the grading hit its time limit of {state.config.budget_seconds:.0f} s while running test {meta.number} ({meta.name}): your {what} did not return")
        elif hang:
            state.hangs.append(hang)

    def record(self, name: str, value: float) -> None:
        """Keep a measurement (e.g. an accuracy) for the leaderboard; it never changes the score."""
        self.state.measurements[name] = float(value)


class GradingPlugin:
    def __init__(self, state: GradingState, progress: bool = False) -> None:
        self.state = state
        self.show_progress = progress  # our own progress lines instead of pytest's
        self.progress: Any = None

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "tags(*names): components whose points the test holds, and descriptive tags")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        grader_config = self.state.config
        present = {config_key(item) for item in items}
        suite_files = {key.split("::")[0] for key in present}
        for key, policy in grader_config.tests.items():
            if key in present:
                continue
            if key.split("::")[0] in suite_files or policy.visibility == "visible":
                raise pytest.UsageError(f"{grader_config.path}: [tests] names {key}, which does not exist")
            self.state.missing_suites.append(key)
        items.sort(key=lambda item: grader_config.order_of(item.path.name))
        cases: dict[str, int] = {}
        for item in items:
            cases[config_key(item)] = cases.get(config_key(item), 0) + 1
        counters: dict[int, int] = {}
        seen: dict[str, int] = {}
        for item in items:
            key = config_key(item)
            seen[key] = seen.get(key, 0) + 1
            meta = self._meta(item, case_points(self.state.config.policy(key).points, cases[key], seen[key]), counters)
            item.stash[META_KEY] = meta
            self.state.outcomes[item.nodeid] = TestOutcome(meta)

    def _meta(self, item: pytest.Item, points: float, counters: dict[int, int]) -> TestMeta:
        key = config_key(item)
        policy = self.state.config.policy(key)
        part = self.state.config.part_of(item.path.name)
        counters[part] = counters.get(part, 0) + 1
        tags = [tag for mark in item.iter_markers("tags") for tag in mark.args]
        unknown = [tag for tag in tags if not tag.isidentifier()]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: malformed tags {unknown}")
        stem = item.path.stem.removeprefix("test_")
        function = item.name.split("[")[0].removeprefix("test_").replace("_", " ")
        case = f" [{item.name.split('[', 1)[1]}" if "[" in item.name else ""
        return TestMeta(
            key=key,
            name=f"{stem}: {function}{case}",
            number=f"{part}.{counters[part]}",
            points=points,
            visibility=policy.visibility,
            timeout=policy.timeout,
            tags=tuple(dict.fromkeys(tags)),
            part=part,
            hide_errors=policy.hide_errors,
        )

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        """The submission, for this test; fails at once if a component it needs is missing or forbidden."""
        __tracebackhide__ = True
        meta = request.node.stash[META_KEY]
        for component in meta.components:
            problem = self.state.discovery.problem_with(component)
            if problem:
                feedback.refuse(f"{component}: {problem}; this test cannot run.")
            if self.state.violations.get(component):
                lines = [f"    {self.state.discovery.file_of(component)}, {v}" for v in self.state.violations[component]]
                feedback.refuse(f"{component}: Part 1 may use only NumPy and the standard library; no credit for {component}:", *lines)
        return Student(self.state, meta, self.state.outcomes[request.node.nodeid])

    @pytest.fixture
    def grader_config(self) -> GraderConfig:
        return self.state.config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.state.stop.session = session

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.state.stop.reason:  # stopped while the tests were being collected: every test is reported, as not run
            session.shouldstop = self.state.stop.reason

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        report = yield
        outcome = self.state.outcomes.get(item.nodeid)
        if outcome is not None:
            outcome.ran = True
            outcome.seconds += call.duration
            if call.excinfo is not None and call.excinfo.errisinstance(GraderFault):
                self.state.faults.append(f"{item.nodeid}: {call.excinfo.value}")
                self.state.stop.request("the grader failed")
            if call.excinfo is not None and outcome.passed:
                outcome.passed = False
                outcome.message = failure_message(call.excinfo)
                outcome.feedback = call.excinfo.value.feedback if isinstance(call.excinfo.value, feedback.CheckFailed) else None
                outcome.evidence = with_measurements(evidence.take(), self.state.measurements)
            if call.when == "teardown":
                evidence.take()  # a passed test's evidence is not kept
        return report

    def pytest_runtestloop(self, session: pytest.Session) -> None:
        if self.show_progress:
            from ..report.console import Progress

            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            self.progress = Progress(reporter, list(self.state.outcomes.values()), [part.name for part in self.state.config.parts])

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """No letter or word per test from pytest when we show progress: a failing test is a FAIL in our table, never an "error"."""
        if not self.show_progress:
            return None
        return (report.outcome, "", "") if report.when == "call" or report.failed else ("", "", "")

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if self.progress is not None and nodeid in self.state.outcomes:
            self.progress.finished(self.state.outcomes[nodeid])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for worker in self.state.workers.values():
            worker.stop()
        for outcome in self.state.outcomes.values():
            if not outcome.ran:  # never reached: the grading was stopped
                outcome.passed, outcome.message = False, f"{NOT_RUN}{self.state.stop.reason or 'the grading stopped early'}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from ..report.console import render

        terminalreporter.write_line(render(self.state))
        if self.state.stop.reason:
            terminalreporter.write_line(stop_summary(self.state))


def stop_summary(state: GradingState) -> str:
    """One line when the grading stopped early: why, and how much of it ran."""
    ran = sum(outcome.ran and not outcome.message.startswith(NOT_RUN) for outcome in state.outcomes.values())
    after = "run again to grade the rest" if state.stop.signal else "the tests that did not run score 0"
    return f"Grading stopped early: {state.stop.reason}. {ran} of {len(state.outcomes)} tests ran; {after}."


def config_key(item: pytest.Item) -> str:
    """The test's key in the config: ``file.py::function``, without the case."""
    return item.nodeid.split("[")[0].split("/")[-1]


def case_points(points: float, cases: int, case: int) -> float:
    """The points of case ``case`` (1-based) of a test whose ``points`` its ``cases`` cases share.

    Each case gets the share rounded to 4 decimals (as results.json writes
    them) and the last case the remainder, so that the cases add up to
    exactly ``points`` on Gradescope (1/3 is 0.3333 + 0.3333 + 0.3334).
    """
    share = round(points / cases, 4)
    return share if case < cases else round(points - share * (cases - 1), 4)


def failure_message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """Our own failures verbatim; anything else is a grader bug or a Python error, shown briefly."""
    if isinstance(excinfo.value, pytest.fail.Exception):
        return str(excinfo.value.msg)
    return f"internal error in the test: {excinfo.typename}: {excinfo.value}"


def with_measurements(items: list[dict[str, Any]], measurements: dict[str, float]) -> list[dict[str, Any]]:
    """Learning curves get the validation accuracy their test measured, when it got that far."""
    for item in items:
        if item["kind"] == "curve" and f"{item['recipe']}_accuracy" in measurements:
            item["validation"] = measurements[f"{item['recipe']}_accuracy"]
    return items
