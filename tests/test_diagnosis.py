"""What a failure message says beyond "differs": simple patterns, known mistakes, shape relations."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from grader.judge import cases, compare, error_hints, feedback, model_checks, oracle

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
    cases.maxpool("tall_pool", (1, 2, 9, 5), kernel_size=2),
    cases.relu("relu", (2, 3, 4, 5)),
    cases.linear("linear", (3, 2, 4), out_features=5),
], ids=repr)
def test_layer_mistakes_have_the_quantity_shape_and_differ_from_the_truth(case):
    truth = oracle.layer_reference(case)
    for quantity in ("out", "dx", "dw"):
        for what, values in oracle.layer_mistakes(case, quantity):
            assert values.shape == truth[quantity].shape, what
            assert not compare.close(values, truth[quantity]), what


def test_a_loop_over_columns_bounded_by_h_out_is_named_with_w_out():
    case = cases.conv("wide", (2, 3, 7, 9), out_channels=4, kernel_size=3)
    out = oracle.layer_reference(case)["out"].copy()
    out[..., 5:] = 0  # H_out = 5, W_out = 7: the last two columns never written
    message = message_of(compare.check_array, "forward output", out, oracle.layer_reference(case)["out"], call=CALL,
                         mistakes=lambda: oracle.layer_mistakes(case, "out"))
    assert "columns 5 to 6 left at 0: the loop over columns must run to W_out = 7" in message


def test_an_update_with_the_learning_rate_twice_is_named():
    options = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}
    layers = [{"weight": np.ones((2, 2)), "bias": np.ones(2)}]
    grads = [[{"dw": np.full((2, 2), 0.5), "db": np.full(2, -0.5)}] for _ in range(2)]
    named = dict(oracle.sgd_mistakes(options, layers, grads))
    history = next(history for what, history in named.items() if "learning rate applied twice" in what)
    step = 0.05 * (grads[0][0]["dw"] + 0.05 * layers[0]["weight"])  # the step the student computes: lr * (grad + wd * p)
    second = 0.05 * (grads[1][0]["dw"] + 0.05 * (layers[0]["weight"] - 0.05 * step))
    assert np.allclose(history[0][0]["weight"], layers[0]["weight"] - 0.05 * step)
    assert np.allclose(history[1][0]["weight"], layers[0]["weight"] - 0.05 * step - 0.05 * (0.9 * step + second))


ARGMAX_ERROR = "The size of tensor a (3) must match the size of tensor b (8) at non-singleton dimension 0"


@pytest.mark.parametrize(("scenario", "args", "message", "says"), [
    ("loop.validate", {"shape": [6, 8, 3], "x": np.zeros((22, 6)), "batch_size": 8}, ARGMAX_ERROR, "outputs.argmax(dim=1)"),
    ("loop.validate", {"shape": [6, 8, 4], "x": np.zeros((22, 6)), "batch_size": 8}, ARGMAX_ERROR, ""),  # 3 is not the number of classes
    ("e2e.train", {"init": {"num_classes": 10}, "x": np.zeros((100, 1)), "training": {"batch_size": 32}},
     "The size of tensor a (10) must match the size of tensor b (4) at non-singleton dimension 0", "argmax(dim=1)"),  # the short last batch
    ("layer.forward", {"component": "maxpool", "init": {"kernel_size": 2}, "x": np.zeros((2, 3, 6, 8))},
     "index 3 is out of bounds for axis 3 with size 3", "rows run over H_out = 3, columns over W_out = 4"),
    ("layer.forward", {"component": "maxpool", "init": {"kernel_size": 2}, "x": np.zeros((2, 3, 6, 8))},
     "index 4 is out of bounds for axis 3 with size 4", ""),  # the output's own width: no swap
    ("layer.forward", {"component": "maxpool", "init": {"kernel_size": 2}, "x": np.zeros((2, 2, 7, 5))},
     "cannot reshape array of size 140 into shape (2,2,3,2,2,2)", "x[:, :, :H_out * kernel_size, :W_out * kernel_size]"),
    ("layer.forward", {"component": "maxpool", "init": {"kernel_size": 2}, "x": np.zeros((2, 2, 6, 4))},
     "cannot reshape array of size 96 into shape (2,2,3,2,2,2)", ""),  # windows cover the input: another cause
    ("layer.forward", {"component": "linear", "init": {"in_features": 24, "out_features": 5}, "x": np.zeros((3, 2, 3, 4))},
     "operand has more dimensions than subscripts given in einstein sum", "flatten each sample to in_features = 24"),
    ("layer.forward", {"component": "linear", "init": {"in_features": 7, "out_features": 5}, "x": np.zeros((3, 7))}, "anything", ""),
    ("model.train", {"component": "vanilla_cnn"},
     "Given groups=1, weight of size [32, 3, 7, 7], expected input[32, 1, 16, 16] to have 3 channels, but got 1 channels instead",
     "build it with in_channels"),
    ("layer.forward", {"component": "conv", "init": {"in_channels": 3, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 2},
                       "x": np.zeros((1, 3, 9, 8))}, "shape-mismatch for sum", "rows run over H_out = 6, columns over W_out = 5"),
    ("layer.forward", {"component": "conv", "init": {"in_channels": 3, "out_channels": 2, "kernel_size": 3, "stride": 1, "padding": 1},
                       "x": np.zeros((1, 3, 8, 8))}, "shape-mismatch for sum", ""),  # a square output: the sides cannot be mixed up
    ("layer.backward", {"component": "maxpool", "init": {"kernel_size": 3, "stride": 2}, "x": np.zeros((2, 2, 7, 9))},
     "index 10 is out of bounds for axis 3 with size 9", "window h starts at h * stride (stride = 2)"),
    ("layer.backward", {"component": "maxpool", "init": {"kernel_size": 3, "stride": 2}, "x": np.zeros((2, 2, 7, 9))},
     "index 12 is out of bounds for axis 3 with size 9", ""),  # beyond even kernel_size steps
    ("layer.forward", {"component": "linear", "init": {"in_features": 7, "out_features": 3}, "x": np.zeros((4, 7))},
     "matmul: Input operand 1 has a mismatch in its core dimension 0 (size 3 is different from 7)", "x @ weight.T"),
    ("layer.forward", {"component": "linear", "init": {"in_features": 7, "out_features": 3}, "x": np.zeros((4, 7))},
     "matmul: Input operand 1 has a mismatch in its core dimension 0 (size 4 is different from 7)", ""),
    ("sgd.steps", {"layers": [{"weight": np.zeros((3, 4)), "bias": np.zeros(3)}, None, {"weight": np.zeros((2, 3)), "bias": np.zeros(2)}]},
     "operands could not be broadcast together with shapes (3,4) (2,3) ", "one velocity per parameter"),
    ("sgd.steps", {"layers": [{"weight": np.zeros((3, 4)), "bias": np.zeros(3)}]},
     "operands could not be broadcast together with shapes (3,4) (5,) ", ""),
    ("loop.validate", {}, "element 0 of tensors does not require grad and does not have a grad_fn", "must not call loss.backward()"),
    ("loop.train_epoch", {}, "element 0 of tensors does not require grad and does not have a grad_fn", ""),  # a loss made under no_grad: another cause
    ("sgd.steps", {}, ARGMAX_ERROR, ""),
    ("loop.validate", {}, ARGMAX_ERROR, ""),  # arguments it cannot read: no hint, no error
])
def test_an_exception_gets_a_hint_only_when_its_numbers_match_the_inputs(scenario, args, message, says):
    hint = error_hints.hint_for(scenario, args, {"type": "RuntimeError", "message": message})
    assert (says in hint) if says else hint == ""


def test_a_student_error_shows_the_hint_after_the_lines():
    error = {"type": "RuntimeError", "message": ARGMAX_ERROR, "frames": ["train.py, line 46, in validate: ..."]}
    message = message_of(feedback.student_error, CALL, error, "take argmax over dim=1")
    assert message.splitlines()[-1] == "  Hint: take argmax over dim=1" and "raised RuntimeError" in message


@pytest.mark.parametrize(("got", "says"), [
    ([(5,), (5, 7), (7, 12)], "missing 1-D parameters [(7,)]: a layer built with bias=False?"),
    ([(5,), (5, 7), (7,), (7, 3)], "(7, 3) where (7, 12) is expected: its axis 1 must be input_dim = 12, not 3"),
    ([(5,), (5, 7), (7,), (7, 12), (2,)], ""),  # an extra parameter: nothing simple to say
])
def test_parameter_shapes_name_a_missing_bias_or_the_argument_an_axis_must_be(got, says):
    want = Counter([(5,), (5, 7), (7,), (7, 12)])
    lines = model_checks.shape_differences(Counter(got), want, {"input_dim": 12, "hidden_size": 7, "num_classes": 5})
    assert [line[: len(says)] for line in lines] == ([says] if says else [])
