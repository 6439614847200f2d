"""The pytest plugin that turns the suites into a grade.

It reads each test's policy from the config, gives tests a ``student`` fixture
that runs scenarios in the worker under the test's time limit, merges the
setup/call/teardown phases into one outcome per test, and renders the report.
The CLI writes results.json after pytest returns and every worker is dead.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from ..config import GraderConfig
from ..discover import Discovery
from ..worker.client import Worker
from . import evidence, feedback
from .integrity import Violation

PART1_SCENARIOS = ("layer.", "sgd.", "scratch.")
STUDENT_COMPONENTS = ("conv", "maxpool", "relu", "linear", "sgd", "twolayer", "vanilla_cnn", "train_epoch", "validate")


@dataclass(frozen=True)
class TestMeta:
    """Everything the report needs to know about one test, from the config and the test's marks."""

    __test__ = False  # not a pytest test class

    key: str
    name: str
    number: str
    points: float
    visibility: str
    timeout: float
    tags: tuple[str, ...]
    part: int
    hide_errors: str | None = None

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(tag for tag in self.tags if tag in STUDENT_COMPONENTS)


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest test class
    meta: TestMeta
    passed: bool = True
    message: str = ""
    output: str = ""
    seconds: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)  # figure data of a failed test, for the HTML report


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
            worker = self.state.workers["part1" if scenario.startswith(PART1_SCENARIOS) else "part2"]
            outcome = worker.call(scenario, args, timeout=max(self.budget, 0.1))
            self.budget -= outcome.seconds
            self.outcome.output += outcome.output
            if cache_key is not None:
                self.state.cache[key] = outcome
        if outcome.failure:
            feedback.worker_failure(call, outcome.failure)
        if outcome.error:
            feedback.student_error(call, outcome.error)
        evidence.keep(evidence.from_scenario, scenario, args, outcome.result, self.state.config.thresholds)
        return outcome.result  # type: ignore[return-value]

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

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The judge's torch (imported by the suites) computes on tiny tensors: one thread.

        More threads win nothing here, and their busy-waiting takes the cores
        the workers need: about a quarter of a grading's CPU time.
        """
        import torch

        torch.set_num_threads(1)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        grader_config = self.state.config
        present = {item.nodeid.split("[")[0].split("/")[-1] for item in items}
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
            key = item.nodeid.split("[")[0].split("/")[-1]
            cases[key] = cases.get(key, 0) + 1
        counters: dict[int, int] = {}
        for item in items:
            meta = self._meta(item, cases, counters)
            item.stash[META_KEY] = meta
            self.state.outcomes[item.nodeid] = TestOutcome(meta)

    def _meta(self, item: pytest.Item, cases: dict[str, int], counters: dict[int, int]) -> TestMeta:
        key = item.nodeid.split("[")[0].split("/")[-1]
        policy = self.state.config.policy(key)
        part = self.state.config.part_of(item.path.name)
        counters[part] = counters.get(part, 0) + 1
        tags = [tag for mark in item.iter_markers("tags") for tag in mark.args]
        tags += list(getattr(item.obj, "__tags__", ()))  # type: ignore[attr-defined]
        unknown = [tag for tag in tags if tag not in STUDENT_COMPONENTS and not tag.isidentifier()]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: malformed tags {unknown}")
        stem = item.path.stem.removeprefix("test_")
        function = item.name.split("[")[0].removeprefix("test_").replace("_", " ")
        case = f" [{item.name.split('[', 1)[1]}" if "[" in item.name else ""
        return TestMeta(
            key=key,
            name=f"{stem}: {function}{case}",
            number=f"{part}.{counters[part]}",
            points=policy.points / cases[key],
            visibility=policy.visibility,
            timeout=policy.timeout,
            tags=tuple(dict.fromkeys(tags)),
            part=part,
            hide_errors=getattr(item.obj, "__hide_errors__", None),  # type: ignore[attr-defined]
        )

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        """The submission, for this test; fails at once if a component it needs is missing or forbidden."""
        __tracebackhide__ = True
        meta = request.node.stash[META_KEY]
        for component in meta.components:
            problem = self.state.discovery.problem_with(component)
            if problem:
                feedback.fail(f"{component}: {problem}; this test cannot run.")
            if self.state.violations.get(component):
                lines = [f"    {self.state.discovery.file_of(component)}, {v}" for v in self.state.violations[component]]
                feedback.fail(f"{component}: Part 1 may use only NumPy and the standard library; no credit for {component}:", *lines)
        return Student(self.state, meta, self.state.outcomes[request.node.nodeid])

    @pytest.fixture
    def grader_config(self) -> GraderConfig:
        return self.state.config

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        report = yield
        outcome = self.state.outcomes.get(item.nodeid)
        if outcome is not None:
            outcome.seconds += call.duration
            if call.excinfo is not None and outcome.passed:
                outcome.passed = False
                outcome.message = failure_message(call.excinfo)
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

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from ..report.console import render

        terminalreporter.write_line(render(self.state))


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
