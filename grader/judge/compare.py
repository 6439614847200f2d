"""The one place that decides whether two values agree.

Tolerances scale with the magnitude of the expected values, so float32
internals pass and real bugs (errors of the order of the values) do not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import feedback


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-4
    scale: float = 1e-5  # absolute slack, as a fraction of the largest expected value

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        largest = float(np.max(np.abs(expected))) if expected.size else 0.0
        return self.scale * largest + 1e-9 + self.rtol * np.abs(expected)


ARRAYS = Tolerance()
FINITE_DIFFERENCES = Tolerance(rtol=1e-3, scale=1e-3)


def check_array(quantity: str, actual: Any, expected: np.ndarray, *, call: str, hint: str = "", against: str = "torch", tolerance: Tolerance = ARRAYS) -> None:
    """Fail with a teaching message unless ``actual`` is a float array close to ``expected``."""
    __tracebackhide__ = True
    check_shape(quantity, actual, expected.shape, call=call, hint=hint)
    if not np.all(np.isfinite(actual)):
        feedback.not_finite(quantity, actual, call)
    allowed = tolerance.allowed(expected)
    if np.any(np.abs(actual.astype(np.float64) - expected) > allowed):
        feedback.mismatch(quantity, actual, expected, allowed, call, hint, against)


def check_shape(quantity: str, actual: Any, shape: tuple[int, ...], *, call: str, hint: str = "") -> None:
    __tracebackhide__ = True
    if not isinstance(actual, np.ndarray) or actual.dtype.kind != "f":
        feedback.fail(call, f"  {quantity} is not a float numpy array (got {type(actual).__name__} {getattr(actual, 'dtype', '')})")
    if actual.shape != tuple(shape):
        feedback.wrong_shape(quantity, actual.shape, tuple(shape), call, hint)


def check_scalar(quantity: str, actual: Any, expected: float, *, call: str, hint: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> None:
    __tracebackhide__ = True
    if not isinstance(actual, (int, float)) or isinstance(actual, bool) or not np.isfinite(actual):
        feedback.fail(call, f"  {quantity} is {actual!r}, expected a finite number near {expected:.6g}")
    if abs(actual - expected) > atol + rtol * abs(expected):
        feedback.scalar_mismatch(quantity, float(actual), expected, call, hint)


def central_differences(outputs: np.ndarray, dout: np.ndarray, step: float) -> np.ndarray:
    """Numeric gradients of ``sum(forward * dout)`` from outputs at +step, -step per probe."""
    losses = np.tensordot(outputs.astype(np.float64), dout, axes=dout.ndim)
    return (losses[0::2] - losses[1::2]) / (2 * step)
