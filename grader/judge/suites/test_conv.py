"""Conv2D: shapes, forward and backward against torch, gradients against finite differences."""
import pytest

from grader.judge import cases, layer_checks

pytestmark = pytest.mark.tags("conv")

CASES = [
    cases.conv("k3_s1_p0", (2, 3, 7, 9), out_channels=4, kernel_size=3),
    cases.conv("k1_s1_p0", (2, 2, 5, 6), out_channels=3, kernel_size=1),
    cases.conv("k3_s2_p1", (2, 3, 8, 7), out_channels=4, kernel_size=3, stride=2, padding=1),
    cases.conv("k5_s1_p2", (2, 2, 6, 7), out_channels=3, kernel_size=5, padding=2),
    cases.conv("k3_s2_p2_batch1", (1, 3, 9, 8), out_channels=2, kernel_size=3, stride=2, padding=2),
    cases.conv("k5_s2_p1", (2, 1, 9, 10), out_channels=2, kernel_size=5, stride=2, padding=1),
]
HINTS = {
    "shape": "H_out = (H + 2*padding - kernel_size) // stride + 1, and the same for W",
    "forward": "cross-correlation (no kernel flip), zero padding, one bias per output channel, every input channel summed",
    "dx": "add each window's share into a padded dx (+=: overlapping windows add up), then crop it with [p:p+H, p:p+W] (p:-p is empty when p = 0)",
    "dw": "dw[o, c, i, j] sums dout[n, o] times the (padded, strided) input window at offset (i, j) over batch and positions",
    "db": "db sums dout over the batch and all spatial positions (axes 0, 2, 3)",
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


@pytest.mark.parametrize("case", CASES[::2], ids=repr)
def test_gradients_match_finite_differences(student, case):
    layer_checks.gradients_match_finite_differences(student, case, HINTS)
