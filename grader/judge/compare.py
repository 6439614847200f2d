"""The one place that decides whether two values agree.

Tolerances scale with the magnitude of the expected values, so float32
internals pass and real bugs (errors of the order of the values) do not.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from . import evidence, feedback
from .feedback import Difference


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-4
    scale: float = 1e-5  # absolute slack, as a fraction of the largest expected value

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        largest = float(np.max(np.abs(expected))) if expected.size else 0.0
        return self.scale * largest + 1e-9 + self.rtol * np.abs(expected)


ARRAYS = Tolerance()
FINITE_DIFFERENCES = Tolerance(rtol=1e-3, scale=1e-3)

# (what the student may have computed instead, those values): tried in order when a comparison fails.
Mistakes = Callable[[], Sequence[tuple[str, np.ndarray]]]


def close(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance = ARRAYS) -> bool:
    return actual.shape == expected.shape and bool(np.all(np.abs(actual.astype(np.float64) - expected) <= tolerance.allowed(expected)))


def simple_ratio(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> Fraction | float | None:
    """r when actual == r * expected within the tolerance (r != 1, r != 0), as a small fraction when it is one."""
    norm = float(np.sum(expected * expected))
    if not norm:
        return None
    r = float(np.sum(actual * expected)) / norm
    if abs(r - 1) < 1e-3 or abs(r) < 1e-6 or not close(actual, r * expected, tolerance):
        return None
    fraction = Fraction(r).limit_denominator(1000)
    return fraction if abs(float(fraction) - r) <= 1e-6 * abs(r) else r


def whole_ratio(actual: float, expected: float) -> Fraction | None:
    """k or 1/k (k a whole number from 2 to 1000, with its sign) when actual == that * expected: e.g. a percentage."""
    if not expected or not actual:
        return None
    r = actual / expected
    for inverted, candidate in enumerate((abs(r), 1 / abs(r))):
        k = round(candidate)
        if 2 <= k <= 1000 and abs(candidate - k) <= 1e-6 * k:
            whole = Fraction(k if r > 0 else -k)
            return 1 / whole if inverted else whole
    return None


def confinement(bad: np.ndarray) -> tuple[tuple[int, tuple[int, ...], int], ...]:
    """Axes along which the wrong values occupy only some indices (when there are several wrong values)."""
    if bad.ndim < 1 or int(bad.sum()) < 2:
        return ()
    found = []
    for axis, length in enumerate(bad.shape):
        indices = tuple(int(i) for i in np.flatnonzero(bad.any(axis=tuple(a for a in range(bad.ndim) if a != axis))))
        if length > 1 and len(indices) < length:
            found.append((axis, indices, length))
    return tuple(found)


def known_mistakes(mistakes: Mistakes | None) -> Sequence[tuple[str, np.ndarray]]:
    """The candidates, or none if computing them fails: they only refine a message, never decide a test."""
    try:
        return mistakes() if mistakes else ()
    except Exception:
        return ()


def difference(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray, tolerance: Tolerance, mistakes: Mistakes | None = None) -> Difference:
    """Everything the feedback says about a failed comparison."""
    actual = actual.astype(np.float64)
    error = np.abs(actual - expected)
    bad = error > allowed
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error - allowed)), error.shape)) if error.ndim else ()
    largest = float(np.max(np.abs(expected))) if expected.size else 0.0
    zero = np.abs(expected) <= 1e-12 * (largest or 1.0)
    mistake = next((what for what, values in known_mistakes(mistakes) if close(actual, np.asarray(values, dtype=np.float64), tolerance)), "")
    return Difference(
        worst=worst, got=float(actual[worst]), expected=float(expected[worst]), error=float(error[worst]), largest=largest,
        outside=int(bad.sum()), size=int(bad.size), ratio=simple_ratio(actual, expected, tolerance),
        spurious=int(np.sum(bad & zero & (actual != 0))), missing=int(np.sum(bad & ~zero & (actual == 0))),
        confined=confinement(bad), mistake=mistake,
    )


def check_array(
    quantity: str, actual: Any, expected: np.ndarray, *, call: str, hint: str = "", against: str = "torch",
    tolerance: Tolerance = ARRAYS, axes: Sequence[str] = (), mistakes: Mistakes | None = None,
) -> None:
    """Fail with a teaching message unless ``actual`` is a float array close to ``expected``.

    ``axes`` names the axes (e.g. "sample", "row") for saying where the wrong
    values are; ``mistakes`` lists what a student may have computed instead,
    and is evaluated only when the comparison fails.
    """
    __tracebackhide__ = True
    check_shape(quantity, actual, expected.shape, call=call, hint=hint)
    if not np.all(np.isfinite(actual)):
        feedback.not_finite(quantity, actual, call)
    allowed = tolerance.allowed(expected)
    if np.any(np.abs(actual.astype(np.float64) - expected) > allowed):
        found = difference(actual, expected, allowed, tolerance, mistakes)
        evidence.keep(evidence.array_difference, quantity, actual, expected, found.worst, float(allowed[found.worst]), against, axes,
                      feedback.pattern_lines(found, axes))
        feedback.mismatch(quantity, found, call, hint, against, axes)


def check_shape(quantity: str, actual: Any, shape: tuple[int, ...], *, call: str, hint: str = "") -> None:
    __tracebackhide__ = True
    if not isinstance(actual, np.ndarray) or actual.dtype.kind != "f":
        feedback.fail(call, f"  {quantity} is not a float numpy array (got {type(actual).__name__} {getattr(actual, 'dtype', '')})")
    if actual.shape != tuple(shape):
        evidence.keep(evidence.wrong_shape, quantity, actual.shape, shape)
        feedback.wrong_shape(quantity, actual.shape, tuple(shape), call, hint)


def check_scalar(quantity: str, actual: Any, expected: float, *, call: str, hint: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> None:
    __tracebackhide__ = True
    if not isinstance(actual, (int, float)) or isinstance(actual, bool) or not np.isfinite(actual):
        feedback.fail(call, f"  {quantity} is {actual!r}, expected a finite number near {expected:.6g}")
    if abs(actual - expected) > atol + rtol * abs(expected):
        feedback.scalar_mismatch(quantity, float(actual), expected, call, hint, whole_ratio(float(actual), expected))


def central_differences(outputs: np.ndarray, dout: np.ndarray, step: float) -> np.ndarray:
    """Numeric gradients of ``sum(forward * dout)`` from outputs at +step, -step per probe."""
    losses = np.tensordot(outputs.astype(np.float64), dout, axes=dout.ndim)
    return (losses[0::2] - losses[1::2]) / (2 * step)
