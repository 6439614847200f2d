"""Linear: flattening, x @ weight.T + bias, and gradients in the input's shape."""
import pytest

from grader.judge import cases, layer_checks

pytestmark = pytest.mark.tags("linear")

CASES = [
    cases.linear("2d_input", (4, 7), out_features=3),
    cases.linear("4d_input_flattened", (3, 2, 3, 4), out_features=5),
    cases.linear("batch1", (1, 6), out_features=9),
]
HINTS = {
    "shape": "flatten each sample to in_features, then (N, in) @ (in, out): the output is (N, out_features)",
    "forward": "out = x.reshape(N, -1) @ weight.T + bias (weight has shape (out_features, in_features))",
    "dx": "dx = dout @ weight, reshaped to the shape of the original x",
    "dw": "dw = dout.T @ x_flat, with shape (out_features, in_features)",
    "db": "db sums dout over the batch (axis 0), not a mean",
}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_forward_shape(student, case):
    layer_checks.forward_shape(student, case, HINTS["shape"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_forward_matches_torch(student, case):
    layer_checks.forward_matches_torch(student, case, HINTS["forward"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_backward_dx_matches_torch(student, case):
    layer_checks.backward_matches_torch(student, case, "dx", HINTS["dx"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_backward_dw_matches_torch(student, case):
    layer_checks.backward_matches_torch(student, case, "dw", HINTS["dw"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_backward_db_matches_torch(student, case):
    layer_checks.backward_matches_torch(student, case, "db", HINTS["db"])


def test_forward_backward_leave_parameters_unchanged(student):
    layer_checks.parameters_unchanged(student, CASES)


@pytest.mark.parametrize("case", CASES[:2], ids=repr)
def test_gradients_match_finite_differences(student, case):
    layer_checks.gradients_match_finite_differences(student, case, HINTS)
