"""Every message a student reads comes from here: what was called, what differs, by how much, where, and why it might."""
from __future__ import annotations

from typing import Any, NoReturn

import numpy as np
import pytest

GENERIC_HIDDEN = "This test failed; its details are hidden until grades are published."


def fail(*lines: str) -> NoReturn:
    __tracebackhide__ = True
    pytest.fail("\n".join(line for line in lines if line), pytrace=False)


def hint_line(hint: str) -> str:
    return f"  Hint: {hint}" if hint else ""


def index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def mismatch(quantity: str, actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray, call: str, hint: str, against: str) -> NoReturn:
    __tracebackhide__ = True
    error = np.abs(actual.astype(np.float64) - expected)
    worst = np.unravel_index(int(np.argmax(error - allowed)), error.shape) if error.ndim else ()
    scale = float(np.max(np.abs(expected))) or 1.0
    fail(
        call,
        f"  {quantity} differs from {against}: max abs error {error[worst]:.3g} at {index_text(worst)} "
        f"(got {actual[worst]:.6g}, expected {expected[worst]:.6g}; {error[worst] / scale:.1%} of the largest expected value)",
        f"  {int(np.sum(error > allowed))} of {error.size} values are outside the tolerance",
        hint_line(hint),
    )


def wrong_shape(quantity: str, actual: tuple[int, ...], expected: tuple[int, ...], call: str, hint: str) -> NoReturn:
    __tracebackhide__ = True
    fail(call, f"  {quantity} has shape {tuple(actual)}, expected {tuple(expected)}", hint_line(hint))


def not_finite(quantity: str, actual: np.ndarray, call: str) -> NoReturn:
    __tracebackhide__ = True
    bad = np.argwhere(~np.isfinite(actual))
    fail(call, f"  {quantity} contains {len(bad)} NaN/inf values, the first at {index_text(tuple(bad[0]))}")


def scalar_mismatch(quantity: str, actual: float, expected: float, call: str, hint: str) -> NoReturn:
    __tracebackhide__ = True
    fail(call, f"  {quantity} is {actual:.6g}, expected {expected:.6g} (difference {actual - expected:+.3g})", hint_line(hint))


def student_error(call: str, error: dict[str, Any]) -> NoReturn:
    """The student's code raised: 'not implemented yet' for stubs, else the exception and its lines."""
    __tracebackhide__ = True
    kind, message = error.get("type", "Error"), str(error.get("message", ""))
    if kind == "NotImplementedError":
        fail(call, f"  not implemented yet{': ' + message if message else ''}")
    if kind == "ContractError":
        fail(call, f"  {message}")
    where = [f"    {frame}" for frame in error.get("frames", [])]
    fail(call, f"  raised {kind}: {message}", *(["  in your code:"] + where if where else []))


def worker_failure(call: str, failure: str) -> NoReturn:
    __tracebackhide__ = True
    fail(call, f"  {failure}")
