"""Every message a student reads comes from here: what was called, what differs, by how much, where, and why it might."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NoReturn

import numpy as np
import pytest

from . import numpy_removals

GENERIC_HIDDEN = "This test failed; its details are hidden until grades are published."


@dataclass(frozen=True)
class Difference:
    """How an array differs from what was expected: the worst element, how many, and any simple pattern."""

    worst: tuple[int, ...]
    got: float
    expected: float
    error: float
    largest: float  # the largest expected magnitude, for relative sizes
    outside: int
    size: int
    ratio: Fraction | float | None = None  # actual == ratio * expected everywhere
    spurious: int = 0  # non-zero where the expected value is exactly 0
    missing: int = 0  # zero where the expected value is not
    confined: tuple[tuple[int, tuple[int, ...], int], ...] = ()  # (axis, indices holding all wrong values, axis length)
    mistake: str = ""  # the known mistake whose values the student's equal


@dataclass(frozen=True)
class Feedback:
    """What a failed check tells the student, in parts: the report lays them out, ``text()`` is the message as written."""

    call: str  # what was called, e.g. "Conv2D(...).backward(dout)"
    facts: tuple[str, ...] = ()  # what differs, and by how much
    where: tuple[str, ...] = ()  # the student's lines the error came from, innermost last
    diagnosis: tuple[str, ...] = ()  # what the wrong values have in common: the likeliest cause
    hint: str = ""

    def text(self) -> str:
        lines = [self.call, *(f"  {fact}" for fact in self.facts)]
        if self.where:
            lines += ["  in your code:", *(f"    {frame}" for frame in self.where)]
        lines += [*(f"  {line}" for line in self.diagnosis), hint_line(self.hint)]
        return "\n".join(line for line in lines if line)


class CheckFailed(pytest.fail.Exception):
    """A failed check: pytest's own failure (no traceback), carrying its feedback for the reports."""

    def __init__(self, feedback: Feedback) -> None:
        super().__init__(feedback.text(), pytrace=False)
        self.feedback = feedback


def fail_with(feedback: Feedback) -> NoReturn:
    __tracebackhide__ = True
    raise CheckFailed(feedback)


def fail(call: str, *facts: str, hint: str = "") -> NoReturn:
    """Fail a check: ``facts`` are the message's lines after the call, as shown (indented by two spaces)."""
    __tracebackhide__ = True
    fail_with(Feedback(call, tuple(fact.removeprefix("  ") for fact in facts if fact), hint=hint))


def refuse(*lines: str) -> NoReturn:
    """Fail a test that cannot run (a component missing or forbidden, a hang, a stop): a plain message, not a check's feedback."""
    __tracebackhide__ = True
    pytest.fail("\n".join(lines), pytrace=False)


def hint_line(hint: str) -> str:
    return f"  Hint: {hint}" if hint else ""


def index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def ratio_text(ratio: Fraction | float) -> str:
    if ratio == -1:
        return "the negative of"
    if isinstance(ratio, Fraction):
        return f"{ratio.numerator} times" if ratio.denominator == 1 else f"{ratio} of"
    return f"{ratio:.4g} times"


def axis_text(axis: int, indices: tuple[int, ...], length: int, axes: Sequence[str]) -> str:
    name = axes[axis] if axis < len(axes) else f"axis {axis}"
    shown = ", ".join(map(str, indices[:6])) + (", ..." if len(indices) > 6 else "")
    return f"{name}{'s' if len(indices) > 1 and axis < len(axes) else ''} {shown} (of {length})"


def pattern_lines(found: Difference, axes: Sequence[str]) -> list[str]:
    """What the wrong values have in common, when something simple does: the likeliest pointer to the cause."""
    lines = []
    if found.mistake:
        lines.append(f"Your values equal {found.mistake}.")
    elif found.ratio is not None:
        lines.append(f"Every value is {ratio_text(found.ratio)} the expected one.")
    if found.spurious and not found.mistake:
        lines.append(f"{found.spurious} values are non-zero where the expected value is exactly 0.")
    if found.missing and not found.mistake:
        lines.append(f"{found.missing} values are 0 where the expected value is not.")
    narrow = [place for place in found.confined if 2 * len(place[1]) <= place[2]]
    if narrow and not found.mistake:
        lines.append("All wrong values are in " + " and ".join(axis_text(*place, axes) for place in narrow[:3]) + ".")
    return lines


def mismatch(quantity: str, found: Difference, call: str, hint: str, against: str, axes: Sequence[str] = ()) -> NoReturn:
    __tracebackhide__ = True
    facts = (
        f"{quantity} differs from {against}: max abs error {found.error:.3g} at {index_text(found.worst)} "
        f"(got {found.got:.6g}, expected {found.expected:.6g}; {found.error / (found.largest or 1.0):.1%} of the largest expected value)",
        f"{found.outside} of {found.size} values are outside the tolerance",
    )
    fail_with(Feedback(call, facts, diagnosis=tuple(pattern_lines(found, axes)), hint=hint))


def shape_relation(actual: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """How a wrong shape relates to the expected one, when simply."""
    size, wanted = int(np.prod(actual)), int(np.prod(expected))
    if size == 0:
        return "it is empty"
    if len(actual) == len(expected) > 1 and actual == expected[::-1]:
        return "the expected shape reversed: transposed?"
    if size == wanted:
        return f"the same {size} values in another shape: a missing reshape?"
    if len(actual) == len(expected) + 1 and (actual[1:] == expected or actual[:-1] == expected):
        extra = actual[0] if actual[1:] == expected else actual[-1]
        return f"one axis more than expected, of length {extra}: not summed over it?"
    if len(actual) == len(expected):
        off = [f"axis {axis} is {got} instead of {want}" for axis, (got, want) in enumerate(zip(actual, expected)) if got != want]
        return "; ".join(off)
    return ""


def wrong_shape(quantity: str, actual: tuple[int, ...], expected: tuple[int, ...], call: str, hint: str) -> NoReturn:
    __tracebackhide__ = True
    relation = shape_relation(tuple(actual), tuple(expected))
    fact = f"{quantity} has shape {tuple(actual)}, expected {tuple(expected)}" + (f" ({relation})" if relation else "")
    fail_with(Feedback(call, (fact,), hint=hint))


def not_finite(quantity: str, actual: np.ndarray, call: str) -> NoReturn:
    __tracebackhide__ = True
    bad = np.argwhere(~np.isfinite(actual))
    fail_with(Feedback(call, (f"{quantity} contains {len(bad)} NaN/inf values, the first at {index_text(tuple(bad[0]))}",)))


def scalar_mismatch(quantity: str, actual: float, expected: float, call: str, hint: str, ratio: Fraction | None = None) -> NoReturn:
    __tracebackhide__ = True
    pattern = (f"That is {ratio_text(ratio)} the expected value.",) if ratio is not None else ()
    fact = f"{quantity} is {actual:.6g}, expected {expected:.6g} (difference {actual - expected:+.3g})"
    fail_with(Feedback(call, (fact,), diagnosis=pattern, hint=hint))


def student_error(call: str, error: dict[str, Any], hint: str = "") -> NoReturn:
    """The student's code raised: 'not implemented yet' for stubs, else the exception, its lines and ``hint`` (the likely cause)."""
    __tracebackhide__ = True
    kind, message = error.get("type", "Error"), str(error.get("message", ""))
    if kind == "NotImplementedError":
        fail_with(Feedback(call, (f"not implemented yet{': ' + message if message else ''}",)))
    if kind == "NotCalledAgain":  # the grader's stand-in for a function that did not return earlier
        fail_with(Feedback(call, (message,)))
    where = tuple(str(frame) for frame in error.get("frames", []))
    if kind == "ContractError":  # the grader's words; the student's lines when student code raised under it
        fail_with(Feedback(call, (message,), where))
    hint = hint or (numpy_removals.hint_for_error(message) if kind == "AttributeError" else "")
    fail_with(Feedback(call, (f"raised {kind}: {message}",), where, hint=hint))


def worker_failure(call: str, failure: str) -> NoReturn:
    __tracebackhide__ = True
    fail_with(Feedback(call, (failure,)))
