"""What a failure message says beyond "differs": simple patterns, known mistakes, shape relations."""
from __future__ import annotations

import numpy as np
import pytest

from grader.judge import cases, compare, feedback, oracle

CALL = "Linear(in_features=7, out_features=3) with x of shape (4, 7): forward, then backward"


def message_of(function, *args, **kwargs) -> str:
    with pytest.raises(pytest.fail.Exception) as caught:
        function(*args, **kwargs)
    return str(caught.value.msg)


@pytest.fixture
def expected() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((2, 3, 4, 5))


def test_a_mean_instead_of_a_sum_is_named_as_a_fraction(expected):
    message = message_of(compare.check_array, "db", expected / 70, expected, call=CALL, hint="db sums dout")
    assert "Every value is 1/70 of the expected one." in message
    assert message.splitlines()[-1] == "  Hint: db sums dout"


def test_a_flipped_sign_and_a_plain_factor_are_named(expected):
    assert "the negative of the expected one" in message_of(compare.check_array, "dx", -expected, expected, call=CALL)
    assert "Every value is 2.5 times the expected one" not in message_of(compare.check_array, "dx", expected * 2.5, expected, call=CALL)
    assert "Every value is 5/2 of the expected one" in message_of(compare.check_array, "dx", expected * 2.5, expected, call=CALL)
    assert "Every value is 3 times the expected one" in message_of(compare.check_array, "dx", expected * 3, expected, call=CALL)


def test_no_pattern_is_claimed_for_unrelated_values(expected):
    other = np.random.default_rng(2).standard_normal(expected.shape)
    message = message_of(compare.check_array, "dx", other, expected, call=CALL)
    assert "Every value" not in message and "Your values equal" not in message and "All wrong values" not in message


def test_wrong_values_confined_to_one_sample_are_located(expected):
    actual = expected.copy()
    actual[1, :, :2] += 1.0
    message = message_of(compare.check_array, "dx", actual, expected, call=CALL, axes=("sample", "channel", "row", "column"))
    assert "All wrong values are in sample 1 (of 2) and rows 0, 1 (of 4)." in message


def test_values_where_zero_was_expected_and_zeros_where_it_was_not_are_counted():
    expected = np.array([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 4.0, 0.0]])
    actual = np.array([[5.0, 1.0, 0.0, 0.0], [3.0, 0.0, 4.0, 6.0]])
    message = message_of(compare.check_array, "dx", actual, expected, call=CALL)
    assert "2 values are non-zero where the expected value is exactly 0." in message
    assert "1 values are 0 where the expected value is not." in message


def test_a_known_mistake_is_named_and_replaces_the_weaker_patterns():
    expected = np.array([0.0, 1.0, 0.0, 2.0])
    actual = np.array([1.0, 1.0, 1.0, 2.0])
    mistakes = lambda: [("something else", np.zeros(4)), ("dout itself", actual.copy())]  # noqa: E731
    message = message_of(compare.check_array, "dx", actual, expected, call=CALL, mistakes=mistakes)
    assert "Your values equal dout itself." in message
    assert "non-zero where" not in message


def test_mistakes_are_computed_only_on_failure_and_their_errors_are_ignored(expected):
    def broken():
        raise ValueError("a bug in a diagnosis must not hide the failure")

    compare.check_array("dx", expected, expected, call=CALL, mistakes=broken)
    message = message_of(compare.check_array, "dx", expected + 1, expected, call=CALL, mistakes=broken)
    assert "dx differs from torch" in message


@pytest.mark.parametrize(("actual", "expected", "says"), [
    ((7, 3), (3, 7), "transposed"),
    ((3, 24), (3, 2, 3, 4), "the same 72 values in another shape"),
    ((2, 4), (4,), "one axis more than expected, of length 2"),
    ((2, 3, 0, 0), (2, 3, 7, 9), "it is empty"),
    ((2, 3, 10, 9), (2, 3, 8, 7), "axis 2 is 10 instead of 8; axis 3 is 9 instead of 7"),
])
def test_a_wrong_shape_is_related_to_the_expected_one(actual, expected, says):
    message = message_of(compare.check_array, "dx", np.zeros(actual), np.zeros(expected), call=CALL)
    assert says in message


def test_a_scalar_off_by_a_whole_factor_says_so():
    assert "That is 100 times the expected value." in message_of(compare.check_scalar, "accuracy", 50.0, 0.5, call=CALL)
    assert "That is 1/8 of the expected value." in message_of(compare.check_scalar, "mean_loss", 0.125, 1.0, call=CALL)
    assert "That is" not in message_of(compare.check_scalar, "mean_loss", 1.12294, 1.126, call=CALL)


def test_hidden_tests_have_one_generic_message():
    assert feedback.GENERIC_HIDDEN.count("\n") == 0 and "hidden" in feedback.GENERIC_HIDDEN


@pytest.mark.parametrize("case", [
    cases.conv("conv", (2, 3, 7, 9), out_channels=4, kernel_size=3, stride=2, padding=1),
    cases.maxpool("pool", (2, 2, 7, 9), kernel_size=3, stride=2),
    cases.relu("relu", (2, 3, 4, 5)),
], ids=repr)
def test_layer_mistakes_have_the_quantity_shape_and_differ_from_the_truth(case):
    truth = oracle.layer_reference(case)
    for quantity in ("out", "dx", "dw"):
        for what, values in oracle.layer_mistakes(case, quantity):
            assert values.shape == truth[quantity].shape, what
            assert not compare.close(values, truth[quantity]), what
