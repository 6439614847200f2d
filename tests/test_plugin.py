"""The grading plugin, in process: tiny suites and configs in pytester's folder, graded as grade.py grades them."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from grader.config import DEFAULT_PATH, load_config
from grader.discover import Discovery
from grader.judge.feedback import GENERIC_HIDDEN
from grader.judge.outcome import TestOutcome
from grader.judge.plugin import GradingPlugin, GradingState
from grader.report.results import build_result
from grader.worker.runtime.assignment import graded_files

pytest_plugins = ["pytester"]

SUITE = '''
import pytest

pytestmark = pytest.mark.tags("relu")


@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_shared(case):
    pass


def test_fails():
    pytest.fail("relu: wrong values")


@pytest.mark.tags("forward")
def test_needs_student(student):
    pass


@pytest.fixture
def broken():
    raise RuntimeError("no data")


def test_with_broken_fixture(broken):
    pass
'''
POLICY = {
    "test_shared": "{ points = 1 }",
    "test_fails": "{ points = 2 }",
    "test_needs_student": "{ points = 3 }",
    "test_with_broken_fixture": "{ points = 1 }",
}


@dataclass
class Graded:
    """What grading the suite gave: pytest's exit code and output, and each test's outcome by name."""

    ret: int
    output: str
    outcomes: dict[str, TestOutcome]


Grade = Callable[..., Graded]


def config_text(tests: dict[str, str]) -> str:
    """The project's config (datasets, training, limits) with one part holding ``test_suite.py`` and these tests."""
    common = DEFAULT_PATH.read_text().split("[[parts]]")[0]
    entries = "\n".join(f'"test_suite.py::{name}" = {policy}' for name, policy in tests.items())
    total = sum(float(points) for points in re.findall(r"points = ([\d.]+)", entries))
    common = re.sub(r"(?m)^total_points = .*$", f"total_points = {total:g}", common)
    return f'{common}[[parts]]\nname = "Part 1"\nfiles = ["test_suite.py"]\n\n[tests]\n{entries}\n'


@pytest.fixture
def grade(pytester: pytest.Pytester) -> Grade:
    """Grade ``SUITE`` under a config built from ``policy``, every graded file found but those ``missing``."""

    def run(policy: dict[str, str] = POLICY, *, missing: tuple[str, ...] = ()) -> Graded:
        pytester.makepyfile(test_suite=SUITE)
        pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n")
        config = load_config(pytester.makefile(".toml", config=config_text(policy)))
        found = {path: path for path in graded_files() if path not in missing}
        state = GradingState(config, Discovery(found, missing=missing), workers={}, violations={})
        result = pytester.runpytest("--tb=short", plugins=[GradingPlugin(state)])
        outcomes = {nodeid.split("::")[1]: outcome for nodeid, outcome in state.outcomes.items()}
        return Graded(result.ret, result.stdout.str() + result.stderr.str(), outcomes)

    return run


def test_parametrized_cases_share_the_points_and_add_up_exactly(grade: Grade):
    outcomes = grade().outcomes
    shared = [outcomes[f"test_shared[{case}]"] for case in "abc"]
    assert [o.meta.points for o in shared] == [0.3333, 0.3333, 0.3334]
    assert all(o.passed for o in shared)
    assert [o.meta.name for o in shared] == ["suite: shared [a]", "suite: shared [b]", "suite: shared [c]"]


def test_tags_from_module_and_test_marks_reach_the_results(grade: Grade):
    outcomes = grade().outcomes
    assert outcomes["test_needs_student"].meta.tags == ("forward", "relu")  # the closest mark first
    assert build_result(outcomes["test_fails"])["tags"] == ["relu"]
    assert outcomes["test_fails"].meta.components == ("relu",)


def test_a_failure_keeps_its_message_and_scores_nothing(grade: Grade):
    result = build_result(grade().outcomes["test_fails"])
    assert (result["score"], result["max_score"], result["status"], result["output"]) == (0, 2, "failed", "relu: wrong values")


def test_a_fixture_that_fails_fails_its_test_with_the_reason(grade: Grade):
    outcome = grade(missing=("part1_scratch/relu.py",)).outcomes["test_needs_student"]
    assert not outcome.passed
    assert outcome.message == "relu: relu.py was not found in the submission; this test cannot run."
    assert build_result(outcome)["score"] == 0


def test_a_fixture_that_raises_fails_its_test_as_an_internal_error(grade: Grade):
    outcome = grade().outcomes["test_with_broken_fixture"]
    assert (outcome.passed, outcome.ran, outcome.message) == (False, True, "internal error in the test: RuntimeError: no data")


def test_the_student_fixture_passes_when_the_component_is_there(grade: Grade):
    assert grade().outcomes["test_needs_student"].passed


@pytest.mark.parametrize(("policy", "shown"), [
    ('{ points = 2, visibility = "hidden" }', GENERIC_HIDDEN),
    ('{ points = 2, visibility = "after_published" }', GENERIC_HIDDEN),
    ('{ points = 2, hide_errors = "Check your ReLU against the spec." }', "Check your ReLU against the spec."),
])
def test_hidden_tests_and_hide_errors_replace_the_message(grade: Grade, policy: str, shown: str):
    outcome = grade({**POLICY, "test_fails": policy}).outcomes["test_fails"]
    assert outcome.message == "relu: wrong values"  # kept for the instructor's report
    assert build_result(outcome)["output"] == shown


def test_a_passing_hidden_test_keeps_its_points(grade: Grade):
    outcomes = grade({**POLICY, "test_shared": '{ points = 1, visibility = "hidden" }'}).outcomes
    assert [build_result(outcomes[f"test_shared[{case}]"])["score"] for case in "abc"] == [0.3333, 0.3333, 0.3334]


def test_a_config_entry_for_a_test_that_does_not_exist_is_a_usage_error(grade: Grade):
    graded = grade({**POLICY, "test_renamed": "{ points = 1 }"})
    assert graded.ret == pytest.ExitCode.USAGE_ERROR
    assert "[tests] names test_suite.py::test_renamed, which does not exist" in graded.output
    assert graded.outcomes == {}


def test_a_test_without_a_config_entry_is_refused(grade: Grade):
    graded = grade({name: policy for name, policy in POLICY.items() if name != "test_fails"})
    assert graded.ret == pytest.ExitCode.INTERNAL_ERROR
    assert "test_suite.py::test_fails has no entry under [tests]" in graded.output
