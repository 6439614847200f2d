"""Leaderboard entries for Gradescope: measurements that never change the score.

Tests record values with ``student.record(name, value)`` (the accuracy tests
record the validation accuracy they measured). ``measure`` adds what needs a
worker call of its own, after the tests: the time of the student's Conv2D,
forward then backward, divided by torch's conv2d on the same arrays in the same
worker process. ``entries`` turns what the config lists into Gradescope's format.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..config import LEADERBOARD_ENTRIES
from ..worker.runtime.assignment import in_part
from . import cases, compare
from .plugin import GradingState

CONV_SPEED_CASE = cases.conv("speed_4x3x16x16_k3_p1", (4, 3, 16, 16), out_channels=8, kernel_size=3, padding=1)
CONV_SPEED_LIMIT_SECONDS = 60.0  # wall clock for the whole measurement; a slower Conv2D gets no entry
MIN_TIMING_SECONDS = 0.5  # each side is run at least 3 times, and until this much time is spent
SPEED_SCENARIO = "speed.conv"


def measure(state: GradingState) -> None:
    """Run the leaderboard-only measurements the config asks for (after the tests, before the workers stop)."""
    if "conv_speed_vs_torch" in state.config.leaderboard:
        ratio = conv_speed_ratio(state)
        if ratio is not None:
            state.measurements["conv_speed_vs_torch"] = ratio


def conv_speed_ratio(state: GradingState) -> float | None:
    """The student's time over torch's, or None when Conv2D is missing, breaks Part 1's rule, fails or is wrong."""
    if state.discovery.problem_with("conv") or any(state.violations.get(component.name) for component in in_part(1)):
        return None
    x, params, dout = CONV_SPEED_CASE.inputs()
    args = {"init": CONV_SPEED_CASE.init, "params": params, "x": x, "dout": dout, "min_seconds": MIN_TIMING_SECONDS}
    outcome = state.worker_for(SPEED_SCENARIO).call(SPEED_SCENARIO, args, timeout=CONV_SPEED_LIMIT_SECONDS)
    if not outcome.ok or not isinstance(outcome.result, dict):
        return None
    from . import oracle  # torch: imported only when this entry is on, keeping `python -m grader` quick to start

    expected = oracle.layer_reference(CONV_SPEED_CASE)
    if not all(agrees(outcome.result.get(name), expected[name]) for name in ("out", "dx")):
        return None  # a fast wrong answer ranks nowhere
    student_time, torch_time = (seconds(outcome.result.get(name)) for name in ("student_seconds", "torch_seconds"))
    if student_time is None or torch_time is None:
        return None
    ratio = student_time / max(torch_time, 1e-9)
    return ratio if math.isfinite(ratio) else None


def seconds(value: Any) -> float | None:
    """A duration the worker reported, or None when it is not one (a string, a bool, NaN, inf, <= 0).

    Both times are measured in the student's process, which can send anything:
    a bad value costs the leaderboard entry, never the grade, and never gets
    into results.json (where NaN or inf would not even be valid JSON).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        return None
    return number if math.isfinite(number) and number > 0 else None


def agrees(actual: Any, expected: np.ndarray) -> bool:
    """Within the tolerance the layer tests use."""
    if not isinstance(actual, np.ndarray) or actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return False
    return bool(np.all(np.abs(actual.astype(np.float64) - expected) <= compare.ARRAYS.allowed(expected)))


def entries(state: GradingState) -> list[dict[str, Any]]:
    """Gradescope's ``leaderboard`` list, in the config's order; an entry nothing measured is left out."""
    board = []
    for name in state.config.leaderboard:
        if name in state.measurements:
            label, order = LEADERBOARD_ENTRIES[name]
            board.append({"name": label, "value": round(state.measurements[name], 4), "order": order})
    return board
