"""A failed check is a Feedback: its text is the message students always read, its parts feed the console and report.html."""
from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from grader.judge import feedback
from grader.judge.feedback import Difference, Feedback
from grader.judge.outcome import TestMeta, TestOutcome
from grader.report import console, html

FOUND = Difference(worst=(0, 2), got=3.0, expected=1.5, error=1.5, largest=2.0, outside=4, size=12, ratio=Fraction(2),
                   spurious=1, confined=((0, (0,), 3),))
REMOVED = {"type": "AttributeError", "message": "module 'numpy' has no attribute 'float'",
           "frames": ["relu.py, line 7, in forward: return x.astype(np.float)"]}


def raised(helper: Callable[..., Any], *args: Any, **kwargs: Any) -> feedback.CheckFailed:
    with pytest.raises(feedback.CheckFailed) as caught:
        helper(*args, **kwargs)
    return caught.value


def failed_outcome(found: Feedback, visibility: str = "visible", output: str = "") -> TestOutcome:
    meta = TestMeta("test_relu.py::test_x", "relu: x", "1.1", 1.0, visibility, 30.0, ("relu",), 1)
    return TestOutcome(meta, passed=False, message=found.text(), output=output, ran=True, feedback=found)


# The messages below are what feedback.py wrote before it built Feedback objects.
@pytest.mark.parametrize(("helper", "args", "message"), [
    (feedback.mismatch, ("dx", FOUND, "Conv2D(...).backward(dout)", "dx sums over every window", "torch", ("sample", "row")),
     "Conv2D(...).backward(dout)\n  dx differs from torch: max abs error 1.5 at [0, 2] (got 3, expected 1.5; 75.0% of the largest expected value)\n"
     "  4 of 12 values are outside the tolerance\n  Every value is 2 times the expected one.\n"
     "  1 values are non-zero where the expected value is exactly 0.\n  All wrong values are in sample 0 (of 3).\n  Hint: dx sums over every window"),
    (feedback.wrong_shape, ("out", (3, 2), (2, 3), "Linear(...).forward(x)", "transpose the weight"),
     "Linear(...).forward(x)\n  out has shape (3, 2), expected (2, 3) (the expected shape reversed: transposed?)\n  Hint: transpose the weight"),
    (feedback.scalar_mismatch, ("accuracy", 75.0, 0.75, "validate(...)", "a fraction, not a percentage", Fraction(100)),
     "validate(...)\n  accuracy is 75, expected 0.75 (difference +74.2)\n  That is 100 times the expected value.\n  Hint: a fraction, not a percentage"),
    (feedback.student_error, ("ReLU().forward(x)", REMOVED),
     "ReLU().forward(x)\n  raised AttributeError: module 'numpy' has no attribute 'float'\n  in your code:\n"
     "    relu.py, line 7, in forward: return x.astype(np.float)\n"
     "  Hint: np.float was removed in NumPy 1.24 (Gradescope grades with NumPy 2): write float or np.float64"),
    (feedback.student_error, ("SGD(...).step()", {"type": "NotImplementedError", "message": "Task 3"}), "SGD(...).step()\n  not implemented yet: Task 3"),
], ids=["mismatch", "shape", "scalar", "student_error", "not_implemented"])
def test_feedback_text_is_the_message_as_written_before(helper: Callable[..., Any], args: tuple[Any, ...], message: str):
    failure = raised(helper, *args)
    assert failure.feedback.text() == str(failure.msg) == message and not failure.pytrace


def test_a_check_keeps_its_parts_apart():
    found = raised(feedback.student_error, "ReLU().forward(x)", REMOVED).feedback
    assert found.call == "ReLU().forward(x)" and found.facts == ("raised AttributeError: module 'numpy' has no attribute 'float'",)
    assert found.where == tuple(REMOVED["frames"]) and found.hint.startswith("np.float was removed")
    assert raised(feedback.mismatch, "dx", FOUND, "call", "", "torch").feedback.diagnosis[0] == "Every value is 2 times the expected one."


def test_a_suites_hint_is_the_hint_not_a_fact():
    found = raised(feedback.fail, "validate(model, ...)", "  forward saw model.training = [True]", hint="call model.eval() before the loop").feedback
    assert found.facts == ("forward saw model.training = [True]",) and found.hint == "call model.eval() before the loop"
    assert found.text() == "validate(model, ...)\n  forward saw model.training = [True]\n  Hint: call model.eval() before the loop"


def test_a_test_that_cannot_run_has_a_plain_message_and_no_feedback():
    with pytest.raises(pytest.fail.Exception) as caught:
        feedback.refuse("conv: conv.py is missing; this test cannot run.")
    assert not isinstance(caught.value, feedback.CheckFailed) and caught.value.msg == "conv: conv.py is missing; this test cannot run."


def test_console_summary_is_the_facts_not_the_header_of_the_students_lines():
    found = Feedback("Linear(...).forward(x)", ("raised ValueError: bad",), ("linear.py, line 3, in forward: x @ w",), hint="reshape x")
    assert console.why(failed_outcome(found)) == "raised ValueError: bad / Hint: reshape x"


def test_console_summary_of_a_hidden_test_is_the_generic_line():
    found = Feedback("ReLU().forward(x)", ("out differs from torch",))
    assert console.why(failed_outcome(found, visibility="after_published")) == feedback.GENERIC_HIDDEN


def test_report_lays_out_call_facts_diagnosis_hint_and_then_what_the_code_printed():
    found = Feedback("Conv2D(...).backward(dout)", ("dx differs <here>",), diagnosis=("Every value is 2 times the expected one.",), hint="sum")
    output = f"{found.text()}\n--- your code printed ---\nhello"
    shown = html.message(output, found)
    assert '<p class="call">Conv2D(...).backward(dout)</p><ul class="facts"><li>dx differs &lt;here&gt;</li></ul>' in shown
    assert '<ul class="diagnosis"><li>Every value is 2 times the expected one.</li></ul><p class="hint">Hint: sum</p>' in shown
    assert shown.endswith("<pre>--- your code printed ---\nhello</pre>")


def test_report_shows_a_message_shortened_into_its_feedback_as_written():
    found = Feedback("call", ("x differs",))
    assert html.message("call\n  x dif[...]", found) == "<pre>call\n  x dif[...]</pre>"


def test_report_never_renders_a_hidden_tests_feedback():
    state = type("State", (), {"outcomes": {"x": failed_outcome(Feedback("call", ("secret",)), visibility="hidden")}})()
    assert html.shown_feedback(state) == {}  # type: ignore[arg-type]
