"""The leaderboard: entries recorded by tests or measured after them, never part of the score."""
from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from grader.config import LEADERBOARD_ENTRIES, ConfigError, load_config
from grader.discover import Discovery
from grader.judge import leaderboard
from grader.judge.plugin import GradingState
from grader.worker.client import CallOutcome

from conftest import REFERENCE, leaderboard_on


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The default config with the leaderboard on."""
    return leaderboard_on(tmp_path_factory.mktemp("config") / "config.toml")


def test_the_leaderboard_is_off_by_default_and_lists_both_entries_when_on(example):
    assert load_config().leaderboard == ()
    assert load_config(example).leaderboard == ("end_to_end_accuracy", "conv_speed_vs_torch")


def test_unknown_leaderboard_entry_is_refused(tmp_path, example):
    path = tmp_path / "config.toml"
    path.write_text(example.read_text().replace('"conv_speed_vs_torch"]', '"fastest_typist"]'))
    with pytest.raises(ConfigError, match="fastest_typist"):
        load_config(path)


class FakeWorker:
    """Answers one scenario call with a prepared outcome, and remembers the call."""

    def __init__(self, outcome: CallOutcome) -> None:
        self.outcome, self.calls = outcome, []

    def call(self, scenario, args, timeout):
        self.calls.append((scenario, args, timeout))
        return self.outcome


def state_with(result=None, error=None, violations=None, missing=()) -> GradingState:
    worker = FakeWorker(CallOutcome("speed.conv", result=result, error=error))
    config = dataclasses.replace(load_config(), leaderboard=("end_to_end_accuracy", "conv_speed_vs_torch"))
    return GradingState(config, Discovery(found={}, missing=tuple(missing)), {"part2": worker}, violations or {})


def correct_speed_result(student_seconds=0.02, torch_seconds=0.004):
    from grader.judge import oracle

    expected = oracle.layer_reference(leaderboard.CONV_SPEED_CASE)
    return {"out": expected["out"], "dx": expected["dx"], "student_seconds": student_seconds, "torch_seconds": torch_seconds}


def test_entries_follow_the_config_in_gradescope_format():
    state = state_with()
    state.measurements.update({"conv_speed_vs_torch": 4.123456, "end_to_end_accuracy": 0.97551, "twolayer_accuracy": 0.9})
    assert leaderboard.entries(state) == [
        {"name": LEADERBOARD_ENTRIES["end_to_end_accuracy"][0], "value": 0.9755, "order": "desc"},
        {"name": LEADERBOARD_ENTRIES["conv_speed_vs_torch"][0], "value": 4.1235, "order": "asc"},
    ]


def test_an_entry_nothing_measured_is_left_out():
    state = state_with()
    state.measurements["end_to_end_accuracy"] = 0.5
    assert [entry["order"] for entry in leaderboard.entries(state)] == ["desc"]


def test_conv_speed_is_the_time_ratio_of_a_correct_conv():
    state = state_with(result=correct_speed_result())
    leaderboard.measure(state)
    assert state.measurements["conv_speed_vs_torch"] == pytest.approx(5.0)
    scenario, args, _ = state.workers["part2"].calls[0]
    assert scenario == "speed.conv" and args["x"].shape == leaderboard.CONV_SPEED_CASE.x_shape


@pytest.mark.parametrize("spoil", ["wrong_values", "wrong_shape", "nan", "student_error"])
def test_a_wrong_or_failing_conv_gets_no_speed_entry(spoil):
    result = correct_speed_result()
    error = None
    if spoil == "wrong_values":
        result["dx"] = result["dx"] * 1.01
    elif spoil == "wrong_shape":
        result["out"] = result["out"][:, :, 1:]
    elif spoil == "nan":
        result["out"] = np.full_like(result["out"], np.nan)
    else:
        result, error = None, {"type": "NotImplementedError", "message": "", "frames": []}
    state = state_with(result=result, error=error)
    leaderboard.measure(state)
    assert "conv_speed_vs_torch" not in state.measurements


@pytest.mark.parametrize("problem", ["missing", "forbidden_import"])
def test_no_speed_entry_when_conv_cannot_be_graded(problem):
    from grader.judge.integrity import Violation

    state = state_with(result=correct_speed_result(), missing=["part1_scratch/conv.py"] if problem == "missing" else (),
                       violations={"relu": [Violation(1, "imports torch")]} if problem == "forbidden_import" else None)
    leaderboard.measure(state)
    assert "conv_speed_vs_torch" not in state.measurements and state.workers["part2"].calls == []


def test_speed_scenario_times_the_solution_and_torch(monkeypatch):
    monkeypatch.syspath_prepend(str(REFERENCE))
    from grader.worker.runtime import part2

    x, params, dout = leaderboard.CONV_SPEED_CASE.inputs()
    try:
        result = part2.conv_speed(init=leaderboard.CONV_SPEED_CASE.init, params=params, x=x, dout=dout, min_seconds=0.0)
    finally:
        for name in [name for name in sys.modules if name.startswith("part1_scratch")]:
            del sys.modules[name]
    assert result["student_seconds"] > 0 and result["torch_seconds"] > 0
    expected = correct_speed_result()
    assert leaderboard.agrees(result["out"], expected["out"]) and leaderboard.agrees(result["dx"], expected["dx"])


@pytest.mark.parametrize("bad", ["0.01", None, True, float("nan"), float("inf"), -0.02, 0, 10**400, [0.02]],
                         ids=["string", "none", "bool", "nan", "inf", "negative", "zero", "huge_int", "list"])
@pytest.mark.parametrize("field", ["student_seconds", "torch_seconds"])
def test_a_bad_time_from_the_worker_drops_the_entry_not_the_grading(field, bad):
    result = correct_speed_result()
    result[field] = bad
    state = state_with(result=result)
    leaderboard.measure(state)
    assert "conv_speed_vs_torch" not in state.measurements
    assert leaderboard.entries(state) == []


def test_a_ratio_beyond_float_range_drops_the_entry():
    state = state_with(result=correct_speed_result(student_seconds=1e308, torch_seconds=1e-300))
    leaderboard.measure(state)
    assert "conv_speed_vs_torch" not in state.measurements


@pytest.mark.parametrize("result", [[1, 2], "fast"])
def test_a_result_that_is_not_a_mapping_drops_the_entry(result):
    state = state_with(result=result)
    leaderboard.measure(state)
    assert "conv_speed_vs_torch" not in state.measurements


def test_an_integer_time_is_a_time():
    state = state_with(result=correct_speed_result(student_seconds=3, torch_seconds=1))
    leaderboard.measure(state)
    assert state.measurements["conv_speed_vs_torch"] == 3.0
