"""Comparisons and the messages they produce."""
from __future__ import annotations

import numpy as np
import pytest

from grader.judge import compare

CALL = "Conv2D(in_channels=3, ...) with x of shape (2, 3, 7, 9): forward, then backward"


def failure_message(function, *args, **kwargs) -> str:
    with pytest.raises(pytest.fail.Exception) as caught:
        function(*args, **kwargs)
    return str(caught.value.msg)


def test_float32_rounding_passes():
    expected = np.random.default_rng(0).standard_normal((4, 5)) * 10
    compare.check_array("dw", expected.astype(np.float32), expected, call=CALL)


def test_a_wrong_element_is_located_and_sized():
    expected = np.zeros((2, 3)) + 1.0
    actual = expected.copy()
    actual[1, 2] = 1.5
    message = failure_message(compare.check_array, "dw", actual, expected, call=CALL, hint="stride ignored in dw?")
    assert CALL in message
    assert "dw differs from torch: max abs error 0.5 at [1, 2]" in message
    assert "1 of 6 values" in message
    assert "Hint: stride ignored in dw?" in message
    assert len(message.splitlines()) <= 10


def test_a_wrong_shape_is_named():
    message = failure_message(compare.check_array, "out", np.zeros((2, 4)), np.zeros((2, 3)), call=CALL)
    assert "out has shape (2, 4), expected (2, 3)" in message


def test_nan_is_reported_as_nan():
    actual = np.ones(3)
    actual[1] = np.nan
    assert "NaN/inf" in failure_message(compare.check_array, "dx", actual, np.ones(3), call=CALL)


def test_scalars_compare_with_a_relative_tolerance():
    compare.check_scalar("mean_loss", 1.0000001, 1.0, call=CALL)
    assert "mean_loss is 1.1, expected 1" in failure_message(compare.check_scalar, "mean_loss", 1.1, 1.0, call=CALL)


def test_central_differences_of_a_linear_map_are_exact():
    weights = np.array([2.0, -3.0])
    outputs = np.array([[weights @ (np.zeros(2) + sign * 0.1 * np.eye(2)[i])] for i in range(2) for sign in (1, -1)])
    np.testing.assert_allclose(compare.central_differences(outputs, np.ones(1), 0.1), weights)
